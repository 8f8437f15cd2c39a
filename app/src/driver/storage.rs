//! The driver's IndexedDB: documents loaded at start (and compacted when stored as many chunks),
//! each change written as one chunk before it counts as saved, and the durable heads kept for an
//! offline reload.

use super::with;
use crate::common::i18n::tr;
use crate::common::state::Ui;
use crate::js;
use crate::js::dom;
use automerge::{Automerge, ChangeHash};
use leptos::prelude::Set;
use shared::DocumentId;
use std::collections::{BTreeMap, HashMap};

/// Where the durable heads are kept (IndexedDB meta), as document ID → hex change hashes.
const DURABLE_KEY: &str = "durable-heads";

/// A document stored as more incremental chunks than this is compacted at start.
const COMPACT_AFTER_CHUNKS: usize = 16;
/// A document stored in several chunks adding up to more than this is compacted at start too:
/// a busy quarter's first sync arrives as a few large chunks of raw changes (3 MB for 2,000
/// notes, which save to 330 KB), slow to replay at every start.
const COMPACT_AFTER_BYTES: usize = 256 * 1024;

/// What start-up read from IndexedDB.
pub(super) struct Loaded {
    pub docs: Vec<(DocumentId, Automerge)>,
    /// Documents read but not parsed yet (notes): their stored chunks, in write order.
    pub deferred: Vec<(DocumentId, Vec<Vec<u8>>)>,
    /// Documents stored as so many chunks that they start slowly (each save added one).
    pub to_compact: Vec<DocumentId>,
    /// The newest chunk's key at start: every chunk up to it is in `docs`.
    pub upto: Option<f64>,
    pub durable: HashMap<String, Vec<ChangeHash>>,
}

/// Read every stored chunk and the durable heads, and load the documents, except those `defer`
/// names: their chunks are returned as they are, for [`load_chunks`] when needed. A failed read is
/// shown on the banner.
pub(super) async fn load(ui: &Ui, defer: impl Fn(&str) -> bool) -> Loaded {
    let mut docs: BTreeMap<String, Automerge> = BTreeMap::new();
    let mut deferred: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    // Chunks and bytes per document.
    let mut chunk_counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    // Nothing writes chunks before the driver exists: every chunk up to this key is loaded below.
    let upto = js::max_chunk_key().await;
    match js::all_chunks().await {
        Ok(chunks) => {
            dom::mark("danvan:chunks-read");
            for (doc, data) in chunks {
                let c = chunk_counts.entry(doc.clone()).or_default();
                c.0 += 1;
                c.1 += data.len();
                if defer(&doc) {
                    deferred.entry(doc).or_default().push(data);
                } else {
                    load_chunk(docs.entry(doc).or_default(), &data);
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
    dom::mark("danvan:docs-loaded");
    let to_compact = chunk_counts
        .into_iter()
        .filter(|(_, (n, bytes))| {
            *n > COMPACT_AFTER_CHUNKS || (*n > 1 && *bytes > COMPACT_AFTER_BYTES)
        })
        .filter_map(|(d, _)| d.parse().ok())
        .collect();
    let docs = docs
        .into_iter()
        .filter_map(|(id, am)| Some((id.parse().ok()?, am)))
        .collect();
    let deferred = deferred
        .into_iter()
        .filter_map(|(id, chunks)| Some((id.parse().ok()?, chunks)))
        .collect();
    Loaded {
        docs,
        deferred,
        to_compact,
        upto,
        durable: load_durable().await,
    }
}

/// A document from its stored chunks (see [`Loaded::deferred`]).
pub(super) fn load_chunks(chunks: &[Vec<u8>]) -> Automerge {
    let mut am = Automerge::new();
    for data in chunks {
        load_chunk(&mut am, data);
    }
    am
}

/// Add one stored chunk to a document. A chunk that does not load is reported and skipped: the
/// rest of the document (and its other chunks) still opens.
fn load_chunk(am: &mut Automerge, data: &[u8]) {
    if let Err(e) = am.load_incremental(data) {
        dom::console_error(&format!(
            "chunk of {} does not load: {e}",
            am.get_heads().len()
        ));
    }
}

/// Rewrite the given documents as one chunk each (in the background, after the app is up). Only
/// chunks up to `upto` (those loaded at start, all contained in the document now) are replaced.
pub(super) async fn compact(docs: Vec<DocumentId>, upto: f64) {
    for id in docs {
        let Some(bytes) = with(|d| d.client.doc(&id).map(Automerge::save)).flatten() else {
            continue;
        };
        let doc = id.to_string();
        if let Err(e) = js::compact_chunks(&doc, &bytes, upto).await {
            dom::console_warn(&format!("compacting {doc}: {e}"));
        }
    }
}

/// Write what is new in a document to IndexedDB (one request per chunk). Returns false if a write
/// failed: the banner then says so, and the chunk waits in memory to be written first by the next
/// call. The sync client hands out each change's bytes only once, so dropping a failed chunk would
/// leave a hole in what the device keeps, and a later retry would report success with nothing
/// written.
pub(super) async fn persist(id: &DocumentId) -> bool {
    // Chunks set aside earlier (of any document) go first, in their order.
    let mut chunks = with(|d| {
        let mut chunks = std::mem::take(&mut d.unwritten);
        chunks.extend(d.client.take_unsaved(id).map(|bytes| (*id, bytes)));
        chunks
    })
    .unwrap_or_default();
    let mut i = 0;
    while i < chunks.len() {
        let (doc, bytes) = &chunks[i];
        if let Err(e) = js::add_chunk(&doc.to_string(), bytes).await {
            let failed = chunks.split_off(i);
            with(|d| {
                // Ahead of any chunk set aside meanwhile (those are newer).
                let later = std::mem::replace(&mut d.unwritten, failed);
                d.unwritten.extend(later);
                d.ui.banner.set(Some(format!(
                    "{} ({e}). {}",
                    tr(
                        "LỖI: không lưu được vào máy",
                        "ERROR: could not save on this device"
                    ),
                    tr("Đừng tải lại trang.", "Do not reload the page.")
                )))
            });
            return false;
        }
        i += 1;
    }
    true
}

/// The durable heads kept at the last answer (none if never answered or unreadable).
async fn load_durable() -> HashMap<String, Vec<ChangeHash>> {
    let Ok(Some(text)) = js::get_meta(DURABLE_KEY).await else {
        return HashMap::new();
    };
    serde_json::from_str(&text)
        .map(parse_heads)
        .unwrap_or_default()
}

/// Heads as the driver looks them up (hashes that do not parse are left out).
pub(super) fn parse_heads(heads: HashMap<String, Vec<String>>) -> HashMap<String, Vec<ChangeHash>> {
    heads
        .into_iter()
        .map(|(doc, hs)| (doc, hs.iter().filter_map(|h| h.parse().ok()).collect()))
        .collect()
}

/// Keep the durable heads for the badge after an offline reload. If the write fails the badge may
/// count too many changes as unsynced after a reload (the safe direction) until the next answer.
pub(super) async fn save_durable(durable: &HashMap<String, Vec<String>>) {
    let text = serde_json::to_string(durable).unwrap_or_default();
    if let Err(e) = js::set_meta(DURABLE_KEY, &text).await {
        dom::console_warn(&format!("keeping the durable heads: {e}"));
    }
}
