//! The office bundle (the aggregating level, at `/office/`): tabs for the overview, the plan editor
//! and the org tree (the last two by role), and the loop that keeps the overview fresh.

pub mod desk;
pub mod org_admin;
pub mod plan_editor;

use crate::common::i18n::t;
use crate::common::state::Ui;
use crate::driver;
use crate::js;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::OverviewResponse;
use shared::vocab::Role;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Overview,
    Plans,
    Org,
}

#[component]
pub fn Desk() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let tab = RwSignal::new(Tab::Overview);
    let role = move || ui.session.with(|s| s.as_ref().map(|s| s.user.role.clone()));
    spawn_local(async move {
        let mut n = 0u32;
        loop {
            if let Some(o) = js::get_json::<OverviewResponse>("/api/overview").await {
                ui.overview.set(o.communes);
            }
            // New communes' documents (their first progress, a new plan) appear in the list.
            if n.is_multiple_of(5) {
                driver::refresh_docs().await;
            }
            n += 1;
            js::dom::sleep(2000).await;
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
            {tab_button(Tab::Overview, ("Tổng hợp", "Overview"), "tab-overview")}
            <Show when=move || matches!(role(), Some(Role::Editor | Role::Admin))>
                {tab_button(Tab::Plans, ("Kế hoạch", "Plans"), "tab-plans")}
            </Show>
            <Show when=move || role() == Some(Role::Admin)>
                {tab_button(Tab::Org, ("Tổ chức", "Organisation"), "tab-org")}
            </Show>
        </nav>
        {move || match tab.get() {
            Tab::Overview => view! { <desk::CommuneTable/> <desk::Matrix/> }.into_any(),
            Tab::Plans => view! { <plan_editor::PlanEditor/> }.into_any(),
            Tab::Org => view! { <org_admin::OrgAdmin/> }.into_any(),
        }}
    }
}
