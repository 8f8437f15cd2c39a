//! Faults lose nothing (issue 17): a backup taken while phones write restores every note they were
//! told is durable, and a damaged database — cut to nothing or truncated — is refused at start
//! with a message, never opened as a new, empty deployment.

use crate::common::*;
use shared::DocKey;
use shared::schema;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const WRITERS: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_while_phones_write_restores_every_acknowledged_note() {
    let dir = tempfile::tempdir().unwrap();
    let (live, restored) = (dir.path().join("live"), dir.path().join("restored"));
    let srv = TestServer::start(&live, 0).await;
    let base = srv.url();
    let hash = server::auth::hash_password("not used: the devices are logged in already");
    let quarter = server::clock::current_quarter();
    let key = DocKey::notes("xa-ka-don", quarter);
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let login = device_login(&srv, "xa-ka-don", w, &hash);
        let (base, key, acked, stop) = (base.clone(), key.clone(), acked.clone(), stop.clone());
        let addr = srv.addr;
        writers.push(tokio::spawn(async move {
            let mut dev = Device::connect_as(addr, &login.token, &login.peer_id)
                .await
                .unwrap();
            let id = dev.track(&key, true).await;
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let note = field_note(format!("bk-{w}-{n:03}"), quarter, &format!("storm{w:03}"));
                dev.change(&id, |d| schema::put_note(d, &note).unwrap())
                    .await;
                // Told durable: from now on the note must survive.
                wait_covered(&base, &login.token, &mut dev, &id).await;
                acked.lock().unwrap().insert(note.id);
                n += 1;
            }
        }));
    }
    // Some notes in, then the backup while the phones keep writing.
    while acked.lock().unwrap().len() < 20 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let before: BTreeSet<String> = acked.lock().unwrap().clone();
    let file = dir.path().join("backup.sqlite3");
    let (from, to) = (live.clone(), file.clone());
    let taken = tokio::task::spawn_blocking(move || server::backup::backup(&from, &to))
        .await
        .unwrap()
        .expect("backup while writing");
    assert!(taken.bytes > 0);
    let during = acked.lock().unwrap().len() - before.len();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.await.unwrap();
    }
    assert!(
        server::backup::backup(&live, &file).is_err(),
        "a backup never overwrites a file"
    );
    srv.stop().await;

    // Restored into a new folder, started, and every note acknowledged before the backup is there.
    server::backup::restore(&file, &restored).expect("restore");
    assert!(
        server::backup::restore(&file, &restored).is_err(),
        "a restore never overwrites a database"
    );
    let srv = TestServer::start(&restored, 0).await;
    let found: BTreeSet<String> = srv
        .state
        .storage
        .with_durable(key.doc_id().to_string(), |d| {
            schema::read_notes(d)
                .into_iter()
                .map(|n| n.id)
                .filter(|n| n.starts_with("bk-"))
                .collect()
        })
        .await
        .expect("the notes document is in the backup");
    let missing: Vec<_> = before.difference(&found).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup but not restored: {missing:?} ({} acknowledged, {during} more during the backup)",
        before.len()
    );
    srv.stop().await;
}

/// Start a server on `dir` (which holds a database) and return its error.
async fn refused(dir: &std::path::Path) -> String {
    let cfg = server::Config {
        demo: true,
        ..server::Config::new(
            std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            dir.to_path_buf(),
            dir.join("no-dist"),
        )
    };
    match server::AppState::start(&cfg).await {
        Ok(_) => panic!("a damaged database was opened"),
        Err(e) => format!("{e:#}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_damaged_database_is_refused_at_start_never_opened_empty() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    srv.stop().await;
    let db = server::db::path_in(dir.path());
    // Everything in the main file (no WAL left to make up for the cut).
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .unwrap();
    let len = std::fs::metadata(&db).unwrap().len();
    assert!(len > 64 * 1024, "a seeded database has some size: {len}");

    // Truncated (a power cut mid-copy).
    std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .unwrap()
        .set_len(len / 2)
        .unwrap();
    let why = refused(dir.path()).await;
    assert!(
        why.contains("is damaged") && why.contains("restore"),
        "{why}"
    );

    // Cut to nothing: refused too, not seeded as a new deployment.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&db)
        .unwrap()
        .set_len(0)
        .unwrap();
    let why = refused(dir.path()).await;
    assert!(why.contains("is empty") && why.contains("restore"), "{why}");
    assert_eq!(std::fs::metadata(&db).unwrap().len(), 0, "left as found");
}
