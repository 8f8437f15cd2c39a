//! Which document IDs exist in this deployment and what each one is.
//!
//! samod asks the share policy about a bare document ID; IDs are derived from (kind, scope, period)
//! (see `shared::ids`), so the server enumerates every ID it would accept — the org, each plan, each
//! commune's progress per plan and notes per quarter in a window of years — and maps it back. An ID
//! outside this map is refused for everyone, which is also what keeps junk documents off the server.

use crate::access::Scope;
use shared::{DocKey, DocumentId, Quarter};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::RwLock;

/// Notes are accepted for quarters from this many years back up to next year.
const YEARS_BACK: i32 = 6;

#[derive(Default)]
pub struct Registry {
    map: RwLock<HashMap<DocumentId, DocKey>>,
    listing: RwLock<Listing>,
}

/// What a device's document list is made of, kept in memory. Why not read the document index
/// each time: every phone asks for its durable heads every round (1.5 s), and a scan of the
/// province's whole index per request was a quarter of the server's CPU at 2,000 phones.
#[derive(Default)]
struct Listing {
    plans: Vec<String>,
    /// The documents stored so far, by commune (`None`: the org and the plans). Only grows, as
    /// the index does: a stored document is never removed.
    stored: BTreeMap<Option<String>, BTreeSet<DocKey>>,
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
            map.insert(k.doc_id(), k);
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
        for k in stored {
            add(k.clone());
        }
        // The map is replaced whole, so even a lock poisoned by a panic elsewhere holds a
        // consistent map: keep serving it.
        *self.map.write().unwrap_or_else(|p| p.into_inner()) = map;
        let mut listing = self.listing.write().unwrap_or_else(|p| p.into_inner());
        listing.plans = plans.to_vec();
        // Merged, not replaced: a document first stored while `stored` was being read is kept.
        for k in stored {
            listing.add(k);
        }
    }

    /// Record that `key` is stored (the read model indexed it), for [`Self::stored_in`].
    pub fn stored(&self, key: &DocKey) {
        let commune = key.commune().map(str::to_owned);
        let known = self
            .listing
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .stored
            .get(&commune)
            .is_some_and(|s| s.contains(key));
        if !known {
            self.listing
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .add(key);
        }
    }

    /// The stored documents of the communes in `scope`, and those of no commune (org, plans).
    pub fn stored_in(&self, scope: &Scope) -> Vec<DocKey> {
        let listing = self.listing.read().unwrap_or_else(|p| p.into_inner());
        let of = |c: Option<String>| listing.stored.get(&c).into_iter().flatten();
        let mut out: Vec<DocKey> = of(None).cloned().collect();
        match scope {
            Scope::All => out.extend(
                listing
                    .stored
                    .iter()
                    .filter(|(c, _)| c.is_some())
                    .flat_map(|(_, s)| s.iter().cloned()),
            ),
            Scope::Communes(communes) => {
                for c in communes.iter() {
                    out.extend(of(Some(c.clone())).cloned());
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
            .cloned()
    }
}

impl Listing {
    fn add(&mut self, key: &DocKey) {
        self.stored
            .entry(key.commune().map(str::to_owned))
            .or_default()
            .insert(key.clone());
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
        registry.stored(&new);
        // A rebuild after it (an org change) keeps what was stored meanwhile.
        registry.rebuild(
            &["xa-a".into(), "xa-b".into()],
            &["kh-18".into()],
            &[],
            2026,
        );

        let mut mine = registry.stored_in(&Scope::of(["xa-a".to_string()]));
        mine.sort();
        let mut want = vec![old.clone(), new.clone(), DocKey::plan("kh-18")];
        want.sort();
        assert_eq!(mine, want);
        assert_eq!(registry.stored_in(&Scope::All).len(), 4);
        assert!(
            !registry
                .stored_in(&Scope::of(["xa-b".to_string()]))
                .contains(&new)
        );
        assert_eq!(registry.plans(), vec!["kh-18".to_string()]);
    }
}
