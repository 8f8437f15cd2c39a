//! Logging in (once, with a connection; the session is then kept on the device) and out.

use super::frame::{go_to_bundle, in_this_bundle};
use crate::common::i18n::{t, tr};
use crate::common::state::{Session, Ui};
use crate::driver;
use crate::js;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::{DocsResponse, LoginRequest, LoginResponse};

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
        <a class="link" href=password_page(false)>{t("Đổi mật khẩu", "Change password")}</a>
        // Signed out by the server, the device can log in again: its data stays in IndexedDB and
        // syncs under the new login.
        <button class="link" type="button" on:click=click disabled=move || { ui.unsynced.get() > 0 && !ui.signed_out.get() }
            title=move || { if ui.unsynced.get() > 0 { tr("Còn thay đổi chưa đồng bộ", "Some changes are not synced yet") } else { "" } }>
            {t("Đăng xuất", "Log out")}
        </button>
    }
}

/// The password page (a plain page: changing a password needs the server), returning to this
/// bundle; `first`: after signing in with a one-time password.
fn password_page(first: bool) -> &'static str {
    match (cfg!(feature = "office"), first) {
        (false, false) => "/password.html",
        (false, true) => "/password.html?first",
        (true, false) => "/password.html?back=office",
        (true, true) => "/password.html?first&back=office",
    }
}

#[component]
pub(super) fn Login() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        error.set(None);
        let body = serde_json::to_string(&LoginRequest {
            username: username.get_untracked(),
            password: password.get_untracked(),
        })
        .unwrap_or_default();
        spawn_local(async move {
            let reply = js::fetch("POST", "/api/login", Some(body)).await;
            busy.set(false);
            match reply {
                Ok((200, text)) => match serde_json::from_str::<LoginResponse>(&text) {
                    Ok(r) => {
                        let mut session = Session {
                            peer_id: r.peer_id,
                            user: r.user,
                            docs: Vec::new(),
                        };
                        if let Some(list) = js::get_json::<DocsResponse>("/api/docs").await {
                            session.docs = list.docs;
                        }
                        if let Err(e) = session.save() {
                            let text = format!(
                                "{}: {e}",
                                tr(
                                    "Không lưu được phiên đăng nhập trên máy",
                                    "Could not keep the login on this device"
                                )
                            );
                            if !in_this_bundle(&session) {
                                // The other bundle's page would find no session to start from.
                                error.set(Some(text));
                                return;
                            }
                            ui.banner.set(Some(text));
                        }
                        if session.user.must_change {
                            // A one-time password from an administrator: the user chooses their
                            // own first (the login is kept; the page sends them back).
                            js::dom::go_to(password_page(true));
                            return;
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
