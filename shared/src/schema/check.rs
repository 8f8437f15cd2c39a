//! Quarantine checks: the entries of a document that break the schema, with the reason (English,
//! for administrators).

use super::entry::{Entry, read_entries};
use super::note::{Note, validate_note};
use super::org::OrgNode;
use super::plan::Task;
use super::progress::{ProgressRecord, progress_invalid};
use crate::ids::DocKind;
use automerge::Automerge;

/// Entries of a document that break the schema, with the reason (English, for administrators). The
/// server quarantines them: kept in the document, flagged, left out of every count.
pub fn check(doc: &Automerge, kind: DocKind) -> Vec<(String, String)> {
    match kind {
        DocKind::Notes => check_kind::<Note>(doc, |n| {
            (!n.deleted)
                .then(|| validate_note(n).err())
                .flatten()
                .map(|r| format!("invalid note: {r}"))
        }),
        DocKind::Plan => check_kind::<Task>(doc, |t| {
            let wrong_deadline = t
                .deadline
                .as_deref()
                .is_some_and(|d| crate::ids::parse_iso_date(d).is_none());
            let wrong_recurrence = t.recurrence.as_ref().is_some_and(|r| !r.is_well_formed());
            (wrong_deadline || wrong_recurrence || t.number.chars().count() > 32)
                .then(|| "invalid task: deadline, recurrence or number".into())
        }),
        DocKind::Progress => check_kind::<ProgressRecord>(doc, |r| {
            progress_invalid(r).then(|| "invalid progress: percent, task or unit".into())
        }),
        DocKind::Org => check_kind::<OrgNode>(doc, |n| {
            (!n.level.is_well_formed() || n.name.trim().is_empty())
                .then(|| "invalid org node: level or name".into())
        }),
    }
}

/// Entries of `E` that do not hydrate, have an over-long key, or fail `invalid`.
fn check_kind<E: Entry>(
    doc: &Automerge,
    invalid: impl Fn(&E) -> Option<String>,
) -> Vec<(String, String)> {
    let (good, mut bad) = read_entries::<E, _>(doc);
    for e in &good {
        let key = e.entry_key();
        if key.chars().count() > 64 {
            bad.push((key, "id longer than 64 characters".into()));
        } else if let Some(reason) = invalid(e) {
            bad.push((key, reason));
        }
    }
    bad
}
