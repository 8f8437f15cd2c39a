//! A reconnect storm, as after a server restart at the end of a quarter: many devices with work to
//! sync connect at once. Every handshake must be answered, every note must reach SQLite, and no
//! socket may be dropped. (The 2,000-device figures are the sync benchmark's; this is the small one.)

use crate::common::*;
use shared::schema::{self, Note};
use shared::{DocKey, Quarter};
use std::time::{Duration, Instant};

/// 100 in the suite; `DANVAN_STORM_DEVICES=2000` for the storm of a province (a measurement).
fn devices() -> usize {
    std::env::var("DANVAN_STORM_DEVICES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100)
}
/// Devices per notes document: ten phones of a commune writing the same quarter.
const PER_DOC: usize = 10;

/// The document device `i` writes, [`PER_DOC`] devices each.
fn doc_of(i: usize) -> (DocKey, &'static str, Quarter) {
    let (commune, q) = spread(i, PER_DOC);
    (DocKey::notes(commune, q), commune, q)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_storm_of_100_devices_with_unsynced_work_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let hash = server::auth::hash_password("not used: the devices are logged in already");
    let devices_n = devices();
    let logins: Vec<Login> = (0..devices_n)
        .map(|i| device_login(&srv, doc_of(i).1, i, &hash))
        .collect();

    // All at once: connect, open the document, write the note each had waiting.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (i, login) in logins.into_iter().enumerate() {
        let addr = srv.addr;
        tasks.push(tokio::spawn(async move {
            let t0 = Instant::now();
            let mut dev = Device::connect_as(addr, &login.token, &login.peer_id)
                .await
                .unwrap_or_else(|e| panic!("device {i}: handshake not answered: {e}"));
            let handshake = t0.elapsed();
            let (key, _, quarter) = doc_of(i);
            let id = dev.track(&key, true).await;
            let note = Note {
                id: format!("storm-{i:03}"),
                activity_date: quarter.first_day(),
                title: format!("Ghi chép chờ đồng bộ của máy {i}"),
                content: "Họp dân ở thôn, 30 người tham dự.".into(),
                author: login.peer_id.clone(),
                created_at: server::clock::now_ms(),
                ..Note::default()
            };
            dev.change(&id, |d| schema::put_note(d, &note).unwrap())
                .await;
            (dev, handshake)
        }));
    }
    let mut devices = Vec::new();
    let mut handshakes = Vec::new();
    for t in tasks {
        let (dev, handshake) = t.await.unwrap();
        handshakes.push(handshake);
        devices.push(dev);
    }
    let connected = started.elapsed();

    // Every note durable (read back from SQLite), while every device keeps its socket serviced.
    let docs: std::collections::BTreeSet<String> = (0..devices_n)
        .map(|i| doc_of(i).0.doc_id().to_string())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(90);
    let missing = loop {
        for dev in &mut devices {
            assert!(
                dev.pump_until(|_| false, Duration::from_millis(1)).await,
                "a socket was dropped during the storm"
            );
        }
        let mut stored = 0;
        for doc in &docs {
            stored += srv
                .state
                .storage
                .with_durable(doc.clone(), |d| {
                    schema::read_notes(d)
                        .iter()
                        .filter(|n| n.id.starts_with("storm-"))
                        .count()
                })
                .await
                .unwrap_or(0);
        }
        if stored == devices_n || Instant::now() > deadline {
            break devices_n - stored;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let durable = started.elapsed();
    assert_eq!(missing, 0, "notes not durable after {durable:?}");
    for (i, dev) in devices.iter_mut().enumerate() {
        assert!(
            dev.pump_until(|_| false, Duration::from_millis(20)).await,
            "device {i}: socket dropped"
        );
        assert!(dev.client.is_connected(), "device {i}: no longer connected");
        assert!(dev.errors.is_empty(), "device {i}: {:?}", dev.errors);
        assert!(
            dev.unavailable.is_empty(),
            "device {i}: a document unavailable"
        );
    }
    handshakes.sort();
    println!(
        "# storm: {devices_n} devices connected in {connected:?} (handshake p50 {:?}, max {:?}); all notes durable after {durable:?}",
        handshakes[devices_n / 2],
        handshakes[devices_n - 1]
    );
    srv.stop().await;
}
