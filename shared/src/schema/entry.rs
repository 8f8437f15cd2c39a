//! Entries of a document (notes, tasks, org nodes, progress records): read each from its map,
//! skip the ones that do not hydrate, and write them back field by field.

use super::scan::Scanned;
use super::{SchemaError, container, keys, write};
use crate::ids::DocKind;
use automerge::transaction::Transaction;
use automerge::{Automerge, ChangeHash, ObjId, ObjType, PatchAction, Prop, ROOT, Value};
use autosurgeon::{Hydrate, ReadDoc, Reconcile, hydrate_prop, reconcile_prop};
use std::collections::BTreeSet;

pub(crate) fn container_obj<D: ReadDoc>(doc: &D, kind: DocKind) -> Option<ObjId> {
    match doc.get(&ROOT, container(kind)).ok()?? {
        (Value::Object(ObjType::Map), id) => Some(id),
        _ => None,
    }
}

/// [`changed_keys`] from the changes themselves: each new change's operations name the objects
/// they touch, and an entry is the ancestor right under the container. The cost follows the new
/// changes, and it needs none of Automerge's diff machinery — which would add ~19 KB to the phone's
/// download, where this runs. `None` when only a full read can tell (as [`changed_keys`]).
pub fn changed_keys_by_ops(
    doc: &Automerge,
    kind: DocKind,
    before: &[ChangeHash],
) -> Option<BTreeSet<String>> {
    let c = readable_since(doc, kind, before)?;
    let container_id = c.to_string();
    let mut keys = BTreeSet::new();
    for change in doc.get_changes(before) {
        for op in change.decode().operations {
            let obj = op.obj.to_string();
            let key = match &op.key {
                automerge::legacy::Key::Map(k) => Some(k.to_string()),
                automerge::legacy::Key::Seq(_) => None,
            };
            if obj == "_root" {
                // The container replaced: everything may have changed.
                if key.as_deref() == Some(container(kind)) {
                    return None;
                }
                continue;
            }
            if obj == container_id {
                keys.extend(key);
                continue;
            }
            // Inside an entry (a field, a list of petitions…): the entry under the container.
            let (id, _) = doc.import(&obj).ok()?;
            let entry = automerge::ReadDoc::parents(doc, &id)
                .ok()?
                .find(|p| p.obj == c)
                .and_then(|p| match p.prop {
                    Prop::Map(k) => Some(k),
                    Prop::Seq(_) => None,
                });
            // (An object elsewhere in the document is not an entry of this kind.)
            keys.extend(entry);
        }
    }
    Some(keys)
}

/// `kind`'s container, if `doc` holds every change in `before` (else only a full read can tell
/// what changed since).
fn readable_since(doc: &Automerge, kind: DocKind, before: &[ChangeHash]) -> Option<ObjId> {
    if !before.iter().all(|h| crate::unsynced::has_change(doc, h)) {
        return None;
    }
    container_obj(doc, kind)
}

/// The keys of `kind`'s entries, without reading them (a reader that hydrates a large document
/// a slice at a time starts from these).
pub fn entry_keys(doc: &Automerge, kind: DocKind) -> Vec<String> {
    container_obj(doc, kind)
        .map(|c| automerge::ReadDoc::keys(doc, &c).collect())
        .unwrap_or_default()
}

/// An entry of a document: hydrated from its map, keyed by its ID.
pub trait Entry: Hydrate + Reconcile + Sized {
    const KIND: DocKind;
    fn entry_key(&self) -> String;
    /// Called after hydration with the map key (the ID is the key, whatever the entry says).
    fn set_key(&mut self, key: &str);
}

/// Every entry of `E`'s kind, with those that do not hydrate (wrong types, hostile writers) returned
/// apart with the reason: readers skip them, the server quarantines them.
pub fn read_entries<E: Entry, D: ReadDoc>(doc: &D) -> (Vec<E>, Vec<(String, String)>) {
    let Some(c) = container_obj(doc, E::KIND) else {
        return (
            Vec::new(),
            vec![(container(E::KIND).into(), "not a map".into())],
        );
    };
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for key in keys(doc, &c) {
        match hydrate_prop::<_, E, _, _>(&Scanned::new(doc), &c, key.as_str()) {
            Ok(mut e) => {
                e.set_key(&key);
                good.push(e);
            }
            Err(err) => bad.push((key, err.to_string())),
        }
    }
    (good, bad)
}

/// One entry by key, if it exists and hydrates.
pub fn read_entry<E: Entry, D: ReadDoc>(doc: &D, key: &str) -> Option<E> {
    read_entry_checked(doc, key)?.ok()
}

/// One entry by key: `None` if absent, else the entry or why it does not hydrate.
pub(crate) fn read_entry_checked<E: Entry, D: ReadDoc>(
    doc: &D,
    key: &str,
) -> Option<Result<E, String>> {
    let c = container_obj(doc, E::KIND)?;
    doc.get(&c, key).ok()??;
    Some(
        hydrate_prop::<_, E, _, _>(&Scanned::new(doc), &c, key)
            .map(|mut e| {
                e.set_key(key);
                e
            })
            .map_err(|err| err.to_string()),
    )
}

/// The keys of `kind`'s entries that changed between `before` and the document's current heads,
/// from Automerge's diff: the cost follows the changes, not the size of the document (a commune's
/// quarter of notes is not read again for one new note). `None` when only a full read can tell:
/// `before` names changes this document does not have, or the container itself was replaced.
pub fn changed_keys(
    doc: &Automerge,
    kind: DocKind,
    before: &[ChangeHash],
) -> Option<BTreeSet<String>> {
    let c = readable_since(doc, kind, before)?;
    let mut keys = BTreeSet::new();
    for p in doc.diff(before, &doc.get_heads()) {
        if p.obj == ROOT {
            match &p.action {
                PatchAction::PutMap { key, .. } | PatchAction::DeleteMap { key }
                    if key == container(kind) =>
                {
                    return None;
                }
                _ => continue,
            }
        }
        if p.obj == c {
            match &p.action {
                PatchAction::PutMap { key, .. } | PatchAction::DeleteMap { key } => {
                    keys.insert(key.clone());
                }
                PatchAction::Increment {
                    prop: Prop::Map(k), ..
                }
                | PatchAction::Conflict { prop: Prop::Map(k) } => {
                    keys.insert(k.clone());
                }
                _ => return None,
            }
        } else if let Some((_, Prop::Map(k))) = p.path.iter().find(|(o, _)| *o == c) {
            keys.insert(k.clone());
        }
    }
    Some(keys)
}

/// Write `entry` into its container as part of `tx`: field by field, so concurrent edits of other
/// fields or other entries merge, and keys this version does not know are left alone.
pub(crate) fn reconcile_entry<E: Entry>(
    tx: &mut Transaction<'_>,
    entry: &E,
) -> Result<ObjId, SchemaError> {
    let c = container_obj(tx, E::KIND).ok_or(SchemaError::NoContainer(container(E::KIND)))?;
    let key = entry.entry_key();
    reconcile_prop(tx, &c, key.as_str(), entry)?;
    match tx.get(&c, key.as_str())? {
        Some((Value::Object(ObjType::Map), id)) => Ok(id),
        _ => Err(SchemaError::NoContainer(container(E::KIND))),
    }
}

/// Write one entry as one change (upgrading the document first if it is older).
pub fn put_entry<E: Entry>(doc: &mut Automerge, entry: &E) -> Result<(), SchemaError> {
    write(doc, None, |tx| reconcile_entry(tx, entry).map(|_| ()))
}

/// Read an entry, change it with `f`, write back what changed. `None` if there is no such entry.
pub fn update_entry<E: Entry>(
    doc: &mut Automerge,
    key: &str,
    f: impl FnOnce(&mut E),
) -> Result<Option<E>, SchemaError> {
    let Some(mut e) = read_entry::<E, _>(doc, key) else {
        return Ok(None);
    };
    f(&mut e);
    put_entry(doc, &e)?;
    Ok(Some(e))
}
