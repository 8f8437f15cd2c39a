//! Report cut-offs: when a period's figures freeze for a plan and an org node, and the document
//! heads recorded at that moment (the report is computed from the documents at those heads).

use super::sql::{OptionalExtension, Row, params};
use super::{Db, Result};
use std::collections::BTreeMap;

/// One cut-off: set for `due_at`; `heads` (document ID → heads) once it has been taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CutRow {
    pub plan: String,
    pub period: String,
    pub node: String,
    pub due_at: i64,
    pub heads: Option<BTreeMap<String, Vec<String>>>,
    pub taken_at: Option<i64>,
    pub set_by: String,
}

fn row(r: &Row) -> Result<CutRow> {
    let heads: Option<String> = r.get(4)?;
    Ok(CutRow {
        plan: r.get(0)?,
        period: r.get(1)?,
        node: r.get(2)?,
        due_at: r.get(3)?,
        // Written by this module only; a row that does not parse reads as not taken.
        heads: heads.and_then(|h| serde_json::from_str(&h).ok()),
        taken_at: r.get(5)?,
        set_by: r.get(6)?,
    })
}

const COLUMNS: &str = "plan, period, node, due_at, heads, taken_at, set_by";

impl Db {
    pub fn report_cut(&self, plan: &str, period: &str, node: &str) -> Result<Option<CutRow>> {
        self.with(|c| {
            c.query_row(
                &format!("SELECT {COLUMNS} FROM report_cuts WHERE plan = ?1 AND period = ?2 AND node = ?3"),
                [plan, period, node],
                row,
            )
            .optional()
        })
    }

    /// Set (or move) a cut-off that has not been taken yet. `false` if it was already taken: a
    /// taken cut-off never moves.
    pub fn set_report_cut(
        &self,
        plan: &str,
        period: &str,
        node: &str,
        due_at: i64,
        by: &str,
    ) -> Result<bool> {
        self.with(|c| {
            let n = c.execute(
                "INSERT INTO report_cuts(plan, period, node, due_at, set_by) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(plan, period, node) DO UPDATE SET due_at = excluded.due_at, set_by = excluded.set_by
                 WHERE report_cuts.heads IS NULL",
                params![plan, period, node, due_at, by],
            )?;
            Ok(n > 0)
        })
    }

    /// Cut-offs whose moment has come and that are not taken yet.
    pub fn due_report_cuts(&self, now: i64) -> Result<Vec<CutRow>> {
        self.with(|c| {
            c.prepare(&format!(
                "SELECT {COLUMNS} FROM report_cuts WHERE heads IS NULL AND due_at <= ?1"
            ))?
            .query_map([now], row)?
            .collect()
        })
    }

    /// Record the heads of a cut-off; only once (`false` if it was taken already).
    pub fn take_report_cut(
        &self,
        plan: &str,
        period: &str,
        node: &str,
        heads: &BTreeMap<String, Vec<String>>,
        at: i64,
    ) -> Result<bool> {
        let json = serde_json::to_string(heads).unwrap_or_default();
        self.with(|c| {
            let n = c.execute(
                "UPDATE report_cuts SET heads = ?4, taken_at = ?5
                 WHERE plan = ?1 AND period = ?2 AND node = ?3 AND heads IS NULL",
                params![plan, period, node, json, at],
            )?;
            Ok(n > 0)
        })
    }
}
