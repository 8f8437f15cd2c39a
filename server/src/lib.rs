//! The danvan server: serves the PWA, authenticates devices, and syncs their Automerge documents
//! (samod over WebSocket) into SQLite, keeping a read model for the aggregating level.

pub mod access;
pub mod admin;
pub mod api;
pub mod auth;
pub mod backup;
pub mod blob_store;
pub mod blobs;
pub mod chunk_store;
pub mod clock;
pub mod db;
pub mod durable_push;
pub mod error;
pub mod gate;
pub mod login_limit;
pub mod memory;
pub mod net;
pub mod office;
pub mod pg;
pub mod plan_import;
pub mod plan_publish;
pub mod readmodel;
pub mod registry;
pub mod report;
pub mod seed;
pub mod serve;
pub mod storage;
pub mod sync;
mod web;

use anyhow::Context;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub use web::app;

/// The largest WebSocket message accepted on `/sync`. A note is a few KB; a first sync of a quarter's
/// notes document is well under this. Larger frames close the connection (logged), never crash.
pub const MAX_SYNC_FRAME: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub dist: PathBuf,
    pub demo: bool,
    /// The URL users reach the server at, when it is not the listening address (behind a proxy).
    /// `https://…` turns on `Secure` cookies and HSTS; its origin is the one browsers must send.
    pub public_url: Option<url::Url>,
    /// The header a trusted reverse proxy puts the client's address in (`X-Forwarded-For`,
    /// `X-Real-IP`). Without it, headers are never believed and the socket's peer is the client.
    pub trusted_proxy_header: Option<axum::http::HeaderName>,
    pub limits: gate::Limits,
    pub listen_limits: serve::ListenLimits,
    /// A document nobody used for this long leaves memory — samod's copy and the durable state
    /// alike — and is read from SQLite again when next needed.
    pub unload_after: std::time::Duration,
    /// Where photo bytes go; `None`: `blobs/` in the data folder.
    pub blobs: Option<blob_store::BlobsAt>,
    /// A PostgreSQL URL for the documents' chunks; `None`: where [`Self::database`] is.
    pub documents: Option<String>,
    /// A PostgreSQL URL for the database (accounts, org, index, read model, photo records) and,
    /// unless [`Self::documents`] says otherwise, the documents; `None`: the data folder's SQLite
    /// file. Several nodes share one.
    pub database: Option<String>,
}

impl Config {
    /// The embedded default: demo data off, no proxy, default limits.
    pub fn new(listen: SocketAddr, data_dir: PathBuf, dist: PathBuf) -> Config {
        Config {
            listen,
            data_dir,
            dist,
            demo: false,
            public_url: None,
            trusted_proxy_header: None,
            limits: gate::Limits::default(),
            listen_limits: serve::ListenLimits::default(),
            unload_after: std::time::Duration::from_secs(600),
            blobs: None,
            documents: None,
            database: None,
        }
    }

    /// Where the documents' chunks are: a PostgreSQL URL, or `None` for the SQLite file.
    pub fn documents_at(&self) -> Option<String> {
        self.documents.clone().or_else(|| self.database.clone())
    }

    /// Open the database: the data folder's SQLite file, or PostgreSQL.
    pub async fn open_db(&self) -> anyhow::Result<db::Db> {
        match &self.database {
            Some(url) => {
                let url = url.clone();
                // Connecting blocks: not on an async worker.
                tokio::task::spawn_blocking(move || db::Db::open_postgres(&url))
                    .await?
                    .context("opening the PostgreSQL database")
            }
            None => db::Db::open(&db::path_in(&self.data_dir)),
        }
    }

    /// Whether there is a database to work on (commands that must not seed a new deployment).
    pub fn has_database(&self) -> bool {
        self.database.is_some() || db::path_in(&self.data_dir).exists()
    }

    /// Where photo bytes go.
    pub fn blobs_at(&self) -> blob_store::BlobsAt {
        self.blobs
            .clone()
            .unwrap_or_else(|| blob_store::default_dir(&self.data_dir))
    }

    /// Whether users reach the server over TLS.
    pub fn https(&self) -> bool {
        self.public_url
            .as_ref()
            .is_some_and(|u| u.scheme() == "https")
    }
}

/// A data folder remembers where its documents are (the `documents_in` meta key, set at its first
/// start) and refuses to start with the other place: started against an empty PostgreSQL, or
/// without it, the server would serve empty documents over the real ones, and phones would
/// believe them.
fn check_documents_home(db: &db::Db, postgres: bool) -> anyhow::Result<()> {
    let want = if postgres { "postgres" } else { "sqlite" };
    match db.meta("documents_in")? {
        Some(had) if had == want => Ok(()),
        Some(had) => anyhow::bail!(
            "this data folder keeps its documents in {had}: start it {}",
            if had == "postgres" {
                "with --documents (the same PostgreSQL database as before)"
            } else {
                "without --documents (moving documents to PostgreSQL is not supported yet)"
            }
        ),
        None => {
            anyhow::ensure!(
                !postgres || !db.has_chunks()?,
                "this data folder keeps its documents in its SQLite file: start it without \
                 --documents (moving documents to PostgreSQL is not supported yet)"
            );
            db.set_meta("documents_in", want)?;
            Ok(())
        }
    }
}

fn rebuild_registry(db: &db::Db, registry: &registry::Registry) -> anyhow::Result<()> {
    // A removed commune gets no new document IDs, but the ones already stored stay: their history
    // stays readable, and a phone that still holds unsynced notes of it can deliver them.
    let communes: Vec<String> = db
        .nodes()?
        .into_iter()
        .filter(|n| n.level == shared::vocab::OrgLevel::Commune && !n.removed)
        .map(|n| n.id)
        .collect();
    let stored: Vec<shared::DocKey> = db
        .documents()?
        .into_iter()
        .filter_map(|d| d.key())
        .collect();
    registry.rebuild(
        &communes,
        &db.plan_ids()?,
        &stored,
        crate::clock::current_quarter().year,
    );
    Ok(())
}

/// Memory follows activity: a few times per `idle`, durable states nobody asked about for `idle`
/// leave memory (samod unloads its own copies on its tick); once nothing is loaded, SQLite's page
/// caches go back too; and the allocator returns what was freed. Ends with the server.
async fn forget_idle_every(state: std::sync::Weak<Inner>, idle: std::time::Duration) {
    let mut every = tokio::time::interval((idle / 4).max(std::time::Duration::from_secs(1)));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(st) = state.upgrade() else {
            return;
        };
        let n = st.storage.unload_idle(idle);
        if n > 0 {
            tracing::debug!(documents = n, "idle documents unloaded");
        }
        if st.storage.loaded() == 0 && st.hub.loaded_documents() == 0 {
            st.db.release_memory();
        }
        drop(st);
        memory::release_freed();
    }
}

pub struct Inner {
    pub db: db::Db,
    /// Complete photos' bytes (their records are in `db`).
    pub blobs: blob_store::BlobStore,
    pub storage: storage::DocStorage,
    pub registry: Arc<registry::Registry>,
    pub hub: sync::SyncHub,
    pub limiter: login_limit::LoginLimiter,
    pub config: Config,
    /// The commune whose figures changed, after each read-model update (`/api/office/events`).
    /// A broadcast: a slow listener misses events and is told to read everything again.
    pub office_changes: tokio::sync::broadcast::Sender<String>,
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    /// Open (or create) the data dir, seed it if empty, start samod and the read model.
    /// Returns the state and the lines to print once on the console (accounts created).
    pub async fn start(cfg: &Config) -> anyhow::Result<(AppState, Vec<String>)> {
        std::fs::create_dir_all(&cfg.data_dir)?;
        let path = db::path_in(&cfg.data_dir);
        let db = cfg.open_db().await?;
        check_documents_home(&db, cfg.documents_at().is_some())?;
        let blobs = blob_store::BlobStore::open(&cfg.blobs_at())
            .with_context(|| format!("opening the photo store {}", cfg.blobs_at()))?;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let (documents, chunk_path) = (cfg.documents_at(), path.clone());
        // Connecting blocks (the PostgreSQL client too): not on an async worker.
        let storage = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let chunks: Arc<dyn chunk_store::ChunkStore> = match documents {
                Some(url) => Arc::new(
                    chunk_store::PgChunks::open(&url)
                        .context("opening the PostgreSQL document store")?,
                ),
                None => Arc::new(chunk_store::SqliteChunks::new(&chunk_path)),
            };
            storage::DocStorage::open(chunks, tx)
        })
        .await??;
        let quarter = crate::clock::current_quarter();
        let lines = seed::seed_if_empty(&db, &storage, cfg.demo, quarter).await?;
        let registry = Arc::new(registry::Registry::default());
        rebuild_registry(&db, &registry)?;
        let hub = sync::SyncHub::start(
            storage.clone(),
            registry.clone(),
            cfg.limits,
            cfg.unload_after,
        )
        .await?;
        let state = AppState(Arc::new(Inner {
            db,
            blobs,
            storage,
            registry,
            hub,
            limiter: login_limit::LoginLimiter::default(),
            config: cfg.clone(),
            office_changes: tokio::sync::broadcast::channel(256).0,
        }));
        // Each commit is told to the durable-heads push at once, and to the read model (which
        // waits to coalesce a burst).
        let (to_readmodel, readmodel_rx) = tokio::sync::mpsc::unbounded_channel();
        let hub_state = state.clone();
        let mut committed = rx;
        tokio::spawn(async move {
            while let Some(c) = committed.recv().await {
                hub_state.hub.committed(&c.doc);
                if to_readmodel.send(c).is_err() {
                    return;
                }
            }
        });
        tokio::spawn(readmodel::run(state.clone(), readmodel_rx));
        // Several nodes on one PostgreSQL: what the others commit reaches the phones here.
        let (others, keys) = (state.clone(), state.storage.other_nodes_chunks());
        tokio::spawn(async move {
            others
                .hub
                .take_other_nodes_chunks(&others.storage, keys)
                .await
        });
        tokio::spawn(blobs::expire_partial_uploads(state.clone()));
        tokio::spawn(report::take_due_cuts(state.clone()));
        tokio::spawn(forget_idle_every(
            Arc::downgrade(&state.0),
            cfg.unload_after,
        ));
        Ok((state, lines))
    }

    /// Attributes every cookie we set carries besides the fixed ones: `Secure` behind TLS.
    pub fn cookie_flags(&self) -> &'static str {
        if self.config.https() { "; Secure" } else { "" }
    }

    /// Recompute the accepted document IDs after communes or plans changed.
    pub fn rebuild_registry(&self) -> anyhow::Result<()> {
        rebuild_registry(&self.db, &self.registry)
    }

    /// Durable heads of a document (hex), as committed to SQLite; `None` if nothing of it is stored.
    pub async fn durable_heads(&self, doc: &str) -> Option<Vec<String>> {
        self.durable_heads_many(vec![doc.to_string()])
            .await
            .pop()
            .flatten()
    }

    /// [`Self::durable_heads`] of several documents in one pass.
    pub async fn durable_heads_many(&self, docs: Vec<String>) -> Vec<Option<Vec<String>>> {
        self.storage
            .with_durable_many(docs, |am| {
                am.get_heads().iter().map(|h| h.to_string()).collect()
            })
            .await
    }

    /// Whether every one of `hashes` is in the durable state of `doc` (and with it, all its ancestors).
    pub async fn is_durable(&self, doc: &str, hashes: Vec<automerge::ChangeHash>) -> bool {
        self.storage
            .with_durable(doc.to_string(), move |am| {
                hashes.iter().all(|h| shared::unsynced::has_change(am, h))
            })
            .await
            .unwrap_or(false)
    }

    /// Stop sync (samod flushes its pending writes), then drain the storage writer.
    pub async fn shutdown(&self) {
        self.hub.stop().await;
        let storage = self.storage.clone();
        let _ = tokio::task::spawn_blocking(move || storage.close()).await;
    }
}
