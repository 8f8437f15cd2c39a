//! The HTTP contract between the server and the app: every request and response body of `/api/*`,
//! declared once, serialised by the server and read by the app. `docs/contract.md` describes the
//! same bodies as they look on the wire.

use crate::ids::{DocKey, DocKind};
use crate::schema::{Note, Participants};
use crate::vocab::{ActivityType, DocAccess, PetitionStatus, Recurrence, Role, SectionKind};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::HashMap;

/// `POST /api/login`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// Who is logged in on this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub node_id: String,
    /// The commune a member works in; `None` for the aggregating level.
    pub commune_id: Option<String>,
    /// The unit a member works for (an org kind such as `hoi-nong-dan`): forms start with it.
    #[serde(default)]
    pub unit: Option<String>,
    /// Whether the user reads the communes' work (viewers; administrators and editors only when
    /// they also hold the viewer role): the office shows its figures only then.
    #[serde(default)]
    pub reads_communes: bool,
    /// The user signed in with a one-time password an administrator gave them and must choose
    /// their own (the app opens the password page).
    #[serde(default)]
    pub must_change: bool,
}

/// The answer to a login: a device token (also set as a cookie) and the device's peer ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginResponse {
    pub token: String,
    pub peer_id: String,
    /// Unix milliseconds.
    pub expires_at: i64,
    pub user: UserInfo,
}

/// `GET /api/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MeResponse {
    pub peer_id: String,
    pub user: UserInfo,
}

/// `POST /api/logout`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogoutResponse {
    pub ok: bool,
}

/// One document a device may hold, and what it may do with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocEntry {
    pub doc_id: String,
    /// `None` for a kind this version does not know (a newer server's): such an entry has no
    /// [`DocEntry::key`] and the app leaves it alone.
    #[serde(deserialize_with = "known_kind")]
    pub kind: Option<DocKind>,
    pub scope: String,
    pub period: String,
    pub access: DocAccess,
}

impl DocEntry {
    pub fn writable(&self) -> bool {
        self.access == DocAccess::ReadWrite
    }

    /// The entry's key, if the ID rule agrees with the ID the server listed (a device trusts the
    /// list only that far).
    pub fn key(&self) -> Option<DocKey> {
        let key = DocKey {
            kind: self.kind?,
            scope: self.scope.clone(),
            period: self.period.clone(),
        };
        (key.doc_id().to_string() == self.doc_id).then_some(key)
    }
}

/// `GET /api/docs`. An entry of a kind this version does not know is read, not an error: a newer
/// server may list documents an older app cannot use yet.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DocsResponse {
    pub docs: Vec<DocEntry>,
}

/// Document ID → heads (hex change hashes). A `HashMap`, as the app keeps them: a `BTreeMap` here
/// would add its code to the phone's download for nothing.
pub type HeadsMap = HashMap<String, Vec<String>>;

/// `GET /api/durable-heads`: the heads of each readable document as committed on the server.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DurableHeads {
    pub heads: HeadsMap,
    /// The server's clock (Unix ms), for the phone's clock check.
    pub server_time: i64,
}

/// `POST /api/durable-heads`: the device's heads per document. Generic so the app can send a
/// borrowed map (`&HeadsMap`) without copying it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DurableCheckRequest<H = HeadsMap> {
    pub have: H,
}

/// The answer: the durable heads, and per document the device named whether its heads are durable.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DurableCheckResponse {
    pub heads: HeadsMap,
    pub covered: HashMap<String, bool>,
    pub server_time: i64,
}

/// One commune in `GET /api/overview`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommuneOverview {
    pub commune_id: String,
    pub name: String,
    pub notes: i64,
    /// Unix milliseconds of the last change from this commune stored on the server.
    pub last_sync: Option<i64>,
}

/// `GET /api/overview`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OverviewResponse {
    pub communes: Vec<CommuneOverview>,
    /// Progress records whose "done" the server judges at another time than the device said
    /// (see [`crate::status::judged_done`]); usually none.
    #[serde(default)]
    pub judged: Vec<JudgedDone>,
}

/// A progress record's "done" as the server judges it: the record is (commune, task, unit, at).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JudgedDone {
    pub commune: String,
    pub task: String,
    pub unit: String,
    /// The record's own time (which version of it).
    pub at: i64,
    pub done_at: i64,
}

impl JudgedDone {
    /// Apply to `r` (of `commune`) if it is the record meant.
    pub fn apply(list: &[JudgedDone], commune: &str, r: &mut crate::schema::ProgressRecord) {
        if let Some(j) = list.iter().find(|j| {
            j.commune == commune && j.task == r.task_id && j.unit == r.unit && j.at == r.at
        }) {
            r.done_at = Some(j.done_at);
        }
    }
}

/// An entry of a document that breaks the schema, kept in the document and left out of counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineEntry {
    pub doc_id: String,
    /// Absent when the document is not (yet) in the index.
    pub kind: Option<String>,
    pub scope: Option<String>,
    pub period: Option<String>,
    pub entry: String,
    pub reason: String,
    /// Unix milliseconds.
    pub first_seen: i64,
}

/// `GET /api/quarantine` (administrators).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct QuarantineResponse {
    pub entries: Vec<QuarantineEntry>,
}

/// `POST /api/plans/import`: a plan read from its text or .docx, for an editor to review.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct PlanDraft {
    /// The document type line, e.g. `KẾ HOẠCH`.
    pub doc_type: Option<String>,
    /// Number and symbol, e.g. `45-KH/HU`.
    pub number: Option<String>,
    pub title: String,
    pub issuer: Option<String>,
    pub place: Option<String>,
    /// ISO `YYYY-MM-DD`.
    pub date: Option<String>,
    pub basis: Vec<DraftBasis>,
    /// The opening paragraphs before the first section, verbatim.
    pub preamble: Vec<String>,
    pub sections: Vec<DraftSection>,
    pub recipients: Vec<String>,
    pub signer: Option<Signer>,
    /// Paragraphs the importer could not place; they are also kept in the nearest text.
    pub unclassified: Vec<String>,
}

/// A basis document the plan cites (căn cứ).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftBasis {
    /// `Chỉ thị`, `Nghị quyết`, `Quyết định`, ...
    pub kind: String,
    /// Number and symbol, e.g. `18-CT/TU`.
    pub code: String,
    pub date: Option<String>,
    pub issuer: Option<String>,
    pub title: Option<String>,
}

/// A numbered section of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftSection {
    /// Roman numeral, e.g. `II`.
    pub number: String,
    pub title: String,
    pub kind: SectionKind,
    /// Text between the section heading and its first item.
    pub intro: String,
    pub tasks: Vec<TaskDraft>,
}

/// A task as the importer read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDraft {
    /// Position in the document: `II.4`, `II.4.3`, `III.5`.
    pub number: String,
    pub title: String,
    pub text: String,
    pub lead_units: Vec<String>,
    pub partner_units: Vec<String>,
    pub recurrence: Option<Recurrence>,
    /// ISO date of a "trước ngày ..." deadline.
    pub deadline: Option<String>,
    pub children: Vec<TaskDraft>,
}

/// Who signs the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    /// `T/M BAN THƯỜNG VỤ`, `K/T CHỦ TỊCH`, ...
    pub on_behalf: Option<String>,
    /// `BÍ THƯ`, `PHÓ CHỦ TỊCH`, ...
    pub title: Option<String>,
    pub name: Option<String>,
}

/// What a publication changed in the plan document.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PublishSummary {
    pub revision: i64,
    pub tasks: usize,
    pub added: usize,
    pub updated: usize,
    pub removed: usize,
}

/// `POST /api/plans/publish`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishResponse {
    pub plan_id: String,
    pub doc_id: String,
    pub summary: PublishSummary,
}

/// The filters of the office's endpoints (`/api/office/*`), as query parameters. Dates are
/// `YYYY-MM-DD` (inclusive); without them, the current quarter.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OfficeQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub commune: Option<String>,
    pub task: Option<String>,
    /// Words that must all occur (accents and case ignored).
    pub q: Option<String>,
    /// A petition status (`/api/office/petitions`).
    pub status: Option<PetitionStatus>,
    /// Only petitions still open: neither answered nor referred (`/api/office/petitions`; the
    /// overview's "open" figure counts these).
    pub open: Option<bool>,
    pub offset: Option<u32>,
    /// A commune without a device's change for this many days is stale (default 14).
    pub stale_days: Option<u32>,
}

/// Petitions by follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PetitionCounts {
    /// Received or in progress.
    pub open: i64,
    pub answered: i64,
    /// Referred to the competent level.
    pub referred: i64,
}

/// The figures of one commune (or of all in scope) over a period.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Figures {
    pub notes: i64,
    pub participants: Participants,
    pub petitions: PetitionCounts,
    pub photos: i64,
}

/// One commune in `GET /api/office/summary`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommuneSummary {
    pub commune_id: String,
    pub name: String,
    pub figures: Figures,
    /// Unix ms of the last change a device made to this commune's documents.
    pub last_sync: Option<i64>,
    /// The latest activity date of its notes (any period).
    pub last_note: Option<String>,
    /// No device change for `stale_days`, or no note in the period.
    pub stale: bool,
}

/// Notes and participants of one activity type over a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityCount {
    /// `None`: notes recorded without a type.
    pub activity_type: Option<ActivityType>,
    pub notes: i64,
    pub participants: i64,
}

/// Notes whose activity date falls in one week.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeekCount {
    /// The week's Monday (ISO date).
    pub monday: String,
    pub notes: i64,
}

/// `GET /api/office/summary`: the communes in the user's scope over a period, stale ones first.
/// (Fields a newer server adds may be missing from a copy an older one cached: they default.)
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct OfficeSummary {
    pub from: String,
    pub to: String,
    pub stale_days: u32,
    /// The sums over `communes` (they add up: a test holds the server to it).
    pub totals: Figures,
    pub communes: Vec<CommuneSummary>,
    /// The same notes by activity type, most notes first (they add up to `totals.notes`).
    pub activities: Vec<ActivityCount>,
    /// The same notes by the week of their activity date, oldest first (weeks without a note
    /// left out; they add up to `totals.notes`).
    pub weeks: Vec<WeekCount>,
    /// Unix ms when these figures were read.
    pub as_of: i64,
}

/// A note as the office reads it, with where it comes from.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OfficeNote {
    pub doc_id: String,
    pub commune_id: String,
    pub commune_name: String,
    pub note: Note,
    /// When the server first received the note (its own clock, Unix ms); the device's time is
    /// `note.created_at`.
    #[serde(default)]
    pub received_at: Option<i64>,
}

/// `GET /api/office/notes`: notes in scope matching the filters, newest activity first, a page
/// of at most [`OFFICE_PAGE`] from `offset`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OfficeNotes {
    pub total: i64,
    pub offset: u32,
    pub notes: Vec<OfficeNote>,
}

/// The most rows an office list answers at once.
pub const OFFICE_PAGE: u32 = 50;

/// A petition in the register.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PetitionEntry {
    pub commune_id: String,
    pub commune_name: String,
    pub note_id: String,
    pub activity_date: String,
    pub text: String,
    pub status: PetitionStatus,
}

/// `GET /api/office/petitions`: the petitions register (filters as for notes, plus `status`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OfficePetitions {
    pub total: i64,
    pub offset: u32,
    pub petitions: Vec<PetitionEntry>,
}

/// `PUT /api/blobs/{sha256}` and `GET /api/blobs/{sha256}/status`: how far a photo's upload is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlobState {
    pub sha256: String,
    pub complete: bool,
    /// The blob's size, once complete (in the answer to the upload that completed it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// The bytes received so far: where the next chunk starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
    /// The size the upload announced, if it started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
}

/// Every error answer: a message for people (and, for a chunk at the wrong place, where to resume).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<u64>,
}

/// A document kind, or `None` for one this version does not know. (Not a lenient list of
/// entries: that would need `serde_json::Value`, kilobytes of the phone's download.)
fn known_kind<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DocKind>, D::Error> {
    let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    Ok(DocKind::parse(&s))
}

// --- Accounts and devices (the admin's screens) -----------------------------------------------------

/// One device a user is logged in on: one token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    pub token_id: i64,
    pub peer_id: String,
    /// The browser's `User-Agent` at login, as sent.
    pub user_agent: String,
    /// The app version the device said it runs at login (`x-danvan-version`), if any.
    pub app_version: String,
    /// Unix milliseconds.
    pub first_seen: i64,
    /// Unix milliseconds of the last request (kept to the minute); `None` if none since login.
    pub last_seen: Option<i64>,
    pub last_addr: String,
    pub expires_at: i64,
}

/// A user as an administrator sees them (never their password hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminUser {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub node_id: String,
    /// The unit a member works for (an org kind such as `hoi-nong-dan`), if any.
    pub unit: Option<String>,
    /// An administrator or editor who also holds the viewer role (reads the communes' work).
    pub also_viewer: bool,
    pub disabled: bool,
    /// Still on a one-time password from an administrator.
    #[serde(default)]
    pub must_change: bool,
    pub devices: Vec<Device>,
}

/// `GET /api/admin/users`: the users under the administrator's node.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AdminUsers {
    pub users: Vec<AdminUser>,
}

/// `POST /api/admin/users`: a new user; the answer holds a one-time password, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub node_id: String,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub also_viewer: bool,
}

/// `POST /api/admin/users/{id}`: what to change (absent fields stay; `unit: ""` clears the unit).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct UserEdit {
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub node_id: Option<String>,
    #[serde(default)]
    pub unit: Option<String>,
    #[serde(default)]
    pub disabled: Option<bool>,
    #[serde(default)]
    pub also_viewer: Option<bool>,
}

/// The answer to a user's creation or password reset: the one-time password, shown once and
/// never stored in clear.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimePassword {
    pub user: AdminUser,
    pub password: String,
}

/// `POST /api/password`: a user changes their own password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChange {
    pub old: String,
    pub new: String,
}

/// The answer to a password change: how many other devices were signed out, and this one's new
/// token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChanged {
    pub signed_out: usize,
    /// This device's new token (also set as the cookie): the one presented with the old password
    /// stops working.
    pub token: String,
}

/// One entry of the audit log: who did what to what, from where. Never a password or note text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: i64,
    /// Unix milliseconds, server clock.
    pub at: i64,
    /// The user who acted (for a failed login: empty).
    pub actor: String,
    /// `login`, `login-failed`, `logout`, `user-created`, `user-changed`, `password-reset`,
    /// `password-changed`, `device-revoked`, `plan-published`, `plan-imported`, `export`, `import`,
    /// `report-downloaded`.
    pub action: String,
    /// What it was done to (a username, a device's peer ID, a plan).
    pub target: String,
    pub detail: String,
    pub addr: String,
}

/// `POST /api/audit/report`: what a device did with its data away from the server (an export to a
/// file, an import from one), for the audit log. Counts only, never content. Also accepted from a
/// device whose login was ended (revoked, password changed): what a signed-out phone does with the
/// data it still holds is exactly what the log must show.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DeviceReport {
    pub events: Vec<DeviceEvent>,
}

/// The most events one [`DeviceReport`] may carry.
pub const DEVICE_REPORT_MAX: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceEvent {
    /// `export` or `import`.
    pub kind: String,
    /// The device's clock, Unix milliseconds.
    pub at: i64,
    /// Documents written to the file, or merged from it.
    pub docs: u32,
    pub photos: u32,
    /// Export: the file was sealed with a passphrase.
    #[serde(default)]
    pub sealed: bool,
    /// Import: documents not the account's to write, skipped.
    #[serde(default)]
    pub skipped: u32,
}

/// The answer to a [`DeviceReport`]: how many events went into the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceReported {
    pub recorded: usize,
}

/// `GET /api/admin/audit?action=&actor=&offset=`: newest first, a page of at most [`AUDIT_PAGE`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuditLog {
    pub total: i64,
    pub offset: u32,
    pub entries: Vec<AuditEntry>,
}

/// The most audit entries answered at once.
pub const AUDIT_PAGE: u32 = 100;

/// The audit log's filters.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuditQuery {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub offset: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_newer_servers_document_kind_is_skipped_and_an_unknown_role_kept() {
        let key = DocKey::notes("xa", crate::Quarter { year: 2026, q: 4 });
        let body = format!(
            r#"{{"docs":[
            {{"doc_id":"{}","kind":"notes","scope":"xa","period":"2026-Q4","access":"rw"}},
            {{"doc_id":"b","kind":"report","scope":"xa","period":"","access":"ro"}},
            {{"doc_id":"c","kind":"notes","scope":"xa","period":"2026-Q4","access":"rw"}}]}}"#,
            key.doc_id()
        );
        let docs: DocsResponse = serde_json::from_str(&body).unwrap();
        assert_eq!(docs.docs.len(), 3);
        assert_eq!(docs.docs[1].kind, None);
        let usable: Vec<DocKey> = docs.docs.iter().filter_map(DocEntry::key).collect();
        assert_eq!(
            usable,
            vec![key],
            "unknown kinds and IDs off the ID rule are left alone"
        );
        assert!(docs.docs[0].writable());
        let me: MeResponse = serde_json::from_str(
            r#"{"peer_id":"p","user":{"username":"u","display_name":"U","role":"auditor","node_id":"n","commune_id":null}}"#,
        )
        .unwrap();
        assert_eq!(me.user.role, Role::Other("auditor".into()));
    }

    #[test]
    fn blob_answers_keep_their_wire_form() {
        let done = BlobState {
            sha256: "ab".into(),
            complete: true,
            size: Some(3),
            offset: None,
            total: None,
        };
        assert_eq!(
            serde_json::to_string(&done).unwrap(),
            r#"{"sha256":"ab","complete":true,"size":3}"#
        );
    }
}

/// The official layout of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReportLayout {
    /// Party committees and the Ban Dân vận (Hướng dẫn 36-HD/VPTW, 03/4/2018).
    #[default]
    Party,
    /// Front committees (Hướng dẫn 91/HD-MTTW-BTT, state style).
    Front,
}

/// What a report says about who issues it, to whom, and how it is laid out: prefilled by the
/// server from the plan and the org tree, editable before download. Also the query of
/// `GET /api/reports/file` (every field optional there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ReportSettings {
    pub layout: ReportLayout,
    /// The superior body, top left above the issuer (Party layout), e.g. "HUYỆN ỦY ĐẠ HUOAI".
    pub superior: String,
    /// The issuing body, e.g. "BAN DÂN VẬN" or "ỦY BAN MTTQ VIỆT NAM HUYỆN …".
    pub issuer: String,
    /// The number as written after "Số" (Party: "12-BC/BDVHU"; Front: "12/BC-MTTQ-BTT").
    pub number: String,
    /// The place of the date line ("Đạ Huoai, ngày … tháng … năm …").
    pub place: String,
    /// The date of signing, ISO; empty: the day the file is made.
    pub date: String,
    /// "Nơi nhận", one per line.
    pub recipients: String,
    /// "T/M BAN THƯỜNG VỤ", "T/M BAN THƯỜNG TRỰC", …
    pub signer_mandate: String,
    pub signer_position: String,
    pub signer_name: String,
    /// Page margins in millimetres (defaults: the rule's minimum top, bottom and left, its
    /// minimum right: 20, 20, 30, 15 — 36-HD/VPTW §III and Nghị định 30/2020 Phụ lục I agree).
    pub margin_top_mm: u32,
    pub margin_bottom_mm: u32,
    pub margin_left_mm: u32,
    pub margin_right_mm: u32,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            layout: ReportLayout::Party,
            superior: String::new(),
            issuer: String::new(),
            number: String::new(),
            place: String::new(),
            date: String::new(),
            recipients: String::new(),
            signer_mandate: String::new(),
            signer_position: String::new(),
            signer_name: String::new(),
            margin_top_mm: 20,
            margin_bottom_mm: 20,
            margin_left_mm: 30,
            margin_right_mm: 15,
        }
    }
}

/// Which report: a plan, a quarter (`2026-Q4`) and the org node it is for.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ReportTarget {
    pub plan: String,
    pub period: String,
    pub node: String,
}

/// `POST /api/reports/cut`: set the cut-off (chốt số liệu) of a report; `at` (Unix ms) in the
/// future schedules it, in the past or absent takes it now.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct CutRequest {
    #[serde(flatten)]
    pub target: ReportTarget,
    pub at: Option<i64>,
}

/// A report's cut-off: when it is (or was) due, when it was taken, who set it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportCut {
    pub due_at: i64,
    pub taken_at: Option<i64>,
    pub set_by: String,
}

/// `GET /api/reports?plan&period&node` (and the answer of a cut): the report's cut-off, its
/// settings as prefilled, and what changed after the cut-off.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ReportStatus {
    pub node_name: String,
    /// The end of the quarter: the default cut-off (Unix ms).
    pub default_cut_at: i64,
    pub cut: Option<ReportCut>,
    /// The settings prefilled for the Party layout, and for the Front's.
    pub settings: ReportSettings,
    pub settings_front: ReportSettings,
    pub amendments: Vec<crate::report::Amendment>,
}

/// `GET /api/reports/file`: a report as .docx or .xlsx. (A query string: no `flatten`, which
/// breaks typed fields in URL-encoded forms; the settings travel as one JSON parameter.)
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ReportFileQuery {
    pub plan: String,
    pub period: String,
    pub node: String,
    /// `docx` (default) or `xlsx`.
    pub format: String,
    /// [`ReportSettings`] as JSON; absent: as the server prefills them.
    pub settings: Option<String>,
}

impl ReportFileQuery {
    pub fn target(&self) -> ReportTarget {
        ReportTarget {
            plan: self.plan.clone(),
            period: self.period.clone(),
            node: self.node.clone(),
        }
    }
}
