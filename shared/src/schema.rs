//! The Automerge layout of our documents (schema version 1): genesis, notes, org tree and plan tasks.
//!
//! Every document starts with a *genesis* change derived only from its [`DocKey`]: fixed actor, fixed
//! time, fixed operations. Two devices that create the same document independently (a phone offline on
//! the first day of a quarter, and the server) therefore produce the byte-identical change, which
//! Automerge deduplicates, instead of two competing `notes` maps of which only one would survive.

use crate::ids::{DocKey, DocKind};
use automerge::transaction::{CommitOptions, Transactable};
use automerge::{
    ActorId, Automerge, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value,
};
use sha2::{Digest, Sha256};

pub const SCHEMA_VERSION: u64 = 1;

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
pub fn ensure_genesis(doc: &mut Automerge, key: &DocKey) -> Result<(), automerge::AutomergeError> {
    let g = genesis_doc(key)?;
    let changes: Vec<_> = g.get_changes(&[]).into_iter().collect();
    doc.apply_changes(changes)
}

/// A fresh document holding only the genesis change.
pub fn genesis_doc(key: &DocKey) -> Result<Automerge, automerge::AutomergeError> {
    let mut g = Automerge::new().with_actor(genesis_actor(key));
    g.transact_with::<_, _, automerge::AutomergeError, _>(
        |_| CommitOptions::default().with_time(0),
        |tx| {
            tx.put(ROOT, "schema", SCHEMA_VERSION)?;
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

/// A string field, whether stored as a plain string (our writers) or as a text object (automerge JS 3
/// turns plain JS strings into collaborative text by default).
pub fn get_str(doc: &Automerge, obj: &ObjId, key: &str) -> Option<String> {
    match doc.get(obj, key).ok()?? {
        (Value::Scalar(s), _) => match s.as_ref() {
            ScalarValue::Str(s) => Some(s.to_string()),
            _ => None,
        },
        (Value::Object(ObjType::Text), id) => doc.text(&id).ok(),
        _ => None,
    }
}

fn get_i64(doc: &Automerge, obj: &ObjId, key: &str) -> Option<i64> {
    match doc.get(obj, key).ok()?? {
        (Value::Scalar(s), _) => match s.as_ref() {
            ScalarValue::Int(i) => Some(*i),
            ScalarValue::Uint(u) => i64::try_from(*u).ok(),
            ScalarValue::Timestamp(t) => Some(*t),
            ScalarValue::F64(f) => Some(*f as i64),
            _ => None,
        },
        _ => None,
    }
}

fn get_bool(doc: &Automerge, obj: &ObjId, key: &str) -> bool {
    matches!(doc.get(obj, key), Ok(Some((Value::Scalar(s), _))) if matches!(s.as_ref(), ScalarValue::Boolean(true)))
}

fn get_map(doc: &Automerge, obj: &ObjId, key: &str) -> Option<ObjId> {
    match doc.get(obj, key).ok()?? {
        (Value::Object(ObjType::Map), id) => Some(id),
        _ => None,
    }
}

/// The entries of a kind's container map, as (key, object id), skipping anything that is not a map.
fn entries(doc: &Automerge, kind: DocKind) -> Vec<(String, ObjId)> {
    let Some(c) = get_map(doc, &ROOT, container(kind)) else {
        return Vec::new();
    };
    doc.keys(&c)
        .filter_map(|k| get_map(doc, &c, &k).map(|id| (k, id)))
        .collect()
}

/// A field note (DESIGN §4; the foundation carries the first fields, issue 4 adds the rest).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Note {
    /// Sortable ID ([`ulid`]); also the key in the `notes` map.
    pub id: String,
    /// `YYYY-MM-DD`, the day the activity took place.
    pub activity_date: String,
    pub title: String,
    pub content: String,
    /// The linked plan task, if any.
    pub task_id: Option<String>,
    pub author: String,
    /// Unix milliseconds when the note was created on the device.
    pub created_at: i64,
}

/// Validation of a note before it is written: the messages are shown to the user, in Vietnamese.
pub fn validate_note(n: &Note) -> Result<(), &'static str> {
    if crate::ids::parse_iso_date(&n.activity_date).is_none() {
        return Err("Ngày hoạt động không hợp lệ (dd/mm/yyyy).");
    }
    if n.title.trim().is_empty() {
        return Err("Vui lòng nhập tiêu đề.");
    }
    if n.title.chars().count() > 300 || n.content.chars().count() > 20_000 {
        return Err("Nội dung quá dài.");
    }
    Ok(())
}

/// Write (create or overwrite) a note as one change. Fields are set one by one in a map keyed by the
/// note ID, so concurrent edits of different notes, or different fields, never conflict.
pub fn put_note(doc: &mut Automerge, note: &Note) -> Result<(), automerge::AutomergeError> {
    let time = note.created_at.div_euclid(1000);
    doc.transact_with::<_, _, automerge::AutomergeError, _>(
        |_| CommitOptions::default().with_time(time),
        |tx| {
            let n = entry_obj(tx, DocKind::Notes, &note.id)?;
            tx.put(&n, "activity_date", note.activity_date.as_str())?;
            tx.put(&n, "title", note.title.as_str())?;
            tx.put(&n, "content", note.content.as_str())?;
            match &note.task_id {
                Some(t) => tx.put(&n, "task_id", t.as_str())?,
                None => tx.put(&n, "task_id", ScalarValue::Null)?,
            }
            tx.put(&n, "author", note.author.as_str())?;
            tx.put(&n, "created_at", ScalarValue::Timestamp(note.created_at))?;
            Ok(())
        },
    )
    .map_err(|f| f.error)?;
    Ok(())
}

/// The live (not deleted) notes of a notes document, newest activity first.
pub fn read_notes(doc: &Automerge) -> Vec<Note> {
    let mut out: Vec<Note> = entries(doc, DocKind::Notes)
        .into_iter()
        .filter(|(_, o)| !get_bool(doc, o, "deleted"))
        .map(|(id, o)| Note {
            activity_date: get_str(doc, &o, "activity_date").unwrap_or_default(),
            title: get_str(doc, &o, "title").unwrap_or_default(),
            content: get_str(doc, &o, "content").unwrap_or_default(),
            task_id: get_str(doc, &o, "task_id"),
            author: get_str(doc, &o, "author").unwrap_or_default(),
            created_at: get_i64(doc, &o, "created_at").unwrap_or(0),
            id,
        })
        .collect();
    out.sort_by(|a, b| (&b.activity_date, &b.id).cmp(&(&a.activity_date, &a.id)));
    out
}

/// Entries of a notes document that break the schema, with the reason (Vietnamese/English for
/// admins). The server quarantines them: kept in the document, flagged, left out of every count.
pub fn check_notes(doc: &Automerge) -> Vec<(String, String)> {
    let Some(c) = get_map(doc, &ROOT, container(DocKind::Notes)) else {
        return vec![("notes".into(), "notes is not a map".into())];
    };
    let mut bad = Vec::new();
    for key in doc.keys(&c) {
        let Some(o) = get_map(doc, &c, &key) else {
            bad.push((key, "entry is not a map".into()));
            continue;
        };
        if get_bool(doc, &o, "deleted") {
            continue;
        }
        let reason = if key.chars().count() > 64 {
            Some("id longer than 64 characters".to_string())
        } else if get_str(doc, &o, "activity_date")
            .and_then(|d| crate::ids::parse_iso_date(&d))
            .is_none()
        {
            Some("activity_date missing or not YYYY-MM-DD".into())
        } else if get_str(doc, &o, "title").is_none_or(|t| t.trim().is_empty()) {
            Some("title missing or not text".into())
        } else {
            let note = Note {
                id: key.clone(),
                activity_date: get_str(doc, &o, "activity_date").unwrap_or_default(),
                title: get_str(doc, &o, "title").unwrap_or_default(),
                content: get_str(doc, &o, "content").unwrap_or_default(),
                task_id: None,
                author: String::new(),
                created_at: 0,
            };
            validate_note(&note).err().map(str::to_string)
        };
        if let Some(r) = reason {
            bad.push((key, r));
        }
    }
    bad
}

/// A node of the org tree: the root (province or district), a commune, or a hamlet.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OrgNode {
    pub id: String,
    pub name: String,
    /// `root`, `commune` or `hamlet`.
    pub level: String,
    pub parent: Option<String>,
}

pub fn put_org_node(doc: &mut Automerge, node: &OrgNode) -> Result<(), automerge::AutomergeError> {
    put_entry(
        doc,
        DocKind::Org,
        &node.id,
        &[
            ("name", Some(node.name.as_str())),
            ("level", Some(node.level.as_str())),
            ("parent", node.parent.as_deref()),
        ],
    )
}

pub fn read_org(doc: &Automerge) -> Vec<OrgNode> {
    let mut out: Vec<OrgNode> = entries(doc, DocKind::Org)
        .into_iter()
        .map(|(id, o)| OrgNode {
            name: get_str(doc, &o, "name").unwrap_or_default(),
            level: get_str(doc, &o, "level").unwrap_or_default(),
            parent: get_str(doc, &o, "parent"),
            id,
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// A task of a plan (the foundation keeps number, title and text; issue 3 adds the rest).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Task {
    pub id: String,
    /// As in the document, e.g. `II.4`.
    pub number: String,
    pub title: String,
    pub text: String,
    /// Position in the document, for display order.
    pub order: i64,
    /// `YYYY-MM-DD`, if the plan sets one (set separately: see [`set_task_deadline`]).
    #[serde(default)]
    pub deadline: Option<String>,
}

pub fn put_task(doc: &mut Automerge, task: &Task) -> Result<(), automerge::AutomergeError> {
    let order = task.order.to_string();
    let mut fields = vec![
        ("number", Some(task.number.as_str())),
        ("title", Some(task.title.as_str())),
        ("text", Some(task.text.as_str())),
        ("order", Some(order.as_str())),
    ];
    // Only a known deadline is written: re-publishing a task must not clear one set meanwhile.
    if let Some(d) = &task.deadline {
        fields.push(("deadline", Some(d.as_str())));
    }
    put_entry(doc, DocKind::Plan, &task.id, &fields)
}

pub fn read_tasks(doc: &Automerge) -> Vec<Task> {
    let mut out: Vec<Task> = entries(doc, DocKind::Plan)
        .into_iter()
        .map(|(id, o)| Task {
            number: get_str(doc, &o, "number").unwrap_or_default(),
            title: get_str(doc, &o, "title").unwrap_or_default(),
            text: get_str(doc, &o, "text").unwrap_or_default(),
            order: get_str(doc, &o, "order")
                .and_then(|s| s.parse().ok())
                .unwrap_or(i64::MAX),
            deadline: get_str(doc, &o, "deadline"),
            id,
        })
        .collect();
    out.sort_by_key(|t| t.order);
    out
}

/// Set or clear a task's deadline (an editor's change; only that field is written, so it merges with
/// concurrent edits of the task's other fields and with the communes' progress).
pub fn set_task_deadline(
    doc: &mut Automerge,
    task_id: &str,
    deadline: Option<&str>,
) -> Result<(), automerge::AutomergeError> {
    put_entry(doc, DocKind::Plan, task_id, &[("deadline", deadline)])
}

/// One unit's progress on one task in one commune (DESIGN §3). Each unit writes its own entry,
/// keyed `task@unit`, so the lead and the coordinating units never overwrite each other.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ProgressRecord {
    pub task_id: String,
    pub unit: String,
    /// 0–100.
    pub percent: u8,
    pub remark: String,
    /// Who recorded it, and when (Unix ms).
    pub by: String,
    pub at: i64,
    pub done_at: Option<i64>,
}

pub fn put_progress(
    doc: &mut Automerge,
    r: &ProgressRecord,
) -> Result<(), automerge::AutomergeError> {
    let key = format!("{}@{}", r.task_id, r.unit);
    doc.transact_with::<_, _, automerge::AutomergeError, _>(
        |_| CommitOptions::default().with_time(r.at.div_euclid(1000)),
        |tx| {
            let e = entry_obj(tx, DocKind::Progress, &key)?;
            tx.put(&e, "task_id", r.task_id.as_str())?;
            tx.put(&e, "unit", r.unit.as_str())?;
            tx.put(&e, "percent", i64::from(r.percent.min(100)))?;
            tx.put(&e, "remark", r.remark.as_str())?;
            tx.put(&e, "by", r.by.as_str())?;
            tx.put(&e, "at", ScalarValue::Timestamp(r.at))?;
            match r.done_at {
                Some(t) => tx.put(&e, "done_at", ScalarValue::Timestamp(t))?,
                None => tx.put(&e, "done_at", ScalarValue::Null)?,
            }
            Ok(())
        },
    )
    .map_err(|f| f.error)?;
    Ok(())
}

pub fn read_progress(doc: &Automerge) -> Vec<ProgressRecord> {
    let mut out: Vec<ProgressRecord> = entries(doc, DocKind::Progress)
        .into_iter()
        .filter_map(|(_, o)| {
            Some(ProgressRecord {
                task_id: get_str(doc, &o, "task_id")?,
                unit: get_str(doc, &o, "unit")?,
                percent: get_i64(doc, &o, "percent").unwrap_or(0).clamp(0, 100) as u8,
                remark: get_str(doc, &o, "remark").unwrap_or_default(),
                by: get_str(doc, &o, "by").unwrap_or_default(),
                at: get_i64(doc, &o, "at").unwrap_or(0),
                done_at: get_i64(doc, &o, "done_at"),
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.task_id, &a.unit).cmp(&(&b.task_id, &b.unit)));
    out
}

/// Set a plan's header fields (title, number).
pub fn put_root_str(
    doc: &mut Automerge,
    key: &str,
    value: &str,
) -> Result<(), automerge::AutomergeError> {
    doc.transact::<_, _, automerge::AutomergeError>(|tx| tx.put(ROOT, key, value).map(|_| ()))
        .map_err(|f| f.error)?;
    Ok(())
}

/// The map of entry `key` in a kind's container, created if absent. Fails if the document has no
/// container (not our schema, or no genesis yet).
fn entry_obj(
    tx: &mut automerge::transaction::Transaction<'_>,
    kind: DocKind,
    key: &str,
) -> Result<ObjId, automerge::AutomergeError> {
    let c = match tx.get(ROOT, container(kind))? {
        Some((Value::Object(ObjType::Map), c)) => c,
        _ => {
            return Err(automerge::AutomergeError::InvalidObjId(
                container(kind).into(),
            ));
        }
    };
    match tx.get(&c, key)? {
        Some((Value::Object(ObjType::Map), e)) => Ok(e),
        _ => tx.put_object(&c, key, ObjType::Map),
    }
}

fn put_entry(
    doc: &mut Automerge,
    kind: DocKind,
    id: &str,
    fields: &[(&str, Option<&str>)],
) -> Result<(), automerge::AutomergeError> {
    doc.transact::<_, _, automerge::AutomergeError>(|tx| {
        let e = entry_obj(tx, kind, id)?;
        for (k, v) in fields {
            match v {
                Some(v) => tx.put(&e, *k, *v)?,
                None => tx.put(&e, *k, ScalarValue::Null)?,
            }
        }
        Ok(())
    })
    .map_err(|f| f.error)?;
    Ok(())
}

/// How many changes of `doc` are not yet covered by the server's durable heads.
///
/// Heads the device does not know yet (the server has changes we have not received) say nothing about
/// our changes and are ignored. The genesis change carries no user data and is never counted.
pub fn unsynced_changes(doc: &Automerge, durable_heads: &[ChangeHash]) -> usize {
    let known: Vec<ChangeHash> = durable_heads
        .iter()
        .copied()
        .filter(|h| doc.get_change_by_hash(h).is_some())
        .collect();
    let genesis = doc_key_of(doc).map(|k| genesis_actor(&k));
    doc.get_changes_meta(&known)
        .iter()
        .filter(|c| Some(&*c.actor) != genesis.as_ref())
        .count()
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
            task_id: Some("t-2-4".into()),
            author: "kadon".into(),
            created_at: 1_795_700_000_000,
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
    }
}
