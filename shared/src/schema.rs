//! The Automerge layout of our documents, read and written through autosurgeon types, and its
//! versioning (the `schema` field at each document's root).
//!
//! Every document starts with a *genesis* change derived only from its [`DocKey`]: fixed actor, fixed
//! time, fixed operations. Two devices that create the same document independently (a phone offline on
//! the first day of a quarter, and the server) therefore produce the byte-identical change, which
//! Automerge deduplicates, instead of two competing `notes` maps of which only one would survive.
//! Because of that the genesis is frozen forever at schema version 1: a newer version is reached by
//! the first write of a newer app, which upgrades the document *in the same change* (see [`upgrade`]).
//!
//! Versioning rules (DESIGN §5: forward-only, tolerant):
//! - readers accept every older layout (a version-1 note's `task_id` reads as `task_ids`);
//! - writers reconcile entries field by field and never delete a key they do not know, so fields a
//!   newer app wrote survive a round trip through an older one;
//! - nobody lowers `schema`, and migrations only add keys inside existing entries (never a new
//!   container: two replicas migrating concurrently would create two containers, and one would lose).
//!
//! Version history: 1 = the foundation (notes with one `task_id`, tasks with number/title/text/order
//! as a string/deadline); 2 = notes with every field of DESIGN §4 and `task_ids`, tasks with
//! assignments, target communes, recurrence and indicators, units in the org tree, the plan header.

use crate::ids::{DocKey, DocKind};
use automerge::transaction::{CommitOptions, Transactable, Transaction};
use automerge::{
    ActorId, Automerge, AutomergeError, ChangeHash, ObjId, ObjType, ROOT, ScalarValue, Value,
};
// autosurgeon's own read trait: implemented by `Automerge`, `AutoCommit` and transactions alike.
use autosurgeon::{Hydrate, HydrateError, Prop, ReadDoc, Reconcile, hydrate_prop, reconcile_prop};
use sha2::{Digest, Sha256};

/// The version this code writes.
pub const SCHEMA_VERSION: u64 = 2;
/// The version in every genesis change (frozen: see the module comment).
const GENESIS_SCHEMA: u64 = 1;

/// Boxed: automerge's and autosurgeon's errors are large, and these travel through every write.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error(transparent)]
    Automerge(Box<AutomergeError>),
    #[error("reconcile: {0}")]
    Reconcile(Box<autosurgeon::ReconcileError>),
    #[error("the document has no `{0}` map (not one of ours, or no genesis yet)")]
    NoContainer(&'static str),
}

impl From<AutomergeError> for SchemaError {
    fn from(e: AutomergeError) -> Self {
        SchemaError::Automerge(Box::new(e))
    }
}

impl From<autosurgeon::ReconcileError> for SchemaError {
    fn from(e: autosurgeon::ReconcileError) -> Self {
        SchemaError::Reconcile(Box::new(e))
    }
}

/// The map under the document root that holds a kind's entries.
pub fn container(kind: DocKind) -> &'static str {
    match kind {
        DocKind::Org => "nodes",
        DocKind::Plan => "tasks",
        DocKind::Progress => "records",
        DocKind::Notes => "notes",
    }
}

/// The actor of a document's genesis change (not a device: nobody else ever writes as this actor).
pub fn genesis_actor(key: &DocKey) -> ActorId {
    let digest = Sha256::digest(format!("danvan/genesis/{}", key.doc_id()).as_bytes());
    ActorId::from(&digest[..16])
}

/// Apply the genesis change to `doc` unless it is already there. Idempotent, and commutes with sync.
pub fn ensure_genesis(doc: &mut Automerge, key: &DocKey) -> Result<(), AutomergeError> {
    let g = genesis_doc(key)?;
    let changes: Vec<_> = g.get_changes(&[]).into_iter().collect();
    doc.apply_changes(changes)
}

/// A fresh document holding only the genesis change.
pub fn genesis_doc(key: &DocKey) -> Result<Automerge, AutomergeError> {
    let mut g = Automerge::new().with_actor(genesis_actor(key));
    g.transact_with::<_, _, AutomergeError, _>(
        |_| CommitOptions::default().with_time(0),
        |tx| {
            tx.put(ROOT, "schema", GENESIS_SCHEMA)?;
            tx.put(ROOT, "kind", key.kind.as_str())?;
            tx.put(ROOT, "scope", key.scope.as_str())?;
            tx.put(ROOT, "period", key.period.as_str())?;
            tx.put_object(ROOT, container(key.kind), ObjType::Map)?;
            Ok(())
        },
    )
    .map_err(|f| f.error)?;
    Ok(g)
}

/// The [`DocKey`] a document claims to be, from its root fields (validated against its ID by callers).
pub fn doc_key_of(doc: &Automerge) -> Option<DocKey> {
    let kind = DocKind::parse(&get_str(doc, &ROOT, "kind")?)?;
    Some(DocKey {
        kind,
        scope: get_str(doc, &ROOT, "scope")?,
        period: get_str(doc, &ROOT, "period").unwrap_or_default(),
    })
}

/// The schema version a document is at (0 if it has none: not one of ours).
pub fn doc_schema<D: ReadDoc>(doc: &D) -> u64 {
    am::int(doc, &ROOT, "schema".into())
        .ok()
        .and_then(|v| u64::try_from(v).ok())
        .unwrap_or(0)
}

/// Bring the document to [`SCHEMA_VERSION`] inside `tx` (the caller's change), if it is older.
/// Idempotent, and safe when two replicas do it concurrently: both write the same values.
pub fn upgrade(tx: &mut Transaction<'_>) -> Result<(), SchemaError> {
    let from = doc_schema(tx);
    if from >= SCHEMA_VERSION || from == 0 {
        return Ok(());
    }
    if from < 2 {
        // 1 → 2: a note's single `task_id` becomes the list `task_ids` (the old key stays, for
        // version-1 apps); nothing else changes shape: new fields are optional.
        if let Some((Value::Object(ObjType::Map), notes)) = tx.get(&ROOT, "notes")? {
            for k in keys(tx, &notes) {
                let Some((Value::Object(ObjType::Map), n)) = tx.get(&notes, k.as_str())? else {
                    continue;
                };
                if tx.get(&n, "task_ids")?.is_none() {
                    let old = am::opt_text(tx, &n, "task_id".into()).ok().flatten();
                    reconcile_prop(tx, &n, "task_ids", old.into_iter().collect::<Vec<_>>())?;
                }
            }
        }
    }
    tx.put(ROOT, "schema", SCHEMA_VERSION)?;
    Ok(())
}

/// Upgrade a document on its own (one change, or none if it is current). Returns whether it changed.
pub fn migrate(doc: &mut Automerge) -> Result<bool, SchemaError> {
    let from = doc_schema(doc);
    if from >= SCHEMA_VERSION || from == 0 {
        return Ok(false);
    }
    write(doc, None, upgrade)?;
    Ok(true)
}

/// One change: upgrade, then `f`. `time` (Unix seconds) is recorded in the change when given.
fn write<T>(
    doc: &mut Automerge,
    time: Option<i64>,
    f: impl FnOnce(&mut Transaction<'_>) -> Result<T, SchemaError>,
) -> Result<T, SchemaError> {
    doc.transact_with::<_, _, SchemaError, _>(
        |_| match time {
            Some(t) => CommitOptions::default().with_time(t),
            None => CommitOptions::default(),
        },
        |tx| {
            upgrade(tx)?;
            f(tx)
        },
    )
    .map(|s| s.result)
    .map_err(|f| f.error)
}

/// A string field, whether stored as a plain string (our writers) or as a text object (automerge JS 3
/// turns plain JS strings into collaborative text by default).
pub fn get_str(doc: &Automerge, obj: &ObjId, key: &str) -> Option<String> {
    am::opt_text(doc, obj, key.into()).ok().flatten()
}

/// Hydrators for values other clients may store differently from us (text objects for strings;
/// ints, unsigned ints, timestamps or whole floats for numbers), used through `#[autosurgeon(hydrate)]`.
mod am {
    use super::*;

    fn scalar_text(s: &ScalarValue) -> Option<String> {
        match s {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        }
    }

    pub fn text<D: ReadDoc>(doc: &D, obj: &ObjId, prop: Prop<'_>) -> Result<String, HydrateError> {
        opt_text(doc, obj, prop)?.ok_or_else(|| HydrateError::unexpected("text", "nothing".into()))
    }

    pub fn opt_text<D: ReadDoc>(
        doc: &D,
        obj: &ObjId,
        prop: Prop<'_>,
    ) -> Result<Option<String>, HydrateError> {
        match doc.get(obj, &prop)? {
            None => Ok(None),
            Some((Value::Scalar(s), _)) if matches!(s.as_ref(), ScalarValue::Null) => Ok(None),
            Some((Value::Scalar(s), _)) => scalar_text(s.as_ref())
                .map(Some)
                .ok_or_else(|| HydrateError::unexpected("text", format!("{s:?}"))),
            Some((Value::Object(ObjType::Text), id)) => Ok(Some(doc.text(&id)?)),
            Some((Value::Object(t), _)) => Err(HydrateError::unexpected("text", format!("{t:?}"))),
        }
    }

    pub fn text_list<D: ReadDoc>(
        doc: &D,
        obj: &ObjId,
        prop: Prop<'_>,
    ) -> Result<Vec<String>, HydrateError> {
        match doc.get(obj, &prop)? {
            None => Ok(Vec::new()),
            Some((Value::Object(ObjType::List), list)) => (0..doc.length(&list))
                .map(|i| text(doc, &list, i.into()))
                .collect(),
            Some((v, _)) => Err(HydrateError::unexpected("a list", format!("{v:?}"))),
        }
    }

    pub fn int<D: ReadDoc>(doc: &D, obj: &ObjId, prop: Prop<'_>) -> Result<i64, HydrateError> {
        opt_int(doc, obj, prop)?
            .ok_or_else(|| HydrateError::unexpected("a number", "nothing".into()))
    }

    pub fn opt_int<D: ReadDoc>(
        doc: &D,
        obj: &ObjId,
        prop: Prop<'_>,
    ) -> Result<Option<i64>, HydrateError> {
        let bad = |v: String| HydrateError::unexpected("a whole number", v);
        match doc.get(obj, &prop)? {
            None => Ok(None),
            Some((Value::Scalar(s), _)) => match s.as_ref() {
                ScalarValue::Null => Ok(None),
                ScalarValue::Int(i) | ScalarValue::Timestamp(i) => Ok(Some(*i)),
                ScalarValue::Uint(u) => i64::try_from(*u).map(Some).map_err(|_| bad(u.to_string())),
                ScalarValue::F64(f) if f.fract() == 0.0 && f.abs() < 9e15 => Ok(Some(*f as i64)),
                // Version 1 wrote a task's `order` as a decimal string.
                ScalarValue::Str(t) => t.parse().map(Some).map_err(|_| bad(t.to_string())),
                other => Err(bad(format!("{other:?}"))),
            },
            Some((v, _)) => Err(bad(format!("{v:?}"))),
        }
    }

    pub fn opt_f64<D: ReadDoc>(
        doc: &D,
        obj: &ObjId,
        prop: Prop<'_>,
    ) -> Result<Option<f64>, HydrateError> {
        match doc.get(obj, &prop)? {
            None => Ok(None),
            Some((Value::Scalar(s), _)) => match s.as_ref() {
                ScalarValue::Null => Ok(None),
                ScalarValue::F64(f) if f.is_finite() => Ok(Some(*f)),
                ScalarValue::Int(i) => Ok(Some(*i as f64)),
                ScalarValue::Uint(u) => Ok(Some(*u as f64)),
                other => Err(HydrateError::unexpected("a number", format!("{other:?}"))),
            },
            Some((v, _)) => Err(HydrateError::unexpected("a number", format!("{v:?}"))),
        }
    }

    pub fn bool<D: ReadDoc>(doc: &D, obj: &ObjId, prop: Prop<'_>) -> Result<bool, HydrateError> {
        match doc.get(obj, &prop)? {
            None => Ok(false),
            Some((Value::Scalar(s), _)) => match s.as_ref() {
                ScalarValue::Null => Ok(false),
                ScalarValue::Boolean(b) => Ok(*b),
                other => Err(HydrateError::unexpected("true/false", format!("{other:?}"))),
            },
            Some((v, _)) => Err(HydrateError::unexpected("true/false", format!("{v:?}"))),
        }
    }
}

fn keys<D: ReadDoc>(doc: &D, obj: &ObjId) -> Vec<String> {
    doc.map_range(obj, ..).map(|i| i.key.into_owned()).collect()
}

fn container_obj<D: ReadDoc>(doc: &D, kind: DocKind) -> Option<ObjId> {
    match doc.get(&ROOT, container(kind)).ok()?? {
        (Value::Object(ObjType::Map), id) => Some(id),
        _ => None,
    }
}

/// An entry of a document: hydrated from its map, keyed by its ID.
pub trait Entry: Hydrate + Reconcile + Sized {
    const KIND: DocKind;
    fn entry_key(&self) -> String;
    /// Called after hydration with the map key (the ID is the key, whatever the entry says).
    fn set_key(&mut self, key: &str);
}

/// Every entry of `E`'s kind, with those that do not hydrate (wrong types, hostile writers) returned
/// apart with the reason: readers skip them, the server quarantines them.
pub fn read_entries<E: Entry, D: ReadDoc>(doc: &D) -> (Vec<E>, Vec<(String, String)>) {
    let Some(c) = container_obj(doc, E::KIND) else {
        return (
            Vec::new(),
            vec![(container(E::KIND).into(), "not a map".into())],
        );
    };
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for key in keys(doc, &c) {
        match hydrate_prop::<_, E, _, _>(doc, &c, key.as_str()) {
            Ok(mut e) => {
                e.set_key(&key);
                good.push(e);
            }
            Err(err) => bad.push((key, err.to_string())),
        }
    }
    (good, bad)
}

/// One entry by key, if it exists and hydrates.
pub fn read_entry<E: Entry, D: ReadDoc>(doc: &D, key: &str) -> Option<E> {
    let c = container_obj(doc, E::KIND)?;
    doc.get(&c, key).ok()??;
    let mut e: E = hydrate_prop(doc, &c, key).ok()?;
    e.set_key(key);
    Some(e)
}

/// Write `entry` into its container as part of `tx`: field by field, so concurrent edits of other
/// fields or other entries merge, and keys this version does not know are left alone.
fn reconcile_entry<E: Entry>(tx: &mut Transaction<'_>, entry: &E) -> Result<ObjId, SchemaError> {
    let c = container_obj(tx, E::KIND).ok_or(SchemaError::NoContainer(container(E::KIND)))?;
    let key = entry.entry_key();
    reconcile_prop(tx, &c, key.as_str(), entry)?;
    match tx.get(&c, key.as_str())? {
        Some((Value::Object(ObjType::Map), id)) => Ok(id),
        _ => Err(SchemaError::NoContainer(container(E::KIND))),
    }
}

/// Write one entry as one change (upgrading the document first if it is older).
pub fn put_entry<E: Entry>(doc: &mut Automerge, entry: &E) -> Result<(), SchemaError> {
    write(doc, None, |tx| reconcile_entry(tx, entry).map(|_| ()))
}

/// Read an entry, change it with `f`, write back what changed. `None` if there is no such entry.
pub fn update_entry<E: Entry>(
    doc: &mut Automerge,
    key: &str,
    f: impl FnOnce(&mut E),
) -> Result<Option<E>, SchemaError> {
    let Some(mut e) = read_entry::<E, _>(doc, key) else {
        return Ok(None);
    };
    f(&mut e);
    put_entry(doc, &e)?;
    Ok(Some(e))
}

/// Participants of an activity (DESIGN §4).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Default,
    serde::Serialize,
    serde::Deserialize,
    Hydrate,
    Reconcile,
)]
#[serde(default)]
pub struct Participants {
    #[autosurgeon(missing = "Default::default", hydrate = "am::int")]
    pub total: i64,
    #[autosurgeon(missing = "Default::default", hydrate = "am::int")]
    pub women: i64,
    #[autosurgeon(missing = "Default::default", hydrate = "am::int")]
    pub ethnic_minority: i64,
    #[autosurgeon(missing = "Default::default", hydrate = "am::int")]
    pub religious: i64,
}

/// An opinion or petition of the people, with its follow-up (`moi`, `dang-xu-ly`, `da-giai-quyet`,
/// `da-chuyen`).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, Hydrate, Reconcile,
)]
#[serde(default)]
pub struct Petition {
    #[autosurgeon(hydrate = "am::text")]
    pub text: String,
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub status: String,
}

/// A position with its accuracy in metres, as the phone reported it.
#[derive(
    Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize, Reconcile,
)]
pub struct Gps {
    pub lat: f64,
    pub lon: f64,
    pub accuracy_m: f64,
}

impl Hydrate for Gps {
    fn hydrate_map<D: ReadDoc>(doc: &D, obj: &ObjId) -> Result<Self, HydrateError> {
        let num = |k: &str| {
            am::opt_f64(doc, obj, k.into())?
                .ok_or_else(|| HydrateError::unexpected("a number", format!("no {k}")))
        };
        let g = Gps {
            lat: num("lat")?,
            lon: num("lon")?,
            accuracy_m: num("accuracy_m")?,
        };
        if !(-90.0..=90.0).contains(&g.lat) || !(-180.0..=180.0).contains(&g.lon) {
            return Err(HydrateError::unexpected("a position", format!("{g:?}")));
        }
        Ok(g)
    }
}

/// A field note (DESIGN §4). Version 1 had `task_id`; version 2 has `task_ids` and the rest.
#[derive(
    Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize, Hydrate, Reconcile,
)]
#[serde(default)]
pub struct Note {
    /// Sortable ID ([`ulid`]); also the key in the `notes` map.
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub id: String,
    /// `YYYY-MM-DD`, the day the activity took place.
    #[autosurgeon(hydrate = "am::text")]
    pub activity_date: String,
    #[autosurgeon(hydrate = "am::text")]
    pub title: String,
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub content: String,
    /// Linked plan tasks.
    #[autosurgeon(hydrate = "am::text_list")]
    pub task_ids: Vec<String>,
    /// The hamlet (org node) where it took place.
    #[autosurgeon(hydrate = "am::opt_text")]
    pub hamlet: Option<String>,
    /// One of [`ACTIVITY_TYPES`] (or another the org defines).
    #[autosurgeon(hydrate = "am::opt_text")]
    pub activity_type: Option<String>,
    /// The unit (organisation kind) that carried it out.
    #[autosurgeon(hydrate = "am::opt_text")]
    pub unit: Option<String>,
    #[autosurgeon(missing = "Default::default")]
    pub participants: Participants,
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub results: String,
    #[autosurgeon(missing = "Vec::new")]
    pub petitions: Vec<Petition>,
    #[autosurgeon(missing = "Option::default")]
    pub gps: Option<Gps>,
    /// SHA-256 (hex) of the photos, stored as blobs.
    #[autosurgeon(hydrate = "am::text_list")]
    pub photos: Vec<String>,
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub author: String,
    /// Unix milliseconds when the note was created on the device.
    #[autosurgeon(missing = "Default::default", hydrate = "am::int")]
    pub created_at: i64,
    /// Tombstone: deleted notes stay in the document (history), hidden everywhere.
    #[autosurgeon(hydrate = "am::bool")]
    pub deleted: bool,
}

impl Entry for Note {
    const KIND: DocKind = DocKind::Notes;
    fn entry_key(&self) -> String {
        self.id.clone()
    }
    fn set_key(&mut self, key: &str) {
        self.id = key.to_string();
    }
}

/// Activity types of DESIGN §4: (id, Vietnamese, English).
pub const ACTIVITY_TYPES: &[(&str, &str, &str)] = &[
    ("hoi-nghi", "Hội nghị, họp", "Meeting"),
    ("tuyen-truyen", "Tuyên truyền", "Propaganda session"),
    ("tham-hoi", "Thăm hỏi", "Home visit"),
    ("van-dong", "Vận động", "Mobilisation"),
    ("giam-sat", "Giám sát", "Supervision"),
    ("phan-bien", "Phản biện xã hội", "Social critique"),
    ("tiep-xuc-cu-tri", "Tiếp xúc cử tri", "Meeting voters"),
    ("khac", "Khác", "Other"),
];

/// Validation of a note before it is written: the messages are shown to the user, in Vietnamese.
pub fn validate_note(n: &Note) -> Result<(), &'static str> {
    if crate::ids::parse_iso_date(&n.activity_date).is_none() {
        return Err("Ngày hoạt động không hợp lệ (dd/mm/yyyy).");
    }
    if n.title.trim().is_empty() {
        return Err("Vui lòng nhập tiêu đề.");
    }
    if n.title.chars().count() > 300
        || n.content.chars().count() > 20_000
        || n.results.chars().count() > 20_000
    {
        return Err("Nội dung quá dài.");
    }
    let p = n.participants;
    if [p.total, p.women, p.ethnic_minority, p.religious]
        .iter()
        .any(|v| !(0..=1_000_000).contains(v))
    {
        return Err("Số người tham dự không hợp lệ.");
    }
    if p.women > p.total || p.ethnic_minority > p.total || p.religious > p.total {
        return Err("Số nữ, dân tộc thiểu số, tôn giáo không được lớn hơn tổng số người tham dự.");
    }
    if n.petitions.iter().any(|x| x.text.trim().is_empty()) {
        return Err("Ý kiến, kiến nghị không được để trống.");
    }
    if n.photos
        .iter()
        .any(|h| h.len() != 64 || !h.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err("Ảnh không hợp lệ.");
    }
    Ok(())
}

/// Write (create or overwrite) a note as one change, with its creation time as the change's time.
/// The version-1 key `task_id` is kept equal to the first linked task, for version-1 readers.
pub fn put_note(doc: &mut Automerge, note: &Note) -> Result<(), SchemaError> {
    write(doc, Some(note.created_at.div_euclid(1000)), |tx| {
        let n = reconcile_entry(tx, note)?;
        match note.task_ids.first() {
            Some(t) => tx.put(&n, "task_id", t.as_str())?,
            None => tx.put(&n, "task_id", ScalarValue::Null)?,
        }
        Ok(())
    })
}

/// The version-1 fallback: a note that has no `task_ids` yet reads its old `task_id`.
fn v1_task_ids<D: ReadDoc>(doc: &D, n: &mut Note) {
    if n.task_ids.is_empty()
        && let Some(c) = container_obj(doc, DocKind::Notes)
        && let Ok(Some((_, o))) = doc.get(&c, n.id.as_str())
        && doc.get(&o, "task_ids").ok().flatten().is_none()
        && let Ok(Some(t)) = am::opt_text(doc, &o, "task_id".into())
    {
        n.task_ids = vec![t];
    }
}

/// The live (not deleted, schema-valid) notes of a notes document, newest activity first.
pub fn read_notes<D: ReadDoc>(doc: &D) -> Vec<Note> {
    let (good, bad) = read_entries::<Note, _>(doc);
    let mut out: Vec<Note> = good
        .into_iter()
        .filter(|n| !n.deleted && !bad.iter().any(|(k, _)| *k == n.id))
        .filter(|n| validate_note(n).is_ok())
        .map(|mut n| {
            v1_task_ids(doc, &mut n);
            n
        })
        .collect();
    out.sort_by(|a, b| (&b.activity_date, &b.id).cmp(&(&a.activity_date, &a.id)));
    out
}

/// Entries of a document that break the schema, with the reason (English, for administrators). The
/// server quarantines them: kept in the document, flagged, left out of every count.
pub fn check(doc: &Automerge, kind: DocKind) -> Vec<(String, String)> {
    match kind {
        DocKind::Notes => check_kind::<Note>(doc, |n| {
            (!n.deleted)
                .then(|| validate_note(n).err())
                .flatten()
                .map(|r| format!("invalid note: {r}"))
        }),
        DocKind::Plan => check_kind::<Task>(doc, |t| {
            let wrong_deadline = t
                .deadline
                .as_deref()
                .is_some_and(|d| crate::ids::parse_iso_date(d).is_none());
            let wrong_recurrence = t
                .recurrence
                .as_deref()
                .is_some_and(|r| !RECURRENCES.iter().any(|(k, _, _)| *k == r));
            (wrong_deadline || wrong_recurrence || t.number.chars().count() > 32)
                .then(|| "invalid task: deadline, recurrence or number".into())
        }),
        DocKind::Progress => check_kind::<ProgressRecord>(doc, |r| {
            progress_invalid(r).then(|| "invalid progress: percent, task or unit".into())
        }),
        DocKind::Org => check_kind::<OrgNode>(doc, |n| {
            (!LEVELS.contains(&n.level.as_str()) || n.name.trim().is_empty())
                .then(|| "invalid org node: level or name".into())
        }),
    }
}

/// Entries of `E` that do not hydrate, have an over-long key, or fail `invalid`.
fn check_kind<E: Entry>(
    doc: &Automerge,
    invalid: impl Fn(&E) -> Option<String>,
) -> Vec<(String, String)> {
    let (good, mut bad) = read_entries::<E, _>(doc);
    for e in &good {
        let key = e.entry_key();
        if key.chars().count() > 64 {
            bad.push((key, "id longer than 64 characters".into()));
        } else if let Some(reason) = invalid(e) {
            bad.push((key, reason));
        }
    }
    bad
}

fn progress_invalid(r: &ProgressRecord) -> bool {
    !(0..=100).contains(&r.percent) || r.task_id.is_empty() || r.unit.is_empty()
}

/// Levels of the org tree; units hang under any node.
pub const LEVELS: &[&str] = &["root", "commune", "hamlet", "unit"];

/// A node of the org tree: the root (province or district), a commune, a hamlet, or a unit
/// (organisation) of any of them.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, Hydrate, Reconcile,
)]
#[serde(default)]
pub struct OrgNode {
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub id: String,
    #[autosurgeon(hydrate = "am::text")]
    pub name: String,
    /// One of [`LEVELS`].
    #[autosurgeon(hydrate = "am::text")]
    pub level: String,
    #[autosurgeon(hydrate = "am::opt_text")]
    pub parent: Option<String>,
    /// For a unit: its kind ([`UNIT_KINDS`] or another), which progress records name.
    #[autosurgeon(hydrate = "am::opt_text")]
    pub kind: Option<String>,
    /// Removed by an administrator: kept for history, hidden from pickers.
    #[autosurgeon(hydrate = "am::bool")]
    pub removed: bool,
}

impl Entry for OrgNode {
    const KIND: DocKind = DocKind::Org;
    fn entry_key(&self) -> String {
        self.id.clone()
    }
    fn set_key(&mut self, key: &str) {
        self.id = key.to_string();
    }
}

pub fn put_org_node(doc: &mut Automerge, node: &OrgNode) -> Result<(), SchemaError> {
    put_entry(doc, node)
}

/// The org tree's nodes (removed ones included: callers filter), by name.
pub fn read_org<D: ReadDoc>(doc: &D) -> Vec<OrgNode> {
    let mut out = read_entries::<OrgNode, _>(doc).0;
    out.retain(|n| LEVELS.contains(&n.level.as_str()));
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The kinds of units (organisations) the plans of DESIGN §2 name: (id, Vietnamese, English).
pub const UNIT_KINDS: &[(&str, &str, &str)] = &[
    ("mttq", "Ủy ban MTTQ", "Fatherland Front Committee"),
    ("hoi-nong-dan", "Hội Nông dân", "Farmers' Union"),
    ("hoi-phu-nu", "Hội Liên hiệp Phụ nữ", "Women's Union"),
    ("doan-thanh-nien", "Đoàn TNCS Hồ Chí Minh", "Youth Union"),
    ("hoi-ccb", "Hội Cựu chiến binh", "Veterans' Union"),
    ("cong-doan", "Công đoàn", "Trade Union"),
    ("ban-dan-van", "Ban Dân vận", "Mass Mobilisation Commission"),
    ("ban-to-chuc", "Ban Tổ chức", "Organisation Commission"),
    ("ban-tuyen-giao", "Ban Tuyên giáo", "Propaganda Commission"),
    ("ubnd", "Ủy ban nhân dân", "People's Committee"),
    ("dang-uy", "Đảng ủy, chi bộ", "Party committee"),
];

/// The unit kinds a plan's wording names, e.g. "Hội Nông dân huyện" → `hoi-nong-dan`; "các đoàn
/// thể chính trị - xã hội" → the four mass organisations. Case- and accent-sensitive on purpose:
/// plans are written in correct Vietnamese, and "Đoàn" (Youth Union) must not match "đoàn thể".
pub fn unit_kinds_named(text: &str) -> Vec<&'static str> {
    let l = text.to_lowercase();
    let mut out = Vec::new();
    let mut add = |k: &'static str| {
        if !out.contains(&k) {
            out.push(k);
        }
    };
    if l.contains("mặt trận") || l.contains("mttq") {
        add("mttq");
    }
    if l.contains("đoàn thể") {
        for k in ["hoi-nong-dan", "hoi-phu-nu", "doan-thanh-nien", "hoi-ccb"] {
            add(k);
        }
    }
    if l.contains("nông dân") {
        add("hoi-nong-dan");
    }
    if l.contains("phụ nữ") {
        add("hoi-phu-nu");
    }
    if l.contains("thanh niên") || text.contains("Đoàn TN") || text.contains("Huyện đoàn") {
        add("doan-thanh-nien");
    }
    if l.contains("cựu chiến binh") {
        add("hoi-ccb");
    }
    if l.contains("công đoàn") || l.contains("liên đoàn lao động") {
        add("cong-doan");
    }
    if l.contains("dân vận") {
        add("ban-dan-van");
    }
    if l.contains("ban tổ chức") {
        add("ban-to-chuc");
    }
    if l.contains("tuyên giáo") {
        add("ban-tuyen-giao");
    }
    if l.contains("ủy ban nhân dân") || l.contains("ubnd") {
        add("ubnd");
    }
    if l.contains("tổ chức đảng") || l.contains("đảng ủy") || l.contains("chi bộ") {
        add("dang-uy");
    }
    out
}

/// Follow-up of a petition: (id, Vietnamese, English).
pub const PETITION_STATUSES: &[(&str, &str, &str)] = &[
    ("moi", "Mới tiếp nhận", "Received"),
    ("dang-xu-ly", "Đang xử lý", "In progress"),
    (
        "da-giai-quyet",
        "Đã giải quyết, trả lời",
        "Resolved, answered",
    ),
    (
        "da-chuyen",
        "Đã chuyển cấp có thẩm quyền",
        "Referred upwards",
    ),
];

/// Recurrences a task may have: (id, Vietnamese, English).
pub const RECURRENCES: &[(&str, &str, &str)] = &[
    ("monthly", "Hằng tháng", "Monthly"),
    ("quarterly", "Hằng quý", "Quarterly"),
    ("semiannual", "6 tháng một lần", "Every 6 months"),
    ("yearly", "Hằng năm", "Yearly"),
];

/// A target of a task (chỉ tiêu).
#[derive(
    Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize, Hydrate, Reconcile,
)]
#[serde(default)]
pub struct Indicator {
    #[autosurgeon(hydrate = "am::text")]
    pub name: String,
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub unit_of_measure: String,
    #[autosurgeon(missing = "Option::default", hydrate = "am::opt_f64")]
    pub target: Option<f64>,
}

impl Indicator {
    /// Indicators as an editor types them: one per line, `name | unit of measure | target`.
    pub fn to_lines(v: &[Indicator]) -> String {
        v.iter()
            .map(|i| {
                let target = i.target.map(|t| t.to_string()).unwrap_or_default();
                format!("{} | {} | {}", i.name, i.unit_of_measure, target)
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The inverse of [`Indicator::to_lines`]; errors are messages for the editor (Vietnamese).
    pub fn parse_lines(text: &str) -> Result<Vec<Indicator>, String> {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|line| {
                let mut parts = line.split('|').map(str::trim);
                let name = parts.next().unwrap_or_default().to_string();
                let unit_of_measure = parts.next().unwrap_or_default().to_string();
                if name.is_empty() {
                    return Err("Mỗi chỉ tiêu cần có tên.".to_string());
                }
                let target = match parts.next().filter(|t| !t.is_empty()) {
                    None => None,
                    Some(t) => Some(parse_decimal(t).ok_or_else(|| {
                        format!("Chỉ tiêu \"{name}\": \"{t}\" không phải là số.")
                    })?),
                };
                Ok(Indicator {
                    name,
                    unit_of_measure,
                    target,
                })
            })
            .collect()
    }
}

/// A non-negative decimal as people type it (`500`, `2,5`, `2.5`), without the float parser (it
/// costs the phone ~15 KB of download for one form field).
fn parse_decimal(s: &str) -> Option<f64> {
    let (int, frac) = match s.split_once([',', '.']) {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    let digits = |x: &str| !x.is_empty() && x.len() <= 12 && x.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !(frac.is_empty() || digits(frac)) {
        return None;
    }
    let whole: u64 = int.parse().ok()?;
    let part: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    Some(whole as f64 + part as f64 / 10f64.powi(frac.len() as i32))
}

/// A task of a plan (DESIGN §2). The ID is stable for the plan's life: revisions change the fields,
/// progress and notes refer to the ID, and a task taken out of the plan is marked `removed`.
#[derive(
    Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize, Hydrate, Reconcile,
)]
#[serde(default)]
pub struct Task {
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub id: String,
    /// As in the document, e.g. `II.4`.
    #[autosurgeon(hydrate = "am::text")]
    pub number: String,
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub title: String,
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub text: String,
    /// Position in the document, for display order.
    #[autosurgeon(missing = "Default::default", hydrate = "am::int")]
    pub order: i64,
    /// `YYYY-MM-DD`, if the plan sets one.
    #[autosurgeon(hydrate = "am::opt_text")]
    pub deadline: Option<String>,
    /// The section's numeral (`II`), and the parent task for sub-tasks.
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub section: String,
    #[autosurgeon(hydrate = "am::opt_text")]
    pub parent: Option<String>,
    /// Unit kinds that lead (chủ trì) and coordinate (phối hợp).
    #[autosurgeon(hydrate = "am::text_list")]
    pub lead_units: Vec<String>,
    #[autosurgeon(hydrate = "am::text_list")]
    pub partner_units: Vec<String>,
    /// Target communes; empty means every commune.
    #[autosurgeon(hydrate = "am::text_list")]
    pub communes: Vec<String>,
    /// One of [`RECURRENCES`], for duties repeated each period.
    #[autosurgeon(hydrate = "am::opt_text")]
    pub recurrence: Option<String>,
    #[autosurgeon(missing = "Vec::new")]
    pub indicators: Vec<Indicator>,
    #[autosurgeon(hydrate = "am::bool")]
    pub removed: bool,
}

impl Entry for Task {
    const KIND: DocKind = DocKind::Plan;
    fn entry_key(&self) -> String {
        self.id.clone()
    }
    fn set_key(&mut self, key: &str) {
        self.id = key.to_string();
    }
}

impl Task {
    /// Whether the task applies to `commune`.
    pub fn targets(&self, commune: &str) -> bool {
        !self.removed && (self.communes.is_empty() || self.communes.iter().any(|c| c == commune))
    }
}

pub fn put_task(doc: &mut Automerge, task: &Task) -> Result<(), SchemaError> {
    put_entry(doc, task)
}

/// The plan's tasks (removed ones included: callers filter), in document order.
pub fn read_tasks<D: ReadDoc>(doc: &D) -> Vec<Task> {
    let mut out = read_entries::<Task, _>(doc).0;
    out.sort_by(|a, b| (a.order, &a.number).cmp(&(b.order, &b.number)));
    out
}

/// Set or clear a task's deadline (an editor's change; only that field changes, so it merges with
/// concurrent edits of the task's other fields and with the communes' progress).
pub fn set_task_deadline(
    doc: &mut Automerge,
    task_id: &str,
    deadline: Option<&str>,
) -> Result<(), SchemaError> {
    update_entry::<Task>(doc, task_id, |t| t.deadline = deadline.map(str::to_string))?;
    Ok(())
}

/// A basis document of a plan (căn cứ), e.g. Chỉ thị 18-CT/TU ngày 22/02/2022.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, Hydrate, Reconcile,
)]
#[serde(default)]
pub struct Basis {
    #[autosurgeon(hydrate = "am::text")]
    pub code: String,
    #[autosurgeon(hydrate = "am::opt_text")]
    pub date: Option<String>,
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub title: String,
}

/// A plan's header, at the root of its document (DESIGN §2).
#[derive(
    Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, Hydrate, Reconcile,
)]
#[serde(default)]
pub struct PlanHeader {
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub title: String,
    /// Number and symbol, e.g. `45-KH/HU` (empty when the document has none).
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub number: String,
    /// `YYYY-MM-DD`.
    #[autosurgeon(hydrate = "am::opt_text")]
    pub date: Option<String>,
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub issuer: String,
    /// The org node that issued it: the aggregating level.
    #[autosurgeon(hydrate = "am::opt_text")]
    pub issuer_node: Option<String>,
    #[autosurgeon(missing = "Vec::new")]
    pub basis: Vec<Basis>,
    /// Purposes and requirements (text).
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub purposes: String,
    #[autosurgeon(hydrate = "am::text_list")]
    pub recipients: Vec<String>,
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub signer: String,
    /// Increased by every publication of a revised document.
    #[autosurgeon(missing = "Default::default", hydrate = "am::int")]
    pub revision: i64,
    #[autosurgeon(hydrate = "am::opt_int")]
    pub published_at: Option<i64>,
}

/// The header of a plan document (tolerant: missing fields are empty).
pub fn read_plan_header<D: ReadDoc>(doc: &D) -> PlanHeader {
    autosurgeon::hydrate(doc).unwrap_or_else(|_| PlanHeader {
        title: am::opt_text(doc, &ROOT, "title".into())
            .ok()
            .flatten()
            .unwrap_or_default(),
        ..PlanHeader::default()
    })
}

/// Write a plan's header (field by field at the root; the root's other keys are left alone).
pub fn put_plan_header(doc: &mut Automerge, h: &PlanHeader) -> Result<(), SchemaError> {
    write(doc, None, |tx| Ok(autosurgeon::reconcile(tx, h)?))
}

/// One unit's progress on one task in one commune (DESIGN §3). Each unit writes its own entry,
/// keyed `task@unit`, so the lead and the coordinating units never overwrite each other.
#[derive(
    Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize, Hydrate, Reconcile,
)]
#[serde(default)]
pub struct ProgressRecord {
    #[autosurgeon(hydrate = "am::text")]
    pub task_id: String,
    #[autosurgeon(hydrate = "am::text")]
    pub unit: String,
    /// 0–100.
    #[autosurgeon(missing = "Default::default", hydrate = "am::int")]
    pub percent: i64,
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub remark: String,
    /// Who recorded it, and when (Unix ms).
    #[autosurgeon(missing = "String::new", hydrate = "am::text")]
    pub by: String,
    #[autosurgeon(missing = "Default::default", hydrate = "am::int")]
    pub at: i64,
    #[autosurgeon(hydrate = "am::opt_int")]
    pub done_at: Option<i64>,
}

impl Entry for ProgressRecord {
    const KIND: DocKind = DocKind::Progress;
    fn entry_key(&self) -> String {
        format!("{}@{}", self.task_id, self.unit)
    }
    fn set_key(&mut self, _key: &str) {}
}

pub fn put_progress(doc: &mut Automerge, r: &ProgressRecord) -> Result<(), SchemaError> {
    let mut r = r.clone();
    r.percent = r.percent.clamp(0, 100);
    write(doc, Some(r.at.div_euclid(1000)), |tx| {
        reconcile_entry(tx, &r).map(|_| ())
    })
}

/// The history of a task's progress in one commune, from the document's history: every version of
/// every unit's record, oldest first (who changed what, when). Walks the changes one by one, so it
/// is meant for one task's detail, not for lists.
pub fn progress_history(doc: &Automerge, task_id: &str) -> Vec<ProgressRecord> {
    let mut seen: Vec<ProgressRecord> = Vec::new();
    let mut heads: Vec<ChangeHash> = Vec::new();
    for change in doc.get_changes(&[]) {
        // The state after this change (and everything it depends on).
        heads.retain(|h| !change.deps().contains(h));
        heads.push(change.hash());
        let state = doc
            .fork_at(&heads)
            .map(|d| read_progress(&d))
            .unwrap_or_default();
        for r in state.into_iter().filter(|r| r.task_id == task_id) {
            if !seen.contains(&r) {
                seen.push(r);
            }
        }
    }
    seen.sort_by_key(|r| r.at);
    seen
}

/// The valid progress records of a progress document, by task then unit.
pub fn read_progress<D: ReadDoc>(doc: &D) -> Vec<ProgressRecord> {
    let mut out: Vec<ProgressRecord> = read_entries::<ProgressRecord, _>(doc)
        .0
        .into_iter()
        .filter(|r| !progress_invalid(r))
        .collect();
    out.sort_by(|a, b| (&a.task_id, &a.unit).cmp(&(&b.task_id, &b.unit)));
    out
}

/// Set one string field at the document root (used by tests that play hostile clients).
pub fn put_root_str(doc: &mut Automerge, key: &str, value: &str) -> Result<(), SchemaError> {
    write(doc, None, |tx| Ok(tx.put(ROOT, key, value)?))
}

/// How many changes of `doc` are not yet covered by the server's durable heads.
///
/// Heads the device does not know yet (the server has changes we have not received) say nothing about
/// our changes and are ignored. The genesis change carries no user data and is never counted.
pub fn unsynced_changes(doc: &Automerge, durable_heads: &[ChangeHash]) -> usize {
    unsynced_times(doc, durable_heads).len()
}

/// When (Unix seconds, as recorded in each change) the oldest change not yet durable was made.
/// Changes written without a time (an editor's plan or org edit) record 0 and are skipped.
pub fn oldest_unsynced(doc: &Automerge, durable_heads: &[ChangeHash]) -> Option<i64> {
    unsynced_times(doc, durable_heads)
        .into_iter()
        .filter(|t| *t > 0)
        .min()
}

/// The times of the changes [`unsynced_changes`] counts.
fn unsynced_times(doc: &Automerge, durable_heads: &[ChangeHash]) -> Vec<i64> {
    let known: Vec<ChangeHash> = durable_heads
        .iter()
        .copied()
        .filter(|h| automerge::ReadDoc::get_change_by_hash(doc, h).is_some())
        .collect();
    let genesis = doc_key_of(doc).map(|k| genesis_actor(&k));
    doc.get_changes_meta(&known)
        .iter()
        .filter(|c| Some(&*c.actor) != genesis.as_ref())
        .map(|c| c.timestamp)
        .collect()
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
    use crate::ids::Quarter;

    fn note(id: &str, title: &str) -> Note {
        Note {
            id: id.into(),
            activity_date: "2026-11-20".into(),
            title: title.into(),
            content: "Họp dân ở bon Đạ Tông".into(),
            task_ids: vec!["t-2-4".into()],
            author: "kadon".into(),
            created_at: 1_795_700_000_000,
            ..Note::default()
        }
    }

    #[test]
    fn independent_genesis_merges_into_one_notes_map() {
        let key = DocKey::notes("xa-ka-don", Quarter { year: 2026, q: 4 });
        let mut phone = genesis_doc(&key)
            .unwrap()
            .with_actor(ActorId::from(&[1u8; 16][..]));
        let mut server = Automerge::new();
        ensure_genesis(&mut server, &key).unwrap();
        ensure_genesis(&mut server, &key).unwrap();
        put_note(&mut phone, &note("01A", "Họp bon")).unwrap();
        server.merge(&mut phone.clone()).unwrap();
        assert_eq!(read_notes(&server), vec![note("01A", "Họp bon")]);
        assert_eq!(doc_key_of(&server), Some(key));
        assert_eq!(server.get_heads(), phone.get_heads());
        assert_eq!(doc_schema(&server), SCHEMA_VERSION);
    }

    #[test]
    fn unsynced_counts_changes_not_covered_by_durable_heads() {
        let key = DocKey::notes("xa-ka-don", Quarter { year: 2026, q: 4 });
        let mut doc = genesis_doc(&key)
            .unwrap()
            .with_actor(ActorId::from(&[2u8; 16][..]));
        assert_eq!(unsynced_changes(&doc, &[]), 0);
        put_note(&mut doc, &note("01A", "a")).unwrap();
        let durable = doc.get_heads();
        put_note(&mut doc, &note("01B", "b")).unwrap();
        put_note(&mut doc, &note("01C", "c")).unwrap();
        assert_eq!(unsynced_changes(&doc, &[]), 3);
        assert_eq!(unsynced_changes(&doc, &durable), 2);
        assert_eq!(unsynced_changes(&doc, &doc.get_heads()), 0);
        let unknown = ChangeHash([7; 32]);
        assert_eq!(unsynced_changes(&doc, &[unknown]), 3);
    }

    #[test]
    fn rewriting_an_unchanged_note_makes_no_operations() {
        let key = DocKey::notes("xa-ka-don", Quarter { year: 2026, q: 4 });
        let mut doc = genesis_doc(&key).unwrap();
        put_note(&mut doc, &note("01A", "a")).unwrap();
        let ops_before = doc.get_changes(&[]).iter().map(|c| c.len()).sum::<usize>();
        put_note(&mut doc, &note("01A", "a")).unwrap();
        let ops_after = doc.get_changes(&[]).iter().map(|c| c.len()).sum::<usize>();
        assert_eq!(ops_before, ops_after, "a same-value rewrite adds no ops");
    }

    #[test]
    fn progress_history_lists_every_version() {
        let key = DocKey::progress("kh", "xa-ka-don");
        let mut doc = genesis_doc(&key).unwrap();
        let r = |unit: &str, percent, at| ProgressRecord {
            task_id: "t-1".into(),
            unit: unit.into(),
            percent,
            by: "kadon".into(),
            at,
            ..ProgressRecord::default()
        };
        put_progress(&mut doc, &r("mttq", 20, 1_000)).unwrap();
        put_progress(&mut doc, &r("hoi-phu-nu", 10, 2_000)).unwrap();
        put_progress(&mut doc, &r("mttq", 60, 3_000)).unwrap();
        let mut other = r("mttq", 5, 4_000);
        other.task_id = "t-2".into();
        put_progress(&mut doc, &other).unwrap();
        let h = progress_history(&doc, "t-1");
        let got: Vec<(&str, i64)> = h.iter().map(|r| (r.unit.as_str(), r.percent)).collect();
        assert_eq!(got, [("mttq", 20), ("hoi-phu-nu", 10), ("mttq", 60)]);
    }

    #[test]
    fn ulid_is_sortable_and_26_chars() {
        let a = ulid(1_000, [0; 10]);
        let b = ulid(1_001, [0; 10]);
        assert_eq!(a.len(), 26);
        assert!(a < b);
        assert_ne!(ulid(1_000, [1; 10]), a);
    }

    #[test]
    fn validation_messages_are_vietnamese() {
        let mut n = note("x", " ");
        assert_eq!(validate_note(&n), Err("Vui lòng nhập tiêu đề."));
        n.title = "ok".into();
        n.activity_date = "2026-13-01".into();
        assert!(validate_note(&n).unwrap_err().contains("Ngày"));
        n.activity_date = "2026-12-01".into();
        n.participants = Participants {
            total: 10,
            women: 11,
            ..Participants::default()
        };
        assert!(validate_note(&n).unwrap_err().contains("lớn hơn"));
    }

    #[test]
    fn indicators_as_lines() {
        let v = Indicator::parse_lines(
            "Hộ được tuyên truyền | hộ | 500\n\n  Mô hình dân vận khéo | mô hình | 2,5 \nGhi nhận",
        )
        .unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(v[1].target, Some(2.5));
        assert_eq!(v[2].target, None);
        assert_eq!(Indicator::parse_lines(&Indicator::to_lines(&v)).unwrap(), v);
        assert!(
            Indicator::parse_lines("X | hộ | nhiều")
                .unwrap_err()
                .contains("không phải là số")
        );
        assert!(Indicator::parse_lines(" | hộ | 5").is_err());
        assert_eq!(parse_decimal("2.25"), Some(2.25));
        assert_eq!(parse_decimal("1e5"), None);
        assert_eq!(parse_decimal("-3"), None);
    }

    #[test]
    fn unit_kinds_from_plan_wording() {
        assert_eq!(
            unit_kinds_named("Ban Dân vận Huyện ủy"),
            vec!["ban-dan-van"]
        );
        assert_eq!(
            unit_kinds_named("Mặt trận Tổ quốc và các đoàn thể chính trị - xã hội huyện"),
            vec![
                "mttq",
                "hoi-nong-dan",
                "hoi-phu-nu",
                "doan-thanh-nien",
                "hoi-ccb"
            ]
        );
        assert_eq!(unit_kinds_named("Hội Cựu chiến binh"), vec!["hoi-ccb"]);
        assert!(unit_kinds_named("Phòng Tài nguyên").is_empty());
    }
}
