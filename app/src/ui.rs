//! The screens: login, the commune cadre's tasks and notes, and the aggregating level's overview.

use crate::driver;
use crate::js;
use crate::state::{Session, Ui};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::ids::{display_date, vn_civil_date};
use shared::schema::Note;

#[component]
pub fn App() -> impl IntoView {
    let ui = Ui::new();
    provide_context(ui);
    if let Some(s) = Session::load() {
        ui.session.set(Some(s.clone()));
        spawn_local(driver::start(s, ui));
    } else {
        js::set_body_attr("data-app-ready", "true");
    }
    view! {
        <header class="top">
            <div class="brand">"Sổ tay Dân vận"</div>
            <Show when=move || ui.session.with(Option::is_some)>
                <SyncBadge/>
            </Show>
        </header>
        <Show when=move || ui.banner.with(Option::is_some)>
            <p class="banner" role="alert">{move || ui.banner.get().unwrap_or_default()}</p>
        </Show>
        <main>
            {move || match ui.session.get() {
                None => view! { <Login/> }.into_any(),
                Some(s) if s.is_member() => view! { <Field/> }.into_any(),
                Some(_) => view! { <crate::desk::Desk/> }.into_any(),
            }}
        </main>
    }
}

#[component]
fn SyncBadge() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let text = move || {
        let n = ui.unsynced.get();
        let net = if ui.online.get() {
            "Trực tuyến"
        } else {
            "Ngoại tuyến"
        };
        if n == 0 {
            format!("{net} · đã đồng bộ")
        } else {
            format!("{net} · {n} thay đổi chưa đồng bộ")
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
            let _ = js::fetch("POST", "/api/logout", None).await;
            Session::clear();
            if let Some(w) = web_sys::window() {
                let _ = w.location().reload();
            }
        });
    };
    view! {
        <button class="link" type="button" on:click=click disabled=move || { ui.unsynced.get() > 0 }
            title=move || { if ui.unsynced.get() > 0 { "Còn thay đổi chưa đồng bộ" } else { "" } }>
            "Đăng xuất"
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
                        session.save();
                        ui.session.set(Some(session.clone()));
                        driver::start(session, ui).await;
                    }
                    Err(_) => error.set(Some("Máy chủ trả lời không hợp lệ.".into())),
                },
                Ok((401, _)) => error.set(Some("Sai tên đăng nhập hoặc mật khẩu.".into())),
                Ok((429, _)) => error.set(Some(
                    "Đăng nhập sai quá nhiều lần, hãy thử lại sau một phút.".into(),
                )),
                Ok((s, _)) => error.set(Some(format!("Lỗi máy chủ ({s})."))),
                Err(_) => error.set(Some("Cần có kết nối mạng để đăng nhập lần đầu.".into())),
            }
        });
    };
    view! {
        <form class="card login" on:submit=submit>
            <h1>"Đăng nhập"</h1>
            <p class="hint">"Đăng nhập một lần khi có mạng; sau đó dùng được cả khi không có sóng."</p>
            <label for="username">"Tên đăng nhập"</label>
            <input id="username" autocomplete="username" autocapitalize="none" required
                prop:value=move || username.get() on:input=move |e| username.set(event_target_value(&e))/>
            <label for="password">"Mật khẩu"</label>
            <input id="password" type="password" autocomplete="current-password" required
                prop:value=move || password.get() on:input=move |e| password.set(event_target_value(&e))/>
            <Show when=move || error.with(Option::is_some)>
                <p class="error" role="alert">{move || error.get().unwrap_or_default()}</p>
            </Show>
            <button type="submit" data-testid="login" disabled=move || busy.get()>"Đăng nhập"</button>
        </form>
    }
}

fn today_iso() -> String {
    let (y, m, d) = vn_civil_date(js::now_ms());
    format!("{y:04}-{m:02}-{d:02}")
}

fn new_note_id() -> String {
    let mut rand = [0u8; 10];
    // A failure of the browser's RNG leaves zeros: the millisecond time still separates notes.
    let _ = getrandom::fill(&mut rand);
    shared::schema::ulid(js::now_ms() as u64, rand)
}

#[component]
fn Field() -> impl IntoView {
    let ui = expect_context::<Ui>();
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
    view! {
        <p class="who">{move || ui.session.with(|s| s.as_ref().map(|s| s.user.display_name.clone()).unwrap_or_default())}
            " · " {commune_name} <Logout/></p>
        <Show when=move || ui.persistent.get() == Some(false)>
            <p class="warn">"Trình duyệt chưa cho phép lưu trữ bền vững: hãy cài ứng dụng vào màn hình chính và đồng bộ thường xuyên."</p>
        </Show>
        <NoteForm/>
        <section class="card">
            <h2>"Ghi chép"</h2>
            <Show when=move || ui.notes.with(Vec::is_empty)>
                <p class="hint">"Chưa có ghi chép nào."</p>
            </Show>
            <ul class="notes">
                <For each=move || ui.notes.get() key=|n| (n.id.clone(), n.title.clone(), n.content.clone()) let:n>
                    <NoteItem note=n/>
                </For>
            </ul>
        </section>
        {move || {
            ui.session
                .with(|s| s.as_ref().and_then(|s| s.user.commune_id.clone()))
                .map(|c| view! { <crate::tasks::TaskList commune=c/> })
        }}
    }
}

#[component]
fn NoteItem(note: Note) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let linked = note.task_ids.clone();
    let task_label = move || {
        ui.tasks.with(|ts| {
            let numbers: Vec<String> = ts
                .iter()
                .filter(|t| linked.contains(&t.id))
                .map(|t| t.number.clone())
                .collect();
            (!numbers.is_empty()).then(|| format!("Nhiệm vụ {}", numbers.join(", ")))
        })
    };
    view! {
        <li data-testid="note-item">
            <div class="meta">{display_date(&note.activity_date)} " · " {task_label}</div>
            <div class="title">{note.title.clone()}</div>
            <div class="content">{note.content.clone()}</div>
        </li>
    }
}

#[component]
fn NoteForm() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let date = RwSignal::new(today_iso());
    let title = RwSignal::new(String::new());
    let content = RwSignal::new(String::new());
    let task = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let author = ui.session.with_untracked(|s| {
            s.as_ref()
                .map(|s| s.user.username.clone())
                .unwrap_or_default()
        });
        let t = task.get_untracked();
        let note = Note {
            id: new_note_id(),
            activity_date: date.get_untracked(),
            title: title.get_untracked().trim().to_string(),
            content: content.get_untracked(),
            task_ids: (!t.is_empty()).then_some(t).into_iter().collect(),
            author,
            created_at: js::now_ms(),
            ..Note::default()
        };
        spawn_local(async move {
            match driver::save_note(note).await {
                Ok(()) => {
                    title.set(String::new());
                    content.set(String::new());
                    message.set(Some((true, "Đã lưu trên máy.".into())));
                }
                Err(e) => message.set(Some((false, e))),
            }
        });
    };
    view! {
        <form class="card" on:submit=submit>
            <h2>"Ghi chép mới"</h2>
            <label for="note-date">"Ngày hoạt động"</label>
            <input id="note-date" type="date" required prop:value=move || date.get() on:input=move |e| date.set(event_target_value(&e))/>
            <label for="note-title">"Tiêu đề"</label>
            <input id="note-title" required maxlength="300" placeholder="VD: Họp dân bon Ka Rái"
                prop:value=move || title.get() on:input=move |e| title.set(event_target_value(&e))/>
            <label for="note-task">"Nhiệm vụ liên quan"</label>
            <select id="note-task" on:change=move |e| task.set(event_target_value(&e)) prop:value=move || task.get()>
                <option value="">"— Không chọn —"</option>
                <For each={move || ui.tasks.get().into_iter().filter(|t| !t.removed).collect::<Vec<_>>()} key=|t| t.id.clone() let:t>
                    <option value=t.id.clone()>{format!("{} {}", t.number, t.title)}</option>
                </For>
            </select>
            <label for="note-content">"Nội dung, kết quả"</label>
            <textarea id="note-content" rows="4" prop:value=move || content.get() on:input=move |e| content.set(event_target_value(&e))></textarea>
            <Show when=move || message.with(Option::is_some)>
                <p class=move || if message.with(|m| m.as_ref().is_some_and(|m| m.0)) { "ok" } else { "error" } role="status">
                    {move || message.get().map(|m| m.1).unwrap_or_default()}
                </p>
            </Show>
            <button type="submit" data-testid="save-note">"Lưu ghi chép"</button>
        </form>
    }
}
