//! The gate in front of the sync repo: which sync connections may exist, and which inbound frames of
//! a connection the repo may see.
//!
//! samod creates per-document state for every document ID a peer mentions, before its share policy
//! refuses it, and keeps it forever; its hub then works in proportion to documents × connections. So
//! a frame about a document the connection may not touch is answered here, exactly as a missing
//! document is answered (`doc-unavailable`), and never reaches samod. The same place bounds what one
//! user or address can hold open, and closes a device's sockets when its token is revoked.

use crate::access::{Access, Principal, access};
use crate::durable_push::{DurablePush, Target};
use crate::registry::Registry;
use shared::DocumentId;
use shared::wire::{WireMessage, check_frame};
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

/// Bounds on what sync connections may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Open sockets of one user (over all their devices).
    pub per_user: usize,
    /// Open sockets from one client address. Generous: a commune office, or a carrier's NAT, puts
    /// many phones behind one address (a reconnect storm of a province's 2,000 phones through one
    /// carrier address must not be refused); it only keeps one address from taking every socket
    /// the listener allows (`ListenLimits::max_connections`, 8,192).
    pub per_addr: usize,
    /// Distinct documents one connection may touch. A member's phone keeps its commune's documents
    /// (a few dozen); the aggregating level's desk keeps each commune's progress per plan.
    pub docs_per_conn: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_user: 16,
            per_addr: 4096,
            docs_per_conn: 2048,
        }
    }
}

/// Why a socket was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("too many open sync connections for this user")]
    User,
    #[error("too many open sync connections from this address")]
    Addr,
    #[error("the server is stopping")]
    Stopping,
}

/// One live connection as the table sees it.
struct Live {
    peer_id: String,
    user_id: i64,
    addr: IpAddr,
    kill: watch::Sender<Option<&'static str>>,
}

/// A peer (one device token) with at least one live connection.
struct Peer {
    principal: watch::Sender<Principal>,
    conns: usize,
}

#[derive(Default)]
struct Table {
    next_id: u64,
    conns: HashMap<u64, Live>,
    peers: HashMap<String, Peer>,
    stopping: bool,
}

/// Every live sync connection, by peer, user and address. The principal of a peer is held in a
/// `watch` so the share policy and the gates see a role or commune change without reconnecting.
#[derive(Default)]
pub struct Connections {
    table: Mutex<Table>,
    limits: Limits,
}

/// A registered connection: its ID (to release it) and the signal that closes it, with the reason.
pub struct Ticket {
    pub id: u64,
    pub kill: watch::Receiver<Option<&'static str>>,
    pub principal: watch::Receiver<Principal>,
}

impl Connections {
    pub fn new(limits: Limits) -> Self {
        Connections {
            table: Mutex::default(),
            limits,
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        // A panic while holding the lock leaves plain maps behind, still consistent enough to close
        // connections with; refusing every socket after one panic would be worse.
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Register a new socket of `who` from `addr`. An older socket of the same device (peer ID) is
    /// closed first: a phone on a flaky link reconnects before the old socket times out, and one
    /// device needs one socket.
    pub fn open(&self, who: &Principal, addr: IpAddr) -> Result<Ticket, Refused> {
        let mut t = self.table();
        if t.stopping {
            return Err(Refused::Stopping);
        }
        for live in t.conns.values().filter(|l| l.peer_id == who.peer_id) {
            let _ = live
                .kill
                .send(Some("replaced by a newer connection of the same device"));
        }
        let live = |f: &dyn Fn(&Live) -> bool| {
            t.conns
                .values()
                .filter(|l| l.peer_id != who.peer_id && f(l))
                .count()
        };
        if live(&|l| l.user_id == who.user_id) >= self.limits.per_user {
            return Err(Refused::User);
        }
        if live(&|l| l.addr == addr) >= self.limits.per_addr {
            return Err(Refused::Addr);
        }
        t.next_id += 1;
        let id = t.next_id;
        let (kill, kill_rx) = watch::channel(None);
        t.conns.insert(
            id,
            Live {
                peer_id: who.peer_id.clone(),
                user_id: who.user_id,
                addr,
                kill,
            },
        );
        let peer = t.peers.entry(who.peer_id.clone()).or_insert_with(|| Peer {
            principal: watch::channel(who.clone()).0,
            conns: 0,
        });
        peer.conns += 1;
        // The newest login data wins (the token resolved just now).
        peer.principal.send_if_modified(|p| {
            let changed = p != who;
            if changed {
                *p = who.clone();
            }
            changed
        });
        let principal = peer.principal.subscribe();
        Ok(Ticket {
            id,
            kill: kill_rx,
            principal,
        })
    }

    /// Forget a finished connection; a peer with no connection left is forgotten too.
    pub fn release(&self, id: u64) {
        let mut t = self.table();
        let Some(live) = t.conns.remove(&id) else {
            return;
        };
        if let Some(peer) = t.peers.get_mut(&live.peer_id) {
            peer.conns -= 1;
            if peer.conns == 0 {
                t.peers.remove(&live.peer_id);
            }
        }
    }

    /// The current principal of a connected peer, following later changes.
    pub fn principal(&self, peer_id: &str) -> Option<watch::Receiver<Principal>> {
        self.table()
            .peers
            .get(peer_id)
            .map(|p| p.principal.subscribe())
    }

    /// Close every connection of one device (its token was revoked). Returns how many.
    pub fn close_peer(&self, peer_id: &str, reason: &'static str) -> usize {
        self.close_where(|l| l.peer_id == peer_id, reason)
    }

    /// Close every connection (the server is stopping) and refuse new ones.
    pub fn close_all(&self) {
        self.table().stopping = true;
        self.close_where(|_| true, "the server is stopping");
    }

    fn close_where(&self, f: impl Fn(&Live) -> bool, reason: &'static str) -> usize {
        let t = self.table();
        let mut closed = 0;
        for live in t.conns.values().filter(|l| f(l)) {
            // An error means the connection is already gone: nothing left to close.
            let _ = live.kill.send(Some(reason));
            closed += 1;
        }
        closed
    }

    /// A user's role or node changed: their devices' principals follow at once (the share policy
    /// and every gate re-decide). `lookup` resolves a peer ID to its principal as the database now
    /// says; a device whose token no longer resolves is closed.
    pub fn refresh_user(&self, user_id: i64, lookup: impl Fn(&str) -> Option<Principal>) {
        let peers: Vec<String> = {
            let t = self.table();
            let set: HashSet<&String> = t
                .conns
                .values()
                .filter(|l| l.user_id == user_id)
                .map(|l| &l.peer_id)
                .collect();
            set.into_iter().cloned().collect()
        };
        for peer_id in peers {
            match lookup(&peer_id) {
                Some(p) => {
                    if let Some(peer) = self.table().peers.get(&peer_id) {
                        peer.principal.send_replace(p);
                    }
                }
                None => {
                    self.close_peer(&peer_id, "the device's login is no longer valid");
                }
            }
        }
    }

    /// Open connections (tests, metrics).
    pub fn count(&self) -> usize {
        self.table().conns.len()
    }
}

/// What to do with one inbound frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Hand it to the repo.
    Pass,
    /// Do not hand it on; send this reply to the client instead.
    Answer(Vec<u8>),
    /// Do not hand it on, say nothing.
    Drop,
    /// End the connection, for this (logged) reason.
    Close(String),
}

/// The per-connection check: every inbound frame is judged with the connection's current principal.
pub struct Gate {
    peer_id: String,
    server_peer: String,
    principal: watch::Receiver<Principal>,
    registry: Arc<Registry>,
    docs: HashSet<DocumentId>,
    max_docs: usize,
    /// Frames refused so far; only the first is logged (a client must not flood the log).
    pub refused: u64,
    push: Option<PushLink>,
}

/// A connection's place in the durable-heads push, and whether it asked for it.
struct PushLink {
    push: Arc<DurablePush>,
    conn: u64,
    out: futures::channel::mpsc::Sender<Vec<u8>>,
    subscribed: bool,
    /// Subscribed once already: a second subscription is ignored. Each one reads the durable
    /// heads of every document of the connection, so a client toggling it would make the server
    /// work for a frame; a real client subscribes once per connection.
    used: bool,
}

impl PushLink {
    fn join(&self, doc: DocumentId, peer_id: &str, principal: &watch::Receiver<Principal>) {
        self.push.syncs(doc, self.conn);
        if self.subscribed {
            self.push.join(
                doc,
                self.conn,
                Target {
                    peer_id: peer_id.to_string(),
                    out: self.out.clone(),
                    principal: principal.clone(),
                },
            );
        }
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        if let Some(link) = &self.push {
            link.push.closed(link.conn, &self.docs);
        }
    }
}

impl Gate {
    pub fn new(
        server_peer: &str,
        principal: watch::Receiver<Principal>,
        registry: Arc<Registry>,
        max_docs: usize,
    ) -> Gate {
        let peer_id = principal.borrow().peer_id.clone();
        Gate {
            peer_id,
            server_peer: server_peer.to_string(),
            principal,
            registry,
            docs: HashSet::new(),
            max_docs,
            refused: 0,
            push: None,
        }
    }

    /// Let this connection (`conn` in the table, frames queued on `out`) subscribe to the durable
    /// heads of the documents it syncs.
    pub fn with_push(
        mut self,
        push: Arc<DurablePush>,
        conn: u64,
        out: futures::channel::mpsc::Sender<Vec<u8>>,
    ) -> Gate {
        self.push = Some(PushLink {
            push,
            conn,
            out,
            subscribed: false,
            used: false,
        });
        self
    }

    /// `remote-subscription-change`: any storage added subscribes (the server has one storage,
    /// whose durable heads it pushes), once per connection; a removal with nothing added
    /// unsubscribes. The repo never sees it: samod ignores the message.
    fn subscription(&mut self, frame: &[u8]) -> Verdict {
        let (Ok(WireMessage::RemoteSubscriptionChange { add, remove, .. }), Some(link)) =
            (WireMessage::decode(frame), self.push.as_mut())
        else {
            return Verdict::Drop;
        };
        if !add.is_empty() && !link.used {
            link.subscribed = true;
            link.used = true;
            for doc in &self.docs {
                link.join(*doc, &self.peer_id, &self.principal);
            }
        } else if add.is_empty() && !remove.is_empty() && link.subscribed {
            link.subscribed = false;
            link.push.leave(link.conn, &self.docs);
        }
        Verdict::Drop
    }

    pub fn inbound(&mut self, frame: &[u8]) -> Verdict {
        let env = match check_frame(frame) {
            Ok(env) => env,
            Err(e) => return Verdict::Close(format!("malformed sync frame: {e}")),
        };
        if env.sender_id.as_deref().is_some_and(|s| s != self.peer_id) {
            return Verdict::Close(
                "a frame names a sender other than the connection's peer".into(),
            );
        }
        let Some(doc) = env.document_id else {
            if env.kind == "remote-subscription-change" {
                return self.subscription(frame);
            }
            return Verdict::Pass;
        };
        let allowed = self
            .registry
            .get(&doc)
            .map(|key| access(&self.principal.borrow(), &key))
            .unwrap_or(Access::None);
        let verdict = match (allowed, env.kind.as_str()) {
            // Exactly what samod says of a document it does not have: a forbidden document and a
            // missing one must look the same from outside.
            (Access::None, "request" | "sync") => Verdict::Answer(
                WireMessage::DocUnavailable {
                    sender_id: self.server_peer.clone(),
                    target_id: self.peer_id.clone(),
                    document_id: doc,
                }
                .encode(),
            ),
            (Access::None, _) => Verdict::Drop,
            // samod relays ephemera of read-only peers; a reader has nothing to tell the writers.
            (Access::Read, "ephemeral") => Verdict::Drop,
            _ if self.docs.contains(&doc) => return Verdict::Pass,
            _ if self.docs.len() >= self.max_docs => {
                return Verdict::Close(format!(
                    "more than {} documents on one connection",
                    self.max_docs
                ));
            }
            _ => {
                self.docs.insert(doc);
                if let Some(link) = &self.push {
                    link.join(doc, &self.peer_id, &self.principal);
                }
                return Verdict::Pass;
            }
        };
        self.refused += 1;
        if self.refused == 1 {
            tracing::warn!(peer = %self.peer_id, doc = %doc, "sync frame for a document this peer may not use; answered here (further ones not logged)");
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;
    use shared::{DocKey, Quarter};

    fn member(user_id: i64, peer: &str, commune: &str) -> Principal {
        Principal {
            user_id,
            username: format!("u{user_id}"),
            display_name: "m".into(),
            role: Role::Member,
            node_id: commune.into(),
            commune_id: Some(commune.into()),
            peer_id: peer.into(),
            token_id: user_id,
            scope: crate::access::Scope::of([commune.to_string()]),
            also_viewer: false,
        }
    }

    fn registry() -> Arc<Registry> {
        let r = Registry::default();
        r.rebuild(&["a".into(), "b".into()], &["plan".into()], &[], 2026);
        Arc::new(r)
    }

    fn frame(kind: &str, sender: &str, doc: DocumentId) -> Vec<u8> {
        let m = match kind {
            "request" => WireMessage::Request {
                sender_id: sender.into(),
                target_id: "server".into(),
                document_id: doc,
                data: vec![],
            },
            _ => WireMessage::Sync {
                sender_id: sender.into(),
                target_id: "server".into(),
                document_id: doc,
                data: vec![],
            },
        };
        m.encode()
    }

    fn ephemeral(sender: &str, doc: DocumentId) -> Vec<u8> {
        let mut e = minicbor::Encoder::new(Vec::new());
        e.map(6).unwrap();
        e.str("type").unwrap().str("ephemeral").unwrap();
        e.str("senderId").unwrap().str(sender).unwrap();
        e.str("targetId").unwrap().str("server").unwrap();
        e.str("documentId").unwrap().str(&doc.to_string()).unwrap();
        e.str("count").unwrap().u64(1).unwrap();
        e.str("data").unwrap().bytes(b"hi").unwrap();
        e.into_writer()
    }

    #[test]
    fn frames_are_judged_by_the_current_principal() {
        let conns = Connections::new(Limits::default());
        let who = member(1, "p1", "a");
        let t = conns.open(&who, [127, 0, 0, 1].into()).unwrap();
        let mut gate = Gate::new("server", t.principal, registry(), 3);
        let q = Quarter { year: 2026, q: 4 };
        let own = DocKey::notes("a", q).doc_id();
        let other = DocKey::notes("b", q).doc_id();
        let unknown = DocumentId([7; 16]);
        assert_eq!(gate.inbound(&frame("request", "p1", own)), Verdict::Pass);
        for doc in [other, unknown] {
            let Verdict::Answer(reply) = gate.inbound(&frame("sync", "p1", doc)) else {
                panic!("a forbidden document is answered here");
            };
            assert_eq!(
                WireMessage::decode(&reply).unwrap(),
                WireMessage::DocUnavailable {
                    sender_id: "server".into(),
                    target_id: "p1".into(),
                    document_id: doc,
                }
            );
        }
        assert_eq!(gate.refused, 2);
        assert!(matches!(
            gate.inbound(&frame("sync", "someone-else", own)),
            Verdict::Close(_)
        ));
        assert!(matches!(gate.inbound(b"\xff\x00"), Verdict::Close(_)));
        // Ephemera: a writer's pass, a reader's are dropped.
        assert_eq!(gate.inbound(&ephemeral("p1", own)), Verdict::Pass);
        let org = DocKey::org().doc_id();
        assert_eq!(gate.inbound(&ephemeral("p1", org)), Verdict::Drop);
        // The commune changes (an administrator moved the user): the gate follows at once.
        conns.refresh_user(1, |_| Some(member(1, "p1", "b")));
        assert!(matches!(
            gate.inbound(&frame("sync", "p1", own)),
            Verdict::Answer(_)
        ));
        assert_eq!(gate.inbound(&frame("sync", "p1", other)), Verdict::Pass);
        // At most three distinct documents on this connection.
        assert_eq!(gate.inbound(&frame("sync", "p1", org)), Verdict::Pass);
        let plan = DocKey::plan("plan").doc_id();
        assert!(matches!(
            gate.inbound(&frame("sync", "p1", plan)),
            Verdict::Close(_)
        ));
    }

    #[test]
    fn sockets_are_bounded_per_user_and_address_and_a_device_keeps_one() {
        let conns = Connections::new(Limits {
            per_user: 2,
            per_addr: 3,
            docs_per_conn: 10,
        });
        let here: IpAddr = [10, 0, 0, 1].into();
        let first = conns.open(&member(1, "p1", "a"), here).unwrap();
        // The same device again: the old socket is told to close, the new one counts instead.
        let again = conns.open(&member(1, "p1", "a"), here).unwrap();
        assert_eq!(
            *first.kill.borrow(),
            Some("replaced by a newer connection of the same device")
        );
        conns.release(first.id);
        conns.open(&member(1, "p2", "a"), here).unwrap();
        assert_eq!(
            conns.open(&member(1, "p3", "a"), here).err(),
            Some(Refused::User)
        );
        conns.open(&member(2, "q1", "a"), here).unwrap();
        assert_eq!(
            conns.open(&member(3, "r1", "a"), here).err(),
            Some(Refused::Addr)
        );
        conns
            .open(&member(3, "r1", "a"), [10, 0, 0, 2].into())
            .unwrap();
        assert_eq!(conns.close_peer("p1", "logged out"), 1);
        assert_eq!(*again.kill.borrow(), Some("logged out"));
        conns.close_all();
        assert_eq!(
            conns.open(&member(4, "s1", "a"), here).err(),
            Some(Refused::Stopping)
        );
    }
}
