//! A document read through a memo of whole map objects, for reading many fields: autosurgeon asks
//! for an entry's fields one `get` at a time, and each `get` seeks through Automerge's columns,
//! while one pass over a map's operations answers all of them (a quarter's 2,000 notes read ~18×
//! faster).

use automerge::{self as am, AutomergeError, ObjId, Value};
use autosurgeon::ReadDoc;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ops::RangeBounds;

/// What is known of one map object: asked once (answered by Automerge), or read whole.
enum Memo {
    Once,
    Whole(HashMap<String, (Value<'static>, ObjId)>),
}

/// `doc` with the maps it is asked about more than once read whole, in one pass, on the second
/// `get` (a container asked for one entry is not read whole for it). Lists and text go straight
/// to `doc`. Meant to live for one read: it never sees later changes.
pub(crate) struct Scanned<'a, D> {
    doc: &'a D,
    maps: RefCell<HashMap<ObjId, Memo>>,
}

impl<'a, D: ReadDoc> Scanned<'a, D> {
    pub(crate) fn new(doc: &'a D) -> Self {
        Scanned {
            doc,
            maps: RefCell::default(),
        }
    }
}

impl<D: ReadDoc> ReadDoc for Scanned<'_, D> {
    type Parents<'b>
        = D::Parents<'b>
    where
        Self: 'b;

    fn get_heads(&self) -> Vec<am::ChangeHash> {
        self.doc.get_heads()
    }

    fn get<P: Into<am::Prop>>(
        &self,
        obj: &ObjId,
        prop: P,
    ) -> Result<Option<(Value<'_>, ObjId)>, AutomergeError> {
        let key = match prop.into() {
            am::Prop::Map(key) => key,
            seq => return self.doc.get(obj, seq),
        };
        let mut maps = self.maps.borrow_mut();
        match maps.get(obj) {
            Some(Memo::Whole(m)) => return Ok(m.get(&key).cloned()),
            Some(Memo::Once) => {}
            None => {
                maps.insert(obj.clone(), Memo::Once);
                return self.doc.get(obj, key);
            }
        }
        // Only a map answers `map_range`; anything else is left to Automerge, which says why.
        if self.doc.object_type(obj) != Some(am::ObjType::Map) {
            return self.doc.get(obj, key);
        }
        let whole: HashMap<_, _> = self
            .doc
            .map_range(obj, ..)
            .map(|item| {
                let id = item.id();
                (item.key.into_owned(), (Value::from(item.value), id))
            })
            .collect();
        let found = whole.get(&key).cloned();
        maps.insert(obj.clone(), Memo::Whole(whole));
        Ok(found)
    }

    fn object_type<O: AsRef<ObjId>>(&self, obj: O) -> Option<am::ObjType> {
        self.doc.object_type(obj)
    }

    fn map_range<'b, O, R>(&'b self, obj: O, range: R) -> am::iter::MapRange<'b>
    where
        R: RangeBounds<String> + 'b,
        O: AsRef<ObjId>,
        R: RangeBounds<String>,
    {
        self.doc.map_range(obj, range)
    }

    fn list_range<O: AsRef<ObjId>, R: RangeBounds<usize>>(
        &self,
        obj: O,
        range: R,
    ) -> am::iter::ListRange<'_> {
        self.doc.list_range(obj, range)
    }

    fn length<O: AsRef<ObjId>>(&self, obj: O) -> usize {
        self.doc.length(obj)
    }

    fn text<O: AsRef<ObjId>>(&self, obj: O) -> Result<String, AutomergeError> {
        self.doc.text(obj)
    }

    fn parents<O: AsRef<ObjId>>(&self, obj: O) -> Result<Self::Parents<'_>, AutomergeError> {
        self.doc.parents(obj)
    }

    fn is_empty(&self) -> bool {
        self.doc.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use am::{ActorId, Automerge, ROOT, transaction::Transactable};

    /// Every `get` through the memo answers what Automerge answers: conflicts (the same winner),
    /// nested maps and lists, missing keys, and a key asked before and after the map is read whole.
    #[test]
    fn answers_as_automerge_does() {
        let mut a = Automerge::new().with_actor(ActorId::from(&[1u8; 16][..]));
        let mut tx = a.transaction();
        let m = tx.put_object(ROOT, "m", am::ObjType::Map).unwrap();
        tx.put(&m, "title", "one").unwrap();
        tx.put(&m, "n", 3).unwrap();
        let list = tx.put_object(&m, "list", am::ObjType::List).unwrap();
        tx.insert(&list, 0, "x").unwrap();
        tx.commit();
        let mut b = a.fork().with_actor(ActorId::from(&[2u8; 16][..]));
        let mut tx = a.transaction();
        tx.put(&m, "title", "from a").unwrap();
        tx.commit();
        let mut tx = b.transaction();
        tx.put(&m, "title", "from b").unwrap();
        tx.commit();
        a.merge(&mut b).unwrap();
        let s = Scanned::new(&a);
        for key in [
            "title", "n", "list", "missing", "title", "n", "list", "missing",
        ] {
            let direct = am::ReadDoc::get(&a, &m, key).unwrap();
            let memo = ReadDoc::get(&s, &m, key).unwrap();
            assert_eq!(
                memo.map(|(v, id)| (v.to_owned(), id)),
                direct.map(|(v, id)| (v.to_owned(), id)),
                "{key}"
            );
        }
        assert_eq!(
            ReadDoc::get(&s, &list, 0usize)
                .unwrap()
                .map(|(v, _)| v.to_owned()),
            Some(Value::from("x"))
        );
    }
}
