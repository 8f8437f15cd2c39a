//! Where samod's document chunks are kept: one table, `chunks(key, doc, data)`, in the data
//! folder's SQLite file (the embedded default) or in PostgreSQL (the database several nodes can
//! share). Only the SQL differs; group commit, retries, the durable mirror and everything samod
//! sees are [`crate::storage`]'s, one code path above both.
//!
//! Every method blocks (SQLite and the `postgres` client alike): [`crate::storage`] calls them on
//! the blocking pool or its writer thread, never on an async worker.

use rusqlite::OptionalExtension;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A failed read or write, and whether it may pass by itself (a full disk, a busy database, a
/// dropped connection) — worth retrying — or not (a broken schema, a bug).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ChunkError {
    pub message: String,
    pub transient: bool,
}

pub type Result<T> = std::result::Result<T, ChunkError>;

/// One operation of a committed batch.
#[derive(Debug, Clone, Copy)]
pub enum ChunkOp<'a> {
    Put {
        key: &'a str,
        doc: &'a str,
        data: &'a [u8],
    },
    Delete {
        key: &'a str,
    },
}

/// Reads, from any thread of the blocking pool.
pub trait ChunkStore: Send + Sync + 'static {
    /// One chunk by its key.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>>;
    /// The key `prefix` and every key under `prefix/`.
    fn range(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>>;
    /// Every chunk of one document, in key order.
    fn doc_chunks(&self, doc: &str) -> Result<Vec<Vec<u8>>>;
    /// The connection the (single) writer thread commits on.
    fn writer(&self) -> anyhow::Result<Box<dyn ChunkWriter>>;
    /// Tell `sink` of every commit another server node makes to this store, until the sink is
    /// gone. A single-node store (SQLite) has nothing to tell.
    fn watch(&self, _sink: Box<dyn ChangeSink>) -> anyhow::Result<()> {
        Ok(())
    }
}

/// Who hears of other nodes' commits ([`ChunkStore::watch`]).
pub trait ChangeSink: Send + 'static {
    /// Another node committed (wrote or deleted) the chunk `key` (its document is the first part);
    /// `None`: commits may have been missed (the watch was cut), so nothing loaded can be trusted
    /// to be current.
    fn changed(&self, key: Option<&str>);
    /// Whether anyone still listens (the watch ends when not).
    fn alive(&self) -> bool;
}

/// The writer thread's side: whole batches, each one transaction.
pub trait ChunkWriter: Send {
    /// Commit `ops` as one transaction, the database grown to at most `page_limit` pages
    /// (0: no limit of ours; only SQLite has pages to count).
    fn commit(&mut self, ops: &[ChunkOp<'_>], page_limit: u64) -> Result<()>;
    /// Nothing was written for a while: give caches back.
    fn quiet(&mut self) {}
}

/// Keys are '/'-joined parts that never contain '/', so a prefix match is the key itself plus a
/// range scan between "p/" and "p0" ('0' is the character after '/') — in byte order, which
/// PostgreSQL's column gets from `COLLATE "C"`.
fn prefix_bounds(prefix: &str) -> (String, String) {
    (format!("{prefix}/"), format!("{prefix}0"))
}

/// Read connections kept between reads, at most [`IDLE_CONNECTIONS`]: a read takes one (or opens
/// one while all are busy) and gives it back; those beyond the limit are closed.
struct Idle<C> {
    conns: Mutex<Vec<C>>,
}

/// Read connections kept for reuse.
const IDLE_CONNECTIONS: usize = 4;

impl<C> Idle<C> {
    fn new(conns: Vec<C>) -> Idle<C> {
        Idle {
            conns: Mutex::new(conns),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<C>> {
        self.conns.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn take(&self) -> Option<C> {
        self.lock().pop()
    }

    fn give_back(&self, conn: C) {
        let extra = {
            let mut conns = self.lock();
            if conns.len() < IDLE_CONNECTIONS {
                conns.push(conn);
                None
            } else {
                Some(conn)
            }
        };
        // Closed outside the lock.
        drop(extra);
    }

    fn drain(&mut self) -> Vec<C> {
        std::mem::take(self.conns.get_mut().unwrap_or_else(|p| p.into_inner()))
    }
}

// --- SQLite ------------------------------------------------------------------------------------

/// The chunks table of the data folder's SQLite file.
pub struct SqliteChunks {
    path: PathBuf,
    /// Shared with the writer, which empties their page caches when writes stop.
    idle: Arc<Idle<rusqlite::Connection>>,
}

impl SqliteChunks {
    pub fn new(path: &Path) -> SqliteChunks {
        SqliteChunks {
            path: path.to_path_buf(),
            idle: Arc::new(Idle::new(Vec::new())),
        }
    }

    /// Run `f` on an idle read connection (or a new one): WAL readers never wait for the writer.
    /// Why a few shared connections and not one per blocking-pool thread: each carries its own
    /// page cache, lookaside and parsed schema, and a burst of document loads ran on a hundred
    /// threads (heaptrack, 3,000 documents touched: 95 connections, 4.6 MB in lookaside alone).
    fn read<T>(&self, f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>) -> Result<T> {
        let conn = match self.idle.take() {
            Some(c) => c,
            None => crate::db::connect(&self.path).map_err(|e| ChunkError {
                message: e.to_string(),
                transient: true,
            })?,
        };
        let out = f(&conn).map_err(sqlite_error);
        self.idle.give_back(conn);
        out
    }
}

/// Errors that pass: a full disk, an I/O error, a busy or locked database, memory.
fn sqlite_error(e: rusqlite::Error) -> ChunkError {
    use rusqlite::ErrorCode::*;
    let transient = matches!(
        e.sqlite_error_code(),
        Some(DiskFull | SystemIoFailure | DatabaseBusy | DatabaseLocked | OutOfMemory | CannotOpen)
    );
    ChunkError {
        message: format!("sqlite: {e}"),
        transient,
    }
}

impl ChunkStore for SqliteChunks {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.read(|c| {
            c.query_row("SELECT data FROM chunks WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
        })
    }

    fn range(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let (lo, hi) = prefix_bounds(prefix);
        self.read(|c| {
            c.prepare("SELECT key, data FROM chunks WHERE key = ?1 OR (key >= ?2 AND key < ?3)")?
                .query_map(rusqlite::params![prefix, lo, hi], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })?
                .collect()
        })
    }

    fn doc_chunks(&self, doc: &str) -> Result<Vec<Vec<u8>>> {
        self.read(|c| {
            c.prepare("SELECT data FROM chunks WHERE doc = ?1 ORDER BY key")?
                .query_map([doc], |r| r.get(0))?
                .collect()
        })
    }

    fn writer(&self) -> anyhow::Result<Box<dyn ChunkWriter>> {
        Ok(Box::new(SqliteWriter {
            conn: crate::db::connect(&self.path)?,
            readers: Arc::clone(&self.idle),
        }))
    }
}

struct SqliteWriter {
    conn: rusqlite::Connection,
    readers: Arc<Idle<rusqlite::Connection>>,
}

impl ChunkWriter for SqliteWriter {
    fn commit(&mut self, ops: &[ChunkOp<'_>], page_limit: u64) -> Result<()> {
        // SQLite's own maximum when we set none.
        let pages = if page_limit == 0 {
            4_294_967_294
        } else {
            page_limit
        };
        let run = |conn: &mut rusqlite::Connection| -> rusqlite::Result<()> {
            conn.pragma_update(None, "max_page_count", pages)?;
            let tx = conn.transaction()?;
            for op in ops {
                match *op {
                    ChunkOp::Put { key, doc, data } => tx.execute(
                        "INSERT INTO chunks(key, doc, data) VALUES (?1, ?2, ?3) ON CONFLICT(key) DO UPDATE SET data = ?3",
                        rusqlite::params![key, doc, data],
                    )?,
                    ChunkOp::Delete { key } => {
                        tx.execute("DELETE FROM chunks WHERE key = ?1", [key])?
                    }
                };
            }
            tx.commit()
        };
        run(&mut self.conn).map_err(sqlite_error)
    }

    fn quiet(&mut self) {
        // The page caches (up to 2 MiB each), the writer's and the idle readers', go back until
        // the next burst.
        let _ = self.conn.release_memory();
        for reader in self.readers.lock().iter() {
            let _ = reader.release_memory();
        }
    }
}

// --- PostgreSQL --------------------------------------------------------------------------------

/// The chunks table of a PostgreSQL database.
pub struct PgChunks {
    config: postgres::Config,
    idle: Idle<postgres::Client>,
    /// This node's name in its commit notices, so it does not act on its own.
    origin: String,
}

/// The channel on which each commit names the chunks it wrote or deleted (`NOTIFY` is delivered
/// at commit, to every listening node): `ORIGIN KEY KEY …`. Keys, not documents: a node that holds
/// the document reads just those chunks.
const NOTICE_CHANNEL: &str = "danvan_chunks";
/// PostgreSQL's payload limit is 8,000 bytes: longer lists go out in several notices.
const NOTICE_MAX: usize = 7_000;

/// The notices for a commit by `origin` of the chunks `keys`.
fn notices(origin: &str, keys: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = origin.to_string();
    for d in keys {
        if cur.len() + 1 + d.len() > NOTICE_MAX && cur.len() > origin.len() {
            out.push(std::mem::replace(&mut cur, origin.to_string()));
        }
        cur.push(' ');
        cur.push_str(d);
    }
    if cur.len() > origin.len() {
        out.push(cur);
    }
    out
}

/// Whether a PostgreSQL error may pass: the connection (class 08, or closed), a serialization or
/// deadlock failure (40), resources — a full disk, too many connections (53), an operator or crash
/// restart (57P); an I/O error without a code is a connection error too.
fn pg_error(e: postgres::Error) -> ChunkError {
    let transient = e.is_closed()
        || e.code().is_none_or(|c| {
            let c = c.code();
            c.starts_with("08")
                || c.starts_with("40")
                || c.starts_with("53")
                || c.starts_with("57P")
        });
    ChunkError {
        message: format!("postgres: {e}"),
        transient,
    }
}

impl PgChunks {
    /// Connect to `url` (`postgres://user:password@host:port/dbname`) and bring the schema up to
    /// date. Nodes starting at once take turns (an advisory lock), so each step runs once.
    pub fn open(url: &str) -> anyhow::Result<PgChunks> {
        let config = crate::pg::config(url)?;
        let mut client = config.connect(postgres::NoTls)?;
        crate::pg::migrate(&mut client)?;
        Ok(PgChunks {
            config,
            idle: Idle::new(vec![client]),
            origin: format!("{:016x}", rand::random::<u64>()),
        })
    }

    fn connect(&self) -> Result<postgres::Client> {
        self.config.connect(postgres::NoTls).map_err(pg_error)
    }

    /// Run `f` on an idle connection (or a new one); a connection that failed is not kept.
    fn read<T>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> std::result::Result<T, postgres::Error>,
    ) -> Result<T> {
        let mut client = match self.idle.take() {
            Some(c) if !c.is_closed() => c,
            _ => self.connect()?,
        };
        let out = f(&mut client).map_err(pg_error)?;
        self.idle.give_back(client);
        Ok(out)
    }
}

impl Drop for PgChunks {
    fn drop(&mut self) {
        let idle = self.idle.drain();
        if !idle.is_empty() {
            // Dropping a client blocks on its own small runtime to close the connection, which
            // panics on an async worker — where the last holder of the storage may well be.
            let _ = std::thread::Builder::new()
                .name("pg-close".into())
                .spawn(move || drop(idle));
        }
    }
}

impl ChunkStore for PgChunks {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.read(|c| {
            Ok(
                c.query_opt("SELECT data FROM chunks WHERE key = $1", &[&key])?
                    .map(|r| r.get(0)),
            )
        })
    }

    fn range(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let (lo, hi) = prefix_bounds(prefix);
        self.read(|c| {
            Ok(c.query(
                "SELECT key, data FROM chunks WHERE key = $1 OR (key >= $2 AND key < $3)",
                &[&prefix, &lo, &hi],
            )?
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
        })
    }

    fn doc_chunks(&self, doc: &str) -> Result<Vec<Vec<u8>>> {
        self.read(|c| {
            Ok(c.query(
                "SELECT data FROM chunks WHERE doc = $1 ORDER BY key",
                &[&doc],
            )?
            .into_iter()
            .map(|r| r.get(0))
            .collect())
        })
    }

    fn writer(&self) -> anyhow::Result<Box<dyn ChunkWriter>> {
        Ok(Box::new(PgWriter {
            config: self.config.clone(),
            client: Some(self.connect()?),
            origin: self.origin.clone(),
        }))
    }

    fn watch(&self, sink: Box<dyn ChangeSink>) -> anyhow::Result<()> {
        // Listening before this returns: no commit made after the node started goes unheard.
        let first = start_listening(&self.config)?;
        let (config, origin) = (self.config.clone(), self.origin.clone());
        std::thread::Builder::new()
            .name("pg-listen".into())
            .spawn(move || listen(first, &config, &origin, &*sink))?;
        Ok(())
    }
}

fn start_listening(
    config: &postgres::Config,
) -> std::result::Result<postgres::Client, postgres::Error> {
    let mut client = config.connect(postgres::NoTls)?;
    client.batch_execute(&format!("LISTEN {NOTICE_CHANNEL}"))?;
    Ok(client)
}

/// The watch thread: pass on other nodes' notices; when the connection is cut, say that notices
/// may have been missed, and listen again. Ends when the sink is gone.
fn listen(first: postgres::Client, config: &postgres::Config, origin: &str, sink: &dyn ChangeSink) {
    use postgres::fallible_iterator::FallibleIterator;
    let mut client = Some(first);
    let mut wait = Duration::from_millis(200);
    while sink.alive() {
        let mut listening = match client.take() {
            Some(c) => c,
            None => match start_listening(config) {
                Ok(c) => {
                    wait = Duration::from_millis(200);
                    // Whatever was committed while not listening may not have been heard.
                    sink.changed(None);
                    c
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot listen for other nodes' commits; retrying");
                    std::thread::sleep(wait);
                    wait = (wait * 2).min(Duration::from_secs(10));
                    continue;
                }
            },
        };
        while sink.alive() && !listening.is_closed() {
            let mut notes = listening.notifications();
            let mut heard = notes.timeout_iter(Duration::from_secs(1));
            loop {
                match heard.next() {
                    Ok(Some(n)) => {
                        let mut parts = n.payload().split(' ');
                        if parts.next() == Some(origin) {
                            continue;
                        }
                        for key in parts {
                            sink.changed(Some(key));
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "listening for other nodes' commits failed");
                        break;
                    }
                }
            }
        }
        if !listening.is_closed() {
            // The sink is gone; closing blocks on the client's own runtime: fine on this thread.
            return;
        }
    }
}

struct PgWriter {
    config: postgres::Config,
    /// `None` after a failure that closed it: the next attempt connects again.
    client: Option<postgres::Client>,
    origin: String,
}

impl ChunkWriter for PgWriter {
    fn commit(&mut self, ops: &[ChunkOp<'_>], _page_limit: u64) -> Result<()> {
        let client = match self.client.take() {
            Some(c) if !c.is_closed() => self.client.insert(c),
            _ => self
                .client
                .insert(self.config.connect(postgres::NoTls).map_err(pg_error)?),
        };
        let origin = self.origin.clone();
        let origin = origin.as_str();
        let run = |client: &mut postgres::Client| -> std::result::Result<(), postgres::Error> {
            let mut tx = client.transaction()?;
            let put = tx.prepare(
                "INSERT INTO chunks(key, doc, data) VALUES ($1, $2, $3)
                 ON CONFLICT (key) DO UPDATE SET data = EXCLUDED.data",
            )?;
            let delete = tx.prepare("DELETE FROM chunks WHERE key = $1")?;
            let mut keys: Vec<&str> = Vec::new();
            for op in ops {
                match *op {
                    ChunkOp::Put { key, doc, data } => {
                        keys.push(key);
                        tx.execute(&put, &[&key, &doc, &data])?
                    }
                    ChunkOp::Delete { key } => {
                        keys.push(key);
                        tx.execute(&delete, &[&key])?
                    }
                };
            }
            keys.sort_unstable();
            keys.dedup();
            // Delivered at commit, to every other node listening: their copies are stale now.
            for notice in notices(origin, &keys) {
                tx.execute("SELECT pg_notify($1, $2)", &[&NOTICE_CHANNEL, &notice])?;
            }
            tx.commit()
        };
        run(client).map_err(|e| {
            if e.is_closed() {
                self.client = None;
            }
            pg_error(e)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sixteen threads reading at once through the shared connections: every read sees the
    /// committed chunk, and only a few connections stay open after the burst.
    #[test]
    fn concurrent_reads_share_a_few_connections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("danvan.sqlite3");
        crate::db::Db::open(&path).unwrap();
        let store = Arc::new(SqliteChunks::new(&path));
        let put = ChunkOp::Put {
            key: "d/incremental/1",
            doc: "d",
            data: b"x",
        };
        store.writer().unwrap().commit(&[put], 0).unwrap();
        let readers: Vec<_> = (0..16)
            .map(|_| {
                let store = store.clone();
                std::thread::spawn(move || {
                    (0..50).all(|_| store.doc_chunks("d").unwrap() == vec![b"x".to_vec()])
                })
            })
            .collect();
        assert!(readers.into_iter().all(|r| r.join().unwrap()));
        let kept = store.idle.lock().len();
        assert!((1..=IDLE_CONNECTIONS).contains(&kept), "{kept} kept");
    }

    #[test]
    fn notices_split_long_lists_and_carry_the_origin() {
        assert!(notices("o", &[]).is_empty());
        assert_eq!(notices("o", &["a", "b"]), vec!["o a b".to_string()]);
        let doc = "x".repeat(40);
        let docs: Vec<&str> = (0..400).map(|_| doc.as_str()).collect();
        let n = notices("o", &docs);
        assert!(n.len() >= 3);
        assert!(
            n.iter()
                .all(|p| p.len() <= NOTICE_MAX && p.starts_with("o "))
        );
        assert_eq!(
            n.iter().map(|p| p.split(' ').count() - 1).sum::<usize>(),
            400
        );
    }

    #[test]
    fn prefix_bounds_cover_exactly_the_keys_below() {
        let (lo, hi) = prefix_bounds("doc1");
        let inside = |k: &str| k == "doc1" || (k >= lo.as_str() && k < hi.as_str());
        assert!(inside("doc1"));
        assert!(inside("doc1/incremental/abc"));
        assert!(!inside("doc10/incremental/abc"));
        assert!(!inside("doc1-x"));
        assert!(!inside("doc"));
    }
}
