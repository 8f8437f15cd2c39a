//! A plan's document: its header (number, date, issuer, basis, signer) and its tasks with their
//! assignments, deadlines, recurrence and indicators.

use super::entry::{Entry, put_entry, read_entries, update_entry};
use super::{SchemaError, hydrate as am, write};
use crate::ids::DocKind;
use crate::vocab::Recurrence;
use automerge::{Automerge, ROOT};
use autosurgeon::{Hydrate, ReadDoc, Reconcile};

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
    /// For duties repeated each period.
    #[autosurgeon(hydrate = "am::opt_word")]
    pub recurrence: Option<Recurrence>,
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
