//! The note form (every field of DESIGN §4): the draft restored and autosaved as the user types, the
//! save, and the form's parts — the activity, linked tasks, participants, what happened, petitions.

use super::draft::{self, NoteDraft};
use super::photos::{location_field, photo_field};
use super::{Tab, go, my_commune};
use crate::common::i18n::{t, tr};
use crate::common::message::{Message, MessageLine};
use crate::common::state::Ui;
use crate::driver;
use crate::js::dom;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::schema::Petition;
use shared::vocab::OrgLevel;
use shared::vocab::{ActivityType, PetitionStatus};

#[component]
pub fn NoteForm() -> impl IntoView {
    let ui = expect_context::<Ui>();
    // Saving needs the notes document: it loads while the note is typed, not on the save.
    spawn_local(crate::driver::load_notes());
    let draft = RwSignal::new(NoteDraft::fresh(my_unit(&ui).as_deref()));
    // Whether the kept draft was read: until then nothing is written over it.
    let loaded = RwSignal::new(false);
    let message: Message = RwSignal::new(None);
    // Problems keeping the draft, apart from the save's message (a later success clears them).
    let draft_message: Message = RwSignal::new(None);
    let busy = RwSignal::new(false);
    restore_draft(draft, loaded, draft_message);
    autosave_draft(draft, loaded, draft_message);
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
            // From here on the form may be gone (the user switched tabs during the save): its
            // signals are only tried, never assumed.
            busy.try_set(false);
            match res {
                Ok(()) => start_next_note(ui, draft, loaded).await,
                // The draft stays as it is: the user can save again.
                Err(e) => {
                    message.try_set(Some((false, e)));
                }
            }
        });
    };
    let editing = move || draft.with(|d| d.editing);
    view! {
        <form class="card" on:submit=submit data-testid="note-form" novalidate>
            <h2>{move || if editing() { tr("Sửa ghi chép", "Edit note") } else { tr("Ghi chép mới", "New note") }}</h2>
            <p class="hint">{t("Bản nháp được lưu trên máy trong khi bạn nhập.", "The draft is kept on this device as you type.")}</p>
            <MessageLine message=draft_message testid="draft-message" alert=true/>
            {activity_fields(draft)}
            {linked_tasks(draft)}
            {participant_fields(draft)}
            <label for="note-content">{t("Nội dung", "What happened")}</label>
            <textarea id="note-content" rows="4" prop:value=move || draft.with(|d| d.content.clone())
                on:input=move |e| { let v = event_target_value(&e); draft.update(|d| d.content = v); }></textarea>
            <label for="note-results">{t("Kết quả, đóng góp vào chỉ tiêu", "Results, contribution to indicators")}</label>
            <textarea id="note-results" rows="3" prop:value=move || draft.with(|d| d.results.clone())
                on:input=move |e| { let v = event_target_value(&e); draft.update(|d| d.results = v); }></textarea>
            {petitions(draft)}
            {location_field(draft, message)}
            {photo_field(draft, message)}
            <MessageLine message=message testid="note-message" alert=true/>
            <button type="submit" data-testid="save-note" disabled=move || busy.get()>{t("Lưu ghi chép", "Save note")}</button>
            <Show when=editing>
                <button type="button" class="secondary" on:click=move |_| { draft.set(NoteDraft::fresh(my_unit(&ui).as_deref())); }>{t("Hủy sửa", "Cancel editing")}</button>
            </Show>
        </form>
    }
}

/// Restore the draft the device kept (a reload, an update or a dead battery loses nothing).
fn restore_draft(draft: RwSignal<NoteDraft>, loaded: RwSignal<bool>, problem: Message) {
    let ui = expect_context::<Ui>();
    spawn_local(async move {
        match draft::load().await {
            Ok(kept) => {
                match kept {
                    Some(d) if !d.editing && ui.saved_draft.with_untracked(|s| *s == d.id) => {
                        // Already saved: start afresh (the autosave writes the fresh draft).
                        draft.try_set(NoteDraft::fresh(my_unit(&ui).as_deref()));
                    }
                    Some(d) => {
                        draft.try_set(d);
                    }
                    None => {}
                }
                loaded.try_set(true);
            }
            // Autosave stays off: it would replace the kept draft that could not be read.
            Err(e) => {
                problem.try_set(Some((
                    false,
                    format!(
                        "{} ({e}).",
                        tr(
                            "Không đọc được bản nháp trên máy: nội dung nhập chưa được tự động lưu",
                            "Cannot read the draft on this device: what you type is not autosaved"
                        )
                    ),
                )));
            }
        }
        dom::set_body_attr("data-draft-ready", "true");
    });
}

/// Every change of the draft is written to IndexedDB (one small record). A failed write is shown
/// until a later one succeeds; the draft on screen stays either way.
fn autosave_draft(draft: RwSignal<NoteDraft>, loaded: RwSignal<bool>, problem: Message) {
    Effect::new(move |_| {
        let d = draft.get();
        if loaded.get_untracked() {
            spawn_local(async move {
                // The form may be gone by the time the write ends (a save moves to the list).
                match draft::store(&d).await {
                    Ok(()) => {
                        if problem.try_with_untracked(Option::is_some) == Some(true) {
                            problem.try_set(None);
                        }
                    }
                    Err(e) => {
                        problem.try_set(Some((
                        false,
                        format!(
                            "{} ({e}).",
                            tr(
                                "Không tự động lưu được bản nháp: đừng đóng trang trước khi lưu",
                                "Could not autosave the draft: do not close the page before saving"
                            )
                        ),
                    )));
                    }
                }
            });
        }
    });
}

/// After a save: a fresh draft (new note ID), then the notes list.
async fn start_next_note(ui: Ui, draft: RwSignal<NoteDraft>, loaded: RwSignal<bool>) {
    // The saved note's ID is remembered first, so no later form reopens the kept draft of that
    // note as a new one (saving it again would overwrite the note), whether or not the fresh draft
    // below gets stored.
    let fresh = NoteDraft::fresh(my_unit(&ui).as_deref());
    ui.saved_draft
        .set(draft.try_with_untracked(|d| d.id.clone()).flatten());
    // The form is left as it is (it goes away with the tab): clearing it first would redraw
    // every field for nothing while the user waits to see the note listed.
    go(Tab::Notes);
    // The list shows the note without waiting for this write; a form opened later reads the
    // kept draft after it (IndexedDB orders the two). A kept draft that could not be read is left
    // as it is.
    if loaded.try_get_untracked() == Some(true)
        && let Err(e) = draft::store(&fresh).await
    {
        ui.banner.set(Some(format!(
            "{} ({e}).",
            tr(
                "Đã lưu trên máy, nhưng chưa làm mới được bản nháp",
                "Saved on this device, but the draft could not be reset"
            )
        )));
    }
}

/// When, what and where: date, title, activity type, hamlet, unit.
fn activity_fields(draft: RwSignal<NoteDraft>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let commune = my_commune(&ui).unwrap_or_default();
    let c2 = commune.clone();
    let hamlets = move || {
        ui.org.with(|o| {
            o.iter()
                .filter(|n| {
                    n.level == OrgLevel::Hamlet
                        && !n.removed
                        && n.parent.as_deref() == Some(&commune)
                })
                .map(|n| (n.id.clone(), n.name.clone()))
                .collect::<Vec<_>>()
        })
    };
    let units = move || {
        ui.org.with(|o| {
            o.iter()
                .filter(|n| {
                    n.level == OrgLevel::Unit && !n.removed && n.parent.as_deref() == Some(&c2)
                })
                .filter_map(|n| Some((n.kind.clone()?, n.name.clone())))
                .collect::<Vec<_>>()
        })
    };
    view! {
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
            {crate::common::i18n::word_options::<ActivityType>()}
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
    }
}

/// The plan tasks (targeting this commune) the activity served.
fn linked_tasks(draft: RwSignal<NoteDraft>) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let commune = my_commune(&ui).unwrap_or_default();
    let tasks = move || {
        ui.tasks.with(|ts| {
            ts.iter()
                .filter(|t| t.targets(&commune))
                .map(|t| (t.id.clone(), format!("{} {}", t.number, t.title)))
                .collect::<Vec<_>>()
        })
    };
    view! {
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
    }
}

/// How many took part: total, women, ethnic minority, religious.
fn participant_fields(draft: RwSignal<NoteDraft>) -> impl IntoView {
    view! {
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

/// The people's opinions and petitions raised at the activity, each with its follow-up.
fn petitions(draft: RwSignal<NoteDraft>) -> impl IntoView {
    view! {
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
                        <select id=sid.clone() prop:value=move || draft.with(|d| d.petitions.get(i).map(|p| p.status.to_string()).unwrap_or_default())
                            on:change=move |e| { let v = event_target_value(&e); draft.update(|d| if let Some(p) = d.petitions.get_mut(i) { p.status = PetitionStatus::parse(&v); }); }>
                            {crate::common::i18n::word_options::<PetitionStatus>()}
                        </select>
                        <button type="button" class="link" on:click=move |_| draft.update(|d| { if i < d.petitions.len() { d.petitions.remove(i); } })>
                            {t("Bỏ kiến nghị này", "Remove this petition")}
                        </button>
                    </div>
                }
            }).collect_view()}
            <button type="button" class="secondary" data-testid="add-petition"
                on:click=move |_| draft.update(|d| d.petitions.push(Petition { text: String::new(), status: PetitionStatus::Received }))>
                {t("+ Thêm ý kiến, kiến nghị", "+ Add a petition")}
            </button>
        </fieldset>
    }
}

/// The unit the member's account names, which a new note starts with.
fn my_unit(ui: &Ui) -> Option<String> {
    ui.session
        .with_untracked(|s| s.as_ref().and_then(|s| s.user.unit.clone()))
}
