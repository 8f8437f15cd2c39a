//! Drives the shared sync client in the browser: the driver's state, start-up, local changes (durable
//! in IndexedDB before they count as saved) and the rounds while connected. Each other job has its
//! own file: `storage` (IndexedDB), `socket` (the WebSocket and reconnects), `durable` (what the
//! server has made safe, resync nudges), `views` (what the screens show), `photos`, `transfer`.
//!
//! Single-threaded (wasm): state lives in a thread-local, and no `RefCell` borrow is ever held across
//! an `.await`, so event handlers that fire while a write is pending always find the state free.

mod durable;
mod photos;
mod socket;
mod storage;
pub mod transfer;
mod views;

pub use durable::{LAST_SYNC_KEY, SERVER_TIME_KEY};
pub use photos::refresh_photos;

use crate::common::i18n::tr;
use crate::common::state::{Session, Ui};
use crate::js;
use crate::js::dom;
use automerge::{Automerge, ChangeHash};
use leptos::prelude::Set;
use shared::driver::{Backoff, Nudge};
use shared::schema;
use shared::{DocKey, DocKind, DocumentId, Event, Quarter, SyncClient};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use wasm_bindgen_futures::spawn_local;

struct Driver {
    client: SyncClient,
    session: Session,
    socket: Option<js::socket::Socket>,
    connecting: bool,
    backoff: Backoff,
    /// Durable heads per document, as last reported by the server (also kept in IndexedDB).
    durable: HashMap<String, Vec<ChangeHash>>,
    /// When the server last pushed durable heads on this connection (device ms): while pushes
    /// come, no need to ask every round.
    last_push: Option<i64>,
    keys: BTreeMap<DocumentId, DocKey>,
    /// When to renegotiate documents whose changes stay unconfirmed; see `durable::nudge_if_stuck`.
    nudge: Nudge,
    /// Chunks whose IndexedDB write failed, oldest first; see `storage::persist`.
    unwritten: Vec<(DocumentId, Vec<u8>)>,
    /// What each document showed at given heads: a refresh re-reads only documents that changed
    /// (saving a note must not re-read a year of notes).
    parsed: HashMap<DocumentId, (Vec<ChangeHash>, views::Parsed)>,
    /// Notes documents being read a slice at a time (see `views::hydrate_notes`).
    hydrating: std::collections::HashSet<DocumentId>,
    /// Notes documents read from IndexedDB at start but not loaded yet: their chunks. See `start`.
    deferred: HashMap<DocumentId, Vec<Vec<u8>>>,
    /// The start's chunk key up to which a deferred document is compacted once loaded (when it is
    /// stored as too many chunks); see `storage::compact`.
    compact_deferred: Option<(std::collections::HashSet<DocumentId>, f64)>,
    /// What the screens were last given (see `views::refresh`).
    shown: views::Shown,
    /// The unsynced counts last kept in localStorage (see `views::count_unsynced`).
    unsynced_kept: String,
    /// A count of unsynced changes is scheduled (see `views::refresh`).
    counting: bool,
    /// When the server was last asked whether this device is still signed in (`socket::on_close`).
    signed_in_checked: f64,
    ui: Ui,
}

impl Driver {
    /// Whether this device may write the document: listed read-write by the server, or its own
    /// commune's notes and progress (which exist on the phone before the server lists them).
    fn writable(&self, id: &DocumentId) -> bool {
        self.keys.get(id).is_some_and(|k| self.may_write(k))
    }

    fn may_write(&self, key: &DocKey) -> bool {
        let s = key.doc_id().to_string();
        let listed = self
            .session
            .docs
            .iter()
            .any(|x| x.doc_id == s && x.writable());
        let own = matches!(key.kind, DocKind::Notes | DocKind::Progress)
            && key.commune().is_some()
            && key.commune() == self.session.user.commune_id.as_deref();
        listed || own
    }
}

thread_local! {
    static DRIVER: RefCell<Option<Driver>> = const { RefCell::new(None) };
}

fn with<R>(f: impl FnOnce(&mut Driver) -> R) -> Option<R> {
    DRIVER.with(|d| d.borrow_mut().as_mut().map(f))
}

/// Load the local documents, then show them; only then touch the network.
///
/// Notes documents are read from IndexedDB but not loaded: a busy quarter's notes take about a
/// second to load on a cheap phone, and the first screen (tasks, statuses) needs none of them. They
/// are loaded when something needs them: the notes list, a save, a sync, an export.
pub async fn start(session: Session, ui: Ui) {
    let mut client = SyncClient::new(session.peer_id.clone());
    let mut notes_docs: std::collections::HashSet<String> = session
        .docs
        .iter()
        .filter_map(|d| d.key())
        .filter(|k| k.kind == DocKind::Notes)
        .map(|k| k.doc_id().to_string())
        .collect();
    let this_quarter = session.user.commune_id.as_ref().map(|c| {
        let (y, m, _) = shared::ids::vn_civil_date(dom::now_ms());
        DocKey::notes(c, Quarter::of_month(y, m))
    });
    if let Some(k) = &this_quarter {
        notes_docs.insert(k.doc_id().to_string());
    }
    let loaded = storage::load(&ui, |doc| notes_docs.contains(doc)).await;
    for (id, am) in loaded.docs {
        client.add_loaded(id, am);
    }
    let deferred: HashMap<DocumentId, Vec<Vec<u8>>> = loaded.deferred.into_iter().collect();
    let (compact_now, compact_later) = loaded
        .to_compact
        .into_iter()
        .partition::<Vec<_>, _>(|id| !deferred.contains_key(id));
    DRIVER.with(|d| {
        *d.borrow_mut() = Some(Driver {
            client,
            session: session.clone(),
            socket: None,
            connecting: false,
            backoff: Backoff::new(),
            durable: loaded.durable,
            last_push: None,
            keys: BTreeMap::new(),
            nudge: Nudge::new(),
            unwritten: Vec::new(),
            parsed: HashMap::new(),
            hydrating: Default::default(),
            deferred,
            compact_deferred: loaded
                .upto
                .map(|upto| (compact_later.into_iter().collect(), upto)),
            shown: Default::default(),
            unsynced_kept: String::new(),
            counting: false,
            signed_in_checked: 0.0,
            ui,
        })
    });
    let keys = session
        .docs
        .iter()
        .filter_map(|doc| Some((doc.key()?, doc.writable())))
        .chain(this_quarter.map(|k| (k, true)));
    for (key, writable) in keys {
        let id = key.doc_id();
        // A deferred document is known by its key until loaded; tracking it now would load it.
        if with(|d| d.deferred.contains_key(&id)) == Some(true) {
            with(|d| d.keys.insert(id, key));
        } else {
            track(&key, writable).await;
        }
    }
    // The first screen at once; notes documents are read in the background, a slice at a time.
    views::refresh();
    dom::mark("danvan:views");
    ui.ready.set(true);
    dom::set_body_attr("data-app-ready", "true");
    if NOTES_WANTED.with(|w| w.replace(false)) {
        spawn_local(load_notes());
    }
    let persisted = js::persist().await;
    ui.persistent.set(Some(persisted));
    ui.last_sync
        .set(dom::local_get(LAST_SYNC_KEY).and_then(|s| s.parse().ok()));
    refresh_photos().await;
    socket::install_wakeups();
    socket::connect();
    poll_loop();
    if let Some(upto) = loaded.upto {
        storage::compact(compact_now, upto).await;
    }
}

/// Load a document left unloaded at start (see [`start`]), if it still is; when connected, its sync
/// starts at once.
fn load_deferred(id: &DocumentId) {
    let Some(chunks) = with(|d| d.deferred.remove(id)).flatten() else {
        return;
    };
    let am = storage::load_chunks(&chunks);
    dom::mark("danvan:notes-loaded");
    let (events, compact) = with(|d| {
        d.client.add_loaded(*id, am);
        let events = if d.client.is_connected() {
            d.client.resync(id)
        } else {
            Vec::new()
        };
        let compact = d
            .compact_deferred
            .as_mut()
            .and_then(|(ids, upto)| ids.remove(id).then_some(*upto));
        (events, compact)
    })
    .unwrap_or_default();
    handle(events);
    if let Some(upto) = compact {
        spawn_local(storage::compact(vec![*id], upto));
    }
}

thread_local! {
    /// The notes were asked for before the driver started (a reload on the notes tab): `start`
    /// loads them once the first screen is up.
    static NOTES_WANTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Load every document left unloaded at start, one per task with the browser free to draw in
/// between, then show them (the notes list opened, the server connected, an export).
pub async fn load_notes() {
    if with(|_| ()).is_none() {
        NOTES_WANTED.with(|w| w.set(true));
        return;
    }
    let mut loaded = false;
    while let Some(id) = with(|d| d.deferred.keys().next().copied()).flatten() {
        dom::after_paint().await;
        load_deferred(&id);
        loaded = true;
    }
    if loaded {
        views::refresh();
    }
}

/// Track a document; writable ones get their genesis so they can be written offline.
async fn track(key: &DocKey, create: bool) -> DocumentId {
    let id = key.doc_id();
    load_deferred(&id);
    let events = with(|d| {
        d.keys.insert(id, key.clone());
        d.client.track(key, create).1
    })
    .unwrap_or_default();
    storage::persist(&id).await;
    handle(events);
    id
}

/// Change a document on this device: tracked (and created from its genesis) if needed, changed by
/// `f` as one Automerge change, durable in IndexedDB on return, then offered to the server.
pub async fn change(
    key: DocKey,
    f: impl FnOnce(&mut Automerge) -> Result<(), schema::SchemaError>,
) -> Result<(), String> {
    change_entries(key, &[], f).await
}

/// [`change`] of a notes document's `entries` (by key): the screens' copy of the document is
/// brought up to date from those entries alone, without comparing the whole document.
async fn change_entries(
    key: DocKey,
    entries: &[String],
    f: impl FnOnce(&mut Automerge) -> Result<(), schema::SchemaError>,
) -> Result<(), String> {
    let id = track(&key, true).await;
    let result = with(|d| {
        let before = d.client.doc(&id).map(Automerge::get_heads);
        let changed = d.client.change(&id, f);
        if let Some(before) = before
            && key.kind == shared::DocKind::Notes
            && !entries.is_empty()
        {
            views::notes_touched(d, &id, &before, entries);
        }
        changed
    });
    let (res, events) = result.flatten().ok_or(tr(
        "Không mở được tài liệu trên máy.",
        "Cannot open the document on this device.",
    ))?;
    res.map_err(|e| format!("{}: {e}", tr("Không ghi được", "Could not write")))?;
    let saved = storage::persist(&id).await;
    handle(events);
    views::refresh();
    if saved {
        Ok(())
    } else {
        Err(tr(
            "Không lưu được vào bộ nhớ máy.",
            "Could not save to this device's storage.",
        )
        .into())
    }
}

/// This device's commune (members only).
fn my_commune() -> Result<String, String> {
    with(|d| d.session.user.commune_id.clone())
        .flatten()
        .ok_or_else(|| {
            tr(
                "Tài khoản không thuộc xã nào.",
                "This account belongs to no commune.",
            )
            .to_string()
        })
}

/// Save a note: into the notes document of its activity quarter.
pub async fn save_note(note: schema::Note) -> Result<(), String> {
    schema::validate_note(&note).map_err(str::to_string)?;
    let quarter = Quarter::of_iso_date(&note.activity_date).ok_or(tr(
        "Ngày hoạt động không hợp lệ.",
        "The activity date is not valid.",
    ))?;
    let key = DocKey::notes(&my_commune()?, quarter);
    let entry = [note.id.clone()];
    change_entries(key, &entry, move |doc| schema::put_note(doc, &note)).await
}

/// Save one unit's progress on a task, in this commune's progress document of the plan.
pub async fn save_progress(plan_id: String, record: schema::ProgressRecord) -> Result<(), String> {
    if !(0..=100).contains(&record.percent) {
        return Err(tr(
            "Tỷ lệ hoàn thành phải từ 0 đến 100%.",
            "Progress must be from 0 to 100%.",
        )
        .into());
    }
    let key = DocKey::progress(&plan_id, &my_commune()?);
    change(key, move |doc| schema::put_progress(doc, &record)).await
}

/// Do what the sync client asks.
fn handle(events: Vec<Event>) {
    let mut changed = Vec::new();
    let mut durable = Vec::new();
    for e in events {
        match e {
            Event::Send(bytes) => {
                with(|d| {
                    if let Some(s) = &d.socket {
                        s.send(&bytes);
                    }
                });
            }
            Event::Connected { .. } => {
                with(|d| {
                    d.backoff.reset();
                    d.ui.online.set(true);
                    d.last_push = None;
                });
                spawn_local(load_notes());
                spawn_local(after_connect());
            }
            Event::DocChanged(id) => changed.push(id),
            Event::Durable { doc, heads } => durable.push((doc, heads)),
            Event::Unavailable(_) => {}
            Event::ProtocolError(msg) => {
                dom::console_warn(&format!("sync: {msg}"));
                socket::close();
            }
        }
    }
    if !changed.is_empty() || !durable.is_empty() {
        spawn_local(async move {
            for id in changed {
                storage::persist(&id).await;
            }
            if durable.is_empty() {
                views::refresh();
            } else {
                durable::pushed(durable).await;
            }
        });
    }
}

/// After each handshake: learn the current document list (new quarters, new plans), then heads.
async fn after_connect() {
    refresh_docs().await;
    durable::refresh_heads().await;
}

/// Learn the current document list (new quarters, new plans, new communes) and track them.
pub async fn refresh_docs() {
    if let Some(list) = js::get_json::<shared::api::DocsResponse>("/api/docs").await {
        for doc in &list.docs {
            if let Some(key) = doc.key() {
                track(&key, doc.writable()).await;
            }
        }
        let session = with(|d| {
            d.session.docs = list.docs.clone();
            d.session.clone()
        });
        // Only the list of documents to open after an offline reload; learnt again every round.
        if let Some(Err(e)) = session.map(|s| s.save()) {
            dom::console_warn(&format!("keeping the document list: {e}"));
        }
    }
    views::refresh();
}

/// While connected, every 1.5 s: nudge stuck documents, upload photos, and ask for the durable
/// heads unless the server pushes them. Even then, ask every ~30 s (the server clock, a login that
/// ended), and when changes wait while no push came for a few seconds (a socket that died without
/// a word, a push that was lost).
fn poll_loop() {
    spawn_local(async {
        let mut round = 0u32;
        loop {
            dom::sleep(1500).await;
            round += 1;
            // Documents created elsewhere (a note dated in another quarter, a new plan) appear in
            // the list; learn them every ~30 s, not only on reconnect.
            if round.is_multiple_of(20) && with(|d| d.client.is_connected()) == Some(true) {
                refresh_docs().await;
            }
            if with(|d| d.client.is_connected()) == Some(true) {
                let waiting = durable::nudge_if_stuck();
                let since_push = with(|d| d.last_push.map(|t| dom::now_ms() - t)).flatten();
                let quiet = since_push.is_none_or(|ms| waiting && ms > 3_000);
                if quiet || round.is_multiple_of(20) {
                    durable::refresh_heads().await;
                }
                // Photos go on their own: a photo that fails never holds up the notes' sync.
                photos::upload().await;
            }
        }
    });
}

/// Every version of a task's progress records in one commune (see `schema::progress_history`).
pub fn progress_history(
    plan_id: &str,
    commune: &str,
    task_id: &str,
) -> Vec<schema::ProgressRecord> {
    let id = DocKey::progress(plan_id, commune).doc_id();
    with(|d| {
        d.client
            .doc(&id)
            .map(|doc| schema::progress_history(doc, task_id))
    })
    .flatten()
    .unwrap_or_default()
}
