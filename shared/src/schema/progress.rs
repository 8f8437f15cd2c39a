//! Progress: one unit's record per task in one commune, and its history from the document's changes.

use super::entry::{Entry, read_entries, reconcile_entry};
use super::{SchemaError, hydrate as am, write};
use crate::ids::DocKind;
use automerge::{Automerge, ChangeHash};
use autosurgeon::{Hydrate, ReadDoc, Reconcile};

/// One unit's progress on one task in one commune (DESIGN §3). Each unit writes its own entry,
/// keyed `task@unit`, so the lead and the coordinating units never overwrite each other.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, Hydrate, Reconcile,
)]
#[serde(default)]
pub struct ProgressRecord {
    #[autosurgeon(hydrate = "am::text")]
    pub task_id: String,
    #[autosurgeon(hydrate = "am::text")]
    pub unit: String,
    /// 0–100.
    #[autosurgeon(missing = "Default::default", hydrate = "am::int")]
    pub percent: i64,
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub remark: String,
    /// Who recorded it, and when (Unix ms).
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub by: String,
    #[autosurgeon(missing = "Default::default", hydrate = "am::int")]
    pub at: i64,
    #[autosurgeon(hydrate = "am::opt_int")]
    pub done_at: Option<i64>,
}

impl Entry for ProgressRecord {
    const KIND: DocKind = DocKind::Progress;
    fn entry_key(&self) -> String {
        format!("{}@{}", self.task_id, self.unit)
    }
    fn set_key(&mut self, _key: &str) {}
}

pub fn put_progress(doc: &mut Automerge, r: &ProgressRecord) -> Result<(), SchemaError> {
    let mut r = r.clone();
    r.percent = r.percent.clamp(0, 100);
    write(doc, Some(r.at.div_euclid(1000)), |tx| {
        reconcile_entry(tx, &r).map(|_| ())
    })
}

/// The history of a task's progress in one commune, from the document's history: every version of
/// every unit's record, oldest first (who changed what, when). Walks the changes one by one, so it
/// is meant for one task's detail, not for lists.
pub fn progress_history(doc: &Automerge, task_id: &str) -> Vec<ProgressRecord> {
    let mut seen: Vec<ProgressRecord> = Vec::new();
    let mut heads: Vec<ChangeHash> = Vec::new();
    for change in doc.get_changes(&[]) {
        // The state after this change (and everything it depends on).
        heads.retain(|h| !change.deps().contains(h));
        heads.push(change.hash());
        let state = doc
            .fork_at(&heads)
            .map(|d| read_progress(&d))
            .unwrap_or_default();
        for r in state.into_iter().filter(|r| r.task_id == task_id) {
            if !seen.contains(&r) {
                seen.push(r);
            }
        }
    }
    seen.sort_by_key(|r| r.at);
    seen
}

/// The valid progress records of a progress document, by task then unit.
pub fn read_progress<D: ReadDoc>(doc: &D) -> Vec<ProgressRecord> {
    let mut out: Vec<ProgressRecord> = read_entries::<ProgressRecord, _>(doc)
        .0
        .into_iter()
        .filter(|r| !progress_invalid(r))
        .collect();
    out.sort_by(|a, b| (&a.task_id, &a.unit).cmp(&(&b.task_id, &b.unit)));
    out
}

pub(crate) fn progress_invalid(r: &ProgressRecord) -> bool {
    !(0..=100).contains(&r.percent) || r.task_id.is_empty() || r.unit.is_empty()
}

#[cfg(test)]
mod tests {
    use super::super::genesis_doc;
    use super::*;
    use crate::ids::DocKey;

    #[test]
    fn progress_history_lists_every_version() {
        let key = DocKey::progress("kh", "xa-ka-don");
        let mut doc = genesis_doc(&key).unwrap();
        let r = |unit: &str, percent, at| ProgressRecord {
            task_id: "t-1".into(),
            unit: unit.into(),
            percent,
            by: "kadon".into(),
            at,
            ..ProgressRecord::default()
        };
        put_progress(&mut doc, &r("mttq", 20, 1_000)).unwrap();
        put_progress(&mut doc, &r("hoi-phu-nu", 10, 2_000)).unwrap();
        put_progress(&mut doc, &r("mttq", 60, 3_000)).unwrap();
        let mut other = r("mttq", 5, 4_000);
        other.task_id = "t-2".into();
        put_progress(&mut doc, &other).unwrap();
        let h = progress_history(&doc, "t-1");
        let got: Vec<(&str, i64)> = h.iter().map(|r| (r.unit.as_str(), r.percent)).collect();
        assert_eq!(got, [("mttq", 20), ("hoi-phu-nu", 10), ("mttq", 60)]);
    }
}
