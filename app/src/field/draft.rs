//! The note form's draft: what the form holds, kept in IndexedDB as the user types (a reload, an
//! update or a dead battery loses nothing), and the note it becomes on save.

use crate::common::i18n::tr;
use crate::js;
use crate::js::dom;
use shared::ids::vn_civil_date;
use shared::schema::{self, Gps, Note, Participants, Petition};
use shared::vocab::ActivityType;

/// Where the draft is kept (IndexedDB meta).
const DRAFT_KEY: &str = "note-draft";

fn new_note_id() -> String {
    let mut rand = [0u8; 10];
    // A failure of the browser's RNG leaves zeros: the millisecond time still separates notes.
    let _ = getrandom::fill(&mut rand);
    shared::ids::ulid(dom::now_ms() as u64, rand)
}

fn today_iso() -> String {
    let (y, m, d) = vn_civil_date(dom::now_ms());
    format!("{y:04}-{m:02}-{d:02}")
}

/// What the form holds, autosaved on the device as the user types.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct NoteDraft {
    /// The note's ID, fixed when the draft starts: saving the same draft twice (a crash between the
    /// save and clearing the draft) overwrites one note instead of creating a duplicate.
    pub id: Option<String>,
    /// Editing an existing note (rather than a new one).
    pub editing: bool,
    pub created_at: Option<i64>,
    pub activity_date: String,
    pub title: String,
    pub hamlet: String,
    pub activity_type: String,
    pub unit: String,
    pub task_ids: Vec<String>,
    pub total: String,
    pub women: String,
    pub ethnic: String,
    pub religious: String,
    pub content: String,
    pub results: String,
    pub petitions: Vec<Petition>,
    pub gps: Option<Gps>,
    pub photos: Vec<String>,
}

impl NoteDraft {
    /// A new note's draft: today, a new ID, and the member's unit (if their account names one).
    pub fn fresh(unit: Option<&str>) -> Self {
        NoteDraft {
            id: Some(new_note_id()),
            activity_date: today_iso(),
            unit: unit.unwrap_or_default().to_string(),
            ..NoteDraft::default()
        }
    }

    pub fn from_note(n: &Note) -> Self {
        let num = |v: i64| if v == 0 { String::new() } else { v.to_string() };
        NoteDraft {
            id: Some(n.id.clone()),
            editing: true,
            created_at: Some(n.created_at),
            activity_date: n.activity_date.clone(),
            title: n.title.clone(),
            hamlet: n.hamlet.clone().unwrap_or_default(),
            activity_type: n
                .activity_type
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            unit: n.unit.clone().unwrap_or_default(),
            task_ids: n.task_ids.clone(),
            total: num(n.participants.total),
            women: num(n.participants.women),
            ethnic: num(n.participants.ethnic_minority),
            religious: num(n.participants.religious),
            content: n.content.clone(),
            results: n.results.clone(),
            petitions: n.petitions.clone(),
            gps: n.gps,
            photos: n.photos.clone(),
        }
    }

    /// The note this draft describes, or the message to show.
    pub fn to_note(&self, author: String) -> Result<Note, String> {
        let num = |s: &str, what: &'static str| -> Result<i64, String> {
            let s = s.trim();
            if s.is_empty() {
                return Ok(0);
            }
            s.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
                format!(
                    "{what}: {}",
                    tr("phải là số nguyên không âm.", "must be a whole number ≥ 0.")
                )
            })
        };
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        let note = Note {
            id: self.id.clone().unwrap_or_else(new_note_id),
            activity_date: self.activity_date.clone(),
            title: self.title.trim().to_string(),
            content: self.content.clone(),
            task_ids: self.task_ids.clone(),
            hamlet: opt(&self.hamlet),
            activity_type: opt(&self.activity_type).map(|k| ActivityType::parse(&k)),
            unit: opt(&self.unit),
            participants: Participants {
                total: num(&self.total, tr("Tổng số người tham dự", "Participants"))?,
                women: num(&self.women, tr("Số nữ", "Women"))?,
                ethnic_minority: num(&self.ethnic, tr("Dân tộc thiểu số", "Ethnic minority"))?,
                religious: num(&self.religious, tr("Tôn giáo", "Religious"))?,
            },
            results: self.results.clone(),
            petitions: self
                .petitions
                .iter()
                .filter(|p| !p.text.trim().is_empty())
                .cloned()
                .collect(),
            gps: self.gps,
            photos: self.photos.clone(),
            author,
            created_at: self.created_at.unwrap_or_else(dom::now_ms),
            deleted: false,
        };
        schema::validate_note(&note).map_err(str::to_string)?;
        Ok(note)
    }
}

/// The draft kept on the device: `Ok(None)` if there is none (or it is not a draft this version
/// reads), `Err` if IndexedDB cannot be read.
pub async fn load() -> Result<Option<NoteDraft>, String> {
    Ok(js::get_meta(DRAFT_KEY)
        .await?
        .and_then(|s| serde_json::from_str(&s).ok()))
}

/// Keep `draft` on the device, replacing the one kept before; `Err` if IndexedDB refuses.
pub async fn store(draft: &NoteDraft) -> Result<(), String> {
    js::set_meta(DRAFT_KEY, &serde_json::to_string(draft).unwrap_or_default()).await
}
