//! The petitions register across the communes under the user's node: what the people asked for,
//! where and when, and how far it has been followed up — filtered like the notes.

use super::Filter;
use super::notes::{ListFilters, list_query, load_page};
use crate::common::i18n::{t, tr};
use crate::js;
use leptos::prelude::*;
use shared::api::OfficePetitions;
use shared::ids::display_date;
use shared::vocab::PetitionStatus;

#[component]
pub fn PetitionsRegister() -> impl IntoView {
    let filter = expect_context::<Filter>();
    let page = RwSignal::new(None::<OfficePetitions>);
    let error = RwSignal::new(false);
    let load = move |offset: usize| {
        let mut url = format!("/api/office/petitions?{}", list_query(&filter, offset));
        match filter.petitions.get().as_str() {
            "" => {}
            "open" => url.push_str("&open=true"),
            s => url.push_str(&format!("&status={}", js::dom::encode_query(s))),
        }
        load_page(url, offset, page, error, |mut shown, mut next| {
            shown.petitions.append(&mut next.petitions);
            OfficePetitions {
                petitions: shown.petitions,
                ..next
            }
        });
    };
    Effect::new(move |_| load(0));
    view! {
        <section class="card" data-testid="office-petitions">
            <h2>{t("Sổ theo dõi kiến nghị", "Petitions register")}</h2>
            <ListFilters/>
            <label for="office-petition-status">{t("Tình trạng", "Follow-up")}</label>
            <select id="office-petition-status" prop:value=move || filter.petitions.get()
                on:change=move |e| filter.petitions.set(event_target_value(&e))>
                <option value="">{t("Tất cả", "All")}</option>
                <option value="open">{t("Chưa giải quyết (mới, đang xử lý)", "Open (received, in progress)")}</option>
                {crate::common::i18n::word_options::<PetitionStatus>()}
            </select>
            <Show when=move || error.get()>
                <p class="error">{t("Cần có mạng để xem sổ kiến nghị.", "The register needs a network connection.")}</p>
            </Show>
            {move || page.get().map(|p| {
                let shown = p.petitions.len();
                let more = (shown as i64) < p.total;
                view! {
                    <p class="meta" data-testid="office-petitions-count" data-count=p.total.to_string()>{move || format!("{} {}", p.total, tr("kiến nghị", "petitions"))}</p>
                    <div class="scroll" tabindex="0" role="region" aria-label=tr("Sổ kiến nghị", "Petitions register")>
                        <table class="overview">
                            <thead><tr>
                                <th scope="col">{t("Ngày", "Date")}</th>
                                <th scope="col">{t("Xã", "Commune")}</th>
                                <th scope="col">{t("Nội dung", "Petition")}</th>
                                <th scope="col">{t("Tình trạng", "Follow-up")}</th>
                            </tr></thead>
                            <tbody>
                                {p.petitions.into_iter().map(|e| {
                                    let st = e.status.labels();
                                    let raw = e.status.to_string();
                                    view! {
                                        <tr data-testid="petition-row">
                                            <td>{display_date(&e.activity_date)}</td>
                                            <td>{e.commune_name.clone()}</td>
                                            <td>{e.text.clone()}</td>
                                            <td>{match st { Some((vi, en_text)) => t(vi, en_text)().to_string(), None => raw }}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    </div>
                    {more.then(|| view! {
                        <button type="button" on:click=move |_| load(shown)>{t("Xem thêm", "Show more")}</button>
                    })}
                }
            })}
        </section>
    }
}
