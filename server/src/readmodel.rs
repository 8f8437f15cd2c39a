//! The read model: SQL tables derived from the *stored* documents, refreshed after every commit.
//!
//! It reads documents back from SQLite rather than from samod's memory, so dashboards only ever count
//! what is durable, and a document whose content does not match its ID is never counted.

use crate::AppState;
use crate::db::DocRow;
use shared::schema;
use shared::{DocKind, DocumentId};
use std::collections::BTreeSet;
use std::time::Duration;

pub async fn run(st: AppState, mut rx: tokio::sync::mpsc::UnboundedReceiver<String>) {
    backfill_blob_refs(&st).await;
    while let Some(first) = rx.recv().await {
        // Coalesce a burst (a phone pushing a week of notes) into one refresh per document.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut docs = BTreeSet::from([first]);
        while let Ok(d) = rx.try_recv() {
            docs.insert(d);
        }
        for d in docs {
            refresh(&st, &d).await;
        }
    }
}

pub async fn refresh(st: &AppState, doc: &str) {
    let Ok(id) = doc.parse::<DocumentId>() else {
        return;
    };
    let Some(key) = st.registry.get(&id) else {
        tracing::warn!(doc, "stored document is not in the registry; not indexed");
        return;
    };
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
            // Schema-violating entries are quarantined: kept in the document, left out of counts.
            let bad = schema::check(am, kind);
            let is_bad = |k: &str| bad.iter().any(|(b, _)| b == k);
            let derived = match kind {
                DocKind::Notes => {
                    let notes: Vec<_> = schema::read_notes(am)
                        .into_iter()
                        .filter(|n| !is_bad(&n.id))
                        .collect();
                    let photos = notes.iter().flat_map(|n| n.photos.clone()).collect();
                    Derived::Notes(notes.len() as i64, photos)
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
            (claimed, from_device, bad, derived)
        })
        .await;
    let Some((claimed, from_device, bad, derived)) = derived else {
        return;
    };
    if claimed.as_ref() != Some(&key) {
        tracing::warn!(doc, "document content does not match its id; not indexed");
        return;
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
    if let Err(e) = st.db.touch_document(&row, key.commune(), now) {
        tracing::error!(doc, error = %e, "read model update failed");
    }
    if !bad.is_empty() {
        tracing::warn!(
            doc,
            entries = bad.len(),
            "schema-violating entries quarantined"
        );
    }
    if let Err(e) = st.db.set_quarantine(doc, &bad, crate::clock::now_ms()) {
        tracing::error!(doc, error = %e, "quarantine update failed");
    }
    let result = match derived {
        Derived::Notes(n, photos) => st
            .db
            .set_note_count(&key.scope, &key.period, n)
            .and_then(|()| st.db.set_blob_refs(doc, &photos)),
        Derived::Progress(records) => match key.scope.split_once('/') {
            Some((plan, commune)) => st.db.set_progress(plan, commune, &records),
            None => Ok(()),
        },
        Derived::Org(nodes) => sync_org(st, nodes),
        Derived::Plan(title) if !title.is_empty() => st.db.insert_plan(&key.scope, &title),
        Derived::Plan(_) => Ok(()),
    };
    if let Err(e) = result {
        tracing::error!(doc, error = %e, "read model update failed");
    }
}

/// What a document contributes to the read model.
enum Derived {
    /// The number of notes and the photos they reference (whose readers may read those blobs).
    Notes(i64, Vec<String>),
    Progress(Vec<schema::ProgressRecord>),
    Org(Vec<schema::OrgNode>),
    Plan(String),
}

/// Photo references came into the read model after documents did: index every stored notes
/// document once, so photos uploaded before keep their readers.
async fn backfill_blob_refs(st: &AppState) {
    const DONE: &str = "blob_refs_indexed";
    if st.db.meta(DONE).ok().flatten().is_some() {
        return;
    }
    let docs = match st.db.documents() {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "listing documents for the photo index failed");
            return;
        }
    };
    for d in docs.iter().filter(|d| d.kind == DocKind::Notes.as_str()) {
        refresh(st, &d.doc_id).await;
    }
    if let Err(e) = st.db.set_meta(DONE, "1") {
        tracing::error!(error = %e, "photo index not marked done");
    }
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
