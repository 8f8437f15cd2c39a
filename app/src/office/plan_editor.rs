//! The plan editor of the aggregating level: import a plan's text or .docx into a draft, review it,
//! publish it (new, or as a revision of a published plan), then assign and schedule its tasks.

use crate::common::i18n::{en, t, tr};
use crate::common::state::{Ui, unit_kind_label};
use crate::common::tasks::recurrence_label;
use crate::driver;
use crate::js;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::DocKey;
use shared::api::{PlanDraft, PublishResponse, TaskDraft};
use shared::schema::{self, Indicator, Task, UNIT_KINDS};
use shared::vocab::OrgLevel;
use shared::vocab::Recurrence;

#[component]
pub fn PlanEditor() -> impl IntoView {
    let ui = expect_context::<Ui>();
    // Redrawn only when the list of plans changes, not on every task edit (open forms stay open).
    let ids = Memo::new(move |_| {
        ui.plans.with(|ps| {
            ps.iter()
                .filter(|p| p.writable)
                .map(|p| p.id.clone())
                .collect::<Vec<_>>()
        })
    });
    view! {
        <ImportPlan/>
        {move || ids.get().into_iter().map(|plan_id| view! { <PlanTasks plan_id=plan_id/> }).collect_view()}
    }
}

#[component]
fn ImportPlan() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let text = RwSignal::new(String::new());
    let draft = RwSignal::new(None::<PlanDraft>);
    let target = RwSignal::new(String::new());
    let message = RwSignal::new(None::<(bool, String)>);
    let busy = RwSignal::new(false);
    let preview = move |_| {
        busy.set(true);
        message.set(None);
        spawn_local(async move {
            let reply = js::upload("/api/plans/import", &text.get_untracked(), "plan-file").await;
            // The editor may have left this screen during the upload: its signals are only tried.
            busy.try_set(false);
            let outcome = match reply {
                Ok((200, body)) => serde_json::from_str::<PlanDraft>(&body).map_err(|_| {
                    tr(
                        "Máy chủ trả lời không hợp lệ.",
                        "The server's reply is not valid.",
                    )
                    .to_string()
                }),
                Ok((_, body)) => Err(format!(
                    "{} {}",
                    tr("Không đọc được kế hoạch:", "Could not read the plan:"),
                    js::error_text(&body)
                )),
                Err(_) => Err(tr(
                    "Cần có mạng để nhập kế hoạch.",
                    "Importing a plan needs a network connection.",
                )
                .to_string()),
            };
            match outcome {
                Ok(d) => {
                    draft.try_set(Some(d));
                }
                Err(m) => {
                    message.try_set(Some((false, m)));
                }
            }
        });
    };
    let publish = move |_| {
        busy.set(true);
        let plan = target.get_untracked();
        let url = if plan.is_empty() {
            "/api/plans/publish".to_string()
        } else {
            format!("/api/plans/publish?plan={plan}")
        };
        spawn_local(async move {
            let reply = js::upload(&url, &text.get_untracked(), "plan-file").await;
            busy.try_set(false);
            match reply {
                Ok((200, body)) => {
                    let s = serde_json::from_str::<PublishResponse>(&body)
                        .map(|r| r.summary)
                        .unwrap_or_default();
                    let summary = if untrack(en) {
                        format!(
                            "Published (revision {}): {} tasks, {} new, {} changed, {} removed from the plan.",
                            s.revision, s.tasks, s.added, s.updated, s.removed
                        )
                    } else {
                        format!(
                            "Đã xuất bản (lần {}): {} nhiệm vụ, {} mới, {} sửa đổi, {} bỏ khỏi kế hoạch.",
                            s.revision, s.tasks, s.added, s.updated, s.removed
                        )
                    };
                    message.try_set(Some((true, summary)));
                    draft.try_set(None);
                    driver::refresh_docs().await;
                }
                Ok((_, body)) => {
                    message.try_set(Some((
                        false,
                        format!(
                            "{} {}",
                            tr("Không xuất bản được:", "Could not publish:"),
                            js::error_text(&body)
                        ),
                    )));
                }
                Err(_) => {
                    message.try_set(Some((
                        false,
                        tr(
                            "Cần có mạng để xuất bản.",
                            "Publishing needs a network connection.",
                        )
                        .into(),
                    )));
                }
            }
        });
    };
    view! {
        <section class="card" data-testid="plan-import">
            <h2>{t("Nhập kế hoạch", "Import a plan")}</h2>
            <p class="hint">{t("Dán nội dung kế hoạch hoặc chọn tệp .docx, xem lại bản nháp rồi xuất bản cho các xã.", "Paste the plan's text or choose a .docx file, review the draft, then publish it to the communes.")}</p>
            <label for="plan-text">{t("Nội dung kế hoạch", "Plan text")}</label>
            <textarea id="plan-text" rows="6" prop:value=move || text.get() on:input=move |e| text.set(event_target_value(&e))></textarea>
            <label for="plan-file">{t("Hoặc tệp Word (.docx)", "Or a Word file (.docx)")}</label>
            <input id="plan-file" type="file" accept=".docx,application/vnd.openxmlformats-officedocument.wordprocessingml.document"/>
            <button type="button" data-testid="plan-preview" on:click=preview disabled=move || busy.get()>{t("Xem trước bản nháp", "Preview the draft")}</button>
            <crate::common::message::MessageLine message=message testid="plan-message"/>
            {move || draft.get().map(|d| view! {
                // Redrawn on its own when the language switches: the choice below stays as it is.
                {move || {
                    let _lang = en();
                    view! { <DraftView draft=d.clone()/> }
                }}
                <label for="plan-target">{t("Xuất bản thành", "Publish as")}</label>
                <select id="plan-target" on:change=move |e| target.set(event_target_value(&e)) prop:value=move || target.get()>
                    <option value="">{t("Kế hoạch mới", "New plan")}</option>
                    {ui.plans.get_untracked().into_iter().filter(|p| p.writable).map(|p| {
                        let title = p.header.title;
                        view! {
                            <option value=p.id.clone()>{move || format!("{} {title}", t("Bản sửa đổi của:", "Revision of:")())}</option>
                        }
                    }).collect_view()}
                </select>
                <button type="button" data-testid="plan-publish" on:click=publish disabled=move || busy.get()>{t("Xuất bản", "Publish")}</button>
            })}
        </section>
    }
}

#[component]
fn DraftView(draft: PlanDraft) -> impl IntoView {
    fn task_rows(tasks: &[TaskDraft], depth: usize) -> Vec<AnyView> {
        tasks
            .iter()
            .flat_map(|t| {
                let (lead, partners) = (&t.lead_units, &t.partner_units);
                let units = [
                    (!lead.is_empty())
                        .then(|| format!("{} {}", tr("Chủ trì:", "Lead:"), lead.join(", "))),
                    (!partners.is_empty())
                        .then(|| format!("{} {}", tr("Phối hợp:", "With:"), partners.join(", "))),
                    t.recurrence
                        .as_ref()
                        .map(|r| recurrence_label(r).to_string()),
                    t.deadline
                        .as_deref()
                        .map(|d| format!("{} {}", tr("Hạn", "Due"), shared::ids::display_date(d))),
                ]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" · ");
                let me = view! {
                    <li data-testid="draft-task" style:margin-left=format!("{depth}em")>
                        <span class="num">{t.number.clone()}</span> {t.title.clone()}
                        {(!units.is_empty()).then(|| view! { <div class="meta">{units}</div> })}
                    </li>
                }
                .into_any();
                std::iter::once(me).chain(task_rows(&t.children, depth + 1))
            })
            .collect()
    }
    let header = [
        Some(draft.title.clone()),
        draft
            .number
            .as_deref()
            .map(|n| format!("{} {n}", tr("Số", "No."))),
        draft
            .date
            .as_deref()
            .map(|d| format!("{} {}", tr("ngày", "dated"), shared::ids::display_date(d))),
        draft.issuer.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let basis = draft
        .basis
        .iter()
        .map(|b| {
            let date = b
                .date
                .as_deref()
                .map(|d| format!(" {} {}", tr("ngày", "dated"), shared::ids::display_date(d)));
            format!("{} {}{}", b.kind, b.code, date.unwrap_or_default())
        })
        .collect::<Vec<_>>()
        .join("; ");
    let signer = draft
        .signer
        .iter()
        .flat_map(|s| [&s.on_behalf, &s.title, &s.name])
        .flatten()
        .cloned()
        .collect::<Vec<_>>()
        .join(" — ");
    let recipients = draft.recipients.clone();
    let unclassified = draft.unclassified.clone();
    view! {
        <div class="draft" data-testid="plan-draft">
            <h3>{t("Bản nháp", "Draft")}</h3>
            <p><strong>{header}</strong></p>
            {(!basis.is_empty()).then(|| view! { <p class="meta">{format!("{} {basis}", tr("Căn cứ:", "Basis:"))}</p> })}
            {draft.sections.iter().map(|s| view! {
                <h4>{format!("{}. {}", s.number, s.title)}</h4>
                <ul class="tasks">{task_rows(&s.tasks, 0)}</ul>
            }).collect_view()}
            {(!recipients.is_empty()).then(|| view! { <p class="meta">{format!("{} {}", tr("Nơi nhận:", "Recipients:"), recipients.join("; "))}</p> })}
            {(!signer.is_empty()).then(|| view! { <p class="meta">{format!("{} {signer}", tr("Người ký:", "Signed by:"))}</p> })}
            {(!unclassified.is_empty()).then(|| view! {
                <div class="warn" data-testid="draft-unclassified">
                    <strong>{format!("{} {}", unclassified.len(), tr("đoạn chưa phân loại được (vẫn được giữ trong nội dung):", "paragraphs not classified (kept in the text):"))}</strong>
                    <ul>{unclassified.iter().map(|u| view! { <li>{u.clone()}</li> }).collect_view()}</ul>
                </div>
            })}
        </div>
    }
}

/// The tasks of one published plan, each editable: deadline, recurrence, lead and coordinating
/// units, target communes, removal. Each save is one Automerge change of only what changed, so it
/// merges with other editors' and the communes' concurrent work.
#[component]
fn PlanTasks(plan_id: String) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let id = plan_id.clone();
    let plan = move || ui.plans.with(|ps| ps.iter().find(|p| p.id == id).cloned());
    let p = plan.clone();
    let tasks = move || p().map(|p| p.tasks).unwrap_or_default();
    let section_id = plan_id.clone();
    view! {
        <section class="card" data-testid="plan-tasks" data-plan-id=section_id>
            <h2>{
                let plan = plan.clone();
                move || plan().map(|p| p.header.title).unwrap_or_default()
            }</h2>
            <p class="meta">{move || plan().map(|p| format!("{} {}", t("Lần xuất bản:", "Revision:")(), p.header.revision))}</p>
            <ul class="tasks">
                // Keyed by content: a task changed (here or by another editor) is redrawn from the document.
                <For each=tasks key=|t| format!("{t:?}") let:t>
                    <TaskEditor plan_id=plan_id.clone() task=t/>
                </For>
            </ul>
        </section>
    }
}

#[component]
fn TaskEditor(plan_id: String, task: Task) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let open = RwSignal::new(false);
    let deadline = RwSignal::new(task.deadline.clone().unwrap_or_default());
    let recurrence = RwSignal::new(
        task.recurrence
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
    );
    let lead = RwSignal::new(task.lead_units.clone());
    let partners = RwSignal::new(task.partner_units.clone());
    let communes = RwSignal::new(task.communes.clone());
    let removed = RwSignal::new(task.removed);
    let indicators = RwSignal::new(Indicator::to_lines(&task.indicators));
    let message = RwSignal::new(None::<(bool, String)>);
    let tid = task.id.clone();
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let d = deadline.get_untracked();
        if !d.is_empty() && shared::ids::parse_iso_date(&d).is_none() {
            message.set(Some((
                false,
                tr("Hạn không hợp lệ.", "The deadline is not valid.").into(),
            )));
            return;
        }
        let r = recurrence.get_untracked();
        let ind = match Indicator::parse_lines(&indicators.get_untracked()) {
            Ok(v) => v,
            Err(e) => {
                message.set(Some((false, e)));
                return;
            }
        };
        let (l, p, c, rm) = (
            lead.get_untracked(),
            partners.get_untracked(),
            communes.get_untracked(),
            removed.get_untracked(),
        );
        let (plan, id) = (plan_id.clone(), tid.clone());
        spawn_local(async move {
            let res = driver::change(DocKey::plan(&plan), move |doc| {
                schema::update_entry::<Task>(doc, &id, |t| {
                    t.deadline = (!d.is_empty()).then_some(d);
                    t.recurrence = (!r.is_empty()).then(|| Recurrence::parse(&r));
                    t.partner_units = p.into_iter().filter(|k| !l.contains(k)).collect();
                    t.lead_units = l;
                    t.communes = c;
                    t.removed = rm;
                    t.indicators = ind;
                })
                .map(|_| ())
            })
            .await;
            // The list is keyed by content: this editor is redrawn once the change lands.
            let answer = match res {
                Ok(()) => (
                    true,
                    tr(
                        "Đã lưu trên máy; sẽ gửi tới các xã khi có mạng.",
                        "Saved on this device; it will reach the communes once online.",
                    )
                    .into(),
                ),
                Err(e) => (false, e),
            };
            message.try_set(Some(answer));
        });
    };
    let summary = {
        let task = task.clone();
        move || {
            // Tracked, so the line is redrawn when the language switches (`tr` reads it untracked).
            let english = en();
            let mut parts = Vec::new();
            if !task.lead_units.is_empty() {
                parts.push(format!(
                    "{} {}",
                    tr("Chủ trì:", "Lead:"),
                    task.lead_units
                        .iter()
                        .map(|k| unit_kind_label(k))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            if let Some(d) = &task.deadline {
                parts.push(format!(
                    "{} {}",
                    tr("Hạn", "Due"),
                    shared::ids::display_date(d)
                ));
            }
            if let Some(r) = &task.recurrence {
                parts.push(recurrence_label(r).to_string());
            }
            match (task.communes.len(), english) {
                (0, _) => {}
                (1, true) => parts.push("1 commune".into()),
                (n, true) => parts.push(format!("{n} communes")),
                (n, false) => parts.push(format!("{n} xã")),
            }
            if task.removed {
                parts.push(tr("ĐÃ BỎ KHỎI KẾ HOẠCH", "REMOVED FROM THE PLAN").into());
            }
            parts.join(" · ")
        }
    };
    let fid = format!("e-{}", task.id);
    let checks = move |signal: RwSignal<Vec<String>>, prefix: String| {
        UNIT_KINDS.iter().map(|(k, vi, en_text)| {
            let k = k.to_string();
            let k2 = k.clone();
            let id = format!("{prefix}-{k}");
            view! {
                <label class="check" for=id.clone()>
                    <input id=id.clone() type="checkbox" prop:checked=move || signal.with(|v| v.contains(&k))
                        on:change=move |e| { let on = event_target_checked(&e); let k = k2.clone(); signal.update(|v| { v.retain(|x| *x != k); if on { v.push(k); } }) }/>
                    {move || format!(" {}", t(vi, en_text)())}
                </label>
            }
        }).collect_view()
    };
    let (f_dl, f_rec, f_rm) = (
        format!("{fid}-deadline"),
        format!("{fid}-rec"),
        format!("{fid}-removed"),
    );
    let (lead_prefix, partner_prefix) = (format!("{fid}-lead"), format!("{fid}-partner"));
    let f_ind = format!("{fid}-indicators");
    let commune_checks = move || {
        ui.org.get().into_iter().filter(|n| n.level == OrgLevel::Commune && !n.removed).map(|n| {
            let (cid, cid2) = (n.id.clone(), n.id.clone());
            let id = format!("{fid}-c-{}", n.id);
            view! {
                <label class="check" for=id.clone()>
                    <input id=id.clone() type="checkbox" prop:checked=move || communes.with(|v| v.contains(&cid))
                        on:change=move |e| { let on = event_target_checked(&e); let c = cid2.clone(); communes.update(|v| { v.retain(|x| *x != c); if on { v.push(c); } }) }/>
                    {format!(" {}", n.name)}
                </label>
            }
        }).collect_view()
    };
    view! {
        <li data-testid="task-editor" data-task-id=task.id.clone() class:removed=task.removed>
            <button type="button" class="task-head" aria-expanded=move || open.get().to_string() on:click=move |_| open.update(|o| *o = !*o)>
                <span class="num">{task.number.clone()}</span> {task.title.clone()}
            </button>
            <div class="meta">{summary}</div>
            <Show when=move || open.get()>
                <form class="task-form" on:submit=save.clone()>
                    <label for=f_dl.clone()>{t("Hạn hoàn thành", "Deadline")}</label>
                    <input id=f_dl.clone() type="date" prop:value=move || deadline.get() on:input=move |e| deadline.set(event_target_value(&e))/>
                    <label for=f_rec.clone()>{t("Định kỳ báo cáo", "Reporting period")}</label>
                    <select id=f_rec.clone() on:change=move |e| recurrence.set(event_target_value(&e)) prop:value=move || recurrence.get()>
                        <option value="">{t("Không định kỳ", "Not recurring")}</option>
                        {crate::common::i18n::word_options::<Recurrence>()}
                    </select>
                    <fieldset><legend>{t("Đơn vị chủ trì", "Lead units")}</legend>{checks(lead, lead_prefix.clone())}</fieldset>
                    <fieldset><legend>{t("Đơn vị phối hợp", "Coordinating units")}</legend>{checks(partners, partner_prefix.clone())}</fieldset>
                    <fieldset><legend>{t("Xã thực hiện (không chọn = tất cả)", "Communes carrying it out (none ticked = all)")}</legend>{commune_checks.clone()}</fieldset>
                    <label for=f_ind.clone()>{t("Chỉ tiêu (mỗi dòng: tên | đơn vị tính | chỉ tiêu)", "Indicators (one per line: name | unit of measure | target)")}</label>
                    <textarea id=f_ind.clone() rows="3" placeholder=t("Hộ gia đình được tuyên truyền | hộ | 500", "Households reached | households | 500")
                        prop:value=move || indicators.get() on:input=move |e| indicators.set(event_target_value(&e))></textarea>
                    <label class="check" for=f_rm.clone()>
                        <input id=f_rm.clone() type="checkbox" prop:checked=move || removed.get() on:change=move |e| removed.set(event_target_checked(&e))/>
                        {t(" Bỏ nhiệm vụ khỏi kế hoạch (lịch sử được giữ)", " Remove this task from the plan (its history is kept)")}
                    </label>
                    <crate::common::message::MessageLine message=message/>
                    <button type="submit" data-testid="save-task">{t("Lưu nhiệm vụ", "Save task")}</button>
                </form>
            </Show>
        </li>
    }
}
