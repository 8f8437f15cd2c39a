//! The server's clock and its identity as a writer: the time now, the current quarter in
//! Asia/Ho_Chi_Minh, a ULID for a new record, and the actor of the changes the server makes.

use automerge::ActorId;
use rand::RngCore;
use shared::Quarter;

/// Unix milliseconds now (0 if the system clock is before 1970, which only a broken machine has).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// The quarter it is now, in Vietnam.
pub fn current_quarter() -> Quarter {
    let (y, m, _) = shared::ids::vn_civil_date(now_ms());
    Quarter::of_month(y, m)
}

/// A new ULID: the time now and 80 random bits.
pub fn new_ulid() -> String {
    let mut random = [0u8; 10];
    rand::rng().fill_bytes(&mut random);
    shared::ids::ulid(now_ms() as u64, random)
}

/// The actor the server writes org and plan documents as.
pub fn server_actor() -> ActorId {
    ActorId::from(&b"danvan-server-01"[..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ulid_carries_all_eighty_random_bits() {
        // The last 16 characters are the 80 random bits (5 bits each). The publish endpoint once
        // drew 40 and zero-filled the rest, which left the last 8 characters always `0`.
        let ids: Vec<String> = (0..64).map(|_| new_ulid()).collect();
        assert!(ids.iter().all(|u| u.len() == 26));
        let tail_never_zero = (18..26).any(|i| ids.iter().any(|u| u.as_bytes()[i] != b'0'));
        assert!(tail_never_zero, "{ids:?}");
        let mut distinct = ids.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), ids.len());
    }
}
