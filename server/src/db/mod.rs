//! The server's SQLite database: accounts and device tokens, the org tree, the document index and
//! the read model; the photo blob store in [`blobs`]. (Document chunks are in the same file but
//! belong to [`crate::storage`].)

mod blobs;
pub use blobs::{BlobChunk, BlobPut, BlobStats, BlobStatus, PARTIAL_QUOTA};

use crate::access::{Principal, Role};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

pub type Result<T> = std::result::Result<T, DbError>;

const SCHEMA: &str = r#"
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
    conn: Mutex<Connection>,
    /// The blob store's own connection: a blob write (up to 5 MiB, fsynced) holds it for a while, and
    /// must not hold up the token lookup of every other request, which goes through `conn`.
    blob_conn: Mutex<Connection>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
    pub node_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRow {
    pub id: String,
    pub name: String,
    pub level: String,
    pub parent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DocRow {
    pub doc_id: String,
    pub kind: String,
    pub scope: String,
    pub period: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CommuneOverview {
    pub commune_id: String,
    pub name: String,
    pub notes: i64,
    /// Unix milliseconds of the last change from this commune stored on the server.
    pub last_sync: Option<i64>,
}

/// How a presented token resolved.
#[derive(Debug, PartialEq, Eq)]
pub enum TokenLookup {
    Valid(Principal),
    Expired,
    Unknown,
}

impl Db {
    pub fn open(path: &Path) -> Result<Db> {
        let conn = connect(path)?;
        conn.execute_batch(SCHEMA)?;
        Ok(Db {
            conn: Mutex::new(conn),
            blob_conn: Mutex::new(connect(path)?),
        })
    }

    fn with<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T> {
        // A poisoned lock means a panic mid-statement; SQLite rolled the statement back, so the
        // connection itself is still consistent and we keep using it.
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        Ok(f(&conn)?)
    }

    pub fn is_empty(&self) -> Result<bool> {
        self.with(|c| c.query_row("SELECT COUNT(*) FROM users", [], |r| r.get::<_, i64>(0)))
            .map(|n| n == 0)
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

    pub fn upsert_node(&self, n: &NodeRow) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO org_nodes(id, name, level, parent) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(id) DO UPDATE SET name = ?2, level = ?3, parent = ?4",
                params![n.id, n.name, n.level, n.parent],
            )
            .map(|_| ())
        })
    }

    pub fn nodes(&self) -> Result<Vec<NodeRow>> {
        self.with(|c| {
            let mut st = c.prepare("SELECT id, name, level, parent FROM org_nodes ORDER BY id")?;
            st.query_map([], |r| {
                Ok(NodeRow {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    level: r.get(2)?,
                    parent: r.get(3)?,
                })
            })?
            .collect()
        })
    }

    pub fn insert_plan(&self, id: &str, title: &str) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT OR REPLACE INTO plans(id, title) VALUES (?1, ?2)",
                [id, title],
            )
            .map(|_| ())
        })
    }

    pub fn plan_ids(&self) -> Result<Vec<String>> {
        self.with(|c| {
            c.prepare("SELECT id FROM plans ORDER BY id")?
                .query_map([], |r| r.get(0))?
                .collect()
        })
    }

    pub fn create_user(
        &self,
        username: &str,
        display_name: &str,
        password_hash: &str,
        role: Role,
        node_id: &str,
    ) -> Result<i64> {
        self.with(|c| {
            c.execute(
                "INSERT INTO users(username, display_name, password_hash, role, node_id) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![username, display_name, password_hash, role.as_str(), node_id],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    pub fn user_by_name(&self, username: &str) -> Result<Option<UserRow>> {
        self.with(|c| {
            c.query_row(
                "SELECT id, username, display_name, password_hash, role, node_id FROM users WHERE username = ?1",
                [username],
                |r| {
                    Ok(UserRow {
                        id: r.get(0)?,
                        username: r.get(1)?,
                        display_name: r.get(2)?,
                        password_hash: r.get(3)?,
                        role: Role::parse(&r.get::<_, String>(4)?).unwrap_or(Role::Member),
                        node_id: r.get(5)?,
                    })
                },
            )
            .optional()
        })
    }

    /// The commune a node belongs to (itself, or a hamlet's parent), if any.
    pub fn commune_of(&self, node_id: &str) -> Result<Option<String>> {
        self.with(|c| {
            c.query_row(
                "SELECT CASE n.level WHEN 'commune' THEN n.id WHEN 'hamlet' THEN n.parent END
                 FROM org_nodes n WHERE n.id = ?1",
                [node_id],
                |r| r.get::<_, Option<String>>(0),
            )
            .optional()
            .map(Option::flatten)
        })
    }

    pub fn insert_token(
        &self,
        user_id: i64,
        token_hash: &[u8],
        peer_id: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<i64> {
        self.with(|c| {
            c.execute(
                "INSERT INTO tokens(user_id, token_hash, peer_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![user_id, token_hash, peer_id, now_ms, expires_ms],
            )?;
            Ok(c.last_insert_rowid())
        })
    }

    pub fn delete_token(&self, token_id: i64) -> Result<()> {
        self.with(|c| {
            c.execute("DELETE FROM tokens WHERE id = ?1", [token_id])
                .map(|_| ())
        })
    }

    pub fn lookup_token(&self, token_hash: &[u8], now_ms: i64) -> Result<TokenLookup> {
        let row = self.with(|c| {
            c.query_row(
                "SELECT t.id, t.peer_id, t.expires_at, u.id, u.username, u.display_name, u.role, u.node_id,
                        CASE n.level WHEN 'commune' THEN n.id WHEN 'hamlet' THEN n.parent END
                 FROM tokens t JOIN users u ON u.id = t.user_id JOIN org_nodes n ON n.id = u.node_id
                 WHERE t.token_hash = ?1",
                [token_hash],
                |r| {
                    Ok((
                        r.get::<_, i64>(2)?,
                        Principal {
                            token_id: r.get(0)?,
                            peer_id: r.get(1)?,
                            user_id: r.get(3)?,
                            username: r.get(4)?,
                            display_name: r.get(5)?,
                            role: Role::parse(&r.get::<_, String>(6)?).unwrap_or(Role::Member),
                            node_id: r.get(7)?,
                            commune_id: r.get(8)?,
                        },
                    ))
                },
            )
            .optional()
        })?;
        Ok(match row {
            None => TokenLookup::Unknown,
            Some((expires, _)) if expires <= now_ms => TokenLookup::Expired,
            Some((_, p)) => TokenLookup::Valid(Principal {
                // Only members are bound to a commune; the aggregating level sees them all.
                commune_id: if p.role == Role::Member {
                    p.commune_id
                } else {
                    None
                },
                ..p
            }),
        })
    }

    pub fn principal_by_peer(&self, peer_id: &str, now_ms: i64) -> Result<Option<Principal>> {
        let hash: Option<Vec<u8>> = self.with(|c| {
            c.query_row(
                "SELECT token_hash FROM tokens WHERE peer_id = ?1",
                [peer_id],
                |r| r.get(0),
            )
            .optional()
        })?;
        Ok(match hash {
            Some(h) => match self.lookup_token(&h, now_ms)? {
                TokenLookup::Valid(p) => Some(p),
                _ => None,
            },
            None => None,
        })
    }

    /// Record that a document changed durably (and what it is), for listing and "last sync".
    /// `device_change_ms`: when a device's change was stored (None for the server's own writes).
    pub fn touch_document(
        &self,
        row: &DocRow,
        commune: Option<&str>,
        device_change_ms: Option<i64>,
    ) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO documents(doc_id, kind, scope, period, commune, last_change) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(doc_id) DO UPDATE SET last_change = COALESCE(?6, last_change)",
                params![row.doc_id, row.kind, row.scope, row.period, commune, device_change_ms],
            )
            .map(|_| ())
        })
    }

    pub fn documents(&self) -> Result<Vec<DocRow>> {
        self.with(|c| {
            c.prepare(
                "SELECT doc_id, kind, scope, period FROM documents ORDER BY kind, scope, period",
            )?
            .query_map([], |r| {
                Ok(DocRow {
                    doc_id: r.get(0)?,
                    kind: r.get(1)?,
                    scope: r.get(2)?,
                    period: r.get(3)?,
                })
            })?
            .collect()
        })
    }

    pub fn set_note_count(&self, commune: &str, period: &str, notes: i64) -> Result<()> {
        self.with(|c| {
            c.execute(
                "INSERT INTO rm_notes(commune, period, notes) VALUES (?1, ?2, ?3)
                 ON CONFLICT(commune, period) DO UPDATE SET notes = ?3",
                params![commune, period, notes],
            )
            .map(|_| ())
        })
    }

    /// Replace the quarantined entries of a document (entries fixed since are released).
    pub fn set_quarantine(
        &self,
        doc_id: &str,
        entries: &[(String, String)],
        now_ms: i64,
    ) -> Result<()> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction()?;
        tx.execute("DELETE FROM quarantine WHERE doc_id = ?1", [doc_id])?;
        for (entry, reason) in entries {
            tx.execute(
                "INSERT INTO quarantine(doc_id, entry, reason, first_seen) VALUES (?1, ?2, ?3, ?4)",
                params![doc_id, entry, reason, now_ms],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn quarantine(&self) -> Result<Vec<serde_json::Value>> {
        self.with(|c| {
            c.prepare(
                "SELECT q.doc_id, d.kind, d.scope, d.period, q.entry, q.reason, q.first_seen
                 FROM quarantine q LEFT JOIN documents d ON d.doc_id = q.doc_id ORDER BY q.first_seen, q.entry",
            )?
            .query_map([], |r| {
                Ok(serde_json::json!({
                    "doc_id": r.get::<_, String>(0)?, "kind": r.get::<_, Option<String>>(1)?,
                    "scope": r.get::<_, Option<String>>(2)?, "period": r.get::<_, Option<String>>(3)?,
                    "entry": r.get::<_, String>(4)?, "reason": r.get::<_, String>(5)?,
                    "first_seen": r.get::<_, i64>(6)?,
                }))
            })?
            .collect()
        })
    }

    /// Replace the progress rows of one (plan, commune) with the records of its progress document.
    pub fn set_progress(
        &self,
        plan: &str,
        commune: &str,
        records: &[shared::schema::ProgressRecord],
    ) -> Result<()> {
        let mut conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction()?;
        tx.execute(
            "DELETE FROM rm_progress WHERE plan = ?1 AND commune = ?2",
            [plan, commune],
        )?;
        for r in records {
            tx.execute(
                "INSERT OR REPLACE INTO rm_progress(plan, commune, task, unit, percent, done_at, by, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![plan, commune, r.task_id, r.unit, r.percent, r.done_at, r.by, r.at],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Progress rows of a plan: (commune, task, unit, percent).
    pub fn progress(&self, plan: &str) -> Result<Vec<(String, String, String, i64)>> {
        self.with(|c| {
            c.prepare("SELECT commune, task, unit, percent FROM rm_progress WHERE plan = ?1 ORDER BY commune, task, unit")?
                .query_map([plan], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect()
        })
    }

    /// Every commune with its number of notes (all periods) and the time of its last stored change.
    pub fn overview(&self) -> Result<Vec<CommuneOverview>> {
        self.with(|c| {
            c.prepare(
                "SELECT n.id, n.name,
                        COALESCE((SELECT SUM(notes) FROM rm_notes WHERE commune = n.id), 0),
                        (SELECT MAX(last_change) FROM documents WHERE commune = n.id AND kind IN ('notes', 'progress'))
                 FROM org_nodes n WHERE n.level = 'commune' ORDER BY n.name",
            )?
            .query_map([], |r| Ok(CommuneOverview { commune_id: r.get(0)?, name: r.get(1)?, notes: r.get(2)?, last_sync: r.get(3)? }))?
            .collect()
        })
    }
}
