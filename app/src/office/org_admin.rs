//! The administrator's org tree: communes, hamlets and units under the aggregating level. Edits are
//! changes to the `org` document made on this device (offline too); the server's node table and the
//! documents it accepts follow when they sync.

use crate::common::i18n::{t, tr};
use crate::common::state::Ui;
use crate::driver;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::DocKey;
use shared::schema::{self, OrgNode, UNIT_KINDS};
use shared::vocab::OrgLevel;

fn level_label(level: &OrgLevel) -> impl Fn() -> &'static str + Copy + Send + Sync + 'static {
    let (vi, en_text) = level.labels().unwrap_or(("", ""));
    t(vi, en_text)
}

/// A new node's ID: readable, from the name (`Thôn Đạ Tông` under `xa-ka-don` →
/// `xa-ka-don-thon-da-tong`), made unique. IDs never change afterwards: documents are named by them.
fn new_id(
    ui: &Ui,
    parent: Option<&str>,
    level: &OrgLevel,
    name: &str,
    kind: Option<&str>,
) -> String {
    let base = match (level, parent, kind) {
        (OrgLevel::Unit, Some(p), Some(k)) => format!("{p}.{k}"),
        (OrgLevel::Hamlet, Some(p), _) => format!("{p}-{}", shared::text::slug(name)),
        _ => shared::text::slug(name),
    };
    let taken: Vec<String> = ui
        .org
        .with_untracked(|o| o.iter().map(|n| n.id.clone()).collect());
    shared::text::unique(&base, |id| taken.iter().any(|t| t == id))
}

async fn save(node: OrgNode) -> Result<(), String> {
    if node.name.trim().is_empty() {
        return Err(tr("Vui lòng nhập tên.", "Please enter a name.").into());
    }
    if node.id.is_empty() {
        return Err(tr(
            "Tên phải có ít nhất một chữ cái hoặc chữ số.",
            "The name must contain at least one letter or digit.",
        )
        .into());
    }
    driver::change(DocKey::org(), move |doc| schema::put_org_node(doc, &node)).await
}

#[component]
pub fn OrgAdmin() -> impl IntoView {
    let ui = expect_context::<Ui>();
    let message = RwSignal::new(None::<(bool, String)>);
    provide_context(message);
    let roots = move || {
        ui.org
            .get()
            .into_iter()
            .filter(|n| n.level == OrgLevel::Root)
            .collect::<Vec<_>>()
    };
    view! {
        <section class="card" data-testid="org-admin">
            <h2>{t("Cây tổ chức", "Org tree")}</h2>
            <Show when=move || !ui.org_writable.get()>
                <p class="warn">{t("Chỉ quản trị viên được sửa cây tổ chức.", "Only administrators may edit the org tree.")}</p>
            </Show>
            <crate::common::message::MessageLine message=message testid="org-message"/>
            // Keyed by the whole node: a change elsewhere in the tree (often a sync landing) keeps
            // this node's forms and what is typed in them; only a node that changed is redrawn.
            <ul class="tree">
                <For each=roots key=|n| format!("{n:?}") let:n><NodeItem node=n/></For>
            </ul>
        </section>
    }
}

/// One node with its children, rename/remove controls and forms to add children.
#[component]
fn NodeItem(node: OrgNode) -> AnyView {
    let ui = expect_context::<Ui>();
    let message = expect_context::<RwSignal<Option<(bool, String)>>>();
    let id = node.id.clone();
    let children = move || {
        let mut v: Vec<OrgNode> = ui.org.with(|o| {
            o.iter()
                .filter(|c| c.parent.as_deref() == Some(id.as_str()))
                .cloned()
                .collect()
        });
        // Units first, then places, each by name.
        v.sort_by(|a, b| {
            ((a.level != OrgLevel::Unit), &a.name).cmp(&((b.level != OrgLevel::Unit), &b.name))
        });
        v
    };
    let name = RwSignal::new(node.name.clone());
    let editing = RwSignal::new(false);
    let n = node.clone();
    let rename = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut updated = n.clone();
        updated.name = name.get_untracked().trim().to_string();
        spawn_local(async move {
            // A renamed node is redrawn from the document once the change lands: its own
            // signals are gone by then, so they are only tried.
            let answer = match save(updated).await {
                Ok(()) => {
                    editing.try_set(false);
                    (true, tr("Đã lưu tên.", "Name saved.").into())
                }
                Err(e) => (false, e),
            };
            message.try_set(Some(answer));
        });
    };
    let n = node.clone();
    let toggle_removed = move |_| {
        let mut updated = n.clone();
        updated.removed = !updated.removed;
        spawn_local(async move {
            if let Err(e) = save(updated).await {
                message.try_set(Some((false, e)));
            }
        });
    };
    let child_level = match node.level {
        OrgLevel::Root => Some((
            OrgLevel::Commune,
            (
                "Thêm xã, phường, thị trấn",
                "Add a commune, ward or township",
            ),
        )),
        OrgLevel::Commune => Some((
            OrgLevel::Hamlet,
            (
                "Thêm thôn, bon, tổ dân phố",
                "Add a hamlet, village or residential group",
            ),
        )),
        _ => None,
    };
    let can_have_units = node.level != OrgLevel::Unit;
    let rid = format!("rename-{}", node.id);
    view! {
        <li data-testid="org-node" data-node-id=node.id.clone() data-level=node.level.to_string() class:removed=node.removed>
            <div class="node-row">
                <span class="level">{level_label(&node.level)}</span>
                <strong>{node.name.clone()}</strong>
                {node.removed.then_some(t(" (đã xóa)", " (removed)"))}
                <button type="button" class="link" on:click=move |_| editing.update(|e| *e = !*e)>{t("Đổi tên", "Rename")}</button>
                {(node.level != OrgLevel::Root).then(|| view! {
                    <button type="button" class="link" on:click=toggle_removed.clone()>
                        {if node.removed { t("Khôi phục", "Restore") } else { t("Xóa", "Remove") }}
                    </button>
                })}
            </div>
            <Show when=move || editing.get()>
                <form class="inline" on:submit=rename.clone()>
                    <label for=rid.clone()>{t("Tên mới", "New name")}</label>
                    <input id=rid.clone() prop:value=move || name.get() on:input=move |e| name.set(event_target_value(&e))/>
                    <button type="submit">{t("Lưu tên", "Save name")}</button>
                </form>
            </Show>
            {(!node.removed).then(|| view! {
                {child_level.map(|(level, label)| view! { <AddChild parent=node.id.clone() level=level label=label/> })}
                {can_have_units.then(|| view! { <AddUnit parent=node.id.clone()/> })}
            })}
            <ul class="tree">
                <For each=children key=|c| format!("{c:?}") let:c><NodeItem node=c/></For>
            </ul>
        </li>
    }
    .into_any()
}

#[component]
fn AddChild(parent: String, level: OrgLevel, label: (&'static str, &'static str)) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let message = expect_context::<RwSignal<Option<(bool, String)>>>();
    let name = RwSignal::new(String::new());
    let fid = format!("add-{level}-{parent}");
    let testid = format!("add-{level}");
    let p = parent.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let n = name.get_untracked().trim().to_string();
        let node = OrgNode {
            id: new_id(&ui, Some(&p), &level, &n, None),
            name: n,
            level: level.clone(),
            parent: Some(p.clone()),
            ..OrgNode::default()
        };
        spawn_local(async move {
            let answer = match save(node).await {
                Ok(()) => {
                    name.try_set(String::new());
                    (true, tr("Đã thêm.", "Added.").into())
                }
                Err(e) => (false, e),
            };
            message.try_set(Some(answer));
        });
    };
    view! {
        <form class="inline" on:submit=submit data-testid=testid>
            <label for=fid.clone()>{t(label.0, label.1)}</label>
            <input id=fid.clone() required maxlength="120" prop:value=move || name.get() on:input=move |e| name.set(event_target_value(&e))/>
            <button type="submit">{t("Thêm", "Add")}</button>
        </form>
    }
}

#[component]
fn AddUnit(parent: String) -> impl IntoView {
    let ui = expect_context::<Ui>();
    let message = expect_context::<RwSignal<Option<(bool, String)>>>();
    let kind = RwSignal::new(UNIT_KINDS[0].0.to_string());
    let fid = format!("add-unit-{parent}");
    let p = parent.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let k = kind.get_untracked();
        let place = ui.node_name(&p);
        let base = UNIT_KINDS
            .iter()
            .find(|(x, _, _)| *x == k)
            .map_or(k.clone(), |(_, vi, _)| vi.to_string());
        let node = OrgNode {
            id: new_id(&ui, Some(&p), &OrgLevel::Unit, &base, Some(&k)),
            name: format!("{base} {place}"),
            level: OrgLevel::Unit,
            parent: Some(p.clone()),
            kind: Some(k),
            removed: false,
        };
        spawn_local(async move {
            let answer = match save(node).await {
                Ok(()) => (true, tr("Đã thêm đơn vị.", "Unit added.").into()),
                Err(e) => (false, e),
            };
            message.try_set(Some(answer));
        });
    };
    view! {
        <form class="inline" on:submit=submit data-testid="add-unit">
            <label for=fid.clone()>{t("Thêm đơn vị", "Add a unit")}</label>
            <select id=fid.clone() on:change=move |e| kind.set(event_target_value(&e)) prop:value=move || kind.get()>
                {UNIT_KINDS.iter().map(|(k, vi, en_text)| view! { <option value=*k>{t(vi, en_text)}</option> }).collect_view()}
            </select>
            <button type="submit">{t("Thêm đơn vị", "Add unit")}</button>
        </form>
    }
}
