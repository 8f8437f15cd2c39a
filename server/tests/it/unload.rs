//! Memory follows activity: a document's durable state nobody asks about is dropped from the
//! server's memory and read from SQLite again when it is next needed, under a device that stayed
//! connected all along — its later notes are stored, confirmed durable and indexed like the first.

use crate::common::*;
use shared::DocKey;
use shared::schema::{self, Note};
use std::time::{Duration, Instant};

fn note(id: &str, date: &str) -> Note {
    Note {
        id: id.into(),
        activity_date: date.into(),
        title: format!("Ghi chép {id}"),
        content: "Tuyên truyền ở thôn 2, 25 người tham dự.".into(),
        author: "kadon".into(),
        created_at: server::clock::now_ms(),
        ..Note::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_document_is_unloaded_and_read_again_under_a_connected_device() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(dir.path(), 0, |c| {
        c.unload_after = Duration::from_millis(300);
    })
    .await;
    let base = srv.url();
    let (login, mut phone) = logged_in_device(&srv, "kadon").await;
    let quarter = server::clock::current_quarter();
    let key = DocKey::notes("xa-ka-don", quarter);
    let doc = key.doc_id().to_string();
    let id = phone.track(&key, true).await;
    let first = note("01UNLOAD-A", &quarter.first_day());
    phone
        .change(&id, |d| schema::put_note(d, &first).unwrap())
        .await;
    wait_covered(&base, &login.token, &mut phone, &id).await;
    assert!(srv.state.storage.is_loaded(&doc), "asked about, so loaded");

    // Quiet for longer than the idle time: the durable state leaves memory (the read model and the
    // durable-heads answers asked about it last; nothing asks now).
    let deadline = Instant::now() + Duration::from_secs(5);
    while srv.state.storage.is_loaded(&doc) && Instant::now() < deadline {
        assert!(phone.pump_until(|_| false, Duration::from_millis(50)).await);
    }
    assert!(
        !srv.state.storage.is_loaded(&doc),
        "idle for {:?} and still loaded",
        Duration::from_secs(5)
    );

    // The same socket writes again: stored, confirmed durable from SQLite, indexed, and the first
    // note is still there.
    let second = note("01UNLOAD-B", &quarter.first_day());
    phone
        .change(&id, |d| schema::put_note(d, &second).unwrap())
        .await;
    wait_covered(&base, &login.token, &mut phone, &id).await;
    let ids = srv
        .state
        .storage
        .with_durable(doc.clone(), |d| {
            schema::read_notes(d)
                .into_iter()
                .map(|n| n.id)
                .filter(|n| n.starts_with("01UNLOAD"))
                .collect::<std::collections::BTreeSet<_>>()
        })
        .await
        .expect("stored");
    assert_eq!(ids, ["01UNLOAD-A".to_string(), "01UNLOAD-B".into()].into());
    settled(&srv, &key).await;
    let rows = srv.state.db.read_model_dump().unwrap();
    for n in ["01UNLOAD-A", "01UNLOAD-B"] {
        assert!(
            rows.iter()
                .any(|l| l.starts_with("rm_note_rows") && l.contains(n)),
            "{n} is in the read model: {:?}",
            rows.iter()
                .filter(|l| l.starts_with("rm_note_rows"))
                .collect::<Vec<_>>()
        );
    }
    assert!(phone.client.is_connected());
    srv.stop().await;
}
