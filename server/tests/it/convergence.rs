//! Convergence (issue 17): replicas of one notes document edit at random — the same notes too —
//! while random partitions take phones offline and the server restarts in between; once everyone
//! is back, every phone and the server's stored copy hold the identical document. Seeded; every
//! seed must converge.

use crate::common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use shared::DocKey;
use shared::schema::{self, Note};
use std::time::{Duration, Instant};

const SEEDS: u64 = 3;
const STEPS: usize = 30;
const REPLICAS: usize = 4;

async fn pump(devices: &mut [Device], online: &[bool], idle: Duration) {
    for (d, _) in devices.iter_mut().zip(online).filter(|(_, on)| **on) {
        assert!(d.pump_until(|_| false, idle).await, "a socket closed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_converge_through_partitions_and_server_restarts() {
    let seeds: u64 = std::env::var("DANVAN_CONVERGENCE_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SEEDS);
    for seed in 0..seeds {
        run(seed).await;
    }
}

async fn run(seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let dir = tempfile::tempdir().unwrap();
    let mut srv = TestServer::start(dir.path(), 0).await;
    let addr = srv.addr;
    let hash = server::auth::hash_password("not used: the devices are logged in already");
    let quarter = server::clock::current_quarter();
    let key = DocKey::notes("xa-ka-don", quarter);
    let logins: Vec<Login> = (0..REPLICAS)
        .map(|i| device_login(&srv, "xa-ka-don", i, &hash))
        .collect();
    let (mut devices, id) = devices_on(addr, &logins, &key).await;
    let mut online = vec![true; REPLICAS];
    let (mut partitions, mut restarts) = (0, 0);
    for step in 0..STEPS {
        let r = rng.random_range(0..REPLICAS);
        match rng.random_range(0..10) {
            // An edit, online or not, often of a note another phone edits too.
            0..=5 => {
                let note = Note {
                    title: format!("seed {seed} step {step} phone {r}"),
                    ..field_note(
                        format!("cv-{}", rng.random_range(0..6)),
                        quarter,
                        &format!("storm{r:03}"),
                    )
                };
                devices[r]
                    .change(&id, |d| schema::put_note(d, &note).unwrap())
                    .await;
            }
            // A partition starts or ends for one phone.
            6..=7 => {
                if online[r] {
                    let _ = futures_util::SinkExt::close(&mut devices[r].ws).await;
                    devices[r].client.disconnected();
                    online[r] = false;
                    partitions += 1;
                } else {
                    devices[r].reconnect(addr, &logins[r].token).await.unwrap();
                    online[r] = true;
                }
            }
            // The server restarts (on the same port); online phones reconnect.
            8 => {
                srv.stop().await;
                srv = TestServer::start(dir.path(), addr.port()).await;
                restarts += 1;
                for (i, d) in devices.iter_mut().enumerate().filter(|(i, _)| online[*i]) {
                    d.reconnect(addr, &logins[i].token).await.unwrap();
                }
            }
            _ => pump(&mut devices, &online, Duration::from_millis(50)).await,
        }
        pump(&mut devices, &online, Duration::from_millis(5)).await;
    }

    // Everyone back; everything settles to one document, on every phone and in SQLite.
    for (i, d) in devices.iter_mut().enumerate() {
        if !online[i] {
            d.reconnect(addr, &logins[i].token).await.unwrap();
            online[i] = true;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        pump(&mut devices, &online, Duration::from_millis(30)).await;
        let mut heads: Vec<Vec<automerge::ChangeHash>> = devices
            .iter()
            .map(|d| {
                let mut h = d.client.doc(&id).unwrap().get_heads();
                h.sort();
                h
            })
            .collect();
        let mut stored = srv
            .state
            .storage
            .with_durable(id.to_string(), |d| d.get_heads())
            .await
            .unwrap_or_default();
        stored.sort();
        heads.push(stored);
        if heads.windows(2).all(|w| w[0] == w[1]) {
            break;
        }
        if Instant::now() > deadline {
            panic!(
                "seed {seed}: no convergence after {partitions} partitions and {restarts} restarts: {heads:?}"
            );
        }
    }
    // Same heads, same notes: every phone reads the same values.
    let notes: Vec<Vec<(String, String)>> = devices
        .iter()
        .map(|d| {
            let mut v: Vec<(String, String)> = schema::read_notes(d.client.doc(&id).unwrap())
                .into_iter()
                .filter(|n| n.id.starts_with("cv-"))
                .map(|n| (n.id, n.title))
                .collect();
            v.sort();
            v
        })
        .collect();
    assert!(
        notes.windows(2).all(|w| w[0] == w[1]),
        "seed {seed}: {notes:?}"
    );
    eprintln!(
        "seed {seed}: {} notes agree after {partitions} partitions and {restarts} restarts",
        notes[0].len()
    );
    srv.stop().await;
}
