//! Publishing an imported plan into its Automerge document: the first publication, and revisions
//! that merge into the communes' work in progress.
//!
//! Task IDs are the contract with every phone: progress records and notes refer to them. So a
//! revision keeps each task's ID — matched by its number, or by its title when the revision
//! renumbered it — and a task the revision drops is marked `removed`, never deleted, so its history
//! and the progress recorded against it stay. Fields an editor set in the app after publishing
//! (target communes, indicators; a deadline or assignment the new text does not state) are kept.

use automerge::Automerge;
use shared::api::{PlanDraft, PublishSummary, TaskDraft};
use shared::schema::{self, Basis, PlanHeader, SchemaError, Task};
use shared::vocab::SectionKind;
use std::collections::HashSet;

/// A draft task flattened with where it sits in the plan.
struct Placed<'a> {
    section: &'a str,
    parent: Option<usize>,
    draft: &'a TaskDraft,
}

fn flatten(draft: &PlanDraft) -> Vec<Placed<'_>> {
    fn walk<'a>(
        section: &'a str,
        parent: Option<usize>,
        tasks: &'a [TaskDraft],
        out: &mut Vec<Placed<'a>>,
    ) {
        for t in tasks {
            out.push(Placed {
                section,
                parent,
                draft: t,
            });
            let me = out.len() - 1;
            walk(section, Some(me), &t.children, out);
        }
    }
    let mut out = Vec::new();
    // Purposes and requirements are text of the header, not trackable tasks.
    for s in draft
        .sections
        .iter()
        .filter(|s| s.kind != SectionKind::Purposes)
    {
        walk(&s.number, None, &s.tasks, &mut out);
    }
    out
}

/// The ID a new task gets: readable and derived from its number (`II.4.3` → `t-ii-4-3`), with a
/// suffix if a task of another revision already holds it.
fn new_id(number: &str, taken: &HashSet<String>) -> String {
    let slug: String = number
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    shared::text::unique(&format!("t-{}", slug.trim_matches('-')), |id| {
        taken.contains(id)
    })
}

fn norm(title: &str) -> String {
    title.trim().to_lowercase()
}

/// Unit kinds named by the plan's wording for one task.
fn kinds(names: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for k in names.iter().flat_map(|n| unit_kinds_named(n)) {
        if !out.iter().any(|o| o == k) {
            out.push(k.to_string());
        }
    }
    out
}

/// The plan header a draft describes.
fn header(draft: &PlanDraft, old: &PlanHeader, issuer_node: &str, now_ms: i64) -> PlanHeader {
    let purposes = draft
        .sections
        .iter()
        .filter(|s| s.kind == SectionKind::Purposes)
        .flat_map(|s| {
            std::iter::once(s.intro.clone()).chain(s.tasks.iter().map(|t| {
                std::iter::once(format!("{}. {}", t.number, t.text))
                    .chain(
                        t.children
                            .iter()
                            .map(|c| format!("{}. {}", c.number, c.text)),
                    )
                    .collect::<Vec<_>>()
                    .join("\n")
            }))
        })
        .filter(|p| !p.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let doc_type = match draft.doc_type.as_deref() {
        None | Some("KẾ HOẠCH") => "Kế hoạch".to_string(),
        Some(other) => other.to_string(),
    };
    PlanHeader {
        title: format!("{doc_type} {}", draft.title).trim().to_string(),
        number: draft.number.clone().unwrap_or_default(),
        date: draft.date.clone(),
        issuer: draft.issuer.clone().unwrap_or_default(),
        issuer_node: Some(issuer_node.to_string()),
        basis: draft
            .basis
            .iter()
            .map(|b| Basis {
                code: format!("{} {}", b.kind, b.code).trim().to_string(),
                date: b.date.clone(),
                title: b.title.clone().unwrap_or_default(),
            })
            .collect(),
        purposes,
        recipients: draft.recipients.clone(),
        signer: draft
            .signer
            .as_ref()
            .map(|s| {
                [&s.on_behalf, &s.title, &s.name]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(" — ")
            })
            .unwrap_or_default(),
        revision: old.revision + 1,
        published_at: Some(now_ms),
    }
}

/// Publish `draft` into the plan document `doc` (empty after genesis, or holding an earlier
/// revision). One Automerge change per task touched, all by the caller's actor.
pub fn publish_into(
    doc: &mut Automerge,
    draft: &PlanDraft,
    issuer_node: &str,
    now_ms: i64,
) -> Result<PublishSummary, SchemaError> {
    let placed = flatten(draft);
    let existing = schema::read_tasks(doc);
    let mut claimed: Vec<Option<usize>> = vec![None; placed.len()];
    let mut used = vec![false; existing.len()];
    // Pass 1: same number. Pass 2: same title (the revision renumbered the task).
    for pass in 0..2 {
        for (i, p) in placed.iter().enumerate() {
            if claimed[i].is_some() {
                continue;
            }
            let hit = existing.iter().enumerate().position(|(j, e)| {
                !used[j]
                    && if pass == 0 {
                        e.number == p.draft.number
                    } else {
                        norm(&e.title) == norm(&p.draft.title) && !e.title.trim().is_empty()
                    }
            });
            if let Some(j) = hit {
                used[j] = true;
                claimed[i] = Some(j);
            }
        }
    }
    let mut taken: HashSet<String> = existing.iter().map(|t| t.id.clone()).collect();
    let ids: Vec<String> = placed
        .iter()
        .zip(&claimed)
        .map(|(p, c)| match c {
            Some(j) => existing[*j].id.clone(),
            None => {
                let id = new_id(&p.draft.number, &taken);
                taken.insert(id.clone());
                id
            }
        })
        .collect();

    let mut summary = PublishSummary {
        revision: 0,
        tasks: placed.len(),
        added: 0,
        updated: 0,
        removed: 0,
    };
    for (i, p) in placed.iter().enumerate() {
        let before = claimed[i].map(|j| existing[j].clone());
        let mut t = before.clone().unwrap_or_default();
        let d = p.draft;
        t.id = ids[i].clone();
        t.number = d.number.clone();
        t.title = d.title.clone();
        t.text = d.text.clone();
        t.order = i as i64 + 1;
        t.section = p.section.to_string();
        t.parent = p.parent.map(|k| ids[k].clone());
        t.recurrence = d.recurrence.clone().or(t.recurrence);
        t.deadline = d.deadline.clone().or(t.deadline);
        let (lead, partners) = (kinds(&d.lead_units), kinds(&d.partner_units));
        if !lead.is_empty() {
            t.lead_units = lead;
        }
        if !partners.is_empty() {
            t.partner_units = partners
                .into_iter()
                .filter(|k| !t.lead_units.contains(k))
                .collect();
        }
        t.removed = false;
        match &before {
            None => summary.added += 1,
            Some(b) if *b != t => summary.updated += 1,
            Some(_) => {}
        }
        schema::put_task(doc, &t)?;
    }
    for (j, e) in existing.iter().enumerate() {
        if !used[j] && !e.removed {
            summary.removed += 1;
            schema::put_task(
                doc,
                &Task {
                    removed: true,
                    ..e.clone()
                },
            )?;
        }
    }
    let h = header(draft, &schema::read_plan_header(doc), issuer_node, now_ms);
    summary.revision = h.revision;
    schema::put_plan_header(doc, &h)?;
    Ok(summary)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan_import::import_text;
    use shared::DocKey;

    const SAMPLE: &str = include_str!("../fixtures/ke-hoach-chi-thi-18-2022.txt");

    #[test]
    fn first_publication_of_the_sample() {
        let mut doc = schema::genesis_doc(&DocKey::plan("kh")).unwrap();
        let s = publish_into(&mut doc, &import_text(SAMPLE).unwrap(), "huyen", 1).unwrap();
        assert_eq!((s.revision, s.added, s.removed), (1, s.tasks, 0));
        let tasks = schema::read_tasks(&doc);
        let t = |n: &str| tasks.iter().find(|t| t.number == n).unwrap();
        assert_eq!(t("II.4").id, "t-ii-4");
        assert_eq!(t("II.4.3").parent.as_deref(), Some("t-ii-4"));
        assert_eq!(
            t("II.2").recurrence,
            Some(shared::vocab::Recurrence::Quarterly)
        );
        assert_eq!(t("III.5").lead_units, vec!["ban-dan-van"]);
        assert!(t("III.5").partner_units.contains(&"mttq".to_string()));
        let h = schema::read_plan_header(&doc);
        assert!(h.title.starts_with("Kế hoạch Thực hiện Chỉ thị"));
        assert_eq!(h.basis[0].code, "Chỉ thị 18-CT/TU");
        assert_eq!(h.basis[0].date.as_deref(), Some("2022-02-22"));
        assert!(h.signer.contains("Đinh Văn Tuấn"));
        assert_eq!(h.number, "", "the sample has no number: never invented");
        assert!(h.purposes.contains("I.1."));
    }

    #[test]
    fn a_revision_keeps_ids_marks_dropped_tasks_and_keeps_editor_fields() {
        let mut doc = schema::genesis_doc(&DocKey::plan("kh")).unwrap();
        publish_into(&mut doc, &import_text(SAMPLE).unwrap(), "huyen", 1).unwrap();
        // The editor targets II.4 at one commune in the app.
        schema::update_entry::<Task>(&mut doc, "t-ii-4", |t| {
            t.communes = vec!["xa-ka-don".into()]
        })
        .unwrap();
        let old = schema::read_tasks(&doc);
        let content_5 = old.iter().find(|t| t.number == "II.5").unwrap().clone();
        // Revision: content II.5 is dropped, II.3 reworded, and III.5 renumbered III.6.
        let revised: String = SAMPLE
            .lines()
            .filter(|l| !l.starts_with("5. Tiếp tục bố trí"))
            .map(|l| {
                l.replacen(
                    "3. Chính quyền các cấp",
                    "3. Chính quyền các cấp (sửa đổi)",
                    1,
                )
                .replacen("5. Giao Ban Dân vận", "6. Giao Ban Dân vận", 1)
            })
            .collect::<Vec<_>>()
            .join("\n");
        let s = publish_into(&mut doc, &import_text(&revised).unwrap(), "huyen", 2).unwrap();
        assert_eq!(s.revision, 2);
        let new = schema::read_tasks(&doc);
        assert_eq!(new.len(), old.len(), "nothing is deleted");
        let gone = new.iter().find(|t| t.id == content_5.id).unwrap();
        assert!(
            gone.removed,
            "a dropped task keeps its ID and history, marked removed"
        );
        assert_eq!(s.removed, 1);
        assert!(s.updated >= 2, "{s:?}");
        let iii = new.iter().find(|t| t.id == "t-iii-5").unwrap();
        assert_eq!(
            iii.number, "III.6",
            "renumbered, same task (matched by title)"
        );
        assert!(!iii.removed);
        let ii3 = new.iter().find(|t| t.number == "II.3").unwrap();
        assert!(ii3.text.contains("(sửa đổi)"));
        let ii4 = new.iter().find(|t| t.id == "t-ii-4").unwrap();
        assert_eq!(
            ii4.communes,
            vec!["xa-ka-don"],
            "editor's targeting survives"
        );
        assert!(!ii4.removed);
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
