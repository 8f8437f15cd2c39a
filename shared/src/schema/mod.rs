//! The Automerge layout of our documents, read and written through autosurgeon types, and its
//! versioning (the `schema` field at each document's root).
//!
//! Every document starts with a *genesis* change derived only from its [`DocKey`]: fixed actor, fixed
//! time, fixed operations. Two devices that create the same document independently (a phone offline on
//! the first day of a quarter, and the server) therefore produce the byte-identical change, which
//! Automerge deduplicates, instead of two competing `notes` maps of which only one would survive.
//! Because of that the genesis is frozen forever at schema version 1: a newer version is reached by
//! the first write of a newer app, which upgrades the document *in the same change* (see [`upgrade`]).
//!
//! Versioning rules (DESIGN §5: forward-only, tolerant):
//! - readers accept every older layout (a version-1 note's `task_id` reads as `task_ids`);
//! - writers reconcile entries field by field and never delete a key they do not know, so fields a
//!   newer app wrote survive a round trip through an older one;
//! - nobody lowers `schema`, and migrations only add keys inside existing entries (never a new
//!   container: two replicas migrating concurrently would create two containers, and one would lose).
//!
//! Version history: 1 = the foundation (notes with one `task_id`, tasks with number/title/text/order
//! as a string/deadline); 2 = notes with every field of DESIGN §4 and `task_ids`, tasks with
//! assignments, target communes, recurrence and indicators, units in the org tree, the plan header.

mod check;
mod entry;
mod hydrate;
mod note;
mod org;
mod plan;
mod progress;
mod scan;

pub use check::{check, check_keys};
pub use entry::{
    Entry, changed_keys, changed_keys_by_ops, entry_keys, put_entry, read_entries, read_entry,
    update_entry,
};
pub use note::{Gps, Note, Participants, Petition, put_note, read_note, read_notes, validate_note};
pub use org::{OrgNode, UNIT_KINDS, put_org_node, read_org};
pub use plan::{
    Basis, Indicator, PlanHeader, Task, put_plan_header, put_task, read_plan_header, read_tasks,
    set_task_deadline,
};
pub use progress::{ProgressRecord, progress_history, put_progress, read_progress};

use crate::ids::{DocKey, DocKind};
use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{ActorId, Automerge, AutomergeError, ObjId, ObjType, ROOT, Value};
use autosurgeon::{ReadDoc, reconcile_prop};
use sha2::{Digest, Sha256};

/// The version this code writes.
pub const SCHEMA_VERSION: u64 = 2;
/// The version in every genesis change (frozen: see the module comment).
const GENESIS_SCHEMA: u64 = 1;

/// Boxed: automerge's and autosurgeon's errors are large, and these travel through every write.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(transparent)]
    Automerge(Box<AutomergeError>),
    #[error("reconcile: {0}")]
    Reconcile(Box<autosurgeon::ReconcileError>),
    #[error("the document has no `{0}` map (not one of ours, or no genesis yet)")]
    NoContainer(&'static str),
}

impl From<AutomergeError> for SchemaError {
    fn from(e: AutomergeError) -> Self {
        SchemaError::Automerge(Box::new(e))
    }
}

impl From<autosurgeon::ReconcileError> for SchemaError {
    fn from(e: autosurgeon::ReconcileError) -> Self {
        SchemaError::Reconcile(Box::new(e))
    }
}

/// The map under the document root that holds a kind's entries.
pub fn container(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Org => "nodes",
        DocKind::Plan => "tasks",
        DocKind::Progress => "records",
        DocKind::Notes => "notes",
    }
}

/// The actor of a document's genesis change (not a device: nobody else ever writes as this actor).
pub fn genesis_actor(key: &DocKey) -> ActorId {
    let digest = Sha256::digest(format!("danvan/genesis/{}", key.doc_id()).as_bytes());
    ActorId::from(&digest[..16])
}

/// Apply the genesis change to `doc` unless it is already there. Idempotent, and commutes with sync.
pub fn ensure_genesis(doc: &mut Automerge, key: &DocKey) -> Result<(), AutomergeError> {
    let g = genesis_doc(key)?;
    let changes: Vec<_> = g.get_changes(&[]).into_iter().collect();
    doc.apply_changes(changes)
}

/// A fresh document holding only the genesis change.
pub fn genesis_doc(key: &DocKey) -> Result<Automerge, AutomergeError> {
    let mut g = Automerge::new().with_actor(genesis_actor(key));
    g.transact_with::<_, _, AutomergeError, _>(
        |_| CommitOptions::default().with_time(0),
        |tx| {
            tx.put(ROOT, "schema", GENESIS_SCHEMA)?;
            tx.put(ROOT, "kind", key.kind.as_str())?;
            tx.put(ROOT, "scope", key.scope.as_str())?;
            tx.put(ROOT, "period", key.period.as_str())?;
            tx.put_object(ROOT, container(key.kind), ObjType::Map)?;
            Ok(())
        },
    )
    .map_err(|f| f.error)?;
    Ok(g)
}

/// The [`DocKey`] a document claims to be, from its root fields (validated against its ID by callers).
pub fn doc_key_of(doc: &Automerge) -> Option<DocKey> {
    let kind = DocKind::parse(&get_str(doc, &ROOT, "kind")?)?;
    Some(DocKey {
        kind,
        scope: get_str(doc, &ROOT, "scope")?,
        period: get_str(doc, &ROOT, "period").unwrap_or_default(),
    })
}

/// The schema version a document is at (0 if it has none: not one of ours).
pub fn doc_schema<D: ReadDoc>(doc: &D) -> u64 {
    hydrate::int(doc, &ROOT, "schema".into())
        .ok()
        .and_then(|v| u64::try_from(v).ok())
        .unwrap_or(0)
}

/// Bring the document to [`SCHEMA_VERSION`] inside `tx` (the caller's change), if it is older.
/// Idempotent, and safe when two replicas do it concurrently: both write the same values.
pub fn upgrade(tx: &mut Transaction<'_>) -> Result<(), SchemaError> {
    let from = doc_schema(tx);
    if from >= SCHEMA_VERSION || from == 0 {
        return Ok(());
    }
    if from < 2 {
        // 1 → 2: a note's single `task_id` becomes the list `task_ids` (the old key stays, for
        // version-1 apps); nothing else changes shape: new fields are optional.
        if let Some((Value::Object(ObjType::Map), notes)) = tx.get(&ROOT, "notes")? {
            for k in keys(tx, &notes) {
                let Some((Value::Object(ObjType::Map), n)) = tx.get(&notes, k.as_str())? else {
                    continue;
                };
                if tx.get(&n, "task_ids")?.is_none() {
                    let old = hydrate::opt_text(tx, &n, "task_id".into()).ok().flatten();
                    reconcile_prop(tx, &n, "task_ids", old.into_iter().collect::<Vec<_>>())?;
                }
            }
        }
    }
    tx.put(ROOT, "schema", SCHEMA_VERSION)?;
    Ok(())
}

/// Upgrade a document on its own (one change, or none if it is current). Returns whether it changed.
pub fn migrate(doc: &mut Automerge) -> Result<bool, SchemaError> {
    let from = doc_schema(doc);
    if from >= SCHEMA_VERSION || from == 0 {
        return Ok(false);
    }
    write(doc, None, upgrade)?;
    Ok(true)
}

/// One change: upgrade, then `f`. `time` (Unix seconds) is recorded in the change when given.
pub(crate) fn write<T>(
    doc: &mut Automerge,
    time: Option<i64>,
    f: impl FnOnce(&mut Transaction<'_>) -> Result<T, SchemaError>,
) -> Result<T, SchemaError> {
    doc.transact_with::<_, _, SchemaError, _>(
        |_| match time {
            Some(t) => CommitOptions::default().with_time(t),
            None => CommitOptions::default(),
        },
        |tx| {
            upgrade(tx)?;
            f(tx)
        },
    )
    .map(|s| s.result)
    .map_err(|f| f.error)
}

/// A string field, whether stored as a plain string (our writers) or as a text object (automerge JS 3
/// turns plain JS strings into collaborative text by default).
pub fn get_str(doc: &Automerge, obj: &ObjId, key: &str) -> Option<String> {
    hydrate::opt_text(doc, obj, key.into()).ok().flatten()
}

pub(crate) fn keys<D: ReadDoc>(doc: &D, obj: &ObjId) -> Vec<String> {
    doc.map_range(obj, ..).map(|i| i.key.into_owned()).collect()
}

/// Set one string field at the document root (used by tests that play hostile clients).
pub fn put_root_str(doc: &mut Automerge, key: &str, value: &str) -> Result<(), SchemaError> {
    write(doc, None, |tx| Ok(tx.put(ROOT, key, value)?))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ids::Quarter;
    use automerge::ActorId;

    pub(crate) fn note(id: &str, title: &str) -> Note {
        Note {
            id: id.into(),
            activity_date: "2026-11-20".into(),
            title: title.into(),
            content: "Họp dân ở bon Đạ Tông".into(),
            task_ids: vec!["t-2-4".into()],
            author: "kadon".into(),
            created_at: 1_795_700_000_000,
            ..Note::default()
        }
    }

    #[test]
    fn independent_genesis_merges_into_one_notes_map() {
        let key = DocKey::notes("xa-ka-don", Quarter { year: 2026, q: 4 });
        let mut phone = genesis_doc(&key)
            .unwrap()
            .with_actor(ActorId::from(&[1u8; 16][..]));
        let mut server = Automerge::new();
        ensure_genesis(&mut server, &key).unwrap();
        ensure_genesis(&mut server, &key).unwrap();
        put_note(&mut phone, &note("01A", "Họp bon")).unwrap();
        server.merge(&mut phone.clone()).unwrap();
        assert_eq!(read_notes(&server), vec![note("01A", "Họp bon")]);
        assert_eq!(doc_key_of(&server), Some(key));
        assert_eq!(server.get_heads(), phone.get_heads());
        assert_eq!(doc_schema(&server), SCHEMA_VERSION);
    }
}
