//! Real sockets, real SQLite: devices push notes through samod, the server restarts, the notes and
//! durable heads are still there; authorization and hostile frames on `/sync`.

use crate::common::*;
use futures_util::{SinkExt, StreamExt};
use shared::schema::{self, Note};
use shared::{DocKey, Quarter};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

fn quarter() -> Quarter {
    server::clock::current_quarter()
}

fn note(id: &str, title: &str) -> Note {
    Note {
        id: id.into(),
        activity_date: format!("{}-{:02}-15", quarter().year, quarter().q * 3),
        title: title.into(),
        content: "Tuyên truyền tại bon".into(),
        task_ids: vec!["t-ii-4".into()],
        author: "test".into(),
        created_at: 1_795_700_000_000,
        ..Note::default()
    }
}

async fn wait_durable(base: &str, token: &str, dev: &Device, id: &shared::DocumentId) {
    for _ in 0..100 {
        if covered(
            dev.client.doc(id).unwrap(),
            &durable_heads(base, token).await,
            id,
        ) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("durable heads never covered the device's changes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_survive_restart_and_durable_heads_cover_them() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let base = srv.url();
    let (kadon, mut phone) = logged_in_device(&srv, "kadon").await;
    let key = DocKey::notes("xa-ka-don", quarter());
    let id = phone.track(&key, true).await;
    for i in 0..5 {
        phone
            .change(&id, |d| {
                schema::put_note(d, &note(&format!("n{i}"), &format!("Ghi chép {i}"))).unwrap()
            })
            .await;
    }
    phone.pump(Duration::from_millis(300)).await;
    wait_durable(&base, &kadon.token, &phone, &id).await;

    let port = srv.addr.port();
    srv.stop().await;
    let srv = TestServer::start(dir.path(), port).await;
    assert_eq!(
        durable_check(&base, &kadon.token, &id, phone.client.doc(&id).unwrap()).await,
        Some(true),
        "the server confirms the device's heads are durable"
    );
    // A change the server never received is not durable.
    let mut offline_copy = phone.client.doc(&id).unwrap().clone();
    schema::put_note(&mut offline_copy, &note("never-sent", "chưa gửi")).unwrap();
    assert_eq!(
        durable_check(&base, &kadon.token, &id, &offline_copy).await,
        Some(false)
    );
    let stored = stored(&srv, id.to_string()).await;
    assert_eq!(schema::read_notes(&stored).len(), 5);
    assert!(covered(
        phone.client.doc(&id).unwrap(),
        &durable_heads(&base, &kadon.token).await,
        &id
    ));

    // A second device of the same commune, fresh, gets all five notes from the restarted server.
    let kadon2 = login(&base, "kadon2").await;
    let mut other = Device::connect(srv.addr, &kadon2).await;
    let id2 = other.track(&key, false).await;
    other
        .pump_until(
            |d| {
                d.client
                    .doc(&id2)
                    .is_some_and(|doc| schema::read_notes(doc).len() == 5)
            },
            Duration::from_secs(3),
        )
        .await;
    assert_eq!(schema::read_notes(other.client.doc(&id2).unwrap()).len(), 5);

    // The read model counted them.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let overview = srv.state.db.overview().unwrap();
    let row = overview
        .iter()
        .find(|r| r.commune_id == "xa-ka-don")
        .unwrap();
    assert_eq!(row.notes, 5);
    assert!(row.last_sync.is_some());
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_communes_documents_are_unavailable_and_never_written() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let base = srv.url();
    let (kadon, mut phone) = logged_in_device(&srv, "kadon").await;

    // Asking for commune B's notes (which exist on the server) looks exactly like a missing document.
    let theirs = DocKey::notes("xa-lac-xuan", quarter());
    let tid = phone.track(&theirs, false).await;
    phone
        .pump_until(|d| d.unavailable.contains(&tid), Duration::from_secs(3))
        .await;
    assert!(
        phone.unavailable.contains(&tid),
        "denied document must answer doc-unavailable"
    );

    // Pushing into commune B's document: nothing is stored.
    let mut intruder = Device::connect(srv.addr, &login(&base, "kadon").await).await;
    let bid = intruder.track(&theirs, true).await;
    intruder
        .change(&bid, |d| {
            schema::put_note(d, &note("evil", "không được phép")).unwrap()
        })
        .await;
    intruder.pump(Duration::from_millis(500)).await;
    let stored = stored(&srv, bid.to_string()).await;
    assert!(
        schema::read_notes(&stored).is_empty(),
        "a member of A wrote into B's notes"
    );

    // Asking about B's document is answered as if it did not exist.
    let b_doc = intruder.client.doc(&bid).unwrap().clone();
    assert_eq!(durable_check(&base, &kadon.token, &bid, &b_doc).await, None);
    // Durable heads and the document list never mention B's documents to A.
    let heads = durable_heads(&base, &kadon.token).await;
    assert!(heads.get(bid.to_string()).is_none());
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_peers_changes_are_neither_stored_nor_relayed() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let base = srv.url();
    let key = DocKey::notes("xa-ka-don", quarter());

    let (_, mut member) = logged_in_device(&srv, "kadon").await;
    let id = member.track(&key, true).await;
    member
        .change(&id, |d| schema::put_note(d, &note("m1", "của xã")).unwrap())
        .await;
    member.pump(Duration::from_millis(300)).await;

    // The viewer reads the member's note...
    let huyen = login(&base, "huyen").await;
    let mut viewer = Device::connect(srv.addr, &huyen).await;
    let vid = viewer.track(&key, false).await;
    viewer
        .pump_until(
            |d| {
                d.client
                    .doc(&vid)
                    .is_some_and(|x| !schema::read_notes(x).is_empty())
            },
            Duration::from_secs(3),
        )
        .await;
    assert_eq!(
        schema::read_notes(viewer.client.doc(&vid).unwrap()).len(),
        1
    );

    // ...but what it writes goes nowhere: not to storage, not to the member.
    viewer
        .change(&vid, |d| {
            schema::put_note(d, &note("v1", "viết trộm")).unwrap()
        })
        .await;
    viewer.pump(Duration::from_millis(500)).await;
    member.pump(Duration::from_millis(500)).await;
    let notes = stored(&srv, id.to_string()).await;
    let titles: Vec<String> = schema::read_notes(&notes)
        .into_iter()
        .map(|n| n.title)
        .collect();
    assert_eq!(titles, vec!["của xã"]);
    assert_eq!(schema::read_notes(member.client.doc(&id).unwrap()).len(), 1);

    // A viewer pushing into the org document is ignored too.
    let org = viewer.track(&DocKey::org(), false).await;
    viewer.pump(Duration::from_millis(300)).await;
    viewer
        .change(&org, |d| {
            schema::put_root_str(d, "title", "hijacked").unwrap()
        })
        .await;
    viewer.pump(Duration::from_millis(300)).await;
    let stored_org = stored(&srv, org.to_string()).await;
    assert_eq!(
        schema::get_str(&stored_org, &automerge::ROOT, "title"),
        None
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_cannot_claim_another_peer_id() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let base = srv.url();
    let lacxuan = login(&base, "lacxuan").await;
    let kadon = login(&base, "kadon").await;
    // lacxuan's token, kadon's peer ID: the server refuses the handshake.
    let r = Device::connect_as(srv.addr, &lacxuan.token, &kadon.peer_id).await;
    assert!(r.is_err(), "a mismatched peer ID was accepted");
    // No token, a wrong token: the upgrade itself is refused.
    assert!(open_ws(srv.addr, "wrong").await.is_err());
    let no_token = tokio_tungstenite::connect_async(format!("ws://{}/sync", srv.addr)).await;
    assert!(no_token.is_err());
    srv.stop().await;
}

/// Send a raw frame as kadon and wait for the server to close the connection.
async fn hostile_frame(srv: &TestServer, frame: Message) {
    let kadon = login(&srv.url(), "kadon").await;
    let mut ws = open_ws(srv.addr, &kadon.token).await.unwrap();
    let join = shared::wire::WireMessage::Join {
        sender_id: kadon.peer_id.clone(),
        supported_protocol_versions: vec!["1".into()],
    };
    ws.send(Message::Binary(join.encode().into()))
        .await
        .unwrap();
    let _ = ws.send(frame).await;
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return true,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert_eq!(
        closed,
        Ok(true),
        "connection left open after a hostile frame"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_frames_close_the_connection_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let key = DocKey::notes("xa-ka-don", quarter());

    hostile_frame(
        &srv,
        Message::Binary(b"\xff\xfe not cbor at all".to_vec().into()),
    )
    .await;
    let sync = shared::wire::WireMessage::Sync {
        sender_id: "x".into(),
        target_id: "danvan-server".into(),
        document_id: key.doc_id(),
        data: vec![0x42, 1, 2, 3],
    }
    .encode();
    hostile_frame(
        &srv,
        Message::Binary(sync[..sync.len() / 2].to_vec().into()),
    )
    .await;
    hostile_frame(
        &srv,
        Message::Binary(vec![0u8; server::MAX_SYNC_FRAME + 1].into()),
    )
    .await;
    hostile_frame(&srv, Message::Text("{\"type\":\"join\"}".into())).await;
    let mut unknown = minicbor::Encoder::new(Vec::new());
    unknown
        .map(2)
        .unwrap()
        .str("type")
        .unwrap()
        .str("no-such-type")
        .unwrap()
        .str("senderId")
        .unwrap()
        .str("x")
        .unwrap();
    hostile_frame(&srv, Message::Binary(unknown.into_writer().into())).await;

    // After all that, an honest device still syncs and its note is durable.
    let kadon = login(&srv.url(), "kadon").await;
    let mut phone = Device::connect(srv.addr, &kadon).await;
    let id = phone.track(&key, true).await;
    phone
        .change(&id, |d| {
            schema::put_note(d, &note("ok", "vẫn hoạt động")).unwrap()
        })
        .await;
    phone.pump(Duration::from_millis(300)).await;
    wait_durable(&srv.url(), &kadon.token, &phone, &id).await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_violating_entries_are_quarantined_not_counted() {
    use automerge::transaction::Transactable;
    use automerge::{ObjType, ROOT, ReadDoc};
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let base = srv.url();
    let (kadon, mut phone) = logged_in_device(&srv, "kadon").await;
    let id = phone
        .track(&DocKey::notes("xa-ka-don", quarter()), true)
        .await;
    phone
        .change(&id, |d| {
            schema::put_note(d, &note("good", "hợp lệ")).unwrap()
        })
        .await;
    // A hostile (or buggy) client writes entries that break the schema.
    phone
        .change(&id, |d| {
            d.transact::<_, _, automerge::AutomergeError>(|tx| {
                let notes = tx.get(ROOT, "notes")?.unwrap().1;
                tx.put(&notes, "not-a-map", "x")?;
                let n = tx.put_object(&notes, "bad-types", ObjType::Map)?;
                tx.put(&n, "title", 42)?;
                tx.put(&n, "activity_date", "yesterday")?;
                Ok(())
            })
            .unwrap();
        })
        .await;
    phone.pump(Duration::from_millis(300)).await;
    wait_durable(&base, &kadon.token, &phone, &id).await;

    // Kept in the document (nothing typed is dropped)...
    let stored = stored(&srv, id.to_string()).await;
    let notes = stored.get(ROOT, "notes").unwrap().unwrap().1;
    assert_eq!(stored.keys(&notes).count(), 3);
    // ...flagged for admins, and left out of the read model.
    let admin = login(&base, "admin").await;
    let mut listed = serde_json::Value::Null;
    for _ in 0..50 {
        listed = reqwest::Client::new()
            .get(format!("{base}/api/quarantine"))
            .bearer_auth(&admin.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if listed["entries"].as_array().is_some_and(|e| e.len() == 2) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let entries: Vec<&str> = listed["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entry"].as_str().unwrap())
        .collect();
    assert_eq!(entries.len(), 2, "{listed}");
    assert!(entries.contains(&"not-a-map") && entries.contains(&"bad-types"));
    let row = srv
        .state
        .db
        .overview()
        .unwrap()
        .into_iter()
        .find(|r| r.commune_id == "xa-ka-don")
        .unwrap();
    assert_eq!(row.notes, 1);
    // Members may not read the quarantine list; the server keeps serving.
    let res = reqwest::Client::new()
        .get(format!("{base}/api/quarantine"))
        .bearer_auth(&kadon.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert_eq!(
        reqwest::get(format!("{base}/healthz"))
            .await
            .unwrap()
            .status(),
        200
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_records_reach_the_read_model_per_task_commune_and_unit() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let base = srv.url();
    let (kadon, mut phone) = logged_in_device(&srv, "kadon").await;
    let id = phone
        .track(&DocKey::progress("kh-ct18-2022", "xa-ka-don"), true)
        .await;
    for (unit, percent) in [("ubmttq", 60), ("hoi-phu-nu", 30)] {
        let r = schema::ProgressRecord {
            task_id: "t-ii-4".into(),
            unit: unit.into(),
            percent,
            remark: String::new(),
            by: "kadon".into(),
            at: 1_795_700_000_000,
            done_at: None,
        };
        phone
            .change(&id, |d| schema::put_progress(d, &r).unwrap())
            .await;
    }
    phone.pump(Duration::from_millis(300)).await;
    wait_durable(&base, &kadon.token, &phone, &id).await;
    let mut rows = Vec::new();
    for _ in 0..50 {
        rows = srv.state.db.progress("kh-ct18-2022").unwrap();
        // The demo's other communes have progress of their own.
        rows.retain(|r| r.0 == "xa-ka-don");
        if rows.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        rows,
        [
            (
                "xa-ka-don".to_string(),
                "t-ii-4".to_string(),
                "hoi-phu-nu".to_string(),
                30
            ),
            (
                "xa-ka-don".to_string(),
                "t-ii-4".to_string(),
                "ubmttq".to_string(),
                60
            )
        ]
    );
    srv.stop().await;
}
