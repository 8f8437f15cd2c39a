//! The read model: SQL tables derived from the *stored* documents, refreshed after every commit.
//!
//! It reads documents back from SQLite rather than from samod's memory, so dashboards only ever count
//! what is durable, and a document whose content does not match its ID is never counted.

use crate::AppState;
use crate::db::{DocRow, NotesChange, NotesDoc};
use crate::storage::Committed;
use shared::schema;
use shared::{DocKind, DocumentId};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// How notes documents were indexed since start: (whole, from the diff of one commit). Logged by
/// benchmarks; the read model test checks that the diff path is the one taken.
static WHOLE: AtomicU64 = AtomicU64::new(0);
static INCREMENTAL: AtomicU64 = AtomicU64::new(0);

pub fn update_counts() -> (u64, u64) {
    (
        WHOLE.load(Ordering::Relaxed),
        INCREMENTAL.load(Ordering::Relaxed),
    )
}

/// One writer of the read model at a time. An update reads the heads a document was indexed at,
/// then writes rows and new heads; a `rebuild` clearing the tables between the two would leave
/// the heads of rows that are gone (and the document never indexed again).
static WRITER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Another node's commit is indexed by that node; this one looks at the document only this long
/// after, in case that node stopped between its commit and its index (the look then finds work;
/// usually it finds the document indexed and writes nothing). A burst of another node's commits
/// costs this node one look, not one per commit.
const ELSEWHERE_AFTER: Duration = Duration::from_secs(5);

pub async fn run(st: AppState, mut rx: tokio::sync::mpsc::UnboundedReceiver<Committed>) {
    {
        let _one = WRITER.lock().await;
        index_unindexed(&st).await;
    }
    // Documents other nodes committed, and since when.
    let mut later: BTreeMap<String, tokio::time::Instant> = BTreeMap::new();
    loop {
        let due = later.values().min().map(|t| *t + ELSEWHERE_AFTER);
        let first = tokio::select! {
            c = rx.recv() => match c {
                Some(c) => Some(c),
                None => return,
            },
            _ = tokio::time::sleep_until(due.unwrap_or_else(tokio::time::Instant::now)), if due.is_some() => None,
        };
        let mut docs = BTreeSet::new();
        if let Some(first) = first {
            // Coalesce a burst (a phone pushing a week of notes) into one refresh per document.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let mut add = |c: Committed| {
                if c.elsewhere {
                    later.entry(c.doc).or_insert_with(tokio::time::Instant::now);
                } else {
                    // This refresh reads the whole stored document, other nodes' work included.
                    later.remove(&c.doc);
                    docs.insert(c.doc);
                }
            };
            add(first);
            while let Ok(c) = rx.try_recv() {
                add(c);
            }
        }
        let now = tokio::time::Instant::now();
        later.retain(|doc, since| {
            let waiting = now.duration_since(*since) < ELSEWHERE_AFTER;
            if !waiting {
                docs.insert(doc.clone());
            }
            waiting
        });
        if docs.is_empty() {
            continue;
        }
        let _one = WRITER.lock().await;
        for d in docs {
            refresh(&st, &d).await;
        }
    }
}

pub async fn refresh(st: &AppState, doc: &str) {
    // A notes document another node indexed between our read of its indexed heads and our
    // write is worked out again; a few rounds settle any race (each round sees newer heads).
    for _ in 0..5 {
        if refresh_once(st, doc).await {
            return;
        }
    }
    tracing::warn!(
        doc,
        "read model update kept racing another node; left to its next commit"
    );
}

/// One pass of [`refresh`]; `false` if another node indexed the document meanwhile.
async fn refresh_once(st: &AppState, doc: &str) -> bool {
    let Ok(id) = doc.parse::<DocumentId>() else {
        return true;
    };
    let Some(key) = st.registry.get(&id) else {
        tracing::warn!(doc, "stored document is not in the registry; not indexed");
        return true;
    };
    // What the notes rows were last indexed at: the next commit is applied from the diff.
    let indexed_at = match key.kind {
        DocKind::Notes => st.db.indexed_heads(doc).ok().flatten(),
        _ => None,
    };
    let indexed: Option<Vec<automerge::ChangeHash>> = indexed_at.as_ref().map(|h| {
        h.split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect()
    });
    // Everything derived in one pass over the durable document.
    let server = crate::clock::server_actor();
    let genesis = schema::genesis_actor(&key);
    let kind = key.kind;
    let derived = st
        .storage
        .with_durable(doc.to_string(), move |am| {
            let claimed = schema::doc_key_of(am);
            // "Last sync" of a commune is the last change a device made, not the server's seeding.
            let from_device = am
                .get_changes_meta(&[])
                .iter()
                .any(|c| *c.actor != genesis && *c.actor != server);
            // Only the notes a commit touched, when the last indexed heads are known.
            let touched = match (kind, &indexed) {
                (DocKind::Notes, Some(h)) => schema::changed_keys(am, kind, h),
                _ => None,
            };
            // Schema-violating entries are quarantined: kept in the document, left out of counts.
            let bad = match &touched {
                Some(keys) => schema::check_keys(am, kind, keys),
                None => schema::check(am, kind),
            };
            let is_bad = |k: &str| bad.iter().any(|(b, _)| b == k);
            let derived = match kind {
                DocKind::Notes => {
                    let heads = am
                        .get_heads()
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" ");
                    let change = match &touched {
                        Some(keys) => {
                            INCREMENTAL.fetch_add(1, Ordering::Relaxed);
                            let (mut live, mut gone) = (Vec::new(), Vec::new());
                            for k in keys {
                                match schema::read_note(am, k).filter(|n| !is_bad(&n.id)) {
                                    Some(n) => live.push(n),
                                    None => gone.push(k.clone()),
                                }
                            }
                            NotesChange::Some { live, gone }
                        }
                        None => NotesChange::Full({
                            WHOLE.fetch_add(1, Ordering::Relaxed);
                            schema::read_notes(am)
                                .into_iter()
                                .filter(|n| !is_bad(&n.id))
                                .collect()
                        }),
                    };
                    Derived::Notes(change, heads)
                }
                DocKind::Progress => Derived::Progress(
                    schema::read_progress(am)
                        .into_iter()
                        .filter(|r| !is_bad(&schema::Entry::entry_key(r)))
                        .collect(),
                ),
                DocKind::Org => Derived::Org(
                    schema::read_org(am)
                        .into_iter()
                        .filter(|n| !is_bad(&n.id))
                        .collect(),
                ),
                DocKind::Plan => Derived::Plan(schema::read_plan_header(am).title),
            };
            (claimed, from_device, bad, touched, derived)
        })
        .await;
    let Some((claimed, from_device, bad, touched, derived)) = derived else {
        return true;
    };
    if claimed.as_ref() != Some(&key) {
        tracing::warn!(doc, "document content does not match its id; not indexed");
        return true;
    }
    let row = DocRow {
        doc_id: doc.to_string(),
        kind: key.kind.as_str().to_string(),
        scope: key.scope.clone(),
        period: key.period.clone(),
    };
    let now = if from_device {
        Some(crate::clock::now_ms())
    } else {
        None
    };
    match st.db.touch_document(&row, key.commune(), now) {
        Ok(()) => st.registry.stored(&id, &key),
        Err(e) => tracing::error!(doc, error = %e, "read model update failed"),
    }
    if !bad.is_empty() {
        tracing::warn!(
            doc,
            entries = bad.len(),
            "schema-violating entries quarantined"
        );
    }
    let quarantined = match &touched {
        Some(keys) => st
            .db
            .update_quarantine(doc, keys, &bad, crate::clock::now_ms()),
        None => st.db.set_quarantine(doc, &bad, crate::clock::now_ms()),
    };
    if let Err(e) = quarantined {
        tracing::error!(doc, error = %e, "quarantine update failed");
    }
    let result = match derived {
        Derived::Notes(change, heads) => {
            let d = NotesDoc {
                doc_id: doc,
                commune: &key.scope,
                period: &key.period,
            };
            match st
                .db
                .apply_notes(&d, &change, indexed_at.as_deref(), &heads)
            {
                Ok(Some((_, photos))) => st.db.set_blob_refs(doc, &photos),
                Ok(None) => return false,
                Err(e) => Err(e),
            }
        }
        Derived::Progress(records) => match key.scope.split_once('/') {
            Some((plan, commune)) => st.db.set_progress(plan, commune, &records),
            None => Ok(()),
        },
        Derived::Org(nodes) => sync_org(st, nodes),
        Derived::Plan(title) if !title.is_empty() => st.db.insert_plan(&key.scope, &title),
        Derived::Plan(_) => Ok(()),
    };
    match result {
        Err(e) => tracing::error!(doc, error = %e, "read model update failed"),
        // Open office screens read again (nobody listening is not an error).
        Ok(()) => {
            let _ = st
                .office_changes
                .send(key.commune().unwrap_or_default().to_string());
        }
    }
    true
}

/// What a document contributes to the read model.
enum Derived {
    /// What happened to the live notes, and the heads the document is now indexed at.
    Notes(NotesChange, String),
    Progress(Vec<schema::ProgressRecord>),
    Org(Vec<schema::OrgNode>),
    Plan(String),
}

/// Notes documents stored before the read model had note rows (or before a `rebuild` cleared
/// them) have no indexed heads: index each once, whole. Photo readers come with them.
async fn index_unindexed(st: &AppState) {
    let docs = match st.db.documents() {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "listing documents for the read model failed");
            return;
        }
    };
    for d in docs.iter().filter(|d| d.kind == DocKind::Notes.as_str()) {
        if matches!(st.db.indexed_heads(&d.doc_id), Ok(None)) {
            refresh(st, &d.doc_id).await;
        }
    }
}

/// `danvan-server readmodel rebuild`: every derived row written again from the stored documents
/// (org first, so communes exist before their notes; then plans, progress, notes). Gives the same
/// rows as the incremental updates did — the read model test holds it to that.
pub async fn rebuild(st: &AppState) -> Result<usize, crate::db::DbError> {
    let _one = WRITER.lock().await;
    st.db.clear_read_model()?;
    let mut docs = st.db.documents()?;
    let order = |k: &str| {
        ["org", "plan", "progress", "notes"]
            .iter()
            .position(|x| *x == k)
    };
    docs.sort_by_key(|d| order(&d.kind));
    for d in &docs {
        refresh(st, &d.doc_id).await;
    }
    Ok(docs.len())
}

/// The org tree an administrator edited → the node table (accounts hang on it; removed nodes stay,
/// flagged) and the accepted document IDs (communes added or removed). Parents first, so the
/// table's references hold; a node whose parent is unknown, or whose level this version does not
/// know, is logged and skipped, never guessed.
fn sync_org(st: &AppState, nodes: Vec<schema::OrgNode>) -> Result<(), crate::db::DbError> {
    let mut rows: Vec<crate::db::NodeRow> = nodes
        .into_iter()
        .map(|n| crate::db::NodeRow {
            level: n.level,
            id: n.id,
            name: n.name,
            parent: n.parent,
            removed: n.removed,
        })
        .filter(|n| n.level.is_known())
        .collect();
    // Levels are declared root first: parents before children.
    rows.sort_by(|a, b| a.level.cmp(&b.level));
    let before = st.db.nodes()?;
    for row in rows {
        if before.contains(&row) {
            continue;
        }
        if let Err(e) = st.db.upsert_node(&row) {
            tracing::warn!(node = %row.id, error = %e, "org node not applied to the node table");
        }
    }
    if let Err(e) = st.rebuild_registry() {
        tracing::error!(error = %e, "registry rebuild failed");
    }
    Ok(())
}
