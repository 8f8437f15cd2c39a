//! The sans-IO sync client against an in-memory automerge-repo peer: fresh sync, concurrent notes on
//! both sides, a dropped message, and a reconnect in the middle of a sync all converge.

use automerge::sync::{self, SyncDoc};
use automerge::{ActorId, Automerge};
use shared::schema::{self, Note};
use shared::wire::{RemoteHeads, WireMessage, encode_head};
use shared::{DocKey, DocumentId, Event, Quarter, SyncClient};
use std::collections::{HashMap, HashSet, VecDeque};

/// A minimal server peer speaking the same protocol (the real one, samod, is exercised by the server's
/// socket tests). It knows documents only once someone syncs them; it answers `request` for an unknown
/// document with `doc-unavailable`. Everything it holds counts as durable: a subscribed peer is
/// pushed the heads after each of its sync messages.
struct MemoryServer {
    docs: HashMap<DocumentId, Automerge>,
    states: HashMap<(String, DocumentId), sync::State>,
    subscribed: HashSet<String>,
}

impl MemoryServer {
    fn new() -> Self {
        MemoryServer {
            docs: HashMap::new(),
            states: HashMap::new(),
            subscribed: HashSet::new(),
        }
    }

    fn handle(&mut self, bytes: &[u8]) -> Vec<Vec<u8>> {
        match WireMessage::decode(bytes).unwrap() {
            WireMessage::Join { sender_id, .. } => {
                self.states.retain(|(p, _), _| *p != sender_id);
                vec![
                    WireMessage::Peer {
                        sender_id: "server".into(),
                        target_id: sender_id,
                        selected_protocol_version: "1".into(),
                    }
                    .encode(),
                ]
            }
            WireMessage::Request {
                sender_id,
                document_id,
                data,
                ..
            } if !self.docs.contains_key(&document_id) => {
                let _ = data;
                vec![
                    WireMessage::DocUnavailable {
                        sender_id: "server".into(),
                        target_id: sender_id,
                        document_id,
                    }
                    .encode(),
                ]
            }
            WireMessage::Sync {
                sender_id,
                document_id,
                data,
                ..
            }
            | WireMessage::Request {
                sender_id,
                document_id,
                data,
                ..
            } => {
                let doc = self.docs.entry(document_id).or_default();
                let state = self
                    .states
                    .entry((sender_id.clone(), document_id))
                    .or_default();
                doc.receive_sync_message(state, sync::Message::decode(&data).unwrap())
                    .unwrap();
                let heads = doc.get_heads();
                let mut out = self.reply(&sender_id, document_id);
                if self.subscribed.contains(&sender_id) {
                    out.push(
                        WireMessage::RemoteHeadsChanged {
                            sender_id: "server".into(),
                            target_id: sender_id,
                            document_id,
                            new_heads: vec![RemoteHeads {
                                storage_id: "memory".into(),
                                heads: heads.iter().map(encode_head).collect(),
                                timestamp: 0,
                            }],
                        }
                        .encode(),
                    );
                }
                out
            }
            WireMessage::RemoteSubscriptionChange { sender_id, add, .. } => {
                if !add.is_empty() {
                    self.subscribed.insert(sender_id);
                }
                Vec::new()
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    fn reply(&mut self, peer: &str, id: DocumentId) -> Vec<Vec<u8>> {
        let doc = self.docs.get(&id).unwrap();
        let state = self.states.entry((peer.to_string(), id)).or_default();
        doc.generate_sync_message(state)
            .map(|m| {
                WireMessage::Sync {
                    sender_id: "server".into(),
                    target_id: peer.into(),
                    document_id: id,
                    data: m.encode(),
                }
                .encode()
            })
            .into_iter()
            .collect()
    }

    /// Tell `peer` about every document it shares with us (after another peer changed one).
    fn nudge(&mut self, peer: &str) -> Vec<Vec<u8>> {
        let ids: Vec<DocumentId> = self
            .states
            .keys()
            .filter(|(p, _)| p == peer)
            .map(|(_, d)| *d)
            .collect();
        ids.into_iter()
            .flat_map(|id| self.reply(peer, id))
            .collect()
    }
}

/// A device: the client plus a queue of frames in each direction. `drop_next` loses one frame.
struct Device {
    client: SyncClient,
    to_server: VecDeque<Vec<u8>>,
    /// The last durable heads the server pushed, by document.
    durable: HashMap<DocumentId, Vec<automerge::ChangeHash>>,
}

impl Device {
    fn new(peer: &str) -> Self {
        Device {
            client: SyncClient::new(peer),
            to_server: VecDeque::new(),
            durable: HashMap::new(),
        }
    }
    fn absorb(&mut self, events: Vec<Event>) {
        for e in events {
            match e {
                Event::Send(b) => self.to_server.push_back(b),
                Event::Durable { doc, heads } => {
                    self.durable.insert(doc, heads);
                }
                Event::ProtocolError(e) => panic!("protocol error: {e}"),
                _ => {}
            }
        }
    }
    fn connect(&mut self) {
        let ev = self.client.connected();
        self.absorb(ev);
    }
}

/// Pump frames until nothing moves. `drop_first` loses that many server→device frames first.
fn run(server: &mut MemoryServer, devices: &mut [&mut Device], mut drop_first: usize) {
    for _ in 0..200 {
        let mut moved = false;
        for i in 0..devices.len() {
            while let Some(frame) = devices[i].to_server.pop_front() {
                moved = true;
                for reply in server.handle(&frame) {
                    if drop_first > 0 {
                        drop_first -= 1;
                        continue;
                    }
                    let ev = devices[i].client.receive(&reply);
                    devices[i].absorb(ev);
                }
                // Fan out to the other connected devices, as a repo relays changes.
                for (j, other) in devices.iter_mut().enumerate() {
                    if j != i && other.client.is_connected() {
                        let other_peer = other.client.peer_id().to_string();
                        for f in server.nudge(&other_peer) {
                            let ev = other.client.receive(&f);
                            other.absorb(ev);
                        }
                    }
                }
            }
        }
        if !moved {
            return;
        }
    }
    panic!("sync did not settle");
}

fn note(id: &str, title: &str) -> Note {
    Note {
        id: id.into(),
        activity_date: "2026-11-20".into(),
        title: title.into(),
        author: "t".into(),
        ..Note::default()
    }
}

fn key() -> DocKey {
    DocKey::notes("xa-ka-don", Quarter { year: 2026, q: 4 })
}

fn add_note(d: &mut Device, id: &str, title: &str) {
    let doc_id = key().doc_id();
    let (r, ev) = d
        .client
        .change(&doc_id, |doc| schema::put_note(doc, &note(id, title)))
        .unwrap();
    r.unwrap();
    d.absorb(ev);
}

fn titles(d: &Device) -> Vec<String> {
    let mut t: Vec<String> = schema::read_notes(d.client.doc(&key().doc_id()).unwrap())
        .into_iter()
        .map(|n| n.title)
        .collect();
    t.sort();
    t
}

fn device_with_doc(peer: &str, actor: u8) -> Device {
    let mut d = Device::new(peer);
    let mut doc = schema::genesis_doc(&key()).unwrap();
    doc.set_actor(ActorId::from(&[actor; 16][..]));
    d.client.add_loaded(key().doc_id(), doc);
    d
}

#[test]
fn fresh_sync_pushes_offline_notes() {
    let mut server = MemoryServer::new();
    let mut a = device_with_doc("a", 1);
    add_note(&mut a, "1", "họp bon");
    add_note(&mut a, "2", "thăm hỏi");
    a.connect();
    run(&mut server, &mut [&mut a], 0);
    let mut titles_on_server: Vec<String> = schema::read_notes(&server.docs[&key().doc_id()])
        .into_iter()
        .map(|n| n.title)
        .collect();
    titles_on_server.sort();
    assert_eq!(titles_on_server, vec!["họp bon", "thăm hỏi"]);

    // A second, empty device requests the document and receives both notes.
    let mut b = Device::new("b");
    let (_, ev) = b.client.track(&key(), false);
    b.absorb(ev);
    b.connect();
    run(&mut server, &mut [&mut b], 0);
    assert_eq!(titles(&b), vec!["họp bon", "thăm hỏi"]);
    assert!(
        b.client.take_unsaved(&key().doc_id()).is_some(),
        "received changes must be persisted"
    );
    assert!(b.client.take_unsaved(&key().doc_id()).is_none());
}

/// The client subscribes after the handshake and reports the heads the server pushes.
#[test]
fn pushed_durable_heads_reach_the_client() {
    let mut server = MemoryServer::new();
    let mut a = device_with_doc("a", 1);
    add_note(&mut a, "1", "họp bon");
    a.connect();
    run(&mut server, &mut [&mut a], 0);
    assert!(server.subscribed.contains("a"));
    let id = key().doc_id();
    assert_eq!(a.durable[&id], server.docs[&id].get_heads());
    assert_eq!(
        shared::unsynced::unsynced_changes(a.client.doc(&id).unwrap(), &a.durable[&id]),
        0
    );
}

#[test]
fn unknown_document_is_unavailable() {
    let mut server = MemoryServer::new();
    let mut a = Device::new("a");
    let (id, _) = a.client.track(
        &DocKey::notes("xa-lac-xuan", Quarter { year: 2026, q: 4 }),
        false,
    );
    a.connect();
    let join = a.to_server.pop_front().unwrap();
    let peer = server.handle(&join);
    let ev = a.client.receive(&peer[0]);
    // After the handshake: the durable-heads subscription, then the request.
    let request = ev
        .iter()
        .filter_map(|e| match e {
            Event::Send(b) => Some(b.clone()),
            _ => None,
        })
        .find(|b| matches!(WireMessage::decode(b), Ok(WireMessage::Request { .. })))
        .unwrap();
    let reply = server.handle(&request);
    assert_eq!(a.client.receive(&reply[0]), vec![Event::Unavailable(id)]);
    assert!(a.client.is_unavailable(&id));
}

#[test]
fn concurrent_notes_on_both_sides_merge() {
    let mut server = MemoryServer::new();
    let mut a = device_with_doc("a", 1);
    let mut b = device_with_doc("b", 2);
    a.connect();
    b.connect();
    run(&mut server, &mut [&mut a, &mut b], 0);
    // Both offline, both write.
    a.client.disconnected();
    b.client.disconnected();
    add_note(&mut a, "A1", "a1");
    add_note(&mut a, "A2", "a2");
    add_note(&mut b, "B1", "b1");
    a.connect();
    b.connect();
    run(&mut server, &mut [&mut a, &mut b], 0);
    // One more round lets each side pick up what the other pushed after its own sync finished.
    a.connect();
    b.connect();
    run(&mut server, &mut [&mut a, &mut b], 0);
    assert_eq!(titles(&a), vec!["a1", "a2", "b1"]);
    assert_eq!(titles(&b), titles(&a));
    assert_eq!(
        a.client.doc(&key().doc_id()).unwrap().get_heads(),
        b.client.doc(&key().doc_id()).unwrap().get_heads()
    );
}

#[test]
fn dropped_message_then_reconnect_converges() {
    let mut server = MemoryServer::new();
    let mut a = device_with_doc("a", 1);
    for i in 0..5 {
        add_note(&mut a, &format!("n{i}"), &format!("note {i}"));
    }
    a.connect();
    // Lose the server's first replies (the peer message survives, the sync answer is lost).
    let join = a.to_server.pop_front().unwrap();
    for f in server.handle(&join) {
        let ev = a.client.receive(&f);
        a.absorb(ev);
    }
    run(&mut server, &mut [&mut a], 1);
    // Reconnect: fresh sync state on both sides, and everything arrives.
    a.client.disconnected();
    a.connect();
    run(&mut server, &mut [&mut a], 0);
    assert_eq!(schema::read_notes(&server.docs[&key().doc_id()]).len(), 5);
}

#[test]
fn reconnect_mid_sync_converges() {
    let mut server = MemoryServer::new();
    let mut a = device_with_doc("a", 1);
    let mut b = Device::new("b");
    let (_, ev) = b.client.track(&key(), true);
    b.absorb(ev);
    for i in 0..20 {
        add_note(&mut a, &format!("n{i:02}"), &format!("note {i}"));
    }
    a.connect();
    run(&mut server, &mut [&mut a], 0);
    b.connect();
    // Deliver only the handshake and the first exchange, then the connection breaks.
    let join = b.to_server.pop_front().unwrap();
    for f in server.handle(&join) {
        let ev = b.client.receive(&f);
        b.absorb(ev);
    }
    b.to_server.clear();
    b.client.disconnected();
    add_note(&mut b, "b", "written while reconnecting");
    b.connect();
    run(&mut server, &mut [&mut a, &mut b], 0);
    a.connect();
    run(&mut server, &mut [&mut a, &mut b], 0);
    assert_eq!(titles(&b).len(), 21);
    assert_eq!(titles(&a), titles(&b));
}

#[test]
fn garbage_from_the_server_is_a_protocol_error() {
    let mut a = Device::new("a");
    a.connect();
    assert!(matches!(a.client.receive(b"\x00\x01"), v if matches!(v[0], Event::ProtocolError(_))));
}

#[test]
fn resync_recovers_a_stalled_document_without_reconnecting() {
    let mut server = MemoryServer::new();
    let mut a = device_with_doc("a", 1);
    a.connect();
    run(&mut server, &mut [&mut a], 0);
    add_note(&mut a, "x", "mất trên đường truyền");
    // The frame carrying the note is lost; both sides now wait for each other.
    a.to_server.clear();
    run(&mut server, &mut [&mut a], 0);
    assert!(schema::read_notes(&server.docs[&key().doc_id()]).is_empty());
    let ev = a.client.resync(&key().doc_id());
    a.absorb(ev);
    run(&mut server, &mut [&mut a], 0);
    assert_eq!(schema::read_notes(&server.docs[&key().doc_id()]).len(), 1);
}

fn apply(d: &mut Device, id: &DocumentId, f: impl FnOnce(&mut automerge::Automerge)) {
    let ((), ev) = d.client.change(id, f).unwrap();
    d.absorb(ev);
}

#[test]
fn two_units_and_a_plan_editor_edit_concurrently_and_every_replica_keeps_all_three() {
    use shared::schema::{ProgressRecord, Task};
    let mut server = MemoryServer::new();
    let plan = DocKey::plan("kh-ct18-2022");
    let progress = DocKey::progress("kh-ct18-2022", "xa-ka-don");
    let task = Task {
        id: "t-ii-4".into(),
        number: "II.4".into(),
        title: "Đổi mới nội dung, phương thức hoạt động".into(),
        text: String::new(),
        order: 4,
        deadline: Some("2026-11-30".into()),
        ..Task::default()
    };
    let mut editor = Device::new("editor");
    let (pid, ev) = editor.client.track(&plan, true);
    editor.absorb(ev);
    apply(&mut editor, &pid, |d| schema::put_task(d, &task).unwrap());
    editor.connect();
    run(&mut server, &mut [&mut editor], 0);
    let mut units = [Device::new("nong-dan"), Device::new("phu-nu")];
    for u in units.iter_mut() {
        let (_, ev) = u.client.track(&plan, false);
        u.absorb(ev);
        let (_, ev) = u.client.track(&progress, true);
        u.absorb(ev);
        u.connect();
    }
    let [a, b] = &mut units;
    run(&mut server, &mut [a, b, &mut editor], 0);

    // All three offline, all three edit.
    for d in [&mut *a, &mut *b, &mut editor] {
        d.client.disconnected();
    }
    let record = |unit: &str, percent| ProgressRecord {
        task_id: "t-ii-4".into(),
        unit: unit.into(),
        percent,
        remark: format!("{unit} đã triển khai"),
        by: unit.into(),
        at: 1_795_700_000_000,
        done_at: None,
    };
    let prog_id = progress.doc_id();
    apply(a, &prog_id, |d| {
        schema::put_progress(d, &record("hoi-nong-dan", 60)).unwrap()
    });
    apply(b, &prog_id, |d| {
        schema::put_progress(d, &record("hoi-phu-nu", 30)).unwrap()
    });
    apply(&mut editor, &pid, |d| {
        schema::set_task_deadline(d, "t-ii-4", Some("2026-12-31")).unwrap()
    });

    for _ in 0..2 {
        for d in [&mut *a, &mut *b, &mut editor] {
            d.connect();
        }
        run(&mut server, &mut [a, b, &mut editor], 0);
    }
    for d in [&*a, &*b] {
        let p = schema::read_progress(d.client.doc(&prog_id).unwrap());
        let got: Vec<(String, i64)> = p.iter().map(|r| (r.unit.clone(), r.percent)).collect();
        assert_eq!(
            got,
            [
                ("hoi-nong-dan".to_string(), 60),
                ("hoi-phu-nu".to_string(), 30)
            ]
        );
        let tasks = schema::read_tasks(d.client.doc(&pid).unwrap());
        assert_eq!(tasks[0].deadline.as_deref(), Some("2026-12-31"));
    }
    assert_eq!(
        schema::read_tasks(editor.client.doc(&pid).unwrap())[0]
            .deadline
            .as_deref(),
        Some("2026-12-31")
    );
    assert_eq!(schema::read_progress(&server.docs[&prog_id]).len(), 2);
}
