//! What the screens show, rebuilt from the documents: notes, plans and their tasks, the org tree,
//! progress, and the count of this device's changes the server has not yet made durable.

use super::with;
use crate::common::state::{ListedNote, PlanView};
use leptos::prelude::{GetUntracked, Set};
use shared::schema;
use shared::unsynced::unsynced;
use shared::{DocKey, DocKind, DocumentId};
use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;
use std::sync::Arc;

/// A document as the screens use it.
#[derive(Clone)]
pub(super) enum Parsed {
    /// By entry key, so a change re-reads only the notes it touched (shared with the cache: the
    /// map is copied once per refresh, into the list the screens get).
    Notes(Rc<BTreeMap<String, Arc<ListedNote>>>),
    Plan(Box<schema::PlanHeader>, Vec<schema::Task>),
    Org(Vec<schema::OrgNode>),
    Progress(Vec<schema::ProgressRecord>),
}

/// After this device changed `entries` of a notes document whose screens' copy was read at
/// `before`: read just those entries again and date the copy to the new heads. (If the copy is
/// older than `before`, the next refresh compares the document instead.)
pub(super) fn notes_touched(
    d: &mut super::Driver,
    id: &DocumentId,
    before: &[automerge::ChangeHash],
    entries: &[String],
) {
    let Some(doc) = d.client.doc(id) else {
        return;
    };
    let Some((heads, Parsed::Notes(notes))) = d.parsed.get_mut(id) else {
        return;
    };
    if heads.as_slice() != before {
        return;
    }
    let notes = Rc::make_mut(notes);
    for k in entries {
        match schema::read_note(doc, k) {
            Some(n) => notes.insert(k.clone(), Arc::new(ListedNote::new(n))),
            None => notes.remove(k),
        };
    }
    *heads = doc.get_heads();
}

/// Notes read per slice when a notes document is read whole: ~25 notes take ~50 ms on a slow
/// phone, so input is handled between slices.
const SLICE: usize = 25;
/// While a notes document is read whole, what has been read is shown every this many notes.
const SHOW_EVERY: usize = 200;

/// Read a notes document in the background, a slice of notes at a time with the browser free to
/// draw and answer taps in between (a busy quarter's 2,000 notes take seconds on a cheap phone;
/// the first screen does not wait for them), then show them. Newest keys first (note IDs start
/// with their creation time), and shown as they come, so the top of the list appears at once.
async fn hydrate_notes(id: DocumentId) {
    let start = with(|d| {
        let doc = d.client.doc(&id)?;
        Some((doc.get_heads(), schema::entry_keys(doc, DocKind::Notes)))
    })
    .flatten();
    let Some((heads, keys)) = start else {
        with(|d| d.hydrating.remove(&id));
        return;
    };
    let mut notes = BTreeMap::new();
    let mut heads = heads;
    let read = |doc: &automerge::Automerge, k: &String, notes: &mut BTreeMap<_, _>| {
        match schema::read_note(doc, k) {
            Some(n) => notes.insert(k.clone(), Arc::new(ListedNote::new(n))),
            None => notes.remove(k),
        };
    };
    for (i, slice) in keys.rchunks(SLICE).enumerate() {
        with(|d| {
            let Some(doc) = d.client.doc(&id) else {
                return;
            };
            for k in slice {
                read(doc, k, &mut notes);
            }
            // A note saved (or synced) meanwhile is read now and shown at once: the user who
            // saved it is looking at the list for it.
            let mut show = (i + 1) % (SHOW_EVERY / SLICE) == 0;
            let now = doc.get_heads();
            if now != heads
                && let Some(changed) = schema::changed_keys_by_ops(doc, DocKind::Notes, &heads)
            {
                for k in &changed {
                    read(doc, k, &mut notes);
                }
                heads = now;
                show = true;
            }
            if show {
                show_partly_read(d, &id, &notes);
            }
        });
        crate::js::dom::sleep(0).await;
    }
    // Dated to the heads last caught up with: anything that changed since is read again by the
    // refresh below.
    with(|d| {
        d.hydrating.remove(&id);
        d.parsed.insert(id, (heads, Parsed::Notes(Rc::new(notes))));
    });
    crate::js::dom::mark("danvan:notes-read");
    refresh();
}

/// Show the notes of a document read so far, with those of the notes documents already read.
/// (Not kept as read: the next refresh shows the last complete reads.)
fn show_partly_read(
    d: &super::Driver,
    id: &DocumentId,
    partial: &BTreeMap<String, Arc<ListedNote>>,
) {
    let mut notes: Vec<Arc<ListedNote>> = partial.values().cloned().collect();
    for (other, (_, parsed)) in &d.parsed {
        if let (true, Parsed::Notes(n)) = (other != id, parsed) {
            notes.extend(n.values().cloned());
        }
    }
    sort_notes(&mut notes);
    d.ui.notes.set(notes);
}

/// The notes list's order: newest activity first.
fn sort_notes(notes: &mut [Arc<ListedNote>]) {
    notes.sort_by(|a, b| (&b.activity_date, &b.id).cmp(&(&a.activity_date, &a.id)));
}

/// Where each writable document's unsynced count (and oldest change) is kept, for the badge
/// while a notes document is not loaded: document ID → (changes, oldest Unix seconds).
const UNSYNCED_KEY: &str = "danvan.unsynced";

/// Per kind of document, the (document, heads, writable) the screens' data was last built from.
pub(super) type Shown = BTreeMap<DocKind, Vec<(DocumentId, Vec<automerge::ChangeHash>, bool)>>;

fn heads_of(
    parsed: &HashMap<DocumentId, (Vec<automerge::ChangeHash>, Parsed)>,
    id: &DocumentId,
) -> Vec<automerge::ChangeHash> {
    parsed.get(id).map(|(h, _)| h.clone()).unwrap_or_default()
}

/// Rebuild what the screens show from the documents.
pub(super) fn refresh() {
    with(|d| {
        let mut notes = Vec::new();
        let mut plans = Vec::new();
        let mut org = Vec::new();
        let mut progress = Vec::new();
        let mut org_writable = false;
        // Which document versions each screen's data comes from: a signal is set only when they
        // differ from the last refresh (a saved note must not redraw the task list).
        let mut used: Shown = BTreeMap::new();
        let ids: Vec<(DocumentId, DocKey)> = d.keys.iter().map(|(i, k)| (*i, k.clone())).collect();
        for (id, key) in ids {
            let Some(doc) = d.client.doc(&id) else {
                continue;
            };
            // A notes document not read yet is read in the background, never here.
            if key.kind == DocKind::Notes && !d.parsed.contains_key(&id) {
                if d.hydrating.insert(id) {
                    wasm_bindgen_futures::spawn_local(hydrate_notes(id));
                }
                continue;
            }
            let heads = doc.get_heads();
            let parsed = match d.parsed.remove(&id) {
                Some((h, p)) if h == heads => {
                    d.parsed.insert(id, (h, p.clone()));
                    p
                }
                // A notes document read before: only the notes changed since are read again
                // (named by the new changes' operations), so a save or a synced note costs the
                // same with 30 notes or 2,000.
                Some((h, Parsed::Notes(mut notes))) if key.kind == DocKind::Notes => {
                    match schema::changed_keys_by_ops(doc, DocKind::Notes, &h) {
                        Some(keys) => {
                            // The cache held the only other handle: no copy is made here.
                            let notes = Rc::make_mut(&mut notes);
                            for k in keys {
                                match schema::read_note(doc, &k) {
                                    Some(n) => notes.insert(k, Arc::new(ListedNote::new(n))),
                                    None => notes.remove(&k),
                                };
                            }
                        }
                        // Only a whole read can tell: in the background, as at start.
                        None => {
                            if d.hydrating.insert(id) {
                                wasm_bindgen_futures::spawn_local(hydrate_notes(id));
                            }
                            continue;
                        }
                    }
                    let p = Parsed::Notes(notes);
                    d.parsed.insert(id, (heads, p.clone()));
                    p
                }
                _ => {
                    let p = match key.kind {
                        // Never reached: notes documents are read by `hydrate_notes`.
                        DocKind::Notes => Parsed::Notes(Rc::default()),
                        DocKind::Plan => Parsed::Plan(
                            Box::new(schema::read_plan_header(doc)),
                            schema::read_tasks(doc),
                        ),
                        DocKind::Org => Parsed::Org(schema::read_org(doc)),
                        DocKind::Progress => Parsed::Progress(schema::read_progress(doc)),
                    };
                    d.parsed.insert(id, (heads, p.clone()));
                    p
                }
            };
            used.entry(key.kind)
                .or_default()
                .push((id, heads_of(&d.parsed, &id), d.writable(&id)));
            match parsed {
                Parsed::Notes(n) => notes.extend(n.values().cloned()),
                Parsed::Plan(header, tasks) => plans.push(PlanView {
                    id: key.scope.clone(),
                    header: *header,
                    tasks,
                    writable: d.writable(&id),
                }),
                Parsed::Org(o) => {
                    org = o;
                    org_writable = d.writable(&id);
                }
                Parsed::Progress(records) => {
                    let commune = key.commune().unwrap_or_default().to_string();
                    progress.extend(records.into_iter().map(|r| (commune.clone(), r)));
                }
            }
        }
        let changed = |kind: DocKind| used.get(&kind) != d.shown.get(&kind);
        if changed(DocKind::Notes) {
            sort_notes(&mut notes);
            d.ui.notes.set(notes);
        }
        let loading = !d.hydrating.is_empty() || !d.deferred.is_empty();
        if d.ui.notes_loading.get_untracked() != loading {
            d.ui.notes_loading.set(loading);
        }
        if changed(DocKind::Plan) {
            plans.sort_by(|a, b| a.id.cmp(&b.id));
            d.ui.tasks
                .set(plans.iter().flat_map(|p| p.tasks.clone()).collect());
            d.ui.plans.set(plans);
        }
        if changed(DocKind::Org) {
            d.ui.org.set(org);
            d.ui.org_writable.set(org_writable);
        }
        if changed(DocKind::Progress) {
            d.ui.progress.set(progress);
        }
        d.shown = used;
        // The badge's count after the screens: a walk of each document's change graph that a
        // save need not wait for. Refreshes in a row count once.
        if !d.counting {
            d.counting = true;
            wasm_bindgen_futures::spawn_local(async {
                crate::js::dom::after_paint().await;
                with(count_unsynced);
            });
        }
    });
}

/// Count this device's changes the server has not made durable, for the badge.
fn count_unsynced(d: &mut super::Driver) {
    d.counting = false;
    // Only documents this device writes can hold its unsynced work: what arrived from the
    // server (a desk's read-only copies, another phone's notes) is not this device's to count.
    // A notes document not loaded yet counts what it counted when last loaded, kept in
    // localStorage: nothing changes it while unloaded (a change or a sync loads it first), and
    // the badge must never say "synced" over notes it has not looked at.
    let kept: BTreeMap<String, (usize, Option<i64>)> = if d.deferred.is_empty() {
        BTreeMap::new()
    } else {
        crate::js::dom::local_get(UNSYNCED_KEY)
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default()
    };
    let mut per_doc = BTreeMap::new();
    for id in d.client.doc_ids().filter(|id| d.writable(id)) {
        let Some(doc) = d.client.doc(id) else {
            continue;
        };
        let heads = d
            .durable
            .get(&id.to_string())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let u = unsynced(doc, heads);
        per_doc.insert(id.to_string(), (u.changes, u.oldest));
    }
    for id in d.deferred.keys().filter(|id| d.writable(id)) {
        let id = id.to_string();
        let counted = kept.get(&id).copied().unwrap_or_default();
        per_doc.insert(id, counted);
    }
    let count: usize = per_doc.values().map(|(n, _)| n).sum();
    let oldest = per_doc.values().filter_map(|(_, t)| *t).min();
    if d.deferred.is_empty() {
        let text = serde_json::to_string(&per_doc).unwrap_or_default();
        if text != d.unsynced_kept {
            crate::js::dom::local_keep(UNSYNCED_KEY, &text);
            d.unsynced_kept = text;
        }
    }
    // Set only when they change: the badge is not redrawn by every save.
    if d.ui.unsynced.get_untracked() != count {
        d.ui.unsynced.set(count);
    }
    let oldest = oldest.map(|s| s * 1000);
    if d.ui.oldest_unsynced.get_untracked() != oldest {
        d.ui.oldest_unsynced.set(oldest);
    }
}
