//! The overview of the aggregating level: each commune's notes and last sync, and the matrix
//! communes × tasks with deadline statuses and quarterly completeness.

use crate::common::i18n::{en, t, tr};
use crate::common::state::Ui;
use crate::common::tasks::{
    assess_task, current_quarter, now_checked, records_by_cell, recurrence_label, status_label,
};
use leptos::prelude::*;
use shared::ids::display_datetime_vn;
use shared::schema::{OrgNode, ProgressRecord, Task, UNIT_KINDS};
use shared::status::{DeadlineStatus, reported_in};
use shared::vocab::OrgLevel;

#[component]
pub fn CommuneTable() -> impl IntoView {
    let ui = expect_context::<Ui>();
    view! {
        <section class="card">
            <h2>{t("Tổng hợp theo xã", "Summary by commune")}</h2>
            <table class="overview">
                <thead><tr><th scope="col">{t("Xã, thị trấn", "Commune, township")}</th><th scope="col">{t("Ghi chép", "Notes")}</th><th scope="col">{t("Đồng bộ lần cuối", "Last sync")}</th></tr></thead>
                <tbody>
                    {move || ui.overview.get().into_iter().map(|r| {
                        let last_sync = r.last_sync;
                        view! {
                        <tr data-testid="commune-row" data-commune-id=r.commune_id.clone() data-notes=r.notes.to_string()
                            class:stale=r.last_sync.is_none()>
                            <th scope="row">{r.name.clone()}</th>
                            <td>{r.notes}</td>
                            <td>{move || last_sync.map(display_datetime_vn).unwrap_or_else(|| t("chưa đồng bộ", "not synced yet")().into())}</td>
                        </tr>
                    }}).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

/// How the matrix orders a plan's tasks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    Plan,
    Overdue,
    LeastDone,
}

impl Sort {
    fn parse(s: &str) -> Sort {
        match s {
            "overdue" => Sort::Overdue,
            "least-done" => Sort::LeastDone,
            _ => Sort::Plan,
        }
    }
}

/// Whether `id` lies under `ancestor` in the org tree (itself included).
fn is_under(org: &[OrgNode], id: &str, ancestor: &str) -> bool {
    let mut at = Some(id.to_string());
    // The depth bound keeps a cycle someone wrote into the tree from hanging the page.
    for _ in 0..32 {
        match at {
            Some(ref x) if x == ancestor => return true,
            Some(x) => {
                at = org
                    .iter()
                    .find(|n| n.id == x)
                    .and_then(|n| n.parent.clone())
            }
            None => return false,
        }
    }
    false
}

/// Tasks × communes: each cell the task's status in that commune (words, colour as a second cue);
/// recurring duties also say how many communes reported this quarter.
#[component]
pub fn Matrix() -> impl IntoView {
    let ui = expect_context::<Ui>();
    // A cell opens that commune's notes linked to that task.
    let open = expect_context::<super::OpenNotes>().0;
    let filter = expect_context::<super::Filter>();
    // Rows: tasks whose number or title has these words (accents ignored), with at least one
    // commune in this status; columns: the commune picked on the office's screens, or all.
    let words = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    // Tasks led by or shared with this unit kind; communes under this node of the tree.
    let unit = RwSignal::new(String::new());
    let group = RwSignal::new(String::new());
    let sort = RwSignal::new(Sort::Plan);
    // The communes in the user's scope: the server's overview lists only those; offline, before
    // it answers, the org tree's communes.
    let communes = move || {
        let only = filter.commune.get();
        let group = group.get();
        let org = ui.org.get();
        let mut v: Vec<(String, String)> = ui.overview.with(|o| {
            o.iter()
                .map(|c| (c.commune_id.clone(), c.name.clone()))
                .collect()
        });
        if v.is_empty() {
            v = org
                .iter()
                .filter(|n| n.level == OrgLevel::Commune && !n.removed)
                .map(|n| (n.id.clone(), n.name.clone()))
                .collect();
        }
        v.retain(|(id, _)| {
            (only.is_empty() || *id == only) && (group.is_empty() || is_under(&org, id, &group))
        });
        v.sort_by(|a, b| a.1.cmp(&b.1));
        v
    };
    // Places that group communes (a district, a cluster, the root): any node above a commune.
    let groups = move || {
        let org = ui.org.get();
        let mut v: Vec<(String, String)> = org
            .iter()
            .filter(|n| !n.removed && matches!(n.level, OrgLevel::Root | OrgLevel::Other(_)))
            .filter(|n| {
                org.iter()
                    .any(|c| c.level == OrgLevel::Commune && is_under(&org, &c.id, &n.id))
            })
            .map(|n| (n.id.clone(), n.name.clone()))
            .collect();
        v.sort_by(|a, b| a.1.cmp(&b.1));
        v
    };
    let body = move || {
        let communes = communes();
        // Read here so the whole matrix is redrawn when the language switches.
        let english = en();
        let (now, _) = now_checked();
        let quarter = current_quarter(now);
        let progress = super::judged_progress(&ui);
        let cells = records_by_cell(&progress);
        let records = |c: &str, t: &str| -> Vec<&ProgressRecord> {
            cells.get(&(c, t)).cloned().unwrap_or_default()
        };
        let (words, status, unit, sort) = (words.get(), status.get(), unit.get(), sort.get());
        // How many of the shown communes have this task in this state (for sorting).
        let count = |t: &Task, done: bool| {
            communes
                .iter()
                .filter(|(c, _)| t.targets(c))
                .filter(|(c, _)| {
                    let (a, _) = assess_task(t, &records(c, &t.id), now);
                    if done {
                        matches!(
                            a.status,
                            DeadlineStatus::DoneOnTime | DeadlineStatus::DoneLate
                        )
                    } else {
                        a.status == DeadlineStatus::Overdue
                    }
                })
                .count()
        };
        let wanted = |t: &Task| {
            shared::text::matches(&format!("{} {}", t.number, t.title), &words)
                && (unit.is_empty()
                    || t.lead_units.contains(&unit)
                    || t.partner_units.contains(&unit))
                && (status.is_empty()
                    || communes.iter().any(|(c, _)| {
                        t.targets(c) && {
                            let (a, _) = assess_task(t, &records(c, &t.id), now);
                            if status == "due-soon" {
                                a.due_soon
                            } else {
                                format!("{:?}", a.status) == status
                            }
                        }
                    }))
        };
        ui.plans.get().into_iter().map(|plan| {
            let mut tasks: Vec<Task> = plan.tasks.iter().filter(|t| !t.removed && wanted(t)).cloned().collect();
            match sort {
                Sort::Plan => {}
                Sort::Overdue => tasks.sort_by_key(|t| std::cmp::Reverse(count(t, false))),
                Sort::LeastDone => tasks.sort_by_key(|t| count(t, true)),
            }
            let head = communes.iter().map(|(_, name)| view! { <th scope="col">{name.clone()}</th> }).collect_view();
            let rows = tasks.iter().map(|t| {
                let cells = communes.iter().map(|(cid, cname)| {
                    if !t.targets(cid) {
                        return view! { <td class="na">"—"</td> }.into_any();
                    }
                    let rs = records(cid, &t.id);
                    let (a, p) = assess_task(t, &rs, now);
                    let pct = if p.percent > 0 && p.percent < 100 { format!(" {}%", p.percent) } else { String::new() };
                    // When a unit last recorded progress here (Asia/Ho_Chi_Minh).
                    let last = rs.iter().map(|r| r.at).max().filter(|at| *at > 0).map(|at| {
                        let (_, m, d) = shared::ids::vn_civil_date(at);
                        format!("{d:02}/{m:02}")
                    });
                    let (c2, t2) = (cid.clone(), t.id.clone());
                    let soon = match (a.due_soon, english) {
                        (false, _) => "",
                        (true, false) => " · sắp đến hạn",
                        (true, true) => " · due soon",
                    };
                    view! {
                        <td data-testid="matrix-cell" data-commune-id=cid.clone() data-task-id=t.id.clone()
                            data-status=format!("{:?}", a.status)
                            title=format!("{}: {}{soon}", cname, status_label(a.status))>
                            <button type="button" class="cell" on:click=move |_| open.run((c2.clone(), t2.clone()))>
                                <span class=a.status.css(a.due_soon)>{format!("{}{pct}", tr(a.status.short_vi(), a.status.short_en()))}</span>
                                {last.map(|d| view! { <span class="when">{d}</span> })}
                            </button>
                        </td>
                    }.into_any()
                }).collect_view();
                let period = t.recurrence.as_ref().map(|r| {
                    let targeted: Vec<&(String, String)> = communes.iter().filter(|(c, _)| t.targets(c)).collect();
                    let done = targeted.iter().filter(|(c, _)| reported_in(records(c, &t.id), quarter)).count();
                    view! {
                        <div class="meta" data-testid="completeness">
                            {if english {
                                format!("{} · Q{}/{}: {}/{} communes reported", recurrence_label(r), quarter.q, quarter.year, done, targeted.len())
                            } else {
                                format!("{} · quý {}/{}: {}/{} xã đã báo cáo", recurrence_label(r), quarter.q, quarter.year, done, targeted.len())
                            }}
                        </div>
                    }
                });
                view! {
                    <tr>
                        <th scope="row">
                            // The task's notes in every commune (its row already shows each one's status).
                            <button type="button" class="cell" data-testid="matrix-task" on:click={
                                let tid = t.id.clone();
                                move |_| open.run((String::new(), tid.clone()))
                            }><span class="num">{t.number.clone()}</span> {t.title.clone()}</button>
                            {period}
                        </th>
                        {cells}
                    </tr>
                }
            }).collect_view();
            view! {
                <section class="card">
                    <h2>{plan.header.title.clone()}</h2>
                    <div class="scroll" tabindex="0" role="region" aria-label=tr("Bảng nhiệm vụ theo xã", "Tasks by commune")>
                        <table class="matrix" data-testid="matrix">
                            <thead><tr><th scope="col">{t("Nhiệm vụ", "Task")}</th>{head}</tr></thead>
                            <tbody>{rows}</tbody>
                        </table>
                    </div>
                </section>
            }
        }).collect_view()
    };
    let statuses = [
        ("NotStarted", DeadlineStatus::NotStarted),
        ("InProgress", DeadlineStatus::InProgress),
        ("Overdue", DeadlineStatus::Overdue),
        ("DoneOnTime", DeadlineStatus::DoneOnTime),
        ("DoneLate", DeadlineStatus::DoneLate),
    ];
    view! {
        <div class="filters-row card" data-testid="matrix-filters">
            <label for="matrix-words">{t("Lọc nhiệm vụ", "Filter tasks")}</label>
            <input id="matrix-words" type="search" prop:value=move || words.get() on:input=move |e| words.set(event_target_value(&e))/>
            <label for="matrix-status">{t("Tình trạng", "Status")}</label>
            <select id="matrix-status" prop:value=move || status.get() on:change=move |e| status.set(event_target_value(&e))>
                <option value="">{t("Tất cả", "All")}</option>
                {statuses.into_iter().map(|(v, s)| view! { <option value=v>{move || status_label(s)}</option> }).collect_view()}
                <option value="due-soon">{t("Sắp đến hạn", "Due soon")}</option>
            </select>
            <label for="matrix-unit">{t("Đơn vị", "Unit")}</label>
            <select id="matrix-unit" prop:value=move || unit.get() on:change=move |e| unit.set(event_target_value(&e))>
                <option value="">{t("Tất cả", "All")}</option>
                {UNIT_KINDS.iter().map(|(k, vi, en_text)| view! { <option value=*k>{t(vi, en_text)}</option> }).collect_view()}
            </select>
            <label for="matrix-group">{t("Cụm, địa bàn", "Group of communes")}</label>
            <select id="matrix-group" prop:value=move || group.get() on:change=move |e| group.set(event_target_value(&e))>
                <option value="">{t("Tất cả", "All")}</option>
                {move || groups().into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
            </select>
            <label for="matrix-sort">{t("Sắp xếp", "Sort")}</label>
            <select id="matrix-sort" on:change=move |e| sort.set(Sort::parse(&event_target_value(&e)))>
                <option value="plan">{t("Theo thứ tự kế hoạch", "In plan order")}</option>
                <option value="overdue">{t("Nhiều xã quá hạn trước", "Most communes overdue first")}</option>
                <option value="least-done">{t("Ít xã hoàn thành trước", "Fewest communes done first")}</option>
            </select>
            <p class="hint">{t("Kỳ báo cáo chọn ở phần tổng hợp phía trên; trạng thái hạn tính đến hôm nay.", "The period is picked in the summary above; deadline statuses are as of today.")}</p>
        </div>
        <div>{body}</div>
    }
}
