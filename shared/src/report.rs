//! The quarterly report's content, computed from the state of the documents that feed it (the
//! plan, each commune's progress and notes) — at a cut-off's heads, or live for a provisional
//! report — and the amendments between two such states. Sans-IO: the server reads the documents
//! and lays the result out as .docx or .xlsx.

use crate::api::{Figures, PetitionCounts};
use crate::schema::{Indicator, Note, PlanHeader, ProgressRecord, Task};
use crate::status::{DeadlineStatus, assess, merge_progress};
use crate::vocab::PetitionStatus;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Days before a deadline from which a task is "sắp đến hạn" (the app and the report agree).
pub const WARN_DAYS: i64 = 7;

/// The deadline statuses in the order the report counts them.
pub const STATUSES: [DeadlineStatus; 5] = [
    DeadlineStatus::NotStarted,
    DeadlineStatus::InProgress,
    DeadlineStatus::Overdue,
    DeadlineStatus::DoneOnTime,
    DeadlineStatus::DoneLate,
];

/// Quotes from notes per task in the report's text.
const HIGHLIGHTS: usize = 3;

/// One commune's documents as the report reads them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommuneState {
    pub id: String,
    pub name: String,
    /// The plan's progress records of this commune.
    pub progress: Vec<ProgressRecord>,
    /// The live notes of the commune's notes documents that cover the period (filtered to the
    /// period's activity dates here).
    pub notes: Vec<Note>,
}

/// Everything a report is computed from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportInput {
    pub header: PlanHeader,
    pub tasks: Vec<Task>,
    /// The aggregating node the report is for (a commune, a district, a province…).
    pub node_name: String,
    /// The period, inclusive ISO dates.
    pub from: String,
    pub to: String,
    /// The moment statuses are judged at (Unix ms): the cut-off, or now for a provisional report.
    pub at: i64,
    pub communes: Vec<CommuneState>,
}

/// A task's status in one commune.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cell {
    pub status: DeadlineStatus,
    pub percent: u8,
    /// The last progress record's time (Unix ms).
    pub last: Option<i64>,
}

/// A note quoted in the report: which commune, when, what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Highlight {
    pub commune: String,
    pub date: String,
    pub title: String,
}

/// One task of the plan over the period, across the communes it targets.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskLine {
    pub task: Task,
    /// Communes per status, in [`STATUSES`] order.
    pub counts: [i64; 5],
    /// Notes of the period linked to the task, and their participants.
    pub notes: i64,
    pub participants: i64,
    pub indicators: Vec<Indicator>,
    pub highlights: Vec<Highlight>,
    /// Communes where the task is overdue at the report's moment.
    pub overdue: Vec<String>,
}

/// One commune in the report: its figures and its row of the annex matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct CommuneLine {
    pub id: String,
    pub name: String,
    pub figures: Figures,
    /// One cell per task of [`Report::tasks`]; `None` where the task does not target it.
    pub cells: Vec<Option<Cell>>,
}

/// An open petition, for section IV.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PetitionLine {
    pub commune: String,
    pub date: String,
    pub text: String,
    pub status: PetitionStatus,
}

/// The computed report.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub header: PlanHeader,
    pub node_name: String,
    pub from: String,
    pub to: String,
    pub at: i64,
    pub totals: Figures,
    pub tasks: Vec<TaskLine>,
    pub communes: Vec<CommuneLine>,
    /// Communes without a note in the period.
    pub silent: Vec<String>,
    /// Tasks for the next period: unfinished somewhere with a deadline before the next period
    /// ends (overdue ones carried over), and the recurring duties.
    pub next: Vec<Task>,
    /// Open petitions (received or in progress), by commune then date.
    pub petitions: Vec<PetitionLine>,
    /// Every note of the period with its commune's name, newest first.
    pub notes: Vec<(String, Note)>,
}

/// How a note's petitions stand (the office's figures and the register count the same way).
pub fn petition_counts(n: &Note) -> PetitionCounts {
    let mut c = PetitionCounts::default();
    for p in &n.petitions {
        match p.status {
            PetitionStatus::Answered => c.answered += 1,
            PetitionStatus::Referred => c.referred += 1,
            _ => c.open += 1,
        }
    }
    c
}

/// Adds one note to a commune's (or the total's) figures.
pub fn add_note(f: &mut Figures, n: &Note) {
    f.notes += 1;
    f.participants.total += n.participants.total;
    f.participants.women += n.participants.women;
    f.participants.ethnic_minority += n.participants.ethnic_minority;
    f.participants.religious += n.participants.religious;
    let p = petition_counts(n);
    f.petitions.open += p.open;
    f.petitions.answered += p.answered;
    f.petitions.referred += p.referred;
    f.photos += n.photos.len() as i64;
}

/// A task's status in a commune from that commune's records, at `at`.
pub fn cell(task: &Task, records: &[&ProgressRecord], at: i64) -> Cell {
    let p = merge_progress(records.iter().copied(), &task.lead_units);
    Cell {
        status: assess(task.deadline.as_deref(), p, at, WARN_DAYS).status,
        percent: p.percent,
        last: records.iter().map(|r| r.at).filter(|t| *t > 0).max(),
    }
}

fn in_period(n: &Note, from: &str, to: &str) -> bool {
    n.activity_date.as_str() >= from && n.activity_date.as_str() <= to
}

/// The first day after the period ends plus three months, as an ISO date (the next period's end).
fn next_period_end(to: &str) -> String {
    match crate::ids::parse_iso_date(to) {
        Some((y, m, _)) => {
            let (y, m) = if m + 3 > 12 {
                (y + 1, m + 3 - 12)
            } else {
                (y, m + 3)
            };
            let last = crate::ids::Quarter::of_month(y, m).last_day();
            // The next quarter's last day, or that month's if the period was not a quarter.
            last.min(format!("{y:04}-{m:02}-31"))
        }
        None => to.to_string(),
    }
}

impl Report {
    pub fn compute(input: &ReportInput) -> Report {
        let tasks: Vec<&Task> = input.tasks.iter().filter(|t| !t.removed).collect();
        let (from, to) = (input.from.as_str(), input.to.as_str());
        let mut totals = Figures::default();
        let mut lines: Vec<TaskLine> = tasks
            .iter()
            .map(|t| TaskLine {
                task: (*t).clone(),
                counts: [0; 5],
                notes: 0,
                participants: 0,
                indicators: t.indicators.clone(),
                highlights: Vec::new(),
                overdue: Vec::new(),
            })
            .collect();
        let mut communes = Vec::new();
        let mut silent = Vec::new();
        let mut petitions = Vec::new();
        let mut notes: Vec<(String, Note)> = Vec::new();
        for c in &input.communes {
            let mut figures = Figures::default();
            let period_notes: Vec<&Note> =
                c.notes.iter().filter(|n| in_period(n, from, to)).collect();
            for n in &period_notes {
                add_note(&mut figures, n);
                add_note(&mut totals, n);
                notes.push((c.name.clone(), (*n).clone()));
                for p in n.petitions.iter().filter(|p| {
                    !matches!(
                        p.status,
                        PetitionStatus::Answered | PetitionStatus::Referred
                    )
                }) {
                    petitions.push(PetitionLine {
                        commune: c.name.clone(),
                        date: n.activity_date.clone(),
                        text: p.text.clone(),
                        status: p.status.clone(),
                    });
                }
            }
            if period_notes.is_empty() {
                silent.push(c.name.clone());
            }
            let mut cells = Vec::new();
            for (t, line) in tasks.iter().zip(lines.iter_mut()) {
                if !t.targets(&c.id) {
                    cells.push(None);
                    continue;
                }
                let records: Vec<&ProgressRecord> =
                    c.progress.iter().filter(|r| r.task_id == t.id).collect();
                let k = cell(t, &records, input.at);
                let i = STATUSES.iter().position(|s| *s == k.status).unwrap_or(0);
                line.counts[i] += 1;
                if k.status == DeadlineStatus::Overdue {
                    line.overdue.push(c.name.clone());
                }
                for n in period_notes.iter().filter(|n| n.task_ids.contains(&t.id)) {
                    line.notes += 1;
                    line.participants += n.participants.total;
                    line.highlights.push(Highlight {
                        commune: c.name.clone(),
                        date: n.activity_date.clone(),
                        title: n.title.clone(),
                    });
                }
                cells.push(Some(k));
            }
            communes.push(CommuneLine {
                id: c.id.clone(),
                name: c.name.clone(),
                figures,
                cells,
            });
        }
        // The newest activities are quoted (a commune's name breaks ties, so the text is stable).
        for line in &mut lines {
            line.highlights
                .sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.commune.cmp(&b.commune)));
            line.highlights.truncate(HIGHLIGHTS);
        }
        let next_end = next_period_end(to);
        let next = lines
            .iter()
            .filter(|l| {
                let unfinished = l.counts[0] + l.counts[1] + l.counts[2] > 0;
                l.task.recurrence.is_some()
                    || (unfinished
                        && l.task
                            .deadline
                            .as_deref()
                            .is_some_and(|d| d <= next_end.as_str()))
            })
            .map(|l| l.task.clone())
            .collect();
        petitions
            .sort_by(|a, b| (&a.commune, &a.date, &a.text).cmp(&(&b.commune, &b.date, &b.text)));
        notes.sort_by(|a, b| {
            (&b.1.activity_date, &b.1.created_at, &b.1.id).cmp(&(
                &a.1.activity_date,
                &a.1.created_at,
                &a.1.id,
            ))
        });
        Report {
            header: input.header.clone(),
            node_name: input.node_name.clone(),
            from: input.from.clone(),
            to: input.to.clone(),
            at: input.at,
            totals,
            tasks: lines,
            communes,
            silent,
            next,
            petitions,
            notes,
        }
    }
}

/// What changed after a cut-off in one record of the report's period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amendment {
    pub commune: String,
    pub kind: AmendmentKind,
    /// The note's title, or the task's number and the unit.
    pub what: String,
    pub before: String,
    pub after: String,
    /// Who recorded it (the note's author, the progress record's writer) and when (Unix ms).
    pub by: String,
    pub at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AmendmentKind {
    NoteAdded,
    NoteChanged,
    NoteRemoved,
    ProgressChanged,
}

impl AmendmentKind {
    pub fn label_vi(self) -> &'static str {
        match self {
            AmendmentKind::NoteAdded => "Ghi chép thêm sau khi chốt",
            AmendmentKind::NoteChanged => "Ghi chép sửa sau khi chốt",
            AmendmentKind::NoteRemoved => "Ghi chép xóa sau khi chốt",
            AmendmentKind::ProgressChanged => "Tiến độ cập nhật sau khi chốt",
        }
    }
}

fn note_summary(n: &Note) -> String {
    format!(
        "{} · {} người tham dự · {} kiến nghị",
        n.title,
        n.participants.total,
        n.petitions.len()
    )
}

fn record_summary(r: &ProgressRecord) -> String {
    let done = if r.done_at.is_some() && r.percent >= 100 {
        ", hoàn thành"
    } else {
        ""
    };
    format!("{}%{done}", r.percent)
}

/// What changed between the state at a cut-off and a later one, for the period's notes and the
/// plan's progress records, commune by commune (in `later`'s order), oldest change first.
pub fn amendments(
    cut: &[CommuneState],
    later: &[CommuneState],
    tasks: &[Task],
    from: &str,
    to: &str,
) -> Vec<Amendment> {
    let mut out = Vec::new();
    let empty = CommuneState::default();
    for c in later {
        let before = cut.iter().find(|b| b.id == c.id).unwrap_or(&empty);
        let notes = |s: &CommuneState| -> BTreeMap<String, Note> {
            s.notes
                .iter()
                .filter(|n| in_period(n, from, to))
                .map(|n| (n.id.clone(), n.clone()))
                .collect()
        };
        let (was, now) = (notes(before), notes(c));
        for (id, n) in &now {
            let (kind, before) = match was.get(id) {
                None => (AmendmentKind::NoteAdded, String::new()),
                Some(old) if old != n => (AmendmentKind::NoteChanged, note_summary(old)),
                Some(_) => continue,
            };
            out.push(Amendment {
                commune: c.name.clone(),
                kind,
                what: n.title.clone(),
                before,
                after: note_summary(n),
                by: n.author.clone(),
                at: n.created_at,
            });
        }
        for old in was
            .iter()
            .filter(|(id, _)| !now.contains_key(*id))
            .map(|(_, n)| n)
        {
            out.push(Amendment {
                commune: c.name.clone(),
                kind: AmendmentKind::NoteRemoved,
                what: old.title.clone(),
                before: note_summary(old),
                after: String::new(),
                by: old.author.clone(),
                at: old.created_at,
            });
        }
        let key = |r: &ProgressRecord| (r.task_id.clone(), r.unit.clone());
        for r in &c.progress {
            let old = before.progress.iter().find(|o| key(o) == key(r));
            if old == Some(r) {
                continue;
            }
            let number = tasks
                .iter()
                .find(|t| t.id == r.task_id)
                .map_or(r.task_id.as_str(), |t| t.number.as_str());
            out.push(Amendment {
                commune: c.name.clone(),
                kind: AmendmentKind::ProgressChanged,
                what: format!("{number} · {}", r.unit),
                before: old.map(record_summary).unwrap_or_default(),
                after: record_summary(r),
                by: r.by.clone(),
                at: r.at,
            });
        }
    }
    out.sort_by_key(|a| a.at);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Participants, Petition};

    fn note(id: &str, date: &str, task: &str, total: i64, petitions: &[PetitionStatus]) -> Note {
        Note {
            id: id.into(),
            activity_date: date.into(),
            title: format!("Ghi chép {id}"),
            task_ids: vec![task.into()],
            participants: Participants {
                total,
                women: total / 2,
                ..Participants::default()
            },
            petitions: petitions
                .iter()
                .map(|s| Petition {
                    text: format!("Kiến nghị {id}"),
                    status: s.clone(),
                })
                .collect(),
            author: "kadon".into(),
            created_at: 1,
            ..Note::default()
        }
    }

    fn task(id: &str, deadline: Option<&str>) -> Task {
        Task {
            id: id.into(),
            number: id.to_uppercase(),
            title: format!("Nhiệm vụ {id}"),
            deadline: deadline.map(Into::into),
            ..Task::default()
        }
    }

    fn input(communes: Vec<CommuneState>) -> ReportInput {
        ReportInput {
            tasks: vec![
                task("t1", Some("2026-11-30")),
                task("t2", Some("2027-02-15")),
            ],
            node_name: "Huyện".into(),
            from: "2026-10-01".into(),
            to: "2026-12-31".into(),
            // 15/12/2026.
            at: 1_797_292_800_000,
            communes,
            ..ReportInput::default()
        }
    }

    #[test]
    fn figures_statuses_and_sections_come_from_the_period_only() {
        let a = CommuneState {
            id: "a".into(),
            name: "Xã A".into(),
            progress: vec![ProgressRecord {
                task_id: "t1".into(),
                unit: "mttq".into(),
                percent: 100,
                done_at: Some(1_795_000_000_000),
                at: 1_795_000_000_000,
                ..ProgressRecord::default()
            }],
            notes: vec![
                note("n1", "2026-10-05", "t1", 30, &[PetitionStatus::Received]),
                note("n2", "2026-11-20", "t2", 10, &[PetitionStatus::Answered]),
                // Outside the period: not counted, not quoted.
                note("n3", "2026-09-30", "t1", 99, &[PetitionStatus::Received]),
            ],
        };
        let b = CommuneState {
            id: "b".into(),
            name: "Xã B".into(),
            ..CommuneState::default()
        };
        let r = Report::compute(&input(vec![a, b]));
        assert_eq!(r.totals.notes, 2);
        assert_eq!(r.totals.participants.total, 40);
        assert_eq!(r.totals.participants.women, 20);
        assert_eq!(r.totals.petitions.open, 1);
        assert_eq!(r.totals.petitions.answered, 1);
        assert_eq!(r.silent, vec!["Xã B".to_string()]);
        // t1: done on time in A, overdue in B (deadline 30/11 passed at 15/12).
        let t1 = &r.tasks[0];
        assert_eq!(t1.counts, [0, 0, 1, 1, 0]);
        assert_eq!(t1.overdue, vec!["Xã B".to_string()]);
        assert_eq!((t1.notes, t1.participants), (1, 30));
        assert_eq!(t1.highlights.len(), 1);
        // t2 is due in the next quarter and unfinished: listed for it; t1 is overdue in B: too.
        assert_eq!(
            r.next.iter().map(|t| t.id.as_str()).collect::<Vec<_>>(),
            ["t1", "t2"]
        );
        assert_eq!(r.petitions.len(), 1);
        assert_eq!(
            r.communes[0].cells[0].map(|c| c.status),
            Some(DeadlineStatus::DoneOnTime)
        );
        let sum: i64 = r.communes.iter().map(|c| c.figures.notes).sum();
        assert_eq!(sum, r.totals.notes);
    }

    #[test]
    fn amendments_list_what_changed_after_the_cut() {
        let at_cut = CommuneState {
            id: "a".into(),
            name: "Xã A".into(),
            notes: vec![
                note("n1", "2026-10-05", "t1", 30, &[]),
                note("n2", "2026-10-06", "t1", 5, &[]),
            ],
            progress: vec![ProgressRecord {
                task_id: "t1".into(),
                unit: "mttq".into(),
                percent: 40,
                by: "kadon".into(),
                at: 10,
                ..ProgressRecord::default()
            }],
        };
        let mut later = at_cut.clone();
        later.notes[0].participants.total = 35;
        later.notes.remove(1);
        later.notes.push(note("n4", "2026-12-01", "t1", 8, &[]));
        later.progress[0].percent = 60;
        later.progress[0].at = 20;
        let tasks = input(vec![]).tasks;
        let a = amendments(
            std::slice::from_ref(&at_cut),
            &[later],
            &tasks,
            "2026-10-01",
            "2026-12-31",
        );
        let kinds: Vec<AmendmentKind> = a.iter().map(|x| x.kind).collect();
        assert!(kinds.contains(&AmendmentKind::NoteChanged));
        assert!(kinds.contains(&AmendmentKind::NoteAdded));
        assert!(kinds.contains(&AmendmentKind::NoteRemoved));
        let p = a
            .iter()
            .find(|x| x.kind == AmendmentKind::ProgressChanged)
            .unwrap();
        assert_eq!((p.before.as_str(), p.after.as_str()), ("40%", "60%"));
        assert_eq!(p.what, "T1 · mttq");
        // Nothing changed: nothing listed.
        assert!(
            amendments(
                std::slice::from_ref(&at_cut),
                std::slice::from_ref(&at_cut),
                &tasks,
                "2026-10-01",
                "2026-12-31"
            )
            .is_empty()
        );
    }
}
