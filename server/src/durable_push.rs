//! Pushes the server's durable heads to the sync connections that asked for them, as
//! automerge-repo's `remote-heads-changed`, so a phone learns that its work is on disk the moment
//! it is, without asking over HTTP every round.
//!
//! A connection subscribes with `remote-subscription-change` (see [`crate::gate`]); from then on,
//! each document it syncs gets its current durable heads once, and again after every commit that
//! touches it. Heads are read from the durable mirror ([`DocStorage::with_durable_many`]), so a
//! pushed head is never ahead of the disk.

use crate::access::{Access, Principal, access};
use crate::registry::Registry;
use crate::storage::DocStorage;
use shared::DocumentId;
use shared::wire::{RemoteHeads, WireMessage, encode_head};
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use tokio::sync::{mpsc, watch};

/// Where one subscribed connection's pushes go.
pub struct Target {
    pub peer_id: String,
    /// The connection's outbound queue, shared with samod's frames.
    pub out: futures::channel::mpsc::Sender<Vec<u8>>,
    /// Judged at every push: a member moved to another commune stops hearing about the old one.
    pub principal: watch::Receiver<Principal>,
}

enum Job {
    /// A commit touched this document: every subscriber hears of it.
    Committed(DocumentId),
    /// This connection began syncing this document: it hears the current heads.
    Joined(DocumentId, u64),
}

/// The subscriptions, by document, and the queue of pushes to make.
pub struct DurablePush {
    subs: Mutex<HashMap<DocumentId, HashMap<u64, Target>>>,
    /// Every connection of this node that syncs each document, subscribed or not: where another
    /// node's commits must be applied ([`crate::sync::SyncHub::take_other_nodes_chunks`]).
    syncing: Mutex<HashMap<DocumentId, std::collections::HashSet<u64>>>,
    jobs: mpsc::UnboundedSender<Job>,
}

impl DurablePush {
    /// Start the pushing task. `storage_id` names the server's storage in every push (the key of
    /// `newHeads`, as automerge-repo expects).
    pub fn start(storage: DocStorage, registry: Arc<Registry>, storage_id: String) -> Arc<Self> {
        let (jobs, rx) = mpsc::unbounded_channel();
        let push = Arc::new(DurablePush {
            subs: Mutex::default(),
            syncing: Mutex::default(),
            jobs,
        });
        let sender = Sender {
            storage,
            registry,
            storage_id,
        };
        tokio::spawn(sender.run(Arc::downgrade(&push), rx));
        push
    }

    fn subs(&self) -> MutexGuard<'_, HashMap<DocumentId, HashMap<u64, Target>>> {
        // Plain maps, consistent after any panic of a holder.
        self.subs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Connection `conn` (subscribed) syncs `doc`: push to it from now on, starting with the
    /// current heads.
    pub fn join(&self, doc: DocumentId, conn: u64, target: Target) {
        self.subs().entry(doc).or_default().insert(conn, target);
        let _ = self.jobs.send(Job::Joined(doc, conn));
    }

    /// Connection `conn` ended or unsubscribed: forget it for these documents.
    pub fn leave<'a>(&self, conn: u64, docs: impl IntoIterator<Item = &'a DocumentId>) {
        let mut subs = self.subs();
        for doc in docs {
            if let Some(conns) = subs.get_mut(doc) {
                conns.remove(&conn);
                if conns.is_empty() {
                    subs.remove(doc);
                }
            }
        }
    }

    /// Connection `conn` syncs `doc` (whether or not it subscribed to the push).
    pub fn syncs(&self, doc: DocumentId, conn: u64) {
        let mut syncing = self.syncing.lock().unwrap_or_else(|p| p.into_inner());
        syncing.entry(doc).or_default().insert(conn);
    }

    /// Connection `conn` ended: it neither syncs nor hears about these documents any more.
    pub fn closed<'a>(&self, conn: u64, docs: impl IntoIterator<Item = &'a DocumentId> + Clone) {
        self.leave(conn, docs.clone());
        let mut syncing = self.syncing.lock().unwrap_or_else(|p| p.into_inner());
        for doc in docs {
            if let Some(conns) = syncing.get_mut(doc) {
                conns.remove(&conn);
                if conns.is_empty() {
                    syncing.remove(doc);
                }
            }
        }
    }

    /// Whether a connection of this node syncs `doc`.
    pub fn synced_here(&self, doc: &DocumentId) -> bool {
        let syncing = self.syncing.lock().unwrap_or_else(|p| p.into_inner());
        syncing.contains_key(doc)
    }

    /// A commit touched `doc` (its ID as stored). Documents nobody subscribed to cost nothing more.
    pub fn committed(&self, doc: &str) {
        let Ok(id) = doc.parse::<DocumentId>() else {
            return;
        };
        if self.subs().contains_key(&id) {
            let _ = self.jobs.send(Job::Committed(id));
        }
    }

    /// How many connections hear about `doc` (tests).
    pub fn subscribers(&self, doc: &DocumentId) -> usize {
        self.subs().get(doc).map_or(0, HashMap::len)
    }
}

/// The pushing task's own parts.
struct Sender {
    storage: DocStorage,
    registry: Arc<Registry>,
    storage_id: String,
}

impl Sender {
    async fn run(self, push: Weak<DurablePush>, mut rx: mpsc::UnboundedReceiver<Job>) {
        while let Some(first) = rx.recv().await {
            // Everything queued meanwhile in one pass: one read of the mirror, one push per
            // document and connection however many commits touched it.
            let mut jobs = vec![first];
            while let Ok(j) = rx.try_recv() {
                jobs.push(j);
            }
            let mut committed = BTreeSet::new();
            let mut joined: HashMap<DocumentId, BTreeSet<u64>> = HashMap::new();
            for j in jobs {
                match j {
                    Job::Committed(doc) => {
                        committed.insert(doc);
                    }
                    Job::Joined(doc, conn) => {
                        joined.entry(doc).or_default().insert(conn);
                    }
                }
            }
            let docs: Vec<DocumentId> = committed
                .iter()
                .chain(joined.keys().filter(|d| !committed.contains(*d)))
                .copied()
                .collect();
            let heads = self
                .storage
                .with_durable_many(docs.iter().map(ToString::to_string).collect(), |am| {
                    am.get_heads().iter().map(encode_head).collect::<Vec<_>>()
                })
                .await;
            let Some(push) = push.upgrade() else {
                return;
            };
            let now = crate::clock::now_ms().max(0) as u64;
            let mut subs = push.subs();
            for (doc, heads) in docs.iter().zip(heads) {
                // Nothing stored yet (or unreadable): nothing is durable, nothing to say.
                let (Some(heads), Some(key)) = (heads, self.registry.get(doc)) else {
                    continue;
                };
                let Some(conns) = subs.get_mut(doc) else {
                    continue;
                };
                let only = (!committed.contains(doc)).then(|| &joined[doc]);
                for (conn, t) in conns.iter_mut() {
                    if only.is_some_and(|o| !o.contains(conn))
                        || access(&t.principal.borrow(), &key) == Access::None
                    {
                        continue;
                    }
                    let frame = WireMessage::RemoteHeadsChanged {
                        sender_id: crate::sync::SERVER_PEER_ID.into(),
                        target_id: t.peer_id.clone(),
                        document_id: *doc,
                        new_heads: vec![RemoteHeads {
                            storage_id: self.storage_id.clone(),
                            heads: heads.clone(),
                            timestamp: now,
                        }],
                    };
                    // A full queue belongs to a client that does not read its socket; it is cut
                    // off by the sending side, and a phone that missed a push asks over HTTP.
                    let _ = t.out.try_send(frame.encode());
                }
            }
        }
    }
}
