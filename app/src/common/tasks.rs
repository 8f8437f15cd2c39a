//! A commune's tasks: deadline status (words and colour), the plan's text, every unit's progress
//! with attribution, and the form where a unit records its own.

use crate::common::i18n::{en, t, tr};
use crate::common::state::{Ui, unit_kind_name};
use crate::driver;
use crate::js;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::ids::{Quarter, display_datetime_vn, vn_civil_date};
use shared::schema::{ProgressRecord, Task};
use shared::status::{Assessment, Progress, assess, merge_progress, reported_in, trusted_now};
use shared::vocab::OrgLevel;
use shared::vocab::Recurrence;

/// Now, by the device clock checked against the server time remembered at the last sync; and
/// whether the device clock looks wrong.
pub fn now_checked() -> (i64, bool) {
    let server = js::dom::local_get(driver::SERVER_TIME_KEY).and_then(|s| s.parse().ok());
    trusted_now(js::dom::now_ms(), server)
}

pub fn current_quarter(now: i64) -> Quarter {
    let (y, m, _) = vn_civil_date(now);
    Quarter::of_month(y, m)
}

/// A task's status in one commune from that commune's progress records.
pub fn assess_task(task: &Task, records: &[&ProgressRecord], now: i64) -> (Assessment, Progress) {
    let p = merge_progress(records.iter().copied(), &task.lead_units);
    (
        assess(task.deadline.as_deref(), p, now, shared::report::WARN_DAYS),
        p,
    )
}

pub fn recurrence_label(r: &Recurrence) -> &'static str {
    r.labels()
        .map_or(tr("Định kỳ", "Recurring"), |(vi, en_text)| {
            tr(vi, en_text)
        })
}

/// Progress records by (commune, task): one pass, so a screen of every commune × every task does
/// not scan all records per cell.
pub fn records_by_cell(
    progress: &[(String, ProgressRecord)],
) -> std::collections::HashMap<(&str, &str), Vec<&ProgressRecord>> {
    let mut map: std::collections::HashMap<(&str, &str), Vec<&ProgressRecord>> =
        std::collections::HashMap::new();
    for (c, r) in progress {
        map.entry((c.as_str(), r.task_id.as_str()))
            .or_default()
            .push(r);
    }
    map
}

/// The status words in the device's language.
pub fn status_label(s: shared::status::DeadlineStatus) -> &'static str {
    tr(s.label_vi(), s.label_en())
}

fn units_label(kinds: &[String]) -> String {
    kinds
        .iter()
        .map(|k| unit_kind_name(k))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The status chip: words always, colour as a second cue.
#[component]
pub fn StatusChip(assessment: Assessment, percent: u8) -> impl IntoView {
    let soon = if assessment.due_soon {
        tr(" · sắp đến hạn", " · due soon")
    } else {
        ""
    };
    let pct = if percent > 0 && percent < 100 {
        format!(" · {percent}%")
    } else {
        String::new()
    };
    view! {
        <span class=assessment.status.css(assessment.due_soon) data-testid="task-status">
            {format!("{}{pct}{soon}", status_label(assessment.status))}
        </span>
    }
}

/// The tasks of the plans that target this commune, in plan order. The aggregating level reads
/// it `read_only` (no progress form: a unit records its own), and may ask for `only` one task,
/// shown open.
#[component]
pub fn TaskList(
    commune: String,
    #[prop(optional)] read_only: bool,
    #[prop(optional, into)] only: Signal<Option<String>>,
) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let c = commune.clone();
    let rows = move || {
        let only = only.get();
        ui.plans.with(|plans| {
            plans
                .iter()
                .flat_map(|p| {
                    p.tasks
                        .iter()
                        .filter(|t| t.targets(&c))
                        .filter(|t| only.as_ref().is_none_or(|o| *o == t.id))
                        .map(|t| (p.id.clone(), t.clone()))
                        .collect::<Vec<_>>()
                })
                .collect::<Vec<_>>()
        })
    };
    view! {
        <section class="card">
            <h2>{t("Nhiệm vụ theo kế hoạch", "Tasks of the plan")}</h2>
            {move || {
                let (_, suspect) = now_checked();
                suspect.then(|| view! {
                    <p class="warn" role="alert">{t("Đồng hồ của máy có vẻ sai (chậm hơn giờ máy chủ). Trạng thái hạn được tính theo giờ máy chủ lần đồng bộ cuối.", "This phone's clock looks wrong (behind the server). Deadlines are judged by the server time of the last sync.")}</p>
                })
            }}
            <ul class="tasks">
                <For each=rows key=|(p, t)| format!("{p}/{t:?}") let:row>
                    <TaskItem plan_id=row.0 task=row.1 commune=commune.clone() read_only=read_only
                        open=only.get_untracked().is_some()/>
                </For>
            </ul>
        </section>
    }
}

#[component]
fn TaskItem(
    plan_id: String,
    task: Task,
    commune: String,
    read_only: bool,
    open: bool,
) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let open = RwSignal::new(open);
    let t = task.clone();
    let c = commune.clone();
    let records = move || {
        ui.progress.with(|p| {
            p.iter()
                .filter(|(pc, r)| *pc == c && r.task_id == t.id)
                .map(|(_, r)| r.clone())
                .collect::<Vec<_>>()
        })
    };
    let t = task.clone();
    let status = {
        let records = records.clone();
        move || {
            let rs = records();
            let refs: Vec<&ProgressRecord> = rs.iter().collect();
            let (now, _) = now_checked();
            let (a, p) = assess_task(&t, &refs, now);
            view! { <StatusChip assessment=a percent=p.percent/> }
        }
    };
    let t = task.clone();
    let recurring = {
        let records = records.clone();
        move || {
            let r = t.recurrence.clone()?;
            let rs = records();
            let q = current_quarter(now_checked().0);
            let done = reported_in(&rs, q);
            let text = format!(
                "{} · {} {}/{}: {}",
                recurrence_label(&r),
                tr("quý", "quarter"),
                q.q,
                q.year,
                if done {
                    tr("đã báo cáo", "reported")
                } else {
                    tr("chưa báo cáo", "not reported")
                }
            );
            Some(
                view! { <span class=if done { "status done" } else { "status todo" } data-testid="task-period">{text}</span> },
            )
        }
    };
    let lead = units_label(&task.lead_units);
    let partners = units_label(&task.partner_units);
    let deadline = task
        .deadline
        .as_deref()
        .map(|d| format!("{} {}", tr("Hạn:", "Due:"), shared::ids::display_date(d)));
    let id_attr = task.id.clone();
    view! {
        <li data-testid="task-item" data-task-id=id_attr>
            <button type="button" class="task-head" aria-expanded=move || open.get().to_string()
                on:click=move |_| open.update(|o| *o = !*o)>
                <span class="num">{task.number.clone()}</span>
                <span>{task.title.clone()}</span>
            </button>
            <div class="chips">{status}{recurring}</div>
            <Show when=move || open.get()>
                <TaskDetail plan_id=plan_id.clone() task=task.clone() commune=commune.clone()
                    lead=lead.clone() partners=partners.clone() deadline=deadline.clone() read_only=read_only/>
            </Show>
        </li>
    }
}

#[component]
fn TaskDetail(
    plan_id: String,
    task: Task,
    commune: String,
    lead: String,
    partners: String,
    deadline: Option<String>,
    read_only: bool,
) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let tid = task.id.clone();
    let c = commune.clone();
    let records = move || {
        ui.progress.with(|p| {
            p.iter()
                .filter(|(pc, r)| *pc == c && r.task_id == tid)
                .map(|(_, r)| r.clone())
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="task-detail" data-testid="task-detail">
            <p class="meta">
                {(!lead.is_empty()).then(|| format!("{} {lead}. ", tr("Chủ trì:", "Lead:")))}
                {(!partners.is_empty()).then(|| format!("{} {partners}. ", tr("Phối hợp:", "With:")))}
                {deadline}
            </p>
            <p class="content">{task.text.clone()}</p>
            {(!task.indicators.is_empty()).then(|| view! {
                <h3>{t("Chỉ tiêu", "Indicators")}</h3>
                <ul class="indicators" data-testid="indicators">
                    {task.indicators.iter().map(|i| {
                        let target = i.target.map(|t| format!(": {t} {}", i.unit_of_measure)).unwrap_or_default();
                        view! { <li>{format!("{}{target}", i.name)}</li> }
                    }).collect_view()}
                </ul>
            })}
            <h3>{t("Tiến độ của các đơn vị", "Progress of each unit")}</h3>
            <ul class="progress">
                {move || records().into_iter().map(|r| view! {
                    <li data-testid="unit-progress" data-unit=r.unit.clone()>
                        <strong>{unit_kind_name(&r.unit)}</strong>
                        {format!(": {}%", r.percent)}
                        {r.done_at.map(|_| tr(" · đã hoàn thành", " · done"))}
                        <span class="meta">{format!(" — {} · {}", r.by, display_datetime_vn(r.at))}</span>
                        {(!r.remark.is_empty()).then(|| view! { <div>{r.remark.clone()}</div> })}
                    </li>
                }).collect_view()}
            </ul>
            <History plan_id=plan_id.clone() task_id=task.id.clone() commune=commune.clone()/>
            {(!read_only).then(|| view! { <ProgressForm plan_id=plan_id task=task commune=commune/> })}
        </div>
    }
}

/// One unit records its own progress: it never overwrites another unit's record.
#[component]
fn ProgressForm(plan_id: String, task: Task, commune: String) -> impl IntoView {
    let ui = expect_context::<Ui>();
    // The commune's units from the org tree; the plan's named units if the tree has none.
    let c = commune.clone();
    let task2 = task.clone();
    let units = move || {
        let mut v: Vec<(String, String)> = ui.org.with(|o| {
            o.iter()
                .filter(|n| {
                    n.level == OrgLevel::Unit && !n.removed && n.parent.as_deref() == Some(&c)
                })
                .filter_map(|n| Some((n.kind.clone()?, n.name.clone())))
                .collect()
        });
        if v.is_empty() {
            v = task2
                .lead_units
                .iter()
                .chain(&task2.partner_units)
                .map(|k| (k.clone(), unit_kind_name(k)))
                .collect();
        }
        v
    };
    // The member's own unit when their account names one of these; else the first.
    let mine = ui
        .session
        .with_untracked(|s| s.as_ref().and_then(|s| s.user.unit.clone()));
    let first = mine
        .filter(|m| units().iter().any(|(k, _)| k == m))
        .or_else(|| units().first().map(|u| u.0.clone()))
        .unwrap_or_default();
    let unit = RwSignal::new(first);
    let percent = RwSignal::new(String::from("0"));
    let remark = RwSignal::new(String::new());
    let done = RwSignal::new(false);
    let message = RwSignal::new(None::<(bool, String)>);
    let tid = task.id.clone();
    let fid = format!("p-{}", task.id);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(pct) = percent.get_untracked().trim().parse::<i64>() else {
            message.set(Some((
                false,
                tr(
                    "Tỷ lệ hoàn thành phải là số từ 0 đến 100.",
                    "Progress must be a number from 0 to 100.",
                )
                .into(),
            )));
            return;
        };
        let u = unit.get_untracked();
        if u.is_empty() {
            message.set(Some((
                false,
                tr("Vui lòng chọn đơn vị.", "Choose your unit.").into(),
            )));
            return;
        }
        let now = js::dom::now_ms();
        let is_done = done.get_untracked();
        let record = ProgressRecord {
            task_id: tid.clone(),
            unit: u,
            percent: if is_done { 100 } else { pct },
            remark: remark.get_untracked().trim().to_string(),
            by: ui.session.with_untracked(|s| {
                s.as_ref()
                    .map(|s| s.user.username.clone())
                    .unwrap_or_default()
            }),
            at: now,
            done_at: is_done.then_some(now),
        };
        let plan = plan_id.clone();
        spawn_local(async move {
            // The form is redrawn when the record changes: its message is only tried.
            let answer = match driver::save_progress(plan, record).await {
                Ok(()) => (
                    true,
                    tr("Đã lưu tiến độ trên máy.", "Progress saved on this device.").into(),
                ),
                Err(e) => (false, e),
            };
            message.try_set(Some(answer));
        });
    };
    let (f_unit, f_pct, f_remark, f_done) = (
        format!("{fid}-unit"),
        format!("{fid}-pct"),
        format!("{fid}-remark"),
        format!("{fid}-done"),
    );
    view! {
        <form class="progress-form" on:submit=submit data-testid="progress-form">
            <label for=f_unit.clone()>{t("Đơn vị của tôi", "My unit")}</label>
            <select id=f_unit on:change=move |e| unit.set(event_target_value(&e)) prop:value=move || unit.get()>
                {units().into_iter().map(|(k, name)| view! { <option value=k>{name}</option> }).collect_view()}
            </select>
            <label for=f_pct.clone()>{t("Tỷ lệ hoàn thành (%)", "Progress (%)")}</label>
            <input id=f_pct type="number" min="0" max="100" inputmode="numeric"
                prop:value=move || percent.get() on:input=move |e| percent.set(event_target_value(&e))/>
            <label for=f_remark.clone()>{t("Ghi chú ngắn", "Short remark")}</label>
            <input id=f_remark maxlength="500" prop:value=move || remark.get() on:input=move |e| remark.set(event_target_value(&e))/>
            <label class="check" for=f_done.clone()>
                <input id=f_done.clone() type="checkbox" prop:checked=move || done.get() on:change=move |e| done.set(event_target_checked(&e))/>
                {t(" Đơn vị đã hoàn thành nhiệm vụ", " My unit has finished this task")}
            </label>
            <crate::common::message::MessageLine message=message/>
            <button type="submit" data-testid="save-progress">{t("Lưu tiến độ", "Save progress")}</button>
        </form>
    }
}

/// Who changed this task's progress in the commune, and when: every version of every unit's record,
/// read from the progress document's history (so nothing anyone recorded is hidden by later edits).
#[component]
fn History(plan_id: String, task_id: String, commune: String) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let open = RwSignal::new(false);
    let rows = move || {
        // Recomputed when the progress changes (synced or local) while the history is open.
        ui.progress.track();
        if !open.get() {
            return Vec::new();
        }
        let mut h = driver::progress_history(&plan_id, &commune, &task_id);
        h.reverse();
        h
    };
    view! {
        <details class="history" data-testid="task-history"
            on:toggle=move |e| open.set(js::dom::details_open(&e))>
            <summary>{t("Lịch sử thay đổi", "History of changes")}</summary>
            <ul class="progress">
                {move || rows().into_iter().map(|r| {
                    let when = display_datetime_vn(r.at);
                    let done = r.done_at.map(|_| tr(", hoàn thành", ", done")).unwrap_or_default();
                    let text = if en() {
                        format!("{when}: {} set {} to {}%{done}", r.by, unit_kind_name(&r.unit), r.percent)
                    } else {
                        format!("{when}: {} ghi {} {}%{done}", r.by, unit_kind_name(&r.unit), r.percent)
                    };
                    view! {
                        <li data-testid="history-row">{text}
                            {(!r.remark.is_empty()).then(|| view! { <div class="meta">{r.remark.clone()}</div> })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        </details>
    }
}
