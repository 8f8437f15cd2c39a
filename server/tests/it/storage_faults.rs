//! A storage that fails to read is never taken for "nothing stored": a read is retried, then
//! counted, logged and shown on `/healthz`, and samod (patched for a fallible storage) keeps the
//! document loading instead of serving it empty or saying it is unavailable.

use crate::common::*;
use samod::storage::{Storage, StorageKey};
use shared::DocKey;
use shared::schema;
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
    let stored = storage.doc_chunks(org.clone()).await.unwrap();
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
    let found = storage.try_load_range(prefix.clone()).await.unwrap();
    back.await.unwrap();
    assert_eq!(
        found.len(),
        stored.len(),
        "a retried read returns what is stored"
    );

    // The table stays away: after the retries the read is an error (never an empty answer), the
    // failure is counted and the server reports itself unhealthy.
    // (Other tasks — the read model, samod — may fail reads in the same window; they count too.)
    let before = storage.health().read_errors;
    hide_chunks(dir.path(), true);
    assert!(storage.try_load_range(prefix.clone()).await.is_err());
    let after = storage.health().read_errors;
    assert!(after > before, "{before} → {after}");
    let (status, body) = healthz().await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("storage_read_errors"), "{body}");

    // Nothing was lost: once the table is back, everything reads again.
    hide_chunks(dir.path(), false);
    assert_eq!(
        storage.try_load_range(prefix).await.unwrap().len(),
        stored.len()
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_that_cannot_be_read_is_not_served_as_absent() {
    let dir = tempfile::tempdir().unwrap();
    let quarter = server::clock::current_quarter();
    let key = DocKey::notes("xa-ka-don", quarter);
    let note = field_note("01UNREADABLE".into(), quarter, "kadon");
    {
        let srv = TestServer::start(dir.path(), 0).await;
        put_note(&srv, &key, note.clone()).await;
        srv.stop().await;
    }
    // A new server process: samod has not loaded the document, and now cannot read it.
    let srv = TestServer::start(dir.path(), 0).await;
    hide_chunks(dir.path(), true);
    let hash = server::auth::hash_password("not used");
    let login = device_login(&srv, "xa-ka-don", 1, &hash);
    let mut phone = Device::connect_as(srv.addr, &login.token, &login.peer_id)
        .await
        .unwrap();
    // A phone new to the commune asks for the notes: with nothing to sync from, an "absent"
    // document would be answered as unavailable at once.
    let id = phone.track(&key, false).await;
    assert!(phone.pump_until(|_| false, Duration::from_secs(3)).await);
    assert!(
        phone.unavailable.is_empty(),
        "an unreadable document was reported unavailable"
    );
    assert!(schema::read_notes(phone.client.doc(&id).unwrap()).is_empty());
    let r = reqwest::get(format!("{}/healthz", srv.url()))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503, "the failing reads are reported");

    // Readable again: the waiting request is answered with what is stored.
    hide_chunks(dir.path(), false);
    let has_note = |d: &Device| {
        schema::read_notes(d.client.doc(&id).unwrap())
            .iter()
            .any(|n| n.id == note.id)
    };
    assert!(phone.pump_until(has_note, Duration::from_secs(10)).await);
    assert!(has_note(&phone), "the stored note reached the phone");
    assert!(phone.unavailable.is_empty());
    srv.stop().await;
}
