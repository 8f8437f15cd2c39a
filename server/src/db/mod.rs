//! The server's database: accounts and device tokens, the org tree, the document index and the
//! read model; the photo blob store's records in [`blobs`]. SQLite by default (document chunks
//! are in the same file but belong to [`crate::storage`]), or PostgreSQL for several nodes; every
//! query is written once, through [`sql`].

mod accounts;
mod admin;
mod blobs;
mod index;
mod office;
mod org;
mod read_model;
mod reports;
pub mod sql;

pub use accounts::{RENEW_GRACE_MS, TOKEN_LIFETIME_MS, TokenLookup, UserRow};
pub use admin::{Audit, Logins, UserChange};
pub use blobs::{BlobChunk, BlobPut, BlobStats, BlobStatus, InlineBlob, PARTIAL_QUOTA, StoredBlob};
pub use index::DocRow;
pub use office::Filter;
pub use org::NodeRow;
pub use read_model::{NotesChange, NotesDoc};
pub use reports::CutRow;

use anyhow::Context;
use rusqlite::{Connection, OptionalExtension};
use sql::OptionalExtension as _;
use sql::Sql;
use std::path::Path;
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {0}")]
    Postgres(#[from] postgres::Error),
    /// PostgreSQL refused a statement (its message and the statement).
    #[error("postgres: {0}")]
    Prepare(String),
    #[error("no row")]
    NoRows,
    #[error("unexpected value: {0}")]
    Type(String),
}

pub type Result<T> = std::result::Result<T, DbError>;

/// The first version: every table as it stood before versioned migrations (idempotent, so a
/// database created before them passes through it unchanged).
const V1: &str = r#"
CREATE TABLE IF NOT EXISTS chunks (
    key  TEXT PRIMARY KEY,
    doc  TEXT NOT NULL,
    data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS org_nodes (
    id     TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    level  TEXT NOT NULL CHECK (level IN ('root', 'commune', 'hamlet')),
    parent TEXT REFERENCES org_nodes(id)
);
CREATE TABLE IF NOT EXISTS plans (id TEXT PRIMARY KEY, title TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'editor', 'viewer', 'member')),
    node_id       TEXT NOT NULL REFERENCES org_nodes(id)
);
CREATE TABLE IF NOT EXISTS tokens (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE,
    peer_id    TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    doc_id      TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    scope       TEXT NOT NULL,
    period      TEXT NOT NULL,
    commune     TEXT,
    last_change INTEGER
);
CREATE TABLE IF NOT EXISTS quarantine (
    doc_id     TEXT NOT NULL,
    entry      TEXT NOT NULL,
    reason     TEXT NOT NULL,
    first_seen INTEGER NOT NULL,
    PRIMARY KEY (doc_id, entry)
);
CREATE TABLE IF NOT EXISTS rm_progress (
    plan    TEXT NOT NULL,
    commune TEXT NOT NULL,
    task    TEXT NOT NULL,
    unit    TEXT NOT NULL,
    percent INTEGER NOT NULL,
    done_at INTEGER,
    by      TEXT NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (plan, commune, task, unit)
);
CREATE TABLE IF NOT EXISTS rm_notes (
    commune TEXT NOT NULL,
    period  TEXT NOT NULL,
    notes   INTEGER NOT NULL,
    PRIMARY KEY (commune, period)
);
CREATE TABLE IF NOT EXISTS blobs (
    sha256     TEXT PRIMARY KEY,
    size       INTEGER NOT NULL,
    data       BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
-- A partial upload belongs to its uploader: another user's upload of the same hash neither blocks
-- nor poisons it.
CREATE TABLE IF NOT EXISTS blob_partials (
    sha256     TEXT NOT NULL,
    owner      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    total      INTEGER NOT NULL,
    received   INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (sha256, owner)
);
-- One row per accepted chunk: appending a row costs the chunk, where `data = data || ?` would
-- rewrite everything received so far on every chunk.
CREATE TABLE IF NOT EXISTS blob_partial_parts (
    sha256 TEXT NOT NULL,
    owner  INTEGER NOT NULL,
    start  INTEGER NOT NULL,
    data   BLOB NOT NULL,
    PRIMARY KEY (sha256, owner, start),
    FOREIGN KEY (sha256, owner) REFERENCES blob_partials(sha256, owner) ON DELETE CASCADE
);
-- Who uploaded a blob (whoever sent the whole content may read it back).
CREATE TABLE IF NOT EXISTS blob_owners (
    sha256  TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    PRIMARY KEY (sha256, user_id)
);
-- Which documents reference a blob (from the read model): their readers may read it.
CREATE TABLE IF NOT EXISTS blob_refs (
    sha256 TEXT NOT NULL,
    doc_id TEXT NOT NULL,
    PRIMARY KEY (sha256, doc_id)
);
CREATE INDEX IF NOT EXISTS blob_refs_doc ON blob_refs(doc_id);
-- Before blob_partials, partial uploads were keyed by hash alone; dropped once (a phone resumes
-- from the status, which then says 0).
DROP TABLE IF EXISTS blob_upload_parts;
DROP TABLE IF EXISTS blob_uploads;
"#;

/// Open a connection with the settings every connection to our file must have.
pub fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    // WAL lets the sync writer and the readers work at once; FULL makes a commit survive power loss,
    // not just a crash of this process (field data cannot be typed again).
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;",
    )?;
    Ok(conn)
}

pub struct Db {
    conn: Mutex<Sql>,
    /// The blob store's own connection: a blob write (up to 5 MiB, fsynced) holds it for a while, and
    /// must not hold up the token lookup of every other request, which goes through `conn`.
    blob_conn: Mutex<Sql>,
    /// When each device's visit was last written ([`Db::token_seen`]), so that a device polling
    /// every round costs no statement between writes.
    seen: Mutex<std::collections::HashMap<i64, i64>>,
}

/// Version 2: the org table holds every level the documents know (units included) and keeps nodes
/// an administrator removed, flagged, so lists can leave them out while accounts and history keep
/// their references. SQLite cannot change a `CHECK` in place: the table is rebuilt.
const V2: &str = r#"
CREATE TABLE org_nodes_v2 (
    id      TEXT PRIMARY KEY,
    name    TEXT NOT NULL,
    level   TEXT NOT NULL CHECK (level IN ('root', 'commune', 'hamlet', 'unit')),
    parent  TEXT REFERENCES org_nodes(id),
    removed INTEGER NOT NULL DEFAULT 0
);
INSERT INTO org_nodes_v2(id, name, level, parent) SELECT id, name, level, parent FROM org_nodes;
DROP TABLE org_nodes;
ALTER TABLE org_nodes_v2 RENAME TO org_nodes;
"#;

/// Version 3: the office's read model — a row per live note (every field and its folded text for
/// search), its linked tasks, its petitions, and the heads each document was last indexed at (so
/// the next commit is applied from Automerge's diff, not by reading the whole document again).
const V3: &str = r#"
CREATE TABLE rm_note_rows (
    doc_id        TEXT NOT NULL,
    note_id       TEXT NOT NULL,
    commune       TEXT NOT NULL,
    period        TEXT NOT NULL,
    activity_date TEXT NOT NULL,
    title         TEXT NOT NULL,
    content       TEXT NOT NULL,
    results       TEXT NOT NULL,
    task_ids      TEXT NOT NULL,
    hamlet        TEXT,
    activity_type TEXT,
    unit          TEXT,
    total         INTEGER NOT NULL,
    women         INTEGER NOT NULL,
    ethnic        INTEGER NOT NULL,
    religious     INTEGER NOT NULL,
    lat           REAL,
    lon           REAL,
    accuracy_m    REAL,
    photos        TEXT NOT NULL,
    photo_count   INTEGER NOT NULL,
    -- The note's petitions by follow-up: open (received, in progress), answered, referred.
    pet_open      INTEGER NOT NULL,
    pet_answered  INTEGER NOT NULL,
    pet_referred  INTEGER NOT NULL,
    author        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    folded        TEXT NOT NULL,
    PRIMARY KEY (doc_id, note_id)
);
CREATE INDEX rm_note_rows_commune ON rm_note_rows(commune, activity_date);
-- Covers the period summary: its sums are read from the index alone.
CREATE INDEX rm_note_rows_figures
    ON rm_note_rows(activity_date, commune, total, women, ethnic, religious, photo_count,
                    pet_open, pet_answered, pet_referred);
CREATE TABLE rm_note_tasks (
    doc_id  TEXT NOT NULL,
    note_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    PRIMARY KEY (doc_id, note_id, task_id)
);
CREATE INDEX rm_note_tasks_task ON rm_note_tasks(task_id);
CREATE TABLE rm_petitions (
    doc_id  TEXT NOT NULL,
    note_id TEXT NOT NULL,
    idx     INTEGER NOT NULL,
    text    TEXT NOT NULL,
    status  TEXT NOT NULL,
    PRIMARY KEY (doc_id, note_id, idx)
);
CREATE TABLE rm_doc_heads (doc_id TEXT PRIMARY KEY, heads TEXT NOT NULL);
-- The latest activity date of each commune's notes, kept with every update (stale communes).
CREATE TABLE rm_commune_last (commune TEXT PRIMARY KEY, last_note TEXT);
"#;

/// Report cut-offs (chốt số liệu): per plan, period and org node, the moment figures are frozen
/// and, once it has passed, the heads of every document that feeds the report.
const V4: &str = r#"
CREATE TABLE report_cuts (
    plan       TEXT NOT NULL,
    period     TEXT NOT NULL,
    node       TEXT NOT NULL,
    due_at     INTEGER NOT NULL,
    -- JSON {doc_id: [head, ...]}; NULL until the cut-off has been taken.
    heads      TEXT,
    taken_at   INTEGER,
    set_by     TEXT NOT NULL,
    PRIMARY KEY (plan, period, node)
);
"#;

/// Accounts administration: a member's unit, disabled users, administrators and editors who also
/// hold the viewer role (only they read the communes' work), what each device said at login and
/// when it was last seen, the audit log (who did what; never a password or a note's text), and
/// when the server first received each note and progress record.
const V5: &str = r#"
ALTER TABLE users ADD COLUMN unit TEXT;
ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN also_viewer INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN app_version TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN last_seen INTEGER;
ALTER TABLE tokens ADD COLUMN last_addr TEXT NOT NULL DEFAULT '';
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    addr   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_action ON audit_log(action, id);
-- When the server first stored each note and each version of a progress record, by its own clock
-- (a device's clock can be wrong or set back). Not part of the read model: a rebuild keeps it.
CREATE TABLE received (
    doc_id TEXT NOT NULL,
    entry  TEXT NOT NULL,
    at     INTEGER NOT NULL,
    PRIMARY KEY (doc_id, entry)
);
"#;

/// Logins an administrator or a password change ended, kept (400 days, as long as the device's
/// cookie) so a phone signed out that way can still report what it then did with its data — an
/// export, an import — to the audit log; one-time passwords the user must replace; and device
/// clocks, so a "done" is judged by the server's receipt when the device's clock was wrong.
const V6: &str = r#"
CREATE TABLE ended_tokens (
    token_hash BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    peer_id    TEXT NOT NULL,
    ended_at   INTEGER NOT NULL,
    reason     TEXT NOT NULL
);
ALTER TABLE users ADD COLUMN must_change INTEGER NOT NULL DEFAULT 0;
-- Each device's clock against the server's, from the time it sends with its API calls.
ALTER TABLE tokens ADD COLUMN clock_skew INTEGER;
ALTER TABLE tokens ADD COLUMN clock_at INTEGER;
-- What the server knew of the author's device clocks when it received a progress record: 1 right,
-- 0 wrong, NULL never checked (see shared::status::judged_done).
ALTER TABLE received ADD COLUMN clock_ok INTEGER;
"#;

/// Every step, in order; `PRAGMA user_version` records how many have run. Append, never edit.
/// Version 7: complete photos move to the blob store ([`crate::blob_store`]); `in_store` says a
/// row's bytes are there (and `data` is empty). Rows from before stay inline until
/// `danvan-server blobs migrate` moves them.
const V7: &str = r#"
ALTER TABLE blobs ADD COLUMN in_store INTEGER NOT NULL DEFAULT 0;
"#;

const MIGRATIONS: &[&str] = &[V1, V2, V3, V4, V5, V6, V7];

#[derive(Debug, thiserror::Error)]
#[error(
    "the database is at version {found}, newer than this server knows ({known}): run the newer server, or restore a backup"
)]
pub struct TooNew {
    pub found: usize,
    pub known: usize,
}

/// Bring the database to the latest version, one step per transaction. Foreign keys are off while
/// steps run (a table rebuild drops a table others refer to) and checked before each commit.
fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let done: usize = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if done > MIGRATIONS.len() {
        return Err(TooNew {
            found: done,
            known: MIGRATIONS.len(),
        }
        .into());
    }
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    let result = (|| -> anyhow::Result<()> {
        for (i, step) in MIGRATIONS.iter().enumerate().skip(done) {
            let tx = conn.transaction()?;
            tx.execute_batch(step)?;
            let broken: Option<String> = tx
                .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
                .optional()?;
            if let Some(table) = broken {
                anyhow::bail!("migration {} leaves a broken reference in {table}", i + 1);
            }
            tx.pragma_update(None, "user_version", i + 1)?;
            tx.commit()?;
            tracing::info!(version = i + 1, "database migrated");
        }
        Ok(())
    })();
    conn.execute_batch("PRAGMA foreign_keys = ON")?;
    result
}

/// The database file of a data folder.
pub fn path_in(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("danvan.sqlite3")
}

/// Refuse a database file that is damaged: empty (cut to nothing), truncated, or failing SQLite's
/// own check. Starting on it would either fail later, mid-request, or — for an empty file — seed a
/// new deployment over the lost one without a word. Reads every page once (`quick_check`).
pub fn check_file(path: &Path) -> anyhow::Result<()> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    anyhow::ensure!(
        len > 0,
        "the database {} is empty (0 bytes): it was cut short or never written. Restore a backup \
         (danvan-server restore --from FILE), or delete it if this deployment never started",
        path.display()
    );
    let damaged = |why: String| {
        anyhow::anyhow!(
            "the database {} is damaged ({why}): restore a backup (danvan-server restore --from FILE)",
            path.display()
        )
    };
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| damaged(e.to_string()))?;
    let verdict: String = conn
        .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
        .map_err(|e| damaged(e.to_string()))?;
    if verdict != "ok" {
        return Err(damaged(verdict));
    }
    Ok(())
}

impl Db {
    /// Open (or create) the database; an existing file is checked first ([`check_file`]).
    pub fn open(path: &Path) -> anyhow::Result<Db> {
        if path.exists() {
            let started = std::time::Instant::now();
            check_file(path)?;
            tracing::info!(
                ms = started.elapsed().as_millis() as u64,
                "database checked"
            );
        }
        let mut conn = connect(path)?;
        migrate(&mut conn)?;
        Ok(Db::on(Sql::Lite(conn), Sql::Lite(connect(path)?)))
    }

    /// Connect to a PostgreSQL database (`postgres://user:password@host:port/dbname`) and bring
    /// its schema up to date ([`crate::pg::migrate`]).
    pub fn open_postgres(url: &str) -> anyhow::Result<Db> {
        let config = crate::pg::config(url)?;
        let mut first = config.connect(postgres::NoTls)?;
        crate::pg::migrate(&mut first)?;
        drop_client(first);
        let conn = || -> anyhow::Result<Sql> {
            Ok(Sql::Pg(Box::new(std::cell::RefCell::new(
                sql::PgConn::new(config.clone())?,
            ))))
        };
        Ok(Db::on(conn()?, conn()?))
    }

    fn on(conn: Sql, blob_conn: Sql) -> Db {
        Db {
            conn: Mutex::new(conn),
            blob_conn: Mutex::new(blob_conn),
            seen: Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// Which database this is.
    pub fn dialect(&self) -> sql::Dialect {
        self.conn
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .dialect()
    }

    fn with<T: Send>(&self, f: impl FnOnce(&Sql) -> Result<T> + Send) -> Result<T> {
        // A poisoned lock means a panic mid-statement; the database rolled the statement back, so
        // the connection itself is still consistent and we keep using it.
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        sql::run(&mut conn, f)
    }

    /// Give the connections' page caches back (a quiet server); they fill again on demand.
    pub fn release_memory(&self) {
        for conn in [&self.conn, &self.blob_conn] {
            let conn = conn.lock().unwrap_or_else(|p| p.into_inner());
            if let Sql::Lite(c) = &*conn
                && let Err(e) = c.release_memory()
            {
                tracing::debug!(error = %e, "SQLite kept its page cache");
            }
        }
    }

    pub fn is_empty(&self) -> Result<bool> {
        self.with(|c| c.query_row("SELECT COUNT(*) FROM users", (), |r| r.get::<_, i64>(0)))
            .map(|n| n == 0)
    }

    /// Whether any document chunk is stored in this database (documents may live elsewhere).
    pub fn has_chunks(&self) -> Result<bool> {
        self.with(|c| c.query_row("SELECT EXISTS(SELECT 1 FROM chunks)", (), |r| r.get(0)))
    }

    pub fn meta(&self, key: &str) -> Result<Option<String>> {
        self.with(|c| {
            c.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
                .optional()
        })
    }

    pub fn set_meta(&self, key: &str, value: &str) -> Result<()> {
        self.with(|c| {
            c.execute("INSERT INTO meta(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2", [key, value])
                .map(|_| ())
        })
    }
}

/// Close a PostgreSQL client off any async worker (dropping one blocks on its own runtime).
fn drop_client(client: postgres::Client) {
    let _ = std::thread::Builder::new()
        .name("pg-close".into())
        .spawn(move || drop(client));
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::vocab::OrgLevel;

    #[test]
    fn a_database_from_before_versioning_is_migrated_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite3");
        {
            // The database as servers before versioned migrations left it: version 0.
            let c = connect(&path).unwrap();
            c.execute_batch(V1).unwrap();
            c.execute_batch(
                "INSERT INTO org_nodes(id, name, level, parent) VALUES ('root', 'Huyện', 'root', NULL);
                 INSERT INTO org_nodes(id, name, level, parent) VALUES ('xa', 'Xã', 'commune', 'root');
                 INSERT INTO users(username, display_name, password_hash, role, node_id)
                     VALUES ('kadon', 'K', 'h', 'member', 'xa');",
            )
            .unwrap();
            assert!(
                c.execute(
                    "INSERT INTO org_nodes(id, name, level) VALUES ('u', 'U', 'unit')",
                    []
                )
                .is_err()
            );
        }
        let db = Db::open(&path).unwrap();
        let nodes = db.nodes().unwrap();
        assert_eq!(nodes.len(), 2);
        assert!(nodes.iter().all(|n| !n.removed));
        assert!(db.user_by_name("kadon").unwrap().is_some());
        db.upsert_node(&NodeRow {
            id: "xa.hoi-nong-dan".into(),
            name: "Hội Nông dân".into(),
            level: OrgLevel::Unit,
            parent: Some("xa".into()),
            removed: false,
        })
        .unwrap();
        drop(db);
        // Opening again runs nothing twice.
        let db = Db::open(&path).unwrap();
        assert_eq!(db.nodes().unwrap().len(), 3);
    }

    #[test]
    fn a_database_from_a_newer_server_is_refused_with_a_clear_message() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.sqlite3");
        connect(&path)
            .unwrap()
            .execute_batch("PRAGMA user_version = 99")
            .unwrap();
        let err = Db::open(&path).err().expect("refused").to_string();
        assert!(err.contains("newer than this server"), "{err}");
    }
}
