//! The frame around every screen: the header (sync badge, language), the install, update and error
//! banners, and which bundle's screens a session gets.

use crate::common::i18n::{en, t, tr};
use crate::common::state::{Session, Ui};
use crate::driver;
use crate::js;
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn App() -> impl IntoView {
    crate::common::i18n::init();
    let ui = Ui::new();
    provide_context(ui);
    let pwa = move || {
        ui.can_install.set(js::can_install());
        ui.update_ready.set(js::update_waiting());
    };
    pwa();
    js::on_pwa_change(pwa);
    match Session::load() {
        Some(s) if !in_this_bundle(&s) => go_to_bundle(&s),
        Some(s) => {
            ui.session.set(Some(s.clone()));
            spawn_local(driver::start(s, ui));
        }
        None => js::dom::set_body_attr("data-app-ready", "true"),
    }
    view! {
        <header class="top">
            // On a phone the header keeps one line: "Dân vận" (the short name of the manifest).
            <div class="brand"><span class="brand-long">{t("Sổ tay ", "Notebook · ")}</span>"Dân vận"</div>
            <Show when=move || ui.session.with(Option::is_some)>
                <SyncBadge/>
            </Show>
            <crate::common::i18n::LangSwitch/>
        </header>
        <Show when=move || ui.update_ready.get()>
            <p class="banner" role="status" data-testid="update-banner">
                {t("Có phiên bản mới của ứng dụng. Bản nháp đang nhập được giữ nguyên.", "A new version of the app is ready. Your draft is kept.")}
                <button type="button" class="link" data-testid="apply-update" on:click=move |_| js::apply_update()>{t("Cập nhật", "Update")}</button>
            </p>
        </Show>
        <Show when=move || ui.can_install.get()>
            <p class="banner install" data-testid="install-banner">
                {t("Cài ứng dụng vào màn hình chính để mở nhanh và giữ dữ liệu an toàn hơn.", "Install the app on the home screen: it opens faster and keeps data safer.")}
                <button type="button" class="link" data-testid="install" on:click=move |_| { spawn_local(async move { js::install().await; ui.can_install.set(js::can_install()); }); }>{t("Cài đặt", "Install")}</button>
            </p>
        </Show>
        <Show when=move || ui.banner.with(Option::is_some)>
            <p class="banner" role="alert">{move || ui.banner.get().unwrap_or_default()}</p>
        </Show>
        <main>
            {move || match ui.session.get() {
                None => view! { <super::login::Login/> }.into_any(),
                Some(_) => screens(),
            }}
        </main>
    }
}

/// Members get the field bundle (at `/`), everyone else the office bundle (at `/office/`): each
/// bundle holds only its own screens, so a phone's first load stays small.
pub(super) fn in_this_bundle(s: &Session) -> bool {
    let (field, office) = (cfg!(feature = "field"), cfg!(feature = "office"));
    (s.is_member() && field) || (!s.is_member() && office)
}

pub(super) fn go_to_bundle(s: &Session) {
    js::dom::go_to(if s.is_member() { "/" } else { "/office/" });
}

#[cfg(all(feature = "field", feature = "office"))]
fn screens() -> AnyView {
    let ui = expect_context::<Ui>();
    if ui
        .session
        .with_untracked(|s| s.as_ref().is_some_and(Session::is_member))
    {
        view! { <crate::field::Field/> }.into_any()
    } else {
        view! { <crate::office::Desk/> }.into_any()
    }
}

#[cfg(all(feature = "field", not(feature = "office")))]
fn screens() -> AnyView {
    view! { <crate::field::Field/> }.into_any()
}

#[cfg(all(feature = "office", not(feature = "field")))]
fn screens() -> AnyView {
    view! { <crate::office::Desk/> }.into_any()
}

#[component]
fn SyncBadge() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let text = move || {
        let n = ui.unsynced.get();
        let net = if ui.online.get() {
            tr("Trực tuyến", "Online")
        } else {
            tr("Ngoại tuyến", "Offline")
        };
        match (n, en()) {
            (0, false) => format!("{net} · đã đồng bộ"),
            (0, true) => format!("{net} · synced"),
            (n, false) => format!("{net} · {n} thay đổi chưa đồng bộ"),
            (n, true) => format!("{net} · {n} changes not synced"),
        }
    };
    view! {
        <div
            class=move || {
                let off = if ui.online.get() { "" } else { " offline" };
                let pending = if ui.unsynced.get() > 0 { " pending" } else { "" };
                format!("badge{off}{pending}")
            }
            data-testid="sync-badge"
            data-online=move || ui.online.get().to_string()
            data-unsynced=move || ui.unsynced.get().to_string()
            role="status"
            aria-live="polite"
        >
            {text}
        </div>
    }
}
