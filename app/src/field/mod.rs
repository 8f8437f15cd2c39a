//! The field bundle (members' phones, at `/`): the tabs screen — my tasks, the notes list, the note
//! form and the sync screen — with the tab kept in the address.

mod draft;
mod note_form;
mod notes_list;
mod photos;
mod sync_screen;

use crate::common::i18n::t;
use crate::common::state::Ui;
use crate::js;
use leptos::prelude::*;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Tab {
    Tasks,
    Notes,
    New,
    Sync,
}

impl Tab {
    fn hash(self) -> &'static str {
        match self {
            Tab::Tasks => "#nhiem-vu",
            Tab::Notes => "#ghi-chep",
            Tab::New => "#ghi-moi",
            Tab::Sync => "#dong-bo",
        }
    }
    fn from_hash(h: &str) -> Tab {
        [Tab::Notes, Tab::New, Tab::Sync]
            .into_iter()
            .find(|t| t.hash() == h)
            .unwrap_or(Tab::Tasks)
    }
}

thread_local! {
    /// The tab on screen, kept in the address (`#ghi-chep`) so a reload stays where the user was. A
    /// global, not a context: tabs change from async tasks too (after a save), outside any owner.
    static TAB: std::cell::Cell<Option<RwSignal<Tab>>> = const { std::cell::Cell::new(None) };
}

/// Show `tab` (no-op if it is already shown: re-creating it would reset what the user typed).
pub fn go(tab: Tab) {
    if let Some(s) = TAB.with(std::cell::Cell::get)
        && s.get_untracked() != tab
    {
        s.set(tab);
    }
    js::dom::set_location_hash(tab.hash());
}

fn my_commune(ui: &Ui) -> Option<String> {
    ui.session
        .with_untracked(|s| s.as_ref().and_then(|s| s.user.commune_id.clone()))
}

#[component]
pub fn Field() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let tab = RwSignal::new(Tab::from_hash(&js::dom::location_hash()));
    TAB.with(|t| t.set(Some(tab)));
    let commune_name = move || {
        let c = ui
            .session
            .with(|s| s.as_ref().and_then(|s| s.user.commune_id.clone()));
        ui.org
            .with(|org| {
                org.iter()
                    .find(|n| Some(&n.id) == c.as_ref())
                    .map(|n| n.name.clone())
            })
            .or(c)
            .unwrap_or_default()
    };
    let nav = move |which: Tab, vi: &'static str, en_text: &'static str, testid: &'static str| {
        let label = t(vi, en_text);
        view! {
            <a href=which.hash() data-testid=testid class="nav"
                aria-current=move || if tab.get() == which { "page" } else { "false" }
                on:click=move |ev| { ev.prevent_default(); go(which); }>{label}</a>
        }
    };
    view! {
        <p class="who">{move || ui.session.with(|s| s.as_ref().map(|s| s.user.display_name.clone()).unwrap_or_default())}
            " · " {commune_name}</p>
        <Show when=move || ui.persistent.get() == Some(false)>
            <p class="warn">{t("Trình duyệt chưa cho phép lưu trữ bền vững: hãy cài ứng dụng vào màn hình chính và đồng bộ thường xuyên.",
                "The browser has not granted persistent storage: install the app to the home screen and sync often.")}</p>
        </Show>
        {move || match tab.get() {
            Tab::Tasks => my_commune(&ui).map(|c| view! { <crate::common::tasks::TaskList commune=c/> }).into_any(),
            Tab::Notes => view! { <notes_list::NotesList/> }.into_any(),
            Tab::New => view! { <note_form::NoteForm/> }.into_any(),
            Tab::Sync => view! { <sync_screen::SyncScreen/> }.into_any(),
        }}
        // After the content, sticky at the bottom: within the thumb's reach.
        <nav class="bottom" aria-label=t("Các màn hình", "Screens")>
            {nav(Tab::Tasks, "Nhiệm vụ", "Tasks", "nav-tasks")}
            {nav(Tab::Notes, "Ghi chép", "Notes", "nav-notes")}
            {nav(Tab::New, "Ghi mới", "New note", "nav-new")}
            {nav(Tab::Sync, "Đồng bộ", "Sync", "nav-sync")}
        </nav>
    }
}
