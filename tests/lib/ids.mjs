// Document identities as in docs/contract.md ("Document IDs"), computed independently of the Rust
// code so the tests check the rule rather than echo the implementation.

import { createHash, randomBytes } from 'node:crypto';
import { stringifyAutomergeUrl } from '@automerge/automerge-repo';

/**
 * bs58check of SHA-256("danvan/doc/v1/{kind}/{scope}/{period}")[..16] with the UUID v4 version and
 * variant bits set. Returns {documentId, url, bytes}.
 */
export function docId(kind, scope, period = '') {
  const digest = createHash('sha256').update(`danvan/doc/v1/${kind}/${scope}/${period}`, 'utf8').digest();
  const bytes = new Uint8Array(digest.subarray(0, 16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
  // automerge-repo's own encoder: `automerge:` + bs58check(bytes).
  const url = stringifyAutomergeUrl({ documentId: bytes });
  return { documentId: url.slice('automerge:'.length), url, bytes };
}

/** `automerge:ID` for a bare document ID (or an URL, returned unchanged). */
export function toUrl(id) {
  return id.startsWith('automerge:') ? id : `automerge:${id}`;
}

export function bareId(id) {
  return id.startsWith('automerge:') ? id.slice('automerge:'.length) : id;
}

const VN_OFFSET_MS = 7 * 3_600_000; // Asia/Ho_Chi_Minh, UTC+7, no daylight saving

/** Today's civil date in Asia/Ho_Chi_Minh as `YYYY-MM-DD` (the value of an `<input type=date>`). */
export function vnToday(nowMs = Date.now()) {
  return new Date(nowMs + VN_OFFSET_MS).toISOString().slice(0, 10);
}

/** The quarter (`YYYY-Qn`) of an ISO date, or of today in Asia/Ho_Chi_Minh. */
export function quarterOf(isoDate = vnToday()) {
  const [y, m] = isoDate.split('-').map(Number);
  return `${String(y).padStart(4, '0')}-Q${Math.floor((m - 1) / 3) + 1}`;
}

/** A ULID (48-bit ms time + 80 random bits, Crockford base32), as the app uses for note IDs. */
export function ulid(nowMs = Date.now()) {
  const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  let v = BigInt(nowMs) & 0xffff_ffff_ffffn;
  for (const b of randomBytes(10)) v = (v << 8n) | BigInt(b);
  let out = '';
  for (let i = 25; i >= 0; i--) out += ALPHABET[Number((v >> BigInt(5 * i)) & 31n)];
  return out;
}
