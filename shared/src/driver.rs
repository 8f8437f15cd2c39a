//! Sans-IO policies of the app's sync driver: reconnect backoff, resync nudges, and the merge of
//! the server's durable-heads answers. Time and randomness come from the caller.
//!
//! The driver (`app/src/driver/`) owns the socket, the timers and IndexedDB; these types only decide
//! *when* and *what*, so the decisions are tested here natively, with injected time.

/// How long to wait before the next connection attempt.
///
/// The driver asks [`Backoff::next_delay`] each time a socket closes or cannot open, and calls
/// [`Backoff::reset`] when a handshake completes or the browser says the network is back. The waits
/// double (1 s, 2 s, 4 s … up to 30 s) so that a server that is down is not hammered by every phone
/// of a province; each wait is shortened by a random part of up to half, so phones cut off together
/// (a server restart) do not all come back in the same instant. Jitter only ever shortens a wait:
/// a phone never waits longer than the plain doubling says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backoff {
    /// The full wait before the next attempt, before jitter.
    next_ms: u32,
}

impl Backoff {
    /// The first wait after a connection is lost.
    pub const FIRST_MS: u32 = 1_000;
    /// The longest wait: a phone that comes back into coverage reconnects within this.
    pub const MAX_MS: u32 = 30_000;

    pub fn new() -> Self {
        Backoff {
            next_ms: Self::FIRST_MS,
        }
    }

    /// The wait (ms) before the attempt to schedule now; the one after will be twice as long (up
    /// to [`Backoff::MAX_MS`]). `random` is any random number from the caller (0 gives no jitter).
    pub fn next_delay(&mut self, random: u32) -> u32 {
        let full = self.next_ms;
        self.next_ms = full.saturating_mul(2).min(Self::MAX_MS);
        full - random % (full / 2 + 1)
    }

    /// The connection works again: the next loss starts from [`Backoff::FIRST_MS`].
    pub fn reset(&mut self) {
        self.next_ms = Self::FIRST_MS;
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new()
    }
}

/// When to renegotiate documents whose local changes the server has not confirmed as durable.
///
/// automerge's sync can stall with both sides waiting (see [`crate::SyncClient::resync`]). While
/// connected, after each durable-heads round, the driver calls [`Nudge::poll`] saying whether any
/// document it writes still holds changes the durable heads do not cover; when `poll` answers true,
/// the driver resyncs those documents. The first nudge comes after 10 s of waiting; the wait then
/// doubles (up to 5 min) so that a server that is merely slow to commit is not piled on with fresh
/// negotiations. Once nothing waits any more, the next wait starts from 10 s again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nudge {
    /// Since when (ms) changes have waited, counted from the last nudge.
    waiting_since: Option<i64>,
    /// How long they may wait before the next nudge (ms).
    after_ms: i64,
}

impl Nudge {
    /// The first wait before a nudge.
    pub const FIRST_MS: i64 = 10_000;
    /// The longest wait between two nudges.
    pub const MAX_MS: i64 = 300_000;

    pub fn new() -> Self {
        Nudge {
            waiting_since: None,
            after_ms: Self::FIRST_MS,
        }
    }

    /// One round at `now_ms` (device time): `waiting` says whether changes still wait to be
    /// confirmed. True means "resync the waiting documents now".
    pub fn poll(&mut self, now_ms: i64, waiting: bool) -> bool {
        if !waiting {
            *self = Nudge::new();
            return false;
        }
        match self.waiting_since {
            None => {
                self.waiting_since = Some(now_ms);
                false
            }
            Some(since) if now_ms - since > self.after_ms => {
                self.waiting_since = Some(now_ms);
                self.after_ms = (self.after_ms * 2).min(Self::MAX_MS);
                true
            }
            Some(_) => false,
        }
    }
}

impl Default for Nudge {
    fn default() -> Self {
        Nudge::new()
    }
}

/// The durable heads to keep after an answer to `POST /api/durable-heads`: the answer's `durable`
/// heads, with the phone's own heads (`sent`) for each document the answer says is `covered`.
/// Document IDs and heads are kept in whatever form the caller has them (the wire's hex strings
/// included), in any map that can be extended: a `HashMap` in the app, a `BTreeMap` in `shared::api`.
///
/// The driver sends its own heads of every document; the server answers with the heads committed
/// to SQLite of every document the user may read and, per document sent, whether the phone's heads
/// lie within that durable state. A covered document counts as durable up to the phone's own heads:
/// when others have written the same document, the server's heads differ from the phone's, and the
/// phone, not having received their changes yet, could not tell from those heads alone that they
/// descend from its own.
///
/// The answer replaces what was kept before rather than adding to it: it lists every readable
/// document, so a document it leaves out (the server no longer has it, or the user may no longer
/// read it) must count again as not safe, and its changes stay on the phone as unsynced.
pub fn durable_after_answer<'a, M, K, H>(
    durable: M,
    covered: impl Fn(&K) -> bool,
    sent: impl IntoIterator<Item = (&'a K, &'a Vec<H>)>,
) -> M
where
    M: Extend<(K, Vec<H>)>,
    K: Clone + 'a,
    H: Clone + 'a,
{
    let mut kept = durable;
    kept.extend(
        sent.into_iter()
            .filter(|(doc, _)| covered(doc))
            .map(|(doc, mine)| (doc.clone(), mine.clone())),
    );
    kept
}

/// The durable heads to keep for one document after the server pushed `pushed` (its durable heads,
/// see [`crate::Event::Durable`]), given what was kept before and the phone's copy.
///
/// The server's durable state only grows, so when the phone knows every pushed head, they say all
/// there is to say and replace what was kept. A pushed head the phone has not received yet (others'
/// changes, still on their way) proves nothing locally ([`crate::unsynced`] ignores it); until it
/// arrives, the heads kept before still count, so a note already confirmed does not flicker back
/// to "not yet safe".
pub fn durable_after_push(
    kept: Option<&[automerge::ChangeHash]>,
    pushed: Vec<automerge::ChangeHash>,
    doc: Option<&automerge::Automerge>,
) -> Vec<automerge::ChangeHash> {
    let known = |h: &automerge::ChangeHash| doc.is_some_and(|d| crate::unsynced::has_change(d, h));
    if pushed.iter().all(known) {
        return pushed;
    }
    let mut all = pushed;
    for h in kept.unwrap_or_default() {
        if !all.contains(h) {
            all.push(*h);
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let mut b = Backoff::new();
        let waits: Vec<u32> = (0..8).map(|_| b.next_delay(0)).collect();
        assert_eq!(
            waits,
            [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]
        );
    }

    #[test]
    fn backoff_reset_starts_over() {
        let mut b = Backoff::new();
        for _ in 0..5 {
            b.next_delay(0);
        }
        b.reset();
        assert_eq!(b.next_delay(0), Backoff::FIRST_MS);
        assert_eq!(b.next_delay(0), 2 * Backoff::FIRST_MS);
    }

    #[test]
    fn backoff_jitter_only_shortens_by_up_to_half() {
        // (random, wait) for the first attempt (full wait 1 s).
        for (random, want) in [
            (0, 1_000),
            (1, 999),
            (500, 500),
            (501, 1_000),
            (u32::MAX, 994),
        ] {
            let mut b = Backoff::new();
            assert_eq!(b.next_delay(random), want, "random {random}");
        }
        // Whatever the random numbers, every wait lies in [full / 2, full], and the doubling goes on.
        let mut b = Backoff::new();
        let mut full = Backoff::FIRST_MS;
        for random in [7, u32::MAX, 12_345, 0, 999_999, 3, u32::MAX / 3] {
            let wait = b.next_delay(random);
            assert!(wait >= full / 2 && wait <= full, "{wait} for {full}");
            full = (full * 2).min(Backoff::MAX_MS);
        }
    }

    #[test]
    fn nudge_waits_then_doubles_then_caps() {
        let mut n = Nudge::new();
        // Changes start waiting at t = 0: no nudge until more than 10 s have passed.
        assert!(!n.poll(0, true));
        assert!(!n.poll(10_000, true));
        assert!(n.poll(10_001, true));
        // Next wait: 20 s from that nudge.
        assert!(!n.poll(30_001, true));
        assert!(n.poll(30_002, true));
        // Then 40, 80, 160, 300 (cap), 300 s.
        let mut t = 30_002;
        for wait in [40_000, 80_000, 160_000, 300_000, 300_000] {
            assert!(!n.poll(t + wait, true), "too early at wait {wait}");
            assert!(n.poll(t + wait + 1, true), "no nudge after wait {wait}");
            t += wait + 1;
        }
    }

    #[test]
    fn nudge_resets_once_nothing_waits() {
        let mut n = Nudge::new();
        assert!(!n.poll(0, true));
        assert!(n.poll(10_001, true));
        assert!(n.poll(30_002, true));
        // Everything durable: back to the start.
        assert!(!n.poll(31_000, false));
        assert_eq!(n, Nudge::new());
        // New changes: the clock starts when they are first seen, and the first wait is 10 s again.
        assert!(!n.poll(50_000, true));
        assert!(!n.poll(60_000, true));
        assert!(n.poll(60_001, true));
    }

    #[test]
    fn nudge_never_fires_without_waiting_changes() {
        let mut n = Nudge::new();
        for t in (0..1_000_000).step_by(1_500) {
            assert!(!n.poll(t, false));
        }
    }

    /// Document → heads, as the wire has them.
    type Heads = BTreeMap<String, Vec<String>>;

    fn heads(entries: &[(&str, &[&str])]) -> Heads {
        entries
            .iter()
            .map(|(doc, hs)| (doc.to_string(), hs.iter().map(|h| h.to_string()).collect()))
            .collect()
    }

    fn covered<'a>(entries: &'a [(&'a str, bool)]) -> impl Fn(&String) -> bool + 'a {
        move |doc| entries.iter().any(|(d, c)| d == doc && *c)
    }

    #[test]
    fn covered_documents_count_up_to_the_phones_heads() {
        // The server's durable heads: `a` has others' changes on top of ours, `b` lags behind us.
        let durable = heads(&[("a", &["a-server"]), ("b", &["b-server"])]);
        let sent = heads(&[("a", &["a-mine"]), ("b", &["b-mine"]), ("c", &["c-mine"])]);
        let kept = durable_after_answer(
            durable,
            covered(&[("a", true), ("b", false), ("c", true)]),
            &sent,
        );
        let want = heads(&[
            // `a`: ours are inside the durable state, though the server's heads differ.
            ("a", &["a-mine"]),
            // `b`: not covered, so only the server's heads count.
            ("b", &["b-server"]),
            // `c`: covered, though the server listed no heads for it (an answer can say so).
            ("c", &["c-mine"]),
        ]);
        assert_eq!(kept, want);
    }

    #[test]
    fn covered_answers_for_documents_not_sent_are_ignored() {
        let durable = heads(&[("a", &["a-server"])]);
        let kept = durable_after_answer(durable.clone(), covered(&[("a", true)]), &Heads::new());
        assert_eq!(kept, durable);
    }

    #[test]
    fn the_answer_replaces_what_was_kept() {
        // Before: `a` and `b` were durable. The answer lists only `a`: `b` is no longer known to be
        // safe (the server lost it or the user may no longer read it) and must show as unsynced.
        let before = heads(&[("a", &["a1"]), ("b", &["b1"])]);
        let answer = heads(&[("a", &["a2"])]);
        let sent = heads(&[("a", &["a2"]), ("b", &["b1"])]);
        let kept = durable_after_answer(answer, covered(&[("a", true), ("b", false)]), &sent);
        assert_eq!(kept, heads(&[("a", &["a2"])]));
        assert_ne!(kept, before);
    }

    #[test]
    fn any_extendable_map_will_do() {
        // The app keeps a `HashMap`; the typed API bodies use `BTreeMap`s.
        let durable: HashMap<String, Vec<String>> = heads(&[("a", &["a1"])]).into_iter().collect();
        let sent: HashMap<String, Vec<String>> = heads(&[("a", &["a2"])]).into_iter().collect();
        let kept = durable_after_answer(durable, covered(&[("a", true)]), &sent);
        assert_eq!(kept["a"], ["a2"]);
    }

    #[test]
    fn a_push_replaces_what_was_kept_once_every_head_is_known() {
        use automerge::transaction::Transactable;
        let mut doc = automerge::AutoCommit::new();
        doc.put(automerge::ROOT, "a", 1).unwrap();
        let mine = doc.get_heads();
        let mut other = doc.fork();
        other.put(automerge::ROOT, "b", 2).unwrap();
        let theirs = other.get_heads();
        // Their change has not reached us: what was kept stays beside the push.
        let kept = durable_after_push(Some(&mine), theirs.clone(), Some(doc.document()));
        assert_eq!(kept, [theirs[0], mine[0]]);
        // Nothing is repeated when the push names a head kept already.
        let again = durable_after_push(Some(&kept), theirs.clone(), Some(doc.document()));
        assert_eq!(again, kept);
        // Once it has arrived, the push alone says it all.
        doc.merge(&mut other).unwrap();
        let kept = durable_after_push(Some(&kept), theirs.clone(), Some(doc.document()));
        assert_eq!(kept, theirs);
        assert_eq!(durable_after_push(None, mine.clone(), None), mine);
    }
}
