//! The sync endpoint: samod (pinned) behind this one module — repo setup, share policy, accepting
//! authenticated WebSockets. Nothing else in the server names a samod type.

use crate::access::{Access, Principal, access};
use crate::registry::Registry;
use crate::storage::SqliteStorage;
use automerge::Automerge;
use samod::{ShareConfig, Stopped};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

pub const SERVER_PEER_ID: &str = "danvan-server";

/// Authenticated peers: the peer ID a WebSocket was bound to → who it is.
pub type Peers = Arc<RwLock<HashMap<String, Principal>>>;

pub struct SyncHub {
    stopped: std::sync::atomic::AtomicBool,
    repo: samod::Repo,
    acceptor: samod::AcceptorHandle,
    peers: Peers,
}

pub fn to_samod_id(id: &shared::DocumentId) -> samod::DocumentId {
    samod::DocumentId::try_from(id.0.to_vec()).expect("16 bytes are a valid document id")
}

fn from_samod_id(id: &samod::DocumentId) -> Option<shared::DocumentId> {
    id.as_bytes().try_into().ok().map(shared::DocumentId)
}

/// The share decision for one (document, peer). Unknown peers and unknown documents get nothing, and
/// samod answers them exactly as for a missing document.
fn decide(registry: &Registry, peers: &Peers, doc: &samod::DocumentId, peer: &str) -> ShareConfig {
    let decision = from_samod_id(doc)
        .and_then(|id| registry.get(&id))
        .and_then(|key| peers.read().unwrap().get(peer).map(|p| access(p, &key)))
        .unwrap_or(Access::None);
    // announce(false): the server never pushes or requests documents on its own; each device asks for
    // exactly the documents it keeps, which keeps a phone's download to its own commune.
    match decision {
        Access::None => ShareConfig::none(),
        Access::Read => ShareConfig::read_only().with_announce(false),
        Access::Write => ShareConfig::read_write().with_announce(false),
    }
}

impl SyncHub {
    pub async fn start(storage: SqliteStorage, registry: Arc<Registry>) -> anyhow::Result<Self> {
        let peers: Peers = Arc::default();
        let policy_peers = peers.clone();
        let repo = samod::Repo::build_tokio()
            .with_storage(storage)
            .with_peer_id(samod::PeerId::from(SERVER_PEER_ID))
            .with_share_policy(move |doc: samod::DocumentId, peer: samod::PeerId| {
                let cfg = decide(&registry, &policy_peers, &doc, peer.as_str());
                futures::stream::iter([cfg])
            })
            .load()
            .await;
        let acceptor = repo.make_acceptor(samod::Url::parse("ws://danvan/sync")?)?;
        Ok(SyncHub {
            stopped: Default::default(),
            repo,
            acceptor,
            peers,
        })
    }

    /// Hand an upgraded, authenticated WebSocket to samod, bound to the principal's peer ID: a client
    /// that claims another ID in its handshake is disconnected before any document is exchanged.
    pub fn accept(&self, socket: axum::extract::ws::WebSocket, who: Principal) {
        let peer_id = who.peer_id.clone();
        let username = who.username.clone();
        self.peers.write().unwrap().insert(peer_id.clone(), who);
        let transport = validated_transport(socket, peer_id.clone())
            .with_expected_peer_id(samod::PeerId::from(peer_id.as_str()));
        match self.acceptor.accept(transport) {
            Ok(conn) => {
                use futures::StreamExt;
                tokio::spawn(async move {
                    let mut events = conn.events();
                    while let Some(ev) = events.next().await {
                        match ev {
                            samod::AcceptorEvent::ClientConnected { .. } => {
                                tracing::info!(peer = %peer_id, user = %username, "sync connected")
                            }
                            samod::AcceptorEvent::ClientDisconnected { reason, .. } => {
                                tracing::info!(peer = %peer_id, user = %username, %reason, "sync connection closed");
                                break;
                            }
                        }
                    }
                });
            }
            Err(Stopped) => {
                tracing::warn!(peer = %peer_id, "sync connection refused: repo stopping")
            }
        }
    }

    /// Close every sync connection and stop samod once its pending storage writes are done.
    /// Idempotent: samod's own `stop` never returns when called a second time.
    pub async fn stop(&self) {
        if self.stopped.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        self.acceptor.close();
        self.repo.stop().await;
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct FrameRejected(String);

/// A samod transport over the axum WebSocket that checks every inbound frame first: garbage,
/// truncated CBOR, text frames and unknown message types end the connection with a logged reason
/// instead of reaching the repo.
fn validated_transport(socket: axum::extract::ws::WebSocket, peer: String) -> samod::Transport {
    use axum::extract::ws::Message;
    use futures::{SinkExt, StreamExt, future::ready};
    let (sink, stream) = socket.split();
    let sink = sink
        .sink_map_err(|e| FrameRejected(format!("send failed: {e}")))
        .with(|b: Vec<u8>| ready(Ok::<_, FrameRejected>(Message::Binary(b.into()))));
    let stream = stream.filter_map(move |m| {
        let verdict = match m {
            Ok(Message::Binary(b)) => match shared::wire::check_frame(&b) {
                Ok(()) => Some(Ok(b.to_vec())),
                Err(e) => Some(Err(FrameRejected(format!("malformed sync frame: {e}")))),
            },
            Ok(Message::Text(_)) => {
                Some(Err(FrameRejected("text frame on a binary protocol".into())))
            }
            Ok(Message::Close(_) | Message::Ping(_) | Message::Pong(_)) => None,
            Err(e) => Some(Err(FrameRejected(format!("websocket error: {e}")))),
        };
        if let Some(Err(e)) = &verdict {
            tracing::warn!(peer = %peer, reason = %e, "closing sync connection");
        }
        ready(verdict)
    });
    samod::Transport::new(stream, sink)
}

impl SyncHub {
    /// Change a document through samod, so that connected peers receive the change at once and it
    /// is stored like any device's (the read model follows from the commit). A document with nothing
    /// stored yet gets its genesis first, so that it merges with copies phones created offline.
    pub async fn change<R>(
        &self,
        storage: &SqliteStorage,
        key: &shared::DocKey,
        f: impl FnOnce(&mut Automerge) -> R,
    ) -> anyhow::Result<R> {
        let id = key.doc_id();
        if storage.with_durable(id.to_string(), |_| ()).await.is_none() {
            seed_document(storage, &id, &shared::schema::genesis_doc(key)?).await;
        }
        let handle = self
            .repo
            .find(to_samod_id(&id))
            .await
            .map_err(|_| anyhow::anyhow!("sync is stopping"))?
            .ok_or_else(|| anyhow::anyhow!("document {id} could not be loaded"))?;
        Ok(handle.with_document(f))
    }
}

/// Write a document straight into storage under samod's key layout (before the repo starts).
pub async fn seed_document(storage: &SqliteStorage, id: &shared::DocumentId, doc: &Automerge) {
    storage.put_changes(&to_samod_id(id), doc).await;
}
