//! Notes across the communes under the user's node: accent-insensitive search (every word must
//! match), by commune and period, newest first; each note whole — content, results, participants,
//! petitions with their follow-up, photos from the server, position — a page at a time.

use super::Filter;
use super::period::{PeriodPicker, period_query};
use crate::common::i18n::{t, tr};
use crate::common::state::Ui;
use crate::js;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::{OFFICE_PAGE, OfficeNote, OfficeNotes};
use shared::ids::{display_date, display_datetime_vn};
use shared::vocab::OrgLevel;

/// The query string of the office's list endpoints for the current filter.
pub fn list_query(filter: &Filter, offset: usize) -> String {
    let mut q = period_query(&filter.quarter.get());
    let words = filter.words.get();
    if !words.trim().is_empty() {
        q.push_str(&format!("&q={}", js::dom::encode_query(words.trim())));
    }
    let commune = filter.commune.get();
    if !commune.is_empty() {
        q.push_str(&format!("&commune={}", js::dom::encode_query(&commune)));
    }
    let task = filter.task.get();
    if !task.is_empty() {
        q.push_str(&format!("&task={}", js::dom::encode_query(&task)));
    }
    if offset > 0 {
        q.push_str(&format!("&offset={offset}"));
    }
    q
}

/// Fetches a page of an office list: the first page (`offset` 0) replaces what `page` holds, a
/// later one is joined to it with `join(shown, next)`; `error` says whether the fetch failed.
pub fn load_page<T: serde::de::DeserializeOwned + Send + Sync + 'static>(
    url: String,
    offset: usize,
    page: RwSignal<Option<T>>,
    error: RwSignal<bool>,
    join: fn(T, T) -> T,
) {
    spawn_local(async move {
        match js::get_json::<T>(&url).await {
            Some(next) => {
                error.try_set(false);
                let shown = if offset > 0 {
                    page.try_update_untracked(Option::take).flatten()
                } else {
                    None
                };
                page.try_set(Some(match shown {
                    Some(shown) => join(shown, next),
                    None => next,
                }));
            }
            None => {
                error.try_set(true);
            }
        }
    });
}

/// The search box and the commune picker shared by the notes and petitions screens.
#[component]
pub fn ListFilters() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let filter = expect_context::<Filter>();
    let communes = move || {
        let mut v: Vec<(String, String)> = ui.org.with(|o| {
            o.iter()
                .filter(|n| n.level == OrgLevel::Commune)
                .map(|n| (n.id.clone(), n.name.clone()))
                .collect()
        });
        v.sort_by(|a, b| a.1.cmp(&b.1));
        v
    };
    view! {
        <div class="filters-row">
            <PeriodPicker/>
            <label for="office-commune">{t("Xã", "Commune")}</label>
            <select id="office-commune" prop:value=move || filter.commune.get()
                on:change=move |e| filter.commune.set(event_target_value(&e))>
                <option value="">{t("Tất cả", "All")}</option>
                {move || communes().into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
            </select>
            <label for="office-search">{t("Tìm (không cần dấu)", "Search (accents optional)")}</label>
            <input id="office-search" type="search" prop:value=move || filter.words.get()
                on:change=move |e| filter.words.set(event_target_value(&e))/>
            {move || {
                let task = filter.task.get();
                (!task.is_empty()).then(|| {
                    let name = ui.tasks.with(|ts| ts.iter().find(|t| t.id == task).map(|t| format!("{} {}", t.number, t.title))).unwrap_or(task);
                    view! {
                        <p class="meta" data-testid="office-task-filter">{format!("{} {name} ", tr("Nhiệm vụ:", "Task:"))}
                            <button type="button" class="link" on:click=move |_| filter.task.set(String::new())>{t("Bỏ lọc", "Clear")}</button>
                        </p>
                    }
                })
            }}
        </div>
    }
}

/// A note whole: where and by whom, the tasks it is for, and everything recorded in it.
fn note_view(ui: &Ui, n: OfficeNote) -> impl IntoView + use<> {
    let note = n.note;
    let p = note.participants;
    let kind = note.activity_type.as_ref().and_then(|k| k.labels());
    let place = [note.hamlet.as_deref(), note.unit.as_deref()]
        .into_iter()
        .flatten()
        .map(|id| format!(" · {}", ui.node_name(id)))
        .collect::<String>();
    let tasks = ui.tasks.with_untracked(|ts| {
        note.task_ids
            .iter()
            .map(|id| {
                ts.iter()
                    .find(|t| t.id == *id)
                    .map_or_else(|| id.clone(), |t| format!("{} {}", t.number, t.title))
            })
            .collect::<Vec<_>>()
            .join("; ")
    });
    // The server's own receipt time beside the device's, where they disagree by more than a day
    // (a wrong clock, or a note kept offline for long).
    let received = n
        .received_at
        .filter(|r| (r - note.created_at).abs() > 24 * 3600 * 1000)
        .map(|r| {
            format!(
                " · {} {}",
                tr("máy chủ nhận", "received by the server"),
                display_datetime_vn(r)
            )
        })
        .unwrap_or_default();
    let by = format!(
        "{} {} · {}{received}",
        tr("Người ghi:", "Recorded by:"),
        note.author,
        display_datetime_vn(note.created_at)
    );
    view! {
        <li class="note" data-testid="office-note" data-note-id=note.id.clone() data-commune-id=n.commune_id.clone()>
            <div class="meta">
                {format!("{} · {}{place}", display_date(&note.activity_date), n.commune_name)}
                {kind.map(|(vi, en_text)| view! { " · " {t(vi, en_text)} })}
            </div>
            <div class="title">{note.title.clone()}</div>
            {(!tasks.is_empty()).then(|| view! { <div class="meta" data-testid="office-note-tasks">{t("Nhiệm vụ: ", "Tasks: ")}{tasks}</div> })}
            {(p.total > 0).then(|| view! {
                <div class="meta">{move || format!("{} {} · {} {} · {} {} · {} {}",
                    tr("Tham dự", "Participants"), p.total, tr("nữ", "women"), p.women,
                    tr("DTTS", "ethnic minority"), p.ethnic_minority, tr("tôn giáo", "religious"), p.religious)}</div>
            })}
            <div class="content">{note.content.clone()}</div>
            {(!note.results.is_empty()).then(|| view! { <div class="content"><strong>{t("Kết quả: ", "Results: ")}</strong>{note.results.clone()}</div> })}
            {(!note.petitions.is_empty()).then(|| view! {
                <ul class="petitions">
                    {note.petitions.iter().map(|pe| {
                        let st = pe.status.labels();
                        view! { <li>{pe.text.clone()} {st.map(|(vi, en_text)| view! { <span class="status progress">{t(vi, en_text)}</span> })}</li> }
                    }).collect_view()}
                </ul>
            })}
            {note.gps.map(|g| view! { <div class="meta">{format!("GPS {}", g.text())}</div> })}
            {(!note.photos.is_empty()).then(|| view! {
                <div class="photos">
                    {note.photos.iter().map(|sha| view! {
                        <a href=format!("/api/blobs/{sha}") target="_blank" rel="noopener">
                            <img src=format!("/api/blobs/{sha}") loading="lazy" alt=tr("Ảnh của ghi chép", "Photo of the note") width="96" height="96"/>
                        </a>
                    }).collect_view()}
                </div>
            })}
            <div class="meta">{by}</div>
        </li>
    }
}

#[component]
pub fn NotesSearch() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let filter = expect_context::<Filter>();
    let page = RwSignal::new(None::<OfficeNotes>);
    let error = RwSignal::new(false);
    let load = move |offset: usize| {
        let url = format!("/api/office/notes?{}", list_query(&filter, offset));
        load_page(url, offset, page, error, |mut shown, mut next| {
            shown.notes.append(&mut next.notes);
            OfficeNotes {
                notes: shown.notes,
                ..next
            }
        });
    };
    Effect::new(move |_| load(0));
    view! {
        <section class="card" data-testid="office-notes">
            <h2>{t("Ghi chép của các xã", "The communes' notes")}</h2>
            <ListFilters/>
            <super::drill::Drill/>
            <Show when=move || error.get()>
                <p class="error">{t("Cần có mạng để tìm ghi chép.", "Searching notes needs a network connection.")}</p>
            </Show>
            {move || page.get().map(|p| {
                let shown = p.notes.len();
                let more = (shown as i64) < p.total;
                view! {
                    <p class="meta" data-testid="office-notes-count" data-count=p.total.to_string()>
                        {move || format!("{} {}", p.total, tr("ghi chép", "notes"))}
                    </p>
                    <ul class="notes">{p.notes.into_iter().map(|n| note_view(&ui, n)).collect_view()}</ul>
                    {more.then(|| view! {
                        <button type="button" on:click=move |_| load(shown)>{t("Xem thêm", "Show more")}</button>
                    })}
                }
            })}
            <p class="hint">{move || format!("{} {OFFICE_PAGE} {}", tr("Mỗi lần hiện", "Shown"), tr("ghi chép.", "at a time."))}</p>
        </section>
    }
}
