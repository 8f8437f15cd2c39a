//! The document index (every stored document: what it is, its commune, when a device last changed
//! it) and the quarantine of entries that break the schema.

use super::sql::params;
use super::{Db, Result};
use shared::api::QuarantineEntry;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DocRow {
    pub doc_id: String,
    pub kind: String,
    pub scope: String,
    pub period: String,
}

impl DocRow {
    /// The key the row describes (`None` for a kind this version does not know).
    pub fn key(&self) -> Option<shared::DocKey> {
        Some(shared::DocKey {
            kind: shared::DocKind::parse(&self.kind)?,
            scope: self.scope.clone(),
            period: self.period.clone(),
        })
    }
}

impl Db {
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
                 ON CONFLICT(doc_id) DO UPDATE SET last_change = COALESCE(?6, documents.last_change)",
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
            .query_map((), |r| {
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

    /// Replace the quarantined entries of a document (entries fixed since are released).
    pub fn set_quarantine(
        &self,
        doc_id: &str,
        entries: &[(String, String)],
        now_ms: i64,
    ) -> Result<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM quarantine WHERE doc_id = ?1", [doc_id])?;
            for (entry, reason) in entries {
                tx.execute(
                    "INSERT INTO quarantine(doc_id, entry, reason, first_seen) VALUES (?1, ?2, ?3, ?4)",
                    params![doc_id, entry, reason, now_ms],
                )?;
            }
            tx.commit()
        })
    }

    /// Replace the quarantine of the entries named by `keys` (the rest of the document is unchanged).
    pub fn update_quarantine(
        &self,
        doc_id: &str,
        keys: &std::collections::BTreeSet<String>,
        bad: &[(String, String)],
        now_ms: i64,
    ) -> Result<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            for k in keys {
                tx.execute(
                    "DELETE FROM quarantine WHERE doc_id = ?1 AND entry = ?2",
                    params![doc_id, k],
                )?;
            }
            for (entry, reason) in bad {
                tx.execute(
                    "INSERT INTO quarantine(doc_id, entry, reason, first_seen) VALUES (?1, ?2, ?3, ?4)
                     ON CONFLICT(doc_id, entry) DO UPDATE SET reason = ?3, first_seen = ?4",
                    params![doc_id, entry, reason, now_ms],
                )?;
            }
            tx.commit()
        })
    }

    pub fn quarantine(&self) -> Result<Vec<QuarantineEntry>> {
        self.with(|c| {
            c.prepare(
                "SELECT q.doc_id, d.kind, d.scope, d.period, q.entry, q.reason, q.first_seen
                 FROM quarantine q LEFT JOIN documents d ON d.doc_id = q.doc_id ORDER BY q.first_seen, q.entry",
            )?
            .query_map((), |r| {
                Ok(QuarantineEntry {
                    doc_id: r.get(0)?,
                    kind: r.get(1)?,
                    scope: r.get(2)?,
                    period: r.get(3)?,
                    entry: r.get(4)?,
                    reason: r.get(5)?,
                    first_seen: r.get(6)?,
                })
            })?
            .collect()
        })
    }
}
