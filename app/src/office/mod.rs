//! The office bundle (the aggregating level, at `/office/`): tabs for the overview, the communes'
//! notes, the petitions register, the plan editor and the org tree (the last two by role), the
//! filter the screens share, and the loop that keeps the figures fresh.

pub mod accounts;
pub mod chart;
pub mod desk;
pub mod drill;
pub mod notes;
pub mod org_admin;
pub mod period;
pub mod petitions;
pub mod plan_editor;
pub mod report;

/// Opens the notes of a commune for a task (a matrix cell's drill-down).
#[derive(Clone, Copy)]
pub struct OpenNotes(pub Callback<(String, String)>);

/// What the office's screens are looking at: one period, one commune (or all), a task, some words.
/// `tick` moves when the server says figures changed (or every 30 s), so open screens ask again.
#[derive(Clone, Copy)]
pub struct Filter {
    pub quarter: RwSignal<String>,
    pub commune: RwSignal<String>,
    pub task: RwSignal<String>,
    pub words: RwSignal<String>,
    /// The petitions register's follow-up filter: a status word, `open` (neither answered nor
    /// referred), or empty for all.
    pub petitions: RwSignal<String>,
    pub tick: RwSignal<u32>,
}

/// Progress records whose "done" the server judges by its receipt (see `OverviewResponse::judged`).
#[derive(Clone, Copy)]
pub struct Judged(RwSignal<Vec<shared::api::JudgedDone>>);

/// The progress records this device holds, each "done" as the server judges it: what the office's
/// statuses are computed from.
pub fn judged_progress(ui: &Ui) -> Vec<(String, shared::schema::ProgressRecord)> {
    let mut progress = ui.progress.get();
    if let Some(Judged(judged)) = use_context::<Judged>() {
        judged.with(|j| {
            if !j.is_empty() {
                for (commune, r) in &mut progress {
                    shared::api::JudgedDone::apply(j, commune, r);
                }
            }
        });
    }
    progress
}

/// Opens one of the office's screens (a figure's link to the list behind it).
#[derive(Clone, Copy)]
pub struct Go(pub Callback<Tab>);

use crate::common::i18n::t;
use crate::common::state::Ui;
use crate::driver;
use crate::js;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::OverviewResponse;
use shared::vocab::Role;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Overview,
    Notes,
    Petitions,
    Report,
    Plans,
    Org,
    Accounts,
}

#[component]
pub fn Desk() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let role = move || ui.session.with(|s| s.as_ref().map(|s| s.user.role.clone()));
    // Least privilege: the communes' figures only for viewers (an administrator or editor who
    // also holds the viewer role); the others start on the screen they work in.
    let reads = move || ui.session.with(reads_communes);
    let first = match (
        ui.session.with_untracked(reads_communes),
        ui.session
            .with_untracked(|s| s.as_ref().map(|s| s.user.role.clone())),
    ) {
        (true, _) => Tab::Overview,
        (false, Some(Role::Admin)) => Tab::Accounts,
        (false, _) => Tab::Plans,
    };
    let tab = RwSignal::new(first);
    let filter = Filter {
        quarter: RwSignal::new(
            period::recent_quarters()
                .first()
                .map(ToString::to_string)
                .unwrap_or_default(),
        ),
        commune: RwSignal::new(String::new()),
        task: RwSignal::new(String::new()),
        words: RwSignal::new(String::new()),
        petitions: RwSignal::new(String::new()),
        tick: RwSignal::new(0),
    };
    provide_context(filter);
    // Taken here, not inside the loop below: after an `await` there is no reactive owner to
    // look a context up in.
    let judged = RwSignal::new(Vec::new());
    provide_context(Judged(judged));
    provide_context(Go(Callback::new(move |to: Tab| tab.set(to))));
    // A commune picked on the overview opens its notes.
    let open_commune = Callback::new(move |id: String| {
        filter.commune.set(id);
        filter.task.set(String::new());
        tab.set(Tab::Notes);
    });
    provide_context(OpenNotes(Callback::new(
        move |(commune, task): (String, String)| {
            filter.commune.set(commune);
            filter.task.set(task);
            tab.set(Tab::Notes);
        },
    )));
    // The server pushes a `change` when a commune's figures move: screens read again then (and
    // every 30 s, should the push be cut), never by polling every few seconds.
    js::on_server_events("/api/office/events", move |_| {
        filter.tick.try_update(|t| *t += 1);
    });
    spawn_local(async move {
        let mut seen = u32::MAX;
        let mut waited = 0u32;
        // The desk lives as long as the page; should it go, so does this loop.
        while let Some(tick) = filter.tick.try_get_untracked() {
            if tick != seen || waited >= 60 {
                if waited >= 60 {
                    filter.tick.try_update(|t| *t += 1);
                }
                seen = filter.tick.try_get_untracked().unwrap_or(tick);
                waited = 0;
                if let Some(o) = js::get_json::<OverviewResponse>("/api/overview").await {
                    ui.overview.set(o.communes);
                    judged.set(o.judged);
                }
                // New communes' documents (their first progress, a new plan) appear in the list.
                driver::refresh_docs().await;
            }
            waited += 1;
            js::dom::sleep(500).await;
        }
    });
    let tab_button =
        move |which: Tab, (vi, en_text): (&'static str, &'static str), testid: &'static str| {
            view! {
                <button type="button" role="tab" class="tab" data-testid=testid
                    aria-selected=move || (tab.get() == which).to_string()
                    on:click=move |_| tab.set(which)>{t(vi, en_text)}</button>
            }
        };
    view! {
        <p class="who">{move || ui.session.with(|s| s.as_ref().map(|s| s.user.display_name.clone()).unwrap_or_default())} <crate::common::login::Logout/></p>
        <nav class="tabs" role="tablist">
            <Show when=reads>
                {tab_button(Tab::Overview, ("Tổng hợp", "Overview"), "tab-overview")}
                {tab_button(Tab::Notes, ("Ghi chép", "Notes"), "tab-notes")}
                {tab_button(Tab::Petitions, ("Kiến nghị", "Petitions"), "tab-petitions")}
                {tab_button(Tab::Report, ("Báo cáo", "Report"), "tab-report")}
            </Show>
            <Show when=move || matches!(role(), Some(Role::Editor | Role::Admin))>
                {tab_button(Tab::Plans, ("Kế hoạch", "Plans"), "tab-plans")}
            </Show>
            <Show when=move || role() == Some(Role::Admin)>
                {tab_button(Tab::Org, ("Tổ chức", "Organisation"), "tab-org")}
                {tab_button(Tab::Accounts, ("Tài khoản", "Accounts"), "tab-accounts")}
            </Show>
        </nav>
        {move || match tab.get() {
            Tab::Overview => view! { <period::PeriodSummary on_commune=open_commune/> <desk::CommuneTable/> <desk::Matrix/> }.into_any(),
            Tab::Notes => view! { <notes::NotesSearch/> }.into_any(),
            Tab::Petitions => view! { <petitions::PetitionsRegister/> }.into_any(),
            Tab::Report => view! { <report::ReportScreen/> }.into_any(),
            Tab::Plans => view! { <plan_editor::PlanEditor/> }.into_any(),
            Tab::Org => view! { <org_admin::OrgAdmin/> }.into_any(),
            Tab::Accounts => view! { <accounts::AccountsAdmin/> }.into_any(),
        }}
    }
}

/// Whether the session's user reads the communes' work (see `UserInfo::reads_communes`; a session
/// kept from before that field is a viewer's if its role says so).
fn reads_communes(s: &Option<crate::common::state::Session>) -> bool {
    s.as_ref()
        .is_some_and(|s| s.user.reads_communes || s.user.role == Role::Viewer)
}
