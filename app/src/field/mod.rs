//! The member's screens: tabs for my tasks, the notes list (search and filters), the note form with
//! every field of DESIGN §4 (autosaved draft, photos, GPS), and the sync screen.

pub mod sync_screen;

use crate::common::i18n::{en, t, tr};
use crate::common::state::{Ui, unit_kind_name};
use crate::driver;
use crate::js;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::ids::{Quarter, display_date, vn_civil_date};
use shared::schema::{ACTIVITY_TYPES, Gps, Note, PETITION_STATUSES, Participants, Petition};

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
            Tab::Notes => view! { <NotesList/> }.into_any(),
            Tab::New => view! { <NoteForm/> }.into_any(),
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

fn new_note_id() -> String {
    let mut rand = [0u8; 10];
    // A failure of the browser's RNG leaves zeros: the millisecond time still separates notes.
    let _ = getrandom::fill(&mut rand);
    shared::schema::ulid(js::dom::now_ms() as u64, rand)
}

fn today_iso() -> String {
    let (y, m, d) = vn_civil_date(js::dom::now_ms());
    format!("{y:04}-{m:02}-{d:02}")
}

/// What the form holds, autosaved on the device as the user types.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct NoteDraft {
    /// The note's ID, fixed when the draft starts: saving the same draft twice (a crash between the
    /// save and clearing the draft) overwrites one note instead of creating a duplicate.
    pub id: Option<String>,
    /// Editing an existing note (rather than a new one).
    pub editing: bool,
    pub created_at: Option<i64>,
    pub activity_date: String,
    pub title: String,
    pub hamlet: String,
    pub activity_type: String,
    pub unit: String,
    pub task_ids: Vec<String>,
    pub total: String,
    pub women: String,
    pub ethnic: String,
    pub religious: String,
    pub content: String,
    pub results: String,
    pub petitions: Vec<Petition>,
    pub gps: Option<Gps>,
    pub photos: Vec<String>,
}

const DRAFT_KEY: &str = "note-draft";

impl NoteDraft {
    fn fresh() -> Self {
        NoteDraft {
            id: Some(new_note_id()),
            activity_date: today_iso(),
            ..NoteDraft::default()
        }
    }

    fn from_note(n: &Note) -> Self {
        let num = |v: i64| if v == 0 { String::new() } else { v.to_string() };
        NoteDraft {
            id: Some(n.id.clone()),
            editing: true,
            created_at: Some(n.created_at),
            activity_date: n.activity_date.clone(),
            title: n.title.clone(),
            hamlet: n.hamlet.clone().unwrap_or_default(),
            activity_type: n.activity_type.clone().unwrap_or_default(),
            unit: n.unit.clone().unwrap_or_default(),
            task_ids: n.task_ids.clone(),
            total: num(n.participants.total),
            women: num(n.participants.women),
            ethnic: num(n.participants.ethnic_minority),
            religious: num(n.participants.religious),
            content: n.content.clone(),
            results: n.results.clone(),
            petitions: n.petitions.clone(),
            gps: n.gps,
            photos: n.photos.clone(),
        }
    }

    /// The note this draft describes, or the message to show.
    fn to_note(&self, author: String) -> Result<Note, String> {
        let num = |s: &str, what: &'static str| -> Result<i64, String> {
            let s = s.trim();
            if s.is_empty() {
                return Ok(0);
            }
            s.parse::<i64>().ok().filter(|v| *v >= 0).ok_or_else(|| {
                format!(
                    "{what}: {}",
                    tr("phải là số nguyên không âm.", "must be a whole number ≥ 0.")
                )
            })
        };
        let opt = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_string());
        let note = Note {
            id: self.id.clone().unwrap_or_else(new_note_id),
            activity_date: self.activity_date.clone(),
            title: self.title.trim().to_string(),
            content: self.content.clone(),
            task_ids: self.task_ids.clone(),
            hamlet: opt(&self.hamlet),
            activity_type: opt(&self.activity_type),
            unit: opt(&self.unit),
            participants: Participants {
                total: num(&self.total, tr("Tổng số người tham dự", "Participants"))?,
                women: num(&self.women, tr("Số nữ", "Women"))?,
                ethnic_minority: num(&self.ethnic, tr("Dân tộc thiểu số", "Ethnic minority"))?,
                religious: num(&self.religious, tr("Tôn giáo", "Religious"))?,
            },
            results: self.results.clone(),
            petitions: self
                .petitions
                .iter()
                .filter(|p| !p.text.trim().is_empty())
                .cloned()
                .collect(),
            gps: self.gps,
            photos: self.photos.clone(),
            author,
            created_at: self.created_at.unwrap_or_else(js::dom::now_ms),
            deleted: false,
        };
        shared::schema::validate_note(&note).map_err(str::to_string)?;
        Ok(note)
    }
}

/// A number input bound to one field of the draft.
fn number_field(
    draft: RwSignal<NoteDraft>,
    id: &'static str,
    get: fn(&NoteDraft) -> String,
    set: fn(&mut NoteDraft, String),
) -> impl IntoView {
    view! {
        <input id=id type="number" min="0" inputmode="numeric" prop:value=move || draft.with(get)
            on:input=move |e| { let v = event_target_value(&e); draft.update(|d| set(d, v)); }/>
    }
}

#[component]
pub fn NoteForm() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let draft = RwSignal::new(NoteDraft::fresh());
    let loaded = RwSignal::new(false);
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    // Restore the draft the device kept (a reload, an update or a dead battery loses nothing).
    spawn_local(async move {
        if let Some(d) = js::get_meta(DRAFT_KEY)
            .await
            .ok()
            .flatten()
            .and_then(|s| serde_json::from_str::<NoteDraft>(&s).ok())
        {
            draft.set(d);
        }
        loaded.set(true);
        js::dom::set_body_attr("data-draft-ready", "true");
    });
    // Every change of the draft is written to IndexedDB (one small record).
    Effect::new(move |_| {
        let d = draft.get();
        if loaded.get_untracked() {
            let text = serde_json::to_string(&d).unwrap_or_default();
            spawn_local(async move {
                let _ = js::set_meta(DRAFT_KEY, &text).await;
            });
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let author = ui.session.with_untracked(|s| {
            s.as_ref()
                .map(|s| s.user.username.clone())
                .unwrap_or_default()
        });
        let note = match draft.get_untracked().to_note(author) {
            Ok(n) => n,
            Err(e) => {
                message.set(Some((false, e)));
                return;
            }
        };
        busy.set(true);
        spawn_local(async move {
            let res = driver::save_note(note).await;
            busy.set(false);
            match res {
                Ok(()) => {
                    // Store the fresh draft (new note ID) BEFORE leaving the form: once the tab
                    // changes this form and its autosave are gone, and the next form must not
                    // reopen the saved note's draft (saving it again would overwrite that note).
                    let fresh = NoteDraft::fresh();
                    let _ = js::set_meta(
                        DRAFT_KEY,
                        &serde_json::to_string(&fresh).unwrap_or_default(),
                    )
                    .await;
                    draft.set(fresh);
                    message.set(Some((
                        true,
                        tr("Đã lưu trên máy.", "Saved on this device.").into(),
                    )));
                    go(Tab::Notes);
                }
                Err(e) => message.set(Some((false, e))),
            }
        });
    };
    let commune = my_commune(&ui).unwrap_or_default();
    let c2 = commune.clone();
    let hamlets = move || {
        ui.org.with(|o| {
            o.iter()
                .filter(|n| {
                    n.level == "hamlet" && !n.removed && n.parent.as_deref() == Some(&commune)
                })
                .map(|n| (n.id.clone(), n.name.clone()))
                .collect::<Vec<_>>()
        })
    };
    let units = move || {
        ui.org.with(|o| {
            o.iter()
                .filter(|n| n.level == "unit" && !n.removed && n.parent.as_deref() == Some(&c2))
                .filter_map(|n| Some((n.kind.clone()?, n.name.clone())))
                .collect::<Vec<_>>()
        })
    };
    let c3 = my_commune(&ui).unwrap_or_default();
    let tasks = move || {
        ui.tasks.with(|ts| {
            ts.iter()
                .filter(|t| t.targets(&c3))
                .map(|t| (t.id.clone(), format!("{} {}", t.number, t.title)))
                .collect::<Vec<_>>()
        })
    };
    let photo_busy = RwSignal::new(false);
    let add_photos = move |_| {
        photo_busy.set(true);
        spawn_local(async move {
            match js::take_photos("note-photo").await {
                Ok(list) => draft.update(|d| {
                    for (sha, _) in list {
                        if !d.photos.contains(&sha) {
                            d.photos.push(sha);
                        }
                    }
                }),
                Err(e) => message.set(Some((
                    false,
                    format!("{}: {e}", tr("Không xử lý được ảnh", "Photo failed")),
                ))),
            }
            photo_busy.set(false);
            driver::refresh_photos().await;
        });
    };
    let gps_busy = RwSignal::new(false);
    let locate = move |_| {
        gps_busy.set(true);
        spawn_local(async move {
            match js::position().await {
                Some((lat, lon, accuracy_m)) => draft.update(|d| {
                    d.gps = Some(Gps {
                        lat,
                        lon,
                        accuracy_m,
                    })
                }),
                None => message.set(Some((
                    false,
                    tr(
                        "Không lấy được vị trí (có thể bỏ qua).",
                        "No position (you can skip this).",
                    )
                    .into(),
                ))),
            }
            gps_busy.set(false);
        });
    };
    let editing = move || draft.with(|d| d.editing);
    view! {
        <form class="card" on:submit=submit data-testid="note-form" novalidate>
            <h2>{move || if editing() { tr("Sửa ghi chép", "Edit note") } else { tr("Ghi chép mới", "New note") }}</h2>
            <p class="hint">{t("Bản nháp được lưu trên máy trong khi bạn nhập.", "The draft is kept on this device as you type.")}</p>
            <label for="note-date">{t("Ngày hoạt động", "Activity date")}</label>
            <input id="note-date" type="date" required prop:value=move || draft.with(|d| d.activity_date.clone())
                on:input=move |e| { let v = event_target_value(&e); draft.update(|d| d.activity_date = v); }/>
            <label for="note-title">{t("Tiêu đề", "Title")}</label>
            <input id="note-title" required maxlength="300" placeholder=t("VD: Họp dân bon Ka Rái", "e.g. Meeting in Ka Rái hamlet")
                prop:value=move || draft.with(|d| d.title.clone()) on:input=move |e| { let v = event_target_value(&e); draft.update(|d| d.title = v); }/>
            <label for="note-type">{t("Loại hoạt động", "Activity type")}</label>
            <select id="note-type" prop:value=move || draft.with(|d| d.activity_type.clone())
                on:change=move |e| { let v = event_target_value(&e); draft.update(|d| d.activity_type = v); }>
                <option value="">{t("— Chọn —", "— Choose —")}</option>
                {ACTIVITY_TYPES.iter().map(|(k, vi, en_text)| view! { <option value=*k>{t(vi, en_text)}</option> }).collect_view()}
            </select>
            <label for="note-hamlet">{t("Thôn, bon, tổ dân phố", "Hamlet")}</label>
            <select id="note-hamlet" prop:value=move || draft.with(|d| d.hamlet.clone())
                on:change=move |e| { let v = event_target_value(&e); draft.update(|d| d.hamlet = v); }>
                <option value="">{t("— Cả xã —", "— Whole commune —")}</option>
                // `selected` on the option, not only the select's value: the options arrive with the
                // org document, possibly after the restored draft set the value.
                {move || hamlets().into_iter().map(|(id, name)| {
                    let sel = draft.with(|d| d.hamlet == id);
                    view! { <option value=id selected=sel>{name}</option> }
                }).collect_view()}
            </select>
            <label for="note-unit">{t("Đơn vị thực hiện", "Unit")}</label>
            <select id="note-unit" prop:value=move || draft.with(|d| d.unit.clone())
                on:change=move |e| { let v = event_target_value(&e); draft.update(|d| d.unit = v); }>
                <option value="">{t("— Chọn —", "— Choose —")}</option>
                {move || units().into_iter().map(|(k, name)| {
                    let sel = draft.with(|d| d.unit == k);
                    view! { <option value=k selected=sel>{name}</option> }
                }).collect_view()}
            </select>
            <fieldset data-testid="note-tasks">
                <legend>{t("Nhiệm vụ liên quan", "Linked tasks")}</legend>
                {move || tasks().into_iter().map(|(id, label)| {
                    let fid = format!("note-task-{id}");
                    let (a, b) = (id.clone(), id.clone());
                    view! {
                        <label class="check" for=fid.clone()>
                            <input id=fid.clone() type="checkbox" prop:checked=move || draft.with(|d| d.task_ids.contains(&a))
                                on:change=move |e| { let on = event_target_checked(&e); let id = b.clone(); draft.update(|d| { d.task_ids.retain(|x| *x != id); if on { d.task_ids.push(id); } }); }/>
                            {label}
                        </label>
                    }
                }).collect_view()}
            </fieldset>
            <fieldset class="numbers">
                <legend>{t("Người tham dự", "Participants")}</legend>
                <label for="note-total">{t("Tổng số", "Total")}</label>
                {number_field(draft, "note-total", |d| d.total.clone(), |d, v| d.total = v)}
                <label for="note-women">{t("Nữ", "Women")}</label>
                {number_field(draft, "note-women", |d| d.women.clone(), |d, v| d.women = v)}
                <label for="note-ethnic">{t("Dân tộc thiểu số", "Ethnic minority")}</label>
                {number_field(draft, "note-ethnic", |d| d.ethnic.clone(), |d, v| d.ethnic = v)}
                <label for="note-religious">{t("Tôn giáo", "Religious")}</label>
                {number_field(draft, "note-religious", |d| d.religious.clone(), |d, v| d.religious = v)}
            </fieldset>
            <label for="note-content">{t("Nội dung", "What happened")}</label>
            <textarea id="note-content" rows="4" prop:value=move || draft.with(|d| d.content.clone())
                on:input=move |e| { let v = event_target_value(&e); draft.update(|d| d.content = v); }></textarea>
            <label for="note-results">{t("Kết quả, đóng góp vào chỉ tiêu", "Results, contribution to indicators")}</label>
            <textarea id="note-results" rows="3" prop:value=move || draft.with(|d| d.results.clone())
                on:input=move |e| { let v = event_target_value(&e); draft.update(|d| d.results = v); }></textarea>
            <fieldset data-testid="petitions">
                <legend>{t("Ý kiến, kiến nghị của Nhân dân", "People's opinions and petitions")}</legend>
                {move || (0..draft.with(|d| d.petitions.len())).map(|i| {
                    let (tid, sid) = (format!("petition-{i}-text"), format!("petition-{i}-status"));
                    view! {
                        <div class="petition">
                            <label for=tid.clone()>{move || format!("{} {}", tr("Kiến nghị", "Petition"), i + 1)}</label>
                            <textarea id=tid.clone() rows="2" prop:value=move || draft.with(|d| d.petitions.get(i).map(|p| p.text.clone()).unwrap_or_default())
                                on:input=move |e| { let v = event_target_value(&e); draft.update(|d| if let Some(p) = d.petitions.get_mut(i) { p.text = v; }); }></textarea>
                            <label for=sid.clone()>{t("Theo dõi giải quyết", "Follow-up")}</label>
                            <select id=sid.clone() prop:value=move || draft.with(|d| d.petitions.get(i).map(|p| p.status.clone()).unwrap_or_default())
                                on:change=move |e| { let v = event_target_value(&e); draft.update(|d| if let Some(p) = d.petitions.get_mut(i) { p.status = v; }); }>
                                {PETITION_STATUSES.iter().map(|(k, vi, en_text)| view! { <option value=*k>{t(vi, en_text)}</option> }).collect_view()}
                            </select>
                            <button type="button" class="link" on:click=move |_| draft.update(|d| { if i < d.petitions.len() { d.petitions.remove(i); } })>
                                {t("Bỏ kiến nghị này", "Remove this petition")}
                            </button>
                        </div>
                    }
                }).collect_view()}
                <button type="button" class="secondary" data-testid="add-petition"
                    on:click=move |_| draft.update(|d| d.petitions.push(Petition { text: String::new(), status: "moi".into() }))>
                    {t("+ Thêm ý kiến, kiến nghị", "+ Add a petition")}
                </button>
            </fieldset>
            <fieldset>
                <legend>{t("Vị trí (không bắt buộc)", "Location (optional)")}</legend>
                <p class="meta" data-testid="gps">{move || match draft.with(|d| d.gps) {
                    Some(g) => gps_text(&g),
                    None => tr("Chưa có vị trí.", "No position yet.").to_string(),
                }}</p>
                <button type="button" class="secondary" on:click=locate disabled=move || gps_busy.get()>{t("Lấy vị trí hiện tại", "Use my location")}</button>
            </fieldset>
            <fieldset>
                <legend>{t("Ảnh", "Photos")}</legend>
                <label for="note-photo">{t("Chụp hoặc chọn ảnh", "Take or choose photos")}</label>
                <input id="note-photo" type="file" accept="image/*" multiple on:change=add_photos/>
                <Show when=move || photo_busy.get()><p class="meta">{t("Đang thu nhỏ ảnh…", "Resizing…")}</p></Show>
                <div class="photos">
                    {move || draft.with(|d| d.photos.clone()).into_iter().map(|sha| {
                        let s2 = sha.clone();
                        view! {
                            <div class="photo-edit">
                                <PhotoThumb sha=sha/>
                                <button type="button" class="link" on:click=move |_| { let s = s2.clone(); draft.update(|d| d.photos.retain(|x| *x != s)); }>
                                    {t("Bỏ ảnh", "Remove")}
                                </button>
                            </div>
                        }
                    }).collect_view()}
                </div>
            </fieldset>
            <crate::common::message::MessageLine message=message testid="note-message" alert=true/>
            <button type="submit" data-testid="save-note" disabled=move || busy.get()>{t("Lưu ghi chép", "Save note")}</button>
            <Show when=editing>
                <button type="button" class="secondary" on:click=move |_| { draft.set(NoteDraft::fresh()); }>{t("Hủy sửa", "Cancel editing")}</button>
            </Show>
        </form>
    }
}

/// `11.81234, 108.51234 (± 12 m)`, formatted by hand: `{:.5}` pulls in the exact float formatter
/// (several KB of download for two numbers).
fn gps_text(g: &Gps) -> String {
    fn deg(v: f64) -> String {
        let n = (v * 100_000.0).round() as i64;
        let sign = if n < 0 { "-" } else { "" };
        format!("{sign}{}.{:05}", n.abs() / 100_000, n.abs() % 100_000)
    }
    format!(
        "{}, {} (± {} m)",
        deg(g.lat),
        deg(g.lon),
        g.accuracy_m.round() as i64
    )
}

/// A photo from the device with its state: on the phone only, or uploaded.
#[component]
pub fn PhotoThumb(sha: String) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let url = RwSignal::new(None::<String>);
    let s = sha.clone();
    spawn_local(async move {
        // A photo taken on another device is shown from the server (when online).
        let local = js::photo_url(&s).await;
        url.set(local.or_else(|| Some(format!("/api/blobs/{s}"))));
    });
    let s = sha.clone();
    let uploaded = Memo::new(move |_| {
        ui.photos
            .with(|p| p.iter().any(|(h, up, _)| *h == s && *up))
    });
    let s = sha.clone();
    let on_device = Memo::new(move |_| ui.photos.with(|p| p.iter().any(|(h, _, _)| *h == s)));
    view! {
        <figure class="photo" data-testid="photo" data-sha=sha.clone() data-uploaded=move || uploaded.get().to_string()>
            {move || url.get().map(|u| view! { <img src=u alt=t("Ảnh hoạt động", "Activity photo")/> })}
            <figcaption class=move || if uploaded.get() { "ok" } else { "meta" }>
                {move || if uploaded.get() { tr("Đã tải lên", "Uploaded") }
                    else if on_device.get() { tr("Chỉ có trên máy", "On this phone only") }
                    else { tr("Ảnh trên máy chủ", "On the server") }}
            </figcaption>
        </figure>
    }
}

const PAGE: usize = 30;

/// The notes of my commune: accent-insensitive search ("dan van" finds "dân vận") and filters.
#[component]
fn NotesList() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let query = RwSignal::new(String::new());
    let task = RwSignal::new(String::new());
    let kind = RwSignal::new(String::new());
    let hamlet = RwSignal::new(String::new());
    let period = RwSignal::new(String::new());
    let mine = RwSignal::new(false);
    let me = ui.session.with_untracked(|s| {
        s.as_ref()
            .map(|s| s.user.username.clone())
            .unwrap_or_default()
    });
    let shown = Memo::new(move |_| {
        let (q, tk, k, h, p, m) = (
            query.get(),
            task.get(),
            kind.get(),
            hamlet.get(),
            period.get(),
            mine.get(),
        );
        ui.notes.with(|notes| {
            notes
                .iter()
                .filter(|n| {
                    let text = format!(
                        "{} {} {} {}",
                        n.title,
                        n.content,
                        n.results,
                        n.petitions
                            .iter()
                            .map(|p| p.text.as_str())
                            .collect::<Vec<_>>()
                            .join(" ")
                    );
                    shared::text::matches(&text, &q)
                        && (tk.is_empty() || n.task_ids.contains(&tk))
                        && (k.is_empty() || n.activity_type.as_deref() == Some(k.as_str()))
                        && (h.is_empty() || n.hamlet.as_deref() == Some(h.as_str()))
                        && (p.is_empty()
                            || Quarter::of_iso_date(&n.activity_date).map(|q| q.to_string())
                                == Some(p.clone()))
                        && (!m || n.author == me)
                })
                .cloned()
                .collect::<Vec<_>>()
        })
    });
    let periods = move || {
        let mut v: Vec<Quarter> = ui.notes.with(|n| {
            n.iter()
                .filter_map(|n| Quarter::of_iso_date(&n.activity_date))
                .collect()
        });
        v.sort();
        v.dedup();
        v.reverse();
        v
    };
    let commune = my_commune(&ui).unwrap_or_default();
    let hamlets = move || {
        ui.org.with(|o| {
            o.iter()
                .filter(|n| n.level == "hamlet" && n.parent.as_deref() == Some(&commune))
                .map(|n| (n.id.clone(), n.name.clone()))
                .collect::<Vec<_>>()
        })
    };
    let count = move || shown.with(Vec::len);
    // A page of notes at a time: drawing a year of notes on every save would make saving slow.
    let limit = RwSignal::new(PAGE);
    view! {
        <section class="card">
            <h2>{t("Ghi chép", "Notes")}</h2>
            <label for="note-search">{t("Tìm kiếm", "Search")}</label>
            <input id="note-search" type="search" placeholder=t("VD: dan van, hop dan", "e.g. dan van")
                prop:value=move || query.get() on:input=move |e| query.set(event_target_value(&e))/>
            <details class="filters">
                <summary>{t("Lọc", "Filters")}</summary>
                <label for="filter-task">{t("Nhiệm vụ", "Task")}</label>
                <select id="filter-task" on:change=move |e| task.set(event_target_value(&e)) prop:value=move || task.get()>
                    <option value="">{t("Tất cả", "All")}</option>
                    {move || ui.tasks.get().into_iter().filter(|t| !t.removed).map(|t| view! { <option value=t.id.clone()>{format!("{} {}", t.number, t.title)}</option> }).collect_view()}
                </select>
                <label for="filter-type">{t("Loại hoạt động", "Activity type")}</label>
                <select id="filter-type" on:change=move |e| kind.set(event_target_value(&e)) prop:value=move || kind.get()>
                    <option value="">{t("Tất cả", "All")}</option>
                    {ACTIVITY_TYPES.iter().map(|(k, vi, en_text)| view! { <option value=*k>{t(vi, en_text)}</option> }).collect_view()}
                </select>
                <label for="filter-hamlet">{t("Thôn, bon", "Hamlet")}</label>
                <select id="filter-hamlet" on:change=move |e| hamlet.set(event_target_value(&e)) prop:value=move || hamlet.get()>
                    <option value="">{t("Tất cả", "All")}</option>
                    {move || hamlets().into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                </select>
                <label for="filter-period">{t("Quý", "Quarter")}</label>
                <select id="filter-period" on:change=move |e| period.set(event_target_value(&e)) prop:value=move || period.get()>
                    <option value="">{t("Tất cả", "All")}</option>
                    {move || periods().into_iter().map(|q| view! { <option value=q.to_string()>{format!("{} {}/{}", tr("Quý", "Q"), q.q, q.year)}</option> }).collect_view()}
                </select>
                <label class="check" for="filter-mine">
                    <input id="filter-mine" type="checkbox" prop:checked=move || mine.get() on:change=move |e| mine.set(event_target_checked(&e))/>
                    {t(" Chỉ ghi chép của tôi", " Only my notes")}
                </label>
            </details>
            <p class="meta" data-testid="notes-count" data-count=move || count().to_string()>
                {move || if en() { format!("{} notes", count()) } else { format!("{} ghi chép", count()) }}
            </p>
            <ul class="notes">
                {move || shown.with(|v| v.iter().take(limit.get()).cloned().collect::<Vec<_>>())
                    .into_iter().map(|n| view! { <NoteItem note=n/> }).collect_view()}
            </ul>
            <Show when=move || { count() > limit.get() }>
                <button type="button" class="secondary" data-testid="more-notes" on:click=move |_| limit.update(|l| *l += PAGE)>
                    {move || format!("{} ({})", tr("Xem thêm", "Show more"), count() - limit.get())}
                </button>
            </Show>
        </section>
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
            (!numbers.is_empty())
                .then(|| format!(" · {} {}", tr("Nhiệm vụ", "Task"), numbers.join(", ")))
        })
    };
    let kind = note
        .activity_type
        .as_deref()
        .and_then(|k| ACTIVITY_TYPES.iter().find(|(x, _, _)| *x == k))
        .copied();
    let hamlet = note.hamlet.clone().map(|h| ui.node_name(&h));
    let p = note.participants;
    let people = (p.total > 0).then_some({
        move || {
            if en() {
                format!(
                    "{} participants ({} women, {} ethnic minority, {} religious)",
                    p.total, p.women, p.ethnic_minority, p.religious
                )
            } else {
                format!(
                    "{} người dự ({} nữ, {} dân tộc thiểu số, {} tôn giáo)",
                    p.total, p.women, p.ethnic_minority, p.religious
                )
            }
        }
    });
    let for_edit = note.clone();
    let for_delete = note.clone();
    let edit = move |_| {
        let d = NoteDraft::from_note(&for_edit);
        let text = serde_json::to_string(&d).unwrap_or_default();
        spawn_local(async move {
            let _ = js::set_meta(DRAFT_KEY, &text).await;
            go(Tab::New);
        });
    };
    let delete = move |_| {
        if !js::dom::confirm(tr(
            "Xóa ghi chép này? Lịch sử vẫn được giữ.",
            "Delete this note? Its history is kept.",
        )) {
            return;
        }
        let mut n = for_delete.clone();
        n.deleted = true;
        spawn_local(async move {
            let _ = driver::save_note(n).await;
        });
    };
    view! {
        <li data-testid="note-item" data-note-id=note.id.clone()>
            <div class="meta">{display_date(&note.activity_date)}
                {kind.map(|(_, vi, en_text)| view! { " · " {t(vi, en_text)} })}
                {hamlet.map(|h| format!(" · {h}"))}
                {task_label}
                {note.unit.as_deref().map(|u| format!(" · {}", unit_kind_name(u)))}
            </div>
            <div class="title">{note.title.clone()}</div>
            {people.map(|f| view! { <div class="meta">{f}</div> })}
            <div class="content">{note.content.clone()}</div>
            {(!note.results.is_empty()).then(|| view! { <div class="content"><strong>{t("Kết quả: ", "Results: ")}</strong>{note.results.clone()}</div> })}
            {(!note.petitions.is_empty()).then(|| view! {
                <ul class="petitions">
                    {note.petitions.iter().map(|p| {
                        let st = PETITION_STATUSES.iter().find(|(k, _, _)| *k == p.status).copied();
                        view! { <li>{p.text.clone()} {st.map(|(_, vi, en_text)| view! { <span class="status progress">{t(vi, en_text)}</span> })}</li> }
                    }).collect_view()}
                </ul>
            })}
            {note.gps.map(|g| view! { <div class="meta">{format!("GPS {}", gps_text(&g))}</div> })}
            {(!note.photos.is_empty()).then(|| view! {
                <div class="photos">{note.photos.iter().map(|s| view! { <PhotoThumb sha=s.clone()/> }).collect_view()}</div>
            })}
            <div class="actions">
                <button type="button" class="link" on:click=edit>{t("Sửa", "Edit")}</button>
                <button type="button" class="link" on:click=delete>{t("Xóa", "Delete")}</button>
            </div>
        </li>
    }
}
