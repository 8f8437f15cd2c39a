//! The administrator's accounts screen: users under their node (create with a one-time password,
//! lock and unlock, reset the password), each user's devices with revoke, and the audit log.

use crate::common::i18n::{t, tr};
use crate::common::message::{Message, MessageLine};
use crate::common::state::{Ui, unit_kind_name};
use crate::js;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::{AdminUser, AdminUsers, AuditLog, Device, NewUser, OneTimePassword, UserEdit};
use shared::ids::display_datetime_vn;
use shared::schema::UNIT_KINDS;
use shared::vocab::{OrgLevel, Role};

const ROLES: &[(&str, &str, &str)] = &[
    ("member", "Cán bộ xã (ghi chép)", "Commune cadre (notes)"),
    ("viewer", "Xem tổng hợp", "Viewer"),
    ("editor", "Biên tập kế hoạch", "Plan editor"),
    ("admin", "Quản trị", "Administrator"),
];

fn role_label(role: &Role) -> String {
    ROLES
        .iter()
        .find(|(k, _, _)| *k == role.as_str())
        .map(|(_, vi, en_text)| tr(vi, en_text).to_string())
        .unwrap_or_else(|| role.as_str().to_string())
}

/// Send a request and only check it was done; a refusal's message otherwise.
async fn send(method: &str, url: &str, body: Option<String>) -> Result<(), String> {
    match js::fetch(method, url, body).await {
        Ok((200, _)) => Ok(()),
        Ok((_, text)) => Err(js::error_text(&text)),
        Err(e) => Err(e),
    }
}

/// Send a request whose answer is JSON of type `T`; a refusal's message otherwise.
async fn call<T: serde::de::DeserializeOwned>(
    method: &str,
    url: &str,
    body: Option<String>,
) -> Result<T, String> {
    match js::fetch(method, url, body).await {
        Ok((200, text)) => serde_json::from_str(&text).map_err(|e| e.to_string()),
        Ok((_, text)) => Err(js::error_text(&text)),
        Err(e) => Err(e),
    }
}

#[component]
pub fn AccountsAdmin() -> impl IntoView {
    let users = RwSignal::new(Vec::<AdminUser>::new());
    let message: Message = RwSignal::new(None);
    let audit = RwSignal::new(None::<AuditLog>);
    let audit_action = RwSignal::new(String::new());
    let reload = move || {
        spawn_local(async move {
            match call::<AdminUsers>("GET", "/api/admin/users", None).await {
                Ok(list) => {
                    users.try_set(list.users);
                }
                Err(e) => {
                    message.try_set(Some((false, e)));
                }
            }
            let action = audit_action.get_untracked();
            let url = format!("/api/admin/audit?action={}", js::dom::encode_query(&action));
            if let Ok(log) = call::<AuditLog>("GET", &url, None).await {
                audit.try_set(Some(log));
            }
        });
    };
    reload();
    // After an action: its message, the lists again.
    let done = move |res: Result<String, String>| {
        message.set(Some(match res {
            Ok(text) => (true, text),
            Err(e) => (false, e),
        }));
        reload();
    };
    let act = move |method: &'static str, url: String, body: Option<String>, ok: String| {
        spawn_local(async move {
            let res = send(method, &url, body).await.map(|()| ok);
            done(res);
        });
    };
    let reset = move |u: AdminUser| {
        spawn_local(async move {
            let url = format!("/api/admin/users/{}/password", u.id);
            let res = call::<OneTimePassword>("POST", &url, None)
                .await
                .map(|r| one_time_message(&u.username, &r.password));
            done(res);
        });
    };
    view! {
        <section class="card" data-testid="accounts">
            <h2>{t("Tài khoản và thiết bị", "Accounts and devices")}</h2>
            <MessageLine message=message testid="accounts-message" alert=true/>
            <NewUserForm done=done/>
            <ul class="users">
                <For each=move || users.get() key=|u| format!("{u:?}") let:u>
                    <UserRow user=u act=act reset=reset/>
                </For>
            </ul>
        </section>
        <section class="card" data-testid="audit">
            <h2>{t("Nhật ký hoạt động", "Audit log")}</h2>
            <label for="audit-action">{t("Loại", "Action")}</label>
            <select id="audit-action" prop:value=move || audit_action.get()
                on:change=move |e| { audit_action.set(event_target_value(&e)); reload(); }>
                <option value="">{t("Tất cả", "All")}</option>
                {["login", "login-failed", "login-refused", "logout", "user-created", "user-changed", "password-reset", "password-changed", "password-change-refused", "device-revoked", "plan-imported", "plan-published", "export", "import", "report-downloaded"]
                    .map(|a| view! { <option value=a>{a}</option> }).collect_view()}
            </select>
            <table class="audit">
                <thead><tr>
                    <th>{t("Lúc", "When")}</th><th>{t("Ai", "Who")}</th><th>{t("Việc", "Action")}</th>
                    <th>{t("Đối tượng", "Target")}</th><th>{t("Chi tiết", "Detail")}</th><th>{t("Địa chỉ", "Address")}</th>
                </tr></thead>
                <tbody>
                    {move || audit.get().map(|log| log.entries.into_iter().map(|e| {
                        let action = e.action.clone();
                        view! {
                        <tr data-testid="audit-entry" data-action=action>
                            <td>{display_datetime_vn(e.at)}</td><td>{e.actor}</td><td>{e.action}</td>
                            <td>{e.target}</td><td>{e.detail}</td><td>{e.addr}</td>
                        </tr>
                    }}).collect_view())}
                </tbody>
            </table>
        </section>
    }
}

fn one_time_message(username: &str, password: &str) -> String {
    format!(
        "{} {username}: {password} — {}",
        tr("Mật khẩu dùng một lần cho", "One-time password for"),
        tr(
            "chỉ hiện một lần; hãy báo cho người dùng và nhắc họ đổi mật khẩu.",
            "shown once; give it to the user and ask them to change it."
        )
    )
}

/// Create a user: username, name, role, org node and (for members) unit.
#[component]
fn NewUserForm(
    done: impl Fn(Result<String, String>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let username = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(String::from("member"));
    let node = RwSignal::new(String::new());
    let unit = RwSignal::new(String::new());
    let also_viewer = RwSignal::new(false);
    let nodes = move || {
        ui.org.with(|o| {
            o.iter()
                .filter(|n| !n.removed && n.level != OrgLevel::Unit)
                .map(|n| (n.id.clone(), n.name.clone()))
                .collect::<Vec<_>>()
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let req = NewUser {
            username: username.get_untracked().trim().to_string(),
            display_name: name.get_untracked().trim().to_string(),
            role: Role::parse(&role.get_untracked()),
            node_id: node.get_untracked(),
            unit: Some(unit.get_untracked()).filter(|u| !u.is_empty()),
            also_viewer: also_viewer.get_untracked(),
        };
        spawn_local(async move {
            let body = serde_json::to_string(&req).unwrap_or_default();
            let res = call::<OneTimePassword>("POST", "/api/admin/users", Some(body))
                .await
                .map(|r| one_time_message(&r.user.username, &r.password));
            if res.is_ok() {
                username.try_set(String::new());
                name.try_set(String::new());
            }
            done(res);
        });
    };
    view! {
        <form class="new-user" on:submit=submit data-testid="new-user">
            <h3>{t("Thêm người dùng", "Add a user")}</h3>
            <label for="user-name">{t("Tên đăng nhập", "Username")}</label>
            <input id="user-name" autocomplete="off" prop:value=move || username.get() on:input=move |e| username.set(event_target_value(&e))/>
            <label for="user-display">{t("Họ tên, chức vụ", "Name and position")}</label>
            <input id="user-display" prop:value=move || name.get() on:input=move |e| name.set(event_target_value(&e))/>
            <label for="user-role">{t("Vai trò", "Role")}</label>
            <select id="user-role" prop:value=move || role.get() on:change=move |e| role.set(event_target_value(&e))>
                {ROLES.iter().map(|(k, vi, en_text)| view! { <option value=*k>{t(vi, en_text)}</option> }).collect_view()}
            </select>
            <label for="user-node">{t("Thuộc", "Belongs to")}</label>
            <select id="user-node" prop:value=move || node.get() on:change=move |e| node.set(event_target_value(&e))>
                <option value="">{t("— chọn —", "— choose —")}</option>
                {move || nodes().into_iter().map(|(id, n)| view! { <option value=id>{n}</option> }).collect_view()}
            </select>
            <label for="user-unit">{t("Đơn vị (cán bộ xã)", "Unit (commune cadres)")}</label>
            <select id="user-unit" prop:value=move || unit.get() on:change=move |e| unit.set(event_target_value(&e))>
                <option value="">{t("Không", "None")}</option>
                {UNIT_KINDS.iter().map(|(k, vi, en_text)| view! { <option value=*k>{t(vi, en_text)}</option> }).collect_view()}
            </select>
            <label class="check" for="user-viewer">
                <input id="user-viewer" type="checkbox" prop:checked=move || also_viewer.get() on:change=move |e| also_viewer.set(event_target_checked(&e))/>
                {t(" Quản trị, biên tập: cũng xem số liệu các xã", " Administrators, editors: also see the communes' figures")}
            </label>
            <button type="submit" data-testid="create-user">{t("Tạo tài khoản", "Create account")}</button>
        </form>
    }
}

#[component]
fn UserRow(
    user: AdminUser,
    act: impl Fn(&'static str, String, Option<String>, String) + Copy + Send + Sync + 'static,
    reset: impl Fn(AdminUser) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let node = ui.node_name(&user.node_id);
    let unit = user.unit.as_deref().map(unit_kind_name);
    let lock = {
        let u = user.clone();
        move |_| {
            let edit = UserEdit {
                disabled: Some(!u.disabled),
                ..UserEdit::default()
            };
            let ok = if u.disabled {
                tr("Đã mở khóa tài khoản.", "Account unlocked.")
            } else {
                tr(
                    "Đã khóa tài khoản; các thiết bị đã bị đăng xuất.",
                    "Account locked; its devices are signed out.",
                )
            };
            act(
                "POST",
                format!("/api/admin/users/{}", u.id),
                serde_json::to_string(&edit).ok(),
                ok.into(),
            );
        }
    };
    let viewer = {
        let u = user.clone();
        move |_| {
            let edit = UserEdit {
                also_viewer: Some(!u.also_viewer),
                ..UserEdit::default()
            };
            let ok = tr(
                "Đã đổi quyền xem số liệu; người dùng đăng nhập lại.",
                "Viewing rights changed; the user logs in again.",
            );
            act(
                "POST",
                format!("/api/admin/users/{}", u.id),
                serde_json::to_string(&edit).ok(),
                ok.into(),
            );
        }
    };
    let staff = matches!(user.role, Role::Admin | Role::Editor);
    let for_reset = user.clone();
    let devices = user.devices.clone();
    view! {
        <li data-testid="user-row" data-username=user.username.clone()>
            <strong>{user.display_name.clone()}</strong>
            <span class="meta">{format!(" · {} · {} · {node}", user.username, role_label(&user.role))}
                {unit.map(|u| format!(" · {u}"))}
                {user.disabled.then(|| view! { <span class="status late">{t(" · đã khóa", " · locked")}</span> })}
                {user.must_change.then(|| view! { <span class="meta" data-testid="must-change">{t(" · chưa đổi mật khẩu tạm", " · temporary password not yet changed")}</span> })}
            </span>
            <div class="actions">
                <button type="button" class="link" data-testid="lock-user" on:click=lock>
                    {if user.disabled { t("Mở khóa", "Unlock") } else { t("Khóa", "Lock") }}
                </button>
                {staff.then(|| view! {
                    <button type="button" class="link" data-testid="toggle-viewer" on:click=viewer>
                        {if user.also_viewer { t("Bỏ quyền xem số liệu", "Remove viewing rights") } else { t("Cho xem số liệu", "Allow viewing figures") }}
                    </button>
                })}
                <button type="button" class="link" data-testid="reset-password" on:click=move |_| reset(for_reset.clone())>
                    {t("Đặt lại mật khẩu", "Reset password")}
                </button>
            </div>
            <ul class="devices">
                {devices.into_iter().map(|d| view! { <DeviceRow device=d act=act/> }).collect_view()}
            </ul>
        </li>
    }
}

#[component]
fn DeviceRow(
    device: Device,
    act: impl Fn(&'static str, String, Option<String>, String) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let seen = device.last_seen.map(display_datetime_vn);
    let url = format!("/api/admin/devices/{}/revoke", device.token_id);
    let revoke = move |_| {
        let ok = tr(
            "Đã thu hồi thiết bị: nó bị đăng xuất ngay.",
            "Device revoked: it is signed out at once.",
        );
        act("POST", url.clone(), None, ok.into());
    };
    view! {
        <li data-testid="device" data-peer=device.peer_id.clone()>
            <span>{if device.user_agent.is_empty() { tr("Thiết bị không rõ", "Unknown device").to_string() } else { device.user_agent.clone() }}</span>
            <span class="meta">
                {format!(" · {} {}", tr("đăng nhập", "logged in"), display_datetime_vn(device.first_seen))}
                {seen.map(|s| format!(" · {} {s}", tr("gần nhất", "last seen")))}
                {(!device.last_addr.is_empty()).then(|| format!(" · {}", device.last_addr))}
                {(!device.app_version.is_empty()).then(|| format!(" · {}", device.app_version))}
            </span>
            <button type="button" class="link" data-testid="revoke-device" on:click=revoke>{t("Thu hồi", "Revoke")}</button>
        </li>
    }
}
