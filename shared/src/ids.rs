//! Document identities: which document holds what, and its deterministic automerge-repo ID.
//!
//! Every document is named by a [`DocKey`] (kind, scope, period). Its ID is derived from the key, so a
//! phone that is offline at the start of a new quarter can create that quarter's notes document
//! itself and the server recognises it on the next sync, without any round trip to allocate an ID.

use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// The kinds of document of DESIGN §5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DocKind {
    Org,
    Plan,
    Progress,
    Notes,
}

impl DocKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DocKind::Org => "org",
            DocKind::Plan => "plan",
            DocKind::Progress => "progress",
            DocKind::Notes => "notes",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "org" => DocKind::Org,
            "plan" => DocKind::Plan,
            "progress" => DocKind::Progress,
            "notes" => DocKind::Notes,
            _ => return None,
        })
    }
}

impl serde::Serialize for DocKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for DocKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        DocKind::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown document kind {s:?}")))
    }
}

/// What a document is: kind, the org scope it belongs to, and the reporting period (notes only).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocKey {
    pub kind: DocKind,
    /// `root` for org; the plan id for plan; `{plan}/{commune}` for progress; the commune id for notes.
    pub scope: String,
    /// `YYYY-Qn` for notes, empty otherwise.
    pub period: String,
}

impl DocKey {
    pub fn org() -> Self {
        DocKey {
            kind: DocKind::Org,
            scope: "root".into(),
            period: String::new(),
        }
    }
    pub fn plan(plan_id: &str) -> Self {
        DocKey {
            kind: DocKind::Plan,
            scope: plan_id.into(),
            period: String::new(),
        }
    }
    pub fn progress(plan_id: &str, commune_id: &str) -> Self {
        DocKey {
            kind: DocKind::Progress,
            scope: format!("{plan_id}/{commune_id}"),
            period: String::new(),
        }
    }
    pub fn notes(commune_id: &str, quarter: Quarter) -> Self {
        DocKey {
            kind: DocKind::Notes,
            scope: commune_id.into(),
            period: quarter.to_string(),
        }
    }

    /// The commune this document belongs to, for the commune-scoped kinds.
    pub fn commune(&self) -> Option<&str> {
        match self.kind {
            DocKind::Notes => Some(&self.scope),
            DocKind::Progress => self.scope.split_once('/').map(|(_, c)| c),
            DocKind::Org | DocKind::Plan => None,
        }
    }

    pub fn doc_id(&self) -> DocumentId {
        let mut h = Sha256::new();
        h.update(b"danvan/doc/v1/");
        h.update(self.kind.as_str().as_bytes());
        h.update(b"/");
        h.update(self.scope.as_bytes());
        h.update(b"/");
        h.update(self.period.as_bytes());
        let digest = h.finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        // automerge-repo (JS) validates document IDs as RFC 4122 UUIDs: set version 4 and the variant.
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        DocumentId(bytes)
    }
}

/// An automerge-repo document ID: 16 bytes, written as bs58check (the form used on the wire and in
/// `automerge:` URLs).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DocumentId(pub [u8; 16]);

/// Base58 with a 4-byte double-SHA-256 checksum, as automerge-repo writes IDs and heads. By hand
/// rather than with bs58's `check` feature: that feature brings its own SHA-256 (sha2 0.10) into
/// the phone's bundle beside automerge's.
pub fn bs58check_encode(bytes: &[u8]) -> String {
    let mut v = bytes.to_vec();
    v.extend_from_slice(&checksum(bytes));
    bs58::encode(v).into_string()
}

/// The inverse of [`bs58check_encode`]; `None` for bad characters or a wrong checksum.
pub fn bs58check_decode(s: &str) -> Option<Vec<u8>> {
    let mut v = bs58::decode(s).into_vec().ok()?;
    let at = v.len().checked_sub(4)?;
    let sum = v.split_off(at);
    (sum == checksum(&v)).then_some(v)
}

fn checksum(bytes: &[u8]) -> [u8; 4] {
    let twice = Sha256::digest(Sha256::digest(bytes));
    [twice[0], twice[1], twice[2], twice[3]]
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58check_encode(&self.0))
    }
}

impl fmt::Debug for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("not a document ID: {0:?}")]
pub struct BadDocumentId(pub String);

impl FromStr for DocumentId {
    type Err = BadDocumentId;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.strip_prefix("automerge:").unwrap_or(s);
        let bytes = bs58check_decode(s).ok_or_else(|| BadDocumentId(s.into()))?;
        let arr: [u8; 16] = bytes.try_into().map_err(|_| BadDocumentId(s.into()))?;
        Ok(DocumentId(arr))
    }
}

/// A calendar quarter, the reporting period of notes documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Quarter {
    pub year: i32,
    pub q: u8,
}

impl Quarter {
    pub fn of_month(year: i32, month: u32) -> Self {
        Quarter {
            year,
            q: ((month.clamp(1, 12) - 1) / 3 + 1) as u8,
        }
    }

    /// The quarter of an ISO date `YYYY-MM-DD` (the form of `<input type=date>`).
    pub fn of_iso_date(date: &str) -> Option<Self> {
        let (y, m, _) = parse_iso_date(date)?;
        Some(Self::of_month(y, m))
    }

    /// The first day, `YYYY-MM-DD`.
    pub fn first_day(self) -> String {
        format!("{:04}-{:02}-01", self.year, (self.q - 1) * 3 + 1)
    }

    /// The last day, `YYYY-MM-DD`.
    pub fn last_day(self) -> String {
        let m = u32::from(self.q) * 3;
        format!("{:04}-{m:02}-{:02}", self.year, days_in_month(self.year, m))
    }

    pub fn prev(self) -> Self {
        if self.q == 1 {
            Quarter {
                year: self.year - 1,
                q: 4,
            }
        } else {
            Quarter {
                year: self.year,
                q: self.q - 1,
            }
        }
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-Q{}", self.year, self.q)
    }
}

impl FromStr for Quarter {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        let (y, q) = s.split_once("-Q").ok_or(())?;
        let year: i32 = y.parse().map_err(|_| ())?;
        let q: u8 = q.parse().map_err(|_| ())?;
        if !(1..=4).contains(&q) || y.len() != 4 {
            return Err(());
        }
        Ok(Quarter { year, q })
    }
}

/// Parse `YYYY-MM-DD` strictly (calendar-checked), returning (year, month, day).
pub fn parse_iso_date(s: &str) -> Option<(i32, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i32 = s[0..4].parse().ok()?;
    let m: u32 = s[5..7].parse().ok()?;
    let d: u32 = s[8..10].parse().ok()?;
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) {
        return None;
    }
    Some((y, m, d))
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// `YYYY-MM-DD` → `dd/mm/yyyy`, the Vietnamese display form; other input is returned unchanged.
pub fn display_date(iso: &str) -> String {
    match parse_iso_date(iso) {
        Some((y, m, d)) => format!("{d:02}/{m:02}/{y:04}"),
        None => iso.to_string(),
    }
}

/// Civil date in Asia/Ho_Chi_Minh (UTC+7, no daylight saving) of a Unix time in milliseconds.
pub fn vn_civil_date(unix_ms: i64) -> (i32, u32, u32) {
    let days = (unix_ms + 7 * 3_600_000).div_euclid(86_400_000);
    civil_from_days(days)
}

/// Howard Hinnant's days-to-civil algorithm (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

/// `dd/mm/yyyy HH:MM` in Asia/Ho_Chi_Minh of a Unix time in milliseconds.
pub fn display_datetime_vn(unix_ms: i64) -> String {
    let (y, m, d) = vn_civil_date(unix_ms);
    let secs_of_day = (unix_ms + 7 * 3_600_000)
        .div_euclid(1000)
        .rem_euclid(86_400);
    format!(
        "{d:02}/{m:02}/{y:04} {:02}:{:02}",
        secs_of_day / 3600,
        secs_of_day / 60 % 60
    )
}

/// A sortable unique ID (ULID: 48-bit millisecond time + 80 random bits, Crockford base32).
/// The caller supplies time and randomness: this crate has no clock and no RNG.
pub fn ulid(unix_ms: u64, random: [u8; 10]) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut v: u128 = (u128::from(unix_ms & 0xFFFF_FFFF_FFFF)) << 80;
    for (i, b) in random.iter().enumerate() {
        v |= u128::from(*b) << (72 - 8 * i);
    }
    (0..26)
        .rev()
        .map(|i| ALPHABET[((v >> (5 * i)) & 31) as usize] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doc_id_round_trips_and_is_a_v4_uuid() {
        let id = DocKey::notes("xa-ka-don", Quarter { year: 2026, q: 4 }).doc_id();
        let s = id.to_string();
        assert_eq!(s.parse::<DocumentId>().unwrap(), id);
        assert_eq!(format!("automerge:{s}").parse::<DocumentId>().unwrap(), id);
        assert_eq!(id.0[6] >> 4, 4);
        assert_eq!(id.0[8] & 0xc0, 0x80);
        assert_ne!(
            id,
            DocKey::notes("xa-ka-don", Quarter { year: 2026, q: 3 }).doc_id()
        );
        assert!("not-an-id".parse::<DocumentId>().is_err());
    }

    /// bs58check as automerge-repo and Bitcoin write it (vector computed independently, with
    /// Python's hashlib): a leading zero byte is a leading `1`, a wrong checksum is refused.
    #[test]
    fn bs58check_matches_the_reference() {
        let bytes: Vec<u8> = (0..16).collect();
        assert_eq!(bs58check_encode(&bytes), "1Bhh3pU9gLXZiNDL6PEa1Gs9fh");
        assert_eq!(bs58check_decode("1Bhh3pU9gLXZiNDL6PEa1Gs9fh"), Some(bytes));
        assert_eq!(bs58check_decode("1Bhh3pU9gLXZiNDL6PEa1Gs9fi"), None);
        assert_eq!(bs58check_decode("1"), None);
        assert_eq!(bs58check_decode("0OIl"), None);
    }

    #[test]
    fn quarters_and_dates() {
        assert_eq!(
            Quarter::of_iso_date("2026-11-20"),
            Some(Quarter { year: 2026, q: 4 })
        );
        assert_eq!(
            Quarter::of_iso_date("2026-01-01")
                .unwrap()
                .prev()
                .to_string(),
            "2025-Q4"
        );
        assert_eq!(Quarter::of_iso_date("2026-02-30"), None);
        assert_eq!(
            "2026-Q3".parse::<Quarter>(),
            Ok(Quarter { year: 2026, q: 3 })
        );
        assert!("2026-Q5".parse::<Quarter>().is_err());
        assert_eq!(display_date("2022-02-22"), "22/02/2022");
        // 2026-11-26T17:00:00Z is midnight of 27/11/2026 in Asia/Ho_Chi_Minh.
        assert_eq!(vn_civil_date(1_795_712_400_000), (2026, 11, 27));
        assert_eq!(vn_civil_date(1_795_712_399_999), (2026, 11, 26));
        assert_eq!(display_datetime_vn(1_795_712_400_000), "27/11/2026 00:00");
    }

    #[test]
    fn ulid_is_sortable_and_26_chars() {
        let a = ulid(1_000, [0; 10]);
        let b = ulid(1_001, [0; 10]);
        assert_eq!(a.len(), 26);
        assert!(a < b);
        assert_ne!(ulid(1_000, [1; 10]), a);
    }
}
