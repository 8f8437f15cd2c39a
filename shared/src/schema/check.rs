//! Quarantine checks: the entries of a document that break the schema, with the reason (English,
//! for administrators).

use super::entry::{Entry, read_entries, read_entry_checked};
use super::note::{Note, validate_note};
use super::org::OrgNode;
use super::plan::Task;
use super::progress::{ProgressRecord, progress_invalid};
use crate::ids::DocKind;
use automerge::Automerge;
use std::collections::BTreeSet;

/// Entries of a document that break the schema, with the reason (English, for administrators). The
/// server quarantines them: kept in the document, flagged, left out of every count.
pub fn check(doc: &Automerge, kind: DocKind) -> Vec<(String, String)> {
    check_in(doc, kind, None)
}

/// [`check`] for only the entries named by `keys` (those a change touched; absent ones are fine).
pub fn check_keys(
    doc: &Automerge,
    kind: DocKind,
    keys: &BTreeSet<String>,
) -> Vec<(String, String)> {
    check_in(doc, kind, Some(keys))
}

fn check_in(
    doc: &Automerge,
    kind: DocKind,
    keys: Option<&BTreeSet<String>>,
) -> Vec<(String, String)> {
    match kind {
        DocKind::Notes => check_kind::<Note>(
            doc,
            |n| {
                (!n.deleted)
                    .then(|| validate_note(n).err())
                    .flatten()
                    .map(|r| format!("invalid note: {r}"))
            },
            keys,
        ),
        DocKind::Plan => check_kind::<Task>(
            doc,
            |t| {
                let wrong_deadline = t
                    .deadline
                    .as_deref()
                    .is_some_and(|d| crate::ids::parse_iso_date(d).is_none());
                let wrong_recurrence = t.recurrence.as_ref().is_some_and(|r| !r.is_well_formed());
                (wrong_deadline || wrong_recurrence || t.number.chars().count() > 32)
                    .then(|| "invalid task: deadline, recurrence or number".into())
            },
            keys,
        ),
        DocKind::Progress => check_kind::<ProgressRecord>(
            doc,
            |r| progress_invalid(r).then(|| "invalid progress: percent, task or unit".into()),
            keys,
        ),
        DocKind::Org => check_kind::<OrgNode>(
            doc,
            |n| {
                (!n.level.is_well_formed() || n.name.trim().is_empty())
                    .then(|| "invalid org node: level or name".into())
            },
            keys,
        ),
    }
}

/// Entries of `E` (all, or those named by `keys`) that do not hydrate, have an over-long key, or
/// fail `invalid`.
fn check_kind<E: Entry>(
    doc: &Automerge,
    invalid: impl Fn(&E) -> Option<String>,
    keys: Option<&BTreeSet<String>>,
) -> Vec<(String, String)> {
    let (good, mut bad) = match keys {
        None => read_entries::<E, _>(doc),
        Some(keys) => {
            let (mut good, mut bad) = (Vec::new(), Vec::new());
            for k in keys {
                match read_entry_checked::<E, _>(doc, k) {
                    Some(Ok(e)) => good.push(e),
                    Some(Err(reason)) => bad.push((k.clone(), reason)),
                    None => {}
                }
            }
            (good, bad)
        }
    };
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
