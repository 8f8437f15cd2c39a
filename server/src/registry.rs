//! Which document IDs exist in this deployment and what each one is.
//!
//! samod asks the share policy about a bare document ID; IDs are derived from (kind, scope, period)
//! (see `shared::ids`), so the server enumerates every ID it would accept — the org, each plan, each
//! commune's progress per plan and notes per quarter in a window of years — and maps it back. An ID
//! outside this map is refused for everyone, which is also what keeps junk documents off the server.

use shared::{DocKey, DocumentId, Quarter};
use std::collections::HashMap;
use std::sync::RwLock;

/// Notes are accepted for quarters from this many years back up to next year.
const YEARS_BACK: i32 = 6;

#[derive(Default)]
pub struct Registry {
    map: RwLock<HashMap<DocumentId, DocKey>>,
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
    }

    pub fn get(&self, id: &DocumentId) -> Option<DocKey> {
        self.map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }
}
