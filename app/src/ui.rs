//! The frame of every screen: header (sync badge, language, install and update), login, logout.

use crate::driver;
use crate::i18n::{en, t, tr};
use crate::js;
use crate::state::{Session, Ui};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn App() -> impl IntoView {
    crate::i18n::init();
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
            <crate::i18n::LangSwitch/>
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
                None => view! { <Login/> }.into_any(),
                Some(_) => screens(),
            }}
        </main>
    }
}

/// Members get the field bundle (at `/`), everyone else the office bundle (at `/office/`): each
/// bundle holds only its own screens, so a phone's first load stays small.
fn in_this_bundle(s: &Session) -> bool {
    let (field, office) = (cfg!(feature = "field"), cfg!(feature = "office"));
    (s.is_member() && field) || (!s.is_member() && office)
}

fn go_to_bundle(s: &Session) {
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
        view! { <crate::desk::Desk/> }.into_any()
    }
}

#[cfg(all(feature = "field", not(feature = "office")))]
fn screens() -> AnyView {
    view! { <crate::field::Field/> }.into_any()
}

#[cfg(all(feature = "office", not(feature = "field")))]
fn screens() -> AnyView {
    view! { <crate::desk::Desk/> }.into_any()
}

/// What a form says after an action: `(true, text)` for success, `(false, text)` for a problem.
pub type Message = RwSignal<Option<(bool, String)>>;

/// Shows a form's [`Message`] (green for success, red for a problem, in words either way).
#[component]
pub fn MessageLine(
    message: Message,
    #[prop(optional)] testid: &'static str,
    #[prop(optional)] alert: bool,
) -> impl IntoView {
    view! {
        <Show when=move || message.with(Option::is_some)>
            <p class=move || if message.with(|m| m.as_ref().is_some_and(|m| m.0)) { "ok" } else { "error" }
                role=if alert { "alert" } else { "status" } data-testid=testid>
                {move || message.get().map(|m| m.1).unwrap_or_default()}
            </p>
        </Show>
    }
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

/// Log out of this device. Refused while changes are not yet durable on the server: the session is
/// what lets them sync, and losing work is the one thing this app must never do.
#[component]
pub fn Logout() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let click = move |_| {
        spawn_local(async move {
            // Offline, the server's token stays valid until it expires; this device forgets it
            // either way.
            let _ = js::fetch("POST", "/api/logout", None).await;
            match Session::clear() {
                Ok(()) => js::dom::reload(),
                Err(e) => ui.banner.set(Some(format!(
                    "{}: {e}",
                    tr(
                        "Không đăng xuất được trên máy này",
                        "Could not log out on this device"
                    )
                ))),
            }
        });
    };
    view! {
        <button class="link" type="button" on:click=click disabled=move || { ui.unsynced.get() > 0 }
            title=move || { if ui.unsynced.get() > 0 { tr("Còn thay đổi chưa đồng bộ", "Some changes are not synced yet") } else { "" } }>
            {t("Đăng xuất", "Log out")}
        </button>
    }
}

#[derive(serde::Deserialize)]
struct LoginReply {
    peer_id: String,
    user: crate::state::User,
}

#[component]
fn Login() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        let body = serde_json::json!({"username": username.get_untracked(), "password": password.get_untracked()}).to_string();
        spawn_local(async move {
            let reply = js::fetch("POST", "/api/login", Some(body)).await;
            busy.set(false);
            match reply {
                Ok((200, text)) => match serde_json::from_str::<LoginReply>(&text) {
                    Ok(r) => {
                        let mut session = Session {
                            peer_id: r.peer_id,
                            user: r.user,
                            docs: Vec::new(),
                        };
                        if let Some(list) = js::get_json::<crate::state::DocList>("/api/docs").await
                        {
                            session.docs = list.docs;
                        }
                        if let Err(e) = session.save() {
                            let text = format!(
                                "{}: {e}",
                                tr(
                                    "Không lưu được phiên đăng nhập trên máy: lần sau sẽ phải đăng nhập lại khi có mạng",
                                    "Could not keep the login on this device: next time you must log in again with a connection"
                                )
                            );
                            if !in_this_bundle(&session) {
                                // The other bundle's page would find no session to start from.
                                error.set(Some(text));
                                return;
                            }
                            ui.banner.set(Some(text));
                        }
                        if !in_this_bundle(&session) {
                            go_to_bundle(&session);
                            return;
                        }
                        ui.session.set(Some(session.clone()));
                        driver::start(session, ui).await;
                    }
                    Err(_) => error.set(Some(
                        tr(
                            "Máy chủ trả lời không hợp lệ.",
                            "The server's answer is not valid.",
                        )
                        .into(),
                    )),
                },
                Ok((401, _)) => error.set(Some(
                    tr(
                        "Sai tên đăng nhập hoặc mật khẩu.",
                        "Wrong username or password.",
                    )
                    .into(),
                )),
                Ok((429, _)) => error.set(Some(
                    tr(
                        "Đăng nhập sai quá nhiều lần, hãy thử lại sau một phút.",
                        "Too many failed logins: try again in a minute.",
                    )
                    .into(),
                )),
                Ok((s, _)) => error.set(Some(format!(
                    "{} ({s}).",
                    tr("Lỗi máy chủ", "Server error")
                ))),
                Err(_) => error.set(Some(
                    tr(
                        "Cần có kết nối mạng để đăng nhập lần đầu.",
                        "The first login needs a network connection.",
                    )
                    .into(),
                )),
            }
        });
    };
    view! {
        <form class="card login" on:submit=submit>
            <h1>{t("Đăng nhập", "Log in")}</h1>
            <p class="hint">{t("Đăng nhập một lần khi có mạng; sau đó dùng được cả khi không có sóng.", "Log in once with a connection; afterwards the app works without signal.")}</p>
            <label for="username">{t("Tên đăng nhập", "Username")}</label>
            <input id="username" autocomplete="username" autocapitalize="none" required
                prop:value=move || username.get() on:input=move |e| username.set(event_target_value(&e))/>
            <label for="password">{t("Mật khẩu", "Password")}</label>
            <input id="password" type="password" autocomplete="current-password" required
                prop:value=move || password.get() on:input=move |e| password.set(event_target_value(&e))/>
            <Show when=move || error.with(Option::is_some)>
                <p class="error" role="alert">{move || error.get().unwrap_or_default()}</p>
            </Show>
            <button type="submit" data-testid="login" disabled=move || busy.get()>{t("Đăng nhập", "Log in")}</button>
        </form>
    }
}
