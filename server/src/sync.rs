//! The sync endpoint: samod (pinned) behind this one module — repo setup, share policy, accepting
//! authenticated WebSockets through the [`crate::gate`]. Nothing else in the server but the storage
//! adapter names a samod type.

use crate::access::{Access, Principal, access};
use crate::durable_push::DurablePush;
use crate::gate::{Connections, Gate, Limits, Refused, Ticket, Verdict};
use crate::registry::Registry;
use crate::storage::DocStorage;
use automerge::Automerge;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures::stream::BoxStream;
use futures::{SinkExt, StreamExt};
use samod::{ShareConfig, Stopped};
use shared::DocKey;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub const SERVER_PEER_ID: &str = "danvan-server";

/// No frame (a pong included) for this long and the socket is dead: a phone that lost its signal
/// does not say goodbye, and its socket would otherwise be held forever.
const IDLE: Duration = Duration::from_secs(90);
/// How often the server pings; browsers answer pings on their own.
const PING_EVERY: Duration = Duration::from_secs(30);
/// A client that does not read its socket for this long is cut off, so samod's sends cannot pile up.
const SEND_TIMEOUT: Duration = Duration::from_secs(30);
/// Frames waiting to be written to one socket.
const OUT_QUEUE: usize = 256;

pub struct SyncHub {
    stopped: std::sync::atomic::AtomicBool,
    repo: samod::Repo,
    acceptor: samod::AcceptorHandle,
    registry: Arc<Registry>,
    conns: Arc<Connections>,
    limits: Limits,
    push: Arc<DurablePush>,
}

pub fn to_samod_id(id: &shared::DocumentId) -> samod::DocumentId {
    samod::DocumentId::try_from(id.0.to_vec()).expect("16 bytes are a valid document id")
}

fn from_samod_id(id: &samod::DocumentId) -> Option<shared::DocumentId> {
    id.as_bytes().try_into().ok().map(shared::DocumentId)
}

fn share_config(p: &Principal, key: &DocKey) -> ShareConfig {
    // announce(false): the server never pushes or requests documents on its own; each device asks for
    // exactly the documents it keeps, which keeps a phone's download to its own commune.
    match access(p, key) {
        Access::None => ShareConfig::none(),
        Access::Read => ShareConfig::read_only().with_announce(false),
        Access::Write => ShareConfig::read_write().with_announce(false),
    }
}

/// The share decisions for one (document, peer): the current one, then a new one whenever the
/// peer's principal changes (a role or commune changed), so access is never decided once for good.
/// Unknown peers and unknown documents get nothing, answered exactly as a missing document.
fn share_stream(
    key: Option<DocKey>,
    principal: Option<watch::Receiver<Principal>>,
) -> BoxStream<'static, ShareConfig> {
    let (Some(key), Some(mut rx)) = (key, principal) else {
        return futures::stream::iter([ShareConfig::none()]).boxed();
    };
    let first = share_config(&rx.borrow_and_update(), &key);
    let updates = futures::stream::unfold((rx, key), |(mut rx, key)| async move {
        rx.changed().await.ok()?;
        let config = share_config(&rx.borrow_and_update(), &key);
        Some((config, (rx, key)))
    });
    futures::stream::once(std::future::ready(first))
        .chain(updates)
        .boxed()
}

/// A socket admitted by [`SyncHub::admit`]; released from the connection table when dropped, so a
/// failed upgrade or a finished connection gives its place back.
pub struct Admission {
    conns: Arc<Connections>,
    ticket: Ticket,
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.conns.release(self.ticket.id);
    }
}

impl SyncHub {
    pub async fn start(
        storage: DocStorage,
        registry: Arc<Registry>,
        limits: Limits,
        unload_after: Duration,
    ) -> anyhow::Result<Self> {
        let conns = Arc::new(Connections::new(limits));
        let (policy_conns, policy_registry) = (conns.clone(), registry.clone());
        let repo = samod::Repo::build_tokio()
            .with_storage(storage.clone())
            .with_peer_id(samod::PeerId::from(SERVER_PEER_ID))
            .with_share_policy(move |doc: samod::DocumentId, peer: samod::PeerId| {
                let key = from_samod_id(&doc).and_then(|id| policy_registry.get(&id));
                share_stream(key, policy_conns.principal(peer.as_str()))
            })
            // Documents' work (applying changes, generating sync messages) on a pool of one
            // thread per core: on the async runtime samod runs every document on one task.
            .with_concurrency(samod::ConcurrencyConfig::Threadpool(
                rayon::ThreadPoolBuilder::new()
                    .thread_name(|i| format!("samod-doc-{i}"))
                    .build()?,
            ))
            .load()
            .await;
        // Memory follows activity (our samod patch): a province's thousands of documents are not
        // all kept loaded; a document unloaded is read again from storage when next asked for.
        repo.set_unload_idle(Some(unload_after));
        // samod wrote its storage ID on first start; pushes name the server's storage by it.
        let storage_id =
            samod::storage::Storage::load(&storage, samod::storage::StorageKey::storage_id_path())
                .await
                .and_then(|b| String::from_utf8(b).ok())
                .unwrap_or_else(|| SERVER_PEER_ID.to_string());
        let push = DurablePush::start(storage, registry.clone(), storage_id);
        let acceptor = repo.make_acceptor(samod::Url::parse("ws://danvan/sync")?)?;
        Ok(SyncHub {
            stopped: Default::default(),
            repo,
            acceptor,
            registry,
            conns,
            limits,
            push,
        })
    }

    /// A commit touched `doc`: its subscribers hear the new durable heads.
    pub fn committed(&self, doc: &str) {
        self.push.committed(doc);
    }

    /// The durable-heads push (tests).
    pub fn durable_push(&self) -> &DurablePush {
        &self.push
    }

    /// How many documents samod holds in memory (unloading ones included).
    pub fn loaded_documents(&self) -> usize {
        self.repo.loaded_documents()
    }

    /// The live connection table (revocation, role changes, tests).
    pub fn connections(&self) -> &Connections {
        &self.conns
    }

    /// Decide, before the upgrade, whether `who` may open another socket from `addr`.
    pub fn admit(&self, who: &Principal, addr: std::net::IpAddr) -> Result<Admission, Refused> {
        let ticket = self.conns.open(who, addr)?;
        Ok(Admission {
            conns: self.conns.clone(),
            ticket,
        })
    }

    /// Hand an upgraded, authenticated WebSocket to samod, bound to the principal's peer ID: a client
    /// that claims another ID in its handshake is disconnected before any document is exchanged, and
    /// every inbound frame passes the [`Gate`] first.
    pub fn accept(&self, socket: WebSocket, admission: Admission) {
        let principal = admission.ticket.principal.borrow().clone();
        let (peer_id, username) = (principal.peer_id.clone(), principal.username.clone());
        let (sink, stream) = socket.split();
        let (out_tx, out_rx) = futures::channel::mpsc::channel::<Vec<u8>>(OUT_QUEUE);
        let gate = Gate::new(
            SERVER_PEER_ID,
            admission.ticket.principal.clone(),
            self.registry.clone(),
            self.limits.docs_per_conn,
        )
        .with_push(self.push.clone(), admission.ticket.id, out_tx.clone());
        let inbound = gated(stream, gate, out_tx.clone(), admission.ticket.kill.clone());
        let outbound = out_tx.sink_map_err(|e| FrameRejected(format!("send queue closed: {e}")));
        let transport = samod::Transport::new(inbound, outbound)
            .with_expected_peer_id(samod::PeerId::from(peer_id.as_str()));
        let kill = admission.ticket.kill.clone();
        tokio::spawn(forward(sink, out_rx, kill, admission));
        match self.acceptor.accept(transport) {
            Ok(conn) => {
                tokio::spawn(async move {
                    let mut events = conn.events();
                    while let Some(ev) = events.next().await {
                        match ev {
                            samod::AcceptorEvent::ClientConnected { .. } => {
                                tracing::info!(peer = %peer_id, user = %username, "sync connected")
                            }
                            samod::AcceptorEvent::ClientDisconnected { reason, .. } => {
                                tracing::info!(peer = %peer_id, %reason, "sync connection closed");
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
        self.conns.close_all();
        self.acceptor.close();
        self.repo.stop().await;
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct FrameRejected(String);

/// The inbound half of a connection as samod sees it: frames that passed the gate. Frames the gate
/// answers get their answer on `out`; a frame that breaks the protocol, a revoked token, a stopping
/// server or a silent client end the stream (samod then closes the connection), with one log line.
fn gated(
    stream: futures::stream::SplitStream<WebSocket>,
    gate: Gate,
    out: futures::channel::mpsc::Sender<Vec<u8>>,
    kill: watch::Receiver<Option<&'static str>>,
) -> BoxStream<'static, Result<Vec<u8>, FrameRejected>> {
    struct State {
        stream: futures::stream::SplitStream<WebSocket>,
        gate: Gate,
        out: futures::channel::mpsc::Sender<Vec<u8>>,
        kill: watch::Receiver<Option<&'static str>>,
        done: bool,
    }
    let state = State {
        stream,
        gate,
        out,
        kill,
        done: false,
    };
    futures::stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        loop {
            let next = tokio::select! {
                _ = killed(&mut st.kill) => return None,
                next = tokio::time::timeout(IDLE, st.stream.next()) => next,
            };
            let reject = |st: State, why: String| {
                tracing::warn!(reason = %why, "closing sync connection");
                Some((Err(FrameRejected(why)), State { done: true, ..st }))
            };
            let frame = match next {
                Err(_) => return reject(st, format!("no frame for {} s", IDLE.as_secs())),
                Ok(None) => return None,
                Ok(Some(Err(e))) => return reject(st, format!("websocket error: {e}")),
                Ok(Some(Ok(Message::Binary(b)))) => b,
                Ok(Some(Ok(Message::Text(_)))) => {
                    return reject(st, "text frame on a binary protocol".into());
                }
                Ok(Some(Ok(Message::Close(_)))) => return None,
                Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => continue,
            };
            match st.gate.inbound(&frame) {
                Verdict::Pass => return Some((Ok(frame.to_vec()), st)),
                Verdict::Drop => continue,
                Verdict::Answer(reply) => {
                    if st.out.try_send(reply).is_err() {
                        return reject(st, "the client does not read its socket".into());
                    }
                }
                Verdict::Close(why) => return reject(st, why),
            }
        }
    })
    .boxed()
}

/// Resolves with the reason once the connection is told to close (or its table entry is gone).
async fn killed(kill: &mut watch::Receiver<Option<&'static str>>) -> &'static str {
    match kill.wait_for(Option::is_some).await {
        Ok(reason) => reason.unwrap_or("closed"),
        Err(_) => "closed",
    }
}

/// The outbound half: frames from samod and from the gate, a ping now and then, and a close frame
/// with the reason when the connection is closed from this side.
async fn forward(
    mut sink: futures::stream::SplitSink<WebSocket, Message>,
    mut frames: futures::channel::mpsc::Receiver<Vec<u8>>,
    mut kill: watch::Receiver<Option<&'static str>>,
    admission: Admission,
) {
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    let reason = loop {
        let msg = tokio::select! {
            f = frames.next() => match f {
                Some(f) => Message::Binary(f.into()),
                None => break None,
            },
            _ = ping.tick() => Message::Ping(Default::default()),
            why = killed(&mut kill) => break Some(why),
        };
        match tokio::time::timeout(SEND_TIMEOUT, sink.send(msg)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => break None,
            Err(_) => break Some("the client does not read its socket"),
        }
    };
    if let Some(reason) = reason {
        let peer = admission.ticket.principal.borrow().peer_id.clone();
        tracing::info!(peer = %peer, reason, "closing sync connection");
        // 1008: policy violation, which is what a revoked token or a replaced socket is.
        let close = Message::Close(Some(CloseFrame {
            code: 1008,
            reason: reason.into(),
        }));
        let _ = tokio::time::timeout(Duration::from_secs(1), sink.send(close)).await;
    }
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
    drop(admission);
}

impl SyncHub {
    /// Change a document through samod, so that connected peers receive the change at once and it
    /// is stored like any device's (the read model follows from the commit). A document with nothing
    /// stored yet gets its genesis first, so that it merges with copies phones created offline.
    pub async fn change<R>(
        &self,
        storage: &DocStorage,
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

impl SyncHub {
    /// Chunks another server node committed to the shared store: applied to this node's copy of
    /// each document that a device connected here syncs (a phone of ours or any automerge-repo
    /// client, subscribed to the durable-heads push or not), so those phones receive the changes as if
    /// a peer of this node had sent them. Documents nobody here syncs are left alone: they are
    /// read from the store, current, when next asked for.
    pub async fn take_other_nodes_chunks(
        &self,
        storage: &DocStorage,
        mut keys: tokio::sync::mpsc::UnboundedReceiver<String>,
    ) {
        while let Some(first) = keys.recv().await {
            let mut by_doc: std::collections::BTreeMap<String, Vec<String>> = Default::default();
            let mut add = |k: String| {
                let doc = k.split('/').next().unwrap_or_default().to_string();
                by_doc.entry(doc).or_default().push(k);
            };
            add(first);
            while let Ok(k) = keys.try_recv() {
                add(k);
            }
            for (doc, keys) in by_doc {
                let Ok(id) = doc.parse::<shared::DocumentId>() else {
                    continue;
                };
                if !self.push.synced_here(&id) {
                    continue;
                }
                // The chunks named; one deleted since (compacted into a snapshot) means reading
                // the whole document's chunks instead.
                let mut chunks = Vec::new();
                for k in &keys {
                    match storage.chunk(k.clone()).await {
                        Ok(Some(c)) => chunks.push(c),
                        Ok(None) | Err(_) => {
                            chunks = storage.doc_chunks(doc.clone()).await.unwrap_or_default();
                            break;
                        }
                    }
                }
                let Ok(Some(handle)) = self.repo.find(to_samod_id(&id)).await else {
                    continue;
                };
                handle.with_document(|am| {
                    for c in &chunks {
                        if let Err(e) = am.load_incremental(c) {
                            tracing::warn!(doc, error = %e, "another node's chunk does not load");
                        }
                    }
                });
            }
        }
    }
}

/// Write a document straight into storage under samod's key layout (before the repo starts).
pub async fn seed_document(storage: &DocStorage, id: &shared::DocumentId, doc: &Automerge) {
    storage.put_changes(&to_samod_id(id), doc).await;
}
