//! What the server has made safe: its durable heads, pushed over the socket after each commit or
//! asked for over HTTP (with the server time for the clock check), and the resync nudges of
//! `shared::driver::Nudge` for documents whose changes stay unconfirmed.

use super::{handle, socket, storage, views, with};
use crate::common::i18n::tr;
use crate::js;
use crate::js::dom;
use automerge::ChangeHash;
use leptos::prelude::Set;
use shared::DocumentId;
use shared::api::{DurableCheckRequest, DurableCheckResponse};
use shared::driver::{durable_after_answer, durable_after_push};
use shared::unsynced::unsynced_changes;
use std::collections::HashMap;

/// Where the server's time at the last successful exchange is kept.
pub const SERVER_TIME_KEY: &str = "danvan.server_time";
/// When this device last heard from the server which of its changes are durable (device time, ms).
pub const LAST_SYNC_KEY: &str = "danvan.last_sync";

/// Ask the server which heads are durable. A failed request means the server is unreachable, which
/// a half-open WebSocket would not tell us: drop it and let the reconnect logic take over.
pub(super) async fn refresh_heads() {
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
    let body = serde_json::to_string(&DurableCheckRequest { have: &have }).unwrap_or_default();
    match js::fetch("POST", "/api/durable-heads", Some(body)).await {
        Ok((200, body)) => {
            if let Ok(h) = serde_json::from_str::<DurableCheckResponse>(&body) {
                // The floor for deadline checks when the phone's clock is wrong (shared::status).
                dom::local_keep(SERVER_TIME_KEY, &h.server_time.to_string());
                let covered = |doc: &String| h.covered.get(doc) == Some(&true);
                keep(durable_after_answer(h.heads, covered, &have)).await;
            }
        }
        Ok((401, _)) => signed_out(),
        Ok(_) => {}
        Err(_) => {
            if with(|d| d.socket.is_some()) == Some(true) {
                socket::close();
                socket::schedule_reconnect();
            }
        }
    }
}

/// The server pushed its durable heads of these documents: keep them (the caller refreshes the
/// views).
pub(super) async fn pushed(heads: Vec<(DocumentId, Vec<ChangeHash>)>) {
    let all = with(|d| {
        d.last_push = Some(dom::now_ms());
        let mut all: HashMap<String, Vec<String>> = HashMap::new();
        for (doc, pushed) in heads {
            let old = d.durable.get(&doc.to_string()).map(Vec::as_slice);
            let kept = durable_after_push(old, pushed, d.client.doc(&doc));
            all.insert(
                doc.to_string(),
                kept.iter().map(ToString::to_string).collect(),
            );
        }
        for (doc, heads) in &d.durable {
            all.entry(doc.clone())
                .or_insert_with(|| heads.iter().map(ToString::to_string).collect());
        }
        all
    });
    if let Some(all) = all {
        keep(all).await;
    }
}

/// Keep the server's latest word on what is durable (in memory and in IndexedDB), and when it
/// came (the "last synced" line).
async fn keep(durable: HashMap<String, Vec<String>>) {
    let now = dom::now_ms();
    dom::local_keep(LAST_SYNC_KEY, &now.to_string());
    with(|d| d.ui.last_sync.set(Some(now)));
    storage::save_durable(&durable).await;
    with(|d| d.durable = storage::parse_heads(durable));
    views::refresh();
}

/// If changes stay unconfirmed while connected, renegotiate those documents from a fresh sync
/// state: automerge's sync can stall with both sides waiting (see `SyncClient::resync`). When, and
/// how the wait grows, is `shared::driver::Nudge`'s decision. Returns whether any change waits.
pub(super) fn nudge_if_stuck() -> bool {
    let now = dom::now_ms();
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
                    .is_some_and(|doc| unsynced_changes(doc, heads) > 0)
            })
            .copied()
            .collect();
        let events = if d.nudge.poll(now, !stuck.is_empty()) {
            stuck.iter().flat_map(|id| d.client.resync(id)).collect()
        } else {
            Vec::new()
        };
        (events, !stuck.is_empty())
    });
    let (events, waiting) = events.unwrap_or_default();
    handle(events);
    waiting
}

/// Whether the server still accepts this device's login (`GET /api/me`). A 401 puts the app in
/// its signed-out state; no answer at all (offline) counts as still signed in.
pub(super) async fn still_signed_in() -> bool {
    match js::fetch("GET", "/api/me", None).await {
        Ok((401, _)) => {
            signed_out();
            false
        }
        _ => true,
    }
}

/// The server no longer accepts this device's login: said plainly, sync stopped, nothing on the
/// device touched (its unsynced work can still be exported, or synced after a new login).
fn signed_out() {
    with(|d| {
        d.ui.signed_out.set(true);
        d.ui.banner.set(Some(
            tr(
                "Máy này đã bị đăng xuất. Dữ liệu trên máy vẫn được giữ: hãy xuất tệp ở mục Đồng bộ, rồi đăng nhập lại.",
                "This device was signed out. Its data is kept: export it from the Sync tab, then log in again.",
            )
            .into(),
        ));
    });
    super::socket::close();
}
