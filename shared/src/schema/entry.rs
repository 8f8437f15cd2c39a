//! Entries of a document (notes, tasks, org nodes, progress records): read each from its map,
//! skip the ones that do not hydrate, and write them back field by field.

use super::{SchemaError, container, keys, write};
use crate::ids::DocKind;
use automerge::transaction::Transaction;
use automerge::{Automerge, ObjId, ObjType, ROOT, Value};
use autosurgeon::{Hydrate, ReadDoc, Reconcile, hydrate_prop, reconcile_prop};

pub(crate) fn container_obj<D: ReadDoc>(doc: &D, kind: DocKind) -> Option<ObjId> {
    match doc.get(&ROOT, container(kind)).ok()?? {
        (Value::Object(ObjType::Map), id) => Some(id),
        _ => None,
    }
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
        match hydrate_prop::<_, E, _, _>(doc, &c, key.as_str()) {
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
    let c = container_obj(doc, E::KIND)?;
    doc.get(&c, key).ok()??;
    let mut e: E = hydrate_prop(doc, &c, key).ok()?;
    e.set_key(key);
    Some(e)
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
