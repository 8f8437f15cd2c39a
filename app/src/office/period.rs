//! The office's period summary: the communes under the user's node over a quarter — notes,
//! participants by group, petitions by follow-up, photos — stale communes first, each commune a
//! link to its notes. The last answer is kept on the device, so the screen opens offline and says
//! how old its figures are.

use super::Filter;
use crate::common::i18n::{en, t, tr};
use crate::common::state::Ui;
use crate::common::tasks::{assess_task, now_checked, records_by_cell, status_label};
use crate::js;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::{Figures, OfficeSummary};
use shared::ids::{display_date, display_datetime_vn};
use shared::status::DeadlineStatus;
use shared::vocab::PetitionStatus;
use std::collections::{HashMap, HashSet};

const CACHE_KEY: &str = "office-summary";

/// The quarters the period picker offers: this one and the seven before it.
pub fn recent_quarters() -> Vec<shared::Quarter> {
    let (y, m, _) = shared::ids::vn_civil_date(js::dom::now_ms());
    let mut q = shared::Quarter::of_month(y, m);
    let mut out = Vec::new();
    for _ in 0..8 {
        out.push(q);
        q = q.prev();
    }
    out
}

/// The period a filter holds: a quarter (`2026-Q4`) or a range of days (`2026-10-01..2026-11-15`).
/// Inclusive ISO dates; `None` for anything else (the server then takes the current quarter).
pub fn period_days(period: &str) -> Option<(String, String)> {
    if let Ok(q) = period.parse::<shared::Quarter>() {
        return Some((q.first_day(), q.last_day()));
    }
    let (from, to) = period.split_once("..")?;
    let valid = |d: &str| shared::ids::parse_iso_date(d).is_some();
    (valid(from) && valid(to) && from <= to).then(|| (from.to_string(), to.to_string()))
}

/// `?from=…&to=…` of the chosen period.
pub fn period_query(period: &str) -> String {
    period_days(period)
        .map(|(from, to)| format!("from={from}&to={to}"))
        .unwrap_or_default()
}

/// An activity type's label in the device's language (read now), the word itself if unknown.
fn activity_label(t: Option<&shared::vocab::ActivityType>) -> String {
    match t {
        None => tr("Chưa phân loại", "No type").to_string(),
        Some(k) => match k.labels() {
            Some((vi, en_text)) => tr(vi, en_text).to_string(),
            None => k.to_string(),
        },
    }
}

/// The period picker shared by the office's screens: a recent quarter, or any range of days.
#[component]
pub fn PeriodPicker() -> impl IntoView {
    let filter = expect_context::<Filter>();
    const RANGE: &str = "range";
    let is_range = move || filter.quarter.with(|p| p.contains(".."));
    // The range being typed; it becomes the filter once both ends make a period.
    let (from, to) = period_days(&filter.quarter.get_untracked()).unwrap_or_default();
    let (from, to) = (RwSignal::new(from), RwSignal::new(to));
    let apply = move || {
        let range = format!("{}..{}", from.get_untracked(), to.get_untracked());
        if period_days(&range).is_some() {
            filter.quarter.set(range);
        }
    };
    view! {
        <label for="office-period">{t("Kỳ báo cáo", "Period")}</label>
        <select id="office-period" prop:value=move || if is_range() { RANGE.to_string() } else { filter.quarter.get() }
            on:change=move |e| {
                let v = event_target_value(&e);
                if v == RANGE {
                    // Start from the quarter that was shown.
                    if let Some((f, t)) = period_days(&filter.quarter.get_untracked()) {
                        from.set(f);
                        to.set(t);
                    }
                    apply();
                } else {
                    filter.quarter.set(v);
                }
            }>
            {recent_quarters().into_iter().map(|q| {
                let (n, y) = (q.q, q.year);
                view! { <option value=q.to_string()>{move || if en() { format!("Q{n}/{y}") } else { format!("Quý {n}/{y}") }}</option> }
            }).collect_view()}
            <option value=RANGE>{t("Khoảng ngày khác…", "Other dates…")}</option>
        </select>
        <Show when=is_range>
            <label for="office-from">{t("Từ ngày", "From")}</label>
            <input id="office-from" type="date" prop:value=move || from.get()
                on:change=move |e| { from.set(event_target_value(&e)); apply(); }/>
            <label for="office-to">{t("đến ngày", "to")}</label>
            <input id="office-to" type="date" prop:value=move || to.get()
                on:change=move |e| { to.set(event_target_value(&e)); apply(); }/>
        </Show>
    }
}

/// Each commune's recurring duties not reported for the quarter (task numbers), once the quarter
/// is nearly over: a quarterly report is due by its end, so earlier it is not yet missing. One
/// pass over the plans and the progress records, whatever the number of communes.
fn unreported(
    ui: &Ui,
    communes: &[String],
    period: &str,
    now: i64,
) -> HashMap<String, Vec<String>> {
    let mut out = HashMap::new();
    let Ok(q) = period.parse::<shared::Quarter>() else {
        return out;
    };
    let due_from = shared::status::end_of_day_vn(&q.last_day()).unwrap_or(i64::MAX) - 15 * DAY_MS;
    if now < due_from {
        return out;
    }
    // (commune, task) pairs with a record made in the quarter.
    let reported: HashSet<(String, String)> = ui.progress.with(|p| {
        p.iter()
            .filter(|(_, r)| shared::status::reported_in([r], q))
            .map(|(c, r)| (c.clone(), r.task_id.clone()))
            .collect()
    });
    ui.plans.with(|plans| {
        for t in plans.iter().flat_map(|p| p.tasks.iter()) {
            if t.removed || t.recurrence.is_none() {
                continue;
            }
            for c in communes.iter().filter(|c| t.targets(c)) {
                if !reported.contains(&(c.clone(), t.id.clone())) {
                    out.entry(c.clone())
                        .or_insert_with(Vec::new)
                        .push(t.number.clone());
                }
            }
        }
    });
    out
}

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The period's figures, each a link to the list behind it (the notes, or the petitions register
/// filtered by follow-up).
fn figures_view(f: &Figures) -> impl IntoView + use<> {
    let go = expect_context::<super::Go>().0;
    let filter = expect_context::<Filter>();
    let p = f.participants;
    let pe = f.petitions;
    let figure = move |(vi, en_text): (&'static str, &'static str),
                       n: i64,
                       testid: &'static str,
                       to: Option<&'static str>| {
        let open = move |_| match to {
            None => {
                filter.task.set(String::new());
                go.run(super::Tab::Notes);
            }
            Some(follow_up) => {
                filter.petitions.set(follow_up.to_string());
                go.run(super::Tab::Petitions);
            }
        };
        view! {
            <div><dt>{t(vi, en_text)}</dt><dd data-testid=testid>
                <button type="button" class="link figure" on:click=open>{n}</button>
            </dd></div>
        }
    };
    view! {
        <dl class="figures" data-testid="office-figures">
            {figure(("Ghi chép", "Notes"), f.notes, "figure-notes", None)}
            {figure(("Người tham dự", "Participants"), p.total, "figure-participants", None)}
            {figure(("Nữ", "Women"), p.women, "figure-women", None)}
            {figure(("Dân tộc thiểu số", "Ethnic minority"), p.ethnic_minority, "figure-ethnic", None)}
            {figure(("Tôn giáo", "Religious"), p.religious, "figure-religious", None)}
            {figure(("Kiến nghị chưa giải quyết", "Petitions open"), pe.open, "figure-petitions-open", Some("open"))}
            {figure(("Đã giải quyết", "Answered"), pe.answered, "figure-petitions-answered", Some(PetitionStatus::Answered.as_str()))}
            {figure(("Đã chuyển cấp trên", "Referred"), pe.referred, "figure-petitions-referred", Some(PetitionStatus::Referred.as_str()))}
            {figure(("Ảnh", "Photos"), f.photos, "figure-photos", None)}
        </dl>
    }
}

/// The deadline statuses in the order the office counts and draws them, with their colour class.
const STATUSES: [(DeadlineStatus, &str); 5] = [
    (DeadlineStatus::NotStarted, "todo"),
    (DeadlineStatus::InProgress, "progress"),
    (DeadlineStatus::Overdue, "overdue"),
    (DeadlineStatus::DoneOnTime, "done"),
    (DeadlineStatus::DoneLate, "late"),
];

/// Each task's communes in scope by deadline status (counts in [`STATUSES`] order), and how many
/// are due soon, from the plans and progress documents this device holds: the same statuses the
/// matrix shows.
fn task_statuses(ui: &Ui, communes: &[String]) -> Vec<(String, Vec<i64>, i64)> {
    let (now, _) = now_checked();
    let progress = super::judged_progress(ui);
    let cells = records_by_cell(&progress);
    let mut rows = Vec::new();
    for plan in ui.plans.get() {
        for t in plan.tasks.iter().filter(|t| !t.removed) {
            let mut counts = vec![0; STATUSES.len()];
            let mut soon = 0;
            for c in communes.iter().filter(|c| t.targets(c)) {
                let rs = cells
                    .get(&(c.as_str(), t.id.as_str()))
                    .map_or(&[][..], Vec::as_slice);
                let (a, _) = assess_task(t, rs, now);
                if let Some(i) = STATUSES.iter().position(|(s, _)| *s == a.status) {
                    counts[i] += 1;
                }
                soon += i64::from(a.due_soon);
            }
            rows.push((t.number.clone(), counts, soon));
        }
    }
    rows
}

#[component]
pub fn PeriodSummary(on_commune: Callback<String>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let filter = expect_context::<Filter>();
    let summary = RwSignal::new(None::<OfficeSummary>);
    let offline = RwSignal::new(false);
    // Asked again when the period changes, and every 10 s while the screen is open.
    Effect::new(move |_| {
        let quarter = filter.quarter.get();
        filter.tick.track();
        spawn_local(async move {
            let url = format!("/api/office/summary?{}", period_query(&quarter));
            match js::fetch("GET", &url, None).await {
                Ok((200, body)) => {
                    if let Ok(s) = serde_json::from_str::<OfficeSummary>(&body) {
                        if let Err(e) = js::set_meta(CACHE_KEY, &body).await {
                            js::dom::console_warn(&format!("office cache: {e}"));
                        }
                        summary.try_set(Some(s));
                        offline.try_set(false);
                    }
                }
                _ => {
                    // No answer: show what was seen last, and say how old it is.
                    offline.try_set(true);
                    if summary.try_with_untracked(Option::is_none) == Some(true)
                        && let Ok(Some(body)) = js::get_meta(CACHE_KEY).await
                    {
                        summary.try_set(serde_json::from_str(&body).ok());
                    }
                }
            }
        });
    });
    view! {
        <section class="card" data-testid="period-summary">
            <h2>{t("Tổng hợp theo kỳ", "Summary of the period")}</h2>
            <PeriodPicker/>
            {move || summary.get().map(|s| {
                let (now, _) = now_checked();
                let period = filter.quarter.get();
                // Quiet communes (by the server), and those with a recurring duty not reported.
                let ids: Vec<String> = s.communes.iter().map(|c| c.commune_id.clone()).collect();
                let mut duties = unreported(&ui, &ids, &period, now);
                let mut stale: Vec<_> = s.communes.iter()
                    .map(|c| (c.clone(), duties.remove(&c.commune_id).unwrap_or_default()))
                    .filter(|(c, duties)| c.stale || !duties.is_empty())
                    .collect();
                stale.sort_by_key(|(c, _)| !c.stale);
                view! {
                    <p class="meta" data-testid="office-as-of">
                        {format!("{} {}–{} · {} {}", tr("Kỳ", "Period"), display_date(&s.from), display_date(&s.to),
                            tr("số liệu lúc", "figures as of"), display_datetime_vn(s.as_of))}
                        {move || offline.get().then(|| view! { <strong>{t(" (ngoại tuyến)", " (offline)")}</strong> })}
                    </p>
                    {figures_view(&s.totals)}
                    {
                        let reporting = s.communes.iter().filter(|c| c.figures.notes > 0).count();
                        let expected = s.communes.len();
                        let ids: Vec<String> = s.communes.iter().map(|c| c.commune_id.clone()).collect();
                        view! {
                            <p class="meta" data-testid="communes-reporting" data-reporting=reporting.to_string() data-expected=expected.to_string()>
                                {move || format!("{reporting}/{expected} {}", tr("xã có ghi chép trong kỳ", "communes with notes in the period"))}
                            </p>
                            {move || {
                                let rows = task_statuses(&ui, &ids);
                                let soon: i64 = rows.iter().map(|r| r.2).sum();
                                let sums = (0..STATUSES.len()).map(|i| rows.iter().map(|r| r.1[i]).sum::<i64>());
                                view! {
                                    <dl class="figures" data-testid="task-statuses">
                                        {STATUSES.iter().zip(sums).map(|((s, _), n)| view! {
                                            <div><dt>{status_label(*s)}</dt><dd>{n}</dd></div>
                                        }).collect_view()}
                                        <div><dt>{tr("Sắp đến hạn", "Due soon")}</dt><dd>{soon}</dd></div>
                                    </dl>
                                    <h3>{t("Tình trạng từng nhiệm vụ ở các xã", "Each task's status across the communes")}</h3>
                                    <super::chart::StackedBars
                                        title=tr("Biểu đồ tình trạng từng nhiệm vụ ở các xã (chi tiết ở bảng nhiệm vụ theo xã)", "Chart of each task's status across the communes (details in the table of tasks by commune)").to_string()
                                        parts=STATUSES.iter().map(|(s, class)| (status_label(*s).to_string(), *class)).collect()
                                        rows=rows.into_iter().map(|(label, counts, _)| (label, counts)).collect()/>
                                }
                            }}
                        }
                    }
                    {(!stale.is_empty()).then(|| view! {
                        <h3>{t("Xã cần chú ý", "Communes needing attention")}</h3>
                        <p class="hint">{format!("{} {} {}", tr("Không đồng bộ quá", "No sync for over"), s.stale_days, tr("ngày, chưa có ghi chép trong kỳ, hoặc chưa báo cáo nhiệm vụ định kỳ.", "days, no note in the period, or a recurring duty not reported."))}</p>
                        <ul class="stale-list">
                            {stale.into_iter().map(|(c, duties)| {
                                let id = c.commune_id.clone();
                                let duties = (!duties.is_empty()).then(|| format!(" · {} {}", tr("chưa báo cáo nhiệm vụ định kỳ", "recurring duty not reported:"), duties.join(", ")));
                                view! {
                                    <li data-testid="stale-commune" data-commune-id=c.commune_id.clone()>
                                        <button type="button" class="link" on:click=move |_| on_commune.run(id.clone())>{c.name.clone()}</button>
                                        {format!(" · {} {} · {} {}",
                                            tr("đồng bộ lần cuối", "last sync"),
                                            c.last_sync.map(display_datetime_vn).unwrap_or_else(|| tr("chưa có", "never").into()),
                                            tr("ghi chép gần nhất", "last note"),
                                            c.last_note.as_deref().map(display_date).unwrap_or_else(|| tr("chưa có", "none").into()))}
                                        {duties}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    })}
                    <h3>{t("Người tham dự theo nhóm", "Participants by group")}</h3>
                    {
                        let p = s.totals.participants;
                        view! {
                            <super::chart::BarChart
                                title=tr("Biểu đồ người tham dự theo nhóm (số liệu ở các ô phía trên)", "Chart of participants by group (numbers in the boxes above)").to_string()
                                items=vec![
                                    (tr("Tổng số", "Total").to_string(), p.total),
                                    (tr("Nữ", "Women").to_string(), p.women),
                                    (tr("Dân tộc thiểu số", "Ethnic minority").to_string(), p.ethnic_minority),
                                    (tr("Tôn giáo", "Religious").to_string(), p.religious),
                                ]/>
                        }
                    }
                    <h3>{t("Ghi chép theo xã trong kỳ", "Notes per commune in the period")}</h3>
                    <super::chart::BarChart
                        title=tr("Biểu đồ số ghi chép theo xã (số liệu ở bảng dưới)", "Chart of notes per commune (numbers in the table below)").to_string()
                        items=s.communes.iter().map(|c| (c.name.clone(), c.figures.notes)).collect()/>
                    <h3>{t("Ghi chép theo tuần", "Notes per week")}</h3>
                    <super::chart::LineChart
                        title=tr("Biểu đồ số ghi chép theo tuần (số liệu ở bảng kèm theo)", "Chart of notes per week (numbers in the table beside it)").to_string()
                        points=s.weeks.iter().map(|w| (display_date(&w.monday), w.notes)).collect()/>
                    <details>
                        <summary>{t("Bảng số ghi chép theo tuần", "Table of notes per week")}</summary>
                        <table class="overview" data-testid="weeks-table">
                            <thead><tr><th scope="col">{t("Tuần bắt đầu", "Week of")}</th><th scope="col">{t("Ghi chép", "Notes")}</th></tr></thead>
                            <tbody>
                                {s.weeks.iter().map(|w| view! { <tr><th scope="row">{display_date(&w.monday)}</th><td>{w.notes}</td></tr> }).collect_view()}
                            </tbody>
                        </table>
                    </details>
                    <h3>{t("Hoạt động theo loại", "Activities by type")}</h3>
                    <super::chart::BarChart
                        title=tr("Biểu đồ số ghi chép theo loại hoạt động (số liệu ở bảng kèm theo)", "Chart of notes by activity type (numbers in the table beside it)").to_string()
                        items=s.activities.iter().map(|a| (activity_label(a.activity_type.as_ref()), a.notes)).collect()/>
                    <table class="overview" data-testid="activities-table">
                        <thead><tr>
                            <th scope="col">{t("Loại hoạt động", "Activity type")}</th>
                            <th scope="col">{t("Ghi chép", "Notes")}</th>
                            <th scope="col">{t("Người tham dự", "Participants")}</th>
                        </tr></thead>
                        <tbody>
                            {s.activities.iter().map(|a| view! {
                                <tr><th scope="row">{activity_label(a.activity_type.as_ref())}</th><td>{a.notes}</td><td>{a.participants}</td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    <div class="scroll" tabindex="0" role="region" aria-label=tr("Bảng tổng hợp theo xã", "Table by commune")>
                        <table class="overview" data-testid="period-table">
                            <thead><tr>
                                <th scope="col">{t("Xã", "Commune")}</th>
                                <th scope="col">{t("Ghi chép", "Notes")}</th>
                                <th scope="col">{t("Người tham dự", "Participants")}</th>
                                <th scope="col">{t("Kiến nghị chưa giải quyết", "Open petitions")}</th>
                                <th scope="col">{t("Ảnh", "Photos")}</th>
                            </tr></thead>
                            <tbody>
                                {s.communes.into_iter().map(|c| {
                                    let id = c.commune_id.clone();
                                    view! {
                                        <tr data-testid="period-row" data-commune-id=c.commune_id.clone() data-notes=c.figures.notes.to_string() class:stale=c.stale>
                                            <th scope="row"><button type="button" class="link" on:click=move |_| on_commune.run(id.clone())>{c.name.clone()}</button></th>
                                            <td>{c.figures.notes}</td>
                                            <td>{c.figures.participants.total}</td>
                                            <td>{c.figures.petitions.open}</td>
                                            <td>{c.figures.photos}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                }
            })}
        </section>
    }
}
