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
    let server = crate::seed::server_actor();
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
            let (notes, bad) = if kind == DocKind::Notes {
                let bad = schema::check_notes(am);
                let valid = schema::read_notes(am)
                    .iter()
                    .filter(|n| !bad.iter().any(|(k, _)| *k == n.id))
                    .count();
                (Some(valid as i64), bad)
            } else {
                (None, Vec::new())
            };
            let progress = (kind == DocKind::Progress).then(|| schema::read_progress(am));
            (claimed, from_device, notes, bad, progress)
        })
        .await;
    let Some((claimed, from_device, notes, bad, progress)) = derived else {
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
        Some(crate::auth::now_ms())
    } else {
        None
    };
    if let Err(e) = st.db.touch_document(&row, key.commune(), now) {
        tracing::error!(doc, error = %e, "read model update failed");
    }
    if let (Some(records), Some((plan, commune))) = (progress, key.scope.split_once('/'))
        && let Err(e) = st.db.set_progress(plan, commune, &records)
    {
        tracing::error!(doc, error = %e, "read model update failed");
    }
    if !bad.is_empty() {
        tracing::warn!(
            doc,
            entries = bad.len(),
            "schema-violating entries quarantined"
        );
    }
    if let Err(e) = st.db.set_quarantine(doc, &bad, crate::auth::now_ms()) {
        tracing::error!(doc, error = %e, "quarantine update failed");
    }
    if let Some(n) = notes
        && let Err(e) = st.db.set_note_count(&key.scope, &key.period, n)
    {
        tracing::error!(doc, error = %e, "read model update failed");
    }
}
