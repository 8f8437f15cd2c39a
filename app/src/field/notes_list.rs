//! The notes of my commune: accent-insensitive search ("dan van" finds "dân vận"), filters, a page
//! at a time; each note with its edit and delete.

use super::draft::{self, NoteDraft};
use super::photos::PhotoThumb;
use super::{Tab, go, my_commune};
use crate::common::i18n::{en, t, tr};
use crate::common::message::{Message, MessageLine};
use crate::common::state::{Ui, unit_kind_name};
use crate::driver;
use crate::js::dom;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::ids::{Quarter, display_date};
use shared::schema::Note;
use shared::vocab::ActivityType;
use shared::vocab::OrgLevel;

const PAGE: usize = 30;
/// Notes drawn when the list opens: more than a phone's screen holds.
const FIRST: usize = 4;

/// The notes of my commune: accent-insensitive search ("dan van" finds "dân vận") and filters.
#[component]
pub fn NotesList() -> impl IntoView {
    let ui = expect_context::<Ui>();
    // The notes documents are loaded when first needed, which may be now.
    spawn_local(driver::load_notes());
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
    // A page of notes at a time: drawing a year of notes on every save would make saving slow.
    // The first screenful is drawn first, the rest of the page once it is on screen.
    let limit = RwSignal::new(FIRST);
    // On opening and on every new search or filter: the first screenful, then the page.
    let first_screen = move || {
        limit.set(FIRST);
        spawn_local(async move {
            dom::after_paint().await;
            limit.try_update(|l| *l = (*l).max(PAGE));
        });
    };
    first_screen();
    // How many notes match, and the first page of them: only that page is copied and drawn.
    let shown = Memo::new(move |_| {
        let (q, tk, k, h, p, m) = (
            query.get(),
            task.get(),
            kind.get(),
            hamlet.get(),
            period.get(),
            mine.get(),
        );
        let words = shared::text::Query::new(&q);
        let limit = limit.get();
        ui.notes.with(|notes| {
            let mut count = 0;
            let mut page = Vec::new();
            for n in notes {
                let wanted = (tk.is_empty() || n.task_ids.contains(&tk))
                    && (k.is_empty()
                        || n.activity_type.as_ref().map(ActivityType::as_str) == Some(k.as_str()))
                    && (h.is_empty() || n.hamlet.as_deref() == Some(h.as_str()))
                    && (p.is_empty()
                        || Quarter::of_iso_date(&n.activity_date).map(|q| q.to_string())
                            == Some(p.clone()))
                    && (!m || n.author == me)
                    && words.matches_folded(&n.folded);
                if wanted {
                    count += 1;
                    if page.len() < limit {
                        page.push(Note::clone(&n.note));
                    }
                }
            }
            (count, page)
        })
    });
    let periods = move || {
        // By month first (a quarter has thousands of notes and three months).
        let mut v: Vec<Quarter> = ui.notes.with(|n| {
            let months: std::collections::BTreeSet<&str> =
                n.iter().filter_map(|n| n.activity_date.get(..7)).collect();
            months
                .iter()
                .filter_map(|m| Quarter::of_iso_date(&format!("{m}-01")))
                .collect()
        });
        v.dedup();
        v.reverse();
        v
    };
    let commune = my_commune(&ui).unwrap_or_default();
    let hamlets = move || {
        ui.org.with(|o| {
            o.iter()
                .filter(|n| n.level == OrgLevel::Hamlet && n.parent.as_deref() == Some(&commune))
                .map(|n| (n.id.clone(), n.name.clone()))
                .collect::<Vec<_>>()
        })
    };
    let count = move || shown.with(|s| s.0);
    view! {
        <section class="card">
            <h2>{t("Ghi chép", "Notes")}</h2>
            <label for="note-search">{t("Tìm kiếm", "Search")}</label>
            <input id="note-search" type="search" placeholder=t("VD: dan van, hop dan", "e.g. dan van")
                prop:value=move || query.get() on:input=move |e| { first_screen(); query.set(event_target_value(&e)) }/>
            <details class="filters">
                <summary>{t("Lọc", "Filters")}</summary>
                <label for="filter-task">{t("Nhiệm vụ", "Task")}</label>
                <select id="filter-task" on:change=move |e| { first_screen(); task.set(event_target_value(&e)) } prop:value=move || task.get()>
                    <option value="">{t("Tất cả", "All")}</option>
                    {move || ui.tasks.get().into_iter().filter(|t| !t.removed).map(|t| view! { <option value=t.id.clone()>{format!("{} {}", t.number, t.title)}</option> }).collect_view()}
                </select>
                <label for="filter-type">{t("Loại hoạt động", "Activity type")}</label>
                <select id="filter-type" on:change=move |e| { first_screen(); kind.set(event_target_value(&e)) } prop:value=move || kind.get()>
                    <option value="">{t("Tất cả", "All")}</option>
                    {crate::common::i18n::word_options::<ActivityType>()}
                </select>
                <label for="filter-hamlet">{t("Thôn, bon", "Hamlet")}</label>
                <select id="filter-hamlet" on:change=move |e| { first_screen(); hamlet.set(event_target_value(&e)) } prop:value=move || hamlet.get()>
                    <option value="">{t("Tất cả", "All")}</option>
                    {move || hamlets().into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                </select>
                <label for="filter-period">{t("Quý", "Quarter")}</label>
                <select id="filter-period" on:change=move |e| { first_screen(); period.set(event_target_value(&e)) } prop:value=move || period.get()>
                    <option value="">{t("Tất cả", "All")}</option>
                    {move || periods().into_iter().map(|q| view! { <option value=q.to_string()>{format!("{} {}/{}", tr("Quý", "Q"), q.q, q.year)}</option> }).collect_view()}
                </select>
                <label class="check" for="filter-mine">
                    <input id="filter-mine" type="checkbox" prop:checked=move || mine.get() on:change=move |e| { first_screen(); mine.set(event_target_checked(&e)) }/>
                    {t(" Chỉ ghi chép của tôi", " Only my notes")}
                </label>
            </details>
            <Show when=move || ui.notes_loading.get()>
                <p class="meta" data-testid="notes-loading">{t("Đang đọc ghi chép trên máy…", "Reading the notes on this device…")}</p>
            </Show>
            <p class="meta" data-testid="notes-count" data-count=move || count().to_string()>
                {move || if en() { format!("{} notes", count()) } else { format!("{} ghi chép", count()) }}
            </p>
            // Keyed by the whole note: a save redraws the note it changed, not the page.
            <ul class="notes">
                <For each=move || shown.with(|s| s.1.clone()) key=|n| format!("{n:?}") let:n>
                    <NoteItem note=n/>
                </For>
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
    let kind = note.activity_type.as_ref().and_then(ActivityType::labels);
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
    // The note just saved from the form says so here, where the form sent the user.
    let just_saved = ui
        .saved_draft
        .with_untracked(|s| s.as_deref() == Some(note.id.as_str()));
    let message: Message = RwSignal::new(just_saved.then(|| {
        (
            true,
            tr("Đã lưu trên máy.", "Saved on this device.").to_string(),
        )
    }));
    let for_edit = note.clone();
    let for_delete = note.clone();
    let edit = move |_| {
        let d = NoteDraft::from_note(&for_edit);
        spawn_local(async move {
            // The form opens with what is kept on the device: only once the note is there.
            match draft::store(&d).await {
                Ok(()) => go(Tab::New),
                // (The item may be gone by now: its message is only tried.)
                Err(e) => {
                    message.try_set(Some((
                        false,
                        format!(
                            "{} ({e}).",
                            tr(
                                "Không mở được ghi chép để sửa",
                                "Could not open the note for editing"
                            )
                        ),
                    )));
                }
            }
        });
    };
    let delete = move |_| {
        if !dom::confirm(tr(
            "Xóa ghi chép này? Lịch sử vẫn được giữ.",
            "Delete this note? Its history is kept.",
        )) {
            return;
        }
        let mut n = for_delete.clone();
        n.deleted = true;
        spawn_local(async move {
            // A deleted note leaves the list at once: its item may be gone by now.
            if let Err(e) = driver::save_note(n).await {
                message.try_set(Some((
                    false,
                    format!(
                        "{} {e}",
                        tr("Chưa xóa được ghi chép:", "The note was not deleted:")
                    ),
                )));
            }
        });
    };
    view! {
        <li data-testid="note-item" data-note-id=note.id.clone()>
            <div class="meta">{display_date(&note.activity_date)}
                {kind.map(|(vi, en_text)| view! { " · " {t(vi, en_text)} })}
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
                        let st = p.status.labels();
                        view! { <li>{p.text.clone()} {st.map(|(vi, en_text)| view! { <span class="status progress">{t(vi, en_text)}</span> })}</li> }
                    }).collect_view()}
                </ul>
            })}
            {note.gps.map(|g| view! { <div class="meta">{format!("GPS {}", g.text())}</div> })}
            {(!note.photos.is_empty()).then(|| view! {
                <div class="photos">{note.photos.iter().map(|s| view! { <PhotoThumb sha=s.clone()/> }).collect_view()}</div>
            })}
            <div class="actions">
                <button type="button" class="link" on:click=edit>{t("Sửa", "Edit")}</button>
                <button type="button" class="link" on:click=delete>{t("Xóa", "Delete")}</button>
            </div>
            <MessageLine message=message testid="note-item-message" alert=true/>
        </li>
    }
}
