//! The photo blob store's SQL: complete blobs (their bytes are in [`crate::blob_store`], or inline
//! for photos from before it), each user's partial uploads, who uploaded a blob and which
//! documents reference it (the two ways to be allowed to read it).

use super::sql::{OptionalExtension, Sql, params};
use super::{Db, Result};

/// Partial-upload bytes one user may hold at once: a phone uploads photos one at a time, so this is
/// many photos' worth, and it keeps one account from filling the disk with uploads never finished.
pub const PARTIAL_QUOTA: u64 = 64 * 1024 * 1024;

/// One piece of a blob upload, already checked for shape by the caller: `start + bytes.len() <=
/// total`, `bytes` not empty.
#[derive(Debug, Clone, Copy)]
pub struct BlobChunk<'a> {
    pub start: u64,
    pub total: u64,
    pub bytes: &'a [u8],
}

/// What became of a [`BlobChunk`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobPut {
    /// The blob was already stored complete and the uploader may read it; nothing was written.
    AlreadyComplete { size: u64 },
    /// The upload is whole and its content matched the hash (this chunk completed it, or it had
    /// been completed before and not yet stored): the caller writes it to the blob store, then
    /// calls [`Db::blob_stored`]. Until then the user's partial upload stays, complete.
    Verified(Vec<u8>),
    /// Stored (committed) and still incomplete; `offset` bytes are held. Also the answer to a
    /// chunk that lies wholly inside what is already held (a retry whose answer was lost).
    Partial { offset: u64, total: u64 },
    /// The chunk starts past the bytes held: the client must resume at `offset`.
    WrongOffset { offset: u64 },
    /// The chunk declares a different total than the upload in progress.
    TotalMismatch { total: u64 },
    /// The content did not hash to the name: the partial upload was discarded (committed).
    HashMismatch,
    /// The uploader's partial uploads would exceed [`PARTIAL_QUOTA`]; nothing was written.
    OverQuota,
}

/// Where a blob stands for one user, for a client resuming an upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobStatus {
    pub complete: bool,
    /// Bytes held: the size when complete, the received length of the user's partial upload, else 0.
    pub offset: u64,
    /// `None` when the server knows nothing of this blob (for this user).
    pub total: Option<u64>,
}

impl BlobStatus {
    /// The answer for a blob the server does not have (or will not admit to having).
    pub const MISSING: BlobStatus = BlobStatus {
        complete: false,
        offset: 0,
        total: None,
    };
}

/// Row counts and bytes of the blob store (tests, operations).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlobStats {
    pub blobs: i64,
    pub blob_bytes: i64,
    /// Bytes of complete blobs still inside the database (from before the object store).
    pub inline_bytes: i64,
    pub uploads: i64,
    pub upload_parts: i64,
    pub upload_bytes: i64,
}

/// Where a complete blob's bytes are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredBlob {
    /// In the blob store, under its hash.
    InStore { size: u64 },
    /// In the database itself, as servers before the blob store kept them (until
    /// `danvan-server blobs migrate`).
    Inline(Vec<u8>),
}

/// A complete blob still kept inside the database ([`Db::inline_blobs`]).
#[derive(Debug, Clone)]
pub struct InlineBlob {
    pub sha256: String,
    pub data: Vec<u8>,
}

/// An upload that holds all its bytes: the whole content if it hashes to the name; otherwise the
/// upload is dropped (in `tx`, committed by the caller).
fn finish_partial(
    tx: &Sql,
    sha256: &str,
    owner: i64,
    total: u64,
    verify: impl Fn(&[u8]) -> bool,
) -> Result<BlobPut> {
    let mut whole = Vec::with_capacity(total as usize);
    for part in tx.query_map(
        "SELECT data FROM blob_partial_parts WHERE sha256 = ?1 AND owner = ?2 ORDER BY start",
        params![sha256, owner],
        |r| r.get::<_, Vec<u8>>(0),
    )? {
        whole.extend_from_slice(&part?);
    }
    if whole.len() as u64 == total && verify(&whole) {
        return Ok(BlobPut::Verified(whole));
    }
    // The parts go with their upload (ON DELETE CASCADE).
    tx.execute(
        "DELETE FROM blob_partials WHERE sha256 = ?1 AND owner = ?2",
        params![sha256, owner],
    )?;
    Ok(BlobPut::HashMismatch)
}

impl Db {
    fn with_blobs<T: Send>(&self, f: impl FnOnce(&Sql) -> Result<T> + Send) -> Result<T> {
        let mut conn = self.blob_conn.lock().unwrap_or_else(|p| p.into_inner());
        super::sql::run(&mut conn, f)
    }

    /// Add one chunk of `owner`'s upload of the blob `sha256` (lowercase hex). `known`: whether
    /// the owner may already read the blob if it is stored (otherwise a stored blob is treated as
    /// absent, so an upload cannot be used to learn that a photo exists). `verify` tells whether
    /// complete content hashes to `sha256`. Every outcome that changes anything is committed before
    /// this returns (WAL, `synchronous=FULL`), so an HTTP 2xx built on it survives a power cut.
    ///
    /// Rules: a stored blob is never written again. A chunk covering the whole blob is checked and
    /// stored on its own (the owner's partial upload is then dropped). Otherwise a chunk must start
    /// at or before the bytes the owner holds; the part already held is skipped (not compared: the
    /// final hash check catches any difference), the rest appended. When the held bytes reach the
    /// total, the whole is verified and returned ([`BlobPut::Verified`]) — or discarded.
    ///
    /// Why partial uploads stay in the database while complete blobs go to the blob store: a chunk
    /// must be appended under the same lock that reads the offset, and the database is the state
    /// every server node shares; the parts are bounded by [`PARTIAL_QUOTA`] and expire.
    pub fn put_blob_chunk(
        &self,
        sha256: &str,
        chunk: BlobChunk<'_>,
        owner: i64,
        known: bool,
        now_ms: i64,
        verify: impl Fn(&[u8]) -> bool + Sync,
    ) -> Result<BlobPut> {
        self.with_blobs(|conn| {
            // The write lock before reading the offset, so two requests of the same upload cannot
            // both append at it (on every node: the owner's uploads take turns).
            let tx = conn.transaction()?;
            tx.lock(&format!("blob-upload/{owner}"))?;
            let size: Option<i64> = tx
                .query_row("SELECT size FROM blobs WHERE sha256 = ?1", [sha256], |r| {
                    r.get(0)
                })
                .optional()?;
            if let (Some(size), true) = (size, known) {
                return Ok(BlobPut::AlreadyComplete { size: size as u64 });
            }
            let len = chunk.bytes.len() as u64;
            if chunk.start == 0 && len == chunk.total {
                return Ok(if verify(chunk.bytes) {
                    BlobPut::Verified(chunk.bytes.to_vec())
                } else {
                    BlobPut::HashMismatch
                });
            }
            let held: Option<(i64, i64)> = tx
                .query_row(
                    "SELECT total, received FROM blob_partials WHERE sha256 = ?1 AND owner = ?2",
                    params![sha256, owner],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let received = match held {
                Some((total, _)) if total as u64 != chunk.total => {
                    return Ok(BlobPut::TotalMismatch {
                        total: total as u64,
                    });
                }
                Some((_, received)) => received as u64,
                None => 0,
            };
            if chunk.start > received {
                return Ok(BlobPut::WrongOffset { offset: received });
            }
            let skip = received - chunk.start;
            if skip >= len {
                // A retry of a chunk already held; if it was the last one, the upload may be whole
                // but not stored yet (the blob store failed, or the server stopped in between).
                return if received == chunk.total {
                    let out = finish_partial(&tx, sha256, owner, chunk.total, &verify)?;
                    tx.commit()?;
                    Ok(out)
                } else {
                    Ok(BlobPut::Partial {
                        offset: received,
                        total: chunk.total,
                    })
                };
            }
            let fresh = &chunk.bytes[skip as usize..];
            let holding: i64 = tx.query_row(
                "SELECT COALESCE(SUM(received), 0) FROM blob_partials WHERE owner = ?1",
                [owner],
                |r| r.get(0),
            )?;
            if holding as u64 + fresh.len() as u64 > PARTIAL_QUOTA {
                return Ok(BlobPut::OverQuota);
            }
            let received = received + fresh.len() as u64;
            if held.is_none() {
                tx.execute(
                    "INSERT INTO blob_partials(sha256, owner, total, received, started_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                    params![sha256, owner, chunk.total as i64, received as i64, now_ms],
                )?;
            } else {
                tx.execute(
                    "UPDATE blob_partials SET received = ?3, updated_at = ?4 WHERE sha256 = ?1 AND owner = ?2",
                    params![sha256, owner, received as i64, now_ms],
                )?;
            }
            tx.execute(
                "INSERT INTO blob_partial_parts(sha256, owner, start, data) VALUES (?1, ?2, ?3, ?4)",
                params![sha256, owner, (received - fresh.len() as u64) as i64, fresh],
            )?;
            if received < chunk.total {
                tx.commit()?;
                return Ok(BlobPut::Partial {
                    offset: received,
                    total: chunk.total,
                });
            }
            let out = finish_partial(&tx, sha256, owner, chunk.total, &verify)?;
            tx.commit()?;
            Ok(out)
        })
    }

    /// Record that the complete blob `sha256`, of `size` bytes, is in the blob store, and that
    /// `owner` uploaded it; `owner`'s partial upload of it goes. Committed before this returns.
    pub fn blob_stored(&self, sha256: &str, size: u64, owner: i64, now_ms: i64) -> Result<()> {
        self.with_blobs(|conn| {
            let tx = conn.transaction()?;
            // Another user may have completed the same content meanwhile: the bytes are the same.
            tx.execute(
                "INSERT INTO blobs(sha256, size, data, created_at, in_store) VALUES (?1, ?2, ?4, ?3, 1)
                 ON CONFLICT(sha256) DO NOTHING",
                params![sha256, size as i64, now_ms, b"".as_slice()],
            )?;
            tx.execute(
                "INSERT INTO blob_owners(sha256, user_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                params![sha256, owner],
            )?;
            // The parts go with their upload (ON DELETE CASCADE).
            tx.execute(
                "DELETE FROM blob_partials WHERE sha256 = ?1 AND owner = ?2",
                params![sha256, owner],
            )?;
            tx.commit()?;
            Ok(())
        })
    }

    /// Where the blob stands for `owner`: complete (if `known`), or the owner's own partial upload.
    pub fn blob_status(&self, sha256: &str, owner: i64, known: bool) -> Result<BlobStatus> {
        self.with_blobs(|c| {
            let size: Option<i64> = c
                .query_row("SELECT size FROM blobs WHERE sha256 = ?1", [sha256], |r| {
                    r.get(0)
                })
                .optional()?;
            if let (Some(size), true) = (size, known) {
                return Ok(BlobStatus {
                    complete: true,
                    offset: size as u64,
                    total: Some(size as u64),
                });
            }
            let held: Option<(i64, i64)> = c
                .query_row(
                    "SELECT total, received FROM blob_partials WHERE sha256 = ?1 AND owner = ?2",
                    params![sha256, owner],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            Ok(match held {
                Some((total, received)) => BlobStatus {
                    complete: false,
                    offset: received as u64,
                    total: Some(total as u64),
                },
                None => BlobStatus::MISSING,
            })
        })
    }

    /// Whether `user_id` uploaded the complete blob.
    pub fn blob_owned_by(&self, sha256: &str, user_id: i64) -> Result<bool> {
        self.with_blobs(|c| {
            c.query_row(
                "SELECT EXISTS(SELECT 1 FROM blob_owners WHERE sha256 = ?1 AND user_id = ?2)",
                params![sha256, user_id],
                |r| r.get(0),
            )
        })
    }

    /// The documents that reference a blob.
    pub fn blob_ref_docs(&self, sha256: &str) -> Result<Vec<String>> {
        self.with_blobs(|c| {
            c.prepare("SELECT doc_id FROM blob_refs WHERE sha256 = ?1")?
                .query_map([sha256], |r| r.get(0))?
                .collect::<Result<_>>()
        })
    }

    /// Replace the blobs a document references.
    pub fn set_blob_refs(&self, doc_id: &str, hashes: &[String]) -> Result<()> {
        self.with_blobs(|conn| {
            let tx = conn.transaction()?;
            tx.execute("DELETE FROM blob_refs WHERE doc_id = ?1", [doc_id])?;
            for h in hashes {
                tx.execute(
                    "INSERT INTO blob_refs(sha256, doc_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                    params![h, doc_id],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
    }

    /// Remove partial uploads not added to since `before_ms`. Returns how many.
    pub fn expire_partial_uploads(&self, before_ms: i64) -> Result<usize> {
        self.with_blobs(|c| {
            c.execute(
                "DELETE FROM blob_partials WHERE updated_at < ?1",
                [before_ms],
            )
        })
    }

    /// Where a complete blob's bytes are; `None` if there is no such blob.
    pub fn blob(&self, sha256: &str) -> Result<Option<StoredBlob>> {
        self.with_blobs(|c| {
            c.query_row(
                "SELECT size, in_store, CASE in_store WHEN 0 THEN data END FROM blobs WHERE sha256 = ?1",
                [sha256],
                |r| {
                    Ok(if r.get::<_, bool>(1)? {
                        StoredBlob::InStore {
                            size: r.get::<_, i64>(0)? as u64,
                        }
                    } else {
                        StoredBlob::Inline(r.get(2)?)
                    })
                },
            )
            .optional()
        })
    }

    /// Up to `limit` complete blobs still inside the database, but none of `skip`.
    pub fn inline_blobs(&self, skip: &[String], limit: usize) -> Result<Vec<InlineBlob>> {
        self.with_blobs(|c| {
            let mut st = c.prepare(
                "SELECT sha256, data FROM blobs WHERE in_store = 0 ORDER BY sha256 LIMIT ?1",
            )?;
            let rows = st.query_map([(limit + skip.len()) as i64], |r| {
                Ok(InlineBlob {
                    sha256: r.get(0)?,
                    data: r.get(1)?,
                })
            })?;
            let mut out = Vec::new();
            for b in rows {
                let b = b?;
                if !skip.contains(&b.sha256) && out.len() < limit {
                    out.push(b);
                }
            }
            Ok(out)
        })
    }

    /// A blob kept inside the database is now in the blob store: its bytes leave the database.
    pub fn blob_moved_to_store(&self, sha256: &str) -> Result<()> {
        self.with_blobs(|c| {
            c.execute(
                "UPDATE blobs SET in_store = 1, data = ?2 WHERE sha256 = ?1",
                params![sha256, b"".as_slice()],
            )?;
            Ok(())
        })
    }

    pub fn blob_stats(&self) -> Result<BlobStats> {
        self.with_blobs(|c| {
            c.query_row(
                "SELECT (SELECT COUNT(*) FROM blobs), (SELECT COALESCE(SUM(size), 0) FROM blobs),
                        (SELECT COALESCE(SUM(length(data)), 0) FROM blobs),
                        (SELECT COUNT(*) FROM blob_partials), (SELECT COUNT(*) FROM blob_partial_parts),
                        (SELECT COALESCE(SUM(length(data)), 0) FROM blob_partial_parts)",
                (),
                |r| {
                    Ok(BlobStats {
                        blobs: r.get(0)?,
                        blob_bytes: r.get(1)?,
                        inline_bytes: r.get(2)?,
                        uploads: r.get(3)?,
                        upload_parts: r.get(4)?,
                        upload_bytes: r.get(5)?,
                    })
                },
            )
        })
    }
}
