//! The JSON API beside sync: the documents a user may read, their durable heads, and the aggregated
//! overview for the aggregating level.

use crate::AppState;
use crate::access::{Access, Principal, Role, access};
use crate::error::ApiError;
use axum::Json;
use axum::extract::State;
use shared::{DocKey, DocumentId, Quarter};
use std::collections::BTreeMap;

#[derive(serde::Serialize)]
struct DocEntry {
    doc_id: String,
    kind: &'static str,
    scope: String,
    period: String,
    access: &'static str,
}

/// Every document the principal may read that exists on the server, plus for a member the documents
/// the phone should keep even before they exist (its commune's progress and current notes).
fn readable_docs(
    st: &AppState,
    p: &Principal,
) -> Result<BTreeMap<String, (DocKey, Access)>, ApiError> {
    let mut out = BTreeMap::new();
    let mut add = |key: DocKey| {
        let a = access(p, &key);
        if a != Access::None {
            out.insert(key.doc_id().to_string(), (key, a));
        }
    };
    for row in st.db.documents()? {
        if let Ok(id) = row.doc_id.parse::<DocumentId>()
            && let Some(key) = st.registry.get(&id)
        {
            add(key);
        }
    }
    add(DocKey::org());
    for plan in st.db.plan_ids()? {
        add(DocKey::plan(&plan));
        if let Some(c) = &p.commune_id {
            add(DocKey::progress(&plan, c));
        }
    }
    if let Some(c) = &p.commune_id {
        add(DocKey::notes(c, current_quarter()));
    }
    Ok(out)
}

pub fn current_quarter() -> Quarter {
    let (y, m, _) = shared::ids::vn_civil_date(crate::auth::now_ms());
    Quarter::of_month(y, m)
}

pub async fn docs(
    State(st): State<AppState>,
    p: Principal,
) -> Result<Json<serde_json::Value>, ApiError> {
    let docs: Vec<DocEntry> = readable_docs(&st, &p)?
        .into_iter()
        .map(|(doc_id, (key, a))| DocEntry {
            doc_id,
            kind: key.kind.as_str(),
            scope: key.scope,
            period: key.period,
            access: if a == Access::Write { "rw" } else { "ro" },
        })
        .collect();
    Ok(Json(serde_json::json!({ "docs": docs })))
}

/// The heads of each readable document as stored in SQLite (not as held in samod's memory).
pub async fn durable_heads(
    State(st): State<AppState>,
    p: Principal,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut heads = serde_json::Map::new();
    for (doc_id, _) in readable_docs(&st, &p)? {
        if let Some(h) = st.durable_heads(&doc_id).await {
            heads.insert(doc_id, h.into());
        }
    }
    Ok(Json(serde_json::json!({ "heads": heads })))
}

pub async fn overview(
    State(st): State<AppState>,
    p: Principal,
) -> Result<Json<serde_json::Value>, ApiError> {
    if p.role == Role::Member {
        return Err(ApiError::Forbidden(
            "the overview is for the aggregating level",
        ));
    }
    let communes = st.db.overview()?;
    Ok(Json(serde_json::json!({ "communes": communes })))
}
