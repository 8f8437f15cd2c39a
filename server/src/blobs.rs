//! The photo blob store: content-addressed (SHA-256) blobs uploaded whole or in resumable chunks,
//! apart from document sync, so that a failed photo never blocks text sync.
//!
//! `PUT /api/blobs/{sha256}` (optionally with `Content-Range: bytes START-END/TOTAL`),
//! `GET /api/blobs/{sha256}/status` to resume, `GET`/`HEAD /api/blobs/{sha256}` to read. The
//! storage rules (offsets, overlap, verification, quota) are in [`crate::db::Db::put_blob_chunk`].
//!
//! Who may read a blob: its uploader, and whoever may read a document that references it (the
//! read model records the references). Anyone else gets exactly the answer of a missing blob, from
//! every route, status included: a hash must not tell whether another commune has that photo.

use crate::AppState;
use crate::access::{Access, Principal, access};
use crate::db::{BlobChunk, BlobPut, BlobStatus, StoredBlob};
use crate::error::ApiError;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use shared::api::BlobState;

/// Largest blob accepted. Phones resize photos to ~300 KB; this leaves room for an unresized one
/// without letting one upload fill the disk.
pub const MAX_BLOB_BYTES: usize = 5 * 1024 * 1024;

/// A blob's name is its content, so its bytes never change: the browser may keep it for good.
/// `private`: only the logged-in user's browser, never a shared cache.
pub const IMMUTABLE: &str = "private, max-age=31536000, immutable";

/// The path's hash if it is 64 lowercase hex characters (the only spelling, so one blob has one name).
fn parse_sha(s: &str) -> Result<&str, ApiError> {
    if s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(s)
    } else {
        Err(ApiError::BadRequest(
            "a blob is named by its SHA-256: 64 lowercase hex characters".into(),
        ))
    }
}

fn too_large() -> ApiError {
    ApiError::PayloadTooLarge(format!("a blob is at most {MAX_BLOB_BYTES} bytes"))
}

/// `Content-Range: bytes START-END/TOTAL` (END inclusive) → (START, TOTAL), checked against the body
/// length. Without the header the body is the whole blob.
pub fn chunk_range(headers: &HeaderMap, body_len: usize) -> Result<(u64, u64), ApiError> {
    let Some(v) = headers.get(header::CONTENT_RANGE) else {
        if body_len == 0 {
            return Err(ApiError::BadRequest("empty blob".into()));
        }
        return Ok((0, body_len as u64));
    };
    let bad = || ApiError::BadRequest("Content-Range must be 'bytes START-END/TOTAL'".into());
    let (range, total) = v
        .to_str()
        .ok()
        .and_then(|v| v.trim().strip_prefix("bytes "))
        .and_then(|v| v.split_once('/'))
        .ok_or_else(bad)?;
    let (start, end) = range.split_once('-').ok_or_else(bad)?;
    let num = |s: &str| s.trim().parse::<u64>().map_err(|_| bad());
    let (start, end, total) = (num(start)?, num(end)?, num(total)?);
    if total > MAX_BLOB_BYTES as u64 {
        return Err(too_large());
    }
    if start > end || end >= total {
        return Err(ApiError::BadRequest(format!(
            "Content-Range {start}-{end}/{total} is not inside the blob"
        )));
    }
    if end - start + 1 != body_len as u64 {
        return Err(ApiError::BadRequest(format!(
            "Content-Range {start}-{end} is {} bytes, the body {body_len}",
            end - start + 1
        )));
    }
    Ok((start, total))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> crate::db::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    // SQLite with synchronous=FULL waits for fsync: never on an async worker.
    Ok(tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.into()))??)
}

/// Whether `p` may read the blob `sha` (see the module doc).
async fn may_read(st: &AppState, p: &Principal, sha: &str) -> Result<bool, ApiError> {
    let (db_st, key, user) = (st.clone(), sha.to_string(), p.user_id);
    let (owned, docs) = blocking(move || {
        Ok((
            db_st.db.blob_owned_by(&key, user)?,
            db_st.db.blob_ref_docs(&key)?,
        ))
    })
    .await?;
    Ok(owned
        || docs.iter().any(|d| {
            d.parse()
                .ok()
                .and_then(|id| st.registry.get(&id))
                .is_some_and(|key| access(p, &key) != Access::None)
        }))
}

/// Partial uploads untouched this long are removed: the phone that started one has either
/// finished it since, or will start again from the status.
pub const PARTIAL_UPLOAD_TTL_MS: i64 = 48 * 3600 * 1000;

/// Remove abandoned partial uploads now and every hour.
pub async fn expire_partial_uploads(st: AppState) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
    loop {
        every.tick().await;
        let db_st = st.clone();
        let before = crate::clock::now_ms() - PARTIAL_UPLOAD_TTL_MS;
        match blocking(move || db_st.db.expire_partial_uploads(before)).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(uploads = n, "abandoned partial uploads removed"),
            Err(e) => tracing::error!(error = %e, "removing abandoned partial uploads failed"),
        }
    }
}

fn done(status: StatusCode, sha: &str, size: u64) -> Response {
    let body = BlobState {
        sha256: sha.to_string(),
        complete: true,
        size: Some(size),
        offset: None,
        total: None,
    };
    (status, Json(body)).into_response()
}

/// `PUT /api/blobs/{sha256}`: a whole blob, or one chunk of it. 2xx only once the bytes are
/// durable — a chunk committed to the database (WAL, `synchronous=FULL`), a whole photo written to
/// the blob store and then its row committed: a phone may then forget what it sent.
pub async fn put_blob(
    State(st): State<AppState>,
    p: Principal,
    Path(sha): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let sha = parse_sha(&sha)?.to_string();
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => too_large(),
        s => ApiError::Rejected(s, e.body_text()),
    })?;
    if body.len() > MAX_BLOB_BYTES {
        return Err(too_large());
    }
    let (start, total) = chunk_range(&headers, body.len())?;
    let known = may_read(&st, &p, &sha).await?;
    let (db_sha, owner, db_st) = (sha.clone(), p.user_id, st.clone());
    let outcome = blocking(move || {
        let chunk = BlobChunk {
            start,
            total,
            bytes: &body,
        };
        let verify = |content: &[u8]| hex::encode(Sha256::digest(content)) == db_sha;
        db_st
            .db
            .put_blob_chunk(&db_sha, chunk, owner, known, crate::clock::now_ms(), verify)
    })
    .await?;
    match outcome {
        BlobPut::AlreadyComplete { size } => Ok(done(StatusCode::OK, &sha, size)),
        BlobPut::Verified(whole) => {
            let size = whole.len() as u64;
            // If this fails the upload stays whole in the database, and the phone's retry of its
            // last chunk stores it.
            st.blobs.put(&sha, whole.into()).await?;
            let key = sha.clone();
            let db_st = st.clone();
            blocking(move || {
                db_st
                    .db
                    .blob_stored(&key, size, owner, crate::clock::now_ms())
            })
            .await?;
            tracing::info!(sha256 = %sha, size, user = %p.username, "blob stored");
            Ok(done(StatusCode::CREATED, &sha, size))
        }
        BlobPut::Partial { offset, total } => Ok((
            StatusCode::ACCEPTED,
            Json(BlobState {
                sha256: sha,
                complete: false,
                size: None,
                offset: Some(offset),
                total: Some(total),
            }),
        )
            .into_response()),
        BlobPut::WrongOffset { offset } => Err(ApiError::Conflict {
            message: format!("chunk starts at {start}; resume at {offset}"),
            offset,
        }),
        BlobPut::TotalMismatch { total: held } => Err(ApiError::BadRequest(format!(
            "this upload was started with total {held}, not {total}"
        ))),
        BlobPut::OverQuota => Err(ApiError::PayloadTooLarge(format!(
            "unfinished uploads of this account would exceed {} MiB; finish or wait for them to expire",
            crate::db::PARTIAL_QUOTA / (1024 * 1024)
        ))),
        BlobPut::HashMismatch => {
            tracing::warn!(sha256 = %sha, total, user = %p.username, "blob hash mismatch; upload discarded");
            Err(ApiError::Unprocessable(
                "hash mismatch: the content's SHA-256 is not the name; upload discarded".into(),
            ))
        }
    }
}

/// `GET /api/blobs/{sha256}/status`: how much of a blob the server holds, to resume an upload.
pub async fn blob_status(
    State(st): State<AppState>,
    p: Principal,
    Path(sha): Path<String>,
) -> Result<Json<BlobState>, ApiError> {
    let sha = parse_sha(&sha)?.to_string();
    let known = may_read(&st, &p, &sha).await?;
    let (key, owner) = (sha.clone(), p.user_id);
    let BlobStatus {
        complete,
        offset,
        total,
    } = blocking(move || st.db.blob_status(&key, owner, known)).await?;
    Ok(Json(BlobState {
        sha256: sha,
        complete,
        size: None,
        offset: Some(offset),
        total,
    }))
}

/// Photos are JPEG; anything else is served as opaque bytes (and `nosniff` keeps a browser from
/// rendering an uploaded page as HTML).
fn content_type(head: &[u8]) -> &'static str {
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        "image/jpeg"
    } else {
        "application/octet-stream"
    }
}

/// `GET` (and `HEAD`, which reads only the size and first bytes) `/api/blobs/{sha256}`.
pub async fn get_blob(
    State(st): State<AppState>,
    p: Principal,
    method: Method,
    Path(sha): Path<String>,
) -> Result<Response, ApiError> {
    let sha = parse_sha(&sha)?.to_string();
    let missing = || ApiError::NotFound("no such blob".into());
    if !may_read(&st, &p, &sha).await? {
        return Err(missing());
    }
    let key = sha.clone();
    let db_st = st.clone();
    let stored = blocking(move || db_st.db.blob(&key))
        .await?
        .ok_or_else(missing)?;
    let (len, ctype, body) = match stored {
        StoredBlob::Inline(data) if method == Method::HEAD => {
            (data.len() as u64, content_type(&data), Body::empty())
        }
        StoredBlob::Inline(data) => (data.len() as u64, content_type(&data), Body::from(data)),
        StoredBlob::InStore { size } => {
            // A row is written only after its bytes are stored: bytes missing now were lost from
            // the store itself (deleted, or a restore without its photos). Said loudly, not
            // passed off as a photo never uploaded.
            let lost = || {
                ApiError::Internal(anyhow::anyhow!(
                    "photo {sha} has a row but no bytes in the blob store"
                ))
            };
            if method == Method::HEAD {
                let head = st
                    .blobs
                    .head_bytes(&sha, size.min(4))
                    .await?
                    .ok_or_else(lost)?;
                (size, content_type(&head), Body::empty())
            } else {
                let data = st.blobs.get(&sha).await?.ok_or_else(lost)?;
                // Checked on the way out: the answer is cached as immutable for a year, so bytes
                // damaged in the store (a bad disk, a broken copy) must never be sent under the name.
                if hex::encode(Sha256::digest(&data)) != sha {
                    return Err(ApiError::Internal(anyhow::anyhow!(
                        "photo {sha} is damaged in the blob store (its bytes do not match its name)"
                    )));
                }
                (data.len() as u64, content_type(&data), Body::from(data))
            }
        }
    };
    let mut res = Response::new(body);
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    // Kept by `web::cache_headers`, which makes every other /api answer `no-store`.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    // Stricter than the pages' policy, and kept by `web::security_headers` (which adds nosniff):
    // an uploaded file is never run as a page.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(v: Option<&str>, len: usize) -> Result<(u64, u64), u16> {
        let mut h = HeaderMap::new();
        if let Some(v) = v {
            h.insert(header::CONTENT_RANGE, v.parse().unwrap());
        }
        chunk_range(&h, len).map_err(|e| e.into_response().status().as_u16())
    }

    #[test]
    fn content_range() {
        assert_eq!(range(None, 10), Ok((0, 10)));
        assert_eq!(range(None, 0), Err(400));
        assert_eq!(range(Some("bytes 0-9/30"), 10), Ok((0, 30)));
        assert_eq!(range(Some("bytes 20-29/30"), 10), Ok((20, 30)));
        assert_eq!(range(Some("bytes 20-29/30"), 9), Err(400));
        assert_eq!(range(Some("bytes 20-30/30"), 11), Err(400));
        assert_eq!(range(Some("bytes 9-0/30"), 10), Err(400));
        assert_eq!(range(Some("bytes */30"), 10), Err(400));
        assert_eq!(range(Some("items 0-9/30"), 10), Err(400));
        assert_eq!(range(Some("bytes 0-18446744073709551615/1"), 1), Err(400));
        assert_eq!(range(Some("bytes 0-9/99999999999"), 10), Err(413));
    }

    #[test]
    fn names() {
        let ok = "a".repeat(64);
        assert!(parse_sha(&ok).is_ok());
        assert!(parse_sha(&"A".repeat(64)).is_err());
        assert!(parse_sha(&"a".repeat(63)).is_err());
        assert!(parse_sha(&format!("{}g", "a".repeat(63))).is_err());
        assert!(parse_sha("../etc").is_err());
    }

    #[test]
    fn types() {
        assert_eq!(content_type(&[0xFF, 0xD8, 0xFF, 0xE0]), "image/jpeg");
        assert_eq!(content_type(b"<html>"), "application/octet-stream");
        assert_eq!(content_type(&[]), "application/octet-stream");
    }
}
