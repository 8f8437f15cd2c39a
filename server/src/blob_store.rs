//! Where photo bytes live: an object store (`object_store`) — a directory of the data folder by
//! default, an S3-compatible bucket in production — while what is known about each photo (size,
//! who uploaded it, which documents use it, unfinished uploads) stays in the database.
//!
//! A photo is written here before its database row exists, and a row is the only way to reach a
//! photo: a crash between the two leaves an unreferenced object (harmless, and written again by the
//! next upload of the same content), never a row without its bytes.

use crate::db::{Db, InlineBlob};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum BlobStoreError {
    #[error("photo store: {0}")]
    Store(#[from] object_store::Error),
    #[error("photo store: {0}")]
    Io(#[from] std::io::Error),
    #[error("photo store: {0}")]
    Config(String),
}

pub type Result<T> = std::result::Result<T, BlobStoreError>;

/// Where the photos are, as given on the command line (`--blobs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlobsAt {
    /// A local directory (created if missing).
    Dir(PathBuf),
    /// An S3-compatible bucket and a key prefix (`s3://bucket/prefix`); endpoint, region and
    /// credentials come from the usual `AWS_*` environment variables.
    S3 { bucket: String, prefix: String },
}

impl std::str::FromStr for BlobsAt {
    type Err = BlobStoreError;

    fn from_str(s: &str) -> Result<BlobsAt> {
        let Some(rest) = s.strip_prefix("s3://") else {
            if s.contains("://") {
                return Err(BlobStoreError::Config(format!(
                    "{s}: photos go to a directory or to s3://bucket/prefix"
                )));
            }
            return Ok(BlobsAt::Dir(PathBuf::from(s)));
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(BlobStoreError::Config(format!("{s}: no bucket named")));
        }
        Ok(BlobsAt::S3 {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
        })
    }
}

impl std::fmt::Display for BlobsAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BlobsAt::Dir(d) => write!(f, "{}", d.display()),
            BlobsAt::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// The directory, for a local store: its files are synced to disk after each write.
    dir: Option<PathBuf>,
    /// Failed operations since start, for `/healthz`.
    errors: std::sync::atomic::AtomicU64,
}

/// A blob's key: two hex characters of fan-out, so that no directory holds millions of files.
fn key(sha256: &str) -> ObjectPath {
    ObjectPath::from(format!("{}/{sha256}", &sha256[..2]))
}

impl BlobStore {
    pub fn open(at: &BlobsAt) -> Result<BlobStore> {
        match at {
            BlobsAt::Dir(dir) => {
                std::fs::create_dir_all(dir)?;
                let dir = std::fs::canonicalize(dir)?;
                Ok(BlobStore {
                    store: Arc::new(LocalFileSystem::new_with_prefix(&dir)?),
                    dir: Some(dir),
                    errors: Default::default(),
                })
            }
            BlobsAt::S3 { bucket, prefix } => {
                // A phone waits on the answer: a few quick retries, then 503 and the phone's own
                // retry, rather than object_store's default of up to three minutes per request.
                let retry = object_store::RetryConfig {
                    max_retries: 3,
                    retry_timeout: std::time::Duration::from_secs(15),
                    ..Default::default()
                };
                let s3 = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_retry(retry)
                    .build()?;
                let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
                    Arc::new(s3)
                } else {
                    Arc::new(object_store::prefix::PrefixStore::new(s3, prefix.as_str()))
                };
                Ok(BlobStore {
                    store,
                    dir: None,
                    errors: Default::default(),
                })
            }
        }
    }

    /// Store a blob's whole content. Returns once it is durable: on a local disk, after the file
    /// and its directories are synced (object_store renames a finished file into place but does
    /// not sync it; an acknowledged photo must survive a power cut like a note does).
    pub async fn put(&self, sha256: &str, bytes: axum::body::Bytes) -> Result<()> {
        let r = self.put_synced(sha256, bytes).await;
        self.counted(r)
    }

    /// Failed operations since start.
    pub fn errors(&self) -> u64 {
        self.errors.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn counted<T>(&self, r: Result<T>) -> Result<T> {
        if r.is_err() {
            self.errors
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        r
    }

    async fn put_synced(&self, sha256: &str, bytes: axum::body::Bytes) -> Result<()> {
        let location = key(sha256);
        self.store.put(&location, PutPayload::from(bytes)).await?;
        if let Some(dir) = &self.dir {
            let file = dir.join(location.as_ref());
            let dir = dir.clone();
            tokio::task::spawn_blocking(move || -> std::io::Result<()> {
                std::fs::File::open(&file)?.sync_all()?;
                for d in file.ancestors().skip(1).take_while(|d| d.starts_with(&dir)) {
                    std::fs::File::open(d)?.sync_all()?;
                }
                Ok(())
            })
            .await
            .map_err(std::io::Error::other)??;
        }
        Ok(())
    }

    /// A blob's content; `None` if the store does not have it.
    pub async fn get(&self, sha256: &str) -> Result<Option<axum::body::Bytes>> {
        let r = match self.store.get(&key(sha256)).await {
            Ok(got) => got.bytes().await.map(Some).map_err(Into::into),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        };
        self.counted(r)
    }

    /// The first bytes of a blob (to tell its type) without reading it all.
    pub async fn head_bytes(&self, sha256: &str, len: u64) -> Result<Option<axum::body::Bytes>> {
        let r = match self.store.get_range(&key(sha256), 0..len).await {
            Ok(b) => Ok(Some(b)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        };
        self.counted(r)
    }
}

/// What [`migrate`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Migrated {
    pub blobs: u64,
    pub bytes: u64,
    /// Blobs whose stored bytes do not hash to their name: left in the database, untouched, for an
    /// operator to look at (moving them would hide the damage under a good-looking name).
    pub damaged: u64,
}

/// Move photos that servers before the object store kept inside the database into `store`, a few
/// at a time, while the server may be running: each one is written to the store (and synced)
/// before its row says so, so a migration cut short at any point loses nothing and simply goes on
/// when run again.
pub async fn migrate(db: &Arc<Db>, store: &BlobStore) -> anyhow::Result<Migrated> {
    let mut done = Migrated::default();
    let mut skip = Vec::new();
    loop {
        let (d, s) = (db.clone(), skip.clone());
        let batch: Vec<InlineBlob> =
            tokio::task::spawn_blocking(move || d.inline_blobs(&s, 16)).await??;
        if batch.is_empty() {
            return Ok(done);
        }
        for b in batch {
            if hex::encode(Sha256::digest(&b.data)) != b.sha256 {
                tracing::error!(sha256 = %b.sha256, "stored photo does not match its hash; left in the database");
                done.damaged += 1;
                skip.push(b.sha256);
                continue;
            }
            let len = b.data.len() as u64;
            store.put(&b.sha256, b.data.into()).await?;
            let d = db.clone();
            tokio::task::spawn_blocking(move || d.blob_moved_to_store(&b.sha256)).await??;
            done.blobs += 1;
            done.bytes += len;
        }
    }
}

/// What [`copy_all`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Copied {
    pub blobs: u64,
    pub bytes: u64,
    /// Already in the target with the same size.
    pub present: u64,
    /// Not hashing to their name: not copied (see the log).
    pub damaged: u64,
}

/// Copy every photo of `from` that `to` lacks, each checked against its name on the way, so a
/// deployment can move its photos (a local directory to a bucket as it grows). Safe to run again
/// and while the server runs on `from`: photos are never changed, only added; run it once more
/// after switching the server to `to`, for the photos added meanwhile.
pub async fn copy_all(from: &BlobStore, to: &BlobStore) -> anyhow::Result<Copied> {
    use futures::TryStreamExt;
    let mut done = Copied::default();
    // One fan-out directory at a time: two listings (a request per thousand photos on S3, not one
    // per photo), and memory for 1/256 of the store.
    for fan in 0..=255u8 {
        let prefix = ObjectPath::from(format!("{fan:02x}"));
        let there: std::collections::HashMap<String, u64> = to
            .store
            .list(Some(&prefix))
            .map_ok(|m| {
                (
                    m.location.filename().unwrap_or_default().to_string(),
                    m.size,
                )
            })
            .try_collect()
            .await?;
        let here: Vec<object_store::ObjectMeta> =
            from.store.list(Some(&prefix)).try_collect().await?;
        for meta in here {
            let Some(sha) = meta.location.filename().filter(|name| {
                name.len() == 64 && name.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            }) else {
                continue;
            };
            if there.get(sha) == Some(&meta.size) {
                done.present += 1;
                continue;
            }
            let sha = sha.to_string();
            let Some(bytes) = from.get(&sha).await? else {
                continue;
            };
            if hex::encode(Sha256::digest(&bytes)) != sha {
                tracing::error!(sha256 = %sha, "photo does not match its hash; not copied");
                done.damaged += 1;
                continue;
            }
            done.bytes += bytes.len() as u64;
            to.put(&sha, bytes).await?;
            done.blobs += 1;
        }
    }
    Ok(done)
}

/// The default place of the photos: `blobs/` in the data folder.
pub fn default_dir(data_dir: &Path) -> BlobsAt {
    BlobsAt::Dir(data_dir.join("blobs"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse() {
        assert_eq!(
            "data/blobs".parse::<BlobsAt>().unwrap(),
            BlobsAt::Dir("data/blobs".into())
        );
        assert_eq!(
            "s3://danvan-photos/tinh-lam-dong/"
                .parse::<BlobsAt>()
                .unwrap(),
            BlobsAt::S3 {
                bucket: "danvan-photos".into(),
                prefix: "tinh-lam-dong".into()
            }
        );
        assert_eq!(
            "s3://b".parse::<BlobsAt>().unwrap(),
            BlobsAt::S3 {
                bucket: "b".into(),
                prefix: String::new()
            }
        );
        assert!("s3:///x".parse::<BlobsAt>().is_err());
        assert!("gs://b/x".parse::<BlobsAt>().is_err());
    }

    #[test]
    fn keys_fan_out() {
        let sha = "ab".repeat(32);
        assert_eq!(key(&sha).as_ref(), format!("ab/{sha}"));
    }
}
