//! Slowing password guessing without locking the real user out, and without letting a login flood
//! exhaust memory.
//!
//! A lone node (SQLite) counts in memory; nodes sharing a PostgreSQL database count there, so a
//! guesser spread over the nodes by the proxy meets one limit, not one per node.
//!
//! Failed logins are counted per client address and per (username, address). An attempt reserves its
//! place in both counts *before* the password is checked, under one lock, so a burst of concurrent
//! guesses cannot all slip under the limit; a success gives the reservation back. Counting per
//! (username, address) rather than per username means someone guessing a user's password from one
//! place cannot lock that user out everywhere else. Both tables are bounded. Each argon2 check
//! allocates ~19 MiB, so checks run on two dedicated threads with a short queue: on the blocking
//! pool, a flood would spread them over dozens of threads, each keeping its own malloc arena full.

use crate::db::Db;
use crate::db::sql::Dialect;
use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failed attempts of one username from one address in a window.
const PER_USER_ADDR: (u32, Duration) = (10, Duration::from_secs(5 * 60));
/// Failed attempts from one address in a window. Higher: an office or a carrier's NAT is one address.
const PER_ADDR: (u32, Duration) = (50, Duration::from_secs(10 * 60));
/// Entries per table before the oldest are evicted.
const MAX_ENTRIES: usize = 10_000;
/// Password checks running at once (one per core is plenty; each is tens of ms).
const CHECKS_AT_ONCE: usize = 2;
/// Logins waiting for a check before new ones are turned away.
const MAX_WAITING: usize = 32;

/// Why a login was not attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Too many failures: try again after this many seconds.
    TooMany { retry_after: u64 },
    /// Too many logins waiting for a password check right now.
    Busy,
}

struct Window {
    count: u32,
    since: Instant,
}

/// A bounded table of fixed windows.
struct Counts<K> {
    map: HashMap<K, Window>,
    limit: u32,
    window: Duration,
}

impl<K: Eq + Hash + Clone> Counts<K> {
    fn new((limit, window): (u32, Duration)) -> Self {
        Counts {
            map: HashMap::new(),
            limit,
            window,
        }
    }

    /// Seconds until `key` may try again, or `None` if it may now.
    fn blocked(&mut self, key: &K, now: Instant) -> Option<u64> {
        let w = self.map.get(key)?;
        let age = now.duration_since(w.since);
        if age >= self.window {
            self.map.remove(key);
            return None;
        }
        wait_secs(w.count.into(), age, (self.limit, self.window))
    }

    fn add(&mut self, key: &K, now: Instant) {
        if !self.map.contains_key(key) && self.map.len() >= MAX_ENTRIES {
            let window = self.window;
            self.map.retain(|_, w| now.duration_since(w.since) < window);
            if self.map.len() >= MAX_ENTRIES {
                // Still full of live entries: forget the oldest. An attacker must then spread over
                // many addresses, each of which the per-address count still slows.
                if let Some(oldest) = self
                    .map
                    .iter()
                    .min_by_key(|(_, w)| w.since)
                    .map(|(k, _)| k.clone())
                {
                    self.map.remove(&oldest);
                }
            }
        }
        self.map
            .entry(key.clone())
            .or_insert(Window {
                count: 0,
                since: now,
            })
            .count += 1;
    }

    fn give_back(&mut self, key: &K) {
        if let Some(w) = self.map.get_mut(key) {
            w.count = w.count.saturating_sub(1);
        }
    }

    fn len(&self) -> usize {
        self.map.len()
    }
}

/// The rule of a window, wherever it is counted: `count` failures `age` into a window of
/// `(limit, window)` mean waiting for the rest of it once the limit is reached.
pub fn wait_secs(count: i64, age: Duration, (limit, window): (u32, Duration)) -> Option<u64> {
    (age < window && count >= i64::from(limit)).then(|| (window - age).as_secs().max(1))
}

/// The windows an attempt of `user` from `addr` counts in, by name (the shared database's keys).
fn shared_keys(user: &str, addr: IpAddr) -> [(String, (u32, Duration)); 2] {
    [
        (format!("addr/{addr}"), PER_ADDR),
        (format!("user/{user}/{addr}"), PER_USER_ADDR),
    ]
}

struct Tables {
    by_addr: Counts<IpAddr>,
    by_user_addr: Counts<(String, IpAddr)>,
}

type Job = Box<dyn FnOnce() + Send>;

pub struct LoginLimiter {
    tables: Mutex<Tables>,
    /// Password checks waiting for a checker thread; full means busy.
    jobs: SyncSender<Job>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        let (jobs, rx) = std::sync::mpsc::sync_channel::<Job>(MAX_WAITING);
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..CHECKS_AT_ONCE {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-check-{i}"))
                .spawn(move || checker(&rx));
            if let Err(e) = spawned {
                tracing::error!(error = %e, "password checker thread not started");
            }
        }
        LoginLimiter {
            tables: Mutex::new(Tables {
                by_addr: Counts::new(PER_ADDR),
                by_user_addr: Counts::new(PER_USER_ADDR),
            }),
            jobs,
        }
    }
}

/// A checker thread: runs queued checks until the limiter is dropped.
fn checker(rx: &Mutex<Receiver<Job>>) {
    loop {
        let job = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
        match job {
            Ok(job) => job(),
            Err(_) => return,
        }
    }
}

/// A login attempt that has reserved its place; counted as a failure unless [`Attempt::succeeded`].
pub struct Attempt<'a> {
    limiter: &'a LoginLimiter,
    user: String,
    addr: IpAddr,
    /// Counted in the shared database rather than in memory.
    shared: bool,
}

impl LoginLimiter {
    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reserve an attempt of `user` from `addr`, or say how long to wait: in the database when
    /// several nodes share it, else (or if the database fails) in memory.
    pub fn begin(&self, db: &Db, user: &str, addr: IpAddr) -> Result<Attempt<'_>, Refusal> {
        if db.dialect() == Dialect::Postgres {
            match db.login_reserve(&shared_keys(user, addr), crate::clock::now_ms()) {
                Ok(Some(retry_after)) => return Err(Refusal::TooMany { retry_after }),
                Ok(None) => {
                    return Ok(Attempt {
                        limiter: self,
                        user: user.to_string(),
                        addr,
                        shared: true,
                    });
                }
                Err(e) => {
                    tracing::warn!(error = %e, "shared login limits failed; counting on this node alone")
                }
            }
        }
        self.begin_at(user, addr, Instant::now())
    }

    fn begin_at(&self, user: &str, addr: IpAddr, now: Instant) -> Result<Attempt<'_>, Refusal> {
        let key = (user.to_string(), addr);
        let mut t = self.tables();
        let wait = [
            t.by_addr.blocked(&addr, now),
            t.by_user_addr.blocked(&key, now),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(retry_after) = wait {
            return Err(Refusal::TooMany { retry_after });
        }
        t.by_addr.add(&addr, now);
        t.by_user_addr.add(&key, now);
        Ok(Attempt {
            limiter: self,
            user: key.0,
            addr,
            shared: false,
        })
    }

    /// Run a password check on a checker thread, or refuse at once when too many are waiting.
    pub async fn check(&self, f: impl FnOnce() -> bool + Send + 'static) -> Result<bool, Refusal> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        match self.jobs.try_send(job) {
            Ok(()) => rx.await.map_err(|_| Refusal::Busy),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => Err(Refusal::Busy),
        }
    }

    /// Entries held (tests: the tables stay bounded).
    pub fn entries(&self) -> usize {
        let t = self.tables();
        t.by_addr.len() + t.by_user_addr.len()
    }
}

impl Attempt<'_> {
    /// The password was right: the attempt was not a failure.
    pub fn succeeded(self, db: &Db) {
        if self.shared {
            let keys = shared_keys(&self.user, self.addr);
            if let Err(e) = db.login_give_back(&keys) {
                tracing::warn!(error = %e, "a successful login still counts as a failure");
            }
            return;
        }
        let mut t = self.limiter.tables();
        t.by_addr.give_back(&self.addr);
        t.by_user_addr.give_back(&(self.user.clone(), self.addr));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guesser_is_slowed_where_it_guesses_and_nowhere_else() {
        let l = LoginLimiter::default();
        let (here, there): (IpAddr, IpAddr) = ([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        let t0 = Instant::now();
        for _ in 0..PER_USER_ADDR.0 {
            drop(l.begin_at("lan", here, t0).unwrap());
        }
        let Err(Refusal::TooMany { retry_after }) = l.begin_at("lan", here, t0) else {
            panic!("the eleventh guess from the same place waits");
        };
        assert_eq!(retry_after, PER_USER_ADDR.1.as_secs());
        // The real user elsewhere is not locked out, and succeeding gives the place back.
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.sqlite3")).unwrap();
        l.begin_at("lan", there, t0).unwrap().succeeded(&db);
        // The window passes.
        assert!(l.begin_at("lan", here, t0 + PER_USER_ADDR.1).is_ok());
    }

    #[test]
    fn an_address_guessing_many_names_is_slowed() {
        let l = LoginLimiter::default();
        let here: IpAddr = [10, 0, 0, 1].into();
        let t0 = Instant::now();
        for i in 0..PER_ADDR.0 {
            drop(l.begin_at(&format!("u{i}"), here, t0).unwrap());
        }
        assert!(matches!(
            l.begin_at("someone", here, t0),
            Err(Refusal::TooMany { .. })
        ));
    }

    #[test]
    fn tables_stay_bounded() {
        let l = LoginLimiter::default();
        let t0 = Instant::now();
        for i in 0..(MAX_ENTRIES as u32 + 500) {
            let addr = IpAddr::from(i.to_be_bytes());
            drop(l.begin_at("x", addr, t0).unwrap());
        }
        assert!(l.entries() <= 2 * MAX_ENTRIES);
    }
}
