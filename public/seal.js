// Sealing an export file with a passphrase (issue 12): AES-GCM with a key derived from the
// passphrase by PBKDF2-SHA-256, all in WebCrypto. Loaded only when a file is sealed or opened, so it
// is not part of the phone's first load; the service worker precaches it for offline use.
//
// A sealed file is JSON: {"format":"danvan-sealed-1","kdf":"PBKDF2-SHA-256","iterations":N,
// "salt":b64,"iv":b64,"data":b64}; `data` is the export file's text, encrypted and authenticated.

const FORMAT = 'danvan-sealed-1';
// Slow enough to make guessing costly, quick enough for a cheap phone (~1 s).
const ITERATIONS = 200000;

const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)));
const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

async function key(passphrase, salt, iterations) {
  const base = await crypto.subtle.importKey('raw', new TextEncoder().encode(passphrase), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** Whether `text` is a sealed file. */
export function isSealed(text) {
  try {
    return JSON.parse(text)?.format === FORMAT;
  } catch {
    return false;
  }
}

/** Seal `text` with `passphrase`. */
export async function seal(text, passphrase) {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const k = await key(passphrase, salt, ITERATIONS);
  const data = await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, k, new TextEncoder().encode(text));
  // Chunked: String.fromCharCode(...bytes) overflows the stack on a large file.
  let bin = '';
  const bytes = new Uint8Array(data);
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return JSON.stringify({ format: FORMAT, kdf: 'PBKDF2-SHA-256', iterations: ITERATIONS, salt: b64(salt), iv: b64(iv), data: btoa(bin) });
}

/** Open a sealed file; rejects with "wrong passphrase" when it does not authenticate. */
export async function unseal(text, passphrase) {
  const f = JSON.parse(text);
  if (f.format !== FORMAT) throw new Error('not a sealed file');
  const k = await key(passphrase, unb64(f.salt), f.iterations);
  try {
    const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: unb64(f.iv) }, k, unb64(f.data));
    return new TextDecoder().decode(plain);
  } catch {
    throw new Error('Sai mật khẩu của tệp / wrong passphrase for this file');
  }
}
