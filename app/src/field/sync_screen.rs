//! The sync screen: what is on this device and not yet safe on the server, when the server last
//! confirmed, photos waiting, whether the browser keeps data persistently; and export/import of all
//! local work as a file, for when there is no network at all.

use crate::common::i18n::{en, t, tr};
use crate::common::state::Ui;
use crate::driver;
use crate::js;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::ids::display_datetime_vn;

/// "3 giờ trước" / "3 hours ago".
fn age(ms: i64) -> String {
    let mins = ((js::dom::now_ms() - ms) / 60_000).max(0);
    let (n, vi, en_text) = match mins {
        0..60 => (mins, "phút", "minutes"),
        60..2880 => (mins / 60, "giờ", "hours"),
        _ => (mins / 1440, "ngày", "days"),
    };
    if en() {
        format!("{n} {en_text} ago")
    } else {
        format!("{n} {vi} trước")
    }
}

#[component]
pub fn SyncScreen() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let message = RwSignal::new(None::<(bool, String)>);
    // A passphrase seals the exported file (citizens' names and petitions travel over Zalo or
    // USB) and opens a sealed one on import.
    let passphrase = RwSignal::new(String::new());
    spawn_local(driver::refresh_photos());
    let export = move |_| {
        spawn_local(async move {
            match driver::transfer::export_all().await {
                Ok((text, docs, photos)) => {
                    let (y, m, d) = shared::ids::vn_civil_date(js::dom::now_ms());
                    let who = ui.session.with_untracked(|s| {
                        s.as_ref()
                            .map(|s| s.user.username.clone())
                            .unwrap_or_default()
                    });
                    let name = format!("danvan-{who}-{y:04}{m:02}{d:02}.json");
                    let pass = passphrase.get_untracked();
                    if let Err(e) = js::save_file(&name, &text, &pass).await {
                        message.set(Some((false, e)));
                        return;
                    }
                    js::report_transfer("export", docs, photos, !pass.is_empty(), 0);
                    message.set(Some((
                        true,
                        tr(
                            "Đã xuất tệp. Hãy giữ tệp này cho đến khi dữ liệu được đồng bộ.",
                            "Exported. Keep the file until the data has synced.",
                        )
                        .into(),
                    )));
                }
                Err(e) => message.set(Some((false, e))),
            }
        });
    };
    let import = move |_| {
        spawn_local(async move {
            // A sealed file is opened with the passphrase; without it, or with a wrong one,
            // nothing changes.
            match js::chosen_file_text("import-file", &passphrase.get_untracked()).await {
                Ok(Some(text)) => match driver::transfer::import_file(&text).await {
                    Ok((merged, skipped, photos)) => message.set(Some((true, {
                        js::report_transfer("import", merged, photos, false, skipped);
                        if en() {
                        format!("Imported: {merged} documents, {photos} photos ({skipped} documents not yours to write, skipped).")
                    } else {
                        format!("Đã nhập: {merged} tài liệu, {photos} ảnh ({skipped} tài liệu không thuộc quyền ghi của bạn, bỏ qua).")
                    }}))),
                    Err(e) => message.set(Some((false, e))),
                },
                Ok(None) => message.set(Some((false, tr("Hãy chọn tệp trước.", "Choose a file first.").into()))),
                Err(e) => message.set(Some((false, e))),
            }
        });
    };
    let waiting = move || ui.photos.with(|p| p.iter().filter(|x| !x.1).count());
    view! {
        <section class="card" data-testid="sync-screen">
            <h2>{t("Đồng bộ", "Sync")}</h2>
            <dl class="facts">
                <dt>{t("Kết nối", "Connection")}</dt>
                <dd data-testid="sync-online">{move || if ui.online.get() { tr("Đang kết nối máy chủ", "Connected to the server") } else { tr("Không có kết nối — vẫn làm việc bình thường", "Offline — keep working") }}</dd>
                <dt>{t("Chưa đồng bộ", "Not yet synced")}</dt>
                <dd data-testid="sync-unsynced" data-count=move || ui.unsynced.get().to_string()>
                    {move || {
                        let n = ui.unsynced.get();
                        let oldest = ui.oldest_unsynced.get().map(|t| format!(" · {} {}", tr("cũ nhất", "oldest"), age(t))).unwrap_or_default();
                        if en() { format!("{n} changes{oldest}") } else { format!("{n} thay đổi{oldest}") }
                    }}
                </dd>
                <dt>{t("Lần đồng bộ cuối", "Last sync")}</dt>
                <dd data-testid="sync-last">{move || ui.last_sync.get().map(|t| format!("{} ({})", display_datetime_vn(t), age(t))).unwrap_or_else(|| tr("Chưa lần nào", "Never").to_string())}</dd>
                <dt>{t("Ảnh chờ tải lên", "Photos waiting")}</dt>
                <dd data-testid="sync-photos" data-count=move || waiting().to_string()>{move || waiting().to_string()}</dd>
                <dt>{t("Lưu trữ bền vững", "Persistent storage")}</dt>
                <dd data-testid="sync-persist">{move || match ui.persistent.get() {
                    Some(true) => tr("Có — trình duyệt sẽ không tự xóa dữ liệu.", "Yes — the browser will not clear the data on its own.").to_string(),
                    Some(false) => tr("Không — trình duyệt có thể xóa dữ liệu khi máy đầy bộ nhớ. Hãy cài ứng dụng và đồng bộ hoặc xuất tệp thường xuyên.", "No — the browser may clear data when storage runs low. Install the app and sync or export often.").to_string(),
                    None => "…".to_string(),
                }}</dd>
            </dl>
        </section>
        <section class="card">
            <h2>{t("Chuyển dữ liệu bằng tệp", "Move data with a file")}</h2>
            <p class="hint">{t("Khi không có mạng: xuất toàn bộ dữ liệu trên máy ra tệp, chép sang máy khác (USB, Zalo, Bluetooth) rồi nhập vào. Nhập nhiều lần cũng không bị trùng.",
                "Without a network: export everything on this device to a file, copy it to another device and import it there. Importing twice changes nothing.")}</p>
            <label for="file-passphrase">{t("Mật khẩu bảo vệ tệp (nên dùng)", "Passphrase to seal the file (recommended)")}</label>
            <input id="file-passphrase" type="password" autocomplete="new-password" prop:value=move || passphrase.get() on:input=move |e| passphrase.set(event_target_value(&e))/>
            <button type="button" data-testid="export" on:click=export>{t("Xuất dữ liệu ra tệp", "Export to a file")}</button>
            <label for="import-file">{t("Tệp để nhập", "File to import")}</label>
            <input id="import-file" type="file" accept=".json,application/json"/>
            <button type="button" class="secondary" data-testid="import" on:click=import>{t("Nhập dữ liệu từ tệp", "Import from the file")}</button>
            <crate::common::message::MessageLine message=message testid="import-message"/>
        </section>
        <section class="card">
            <h2>{t("Tài khoản trên máy này", "Account on this device")}</h2>
            <p>{move || ui.session.with(|s| s.as_ref().map(|s| format!("{} ({})", s.user.display_name, s.user.username)).unwrap_or_default())}</p>
            <p class="hint">{t("Chỉ đăng xuất được khi mọi thay đổi đã đồng bộ.", "You can log out only when every change has synced.")}</p>
            <crate::common::login::Logout/>
        </section>
    }
}
