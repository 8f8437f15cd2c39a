//! A sans-IO automerge-repo client: wire messages in, wire messages and events out.
//!
//! It owns the device's Automerge documents and one sync state per document for the single server
//! peer. It has no clock, socket or storage: the app (browser WebSocket + IndexedDB) and the Rust
//! test/bench clients (tokio-tungstenite) drive it, which is what lets the same code run on wasm32,
//! where samod cannot (it calls `Instant::now()`).

use crate::ids::{DocKey, DocumentId};
use crate::schema;
use crate::wire::{DURABLE_STORAGE, PROTOCOL_VERSION, WireMessage, decode_head};
use automerge::sync::{self, SyncDoc};
use automerge::{Automerge, ChangeHash};
use std::collections::BTreeMap;

/// What the driver must do after feeding the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Send these bytes as one binary WebSocket frame.
    Send(Vec<u8>),
    /// The handshake finished; the server's peer ID.
    Connected { server_peer: String },
    /// Remote changes arrived for this document: persist them (see [`SyncClient::take_unsaved`]).
    DocChanged(DocumentId),
    /// The server does not have this document, or may not share it with us (indistinguishable).
    Unavailable(DocumentId),
    /// The server's durable heads of this document (pushed after each commit, and once when the
    /// document is first synced on a connection): every ancestor of them is on its disk.
    Durable {
        doc: DocumentId,
        heads: Vec<ChangeHash>,
    },
    /// The server sent something we cannot accept: the driver should close the connection.
    ProtocolError(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Conn {
    Down,
    Joining,
    Up { server: String },
}

struct Entry {
    doc: Automerge,
    sync: sync::State,
    /// Heads as of the last [`SyncClient::take_unsaved`], so each write stores only what is new.
    saved_heads: Vec<ChangeHash>,
    unavailable: bool,
}

pub struct SyncClient {
    peer_id: String,
    conn: Conn,
    docs: BTreeMap<DocumentId, Entry>,
}

impl SyncClient {
    pub fn new(peer_id: impl Into<String>) -> Self {
        SyncClient {
            peer_id: peer_id.into(),
            conn: Conn::Down,
            docs: BTreeMap::new(),
        }
    }

    pub fn peer_id(&self) -> &str {
        &self.peer_id
    }

    /// Add a document loaded from local storage (its current state counts as saved).
    pub fn add_loaded(&mut self, id: DocumentId, doc: Automerge) {
        let saved_heads = doc.get_heads();
        self.docs.insert(
            id,
            Entry {
                doc,
                sync: sync::State::new(),
                saved_heads,
                unavailable: false,
            },
        );
    }

    /// Make sure the document of `key` is tracked; with `create`, give it its genesis change so it can be
    /// written offline. Returns its ID and any message to send (when connected).
    pub fn track(&mut self, key: &DocKey, create: bool) -> (DocumentId, Vec<Event>) {
        let id = key.doc_id();
        let mut events = Vec::new();
        let is_new = !self.docs.contains_key(&id);
        let entry = self.docs.entry(id).or_insert_with(|| Entry {
            doc: Automerge::new(),
            sync: sync::State::new(),
            saved_heads: Vec::new(),
            unavailable: false,
        });
        let mut changed = false;
        if create && entry.doc.get_heads().is_empty() {
            // Genesis is deterministic (see schema), so creating it here never conflicts with the server.
            changed = schema::ensure_genesis(&mut entry.doc, key).is_ok();
        }
        if is_new || changed {
            events.extend(self.sync_doc(id));
        }
        (id, events)
    }

    pub fn doc(&self, id: &DocumentId) -> Option<&Automerge> {
        self.docs.get(id).map(|e| &e.doc)
    }

    pub fn doc_ids(&self) -> impl Iterator<Item = &DocumentId> {
        self.docs.keys()
    }

    /// The heads the server last said it has for `id`: its acknowledgement (not durability — see
    /// DESIGN §5). For measuring servers that give no durable-heads answer.
    pub fn server_heads(&self, id: &DocumentId) -> Option<&[ChangeHash]> {
        self.docs.get(id)?.sync.their_heads.as_deref()
    }

    pub fn is_unavailable(&self, id: &DocumentId) -> bool {
        self.docs.get(id).is_some_and(|e| e.unavailable)
    }

    pub fn is_connected(&self) -> bool {
        matches!(self.conn, Conn::Up { .. })
    }

    /// Merge another copy of a tracked document (from an export file): only the changes this copy
    /// lacks are applied, so merging the same copy again changes nothing.
    pub fn merge(
        &mut self,
        id: &DocumentId,
        other: &mut Automerge,
    ) -> Option<Result<Vec<Event>, automerge::AutomergeError>> {
        let entry = self.docs.get_mut(id)?;
        Some(match entry.doc.merge(other) {
            Ok(_) => Ok(self.sync_doc(*id)),
            Err(e) => Err(e),
        })
    }

    /// Make a local change; returns the closure's result and the messages to send.
    pub fn change<R>(
        &mut self,
        id: &DocumentId,
        f: impl FnOnce(&mut Automerge) -> R,
    ) -> Option<(R, Vec<Event>)> {
        let entry = self.docs.get_mut(id)?;
        let r = f(&mut entry.doc);
        Some((r, self.sync_doc(*id)))
    }

    /// Start the sync of one document afresh (new sync state) and return the first message.
    ///
    /// The driver calls this when local changes stay unconfirmed while connected: automerge's sync
    /// can stall (a Bloom-filter false positive hides a change, or a message is lost) with both sides
    /// waiting; a fresh negotiation always converges.
    pub fn resync(&mut self, id: &DocumentId) -> Vec<Event> {
        match self.docs.get_mut(id) {
            Some(e) => e.sync = sync::State::new(),
            None => return Vec::new(),
        }
        self.sync_doc(*id)
    }

    /// New bytes to persist for `id` since the last call (an incremental chunk), if any.
    pub fn take_unsaved(&mut self, id: &DocumentId) -> Option<Vec<u8>> {
        let entry = self.docs.get_mut(id)?;
        let heads = entry.doc.get_heads();
        if heads == entry.saved_heads {
            return None;
        }
        let bytes = entry.doc.save_after(&entry.saved_heads);
        entry.saved_heads = heads;
        Some(bytes)
    }

    /// The transport opened: start the handshake. Sync states are reset on every connection, because a
    /// state kept across a dropped message can make automerge's sync stall forever.
    pub fn connected(&mut self) -> Vec<Event> {
        for e in self.docs.values_mut() {
            e.sync = sync::State::new();
        }
        self.conn = Conn::Joining;
        vec![Event::Send(
            WireMessage::Join {
                sender_id: self.peer_id.clone(),
                supported_protocol_versions: vec![PROTOCOL_VERSION.into()],
            }
            .encode(),
        )]
    }

    pub fn disconnected(&mut self) {
        self.conn = Conn::Down;
    }

    /// Feed one received frame.
    pub fn receive(&mut self, bytes: &[u8]) -> Vec<Event> {
        let msg = match WireMessage::decode(bytes) {
            Ok(m) => m,
            Err(e) => return vec![Event::ProtocolError(e.to_string())],
        };
        match msg {
            WireMessage::Peer {
                sender_id,
                selected_protocol_version,
                ..
            } => {
                if selected_protocol_version != PROTOCOL_VERSION {
                    return vec![Event::ProtocolError(format!(
                        "server chose protocol {selected_protocol_version}"
                    ))];
                }
                self.conn = Conn::Up {
                    server: sender_id.clone(),
                };
                // Ask for the durable heads to be pushed: no polling needed to learn what is saved.
                let subscribe = WireMessage::RemoteSubscriptionChange {
                    sender_id: self.peer_id.clone(),
                    target_id: sender_id.clone(),
                    add: vec![DURABLE_STORAGE.into()],
                    remove: Vec::new(),
                };
                let mut out = vec![
                    Event::Connected {
                        server_peer: sender_id,
                    },
                    Event::Send(subscribe.encode()),
                ];
                let ids: Vec<DocumentId> = self.docs.keys().copied().collect();
                for id in ids {
                    out.extend(self.sync_doc(id));
                }
                out
            }
            WireMessage::Sync {
                document_id, data, ..
            }
            | WireMessage::Request {
                document_id, data, ..
            } => self.on_sync(document_id, &data),
            WireMessage::DocUnavailable { document_id, .. } => {
                if let Some(e) = self.docs.get_mut(&document_id) {
                    e.unavailable = true;
                }
                vec![Event::Unavailable(document_id)]
            }
            WireMessage::Error { message } => {
                vec![Event::ProtocolError(format!("server error: {message}"))]
            }
            WireMessage::Leave { .. } => {
                self.conn = Conn::Down;
                Vec::new()
            }
            WireMessage::Join { .. } => {
                vec![Event::ProtocolError("unexpected join from server".into())]
            }
            WireMessage::RemoteHeadsChanged {
                document_id,
                new_heads,
                ..
            } => {
                let Some(first) = new_heads.first() else {
                    return Vec::new();
                };
                match first.heads.iter().map(|h| decode_head(h)).collect() {
                    Some(heads) => vec![Event::Durable {
                        doc: document_id,
                        heads,
                    }],
                    None => vec![Event::ProtocolError(
                        "bad heads in remote-heads-changed".into(),
                    )],
                }
            }
            WireMessage::RemoteSubscriptionChange { .. } | WireMessage::Other { .. } => Vec::new(),
        }
    }

    fn on_sync(&mut self, id: DocumentId, data: &[u8]) -> Vec<Event> {
        let Conn::Up { .. } = self.conn else {
            return vec![Event::ProtocolError("sync before handshake".into())];
        };
        let msg = match sync::Message::decode(data) {
            Ok(m) => m,
            Err(e) => return vec![Event::ProtocolError(format!("bad sync message: {e}"))],
        };
        let entry = self.docs.entry(id).or_insert_with(|| Entry {
            doc: Automerge::new(),
            sync: sync::State::new(),
            saved_heads: Vec::new(),
            unavailable: false,
        });
        entry.unavailable = false;
        let before = entry.doc.get_heads();
        if let Err(e) = entry.doc.receive_sync_message(&mut entry.sync, msg) {
            return vec![Event::ProtocolError(format!("sync message rejected: {e}"))];
        }
        let changed = entry.doc.get_heads() != before;
        let mut out = Vec::new();
        if changed {
            out.push(Event::DocChanged(id));
        }
        out.extend(self.sync_doc(id));
        out
    }

    /// The next sync message for `id`, if connected and there is anything to say.
    fn sync_doc(&mut self, id: DocumentId) -> Vec<Event> {
        let Conn::Up { server } = &self.conn else {
            return Vec::new();
        };
        let Some(entry) = self.docs.get_mut(&id) else {
            return Vec::new();
        };
        let Some(msg) = entry.doc.generate_sync_message(&mut entry.sync) else {
            return Vec::new();
        };
        let data = msg.encode();
        let (sender_id, target_id) = (self.peer_id.clone(), server.clone());
        // A document we hold no changes of is *requested*: the server then answers doc-unavailable
        // instead of silently creating an empty document.
        let wire = if entry.doc.get_heads().is_empty() {
            WireMessage::Request {
                sender_id,
                target_id,
                document_id: id,
                data,
            }
        } else {
            WireMessage::Sync {
                sender_id,
                target_id,
                document_id: id,
                data,
            }
        };
        vec![Event::Send(wire.encode())]
    }
}
