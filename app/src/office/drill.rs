//! The drill-down above the office's notes: a commune's page (its units and hamlets, its last
//! sync, every task's status with each unit's records and their history), a task's page (its
//! status in every commune), or both (that commune's records for that task). Read from the plans
//! and progress documents this device holds; the notes below them come from the server.

use super::Filter;
use crate::common::i18n::{t, tr};
use crate::common::state::Ui;
use crate::common::tasks::{StatusChip, TaskList, assess_task, now_checked};
use leptos::prelude::*;
use shared::ids::display_datetime_vn;
use shared::vocab::OrgLevel;

/// The page for what the filter points at: a commune, a task, or a commune's task.
#[component]
pub fn Drill() -> impl IntoView {
    let filter = expect_context::<Filter>();
    move || {
        let (commune, task) = (filter.commune.get(), filter.task.get());
        if !commune.is_empty() {
            let only = (!task.is_empty()).then_some(task);
            Some(view! { <CommunePage commune=commune only=only/> }.into_any())
        } else if !task.is_empty() {
            Some(view! { <TaskPage task=task/> }.into_any())
        } else {
            None
        }
    }
}

/// A commune: who works there (its units, its hamlets), when it last synced, and its tasks.
#[component]
fn CommunePage(commune: String, only: Option<String>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let c = commune.clone();
    let children = move |level: OrgLevel| {
        let mut v: Vec<String> = ui.org.with(|o| {
            o.iter()
                .filter(|n| n.level == level && !n.removed && n.parent.as_deref() == Some(&c))
                .map(|n| n.name.clone())
                .collect()
        });
        v.sort();
        v.join(", ")
    };
    let (units, hamlets) = (children(OrgLevel::Unit), children(OrgLevel::Hamlet));
    let c = commune.clone();
    let last_sync = move || {
        ui.overview
            .with(|o| {
                o.iter()
                    .find(|r| r.commune_id == c)
                    .and_then(|r| r.last_sync)
            })
            .map(display_datetime_vn)
            .unwrap_or_else(|| tr("chưa có", "never").into())
    };
    let heading = if only.is_some() {
        t(
            "Tiến độ nhiệm vụ tại xã",
            "The task's progress in the commune",
        )
    } else {
        t("Trang của xã", "The commune's page")
    };
    let (name, id) = (ui.node_name(&commune), commune.clone());
    view! {
        <section class="card" data-testid="commune-page" data-commune-id=id>
            <h2>{heading} " · " {name}</h2>
            <p class="meta">{t("Đồng bộ lần cuối: ", "Last sync: ")}{last_sync}</p>
            {(!units.is_empty()).then(|| view! {
                <p class="meta" data-testid="commune-units">{t("Đơn vị: ", "Units: ")}{units}</p>
            })}
            {(!hamlets.is_empty()).then(|| view! {
                <p class="meta">{t("Thôn, bon, tổ dân phố: ", "Hamlets: ")}{hamlets}</p>
            })}
            <TaskList commune=commune read_only=true only=only/>
        </section>
    }
}

/// A task across the communes in the user's scope: its status in each, each a link to that
/// commune's records and notes for it.
#[component]
fn TaskPage(task: String) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let filter = expect_context::<Filter>();
    let found = ui.plans.with_untracked(|plans| {
        plans
            .iter()
            .flat_map(|p| p.tasks.iter())
            .find(|t| t.id == task)
            .cloned()
    });
    let Some(found) = found else {
        return ().into_any();
    };
    let heading = format!("{} {}", found.number, found.title);
    let rows = move || {
        let (now, _) = now_checked();
        let progress = super::judged_progress(&ui);
        ui.overview
            .get()
            .into_iter()
            .filter(|c| found.targets(&c.commune_id))
            .map(|c| {
                let rs: Vec<_> = progress
                    .iter()
                    .filter(|(pc, r)| *pc == c.commune_id && r.task_id == found.id)
                    .map(|(_, r)| r)
                    .collect();
                let (a, p) = assess_task(&found, &rs, now);
                let id = c.commune_id.clone();
                view! {
                    <li data-testid="task-commune" data-commune-id=c.commune_id.clone() data-status=format!("{:?}", a.status)>
                        <button type="button" class="link" on:click=move |_| filter.commune.set(id.clone())>{c.name.clone()}</button>
                        " " <StatusChip assessment=a percent=p.percent/>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <section class="card" data-testid="task-page">
            <h2>{t("Nhiệm vụ: ", "Task: ")}{heading}</h2>
            <ul class="stale-list">{rows}</ul>
        </section>
    }
    .into_any()
}
