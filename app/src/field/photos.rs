//! What the phone adds to a note from its camera and GPS: photos (chosen, shrunk and stored by the
//! bridge, shown with their upload state) and the position, written without float formatting.

use super::draft::NoteDraft;
use crate::common::i18n::{t, tr};
use crate::common::message::Message;
use crate::common::state::Ui;
use crate::driver;
use crate::js;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::schema::Gps;

/// The photos of the note being written: take or choose (resized on the phone), remove.
pub fn photo_field(draft: RwSignal<NoteDraft>, message: Message) -> impl IntoView {
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
    view! {
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
    }
}

/// The note's position (optional): never blocks saving.
pub fn location_field(draft: RwSignal<NoteDraft>, message: Message) -> impl IntoView {
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
    view! {
        <fieldset>
            <legend>{t("Vị trí (không bắt buộc)", "Location (optional)")}</legend>
            <p class="meta" data-testid="gps">{move || match draft.with(|d| d.gps) {
                Some(g) => g.text(),
                None => tr("Chưa có vị trí.", "No position yet.").to_string(),
            }}</p>
            <button type="button" class="secondary" on:click=locate disabled=move || gps_busy.get()>{t("Lấy vị trí hiện tại", "Use my location")}</button>
        </fieldset>
    }
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
