//! Durable heads pushed over the sync socket (`remote-heads-changed`): a phone hears that its notes
//! are on disk without asking, hears only about documents it may sync, and a connection that ends
//! leaves no subscription behind. Real server, real SQLite, real sockets.

use crate::common::*;
use futures_util::SinkExt;
use shared::wire::WireMessage;
use shared::{DocKey, schema};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phones_hear_their_notes_are_durable_without_asking() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let hash = server::auth::hash_password("not used: the devices are logged in already");
    let quarter = server::clock::current_quarter();
    let key = DocKey::notes("xa-ka-don", quarter);
    let logins: Vec<Login> = (0..2)
        .map(|i| device_login(&srv, "xa-ka-don", i, &hash))
        .collect();
    let (mut phones, id) = devices_on(srv.addr, &logins, &key).await;
    // Joining: each phone hears the current durable heads (the demo's seeded notes).
    for p in &mut phones {
        assert!(
            p.pump_until(|d| d.pushed.contains_key(&id), Duration::from_secs(5))
                .await
        );
    }
    assert_eq!(srv.state.hub.durable_push().subscribers(&id), 2);

    // A phone writes; the push says it is durable, and says what the HTTP answer says.
    for i in 0..3 {
        phones[0]
            .change(&id, |d| {
                schema::put_note(d, &field_note(format!("push-{i}"), quarter, "p0")).unwrap()
            })
            .await;
    }
    assert!(
        phones[0]
            .pump_until(|d| d.pushed_covers(&id), Duration::from_secs(5))
            .await
    );
    assert!(phones[0].pushed_covers(&id), "the push covers the notes");
    let token = &logins[0].token;
    let http = durable_heads(&srv.url(), token).await;
    assert_eq!(
        durable_of(&http, &id).unwrap(),
        phones[0].pushed[&id],
        "pushed heads are the durable heads"
    );
    let stored = stored(&srv, id.to_string()).await;
    assert_eq!(
        shared::unsynced::unsynced_changes(phones[0].client.doc(&id).unwrap(), &stored.get_heads()),
        0
    );
    // The other phone of the commune receives the notes and hears they are durable.
    assert!(
        phones[1]
            .pump_until(
                |d| d.pushed_covers(&id)
                    && d.client.doc(&id).is_some_and(|doc| {
                        schema::read_notes(doc)
                            .iter()
                            .filter(|n| n.id.starts_with("push-"))
                            .count()
                            == 3
                    }),
                Duration::from_secs(5)
            )
            .await
    );

    // A member of another commune asks for this document: refused, and told nothing of it.
    let stranger = device_login(&srv, "xa-lac-xuan", 9, &hash);
    let mut other = Device::connect(srv.addr, &stranger).await;
    other.track(&key, false).await;
    other.pump(Duration::from_millis(500)).await;
    assert!(other.unavailable.contains(&id));
    assert!(!other.pushed.contains_key(&id));
    assert_eq!(srv.state.hub.durable_push().subscribers(&id), 2);

    // A phone that goes away leaves no subscription behind.
    drop(phones.pop());
    for _ in 0..50 {
        if srv.state.hub.durable_push().subscribers(&id) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(srv.state.hub.durable_push().subscribers(&id), 1);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_naming_another_sender_or_badly_typed_closes_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let (_, mut phone) = logged_in_device(&srv, "kadon").await;
    let forged = WireMessage::RemoteSubscriptionChange {
        sender_id: "someone-else".into(),
        target_id: server::sync::SERVER_PEER_ID.into(),
        add: vec!["durable".into()],
        remove: vec![],
    };
    let since = std::time::Instant::now();
    phone
        .ws
        .send(Message::Binary(forged.encode().into()))
        .await
        .unwrap();
    closed_within_a_second(&mut phone, since).await;

    let (_, mut phone) = logged_in_device(&srv, "kadon").await;
    let mut e = minicbor::Encoder::new(Vec::new());
    e.map(4).unwrap();
    e.str("type")
        .unwrap()
        .str("remote-subscription-change")
        .unwrap();
    e.str("senderId")
        .unwrap()
        .str(phone.client.peer_id())
        .unwrap();
    e.str("targetId").unwrap().str("danvan-server").unwrap();
    e.str("add").unwrap().u32(7).unwrap();
    let since = std::time::Instant::now();
    phone
        .ws
        .send(Message::Binary(e.into_writer().into()))
        .await
        .unwrap();
    closed_within_a_second(&mut phone, since).await;
    srv.stop().await;
}

/// Unsubscribing works; subscribing again on the same connection does not (each subscription
/// reads every document's durable heads: a client toggling it must not make the server work).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_subscribes_once() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(dir.path(), 0).await;
    let (_, mut phone) = logged_in_device(&srv, "kadon").await;
    let id = phone
        .track(
            &DocKey::notes("xa-ka-don", server::clock::current_quarter()),
            true,
        )
        .await;
    assert!(
        phone
            .pump_until(|d| d.pushed.contains_key(&id), Duration::from_secs(5))
            .await
    );
    let push = srv.state.hub.durable_push();
    assert_eq!(push.subscribers(&id), 1);
    for (add, remove) in [
        (vec![], vec!["durable".to_string()]),
        (vec!["durable".into()], vec![]),
    ] {
        let change = WireMessage::RemoteSubscriptionChange {
            sender_id: phone.client.peer_id().into(),
            target_id: server::sync::SERVER_PEER_ID.into(),
            add,
            remove,
        };
        phone
            .ws
            .send(Message::Binary(change.encode().into()))
            .await
            .unwrap();
        assert!(
            phone
                .pump_until(|_| false, Duration::from_millis(300))
                .await
        );
        assert_eq!(push.subscribers(&id), 0, "still open, not subscribed");
    }
    srv.stop().await;
}
