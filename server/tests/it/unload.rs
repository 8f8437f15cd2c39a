//! Memory follows activity: a document nobody uses leaves the server's memory — samod's copy (our
//! samod patch) and the durable state alike — and is read from SQLite again when it is next needed,
//! under devices that stayed connected all along: a later note is stored, confirmed durable and
//! indexed like the first, and still reaches the phone of the commune that only listens.

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

/// Every note with an `id` starting with `prefix`, as one device sees the document.
fn ids(dev: &Device, id: &shared::DocumentId, prefix: &str) -> std::collections::BTreeSet<String> {
    dev.client
        .doc(id)
        .map(|d| {
            schema::read_notes(d)
                .into_iter()
                .map(|n| n.id)
                .filter(|n| n.starts_with(prefix))
                .collect()
        })
        .unwrap_or_default()
}

/// Pump both devices until `done` holds for `dev` (at most 10 s).
async fn until_seen(a: &mut Device, b: &mut Device, done: impl Fn(&Device) -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        assert!(a.pump_until(|_| false, Duration::from_millis(20)).await);
        assert!(b.pump_until(|_| false, Duration::from_millis(20)).await);
        if done(b) {
            return true;
        }
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reloaded_document_keeps_reaching_the_phone_that_only_listens() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(dir.path(), 0, |c| {
        c.unload_after = Duration::from_millis(300);
    })
    .await;
    let hash = server::auth::hash_password("not used: the devices are logged in already");
    let quarter = server::clock::current_quarter();
    let key = DocKey::notes("xa-ka-don", quarter);
    let (wl, ll) = (
        device_login(&srv, "xa-ka-don", 0, &hash),
        device_login(&srv, "xa-ka-don", 1, &hash),
    );
    let mut writer = Device::connect_as(srv.addr, &wl.token, &wl.peer_id)
        .await
        .unwrap();
    let mut listener = Device::connect_as(srv.addr, &ll.token, &ll.peer_id)
        .await
        .unwrap();
    let id = writer.track(&key, true).await;
    listener.track(&key, true).await;
    let first = note("02RELOAD-A", &quarter.first_day());
    writer
        .change(&id, |d| schema::put_note(d, &first).unwrap())
        .await;
    assert!(
        until_seen(&mut writer, &mut listener, |l| !ids(l, &id, "02RELOAD")
            .is_empty())
        .await,
        "the first note reaches the listener while the document is loaded"
    );
    assert!(srv.state.hub.loaded_documents() > 0);

    // Quiet: samod lets the document go (both phones stay connected and say nothing).
    let deadline = Instant::now() + Duration::from_secs(10);
    while srv.state.hub.loaded_documents() > 0 && Instant::now() < deadline {
        assert!(
            writer
                .pump_until(|_| false, Duration::from_millis(50))
                .await
        );
        assert!(
            listener
                .pump_until(|_| false, Duration::from_millis(50))
                .await
        );
    }
    assert_eq!(
        srv.state.hub.loaded_documents(),
        0,
        "idle documents unloaded"
    );
    assert!(writer.client.is_connected() && listener.client.is_connected());

    // The writer's next note loads the document again from SQLite; the listener, which has not
    // said a word since, receives it — and then its own note reaches the writer.
    let second = note("02RELOAD-B", &quarter.first_day());
    writer
        .change(&id, |d| schema::put_note(d, &second).unwrap())
        .await;
    assert!(
        until_seen(&mut writer, &mut listener, |l| ids(l, &id, "02RELOAD")
            .len()
            == 2)
        .await,
        "after the reload the listener has {:?}",
        ids(&listener, &id, "02RELOAD")
    );
    assert!(srv.state.hub.loaded_documents() > 0, "loaded again");
    let third = note("02RELOAD-C", &quarter.first_day());
    listener
        .change(&id, |d| schema::put_note(d, &third).unwrap())
        .await;
    assert!(
        until_seen(&mut listener, &mut writer, |w| ids(w, &id, "02RELOAD")
            .len()
            == 3)
        .await,
        "the writer has {:?}",
        ids(&writer, &id, "02RELOAD")
    );
    wait_covered(&srv.url(), &wl.token, &mut writer, &id).await;
    let stored = srv
        .state
        .storage
        .with_durable(id.to_string(), |d| schema::read_notes(d).len())
        .await
        .expect("stored");
    assert!(stored >= 3, "SQLite has the three notes, has {stored}");
    srv.stop().await;
}
