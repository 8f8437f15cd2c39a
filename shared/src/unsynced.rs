//! How much of a document the server has not yet made durable: the changes not covered by the
//! server's durable heads, and when the oldest of them was made (the phone's "not yet safe" badge).

use crate::schema::{doc_key_of, genesis_actor};
use automerge::{Automerge, ChangeHash, ReadDoc};

/// What of a document the server has not made durable yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsynced {
    /// How many changes are not covered by the server's durable heads.
    pub changes: usize,
    /// When (Unix seconds, as recorded in each change) the oldest of them was made. Changes
    /// written without a time (an editor's plan or org edit) record 0 and are skipped.
    pub oldest: Option<i64>,
}

/// What of `doc` the server's durable heads do not cover, in one walk of the change graph.
///
/// Heads the device does not know yet (the server has changes we have not received) say nothing about
/// our changes and are ignored. The genesis change carries no user data and is never counted.
pub fn unsynced(doc: &Automerge, durable_heads: &[ChangeHash]) -> Unsynced {
    let times = unsynced_times(doc, durable_heads);
    Unsynced {
        changes: times.len(),
        oldest: times.into_iter().filter(|t| *t > 0).min(),
    }
}

/// How many changes of `doc` are not yet covered by the server's durable heads (see [`unsynced`]).
pub fn unsynced_changes(doc: &Automerge, durable_heads: &[ChangeHash]) -> usize {
    unsynced(doc, durable_heads).changes
}

/// Whether `doc` holds the change `hash`. Why not `get_change_by_hash(..).is_some()`: Automerge 0.12
/// rebuilds the whole change from its op set to answer that (42 % of a phone's CPU in the sync
/// bench went there), and even the metadata lookup scans the document's columns.
/// `get_missing_deps` omits applied and queued changes alike, so it answers exactly when nothing
/// is queued (changes waiting for a dependency: rare, and then the metadata decides).
pub fn has_change(doc: &Automerge, hash: &ChangeHash) -> bool {
    if doc.get_missing_deps(&[]).is_empty() {
        doc.get_missing_deps(std::slice::from_ref(hash)).is_empty()
    } else {
        doc.get_change_meta_by_hash(hash).is_some()
    }
}

/// The times of the changes [`unsynced`] counts.
fn unsynced_times(doc: &Automerge, durable_heads: &[ChangeHash]) -> Vec<i64> {
    let known: Vec<ChangeHash> = durable_heads
        .iter()
        .copied()
        .filter(|h| has_change(doc, h))
        .collect();
    let genesis = doc_key_of(doc).map(|k| genesis_actor(&k));
    doc.get_changes_meta(&known)
        .iter()
        .filter(|c| Some(&*c.actor) != genesis.as_ref())
        .map(|c| c.timestamp)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{DocKey, Quarter};
    use crate::schema::tests::note;
    use crate::schema::{genesis_doc, put_note};
    use automerge::ActorId;

    #[test]
    fn unsynced_counts_changes_not_covered_by_durable_heads() {
        let key = DocKey::notes("xa-ka-don", Quarter { year: 2026, q: 4 });
        let mut doc = genesis_doc(&key)
            .unwrap()
            .with_actor(ActorId::from(&[2u8; 16][..]));
        assert_eq!(unsynced_changes(&doc, &[]), 0);
        put_note(&mut doc, &note("01A", "a")).unwrap();
        let durable = doc.get_heads();
        put_note(&mut doc, &note("01B", "b")).unwrap();
        put_note(&mut doc, &note("01C", "c")).unwrap();
        assert_eq!(unsynced_changes(&doc, &[]), 3);
        assert_eq!(unsynced_changes(&doc, &durable), 2);
        assert_eq!(unsynced_changes(&doc, &doc.get_heads()), 0);
        let unknown = ChangeHash([7; 32]);
        assert_eq!(unsynced_changes(&doc, &[unknown]), 3);
    }
}
