//! Field notes (DESIGN §4): participants, petitions, position, and the checks a note passes before
//! it is written (messages shown to the user, in Vietnamese).

use super::entry::{Entry, container_obj, read_entries, read_entry, reconcile_entry};
use super::{SchemaError, hydrate as am, write};
use crate::ids::DocKind;
use crate::vocab::{ActivityType, PetitionStatus};
use automerge::transaction::Transactable;
use automerge::{Automerge, ObjId, ScalarValue};
use autosurgeon::{Hydrate, HydrateError, ReadDoc, Reconcile};

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
    #[autosurgeon(missing = "PetitionStatus::default", hydrate = "am::word")]
    pub status: PetitionStatus,
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

impl Gps {
    /// `11.81234, 108.51234 (± 12 m)`, formatted by hand: `{:.5}` pulls in the exact float
    /// formatter (several KB of the phone's download for two numbers).
    pub fn text(&self) -> String {
        fn deg(v: f64) -> String {
            let n = (v * 100_000.0).round() as i64;
            let sign = if n < 0 { "-" } else { "" };
            format!("{sign}{}.{:05}", n.abs() / 100_000, n.abs() % 100_000)
        }
        format!(
            "{}, {} (± {} m)",
            deg(self.lat),
            deg(self.lon),
            self.accuracy_m.round() as i64
        )
    }
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
    #[autosurgeon(hydrate = "am::opt_word")]
    pub activity_type: Option<ActivityType>,
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

/// A hydrated note as readers see it: `None` if deleted or invalid; version-1 links filled in.
fn live<D: ReadDoc>(doc: &D, mut n: Note) -> Option<Note> {
    if n.deleted || validate_note(&n).is_err() {
        return None;
    }
    v1_task_ids(doc, &mut n);
    Some(n)
}

/// One live note by key (as [`read_notes`] would list it), or `None`.
pub fn read_note<D: ReadDoc>(doc: &D, key: &str) -> Option<Note> {
    live(doc, read_entry::<Note, _>(doc, key)?)
}

/// The live (not deleted, schema-valid) notes of a notes document, newest activity first.
pub fn read_notes<D: ReadDoc>(doc: &D) -> Vec<Note> {
    let mut out: Vec<Note> = read_entries::<Note, _>(doc)
        .0
        .into_iter()
        .filter_map(|n| live(doc, n))
        .collect();
    out.sort_by(|a, b| (&b.activity_date, &b.id).cmp(&(&a.activity_date, &a.id)));
    out
}

#[cfg(test)]
mod tests {
    use super::super::genesis_doc;
    use super::super::tests::note;
    use super::*;
    use crate::ids::{DocKey, Quarter};

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
    fn both_ways_of_naming_changed_notes_agree() {
        use crate::schema::{changed_keys, changed_keys_by_ops, update_entry};
        let key = DocKey::notes("xa-ka-don", Quarter { year: 2026, q: 4 });
        let mut doc = genesis_doc(&key).unwrap();
        for i in 0..20 {
            put_note(&mut doc, &note(&format!("01N{i:02}"), "x")).unwrap();
        }
        let mut rng = 7u64;
        for round in 0..40 {
            let before = doc.get_heads();
            // A few edits per round: new notes, fields (petitions are a list inside the note),
            // deletes, and a merge of a concurrent fork.
            for _ in 0..3 {
                rng = rng
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let id = format!("01N{:02}", (rng >> 33) % 24);
                match (rng >> 40) % 4 {
                    0 => put_note(&mut doc, &note(&id, "new")).unwrap(),
                    1 => update_entry::<Note>(&mut doc, &id, |n| n.title = format!("t{round}"))
                        .map(|_| ())
                        .unwrap_or(()),
                    2 => update_entry::<Note>(&mut doc, &id, |n| {
                        n.petitions.push(Petition {
                            text: format!("p{round}"),
                            ..Petition::default()
                        })
                    })
                    .map(|_| ())
                    .unwrap_or(()),
                    _ => {
                        let mut other = doc.fork().with_actor(automerge::ActorId::random());
                        update_entry::<Note>(&mut other, &id, |n| n.deleted = true)
                            .map(|_| ())
                            .unwrap_or(());
                        doc.merge(&mut other).unwrap();
                    }
                }
            }
            assert_eq!(
                changed_keys_by_ops(&doc, DocKind::Notes, &before),
                changed_keys(&doc, DocKind::Notes, &before),
                "round {round}"
            );
        }
        let unknown = [automerge::ChangeHash([9; 32])];
        assert_eq!(changed_keys_by_ops(&doc, DocKind::Notes, &unknown), None);
    }

    #[test]
    fn changed_keys_name_exactly_the_notes_a_change_touched() {
        use crate::schema::{changed_keys, update_entry};
        let key = DocKey::notes("xa-ka-don", Quarter { year: 2026, q: 4 });
        let mut doc = genesis_doc(&key).unwrap();
        put_note(&mut doc, &note("01A", "a")).unwrap();
        put_note(&mut doc, &note("01B", "b")).unwrap();
        let before = doc.get_heads();
        assert_eq!(
            changed_keys(&doc, DocKind::Notes, &before),
            Some(Default::default())
        );
        put_note(&mut doc, &note("01C", "c")).unwrap();
        update_entry::<Note>(&mut doc, "01A", |n| n.title = "a2".into()).unwrap();
        update_entry::<Note>(&mut doc, "01B", |n| n.deleted = true).unwrap();
        let changed = changed_keys(&doc, DocKind::Notes, &before).unwrap();
        assert_eq!(
            changed.into_iter().collect::<Vec<_>>(),
            ["01A", "01B", "01C"]
        );
        assert_eq!(read_note(&doc, "01B"), None, "a deleted note is not live");
        assert_eq!(read_note(&doc, "01A").unwrap().title, "a2");
        // Heads this document does not have: only a full read can tell.
        let unknown = [automerge::ChangeHash([9; 32])];
        assert_eq!(changed_keys(&doc, DocKind::Notes, &unknown), None);
    }
}
