//! The document store's suite, run on both backends (issue 15): the data folder's SQLite file and
//! a throwaway PostgreSQL cluster. The same `DocStorage` above each: samod's puts, gets, prefix
//! ranges and deletes; the durable state following commits and surviving a reopen; a burst of
//! concurrent puts; and, on PostgreSQL, every connection of the server killed mid-burst.

use crate::common::pg::PgCluster;
use automerge::{Automerge, ReadDoc, transaction::Transactable};
use samod::storage::{Storage, StorageKey};
use server::chunk_store::{ChunkStore, PgChunks, SqliteChunks};
use server::storage::DocStorage;
use std::sync::Arc;

/// A backend, opened afresh each time it is asked for (as a restarted server would).
enum Backend {
    Sqlite(tempfile::TempDir),
    Pg(PgCluster, String),
}

impl Backend {
    fn sqlite() -> Backend {
        let dir = tempfile::tempdir().unwrap();
        // The chunks table comes with the data folder's schema.
        server::db::Db::open(&server::db::path_in(dir.path())).unwrap();
        Backend::Sqlite(dir)
    }

    async fn pg(name: &'static str) -> Backend {
        // The blocking client must not be driven from an async worker.
        tokio::task::spawn_blocking(move || {
            let cluster = PgCluster::start();
            let url = cluster.database(name);
            Backend::Pg(cluster, url)
        })
        .await
        .unwrap()
    }

    async fn open(&self) -> DocStorage {
        self.open_listening().await.0
    }

    /// [`Self::open`], and the channel on which the storage reports committed documents.
    async fn open_listening(
        &self,
    ) -> (
        DocStorage,
        tokio::sync::mpsc::UnboundedReceiver<server::storage::Committed>,
    ) {
        let chunks: Arc<dyn ChunkStore> = match self {
            Backend::Sqlite(dir) => Arc::new(SqliteChunks::new(&server::db::path_in(dir.path()))),
            Backend::Pg(_, url) => {
                let url = url.clone();
                // The blocking client must not be driven from an async worker.
                Arc::new(
                    tokio::task::spawn_blocking(move || PgChunks::open(&url))
                        .await
                        .unwrap()
                        .unwrap(),
                )
            }
        };
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let storage = tokio::task::spawn_blocking(move || DocStorage::open(chunks, tx))
            .await
            .unwrap()
            .unwrap();
        (storage, rx)
    }
}

fn key(parts: &[&str]) -> StorageKey {
    StorageKey::from_parts(parts.iter().copied()).unwrap()
}

async fn close(s: DocStorage) {
    tokio::task::spawn_blocking(move || s.close())
        .await
        .unwrap();
}

async fn keys_values_ranges_and_deletes(b: &Backend) {
    let s = b.open().await;
    s.put(key(&["doc1", "incremental", "a"]), b"one".to_vec())
        .await;
    s.put(key(&["doc1", "incremental", "b"]), b"two".to_vec())
        .await;
    s.put(key(&["doc10", "incremental", "a"]), b"other".to_vec())
        .await;
    s.put(key(&["doc1-x"]), b"neighbour".to_vec()).await;
    s.put(key(&["doc1", "incremental", "a"]), b"one again".to_vec())
        .await;
    assert_eq!(
        s.load(key(&["doc1", "incremental", "a"])).await,
        Some(b"one again".to_vec())
    );
    assert_eq!(s.load(key(&["nothing"])).await, None);
    let range = s.load_range(key(&["doc1"])).await;
    let mut got: Vec<(String, Vec<u8>)> =
        range.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("doc1/incremental/a".to_string(), b"one again".to_vec()),
            ("doc1/incremental/b".to_string(), b"two".to_vec()),
        ]
    );
    s.delete(key(&["doc1", "incremental", "b"])).await;
    close(s).await;
    // Reopened: what was committed is there, the delete too.
    let s = b.open().await;
    assert_eq!(s.load_range(key(&["doc1"])).await.len(), 1);
    assert_eq!(
        s.load(key(&["doc10", "incremental", "a"])).await,
        Some(b"other".to_vec())
    );
    close(s).await;
}

async fn durable_state_follows_commits(b: &Backend) {
    let id = samod::DocumentId::new(&mut rand::rng());
    let doc_key = id.to_string();
    let s = b.open().await;
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(automerge::ROOT, "title", "Họp dân thôn 3").unwrap();
    tx.commit();
    s.put_changes(&id, &doc).await;
    let heads = |am: &Automerge| am.get_heads();
    assert_eq!(
        s.with_durable(doc_key.clone(), heads).await,
        Some(doc.get_heads())
    );
    // A later commit advances the loaded durable state.
    let mut tx = doc.transaction();
    tx.put(automerge::ROOT, "results", "45 hộ tham gia")
        .unwrap();
    tx.commit();
    s.put_changes(&id, &doc).await;
    assert_eq!(
        s.with_durable(doc_key.clone(), heads).await,
        Some(doc.get_heads())
    );
    close(s).await;
    let s = b.open().await;
    let loaded = s.load_doc(doc_key.clone()).await.unwrap().unwrap();
    assert_eq!(loaded.get_heads(), doc.get_heads());
    let (title, _) = loaded.get(automerge::ROOT, "title").unwrap().unwrap();
    assert_eq!(title.as_str(), Some("Họp dân thôn 3"));
    close(s).await;
}

async fn a_burst_of_puts_all_land(b: &Backend) {
    let s = b.open().await;
    let puts = (0..300).map(|i| {
        let s = s.clone();
        async move {
            s.put(
                key(&["burst", "incremental", &format!("{i:04}")]),
                vec![i as u8; 100],
            )
            .await
        }
    });
    futures::future::join_all(puts).await;
    assert_eq!(s.load_range(key(&["burst"])).await.len(), 300);
    close(s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite() {
    let b = Backend::sqlite();
    keys_values_ranges_and_deletes(&b).await;
    durable_state_follows_commits(&b).await;
    a_burst_of_puts_all_land(&b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_postgres() {
    let b = Backend::pg("suite").await;
    keys_values_ranges_and_deletes(&b).await;
    durable_state_follows_commits(&b).await;
    a_burst_of_puts_all_land(&b).await;
}

/// Every connection of the store to database `db` cut, as a failover or a restart of PostgreSQL
/// does. Returns how many.
async fn cut_connections(admin: &str, db: &'static str) -> usize {
    let admin = admin.to_string();
    tokio::task::spawn_blocking(move || {
        let mut c = postgres::Client::connect(&admin, postgres::NoTls).unwrap();
        c.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            &[&db],
        )
        .unwrap()
        .len()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connections_cut_lose_no_put() {
    let b = Backend::pg("killed").await;
    let Backend::Pg(cluster, _) = &b else {
        unreachable!()
    };
    let s = b.open().await;
    let burst = |from: usize| {
        let puts = (from..from + 200).map(|i| {
            let s = s.clone();
            async move {
                s.put(
                    key(&["kill", "incremental", &format!("{i:04}")]),
                    vec![7; 200],
                )
                .await
            }
        });
        futures::future::join_all(puts)
    };
    burst(0).await;
    assert_eq!(s.load_range(key(&["kill"])).await.len(), 200);
    // Cut while idle: the next commit finds its connection dead, and reconnects.
    assert!(
        cut_connections(&cluster.url, "killed").await >= 2,
        "writer and reader cut"
    );
    burst(200).await;
    assert!(
        s.health().write_errors >= 1,
        "the commit on the cut connection failed"
    );
    // Cut in the middle of a burst.
    let (_, cut) = tokio::join!(burst(400), async {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        cut_connections(&cluster.url, "killed").await
    });
    assert!(cut >= 1);
    // Every put landed, and reads work again (a dead idle connection is replaced).
    assert_eq!(s.load_range(key(&["kill"])).await.len(), 600);
    close(s).await;
    let s = b.open().await;
    assert_eq!(s.load_range(key(&["kill"])).await.len(), 600);
    close(s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_schema_is_versioned_and_a_newer_one_refused() {
    let b = Backend::pg("versions").await;
    let Backend::Pg(_, url) = &b else {
        unreachable!()
    };
    let url = url.clone();
    tokio::task::spawn_blocking(move || {
        PgChunks::open(&url).unwrap();
        // Opening again runs nothing twice.
        PgChunks::open(&url).unwrap();
        let mut c = postgres::Client::connect(&url, postgres::NoTls).unwrap();
        let n: i64 = c
            .query_one("SELECT COUNT(*) FROM danvan_migrations", &[])
            .unwrap()
            .get(0);
        assert_eq!(
            n, 3,
            "the chunks, the rest of the database, the login windows"
        );
        c.execute("INSERT INTO danvan_migrations(version) VALUES (99)", &[])
            .unwrap();
        let err = PgChunks::open(&url).err().unwrap().to_string();
        assert!(err.contains("newer than this server"), "{err}");
    })
    .await
    .unwrap();
}

/// A whole server with its documents in PostgreSQL: phones sync notes, hear they are durable, and
/// after a restart (and with every PostgreSQL connection cut in between) the notes are there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_keeps_its_documents_in_postgres() {
    use crate::common::*;
    let b = Backend::pg("node").await;
    let Backend::Pg(cluster, url) = &b else {
        unreachable!()
    };
    let dir = tempfile::tempdir().unwrap();
    let with_pg = |c: &mut server::Config| c.documents = Some(url.clone());
    let srv = TestServer::start_with(dir.path(), 0, with_pg).await;
    let hash = server::auth::hash_password("not used: the devices are logged in already");
    let quarter = server::clock::current_quarter();
    let key = shared::DocKey::notes("xa-ka-don", quarter);
    let logins: Vec<Login> = (0..2)
        .map(|i| device_login(&srv, "xa-ka-don", i, &hash))
        .collect();
    let (mut phones, id) = devices_on(srv.addr, &logins, &key).await;
    for i in 0..5 {
        phones[0]
            .change(&id, |d| {
                shared::schema::put_note(d, &field_note(format!("pg-{i}"), quarter, "p0")).unwrap()
            })
            .await;
    }
    let wait = std::time::Duration::from_secs(5);
    assert!(phones[0].pump_until(|d| d.pushed_covers(&id), wait).await);
    // The other phone receives them through the server.
    let has_all = |d: &Device| {
        d.client.doc(&id).is_some_and(|doc| {
            shared::schema::read_notes(doc)
                .iter()
                .filter(|n| n.id.starts_with("pg-"))
                .count()
                == 5
        })
    };
    assert!(phones[1].pump_until(has_all, wait).await);
    drop(phones);
    srv.stop().await;
    cut_connections(&cluster.url, "node").await;

    let srv = TestServer::start_with(dir.path(), 0, with_pg).await;
    let doc = stored(&srv, id.to_string()).await;
    let notes = shared::schema::read_notes(&doc);
    assert_eq!(notes.iter().filter(|n| n.id.starts_with("pg-")).count(), 5);
    // Nothing of the documents went to the SQLite file.
    let sqlite = rusqlite::Connection::open(server::db::path_in(dir.path())).unwrap();
    let rows: i64 = sqlite
        .query_row("SELECT COUNT(*) FROM chunks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0);
    srv.stop().await;
    // The last holder of the store may be an async task: closing its connections must not panic
    // there (the blocking client runs a runtime of its own to close).
    let srv = TestServer::start_with(dir.path(), 0, with_pg).await;
    srv.stop().await;

    // Started without PostgreSQL, the folder would serve empty documents: refused, and why.
    let err = refused(dir.path(), None).await;
    assert!(err.contains("keeps its documents in postgres"), "{err}");
}

/// A data folder whose documents are in its SQLite file is not started against PostgreSQL (which
/// would serve empty documents over them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_folder_is_not_started_on_postgres() {
    use crate::common::*;
    let b = Backend::pg("empty").await;
    let Backend::Pg(_, url) = &b else {
        unreachable!()
    };
    let dir = tempfile::tempdir().unwrap();
    TestServer::start(dir.path(), 0).await.stop().await;
    let err = refused(dir.path(), Some(url.clone())).await;
    assert!(err.contains("keeps its documents in sqlite"), "{err}");
}

/// Why the server refuses to start on `dir` with these documents.
async fn refused(dir: &std::path::Path, documents: Option<String>) -> String {
    let cfg = server::Config {
        documents,
        ..server::Config::new(
            "127.0.0.1:0".parse().unwrap(),
            dir.to_path_buf(),
            dir.join("no-dist"),
        )
    };
    server::AppState::start(&cfg)
        .await
        .err()
        .expect("refused")
        .to_string()
}

/// Two nodes on one PostgreSQL: a commit through node A reaches node B's durable state and its
/// commit reports (so B's durable-heads push and read model follow) within a second, by
/// `LISTEN/NOTIFY`; a node does not drop its own state for its own commits.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_nodes_commit_reaches_this_node_at_once() {
    let b = Backend::pg("nodes").await;
    let (a, _a_changes) = b.open_listening().await;
    let (node_b, mut b_changes) = b.open_listening().await;
    let id = samod::DocumentId::new(&mut rand::rng());
    let doc_key = id.to_string();
    let heads = |am: &Automerge| am.get_heads();
    // B has the document loaded (nothing stored yet), as when a phone asked it about it.
    assert_eq!(node_b.with_durable(doc_key.clone(), heads).await, None);
    assert!(node_b.is_loaded(&doc_key));

    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(automerge::ROOT, "title", "Ghi qua nút A").unwrap();
    tx.commit();
    let t0 = std::time::Instant::now();
    a.put_changes(&id, &doc).await;
    let heard = tokio::time::timeout(std::time::Duration::from_secs(1), async {
        loop {
            if b_changes.recv().await.map(|c| (c.doc, c.elsewhere)) == Some((doc_key.clone(), true))
            {
                return;
            }
        }
    })
    .await;
    assert!(heard.is_ok(), "node B heard of A's commit within 1 s");
    eprintln!("node B heard of node A's commit after {:?}", t0.elapsed());
    assert_eq!(
        node_b.with_durable(doc_key.clone(), heads).await,
        Some(doc.get_heads()),
        "B's durable state is A's"
    );
    // A's own commit did not make A forget what it had loaded.
    assert_eq!(
        a.with_durable(doc_key.clone(), heads).await,
        Some(doc.get_heads())
    );
    let mut tx = doc.transaction();
    tx.put(automerge::ROOT, "results", "30 hộ").unwrap();
    tx.commit();
    a.put_changes(&id, &doc).await;
    assert!(
        a.is_loaded(&doc_key),
        "a node keeps its state across its own commits"
    );

    // Every connection cut (a PostgreSQL restart): a notice sent while B was not listening is
    // missed, so B forgets all it had loaded once it listens again, and reads the truth.
    assert_eq!(
        node_b
            .with_durable(doc_key.clone(), heads)
            .await
            .map(|h| h.len()),
        Some(1)
    );
    let Backend::Pg(cluster, _) = &b else {
        unreachable!()
    };
    cut_connections(&cluster.url, "nodes").await;
    let mut tx = doc.transaction();
    tx.put(automerge::ROOT, "results", "45 hộ").unwrap();
    tx.commit();
    a.put_changes(&id, &doc).await;
    let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while node_b.with_durable(doc_key.clone(), heads).await != Some(doc.get_heads()) {
        assert!(
            std::time::Instant::now() < until,
            "B caught up after the cut"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    close(a).await;
    close(node_b).await;
}

/// Two server nodes on one PostgreSQL database (issue 15), nothing shared but it and the photo
/// store: a phone on node A writes notes, a phone of the same commune on node B receives them,
/// and back; a login made through A works on B; the read model, written by whichever node took
/// a commit, holds each note once and equals a rebuild; a photo begun through A resumes through B.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_database_share_notes_logins_read_model_and_photos() {
    use crate::common::*;
    let b = Backend::pg("twonodes").await;
    let Backend::Pg(_, url) = &b else {
        unreachable!()
    };
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let photos = dir_a.path().join("shared-photos");
    let shared = |c: &mut server::Config| {
        c.database = Some(url.clone());
        c.blobs = Some(server::blob_store::BlobsAt::Dir(photos.clone()));
    };
    // A seeds the database; B, started after on an empty folder, finds it seeded.
    let node_a = TestServer::start_with(dir_a.path(), 0, shared).await;
    let node_b = TestServer::start_with(dir_b.path(), 0, shared).await;
    assert!(
        !server::db::path_in(dir_b.path()).exists(),
        "node B keeps nothing in its folder's SQLite"
    );

    // A login through A is a login on B (tokens are in the shared database).
    let on_a_login = login(&node_a.url(), "huyen").await;
    let (status, me) = get::<serde_json::Value>(&node_b, &on_a_login.token, "/api/me").await;
    assert_eq!(status, 200, "{me:?}");
    assert_eq!(me.unwrap()["user"]["username"], "huyen");
    // Failed logins count on every node: ten guesses through A, the eleventh through B waits.
    let guess = |srv: &TestServer| {
        HTTP.post(format!("{}/api/login", srv.url()))
            .json(&serde_json::json!({"username": "lacxuan", "password": "guess"}))
            .send()
    };
    for _ in 0..10 {
        assert_eq!(guess(&node_a).await.unwrap().status(), 401);
    }
    assert_eq!(
        guess(&node_b).await.unwrap().status(),
        429,
        "one limit for all nodes"
    );

    let hash = server::auth::hash_password("not used: the devices are logged in already");
    let quarter = server::clock::current_quarter();
    let key = shared::DocKey::notes("xa-ka-don", quarter);
    let (mut on_a, id) = devices_on(
        node_a.addr,
        &[device_login(&node_a, "xa-ka-don", 0, &hash)],
        &key,
    )
    .await;
    let (mut on_b, _) = devices_on(
        node_b.addr,
        &[device_login(&node_b, "xa-ka-don", 1, &hash)],
        &key,
    )
    .await;
    let wait = std::time::Duration::from_secs(5);
    for d in [&mut on_a[0], &mut on_b[0]] {
        assert!(d.pump_until(|d| d.pushed.contains_key(&id), wait).await);
    }
    let notes_from = |d: &Device, prefix: &str| {
        d.client.doc(&id).map_or(0, |doc| {
            shared::schema::read_notes(doc)
                .iter()
                .filter(|n| n.id.starts_with(prefix))
                .count()
        })
    };

    for i in 0..3 {
        on_a[0]
            .change(&id, |d| {
                shared::schema::put_note(d, &field_note(format!("via-a-{i}"), quarter, "a"))
                    .unwrap()
            })
            .await;
    }
    let t0 = std::time::Instant::now();
    assert!(
        on_a[0].pump_until(|d| d.pushed_covers(&id), wait).await,
        "durable on A"
    );
    assert!(
        on_b[0]
            .pump_until(|d| notes_from(d, "via-a-") == 3, wait)
            .await,
        "the phone on node B received node A's notes"
    );
    let took = t0.elapsed();
    eprintln!("node A's notes reached the phone on node B {took:?} after A confirmed them");
    assert!(took < std::time::Duration::from_secs(1), "{took:?}");
    // Node B's push tells its phone those notes are durable too (it read the shared store).
    assert!(on_b[0].pump_until(|d| d.pushed_covers(&id), wait).await);

    // And back: B's phone writes, A's phone receives.
    on_b[0]
        .change(&id, |d| {
            shared::schema::put_note(d, &field_note("via-b-0".into(), quarter, "b")).unwrap()
        })
        .await;
    assert!(
        on_a[0]
            .pump_until(|d| notes_from(d, "via-b-") == 1, wait)
            .await
    );
    assert!(on_a[0].pump_until(|d| d.pushed_covers(&id), wait).await);
    assert!(on_b[0].pump_until(|d| d.pushed_covers(&id), wait).await);
    drop((on_a, on_b));

    // The read model: each note once, as a rebuild writes it, whichever node indexed it.
    let rows = |srv: &TestServer| {
        srv.state
            .db
            .read_model_dump()
            .unwrap()
            .into_iter()
            .filter(|l| l.starts_with("rm_note_rows") && l.contains("\"via-"))
            .count()
    };
    let until = std::time::Instant::now() + wait;
    while rows(&node_a) != 4 {
        assert!(
            std::time::Instant::now() < until,
            "4 notes in the read model: {}",
            rows(&node_a)
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(rows(&node_b), 4, "one read model");
    all_settled(&node_a).await;
    all_settled(&node_b).await;
    let incremental = node_a.state.db.read_model_dump().unwrap();
    server::readmodel::rebuild(&node_b.state).await.unwrap();
    assert_eq!(incremental, node_a.state.db.read_model_dump().unwrap());

    // A photo begun through A, resumed and finished through B, read back through A.
    use crate::blobs::{chunk, photo, send, sha};
    let router_a = server::app(node_a.state.clone());
    let router_b = server::app(node_b.state.clone());
    let token = crate::blobs::login(&router_a, "kadon").await;
    let data = photo(200_000, 9);
    let hash = sha(&data);
    let res = send(&router_a, chunk(&token, &data, 0, 80_000)).await;
    assert_eq!(res.status, 202);
    assert_eq!(
        crate::blobs::status(&router_b, &token, &hash).await["offset"],
        80_000
    );
    let res = send(&router_b, chunk(&token, &data, 80_000, 200_000)).await;
    assert_eq!(res.status, 201, "{:?}", res.json());
    let res = send(
        &router_a,
        crate::blobs::get(&format!("/api/blobs/{hash}"), Some(&token)),
    )
    .await;
    assert_eq!(res.status, 200);
    assert!(
        res.bytes == data,
        "the photo read back whole through the other node"
    );

    node_a.stop().await;
    node_b.stop().await;
}

/// The read model's guard against two nodes indexing one document at once, on both databases: a
/// change worked out from heads that are no longer the indexed ones writes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_model_change_from_stale_heads_writes_nothing() {
    use server::db::{Db, NotesChange, NotesDoc};
    let dir = tempfile::tempdir().unwrap();
    let b = Backend::pg("stale").await;
    let Backend::Pg(_, url) = &b else {
        unreachable!()
    };
    let url = url.clone();
    let pg = tokio::task::spawn_blocking(move || Db::open_postgres(&url).unwrap())
        .await
        .unwrap();
    let lite = Db::open(&dir.path().join("stale.sqlite3")).unwrap();
    let quarter = server::clock::current_quarter();
    let d = NotesDoc {
        doc_id: "doc-1",
        commune: "xa-ka-don",
        period: &quarter.to_string(),
    };
    let note = |id: &str| crate::common::field_note(id.into(), quarter, "a");
    for db in [&lite, &pg] {
        let first = NotesChange::Full(vec![note("n1")]);
        let (count, _) = db.apply_notes(&d, &first, None, "h1").unwrap().unwrap();
        assert_eq!(count, 1);
        // Another node got there first: worked out from "no heads", now "h1".
        let late = NotesChange::Full(vec![note("n1"), note("late")]);
        assert_eq!(db.apply_notes(&d, &late, None, "h1").unwrap(), None);
        let stale = NotesChange::Some {
            live: vec![note("stale")],
            gone: vec![],
        };
        assert_eq!(db.apply_notes(&d, &stale, Some("h0"), "h2").unwrap(), None);
        assert_eq!(db.indexed_heads("doc-1").unwrap().as_deref(), Some("h1"));
        let next = NotesChange::Some {
            live: vec![note("n2")],
            gone: vec![],
        };
        let (count, _) = db
            .apply_notes(&d, &next, Some("h1"), "h2")
            .unwrap()
            .unwrap();
        assert_eq!(count, 2, "{:?}", db.dialect());
        let dump = db.read_model_dump().unwrap();
        assert!(
            !dump
                .iter()
                .any(|l| l.contains("late") || l.contains("stale"))
        );
    }
}

/// A node that commits and stops before it indexes (a crash between the two): another node on the
/// same database indexes the note a few seconds later, by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_whose_node_stopped_before_indexing_is_indexed_by_another() {
    use crate::common::*;
    let b = Backend::pg("orphan").await;
    let Backend::Pg(_, url) = &b else {
        unreachable!()
    };
    let dir = tempfile::tempdir().unwrap();
    let node = TestServer::start_with(dir.path(), 0, |c| c.database = Some(url.clone())).await;
    // The seeded documents indexed first: their own commits would index the note at once.
    all_settled(&node).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let quarter = server::clock::current_quarter();
    let doc_id = shared::DocKey::notes("xa-ka-don", quarter)
        .doc_id()
        .to_string();
    let mut doc = stored(&node, doc_id.clone()).await;
    shared::schema::put_note(&mut doc, &field_note("orphan-1".into(), quarter, "a")).unwrap();
    // The node that stopped: its storage alone commits, and nothing of it indexes.
    let (stopped, _) = b.open_listening().await;
    stopped.put_changes(&doc_id.parse().unwrap(), &doc).await;
    close(stopped).await;
    let t0 = std::time::Instant::now();
    while !node
        .state
        .db
        .read_model_dump()
        .unwrap()
        .iter()
        .any(|l| l.contains("orphan-1"))
    {
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(15),
            "the other node indexed the note"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    eprintln!(
        "indexed by the other node {:?} after the commit",
        t0.elapsed()
    );
    node.stop().await;
}
