//! Drives the shared sync client in the browser: local documents in IndexedDB, a WebSocket with
//! reconnect and backoff, and the server's durable heads, which decide what counts as synced.
//!
//! Single-threaded (wasm): state lives in a thread-local, and no `RefCell` borrow is ever held across
//! an `.await`, so event handlers that fire while a write is pending always find the state free.

use crate::i18n::tr;
use crate::js;
use crate::state::{Session, Ui};
use automerge::{Automerge, ChangeHash};
use leptos::prelude::Set;
use shared::schema;
use shared::{DocKey, DocKind, DocumentId, Event, Quarter, SyncClient};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, MessageEvent, WebSocket};

/// Where the server's time at the last successful exchange is kept.
pub const SERVER_TIME_KEY: &str = "danvan.server_time";
/// When this device last heard from the server which of its changes are durable (device time, ms).
pub const LAST_SYNC_KEY: &str = "danvan.last_sync";

struct Driver {
    client: SyncClient,
    session: Session,
    ws: Option<WebSocket>,
    /// The handlers of the current socket; replaced (after detaching them) on every reconnect.
    handlers: Vec<Closure<dyn FnMut(JsValue)>>,
    connecting: bool,
    backoff_ms: u32,
    /// Durable heads per document, as last reported by the server (also kept in IndexedDB).
    durable: HashMap<String, Vec<ChangeHash>>,
    keys: BTreeMap<DocumentId, DocKey>,
    /// Since when (ms) changes have waited for durable heads while connected; see `nudge_if_stuck`.
    waiting_since: Option<i64>,
    /// Wait before the next nudge (ms): doubles after each one, so a slow server is not piled on.
    nudge_after: i64,
    /// What each document showed at given heads: a refresh re-reads only documents that changed
    /// (saving a note must not re-read a year of notes).
    parsed: HashMap<DocumentId, (Vec<ChangeHash>, Parsed)>,
    ui: Ui,
}

/// A document as the screens use it.
#[derive(Clone)]
enum Parsed {
    Notes(Vec<schema::Note>),
    Plan(Box<schema::PlanHeader>, Vec<schema::Task>),
    Org(Vec<schema::OrgNode>),
    Progress(Vec<schema::ProgressRecord>),
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
            .any(|x| x.doc_id == s && x.access == "rw");
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

/// Load every local document, then show them; only then touch the network.
pub async fn start(session: Session, ui: Ui) {
    let mut client = SyncClient::new(session.peer_id.clone());
    let mut docs: BTreeMap<String, Automerge> = BTreeMap::new();
    let mut chunk_counts: BTreeMap<String, usize> = BTreeMap::new();
    // Nothing writes chunks before the driver exists: every chunk up to this key is loaded below.
    let loaded_upto = js::max_chunk_key().await;
    match js::all_chunks().await {
        Ok(chunks) => {
            for (doc, data) in chunks {
                *chunk_counts.entry(doc.clone()).or_default() += 1;
                let am = docs.entry(doc).or_default();
                if let Err(e) = am.load_incremental(&data) {
                    web_sys::console::error_1(
                        &format!("chunk of {} does not load: {e}", am.get_heads().len()).into(),
                    );
                }
            }
        }
        Err(e) => ui.banner.set(Some(format!(
            "{}: {e}",
            tr(
                "Không đọc được dữ liệu trên máy",
                "Cannot read the data on this device"
            )
        ))),
    }
    for (id, am) in docs {
        if let Ok(id) = id.parse::<DocumentId>() {
            client.add_loaded(id, am);
        }
    }
    let durable: HashMap<String, Vec<ChangeHash>> = js::get_meta("durable-heads")
        .await
        .and_then(|s| serde_json::from_str::<HashMap<String, Vec<String>>>(&s).ok())
        .map(|m| {
            m.into_iter()
                .map(|(k, v)| (k, v.iter().filter_map(|h| h.parse().ok()).collect()))
                .collect()
        })
        .unwrap_or_default();
    DRIVER.with(|d| {
        *d.borrow_mut() = Some(Driver {
            client,
            session: session.clone(),
            ws: None,
            handlers: Vec::new(),
            connecting: false,
            backoff_ms: 1000,
            durable,
            keys: BTreeMap::new(),
            waiting_since: None,
            nudge_after: 10_000,
            parsed: HashMap::new(),
            ui,
        })
    });
    for doc in &session.docs {
        if let Some(key) = doc.key() {
            track(&key, doc.access == "rw").await;
        }
    }
    if let Some(c) = &session.user.commune_id {
        let (y, m, _) = shared::ids::vn_civil_date(js::now_ms());
        track(&DocKey::notes(c, Quarter::of_month(y, m)), true).await;
    }
    refresh_views();
    ui.ready.set(true);
    js::set_body_attr("data-app-ready", "true");
    let persisted = js::persist().await;
    ui.persistent.set(Some(persisted));
    ui.last_sync
        .set(js::local_get(LAST_SYNC_KEY).and_then(|s| s.parse().ok()));
    refresh_photos().await;
    install_wakeups();
    connect();
    poll_loop();
    // Each save added a chunk; a document read from hundreds of them starts slowly.
    let many: Vec<String> = chunk_counts
        .into_iter()
        .filter(|(_, n)| *n > COMPACT_AFTER_CHUNKS)
        .map(|(d, _)| d)
        .collect();
    if let Some(upto) = loaded_upto {
        compact(many, upto).await;
    }
}

/// A document stored as more incremental chunks than this is compacted at start.
const COMPACT_AFTER_CHUNKS: usize = 16;

/// Rewrite the given documents as one chunk each (in the background, after the app is up). Only
/// chunks up to `upto` (those loaded at start, all contained in the document now) are replaced.
async fn compact(docs: Vec<String>, upto: f64) {
    for doc in docs {
        let Ok(id) = doc.parse::<DocumentId>() else {
            continue;
        };
        let Some(bytes) = with(|d| d.client.doc(&id).map(Automerge::save)).flatten() else {
            continue;
        };
        if let Err(e) = js::compact_chunks(&doc, &bytes, upto).await {
            web_sys::console::warn_1(&format!("compacting {doc}: {e}").into());
        }
    }
}

/// Track a document; writable ones get their genesis so they can be written offline.
async fn track(key: &DocKey, create: bool) -> DocumentId {
    let id = key.doc_id();
    let events = with(|d| {
        d.keys.insert(id, key.clone());
        d.client.track(key, create).1
    })
    .unwrap_or_default();
    persist(&id).await;
    handle(events);
    id
}

/// Write what is new in a document to IndexedDB (one request). Returns false if the write failed.
async fn persist(id: &DocumentId) -> bool {
    let Some(Some(bytes)) = with(|d| d.client.take_unsaved(id)) else {
        return true;
    };
    match js::add_chunk(&id.to_string(), &bytes).await {
        Ok(()) => true,
        Err(e) => {
            with(|d| {
                d.ui.banner.set(Some(format!(
                    "{} ({e}). {}",
                    tr(
                        "LỖI: không lưu được vào máy",
                        "ERROR: could not save on this device"
                    ),
                    tr("Đừng tải lại trang.", "Do not reload the page.")
                )))
            });
            false
        }
    }
}

/// Change a document on this device: tracked (and created from its genesis) if needed, changed by
/// `f` as one Automerge change, durable in IndexedDB on return, then offered to the server.
pub async fn change(
    key: DocKey,
    f: impl FnOnce(&mut Automerge) -> Result<(), schema::SchemaError>,
) -> Result<(), String> {
    let id = track(&key, true).await;
    let result = with(|d| d.client.change(&id, f));
    let (res, events) = result.flatten().ok_or(tr(
        "Không mở được tài liệu trên máy.",
        "Cannot open the document on this device.",
    ))?;
    res.map_err(|e| format!("{}: {e}", tr("Không ghi được", "Could not write")))?;
    let saved = persist(&id).await;
    handle(events);
    refresh_views();
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
    change(key, move |doc| schema::put_note(doc, &note)).await
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

fn handle(events: Vec<Event>) {
    let mut changed = Vec::new();
    for e in events {
        match e {
            Event::Send(bytes) => {
                let ws = with(|d| d.ws.clone()).flatten();
                if let Some(ws) = ws {
                    let _ = ws.send_with_u8_array(&bytes);
                }
            }
            Event::Connected { .. } => {
                with(|d| {
                    d.backoff_ms = 1000;
                    d.ui.online.set(true);
                });
                wasm_bindgen_futures::spawn_local(after_connect());
            }
            Event::DocChanged(id) => changed.push(id),
            Event::Unavailable(_) => {}
            Event::ProtocolError(msg) => {
                web_sys::console::warn_1(&format!("sync: {msg}").into());
                close_socket();
            }
        }
    }
    if !changed.is_empty() {
        wasm_bindgen_futures::spawn_local(async move {
            for id in changed {
                persist(&id).await;
            }
            refresh_views();
        });
    }
}

/// Rebuild what the screens show from the documents.
fn refresh_views() {
    with(|d| {
        let mut notes = Vec::new();
        let mut plans = Vec::new();
        let mut org = Vec::new();
        let mut progress = Vec::new();
        let mut org_writable = false;
        let ids: Vec<(DocumentId, DocKey)> = d.keys.iter().map(|(i, k)| (*i, k.clone())).collect();
        for (id, key) in ids {
            let Some(doc) = d.client.doc(&id) else {
                continue;
            };
            let heads = doc.get_heads();
            let parsed = match d.parsed.get(&id) {
                Some((h, p)) if *h == heads => p.clone(),
                _ => {
                    let p = match key.kind {
                        DocKind::Notes => Parsed::Notes(schema::read_notes(doc)),
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
            match parsed {
                Parsed::Notes(n) => notes.extend(n),
                Parsed::Plan(header, tasks) => plans.push(crate::state::PlanView {
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
        notes.sort_by(|a, b| (&b.activity_date, &b.id).cmp(&(&a.activity_date, &a.id)));
        plans.sort_by(|a, b| a.id.cmp(&b.id));
        d.ui.notes.set(notes);
        d.ui.tasks
            .set(plans.iter().flat_map(|p| p.tasks.clone()).collect());
        d.ui.plans.set(plans);
        d.ui.org.set(org);
        d.ui.org_writable.set(org_writable);
        d.ui.progress.set(progress);
        // Only documents this device writes can hold its unsynced work: what arrived from the
        // server (a desk's read-only copies, another phone's notes) is not this device's to count.
        let (mut unsynced, mut oldest) = (0usize, None::<i64>);
        for id in d.client.doc_ids().filter(|id| d.writable(id)) {
            let Some(doc) = d.client.doc(id) else {
                continue;
            };
            let heads = d
                .durable
                .get(&id.to_string())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            unsynced += schema::unsynced_changes(doc, heads);
            if let Some(t) = schema::oldest_unsynced(doc, heads) {
                oldest = Some(oldest.map_or(t, |o: i64| o.min(t)));
            }
        }
        d.ui.unsynced.set(unsynced);
        d.ui.oldest_unsynced.set(oldest.map(|s| s * 1000));
    });
}

fn ws_url() -> Option<String> {
    let loc = web_sys::window()?.location();
    let scheme = if loc.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}/sync", loc.host().ok()?))
}

/// Open the WebSocket unless one is open or opening.
fn connect() {
    let Some(url) = ws_url() else { return };
    let go = with(|d| {
        if d.connecting || d.ws.is_some() {
            return false;
        }
        d.connecting = true;
        true
    });
    if go != Some(true) {
        return;
    }
    let ws = match WebSocket::new(&url) {
        Ok(ws) => ws,
        Err(_) => {
            with(|d| d.connecting = false);
            schedule_reconnect();
            return;
        }
    };
    ws.set_binary_type(BinaryType::Arraybuffer);
    let on_open = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        let events = with(|d| {
            d.connecting = false;
            d.client.connected()
        });
        handle(events.unwrap_or_default());
    });
    let on_message = Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
        let Ok(e) = e.dyn_into::<MessageEvent>() else {
            return;
        };
        let Ok(buf) = e.data().dyn_into::<js_sys::ArrayBuffer>() else {
            return;
        };
        let bytes = js_sys::Uint8Array::new(&buf).to_vec();
        let events = with(|d| d.client.receive(&bytes)).unwrap_or_default();
        handle(events);
    });
    let on_close = Closure::<dyn FnMut(JsValue)>::new(move |_| {
        close_socket();
        schedule_reconnect();
    });
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    with(|d| {
        d.ws = Some(ws);
        d.handlers = vec![on_open, on_message, on_close];
    });
}

/// Forget the current socket (detaching its handlers first so none fires into a dropped closure).
fn close_socket() {
    let old = with(|d| {
        d.client.disconnected();
        d.connecting = false;
        d.ui.online.set(false);
        (d.ws.take(), std::mem::take(&mut d.handlers))
    });
    if let Some((Some(ws), handlers)) = old {
        ws.set_onopen(None);
        ws.set_onmessage(None);
        ws.set_onclose(None);
        let _ = ws.close();
        // The handlers may be on the call stack right now (we can be inside on_close): drop them later.
        let keep = Closure::once_into_js(move || drop(handlers));
        set_timeout(keep, 0);
    }
}

fn set_timeout(f: JsValue, ms: u32) {
    if let Some(w) = web_sys::window() {
        let _ =
            w.set_timeout_with_callback_and_timeout_and_arguments_0(f.unchecked_ref(), ms as i32);
    }
}

fn schedule_reconnect() {
    let Some(delay) = with(|d| {
        let delay = d.backoff_ms;
        d.backoff_ms = (d.backoff_ms * 2).min(30_000);
        delay
    }) else {
        return;
    };
    set_timeout(Closure::once_into_js(connect), delay);
}

/// Reconnect right away when the browser says the network is back or the app comes to the front;
/// drop the socket when the browser says we are offline (it may otherwise linger half-open).
fn install_wakeups() {
    let Some(w) = web_sys::window() else { return };
    let online = Closure::<dyn FnMut()>::new(|| {
        with(|d| d.backoff_ms = 1000);
        connect();
    });
    let offline = Closure::<dyn FnMut()>::new(close_socket);
    let visible = Closure::<dyn FnMut()>::new(|| {
        let hidden = web_sys::window()
            .and_then(|w| w.document())
            .is_some_and(|d| d.hidden());
        if !hidden {
            connect();
        }
    });
    let _ = w.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
    let _ = w.add_event_listener_with_callback("offline", offline.as_ref().unchecked_ref());
    if let Some(doc) = w.document() {
        let _ = doc
            .add_event_listener_with_callback("visibilitychange", visible.as_ref().unchecked_ref());
    }
    // These live as long as the page.
    online.forget();
    offline.forget();
    visible.forget();
}

/// After each handshake: learn the current document list (new quarters, new plans), then heads.
async fn after_connect() {
    refresh_docs().await;
    refresh_heads().await;
}

/// Learn the current document list (new quarters, new plans, new communes) and track them.
pub async fn refresh_docs() {
    if let Some(list) = js::get_json::<crate::state::DocList>("/api/docs").await {
        for doc in &list.docs {
            if let Some(key) = doc.key() {
                track(&key, doc.access == "rw").await;
            }
        }
        let session = with(|d| {
            d.session.docs = list.docs.clone();
            d.session.clone()
        });
        if let Some(s) = session {
            s.save();
        }
    }
    refresh_views();
}

/// Ask the server which heads are durable. A failed request means the server is unreachable, which
/// a half-open WebSocket would not tell us: drop it and let the reconnect logic take over.
async fn refresh_heads() {
    // Send our own heads: the server says which documents they are durable for, which holds even
    // before we have received everyone else's changes (their heads alone could not prove it).
    let have: HashMap<String, Vec<String>> = with(|d| {
        d.client
            .doc_ids()
            .filter_map(|id| {
                let heads = d.client.doc(id)?.get_heads();
                (!heads.is_empty()).then(|| {
                    (
                        id.to_string(),
                        heads.iter().map(|h| h.to_string()).collect(),
                    )
                })
            })
            .collect()
    })
    .unwrap_or_default();
    let body = serde_json::json!({ "have": have }).to_string();
    match js::fetch("POST", "/api/durable-heads", Some(body)).await {
        Ok((200, body)) => {
            #[derive(serde::Deserialize)]
            struct Heads {
                #[serde(default)]
                server_time: Option<i64>,
                heads: HashMap<String, Vec<String>>,
                #[serde(default)]
                covered: HashMap<String, bool>,
            }
            if let Ok(mut h) = serde_json::from_str::<Heads>(&body) {
                if let Some(t) = h.server_time {
                    // The floor for deadline checks when the phone's clock is wrong (shared::status).
                    js::local_set(SERVER_TIME_KEY, &t.to_string());
                }
                let now = js::now_ms();
                js::local_set(LAST_SYNC_KEY, &now.to_string());
                with(|d| d.ui.last_sync.set(Some(now)));
                for (doc, ok) in &h.covered {
                    if let (true, Some(mine)) = (*ok, have.get(doc)) {
                        h.heads.insert(doc.clone(), mine.clone());
                    }
                }
                let _ = js::set_meta(
                    "durable-heads",
                    &serde_json::to_string(&h.heads).unwrap_or_default(),
                )
                .await;
                with(|d| {
                    d.durable = h
                        .heads
                        .into_iter()
                        .map(|(k, v)| (k, v.iter().filter_map(|x| x.parse().ok()).collect()))
                        .collect();
                });
                refresh_views();
            }
        }
        Ok((401, _)) => {
            with(|d| {
                d.ui.banner.set(Some(
                    tr(
                        "Phiên đăng nhập đã hết hạn: hãy đăng nhập lại. Dữ liệu trên máy vẫn được giữ.",
                        "The login has expired: log in again. The data on this device is kept.",
                    )
                    .into(),
                ))
            });
        }
        Ok(_) => {}
        Err(_) => {
            if with(|d| d.ws.is_some()) == Some(true) {
                close_socket();
                schedule_reconnect();
            }
        }
    }
}

/// While connected, refresh the durable heads every 1.5 s; they move when the server commits.
fn poll_loop() {
    wasm_bindgen_futures::spawn_local(async {
        let mut round = 0u32;
        loop {
            sleep(1500).await;
            round += 1;
            // Documents created elsewhere (a note dated in another quarter, a new plan) appear in
            // the list; learn them every ~30 s, not only on reconnect.
            if round.is_multiple_of(20) && with(|d| d.client.is_connected()) == Some(true) {
                refresh_docs().await;
            }
            if with(|d| d.client.is_connected()) == Some(true) {
                refresh_heads().await;
                nudge_if_stuck();
                // Photos go on their own: a photo that fails never holds up the notes' sync.
                upload_photos().await;
            }
        }
    });
}

/// If changes have stayed unconfirmed for 10 s while connected, renegotiate those documents from a
/// fresh sync state: automerge's sync can stall with both sides waiting (see `SyncClient::resync`).
/// The wait doubles after each nudge (up to 5 min): a server that is merely slow is not piled on.
fn nudge_if_stuck() {
    let now = js::now_ms();
    let events = with(|d| {
        let stuck: Vec<DocumentId> = d
            .client
            .doc_ids()
            .filter(|id| d.writable(id))
            .filter(|id| {
                let heads = d
                    .durable
                    .get(&id.to_string())
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                d.client
                    .doc(id)
                    .is_some_and(|doc| schema::unsynced_changes(doc, heads) > 0)
            })
            .copied()
            .collect();
        if stuck.is_empty() {
            d.waiting_since = None;
            d.nudge_after = 10_000;
            return Vec::new();
        }
        match d.waiting_since {
            None => {
                d.waiting_since = Some(now);
                Vec::new()
            }
            Some(t) if now - t > d.nudge_after => {
                d.waiting_since = Some(now);
                d.nudge_after = (d.nudge_after * 2).min(300_000);
                stuck.iter().flat_map(|id| d.client.resync(id)).collect()
            }
            Some(_) => Vec::new(),
        }
    });
    handle(events.unwrap_or_default());
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

/// Upload the photos the server does not have yet, one at a time (each resumable).
async fn upload_photos() {
    let states = js::photo_states().await;
    for (sha, _, _) in states.iter().filter(|p| !p.1) {
        match js::upload_photo(sha).await {
            Ok(200..=299) => {}
            Ok(status) => {
                web_sys::console::warn_1(&format!("photo {sha}: upload answered {status}").into());
            }
            // No connection: try again on the next round.
            Err(_) => break,
        }
    }
    refresh_photos().await;
}

/// Show the photos' states (on the phone only / uploaded).
pub async fn refresh_photos() {
    let states = js::photo_states().await;
    with(|d| d.ui.photos.set(states));
}

/// Everything this device holds, as an export file's text.
pub async fn export_all() -> Result<String, String> {
    let (docs, by) = with(|d| {
        let docs: Vec<shared::export::ExportDoc> = d
            .keys
            .iter()
            .filter_map(|(id, key)| Some(shared::export::ExportDoc::new(key, d.client.doc(id)?)))
            .collect();
        (docs, d.session.user.username.clone())
    })
    .ok_or(tr(
        "Chưa mở dữ liệu trên máy.",
        "The data on this device is not open yet.",
    ))?;
    let mut photos = Vec::new();
    for (sha, _, _) in js::photo_states().await {
        if let Some(bytes) = js::photo_bytes(&sha).await {
            photos.push(shared::export::ExportPhoto::new(&sha, &bytes));
        }
    }
    let file = shared::export::ExportFile {
        format: shared::export::FORMAT.into(),
        exported_at: js::now_ms(),
        exported_by: by,
        docs,
        photos,
    };
    serde_json::to_string(&file).map_err(|e| e.to_string())
}

/// Merge an export file into this device: documents this account may write (its commune's notes
/// and progress, or plans/org for editors and administrators) and the photos. Idempotent. Returns
/// (documents merged, documents skipped, photos).
pub async fn import_file(text: &str) -> Result<(usize, usize, usize), String> {
    let checked = shared::export::check(text).map_err(|e| e.to_string())?;
    let (mut merged, mut skipped) = (0, 0);
    for (key, mut doc) in checked.docs {
        let writable = with(|d| d.may_write(&key)).unwrap_or(false);
        if !writable {
            skipped += 1;
            continue;
        }
        let id = track(&key, true).await;
        let result = with(|d| d.client.merge(&id, &mut doc)).flatten();
        match result {
            Some(Ok(events)) => {
                if !persist(&id).await {
                    return Err(tr(
                        "Không lưu được vào bộ nhớ máy.",
                        "Could not save to this device's storage.",
                    )
                    .into());
                }
                handle(events);
                merged += 1;
            }
            Some(Err(e)) => {
                return Err(format!(
                    "{}: {e}",
                    tr("Không gộp được dữ liệu", "Could not merge the data")
                ));
            }
            None => skipped += 1,
        }
    }
    let photos = checked.photos.len();
    for (sha, data) in checked.photos {
        let have = js::photo_states().await.iter().any(|p| p.0 == sha);
        if !have {
            js::store_photo(&sha, &data, false).await?;
        }
    }
    refresh_views();
    refresh_photos().await;
    Ok((merged, skipped, photos))
}

pub async fn sleep(ms: u32) {
    let p = js_sys::Promise::new(&mut |resolve, _| set_timeout(resolve.into(), ms));
    let _ = wasm_bindgen_futures::JsFuture::from(p).await;
}
