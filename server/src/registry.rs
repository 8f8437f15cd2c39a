//! Which document IDs exist in this deployment and what each one is.
//!
//! samod asks the share policy about a bare document ID; IDs are derived from (kind, scope, period)
//! (see `shared::ids`), so the server enumerates every ID it would accept — the org, each plan, each
//! commune's progress per plan and notes per quarter in a window of years — and maps it back. An ID
//! outside this map is refused for everyone, which is also what keeps junk documents off the server.

use crate::access::Scope;
use shared::{DocKey, DocumentId, Quarter};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

/// Notes are accepted for quarters from this many years back up to next year.
const YEARS_BACK: i32 = 6;

#[derive(Default)]
pub struct Registry {
    /// Shared (`Arc`) with the listing, so that recording a stored document allocates nothing.
    map: RwLock<HashMap<DocumentId, Arc<DocKey>>>,
    listing: RwLock<Listing>,
}

/// What a device's document list is made of, kept in memory. Why not read the document index
/// each time: every phone asks for its durable heads every round (1.5 s), and a scan of the
/// province's whole index per request was a quarter of the server's CPU at 2,000 phones.
#[derive(Default)]
struct Listing {
    plans: Vec<String>,
    /// The documents stored so far, by commune (`None`: the org and the plans), each list sorted.
    /// Only grows, as the index does: a stored document is never removed.
    ///
    /// Why `Arc`s from the map in one list per commune, made at the rebuild, and not a set of
    /// owned keys: this grows while documents are loaded, and glibc puts small blocks made then
    /// between the documents' memory. Two small strings per document touched, kept for good,
    /// held a page of the freed documents each: a soak touching 10,000 documents left the quiet
    /// server at 4.3× its idle RSS, 1.8× without them (docs/benchmarks.md).
    stored: BTreeMap<Option<String>, Vec<Arc<DocKey>>>,
}

impl Registry {
    /// Every ID derived from the live communes and plans, plus the documents already `stored`.
    pub fn rebuild(
        &self,
        communes: &[String],
        plans: &[String],
        stored: &[DocKey],
        this_year: i32,
    ) {
        let mut map = HashMap::new();
        let mut add = |k: DocKey| {
            map.insert(k.doc_id(), Arc::new(k));
        };
        add(DocKey::org());
        for p in plans {
            add(DocKey::plan(p));
            for c in communes {
                add(DocKey::progress(p, c));
            }
        }
        for c in communes {
            for year in this_year - YEARS_BACK..=this_year + 1 {
                for q in 1..=4 {
                    add(DocKey::notes(c, Quarter { year, q }));
                }
            }
        }
        let mut listing = self.listing.write().unwrap_or_else(|p| p.into_inner());
        listing.plans = plans.to_vec();
        // Merged, not replaced: a document first stored while `stored` was being read is kept.
        for k in stored {
            let k = Arc::new(k.clone());
            map.insert(k.doc_id(), Arc::clone(&k));
            listing.add(k);
        }
        // Each commune's list is made now, with room for its notes of the whole window, so the
        // documents of a busy hour add to it without allocating.
        let quarters = 4 * (YEARS_BACK as usize + 2) + plans.len();
        for c in communes {
            let list = listing.stored.entry(Some(c.clone())).or_default();
            list.reserve(quarters.saturating_sub(list.len()));
        }
        // The map is replaced whole, so even a lock poisoned by a panic elsewhere holds a
        // consistent map: keep serving it.
        *self.map.write().unwrap_or_else(|p| p.into_inner()) = map;
    }

    /// Record that `key` (document `id`) is stored (the read model indexed it), for
    /// [`Self::stored_in`].
    pub fn stored(&self, id: &DocumentId, key: &DocKey) {
        let known = self
            .listing
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(key);
        if known {
            return;
        }
        let shared = self
            .map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
            .unwrap_or_else(|| Arc::new(key.clone()));
        self.listing
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .add(shared);
    }

    /// The stored documents of the communes in `scope`, and those of no commune (org, plans).
    pub fn stored_in(&self, scope: &Scope) -> Vec<DocKey> {
        let listing = self.listing.read().unwrap_or_else(|p| p.into_inner());
        let of = |c: Option<String>| listing.stored.get(&c).into_iter().flatten();
        let mut out: Vec<DocKey> = of(None).map(|k| (**k).clone()).collect();
        match scope {
            Scope::All => out.extend(
                listing
                    .stored
                    .iter()
                    .filter(|(c, _)| c.is_some())
                    .flat_map(|(_, s)| s.iter().map(|k| (**k).clone())),
            ),
            Scope::Communes(communes) => {
                for c in communes.iter() {
                    out.extend(of(Some(c.clone())).map(|k| (**k).clone()));
                }
            }
        }
        out
    }

    /// The plans, as of the last rebuild.
    pub fn plans(&self) -> Vec<String> {
        self.listing
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .plans
            .clone()
    }

    pub fn get(&self, id: &DocumentId) -> Option<DocKey> {
        self.map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .map(|k| (**k).clone())
    }
}

impl Listing {
    fn contains(&self, key: &DocKey) -> bool {
        self.stored
            .get(&key.commune().map(str::to_owned))
            .is_some_and(|l| l.binary_search_by(|k| (**k).cmp(key)).is_ok())
    }

    fn add(&mut self, key: Arc<DocKey>) {
        let list = self
            .stored
            .entry(key.commune().map(str::to_owned))
            .or_default();
        if let Err(at) = list.binary_search_by(|k| (**k).cmp(&key)) {
            list.insert(at, key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A commune's list holds its own stored documents (those stored after the last rebuild too)
    /// and the org's and plans', never another commune's; the top of the tree sees them all.
    #[test]
    fn stored_documents_are_listed_by_commune() {
        let q = |q| Quarter { year: 2026, q };
        let registry = Registry::default();
        let old = DocKey::notes("xa-a", q(1));
        let theirs = DocKey::notes("xa-b", q(1));
        registry.rebuild(
            &["xa-a".into(), "xa-b".into()],
            &["kh-18".into()],
            &[old.clone(), theirs.clone(), DocKey::plan("kh-18")],
            2026,
        );
        let new = DocKey::progress("kh-18", "xa-a");
        registry.stored(&new.doc_id(), &new);
        // Indexed again at each commit: listed once.
        registry.stored(&new.doc_id(), &new);
        // Older than the window of IDs the registry derives: listed all the same.
        let ancient = DocKey::notes("xa-a", Quarter { year: 2001, q: 2 });
        registry.stored(&ancient.doc_id(), &ancient);
        // A rebuild after it (an org change) keeps what was stored meanwhile.
        registry.rebuild(
            &["xa-a".into(), "xa-b".into()],
            &["kh-18".into()],
            &[],
            2026,
        );

        let mut mine = registry.stored_in(&Scope::of(["xa-a".to_string()]));
        mine.sort();
        let mut want = vec![old.clone(), new.clone(), ancient, DocKey::plan("kh-18")];
        want.sort();
        assert_eq!(mine, want);
        assert_eq!(registry.stored_in(&Scope::All).len(), 5);
        assert!(
            !registry
                .stored_in(&Scope::of(["xa-b".to_string()]))
                .contains(&new)
        );
        assert_eq!(registry.plans(), vec!["kh-18".to_string()]);
    }
}
