//! The JSON API beside sync: the documents a user may read, their durable heads, and the aggregated
//! overview for the aggregating level.

use crate::AppState;
use crate::access::{Access, Principal, Role, access};
use crate::error::ApiError;
use crate::net::ClientAddr;
use axum::Json;
use axum::extract::State;
use shared::DocKey;
use shared::api::{
    DocEntry, DocsResponse, DurableCheckRequest, DurableCheckResponse, DurableHeads, HeadsMap,
    OverviewResponse, PlanDraft, PublishResponse, QuarantineResponse,
};
use shared::vocab::DocAccess;
use std::collections::BTreeMap;

/// Every document the principal may read that exists on the server, plus for a member the documents
/// the phone should keep even before they exist (its commune's progress and current notes).
fn readable_docs(st: &AppState, p: &Principal) -> BTreeMap<String, (DocKey, Access)> {
    let mut out = BTreeMap::new();
    let mut add = |key: DocKey| {
        let a = access(p, &key);
        if a != Access::None {
            out.insert(key.doc_id().to_string(), (key, a));
        }
    };
    for key in st.registry.stored_in(&p.scope) {
        add(key);
    }
    add(DocKey::org());
    for plan in st.registry.plans() {
        add(DocKey::plan(&plan));
        if let Some(c) = &p.commune_id {
            add(DocKey::progress(&plan, c));
        }
    }
    if let Some(c) = &p.commune_id {
        add(DocKey::notes(c, crate::clock::current_quarter()));
    }
    out
}

pub async fn docs(
    State(st): State<AppState>,
    p: Principal,
) -> Result<Json<DocsResponse>, ApiError> {
    let docs = readable_docs(&st, &p)
        .into_iter()
        .map(|(doc_id, (key, a))| DocEntry {
            doc_id,
            kind: Some(key.kind),
            scope: key.scope,
            period: key.period,
            access: if a == Access::Write {
                DocAccess::ReadWrite
            } else {
                DocAccess::ReadOnly
            },
        })
        .collect();
    Ok(Json(DocsResponse { docs }))
}

/// The heads of each readable document as stored in SQLite (not as held in samod's memory).
pub async fn durable_heads(
    State(st): State<AppState>,
    p: Principal,
) -> Result<Json<DurableHeads>, ApiError> {
    let readable: Vec<String> = readable_docs(&st, &p).into_keys().collect();
    Ok(Json(DurableHeads {
        heads: heads_map(&st, readable).await,
        server_time: crate::clock::now_ms(),
    }))
}

/// Durable heads of `docs` (those with anything stored), as hex.
async fn heads_map(st: &AppState, docs: Vec<String>) -> HeadsMap {
    let heads = st.durable_heads_many(docs.clone()).await;
    docs.into_iter()
        .zip(heads)
        .filter_map(|(d, h)| Some((d, h?.iter().map(ToString::to_string).collect())))
        .collect()
}

/// `POST /api/durable-heads`: the durable heads, plus for each document the device names whether its
/// heads are durable. A device that has not yet received everyone else's changes cannot prove
/// coverage from the heads alone; the server can, since a change present in the durable state is
/// durable together with all its ancestors.
pub async fn durable_check(
    State(st): State<AppState>,
    p: Principal,
    body: Result<Json<DurableCheckRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<DurableCheckResponse>, ApiError> {
    let Json(req) = body?;
    let readable = readable_docs(&st, &p);
    let heads = heads_map(&st, readable.keys().cloned().collect()).await;
    let mut covered = std::collections::HashMap::new();
    for (doc_id, have) in req.have {
        if !readable.contains_key(&doc_id) {
            continue;
        }
        let hashes = have
            .iter()
            .map(|h| h.parse::<automerge::ChangeHash>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| ApiError::BadRequest(format!("bad change hash for {doc_id}")))?;
        covered.insert(doc_id.clone(), st.is_durable(&doc_id, hashes).await);
    }
    Ok(Json(DurableCheckResponse {
        heads,
        covered,
        server_time: crate::clock::now_ms(),
    }))
}

/// Largest plan file accepted for import (a .docx with images can be large; the text is what counts).
pub const MAX_IMPORT_BYTES: usize = 10 * 1024 * 1024;

fn require_editor(p: &Principal) -> Result<(), ApiError> {
    match p.role {
        Role::Admin | Role::Editor => Ok(()),
        _ => Err(ApiError::Forbidden("plan editors only")),
    }
}

/// A plan's text (`text/plain`) or .docx (any other body) → its draft. Parsing a .docx is CPU work
/// on untrusted input: it runs on the blocking pool, never on an async worker.
async fn draft_from_body(
    headers: &axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<PlanDraft, ApiError> {
    let is_text = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/plain"));
    tokio::task::spawn_blocking(move || {
        if is_text {
            let text = std::str::from_utf8(&body)
                .map_err(|_| ApiError::BadRequest("the text is not UTF-8".into()))?;
            crate::plan_import::import_text(text)
        } else {
            crate::plan_import::import_docx(&body)
        }
        .map_err(|e| ApiError::BadRequest(e.to_string()))
    })
    .await
    .map_err(|e| ApiError::Internal(e.into()))?
}

/// `POST /api/plans/import`: a plan's text or .docx → the draft, for an editor to review before
/// publishing. Nothing is stored.
pub async fn import_plan(
    State(st): State<AppState>,
    p: Principal,
    ClientAddr(addr): ClientAddr,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<PlanDraft>, ApiError> {
    require_editor(&p)?;
    let (size, draft) = (body.len(), draft_from_body(&headers, body).await?);
    let tasks: usize = draft.sections.iter().map(|s| s.tasks.len()).sum();
    let detail = format!("{tasks} task(s) read from {size} bytes");
    crate::admin::audit(
        &st,
        &p.username,
        "plan-imported",
        &draft.title,
        &detail,
        &addr.to_string(),
    );
    Ok(Json(draft))
}

#[derive(serde::Deserialize)]
pub struct PublishQuery {
    /// The plan this document revises; absent for a new plan.
    plan: Option<String>,
}

/// `POST /api/plans/publish[?plan=ID]`: the same body as import, published — a new plan document,
/// or a revision of `plan` that keeps its task IDs (see [`crate::plan_publish`]). The change goes
/// through sync, so phones that hold the plan receive it at once.
pub async fn publish_plan(
    State(st): State<AppState>,
    p: Principal,
    ClientAddr(addr): ClientAddr,
    axum::extract::Query(q): axum::extract::Query<PublishQuery>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<PublishResponse>, ApiError> {
    require_editor(&p)?;
    let draft = draft_from_body(&headers, body).await?;
    if draft.sections.iter().all(|s| s.tasks.is_empty()) {
        return Err(ApiError::BadRequest(
            "no numbered tasks found: is this a plan (Kế hoạch)?".into(),
        ));
    }
    let plans = st.db.plan_ids()?;
    let plan_id = match q.plan {
        Some(id) if plans.contains(&id) => id,
        Some(id) => return Err(ApiError::NotFound(format!("no plan {id}"))),
        None => {
            format!("kh-{}", crate::clock::new_ulid().to_lowercase())
        }
    };
    let key = DocKey::plan(&plan_id);
    if !plans.contains(&plan_id) {
        st.db.insert_plan(&plan_id, &draft.title)?;
        st.rebuild_registry().map_err(ApiError::Internal)?;
    }
    let (node, now) = (p.node_id.clone(), crate::clock::now_ms());
    let summary = st
        .hub
        .change(&st.storage, &key, move |doc| {
            crate::plan_publish::publish_into(doc, &draft, &node, now)
        })
        .await
        .map_err(ApiError::Internal)?
        .map_err(|e| ApiError::Internal(e.into()))?;
    tracing::info!(plan = %plan_id, by = %p.username, ?summary, "plan published");
    crate::admin::audit(
        &st,
        &p.username,
        "plan-published",
        &plan_id,
        "",
        &addr.to_string(),
    );
    Ok(Json(PublishResponse {
        doc_id: key.doc_id().to_string(),
        plan_id,
        summary,
    }))
}

/// Quarantined document entries, for administrators.
pub async fn quarantine(
    State(st): State<AppState>,
    p: Principal,
) -> Result<Json<QuarantineResponse>, ApiError> {
    if p.role != Role::Admin {
        return Err(ApiError::Forbidden("administrators only"));
    }
    Ok(Json(QuarantineResponse {
        entries: st.db.quarantine()?,
    }))
}

pub async fn overview(
    State(st): State<AppState>,
    p: Principal,
) -> Result<Json<OverviewResponse>, ApiError> {
    if !p.reads_communes() {
        return Err(ApiError::Forbidden(
            "the overview is for viewers of the aggregating level",
        ));
    }
    let mut communes = st.db.overview()?;
    communes.retain(|c| p.scope.covers(&c.commune_id));
    let judged = st.db.judged_done(&|c| p.scope.covers(c))?;
    Ok(Json(OverviewResponse { communes, judged }))
}
