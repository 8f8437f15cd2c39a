//! Batched fan-out (the samod-core patch, `patches/samod-core/PATCH.md`): ten phones of a commune
//! write one quarter's notes in a burst; every note reaches every phone and SQLite, and a phone
//! that only listens receives the burst in far fewer messages than there were changes (the server
//! sends the other peers what arrived each tick, instead of one message per change per peer).

use crate::common::*;
use shared::DocKey;
use shared::schema;
use std::time::{Duration, Instant};

const WRITERS: usize = 10;
const NOTES_EACH: usize = 20;

fn burst_notes(d: &automerge::Automerge) -> usize {
    schema::read_notes(d)
        .iter()
        .filter(|n| n.id.starts_with("fan-"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_from_ten_phones_reaches_every_phone_in_batches() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let hash = server::auth::hash_password("not used: the devices are logged in already");
    let quarter = server::clock::current_quarter();
    let key = DocKey::notes("xa-ka-don", quarter);
    let logins: Vec<Login> = (0..=WRITERS)
        .map(|i| device_login(&srv, "xa-ka-don", i, &hash))
        .collect();
    let (mut devices, id) = devices_on(srv.addr, &logins, &key).await;
    for d in &mut devices {
        assert!(d.pump_until(|_| false, Duration::from_millis(200)).await);
    }
    let (observer, writers) = devices.split_last_mut().unwrap();
    // Sync messages only: durable-heads pushes come once per commit, whatever the fan-out does.
    let sync_frames = |d: &Device| d.frames_received - d.pushes_received;
    let frames_before = sync_frames(observer);

    // The burst: every writer sends its notes as fast as it can.
    let total = WRITERS * NOTES_EACH;
    for round in 0..NOTES_EACH {
        for (w, dev) in writers.iter_mut().enumerate() {
            let note = field_note(
                format!("fan-{w:02}-{round:02}"),
                quarter,
                &format!("storm{w:03}"),
            );
            dev.change(&id, |d| schema::put_note(d, &note).unwrap())
                .await;
            assert!(dev.pump_until(|_| false, Duration::from_millis(1)).await);
        }
    }

    // Every phone ends with every note.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut all = true;
        for d in writers.iter_mut().chain(std::iter::once(&mut *observer)) {
            assert!(d.pump_until(|_| false, Duration::from_millis(20)).await);
            all &= d.client.doc(&id).map(burst_notes) == Some(total);
        }
        if all || Instant::now() > deadline {
            break;
        }
    }
    for (i, d) in writers
        .iter()
        .chain(std::iter::once(&*observer))
        .enumerate()
    {
        assert_eq!(
            d.client.doc(&id).map(burst_notes),
            Some(total),
            "device {i} is missing notes"
        );
        assert!(d.errors.is_empty(), "device {i}: {:?}", d.errors);
        // What the server last said it has covers everything this phone holds (the
        // acknowledgement `bench --confirm ack` measures).
        let doc = d.client.doc(&id).unwrap();
        let acked = d
            .client
            .server_heads(&id)
            .expect("the server sent its heads");
        assert_eq!(
            shared::unsynced::unsynced_changes(doc, acked),
            0,
            "device {i}: the server's acknowledgement does not cover its notes"
        );
    }
    let frames = sync_frames(observer) - frames_before;
    println!("# fan-out: {total} changes reached the listening phone in {frames} messages");
    assert!(
        frames * 2 < total,
        "{total} changes took {frames} messages: the fan-out is not batched"
    );
    // And SQLite has them all (the listener's copy is confirmed durable).
    wait_covered(&srv.url(), &logins[WRITERS].token, observer, &id).await;
    // The server pushed that too.
    assert!(
        observer
            .pump_until(|d| d.pushed_covers(&id), Duration::from_secs(5))
            .await
    );
    assert!(observer.pushed_covers(&id));
    srv.stop().await;
}
