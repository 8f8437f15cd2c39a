//! The quarterly report: pick the plan, the quarter and the node; set or schedule the cut-off
//! (chốt số liệu); fill in the header, recipients and signer (prefilled by the server); download
//! the .docx in the Party's or the Front's layout, or the .xlsx; see what changed after the
//! cut-off.

use super::period::recent_quarters;
use crate::common::i18n::{en, t, tr};
use crate::common::message::MessageLine;
use crate::common::state::Ui;
use crate::js;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::api::{CutRequest, ReportLayout, ReportSettings, ReportStatus, ReportTarget};
use shared::ids::display_datetime_vn;

/// A text setting as a labelled input bound to one field of the settings.
fn field(
    settings: RwSignal<ReportSettings>,
    id: &'static str,
    label: (&'static str, &'static str),
    get: fn(&ReportSettings) -> String,
    set: fn(&mut ReportSettings, String),
) -> impl IntoView {
    view! {
        <label for=id>{t(label.0, label.1)}</label>
        <input id=id prop:value=move || settings.with(get)
            on:input=move |e| settings.update(|s| set(s, event_target_value(&e)))/>
    }
}

/// A margin in millimetres.
fn margin(
    settings: RwSignal<ReportSettings>,
    id: &'static str,
    label: (&'static str, &'static str),
    get: fn(&ReportSettings) -> u32,
    set: fn(&mut ReportSettings, u32),
) -> impl IntoView {
    view! {
        <label for=id>{t(label.0, label.1)}</label>
        <input id=id type="number" min="5" max="60" inputmode="numeric" prop:value=move || settings.with(get).to_string()
            on:input=move |e| if let Ok(v) = event_target_value(&e).parse() { settings.update(|s| set(s, v)) }/>
    }
}

#[component]
pub fn ReportScreen() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let node_of_user = ui
        .session
        .with_untracked(|s| s.as_ref().map(|s| s.user.node_id.clone()))
        .unwrap_or_default();
    let plan = RwSignal::new(
        ui.plans
            .with_untracked(|p| p.first().map(|p| p.id.clone()))
            .unwrap_or_default(),
    );
    let period = RwSignal::new(
        recent_quarters()
            .first()
            .map(ToString::to_string)
            .unwrap_or_default(),
    );
    let node = RwSignal::new(node_of_user.clone());
    let status = RwSignal::new(None::<ReportStatus>);
    let settings = RwSignal::new(ReportSettings::default());
    let message = RwSignal::new(None::<(bool, String)>);
    let cut_date = RwSignal::new(String::new());
    // Plans arrive by sync: pick the first once there is one.
    Effect::new(move |_| {
        if plan.with(String::is_empty)
            && let Some(first) = ui.plans.with(|p| p.first().map(|p| p.id.clone()))
        {
            plan.set(first);
        }
    });
    let target = move || ReportTarget {
        plan: plan.get(),
        period: period.get(),
        node: node.get(),
    };
    let query = move |t: &ReportTarget| {
        format!(
            "plan={}&period={}&node={}",
            js::dom::encode_query(&t.plan),
            js::dom::encode_query(&t.period),
            js::dom::encode_query(&t.node)
        )
    };
    // The report's state for the chosen target; the settings start from the server's prefill.
    Effect::new(move |_| {
        let tg = target();
        if tg.plan.is_empty() {
            return;
        }
        let url = format!("/api/reports?{}", query(&tg));
        spawn_local(async move {
            match js::get_json::<ReportStatus>(&url).await {
                Some(s) => {
                    settings.try_set(s.settings.clone());
                    status.try_set(Some(s));
                }
                None => {
                    status.try_set(None);
                    message.try_set(Some((
                        false,
                        tr(
                            "Không tải được thông tin báo cáo (cần có mạng).",
                            "Could not load the report (a network connection is needed).",
                        )
                        .into(),
                    )));
                }
            }
        });
    });
    let set_layout = move |layout: ReportLayout| {
        if let Some(s) = status.get_untracked() {
            settings.set(match layout {
                ReportLayout::Party => s.settings,
                ReportLayout::Front => s.settings_front,
            });
        }
    };
    let do_cut = move |at: Option<i64>| {
        let body = CutRequest {
            target: target(),
            at,
        };
        spawn_local(async move {
            let body = serde_json::to_string(&body).unwrap_or_default();
            match js::fetch("POST", "/api/reports/cut", Some(body)).await {
                Ok((200, text)) => {
                    if let Ok(s) = serde_json::from_str::<ReportStatus>(&text) {
                        status.try_set(Some(s));
                    }
                    message.try_set(Some((
                        true,
                        tr("Đã lưu mốc chốt số liệu.", "Cut-off saved.").into(),
                    )));
                }
                Ok((_, text)) => {
                    message.try_set(Some((false, js::error_text(&text))));
                }
                Err(e) => {
                    message.try_set(Some((false, e)));
                }
            }
        });
    };
    let file_url = move |format: &str| {
        let json = settings.with(|s| serde_json::to_string(s).unwrap_or_default());
        format!(
            "/api/reports/file?{}&format={format}&settings={}",
            query(&target()),
            js::dom::encode_query(&json)
        )
    };
    // The nodes a report can be for: the user's own, and each commune in its scope.
    let nodes = move || {
        // Names come from the org tree, which may arrive after this screen opens.
        ui.org.track();
        let mut v = vec![(node_of_user.clone(), ui.node_name(&node_of_user))];
        v.extend(
            ui.overview
                .get()
                .into_iter()
                .filter(|c| c.commune_id != node_of_user)
                .map(|c| (c.commune_id, c.name)),
        );
        v
    };
    view! {
        <section class="card" data-testid="report-screen">
            <h2>{t("Báo cáo quý", "Quarterly report")}</h2>
            <div class="filters-row">
                <label for="report-plan">{t("Kế hoạch", "Plan")}</label>
                <select id="report-plan" prop:value=move || plan.get() on:change=move |e| plan.set(event_target_value(&e))>
                    {move || ui.plans.get().into_iter().map(|p| view! { <option value=p.id.clone()>{p.header.title.clone()}</option> }).collect_view()}
                </select>
                <label for="report-period">{t("Quý", "Quarter")}</label>
                <select id="report-period" prop:value=move || period.get() on:change=move |e| period.set(event_target_value(&e))>
                    {recent_quarters().into_iter().map(|q| {
                        let (n, y) = (q.q, q.year);
                        view! { <option value=q.to_string()>{move || if en() { format!("Q{n}/{y}") } else { format!("Quý {n}/{y}") }}</option> }
                    }).collect_view()}
                </select>
                <label for="report-node">{t("Đơn vị báo cáo", "Reporting for")}</label>
                <select id="report-node" prop:value=move || node.get() on:change=move |e| node.set(event_target_value(&e))>
                    {move || nodes().into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                </select>
            </div>
            <MessageLine message=message testid="report-message"/>
            {move || status.get().map(|s| {
                let cut = match &s.cut {
                    Some(c) if c.taken_at.is_some() => view! {
                        <p class="ok" data-testid="report-cut" data-taken="true">
                            {format!("{} {} ({})", tr("Đã chốt số liệu lúc", "Figures cut off at"), display_datetime_vn(c.taken_at.unwrap_or(c.due_at)), c.set_by)}
                        </p>
                    }.into_any(),
                    Some(c) => view! {
                        <p class="warn" data-testid="report-cut" data-taken="false">
                            {format!("{} {} ({})", tr("Sẽ chốt số liệu lúc", "Figures will be cut off at"), display_datetime_vn(c.due_at), c.set_by)}
                        </p>
                    }.into_any(),
                    None => view! {
                        <p class="meta" data-testid="report-cut" data-taken="false">
                            {format!("{} {}", tr("Chưa chốt số liệu: báo cáo là số liệu tạm thời. Mặc định chốt vào cuối quý,", "Not cut off: the report's figures are provisional. By default the cut-off is the end of the quarter,"), display_datetime_vn(s.default_cut_at - 1))}
                        </p>
                    }.into_any(),
                };
                let open = s.cut.as_ref().is_none_or(|c| c.taken_at.is_none());
                let amendments = s.amendments.clone();
                view! {
                    {cut}
                    {open.then(|| view! {
                        <div class="filters-row">
                            <button type="button" data-testid="cut-now" on:click=move |_| do_cut(None)>{t("Chốt số liệu ngay", "Cut off now")}</button>
                            <label for="cut-date">{t("Hoặc hẹn chốt vào cuối ngày", "Or schedule at the end of")}</label>
                            <input id="cut-date" type="date" prop:value=move || cut_date.get() on:change=move |e| cut_date.set(event_target_value(&e))/>
                            <button type="button" on:click=move |_| {
                                let day = cut_date.get_untracked();
                                match shared::status::end_of_day_vn(&day) {
                                    Some(end) => do_cut(Some(end - 1)),
                                    None => message.set(Some((false, tr("Chọn một ngày.", "Pick a day.").into()))),
                                }
                            }>{t("Hẹn chốt", "Schedule")}</button>
                        </div>
                    })}
                    {(!amendments.is_empty()).then(|| view! {
                        <h3>{t("Thay đổi sau khi chốt", "Changes after the cut-off")}</h3>
                        <div class="scroll" tabindex="0" role="region" aria-label=tr("Thay đổi sau khi chốt", "Changes after the cut-off")>
                            <table class="overview" data-testid="amendments">
                                <thead><tr>
                                    <th scope="col">{t("Xã", "Commune")}</th>
                                    <th scope="col">{t("Thay đổi", "Change")}</th>
                                    <th scope="col">{t("Nội dung", "What")}</th>
                                    <th scope="col">{t("Trước", "Before")}</th>
                                    <th scope="col">{t("Sau", "After")}</th>
                                    <th scope="col">{t("Người ghi, thời gian", "By, when")}</th>
                                </tr></thead>
                                <tbody>
                                    {amendments.into_iter().map(|a| view! {
                                        <tr data-testid="amendment">
                                            <td>{a.commune}</td><td>{a.kind.label_vi()}</td><td>{a.what}</td>
                                            <td>{a.before}</td><td>{a.after}</td>
                                            <td>{format!("{}, {}", a.by, display_datetime_vn(a.at))}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    })}
                }
            })}
            <h3>{t("Thể thức văn bản", "Document layout")}</h3>
            <div class="filters-row">
                <label for="report-layout">{t("Mẫu", "Layout")}</label>
                <select id="report-layout" prop:value=move || if settings.with(|s| s.layout == ReportLayout::Front) { "front" } else { "party" }
                    on:change=move |e| set_layout(if event_target_value(&e) == "front" { ReportLayout::Front } else { ReportLayout::Party })>
                    <option value="party">{t("Đảng (Hướng dẫn 36-HD/VPTW)", "Party (36-HD/VPTW)")}</option>
                    <option value="front">{t("Mặt trận (Hướng dẫn 91/HD-MTTW-BTT)", "Front (91/HD-MTTW-BTT)")}</option>
                </select>
            </div>
            <div class="settings-grid">
                {field(settings, "report-superior", ("Cơ quan cấp trên", "Superior body"), |s| s.superior.clone(), |s, v| s.superior = v)}
                {field(settings, "report-issuer", ("Cơ quan ban hành", "Issuing body"), |s| s.issuer.clone(), |s, v| s.issuer = v)}
                {field(settings, "report-number", ("Số", "Number"), |s| s.number.clone(), |s, v| s.number = v)}
                {field(settings, "report-place", ("Địa danh", "Place"), |s| s.place.clone(), |s, v| s.place = v)}
                <label for="report-date">{t("Ngày ký", "Date of signing")}</label>
                <input id="report-date" type="date" prop:value=move || settings.with(|s| s.date.clone())
                    on:change=move |e| settings.update(|s| s.date = event_target_value(&e))/>
                <label for="report-recipients">{t("Nơi nhận (mỗi dòng một nơi)", "Recipients (one per line)")}</label>
                <textarea id="report-recipients" rows="4" prop:value=move || settings.with(|s| s.recipients.clone())
                    on:input=move |e| settings.update(|s| s.recipients = event_target_value(&e))></textarea>
                {field(settings, "report-mandate", ("Thẩm quyền ký (T/M…)", "Signing on behalf of"), |s| s.signer_mandate.clone(), |s, v| s.signer_mandate = v)}
                {field(settings, "report-position", ("Chức vụ người ký", "Signer's position"), |s| s.signer_position.clone(), |s, v| s.signer_position = v)}
                {field(settings, "report-signer", ("Họ tên người ký", "Signer's name"), |s| s.signer_name.clone(), |s, v| s.signer_name = v)}
            </div>
            <h3>{t("Lề trang (mm)", "Page margins (mm)")}</h3>
            <p class="hint">{t("Mặc định theo Hướng dẫn 36-HD/VPTW và Nghị định 30/2020: trên 20, dưới 20, trái 30, phải 15.", "Defaults from 36-HD/VPTW and Decree 30/2020: top 20, bottom 20, left 30, right 15.")}</p>
            <div class="settings-grid">
                {margin(settings, "margin-top", ("Trên", "Top"), |s| s.margin_top_mm, |s, v| s.margin_top_mm = v)}
                {margin(settings, "margin-bottom", ("Dưới", "Bottom"), |s| s.margin_bottom_mm, |s, v| s.margin_bottom_mm = v)}
                {margin(settings, "margin-left", ("Trái", "Left"), |s| s.margin_left_mm, |s, v| s.margin_left_mm = v)}
                {margin(settings, "margin-right", ("Phải", "Right"), |s| s.margin_right_mm, |s, v| s.margin_right_mm = v)}
            </div>
            <div class="filters-row">
                <a class="button" data-testid="download-docx" href=move || file_url("docx") download="">{t("Tải báo cáo (.docx)", "Download the report (.docx)")}</a>
                <a class="button" data-testid="download-xlsx" href=move || file_url("xlsx") download="">{t("Tải bảng số liệu (.xlsx)", "Download the spreadsheet (.xlsx)")}</a>
            </div>
        </section>
    }
}
