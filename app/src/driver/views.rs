//! What the screens show, rebuilt from the documents: notes, plans and their tasks, the org tree,
//! progress, and the count of this device's changes the server has not yet made durable.

use super::with;
use crate::common::state::PlanView;
use leptos::prelude::Set;
use shared::schema;
use shared::unsynced::{oldest_unsynced, unsynced_changes};
use shared::{DocKey, DocKind, DocumentId};

/// A document as the screens use it.
#[derive(Clone)]
pub(super) enum Parsed {
    Notes(Vec<schema::Note>),
    Plan(Box<schema::PlanHeader>, Vec<schema::Task>),
    Org(Vec<schema::OrgNode>),
    Progress(Vec<schema::ProgressRecord>),
}

/// Rebuild what the screens show from the documents.
pub(super) fn refresh() {
    with(|d| {
        let mut notes = Vec::new();
        let mut plans = Vec::new();
        let mut org = Vec::new();
        let mut progress = Vec::new();
        let mut org_writable = false;
        let ids: Vec<(DocumentId, DocKey)> = d.keys.iter().map(|(i, k)| (*i, k.clone())).collect();
        for (id, key) in ids {
            let Some(doc) = d.client.doc(&id) else {
                continue;
            };
            let heads = doc.get_heads();
            let parsed = match d.parsed.get(&id) {
                Some((h, p)) if *h == heads => p.clone(),
                _ => {
                    let p = match key.kind {
                        DocKind::Notes => Parsed::Notes(schema::read_notes(doc)),
                        DocKind::Plan => Parsed::Plan(
                            Box::new(schema::read_plan_header(doc)),
                            schema::read_tasks(doc),
                        ),
                        DocKind::Org => Parsed::Org(schema::read_org(doc)),
                        DocKind::Progress => Parsed::Progress(schema::read_progress(doc)),
                    };
                    d.parsed.insert(id, (heads, p.clone()));
                    p
                }
            };
            match parsed {
                Parsed::Notes(n) => notes.extend(n),
                Parsed::Plan(header, tasks) => plans.push(PlanView {
                    id: key.scope.clone(),
                    header: *header,
                    tasks,
                    writable: d.writable(&id),
                }),
                Parsed::Org(o) => {
                    org = o;
                    org_writable = d.writable(&id);
                }
                Parsed::Progress(records) => {
                    let commune = key.commune().unwrap_or_default().to_string();
                    progress.extend(records.into_iter().map(|r| (commune.clone(), r)));
                }
            }
        }
        notes.sort_by(|a, b| (&b.activity_date, &b.id).cmp(&(&a.activity_date, &a.id)));
        plans.sort_by(|a, b| a.id.cmp(&b.id));
        d.ui.notes.set(notes);
        d.ui.tasks
            .set(plans.iter().flat_map(|p| p.tasks.clone()).collect());
        d.ui.plans.set(plans);
        d.ui.org.set(org);
        d.ui.org_writable.set(org_writable);
        d.ui.progress.set(progress);
        // Only documents this device writes can hold its unsynced work: what arrived from the
        // server (a desk's read-only copies, another phone's notes) is not this device's to count.
        let (mut unsynced, mut oldest) = (0usize, None::<i64>);
        for id in d.client.doc_ids().filter(|id| d.writable(id)) {
            let Some(doc) = d.client.doc(id) else {
                continue;
            };
            let heads = d
                .durable
                .get(&id.to_string())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            unsynced += unsynced_changes(doc, heads);
            if let Some(t) = oldest_unsynced(doc, heads) {
                oldest = Some(oldest.map_or(t, |o: i64| o.min(t)));
            }
        }
        d.ui.unsynced.set(unsynced);
        d.ui.oldest_unsynced.set(oldest.map(|s| s * 1000));
    });
}
