//! A storage that fails to read: samod's trait cannot return an error, so a failed read must not
//! pass quietly for "nothing stored". It is retried, then counted, logged and shown on `/healthz`.

use crate::common::*;
use samod::storage::{Storage, StorageKey};
use shared::DocKey;
use std::time::Duration;

fn hide_chunks(dir: &std::path::Path, hidden: bool) {
    let c = rusqlite::Connection::open(dir.join("danvan.sqlite3")).unwrap();
    c.execute_batch(if hidden {
        "ALTER TABLE chunks RENAME TO chunks_away"
    } else {
        "ALTER TABLE chunks_away RENAME TO chunks"
    })
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_read_is_retried_then_counted_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let storage = srv.state.storage.clone();
    let org = DocKey::org().doc_id().to_string();
    let stored = storage.doc_chunks(org.clone()).await;
    assert!(!stored.is_empty(), "the seeded org document is stored");
    let prefix = StorageKey::from_parts([org.as_str()]).unwrap();
    let healthz = || async {
        let r = reqwest::get(format!("{}/healthz", srv.url()))
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    assert_eq!(healthz().await.0, 200);

    // The table comes back while the read is retrying: the read succeeds, nothing is counted.
    hide_chunks(dir.path(), true);
    let path = dir.path().to_path_buf();
    let back = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        hide_chunks(&path, false);
    });
    let found = storage.load_range(prefix.clone()).await;
    back.await.unwrap();
    assert_eq!(
        found.len(),
        stored.len(),
        "a retried read returns what is stored"
    );

    // The table stays away: after the retries samod is told "absent", but the failure is counted
    // and the server reports itself unhealthy.
    // (Other tasks — the read model, samod — may fail reads in the same window; they count too.)
    let before = storage.health().read_errors;
    hide_chunks(dir.path(), true);
    assert!(storage.load_range(prefix.clone()).await.is_empty());
    let after = storage.health().read_errors;
    assert!(after > before, "{before} → {after}");
    let (status, body) = healthz().await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("storage_read_errors"), "{body}");

    // Nothing was lost: once the table is back, everything reads again.
    hide_chunks(dir.path(), false);
    assert_eq!(storage.load_range(prefix).await.len(), stored.len());
    srv.stop().await;
}
