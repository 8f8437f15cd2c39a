//! A full disk (issue 17), made with SQLite's page limit (`DocStorage::set_page_limit`): the
//! server's writes fail loudly (logged, counted, `/healthz` 503), it keeps answering reads, it
//! confirms nothing it has not committed, and when space returns the waiting writes go in by
//! themselves — every note typed meanwhile ends up durable, and survives a restart.

use crate::common::*;
use shared::DocKey;
use shared::schema::{self, Note};
use std::time::{Duration, Instant};

fn note(n: usize, quarter: shared::Quarter) -> Note {
    Note {
        id: format!("full-{n:03}"),
        activity_date: quarter.first_day(),
        title: format!("Ghi chép {n}"),
        // Big enough that a few of them need new pages.
        content: "Họp dân ở thôn 3, ý kiến về đường giao thông nông thôn. ".repeat(200),
        author: "storm000".into(),
        created_at: server::clock::now_ms(),
        ..Note::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_confirms_nothing_keeps_reading_and_resumes_when_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let base = srv.url();
    let hash = server::auth::hash_password("not used: the devices are logged in already");
    let login = device_login(&srv, "xa-ka-don", 0, &hash);
    let mut dev = Device::connect_as(srv.addr, &login.token, &login.peer_id)
        .await
        .unwrap();
    let quarter = server::clock::current_quarter();
    let key = DocKey::notes("xa-ka-don", quarter);
    let id = dev.track(&key, true).await;
    let first = note(0, quarter);
    dev.change(&id, |d| schema::put_note(d, &first).unwrap())
        .await;
    wait_covered(&base, &login.token, &mut dev, &id).await;
    let health = || async {
        let r = HTTP.get(format!("{base}/healthz")).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    assert_eq!(health().await.0, 200);

    // The disk is full: the database may not grow by a single page.
    let pages: u64 = rusqlite::Connection::open(server::db::path_in(dir.path()))
        .unwrap()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    srv.state.storage.set_page_limit(Some(pages));
    for n in 1..=10 {
        let nt = note(n, quarter);
        dev.change(&id, |d| schema::put_note(d, &nt).unwrap()).await;
    }
    // Nothing of it is confirmed, however long the phone asks; the failure shows on /healthz.
    let until = Instant::now() + Duration::from_secs(3);
    while Instant::now() < until {
        assert!(dev.pump_until(|_| false, Duration::from_millis(100)).await);
        let doc = dev.client.doc(&id).unwrap();
        assert_eq!(
            durable_check(&base, &login.token, &id, doc).await,
            Some(false),
            "confirmed durable while the disk is full"
        );
    }
    let (status, text) = health().await;
    assert_eq!(status, 503, "{text}");
    assert!(!text.contains("storage_write_errors 0"), "{text}");
    // Reads go on: the phone's documents list and what is durable.
    let docs = HTTP
        .get(format!("{base}/api/docs"))
        .bearer_auth(&login.token)
        .send()
        .await
        .unwrap();
    assert_eq!(docs.status(), 200);
    let stored = srv
        .state
        .storage
        .with_durable(id.to_string(), |d| schema::read_notes(d).len())
        .await
        .expect("the first note is stored");
    assert_eq!(
        stored, 1,
        "only the note from before the disk filled is durable"
    );

    // Space returns: the waiting writes go in without anyone sending anything again.
    srv.state.storage.set_page_limit(None);
    wait_covered(&base, &login.token, &mut dev, &id).await;
    let typed = dev.client.doc(&id).unwrap().get_heads();
    srv.stop().await;

    // And they survive a restart.
    let srv = TestServer::start(dir.path(), 0).await;
    let (ids, heads) = srv
        .state
        .storage
        .with_durable(id.to_string(), |d| {
            let ids: Vec<String> = schema::read_notes(d)
                .into_iter()
                .map(|n| n.id)
                .filter(|n| n.starts_with("full-"))
                .collect();
            (ids, d.get_heads())
        })
        .await
        .unwrap();
    assert_eq!(ids.len(), 11, "{ids:?}");
    assert!(
        typed.iter().all(|h| heads.contains(h)),
        "the phone's heads are all stored"
    );
    srv.stop().await;
}
