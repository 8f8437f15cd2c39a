//! What a hostile or unlucky client finds, each as a regression test on real sockets and a real
//! SQLite file: the authorization matrix, unknown document IDs, socket churn, login floods, photo
//! access and upload squatting, revocation, slow clients, ephemera, crafted .docx files, SIGTERM.
//!
//! The tests run one at a time (`SERIAL`); the two that measure the process's memory and threads
//! run in a process of their own (`alone`), away from the other modules' tests.

use crate::common::*;
use futures_util::{SinkExt, StreamExt};
use shared::wire::WireMessage;
use shared::{DocKey, DocumentId, schema};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;

const FLOOD: usize = 160;
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn rss_mib() -> u64 {
    proc_status("VmRSS:") / 1024
}

fn threads() -> u64 {
    proc_status("Threads:")
}

fn proc_status(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

fn note_with_photo(id: &str, photo: &str) -> schema::Note {
    let q = server::clock::current_quarter();
    schema::Note {
        id: id.into(),
        activity_date: format!("{}-{:02}-10", q.year, q.q * 3),
        title: "Họp bon".into(),
        content: "Tuyên truyền".into(),
        author: "test".into(),
        created_at: 1_795_700_000_000,
        photos: vec![photo.into()],
        ..schema::Note::default()
    }
}

fn request(peer: &str, doc: DocumentId) -> Vec<u8> {
    WireMessage::Request {
        sender_id: peer.into(),
        target_id: server::sync::SERVER_PEER_ID.into(),
        document_id: doc,
        data: vec![],
    }
    .encode()
}

/// Frames of `kind` seen on a device's socket within `wait` (raw: the client ignores some types).
async fn raw_frames(d: &mut Device, kind: &str, wait: Duration) -> usize {
    let mut n = 0;
    let end = tokio::time::Instant::now() + wait;
    while let Ok(Some(Ok(m))) = tokio::time::timeout_at(end, d.ws.next()).await {
        if let Message::Binary(b) = m
            && shared::wire::check_frame(&b).is_ok_and(|e| e.kind == kind)
        {
            n += 1;
        }
    }
    n
}

/// Save a note on `phone` and return how long until the server says it is durable.
async fn save_and_time(
    srv: &TestServer,
    token: &str,
    phone: &mut Device,
    id: &DocumentId,
    n: usize,
) -> Duration {
    let start = Instant::now();
    let note = schema::Note {
        id: format!("probe-{n}"),
        ..note_with_photo(&format!("probe-{n}"), &"0".repeat(64))
    };
    phone
        .change(id, |d| schema::put_note(d, &note).unwrap())
        .await;
    loop {
        phone.pump(Duration::from_millis(20)).await;
        let doc = phone.client.doc(id).unwrap().clone();
        if durable_check(&srv.url(), token, id, &doc).await == Some(true) {
            return start.elapsed();
        }
        assert!(start.elapsed() < Duration::from_secs(30), "never durable");
    }
}

#[test]
fn unknown_ids_leave_no_state_and_one_members_churn_does_not_slow_another() {
    alone("holes::unknown_ids_leave_no_state_and_one_members_churn_does_not_slow_another_measured");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measures this process: run alone by the test without `_measured`"]
async fn unknown_ids_leave_no_state_and_one_members_churn_does_not_slow_another_measured() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let (lac, mut other) = logged_in_device(&srv, "lacxuan").await;
    let lid = other
        .track(
            &DocKey::notes("xa-lac-xuan", server::clock::current_quarter()),
            true,
        )
        .await;
    save_and_time(&srv, &lac.token, &mut other, &lid, 0).await;

    let (kadon, mut attacker) = logged_in_device(&srv, "kadon").await;
    let (rss0, threads0) = (rss_mib(), threads());
    // 3,000 requests for documents that do not exist: every one answered as unavailable.
    let mut answered = 0;
    for batch in 0..30u8 {
        for i in 0..100u8 {
            let mut id = [0x5a; 16];
            id[0] = batch;
            id[1] = i;
            let frame = request(&kadon.peer_id, DocumentId(id));
            attacker
                .ws
                .send(Message::Binary(frame.into()))
                .await
                .unwrap();
        }
        answered += raw_frames(&mut attacker, "doc-unavailable", Duration::from_millis(300)).await;
    }
    answered += raw_frames(&mut attacker, "doc-unavailable", Duration::from_millis(500)).await;
    assert_eq!(
        answered, 3000,
        "each unknown ID is answered like a missing document"
    );
    let (rss1, threads1) = (rss_mib(), threads());
    assert!(rss1 < rss0 + 20, "RSS grew from {rss0} to {rss1} MiB");
    assert!(
        threads1 <= threads0 + 4,
        "threads grew from {threads0} to {threads1}"
    );

    // 60 sockets of the same member opened, used and dropped, while the other member saves notes.
    let churn = {
        let (addr, login) = (srv.addr, kadon.clone());
        tokio::spawn(async move {
            for n in 0..60u8 {
                let Ok(mut d) = Device::connect_as(addr, &login.token, &login.peer_id).await else {
                    continue;
                };
                d.track(&DocKey::org(), false).await;
                let frame = request(&login.peer_id, DocumentId([n; 16]));
                let _ = d.ws.send(Message::Binary(frame.into())).await;
                d.pump(Duration::from_millis(20)).await;
            }
        })
    };
    let mut worst = Duration::ZERO;
    for n in 1..=5 {
        worst = worst.max(save_and_time(&srv, &lac.token, &mut other, &lid, n).await);
    }
    churn.await.unwrap();
    assert!(
        worst < Duration::from_secs(1),
        "another member's note took {worst:?}"
    );
    eprintln!(
        "RSS {rss0} → {rss1} MiB, threads {threads0} → {threads1}, worst save during churn {worst:?}"
    );
    srv.stop().await;
}

#[test]
fn login_flood_keeps_memory_flat_and_does_not_lock_the_real_user_out() {
    alone("holes::login_flood_keeps_memory_flat_and_does_not_lock_the_real_user_out_measured");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "measures this process: run alone by the test without `_measured`"]
async fn login_flood_keeps_memory_flat_and_does_not_lock_the_real_user_out_measured() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(dir.path(), 0, |c| {
        c.trusted_proxy_header = Some("x-forwarded-for".parse().unwrap());
    })
    .await;
    let url = format!("{}/api/login", srv.url());
    let post = |from: &'static str, user: String, password: &'static str| {
        HTTP.post(&url)
            .header("x-forwarded-for", from)
            .json(&serde_json::json!({"username": user, "password": password}))
            .send()
    };
    let rss0 = rss_mib();
    let peak = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(rss0));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_mib(), std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    // 160 made-up usernames, 16 at a time, from several addresses.
    let flood = futures_util::stream::iter(0..FLOOD)
        .map(|i| {
            let from = ["10.9.0.1", "10.9.0.2", "10.9.0.3", "10.9.0.4"][i % 4];
            post(from, format!("khong-co-{i}"), "doan-mo")
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>();
    let real = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let start = Instant::now();
        let res = post("10.8.0.9", "lacxuan".into(), "danvan-demo")
            .await
            .unwrap();
        (res.status(), start.elapsed())
    };
    let (answers, (status, took)) = tokio::join!(flood, real);
    sampler.abort();
    let peak = peak.load(std::sync::atomic::Ordering::Relaxed);
    assert_eq!(status, 200);
    assert!(
        took < Duration::from_secs(1),
        "the real user waited {took:?}"
    );
    assert!(peak < 300, "RSS peaked at {peak} MiB");
    assert!(answers.iter().all(|r| {
        r.as_ref()
            .is_ok_and(|r| [401, 429, 503].contains(&r.status().as_u16()))
    }));

    // Guesses from one place at once: the limit holds under concurrency.
    let burst: Vec<u16> =
        futures_util::future::join_all((0..40).map(|_| post("10.7.0.1", "kadon".into(), "sai")))
            .await
            .into_iter()
            .map(|r| r.unwrap().status().as_u16())
            .collect();
    let passed = burst.iter().filter(|s| **s == 401).count();
    assert!(
        passed <= 10,
        "{passed} guesses were checked past a limit of 10"
    );
    // 20 wrong passwords from one address do not lock the user out from another.
    assert_eq!(
        post("10.7.0.1", "kadon".into(), "danvan-demo")
            .await
            .unwrap()
            .status(),
        429
    );
    assert_eq!(
        post("10.7.0.2", "kadon".into(), "danvan-demo")
            .await
            .unwrap()
            .status(),
        200
    );
    eprintln!("login flood: RSS {rss0} → peak {peak} MiB, real user in {took:?}");
    srv.stop().await;
}

async fn put_blob(
    base: &str,
    token: &str,
    data: &[u8],
    range: Option<(usize, usize)>,
) -> reqwest::Response {
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(data));
    let mut req = HTTP
        .put(format!("{base}/api/blobs/{sha}"))
        .bearer_auth(token);
    let body = match range {
        Some((s, e)) => {
            req = req.header(
                "content-range",
                format!("bytes {s}-{}/{}", e - 1, data.len()),
            );
            data[s..e].to_vec()
        }
        None => data.to_vec(),
    };
    req.body(body).send().await.unwrap()
}

async fn get_blob(base: &str, token: &str, sha: &str, status: bool) -> (u16, serde_json::Value) {
    let path = if status {
        format!("{sha}/status")
    } else {
        sha.to_string()
    };
    let res = HTTP
        .get(format!("{base}/api/blobs/{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let code = res.status().as_u16();
    // The hash is in the status body: compare answers with it blanked out.
    let body = res.text().await.unwrap().replace(sha, "SHA");
    let body = serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body));
    (code, body)
}

fn fake_photo(seed: u8, len: usize) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0];
    v.extend((0..len).map(|i| (i as u8).wrapping_mul(7).wrapping_add(seed)));
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix_over_real_sockets_and_http() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let base = srv.url();
    let plan = srv.state.db.plan_ids().unwrap().remove(0);
    let q = server::clock::current_quarter();
    let docs = [
        ("org", DocKey::org()),
        ("plan", DocKey::plan(&plan)),
        ("progress A", DocKey::progress(&plan, "xa-ka-don")),
        ("notes A", DocKey::notes("xa-ka-don", q)),
    ];
    // The owner of A's documents writes first, so every document exists, and a photo of A's note.
    let (kadon, mut owner) = logged_in_device(&srv, "kadon").await;
    let photo = fake_photo(1, 5000);
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&photo));
    assert_eq!(
        put_blob(&base, &kadon.token, &photo, None).await.status(),
        201
    );
    let progress = owner.track(&docs[2].1, true).await;
    owner
        .change(&progress, |d| {
            schema::put_root_str(d, "setup", "x").unwrap()
        })
        .await;
    let notes = owner.track(&docs[3].1, true).await;
    owner
        .change(&notes, |d| {
            schema::put_note(d, &note_with_photo("a1", &sha)).unwrap()
        })
        .await;
    owner.pump(Duration::from_millis(500)).await;

    // An administrator who also holds the viewer role.
    let hash = server::auth::hash_password("danvan-demo");
    let id = srv
        .state
        .db
        .create_user(
            "qtxem",
            "Quản trị và xem",
            &hash,
            &shared::vocab::Role::Admin,
            "huyen-demo",
        )
        .unwrap();
    srv.state
        .db
        .change_user(
            id,
            &server::db::UserChange {
                also_viewer: Some(true),
                ..Default::default()
            },
        )
        .unwrap();

    // Expected access per (user, document): the rule as a table. r = read, w = read and write.
    // Least privilege: administrators and plan editors read the communes' progress and notes only
    // when they also hold the viewer role.
    let table: [(&str, [&str; 4]); 7] = [
        ("admin", ["w", "w", "-", "-"]),
        ("qtxem", ["w", "w", "r", "r"]),
        ("bientap", ["r", "w", "-", "-"]),
        ("huyen", ["r", "r", "r", "r"]),
        ("kadon2", ["r", "r", "w", "w"]),
        ("lacxuan", ["r", "r", "-", "-"]),
        ("revoked", ["-", "-", "-", "-"]),
    ];
    let mut leaks = vec![];
    for (user, expected) in table {
        let login = login(&base, if user == "revoked" { "kadon2" } else { user }).await;
        if user == "revoked" {
            let res = HTTP
                .post(format!("{base}/api/logout"))
                .bearer_auth(&login.token)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            // The sync upgrade itself is refused.
            assert!(
                Device::connect_as(srv.addr, &login.token, &login.peer_id)
                    .await
                    .is_err()
            );
            let (code, _) = get_blob(&base, &login.token, &sha, false).await;
            assert_eq!(code, 401);
            continue;
        }
        let mut dev = Device::connect(srv.addr, &login).await;
        // Write: a probe key at the root of every document the user reads; stored only if the user
        // may write. Why wait for all probes together: a loaded CI machine can take well over a
        // fixed pause to store a write, and a refused probe gives no signal, so the wait ends when
        // every probe that should land has landed (or at a deadline), and the refused ones have had
        // at least as long to leak.
        let probe = format!("probe-{user}");
        let mut reads = vec![];
        for (_, key) in &docs {
            let id = dev.track(key, false).await;
            dev.pump_until(
                |d| {
                    d.unavailable.contains(&id)
                        || d.client.doc(&id).is_some_and(|x| !x.get_heads().is_empty())
                },
                Duration::from_secs(3),
            )
            .await;
            let read = !dev.unavailable.contains(&id)
                && dev
                    .client
                    .doc(&id)
                    .is_some_and(|x| !x.get_heads().is_empty());
            if read {
                dev.change(&id, |d| schema::put_root_str(d, &probe, "x").unwrap())
                    .await;
            }
            reads.push((id, read));
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let wrote = loop {
            dev.pump(Duration::from_millis(300)).await;
            let mut wrote = vec![];
            for (id, _) in &reads {
                let stored = stored(&srv, id.to_string()).await;
                wrote.push(schema::get_str(&stored, &automerge::ROOT, &probe).is_some());
            }
            let landed = expected
                .iter()
                .zip(&wrote)
                .all(|(want, w)| *w || *want != "w");
            if landed || std::time::Instant::now() > deadline {
                break wrote;
            }
        };
        for (((name, _), want), ((_, read), wrote)) in
            docs.iter().zip(expected).zip(reads.iter().zip(wrote))
        {
            let got = match (*read, wrote) {
                (true, true) => "w",
                (true, false) => "r",
                (false, false) => "-",
                (false, true) => "write without read",
            };
            if got != want {
                leaks.push(format!("{user} × {name}: expected {want}, got {got}"));
            }
        }
        // The photo of A's note: readable exactly by those who read A's notes (or uploaded it).
        let may = expected[3] != "-";
        for status in [false, true] {
            let (code, body) = get_blob(&base, &login.token, &sha, status).await;
            let missing = get_blob(&base, &login.token, &"e".repeat(64), status).await;
            let readable = code == 200 && (!status || body["complete"] == true);
            if readable != may {
                leaks.push(format!("{user} × photo (status {status}): {code} {body}"));
            }
            if !may && (code, body.clone()) != missing {
                leaks.push(format!(
                    "{user} × photo: {body} differs from a missing blob's {}",
                    missing.1
                ));
            }
        }
    }
    assert!(leaks.is_empty(), "{leaks:#?}");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_upload_belongs_to_its_uploader_and_has_a_quota() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let base = srv.url();
    let kadon = login(&base, "kadon").await;
    let squatter = login(&base, "lacxuan").await;
    let photo = fake_photo(9, 100_000);
    // The squatter starts an upload under the hash of kadon's photo, with the wrong content...
    let mut junk = photo.clone();
    junk[10..60_000].fill(0);
    let res = put_blob(&base, &squatter.token, &junk, Some((0, 60_000))).await;
    // (`put_blob` names the junk by its own hash: send the same chunk under the photo's name.)
    assert_eq!(res.status(), 202);
    let sha = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&photo));
    let res = HTTP
        .put(format!("{base}/api/blobs/{sha}"))
        .bearer_auth(&squatter.token)
        .header("content-range", "bytes 0-59999/100004")
        .body(junk[..60_000].to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    // ...and it neither blocks nor poisons kadon's resumable upload.
    assert_eq!(
        get_blob(&base, &kadon.token, &sha, true).await.1,
        serde_json::json!({"sha256": "SHA", "complete": false, "offset": 0})
    );
    assert_eq!(
        put_blob(&base, &kadon.token, &photo, Some((0, 50_000)))
            .await
            .status(),
        202
    );
    assert_eq!(
        put_blob(&base, &kadon.token, &photo, Some((50_000, photo.len())))
            .await
            .status(),
        201
    );
    let (code, _) = get_blob(&base, &kadon.token, &sha, false).await;
    assert_eq!(code, 200);
    // The squatter still sees only its own partial upload, never that the photo exists.
    let (_, status) = get_blob(&base, &squatter.token, &sha, true).await;
    assert_eq!(
        status,
        serde_json::json!({"sha256": "SHA", "complete": false, "offset": 60000, "total": 100004})
    );

    // Quota: unfinished uploads of one account stop at 64 MiB.
    let big = vec![7u8; 5 * 1024 * 1024];
    let mut refused = None;
    for i in 0..14u8 {
        let mut b = big.clone();
        b[0] = i;
        let res = put_blob(&base, &squatter.token, &b, Some((0, b.len() - 1))).await;
        if res.status() != 202 {
            refused = Some((i, res.status().as_u16(), res.text().await.unwrap()));
            break;
        }
    }
    let (i, code, msg) = refused.expect("the quota stops the squatter");
    assert_eq!((i, code), (12, 413), "{msg}");
    // Abandoned uploads expire.
    let removed = srv
        .state
        .db
        .expire_partial_uploads(server::clock::now_ms() + 1)
        .unwrap();
    assert_eq!(removed, 14);
    assert_eq!(srv.state.db.blob_stats().unwrap().upload_bytes, 0);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_closes_the_devices_open_socket_within_a_second() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let base = srv.url();
    let (login, mut phone) = logged_in_device(&srv, "kadon").await;
    let (_, mut colleague) = logged_in_device(&srv, "kadon2").await;
    phone.track(&DocKey::org(), false).await;
    phone.pump(Duration::from_millis(200)).await;
    let start = Instant::now();
    let res = HTTP
        .post(format!("{base}/api/logout"))
        .bearer_auth(&login.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    closed_within_a_second(&mut phone, start).await;
    // The phone sees its close frame before the server's socket task has let go of its entry:
    // give that task a moment (a busy CI machine), then the colleague's entry must be the one left.
    let deadline = Instant::now() + Duration::from_secs(2);
    while srv.state.hub.connections().count() > 1 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        srv.state.hub.connections().count(),
        1,
        "the colleague's socket stays"
    );
    colleague.track(&DocKey::org(), false).await;
    assert!(
        colleague
            .pump_until(|_| false, Duration::from_millis(300))
            .await
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_slow_to_send_its_headers_is_cut_off() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start_with(dir.path(), 0, |c| {
        c.listen_limits.header_timeout = Duration::from_millis(500);
    })
    .await;
    let mut tcp = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 256];
    let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf)).await;
    assert!(
        matches!(n, Ok(Ok(_)) | Ok(Err(_))),
        "the connection was held"
    );
    assert!(start.elapsed() < Duration::from_secs(3));
    // A prompt client is still served.
    let res = HTTP
        .get(format!("{}/healthz", srv.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    srv.stop().await;
}

fn ephemeral(sender: &str, doc: DocumentId) -> Vec<u8> {
    let mut e = minicbor::Encoder::new(Vec::new());
    e.map(7).unwrap();
    e.str("type").unwrap().str("ephemeral").unwrap();
    e.str("senderId").unwrap().str(sender).unwrap();
    e.str("targetId")
        .unwrap()
        .str(server::sync::SERVER_PEER_ID)
        .unwrap();
    e.str("documentId").unwrap().str(&doc.to_string()).unwrap();
    e.str("sessionId").unwrap().str("s1").unwrap();
    e.str("count").unwrap().u64(1).unwrap();
    e.str("data").unwrap().bytes(b"\xa0").unwrap();
    e.into_writer()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_ephemera_are_dropped_and_a_spoofed_sender_is_refused() {
    let _serial = SERIAL.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let key = DocKey::notes("xa-ka-don", server::clock::current_quarter());
    let (_, mut member) = logged_in_device(&srv, "kadon").await;
    let id = member.track(&key, true).await;
    member
        .change(&id, |d| {
            schema::put_note(d, &note_with_photo("e1", &"1".repeat(64))).unwrap()
        })
        .await;
    member.pump(Duration::from_millis(300)).await;
    let (viewer_login, mut viewer) = logged_in_device(&srv, "huyen").await;
    viewer.track(&key, false).await;
    viewer.pump(Duration::from_millis(500)).await;
    let (colleague_login, mut colleague) = logged_in_device(&srv, "kadon2").await;
    colleague.track(&key, false).await;
    colleague.pump(Duration::from_millis(500)).await;

    // A writer's ephemeral message reaches the other writer (the control)...
    let frame = ephemeral(&colleague_login.peer_id, id);
    colleague
        .ws
        .send(Message::Binary(frame.into()))
        .await
        .unwrap();
    let from_writer = raw_frames(&mut member, "ephemeral", Duration::from_millis(700)).await;
    // ...a reader's does not.
    let frame = ephemeral(&viewer_login.peer_id, id);
    viewer.ws.send(Message::Binary(frame.into())).await.unwrap();
    let from_reader = raw_frames(&mut member, "ephemeral", Duration::from_millis(700)).await;
    assert_eq!((from_writer, from_reader), (1, 0));

    // A frame naming another sender ends the connection.
    let spoofed = request(&colleague_login.peer_id, id);
    viewer
        .ws
        .send(Message::Binary(spoofed.into()))
        .await
        .unwrap();
    assert!(
        !viewer.pump_until(|_| false, Duration::from_secs(2)).await,
        "closed"
    );
    srv.stop().await;
}

#[test]
fn a_crafted_docx_is_bounded() {
    let _serial = SERIAL.blocking_lock();
    use std::io::Write;
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default();
        zip.start_file("word/numbering.xml", opts).unwrap();
        let pattern = "%1".repeat(5000);
        write!(
            zip,
            r#"<w:numbering><w:abstractNum w:abstractNumId="0"><w:lvl w:ilvl="0"><w:start w:val="4294967295"/><w:numFmt w:val="upperRoman"/><w:lvlText w:val="{pattern}"/></w:lvl></w:abstractNum><w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num></w:numbering>"#
        )
        .unwrap();
        zip.start_file("word/document.xml", opts).unwrap();
        let para = r#"<w:p><w:pPr><w:numPr><w:ilvl w:val="0"/><w:numId w:val="1"/></w:numPr></w:pPr><w:r><w:t>x</w:t></w:r></w:p>"#;
        write!(
            zip,
            "<w:document><w:body>{}</w:body></w:document>",
            para.repeat(30_000)
        )
        .unwrap();
        zip.finish().unwrap();
    }
    let bytes = buf.into_inner();
    let start = Instant::now();
    match server::plan_import::import_docx(&bytes) {
        Ok(draft) => {
            let json = serde_json::to_vec(&draft).unwrap();
            assert!(
                json.len() < 8 * 1024 * 1024,
                "{} bytes of draft",
                json.len()
            );
        }
        Err(e) => assert!(e.to_string().contains("too large"), "{e}"),
    }
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn sigterm_during_socket_churn_ends_the_process_within_ten_seconds() {
    let _serial = SERIAL.blocking_lock();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_danvan-server"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--demo",
            "--dist",
            "no-dist",
            "--data-dir",
        ])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut addr = None;
    for _ in 0..100 {
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut out, &mut line).unwrap() == 0 {
            break;
        }
        if let Some(a) = line
            .trim()
            .strip_prefix("danvan-server listening on http://")
        {
            addr = Some(a.parse::<std::net::SocketAddr>().unwrap());
            break;
        }
    }
    let addr = addr.expect("the server prints its address");
    rt.block_on(async {
        let login = login(&format!("http://{addr}"), "kadon").await;
        let churn: Vec<_> = (0..4)
            .map(|k| {
                let login = login.clone();
                tokio::spawn(async move {
                    for n in 0..200u8 {
                        let Ok(mut d) =
                            Device::connect_as(addr, &login.token, &login.peer_id).await
                        else {
                            return;
                        };
                        for i in 0..50u8 {
                            let frame = request(
                                &login.peer_id,
                                DocumentId([k, n, i, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]),
                            );
                            if d.ws.send(Message::Binary(frame.into())).await.is_err() {
                                return;
                            }
                        }
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let start = Instant::now();
        // The shell's own `kill`: no procps needed on a fresh machine.
        std::process::Command::new("sh")
            .args(["-c", &format!("kill -TERM {}", child.id())])
            .status()
            .unwrap();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "still running 10 s after SIGTERM"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        eprintln!("stopped in {:?} ({status})", start.elapsed());
        for c in churn {
            c.abort();
        }
    });
}
