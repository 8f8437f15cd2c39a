//! What the screens show (Leptos signals) and the login session kept on the device.

use leptos::prelude::*;
use shared::api::{CommuneOverview, DocEntry, UserInfo};
use shared::schema::{Note, OrgNode, PlanHeader, ProgressRecord, Task};
use shared::vocab::Role;
use std::sync::Arc;

/// Who is logged in on this device. The token itself is an HttpOnly cookie the app never sees.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Session {
    pub peer_id: String,
    pub user: UserInfo,
    #[serde(default)]
    pub docs: Vec<DocEntry>,
}

const SESSION_KEY: &str = "danvan.session";

impl Session {
    pub fn load() -> Option<Session> {
        serde_json::from_str(&crate::js::dom::local_get(SESSION_KEY)?).ok()
    }
    /// Keep the session for the next start (which may be offline); `Err` if the browser refuses.
    pub fn save(&self) -> Result<(), String> {
        crate::js::dom::local_set(
            SESSION_KEY,
            &serde_json::to_string(self).unwrap_or_default(),
        )
    }
    pub fn clear() -> Result<(), String> {
        crate::js::dom::local_remove(SESSION_KEY)
    }
    pub fn is_member(&self) -> bool {
        self.user.role == Role::Member
    }
}

/// A plan as the screens show it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanView {
    pub id: String,
    pub header: PlanHeader,
    pub tasks: Vec<Task>,
    /// Whether this device may edit it (plan editors).
    pub writable: bool,
}

impl Ui {
    /// Display name of an org node or unit kind.
    pub fn node_name(&self, id: &str) -> String {
        self.org
            .with_untracked(|o| o.iter().find(|n| n.id == id).map(|n| n.name.clone()))
            .unwrap_or_else(|| unit_kind_name(id))
    }
}

/// The Vietnamese name of a unit kind (`hoi-nong-dan` → Hội Nông dân), or the kind itself.
pub fn unit_kind_name(kind: &str) -> String {
    shared::schema::UNIT_KINDS
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map_or_else(|| kind.to_string(), |(_, vi, _)| vi.to_string())
}

/// A unit kind's name in the device's language (read now, like `tr`), or the kind itself.
pub fn unit_kind_label(kind: &str) -> String {
    shared::schema::UNIT_KINDS
        .iter()
        .find(|(k, _, _)| *k == kind)
        .map_or_else(
            || kind.to_string(),
            |(_, vi, en_text)| crate::common::i18n::tr(vi, en_text).to_string(),
        )
}

/// A note as the notes list holds it: with its searchable text folded once, when read, so a search
/// over a busy quarter folds only what is typed.
#[derive(Debug, PartialEq)]
pub struct ListedNote {
    pub note: Note,
    /// Title, content, results and petitions, folded (`shared::text::fold`).
    pub folded: String,
}

impl ListedNote {
    pub fn new(note: Note) -> ListedNote {
        let mut text = format!("{} {} {}", note.title, note.content, note.results);
        for p in &note.petitions {
            text.push(' ');
            text.push_str(&p.text);
        }
        ListedNote {
            folded: shared::text::fold(&text),
            note,
        }
    }
}

impl std::ops::Deref for ListedNote {
    type Target = Note;
    fn deref(&self) -> &Note {
        &self.note
    }
}

/// Every signal the screens read. `Copy`, so handlers can capture it freely.
#[derive(Clone, Copy)]
pub struct Ui {
    pub session: RwSignal<Option<Session>>,
    /// The server no longer accepts this device's login (revoked, password changed, account
    /// disabled or expired): sync stops, the data stays, export and a new login remain.
    pub signed_out: RwSignal<bool>,
    pub ready: RwSignal<bool>,
    pub online: RwSignal<bool>,
    pub unsynced: RwSignal<usize>,
    pub persistent: RwSignal<Option<bool>>,
    /// Shared, not copied: a save rebuilds the list from the notes it did not touch by reference.
    pub notes: RwSignal<Vec<Arc<ListedNote>>>,
    /// Notes documents are still being read (a busy quarter takes a few seconds on a cheap phone).
    pub notes_loading: RwSignal<bool>,
    /// The tasks of every plan on the device (removed ones included: screens filter).
    pub tasks: RwSignal<Vec<Task>>,
    pub plans: RwSignal<Vec<PlanView>>,
    /// Progress records with their commune (a member's device holds its own commune's only).
    pub progress: RwSignal<Vec<(String, ProgressRecord)>>,
    pub org: RwSignal<Vec<OrgNode>>,
    /// Whether this device may edit the org tree (administrators).
    pub org_writable: RwSignal<bool>,
    pub overview: RwSignal<Vec<CommuneOverview>>,
    pub banner: RwSignal<Option<String>>,
    /// Photos on the device: (sha256, uploaded, size).
    pub photos: RwSignal<Vec<(String, bool, u64)>>,
    /// Last time the server confirmed what is durable (device ms), and the oldest unconfirmed change.
    pub last_sync: RwSignal<Option<i64>>,
    pub oldest_unsynced: RwSignal<Option<i64>>,
    /// A new version of the app is installed and waits for the user's tap.
    pub update_ready: RwSignal<bool>,
    /// The browser offers installing the app.
    pub can_install: RwSignal<bool>,
    /// The ID of a note saved while its draft could not be replaced by a fresh one: that draft,
    /// still kept on the device, must not come back as a new note (saving it would overwrite the
    /// saved one).
    pub saved_draft: RwSignal<Option<String>>,
}

impl Ui {
    pub fn new() -> Self {
        Ui {
            signed_out: RwSignal::new(false),
            session: RwSignal::new(None),
            ready: RwSignal::new(false),
            online: RwSignal::new(false),
            unsynced: RwSignal::new(0),
            persistent: RwSignal::new(None),
            notes: RwSignal::new(Vec::new()),
            notes_loading: RwSignal::new(false),
            tasks: RwSignal::new(Vec::new()),
            plans: RwSignal::new(Vec::new()),
            progress: RwSignal::new(Vec::new()),
            org: RwSignal::new(Vec::new()),
            org_writable: RwSignal::new(false),
            overview: RwSignal::new(Vec::new()),
            banner: RwSignal::new(None),
            photos: RwSignal::new(Vec::new()),
            last_sync: RwSignal::new(None),
            oldest_unsynced: RwSignal::new(None),
            update_ready: RwSignal::new(false),
            can_install: RwSignal::new(false),
            saved_draft: RwSignal::new(None),
        }
    }
}
