//! samod's key/value storage, with group commit, and the durable view of each document; the rows
//! themselves are in SQLite or PostgreSQL ([`crate::chunk_store`]).
//!
//! samod may answer a sync message before its storage write completes, so "synced" is not "saved"
//! (DESIGN §5). Everything the server promises about durability is therefore read back from this
//! table: [`DocStorage::load_doc`] rebuilds a document from the rows that are committed, and the
//! heads of that document are the *durable heads* the app counts on.

use crate::chunk_store::{ChangeSink, ChunkError, ChunkOp, ChunkStore, ChunkWriter};
use automerge::Automerge;
use samod::storage::{StorageError, StorageKey};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

/// A queued write and the channel that tells its caller it is committed.
type Queued = (WriteOp, oneshot::Sender<()>);

enum WriteOp {
    Put(String, String, Vec<u8>),
    Delete(String),
}

struct Inner {
    chunks: Arc<dyn ChunkStore>,
    /// Where chunks other nodes committed are reported ([`DocStorage::other_nodes_chunks`]).
    remote: Mutex<Option<tokio::sync::mpsc::UnboundedSender<String>>>,
    writer: Mutex<Option<mpsc::Sender<Queued>>>,
    writer_thread: Mutex<Option<std::thread::JoinHandle<()>>>,
    /// The durable state of each document asked about recently: loaded from SQLite once, then
    /// advanced by the writer with exactly the chunks it committed. Never ahead of the disk, and
    /// O(1) to ask. Unloaded when nobody has asked for a while ([`DocStorage::unload_idle`]).
    mirrors: Mutex<HashMap<String, Mirror>>,
    changed: tokio::sync::mpsc::UnboundedSender<Committed>,
    health: Health,
    /// The most pages the writer may grow the database to (0: no limit of ours; SQLite only). A
    /// quota below the disk's size; the tests also make a disk "full" with it.
    page_limit: AtomicU64,
}

/// One document's durable state, and when it was last asked for.
struct Mirror {
    /// `None`: known to have nothing stored yet (the writer creates it from the first chunk).
    /// Boxed: an `Automerge` is 3.5 KB inline, and the table's every slot would hold one.
    doc: Option<Box<Automerge>>,
    used: Instant,
}

/// Storage failures since start: logged loudly where they happen, counted here for `/healthz`.
#[derive(Default)]
struct Health {
    read_errors: AtomicU64,
    write_errors: AtomicU64,
    /// Unix ms of the last failure (0: none).
    last_error_ms: AtomicI64,
}

/// What [`DocStorage::health`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StorageHealth {
    pub read_errors: u64,
    pub write_errors: u64,
    pub last_error_ms: Option<i64>,
}

/// Waits before the second and third attempt of a failed read: a busy or briefly unavailable
/// database usually answers within them.
const READ_RETRIES: [Duration; 2] = [Duration::from_millis(100), Duration::from_millis(400)];

/// Our locks guard values that stay consistent whatever a panicking holder was doing (a sender, a
/// join handle, a map updated entry by entry): a poisoned lock is used as it is.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Clone)]
pub struct DocStorage {
    inner: Arc<Inner>,
}

/// The most operations folded into one transaction: bounds the latency of the first waiter.
const MAX_BATCH: usize = 512;

fn key_string(key: &StorageKey) -> String {
    key.to_string()
}

/// The first component of a samod key is the document ID (or a single-part key like the storage ID).
fn doc_of(key: &str) -> String {
    key.split('/').next().unwrap_or_default().to_string()
}

/// A document committed to the store, by this node or (`elsewhere`) by another node sharing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub doc: String,
    pub elsewhere: bool,
}

impl DocStorage {
    /// Open the storage on `chunks`; changed documents are reported on `changed` after each
    /// commit.
    pub fn open(
        chunks: Arc<dyn ChunkStore>,
        changed: tokio::sync::mpsc::UnboundedSender<Committed>,
    ) -> anyhow::Result<Self> {
        let writer = chunks.writer()?;
        let (tx, rx) = mpsc::channel::<Queued>();
        let inner = Arc::new(Inner {
            chunks,
            remote: Mutex::new(None),
            writer: Mutex::new(Some(tx)),
            writer_thread: Mutex::new(None),
            mirrors: Mutex::new(HashMap::new()),
            changed,
            health: Health::default(),
            page_limit: AtomicU64::new(0),
        });
        let weak = Arc::downgrade(&inner);
        let handle = std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(writer, rx, weak))?;
        *lock(&inner.writer_thread) = Some(handle);
        inner
            .chunks
            .watch(Box::new(OtherNodes(Arc::downgrade(&inner))))?;
        Ok(DocStorage { inner })
    }

    /// Let the database grow to at most `pages` pages (`None`: as far as the disk allows). Takes
    /// effect at the writer's next attempt, also while it retries a failed commit.
    pub fn set_page_limit(&self, pages: Option<u64>) {
        self.inner
            .page_limit
            .store(pages.unwrap_or(0), Ordering::Relaxed);
    }

    /// The keys of chunks other server nodes commit to a shared store, from now on (a single
    /// node's store reports none).
    pub fn other_nodes_chunks(&self) -> tokio::sync::mpsc::UnboundedReceiver<String> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        *lock(&self.inner.remote) = Some(tx);
        rx
    }

    /// One stored chunk by its key (`None` if absent).
    pub async fn chunk(&self, key: String) -> Result<Option<Vec<u8>>, StorageError> {
        self.read(move |c| c.get(&key)).await
    }

    /// Stop accepting writes and wait until every queued write is committed.
    pub fn close(&self) {
        lock(&self.inner.writer).take();
        if let Some(h) = lock(&self.inner.writer_thread).take() {
            let _ = h.join();
        }
    }

    /// Run `f` on the durable state of `doc` (as committed to SQLite); `None` if nothing is stored.
    pub async fn with_durable<R: Send + 'static>(
        &self,
        doc: String,
        f: impl Fn(&Automerge) -> R + Send + 'static,
    ) -> Option<R> {
        self.with_durable_many(vec![doc], f).await.pop().flatten()
    }

    /// [`Self::with_durable`] for several documents at once: one blocking task, one lock.
    pub async fn with_durable_many<R: Send + 'static>(
        &self,
        docs: Vec<String>,
        f: impl Fn(&Automerge) -> R + Send + 'static,
    ) -> Vec<Option<R>> {
        let inner = self.inner.clone();
        let n = docs.len();
        let res = tokio::task::spawn_blocking(move || {
            // Loading happens under the lock, so the writer either finds the mirror and applies its
            // commit, or committed before our read and the read sees it: no commit is ever missed.
            let mut mirrors = lock(&inner.mirrors);
            docs.iter()
                .map(|doc| {
                    if !mirrors.contains_key(doc) {
                        let chunks: Vec<Vec<u8>> = inner
                            .chunks
                            .doc_chunks(doc)
                            .map_err(|e| {
                                // Not remembered as absent: the next question reads again.
                                inner.health.failed(&inner.health.read_errors);
                                tracing::error!(doc, error = %e, "STORAGE READ FAILED: durable state unknown")
                            })
                            .ok()?;
                        // An absent document is remembered as such: the writer creates its mirror
                        // from the first committed chunk.
                        let doc_state =
                            (!chunks.is_empty()).then(|| Box::new(load_chunks(doc, &chunks)));
                        mirrors.insert(
                            doc.clone(),
                            Mirror {
                                doc: doc_state,
                                used: Instant::now(),
                            },
                        );
                    }
                    let mirror = mirrors.get_mut(doc)?;
                    mirror.used = Instant::now();
                    mirror.doc.as_deref().map(&f)
                })
                .collect::<Vec<_>>()
        })
        .await;
        res.unwrap_or_else(|_| (0..n).map(|_| None).collect())
    }

    async fn write(&self, op: WriteOp) {
        let (tx, rx) = oneshot::channel();
        let sender = lock(&self.inner.writer).clone();
        match sender {
            Some(s) if s.send((op, tx)).is_ok() => {
                let _ = rx.await;
            }
            _ => tracing::error!("storage write after shutdown was dropped"),
        }
    }

    /// Drop the durable state of documents nobody asked about for `idle`: memory follows what
    /// devices are doing, not every document ever touched. An unloaded document is read from SQLite
    /// again when next asked for; the writer skips documents without a mirror (under the same
    /// lock as the load, so no commit is missed either way). Returns how many were unloaded.
    pub fn unload_idle(&self, idle: Duration) -> usize {
        let mut mirrors = lock(&self.inner.mirrors);
        let before = mirrors.len();
        mirrors.retain(|_, m| m.used.elapsed() < idle);
        // The table keeps the room of its busiest hour otherwise.
        if mirrors.capacity() > 2 * mirrors.len() + 64 {
            mirrors.shrink_to_fit();
        }
        before - mirrors.len()
    }

    /// Whether `doc`'s durable state is in memory.
    pub fn is_loaded(&self, doc: &str) -> bool {
        lock(&self.inner.mirrors).contains_key(doc)
    }

    /// Documents whose durable state is in memory.
    pub fn loaded(&self) -> usize {
        lock(&self.inner.mirrors).len()
    }

    /// Failures counted since start.
    pub fn health(&self) -> StorageHealth {
        let h = &self.inner.health;
        let last = h.last_error_ms.load(Ordering::Relaxed);
        StorageHealth {
            read_errors: h.read_errors.load(Ordering::Relaxed),
            write_errors: h.write_errors.load(Ordering::Relaxed),
            last_error_ms: (last > 0).then_some(last),
        }
    }

    /// Run a read, retrying twice; an error only after three failures, counted and logged loudly.
    ///
    /// A read error is never taken for "nothing stored": samod (patched, `patches/samod`) keeps
    /// a document whose load failed loading and asks again, so a device is never served an empty
    /// document over one that is only unreadable for now. Most failures are a busy or briefly
    /// unavailable file, hence the retries; the rest are counted for `/healthz` (503 while
    /// failures are recent) and logged as `STORAGE READ FAILED`. The waits also pace samod's
    /// next attempt.
    fn read<T, F>(&self, f: F) -> impl Future<Output = Result<T, StorageError>> + Send + use<T, F>
    where
        T: Send + 'static,
        F: Fn(&dyn ChunkStore) -> crate::chunk_store::Result<T> + Send + Sync + 'static,
    {
        let inner = self.inner.clone();
        let f = Arc::new(f);
        async move {
            let mut waits = READ_RETRIES.iter();
            loop {
                match read_once(inner.chunks.clone(), f.clone()).await {
                    Ok(v) => return Ok(v),
                    Err(e) => match waits.next() {
                        Some(wait) => {
                            tracing::warn!(error = %e, "storage read failed; retrying");
                            tokio::time::sleep(*wait).await;
                        }
                        None => {
                            inner.health.failed(&inner.health.read_errors);
                            tracing::error!(
                                error = %e,
                                "STORAGE READ FAILED after {} attempts",
                                READ_RETRIES.len() + 1
                            );
                            return Err(StorageError(e));
                        }
                    },
                }
            }
        }
    }
    /// Every committed chunk of a document.
    pub async fn doc_chunks(&self, doc: String) -> Result<Vec<Vec<u8>>, StorageError> {
        self.read(move |c| c.doc_chunks(&doc)).await
    }

    /// The document as it is durably stored, `None` if nothing is stored for it.
    pub async fn load_doc(&self, doc: String) -> Result<Option<Automerge>, StorageError> {
        let chunks = self.doc_chunks(doc.clone()).await?;
        Ok((!chunks.is_empty()).then(|| load_chunks(&doc, &chunks)))
    }

    /// Write the changes of a document directly (used only to seed documents before samod runs).
    pub async fn put_changes(&self, doc_id: &samod::DocumentId, doc: &Automerge) {
        for change in doc.get_changes(&[]) {
            let key = StorageKey::incremental_path(doc_id, change.hash());
            samod::storage::Storage::put(self, key, change.raw_bytes().to_vec()).await;
        }
    }
}

/// Other server nodes' commits to a shared store: the durable state loaded here for that document
/// is stale, so it is dropped (the next question reads the committed rows), and the commit is
/// reported like one of ours — the durable-heads push and the read model follow it.
struct OtherNodes(std::sync::Weak<Inner>);

impl ChangeSink for OtherNodes {
    fn changed(&self, key: Option<&str>) {
        let Some(inner) = self.0.upgrade() else {
            return;
        };
        let mut mirrors = lock(&inner.mirrors);
        match key {
            Some(key) => {
                let doc = doc_of(key);
                mirrors.remove(&doc);
                drop(mirrors);
                if let Some(remote) = lock(&inner.remote).as_ref() {
                    let _ = remote.send(key.to_string());
                }
                let _ = inner.changed.send(Committed {
                    doc,
                    elsewhere: true,
                });
            }
            None => mirrors.clear(),
        }
    }

    fn alive(&self) -> bool {
        self.0
            .upgrade()
            .is_some_and(|inner| lock(&inner.writer).is_some())
    }
}

impl Health {
    fn failed(&self, counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
        self.last_error_ms
            .store(crate::clock::now_ms(), Ordering::Relaxed);
    }
}

/// One attempt of a read, on the blocking pool.
async fn read_once<T, F>(chunks: Arc<dyn ChunkStore>, f: Arc<F>) -> Result<T, String>
where
    T: Send + 'static,
    F: Fn(&dyn ChunkStore) -> crate::chunk_store::Result<T> + Send + Sync + 'static,
{
    tokio::task::spawn_blocking(move || f(&*chunks).map_err(|e| e.to_string()))
        .await
        .map_err(|e| format!("read task: {e}"))?
}

fn load_chunks(doc: &str, chunks: &[Vec<u8>]) -> Automerge {
    let mut am = Automerge::new();
    for c in chunks {
        if let Err(e) = am.load_incremental(c) {
            tracing::error!(doc, error = %e, "stored chunk does not load");
        }
    }
    am
}

/// Commit `batch`, retrying a transient failure (a full disk) until it passes or the storage
/// closes. Why retry rather than give up: samod counts a put as done either way and never writes
/// that chunk again, so a change given up on would be missing from SQLite for good (and later
/// chunks that depend on it would not load) while the phone, answered by samod from memory,
/// thinks the server has it. Waiting keeps every waiter — and the durable heads — where they
/// are: nothing is confirmed that is not committed, and writing resumes by itself when space
/// returns. Reads go on meanwhile, on their own connections.
fn commit_until_stored(
    writer: &mut dyn ChunkWriter,
    batch: &[Queued],
    inner: &std::sync::Weak<Inner>,
) -> Result<(), ChunkError> {
    let ops: Vec<ChunkOp<'_>> = batch
        .iter()
        .map(|(op, _)| match op {
            WriteOp::Put(key, doc, data) => ChunkOp::Put { key, doc, data },
            WriteOp::Delete(key) => ChunkOp::Delete { key },
        })
        .collect();
    let mut wait = Duration::from_millis(100);
    let mut failing_since: Option<Instant> = None;
    let mut last_log = Instant::now();
    loop {
        let limit = inner
            .upgrade()
            .map_or(0, |i| i.page_limit.load(Ordering::Relaxed));
        let e = match writer.commit(&ops, limit) {
            Ok(()) => {
                if let Some(since) = failing_since {
                    tracing::warn!(
                        after_s = since.elapsed().as_secs(),
                        ops = batch.len(),
                        "storage writes resumed"
                    );
                }
                return Ok(());
            }
            Err(e) => e,
        };
        let Some(st) = inner.upgrade() else {
            return Err(e);
        };
        st.health.failed(&st.health.write_errors);
        // Closing (shutdown): stop waiting. Phones still hold these changes and send them again.
        if !e.transient || lock(&st.writer).is_none() {
            return Err(e);
        }
        if failing_since.is_none() || last_log.elapsed() > Duration::from_secs(30) {
            tracing::error!(error = %e, ops = batch.len(), "STORAGE WRITE FAILED: retrying; nothing is confirmed durable meanwhile");
            last_log = Instant::now();
        }
        failing_since.get_or_insert_with(Instant::now);
        drop(st);
        std::thread::sleep(wait);
        wait = (wait * 2).min(Duration::from_secs(2));
    }
}

/// After this long without a write the writer gives its page cache back.
const WRITER_QUIET: Duration = Duration::from_secs(10);

fn writer_loop(
    mut writer: Box<dyn ChunkWriter>,
    rx: mpsc::Receiver<Queued>,
    inner: std::sync::Weak<Inner>,
) {
    // Group commit: take whatever is queued, commit it as one transaction (one fsync), then release
    // every waiter. Under load many puts share a commit; alone, a put costs one commit.
    loop {
        let first = match rx.recv_timeout(WRITER_QUIET) {
            Ok(op) => op,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                writer.quiet();
                match rx.recv() {
                    Ok(op) => op,
                    Err(_) => break,
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let result = commit_until_stored(&mut *writer, &batch, &inner);
        let mut docs: Vec<String> = batch
            .iter()
            .map(|(op, _)| match op {
                WriteOp::Put(_, doc, _) => doc.clone(),
                WriteOp::Delete(key) => doc_of(key),
            })
            .collect();
        docs.sort();
        docs.dedup();
        match result {
            Ok(()) => {
                if let Some(inner) = inner.upgrade() {
                    let mut mirrors = lock(&inner.mirrors);
                    for (op, _) in &batch {
                        if let WriteOp::Put(_, doc, data) = op
                            && let Some(mirror) = mirrors.get_mut(doc)
                            && let Err(e) = mirror
                                .doc
                                .get_or_insert_with(Default::default)
                                .load_incremental(data)
                        {
                            tracing::error!(doc, error = %e, "committed chunk does not load");
                        }
                    }
                    drop(mirrors);
                    for doc in docs {
                        let _ = inner.changed.send(Committed {
                            doc,
                            elsewhere: false,
                        });
                    }
                }
            }
            Err(e) => {
                // samod's storage API cannot report failure; the durable heads simply do not advance,
                // so no device will believe these changes are safe and each keeps its copy.
                tracing::error!(error = %e, ops = batch.len(), "STORAGE WRITE FAILED: changes are not durable");
            }
        }
        for (_, done) in batch {
            let _ = done.send(());
        }
    }
}

impl samod::storage::Storage for DocStorage {
    fn load(&self, key: StorageKey) -> impl Future<Output = Option<Vec<u8>>> + Send {
        let f = samod::storage::Storage::try_load(self, key);
        async move { f.await.ok().flatten() }
    }

    fn load_range(
        &self,
        prefix: StorageKey,
    ) -> impl Future<Output = HashMap<StorageKey, Vec<u8>>> + Send {
        let f = samod::storage::Storage::try_load_range(self, prefix);
        async move { f.await.unwrap_or_default() }
    }

    fn try_load(
        &self,
        key: StorageKey,
    ) -> impl Future<Output = Result<Option<Vec<u8>>, StorageError>> + Send {
        let k = key_string(&key);
        self.read(move |c| c.get(&k))
    }

    fn try_load_range(
        &self,
        prefix: StorageKey,
    ) -> impl Future<Output = Result<HashMap<StorageKey, Vec<u8>>, StorageError>> + Send {
        let p = key_string(&prefix);
        let f = self.read(move |c| c.range(&p));
        async move {
            Ok(f.await?
                .into_iter()
                .filter_map(|(k, v)| StorageKey::from_parts(k.split('/')).ok().map(|k| (k, v)))
                .collect())
        }
    }

    fn put(&self, key: StorageKey, data: Vec<u8>) -> impl Future<Output = ()> + Send {
        let k = key_string(&key);
        let doc = doc_of(&k);
        self.write(WriteOp::Put(k, doc, data))
    }

    fn delete(&self, key: StorageKey) -> impl Future<Output = ()> + Send {
        self.write(WriteOp::Delete(key_string(&key)))
    }
}
