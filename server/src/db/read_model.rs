//! The read model's tables: notes per commune and period, progress per task × commune × unit, and
//! the overview of communes the aggregating level starts from.

use super::{Db, Result};
use rusqlite::params;
use shared::api::CommuneOverview;

impl Db {
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
                 FROM org_nodes n WHERE n.level = 'commune' AND n.removed = 0 ORDER BY n.name",
            )?
            .query_map([], |r| Ok(CommuneOverview { commune_id: r.get(0)?, name: r.get(1)?, notes: r.get(2)?, last_sync: r.get(3)? }))?
            .collect()
        })
    }
}
