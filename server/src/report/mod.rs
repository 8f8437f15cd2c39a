//! Quarterly reports (`/api/reports*` and `danvan-server report`): the cut-off that freezes a
//! period's figures at the heads of the documents feeding them, the report computed from the
//! documents at those heads (or live, and then marked provisional), what changed after the
//! cut-off, and the .docx and .xlsx files.

pub mod docx;
pub mod xlsx;

use crate::AppState;
use crate::access::{Principal, Scope};
use crate::db::{CutRow, NodeRow};
use crate::error::ApiError;
use crate::net::ClientAddr;
use automerge::{Automerge, ChangeHash};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use shared::api::{
    CutRequest, JudgedDone, ReportCut, ReportFileQuery, ReportLayout, ReportSettings, ReportStatus,
    ReportTarget,
};
use shared::report::{Amendment, CommuneState, Report, ReportInput, amendments};
use shared::schema::{self, PlanHeader, Task};
use shared::vocab::OrgLevel;
use shared::{DocKey, Quarter};
use std::collections::BTreeMap;
use std::time::Duration;

/// A report's target, checked: the plan exists, the period is a quarter, the node is in the tree.
pub struct Resolved {
    pub plan: String,
    pub quarter: Quarter,
    pub node: NodeRow,
    /// The communes under the node (id, name), by name.
    pub communes: Vec<(String, String)>,
}

impl Resolved {
    /// Every document the report reads: the plan, and each commune's progress and notes.
    fn documents(&self) -> Vec<String> {
        let mut v = vec![DocKey::plan(&self.plan).doc_id().to_string()];
        for (c, _) in &self.communes {
            v.push(DocKey::progress(&self.plan, c).doc_id().to_string());
            v.push(DocKey::notes(c, self.quarter).doc_id().to_string());
        }
        v
    }
}

/// Check a target against the database (404 for what does not exist, 400 for a bad period).
pub fn resolve(st: &AppState, t: &ReportTarget) -> Result<Resolved, ApiError> {
    let quarter: Quarter = t.period.parse().map_err(|()| {
        ApiError::BadRequest(format!(
            "not a quarter (like 2026-Q4): {:?} / kỳ báo cáo không hợp lệ",
            t.period
        ))
    })?;
    if !st.db.plan_ids()?.contains(&t.plan) {
        return Err(ApiError::NotFound(format!(
            "no plan {:?} / không có kế hoạch này",
            t.plan
        )));
    }
    let nodes = st.db.nodes()?;
    let node = nodes
        .iter()
        .find(|n| n.id == t.node && !n.removed)
        .cloned()
        .ok_or_else(|| {
            ApiError::NotFound(format!("no org node {:?} / không có đơn vị này", t.node))
        })?;
    let under = st.db.scope_of(&node.id)?;
    let mut communes: Vec<(String, String)> = nodes
        .into_iter()
        .filter(|n| n.level == OrgLevel::Commune && !n.removed && under.covers(&n.id))
        .map(|n| (n.id, n.name))
        .collect();
    communes.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(Resolved {
        plan: t.plan.clone(),
        quarter,
        node,
        communes,
    })
}

/// The aggregating level, and only for a node inside its part of the tree.
fn allowed(st: &AppState, p: &Principal, node: &str) -> Result<(), ApiError> {
    if !p.reads_communes() {
        return Err(ApiError::Forbidden(
            "reports are for viewers of the aggregating level",
        ));
    }
    let inside = match (&p.scope, st.db.scope_of(node)?) {
        (Scope::All, _) => true,
        (Scope::Communes(_), Scope::All) => false,
        (Scope::Communes(mine), Scope::Communes(theirs)) => {
            !theirs.is_empty() && theirs.iter().all(|c| mine.contains(c))
        }
    };
    if inside {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "this node is outside your part of the org tree",
        ))
    }
}

fn parse_heads(heads: &[String]) -> Vec<ChangeHash> {
    heads.iter().filter_map(|h| h.parse().ok()).collect()
}

/// `f` over a stored document at `heads` (`None`: as it is now). A document not stored, or empty
/// at the cut-off, reads as `R::default()`.
async fn read_at<R: Default + Send + 'static>(
    st: &AppState,
    doc: String,
    heads: Option<Vec<ChangeHash>>,
    f: fn(&Automerge) -> R,
) -> R {
    st.storage
        .with_durable(doc, move |am| match &heads {
            None => f(am),
            Some(h) if h.is_empty() => R::default(),
            Some(h) => am.fork_at(h).map(|d| f(&d)).unwrap_or_default(),
        })
        .await
        .unwrap_or_default()
}

/// The plan and the communes' documents, at the cut-off's heads or now.
pub async fn read_state(
    st: &AppState,
    r: &Resolved,
    heads: Option<&BTreeMap<String, Vec<String>>>,
) -> (PlanHeader, Vec<Task>, Vec<CommuneState>) {
    // A document the cut-off did not record did not exist then: empty.
    let at = |doc: &str| heads.map(|h| h.get(doc).map(|v| parse_heads(v)).unwrap_or_default());
    let plan_doc = DocKey::plan(&r.plan).doc_id().to_string();
    let (header, tasks) = read_at(st, plan_doc.clone(), at(&plan_doc), |am| {
        (schema::read_plan_header(am), schema::read_tasks(am))
    })
    .await;
    // A "done" is judged by the server's receipt where the device's clock was found wrong.
    let judged = st
        .db
        .judged_done(&|c| r.communes.iter().any(|(id, _)| id == c))
        .unwrap_or_else(|e| {
            tracing::error!(%e, "reading receipts for the report");
            Vec::new()
        });
    let mut communes = Vec::new();
    for (id, name) in &r.communes {
        let progress_doc = DocKey::progress(&r.plan, id).doc_id().to_string();
        let notes_doc = DocKey::notes(id, r.quarter).doc_id().to_string();
        let mut progress: Vec<schema::ProgressRecord> =
            read_at(st, progress_doc.clone(), at(&progress_doc), |am| {
                schema::read_progress(am)
            })
            .await;
        let notes = read_at(st, notes_doc.clone(), at(&notes_doc), |am| {
            // Entries that break the schema are quarantined: left out of every figure.
            let bad = schema::check(am, shared::DocKind::Notes);
            schema::read_notes(am)
                .into_iter()
                .filter(|n| !bad.iter().any(|(k, _)| *k == n.id))
                .collect()
        })
        .await;
        for rec in &mut progress {
            JudgedDone::apply(&judged, id, rec);
        }
        communes.push(CommuneState {
            id: id.clone(),
            name: name.clone(),
            progress,
            notes,
        });
    }
    (header, tasks, communes)
}

/// Record the heads of every document of the report now (a cut-off that is due).
pub async fn take_cut(st: &AppState, r: &Resolved, now: i64) -> Result<bool, ApiError> {
    let mut heads = BTreeMap::new();
    for doc in r.documents() {
        let h = st
            .storage
            .with_durable(doc.clone(), |am| {
                am.get_heads()
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
            })
            .await
            .unwrap_or_default();
        heads.insert(doc, h);
    }
    let taken = st
        .db
        .take_report_cut(&r.plan, &r.quarter.to_string(), &r.node.id, &heads, now)?;
    if taken {
        tracing::info!(plan = %r.plan, period = %r.quarter, node = %r.node.id, docs = heads.len(), "report cut-off taken");
    }
    Ok(taken)
}

/// Takes the cut-offs whose moment has come, every 30 s while the server runs.
pub async fn take_due_cuts(st: AppState) {
    loop {
        if let Err(e) = take_due_once(&st).await {
            tracing::error!(error = %e, "taking report cut-offs failed; trying again");
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
    }
}

pub async fn take_due_once(st: &AppState) -> Result<usize, ApiError> {
    let now = crate::clock::now_ms();
    let mut n = 0;
    for c in st.db.due_report_cuts(now)? {
        let target = ReportTarget {
            plan: c.plan.clone(),
            period: c.period.clone(),
            node: c.node.clone(),
        };
        match resolve(st, &target) {
            Ok(r) => n += usize::from(take_cut(st, &r, now).await?),
            Err(e) => {
                tracing::warn!(plan = %c.plan, node = %c.node, error = %e, "a cut-off's target is gone")
            }
        }
    }
    Ok(n)
}

/// The settings a report starts from: the plan's issuer and signer, the node's name.
pub fn default_settings(
    header: &PlanHeader,
    node: &NodeRow,
    layout: ReportLayout,
) -> ReportSettings {
    let place = place_name(&node.name);
    let upper = |s: &str| s.to_uppercase();
    let superior = party_committee(&node.name);
    // The plan's signature block, "T/M BAN THƯỜNG VỤ — BÍ THƯ — Đinh Văn Tuấn" or one per line.
    let signer: Vec<&str> = header
        .signer
        .split(['\n', '—'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let (mandate, position, name) = match signer.as_slice() {
        [m, p, n, ..] => (Some(*m), *p, *n),
        [p, n] => (None, *p, *n),
        [n] => (None, "", *n),
        [] => (None, "", ""),
    };
    let base = ReportSettings::default();
    match layout {
        ReportLayout::Party => ReportSettings {
            layout,
            superior,
            issuer: "BAN DÂN VẬN".into(),
            number: "…-BC/BDV".into(),
            place,
            recipients: "Thường trực cấp ủy (b/c),\nMặt trận Tổ quốc và các đoàn thể,\nLưu.".into(),
            signer_mandate: mandate.unwrap_or("T/M BAN THƯỜNG VỤ").into(),
            signer_position: position.into(),
            signer_name: name.into(),
            ..base
        },
        ReportLayout::Front => ReportSettings {
            layout,
            superior: "ỦY BAN MẶT TRẬN TỔ QUỐC VIỆT NAM".into(),
            issuer: upper(&place_of(&node.name)),
            number: "…/BC-MTTQ-BTT".into(),
            place,
            recipients: "Ban Thường trực cấp trên (b/c),\nCác tổ chức thành viên,\nLưu VP.".into(),
            signer_mandate: "TM. BAN THƯỜNG TRỰC".into(),
            signer_position: String::new(),
            signer_name: String::new(),
            ..base
        },
    }
}

/// The Party committee above a Ban Dân vận of this place, as the header's superior line:
/// "Huyện Đơn Dương" → "HUYỆN ỦY ĐƠN DƯƠNG", "Xã Ka Đơn" → "ĐẢNG ỦY XÃ KA ĐƠN".
fn party_committee(node_name: &str) -> String {
    let name = place_of(node_name);
    let committees = [
        ("Tỉnh ", "TỈNH ỦY "),
        ("Thành phố ", "THÀNH ỦY "),
        ("Huyện ", "HUYỆN ỦY "),
        ("Thị xã ", "THỊ ỦY "),
    ];
    for (level, committee) in committees {
        if let Some(rest) = name.strip_prefix(level) {
            return format!("{committee}{}", rest.to_uppercase());
        }
    }
    for level in ["Xã ", "Phường ", "Thị trấn ", "Đặc khu "] {
        if name.starts_with(level) {
            return format!("ĐẢNG ỦY {}", name.to_uppercase());
        }
    }
    name.to_uppercase()
}

/// "Huyện Đơn Dương (DỮ LIỆU DEMO)" → "Huyện Đơn Dương": the node's name without remarks.
fn place_of(name: &str) -> String {
    name.split('(').next().unwrap_or(name).trim().to_string()
}

/// The place of the date line: the node's name without its level word ("Đơn Dương").
fn place_name(name: &str) -> String {
    let name = place_of(name);
    for level in [
        "Thị trấn ",
        "Thành phố ",
        "Huyện ",
        "Tỉnh ",
        "Phường ",
        "Xã ",
        "Thị xã ",
    ] {
        if let Some(rest) = name.strip_prefix(level) {
            return rest.to_string();
        }
    }
    name
}

/// A report built: the figures, whether they are provisional, and the previous period's
/// amendments (for the annex).
pub struct Built {
    pub report: Report,
    pub cut: Option<CutRow>,
    pub settings: ReportSettings,
    pub previous_amendments: Vec<Amendment>,
}

/// What changed after a period's cut-off (empty if the period is not cut).
pub async fn amendments_of(st: &AppState, r: &Resolved) -> Result<Vec<Amendment>, ApiError> {
    let Some(cut) = st
        .db
        .report_cut(&r.plan, &r.quarter.to_string(), &r.node.id)?
    else {
        return Ok(Vec::new());
    };
    let Some(heads) = cut.heads.as_ref() else {
        return Ok(Vec::new());
    };
    let (_, _, at_cut) = read_state(st, r, Some(heads)).await;
    let (_, tasks, now) = read_state(st, r, None).await;
    Ok(amendments(
        &at_cut,
        &now,
        &tasks,
        &r.quarter.first_day(),
        &r.quarter.last_day(),
    ))
}

/// The report of a target: from the cut-off's heads if it was taken, else live (provisional).
pub async fn build(
    st: &AppState,
    r: &Resolved,
    settings: Option<ReportSettings>,
) -> Result<Built, ApiError> {
    let cut = st
        .db
        .report_cut(&r.plan, &r.quarter.to_string(), &r.node.id)?
        .filter(|c| c.heads.is_some());
    let at = cut
        .as_ref()
        .and_then(|c| c.taken_at)
        .unwrap_or_else(crate::clock::now_ms);
    let (header, tasks, communes) =
        read_state(st, r, cut.as_ref().and_then(|c| c.heads.as_ref())).await;
    let settings =
        settings.unwrap_or_else(|| default_settings(&header, &r.node, ReportLayout::Party));
    let report = Report::compute(&ReportInput {
        header,
        tasks,
        node_name: place_of(&r.node.name),
        from: r.quarter.first_day(),
        to: r.quarter.last_day(),
        at,
        communes,
    });
    // The previous quarter's late changes go in this report's annex.
    let previous = Resolved {
        plan: r.plan.clone(),
        quarter: r.quarter.prev(),
        node: r.node.clone(),
        communes: r.communes.clone(),
    };
    let previous_amendments = amendments_of(st, &previous).await?;
    Ok(Built {
        report,
        cut,
        settings,
        previous_amendments,
    })
}

/// The file of a report: (content type, file extension, bytes).
pub async fn file(
    st: &AppState,
    r: &Resolved,
    format: &str,
    settings: Option<ReportSettings>,
) -> Result<(&'static str, &'static str, Vec<u8>), ApiError> {
    let built = build(st, r, settings).await?;
    match format {
        "" | "docx" => Ok((
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "docx",
            docx::render(&built)?,
        )),
        "xlsx" => Ok((
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
            xlsx::render(&built)?,
        )),
        other => Err(ApiError::BadRequest(format!(
            "unknown format {other:?} (docx or xlsx)"
        ))),
    }
}

/// The end of a quarter (exclusive, Asia/Ho_Chi_Minh): the default cut-off.
fn end_of(q: Quarter) -> i64 {
    shared::status::end_of_day_vn(&q.last_day()).unwrap_or(0)
}

async fn status_of(st: &AppState, r: &Resolved) -> Result<ReportStatus, ApiError> {
    let cut = st
        .db
        .report_cut(&r.plan, &r.quarter.to_string(), &r.node.id)?;
    let header = read_at(
        st,
        DocKey::plan(&r.plan).doc_id().to_string(),
        None,
        schema::read_plan_header,
    )
    .await;
    Ok(ReportStatus {
        node_name: place_of(&r.node.name),
        default_cut_at: end_of(r.quarter),
        cut: cut.map(|c| ReportCut {
            due_at: c.due_at,
            taken_at: c.taken_at,
            set_by: c.set_by,
        }),
        settings: default_settings(&header, &r.node, ReportLayout::Party),
        settings_front: default_settings(&header, &r.node, ReportLayout::Front),
        amendments: amendments_of(st, r).await?,
    })
}

/// `GET /api/reports?plan&period&node`.
pub async fn status(
    State(st): State<AppState>,
    p: Principal,
    Query(t): Query<ReportTarget>,
) -> Result<Json<ReportStatus>, ApiError> {
    let r = resolve(&st, &t)?;
    allowed(&st, &p, &r.node.id)?;
    Ok(Json(status_of(&st, &r).await?))
}

/// `POST /api/reports/cut`: set the cut-off; one that has passed is taken at once. A taken
/// cut-off never moves (409).
pub async fn cut(
    State(st): State<AppState>,
    p: Principal,
    Json(req): Json<CutRequest>,
) -> Result<Json<ReportStatus>, ApiError> {
    let r = resolve(&st, &req.target)?;
    allowed(&st, &p, &r.node.id)?;
    let now = crate::clock::now_ms();
    let due = req.at.unwrap_or(now);
    let set = st.db.set_report_cut(
        &r.plan,
        &r.quarter.to_string(),
        &r.node.id,
        due,
        &p.username,
    )?;
    if !set {
        return Err(ApiError::Conflict {
            message: "số liệu của kỳ này đã chốt / this period's figures are already cut off"
                .into(),
            offset: 0,
        });
    }
    if due <= now {
        take_cut(&st, &r, now).await?;
    }
    Ok(Json(status_of(&st, &r).await?))
}

/// `GET /api/reports/file?plan&period&node&format=docx|xlsx&settings={json}`: the report.
pub async fn download(
    State(st): State<AppState>,
    p: Principal,
    ClientAddr(addr): ClientAddr,
    Query(q): Query<ReportFileQuery>,
) -> Result<Response, ApiError> {
    let r = resolve(&st, &q.target())?;
    allowed(&st, &p, &r.node.id)?;
    let settings = match q.settings.as_deref() {
        None | Some("") => None,
        Some(json) => Some(serde_json::from_str::<ReportSettings>(json).map_err(|e| {
            ApiError::BadRequest(format!("settings: {e} / thiết lập báo cáo không hợp lệ"))
        })?),
    };
    let (mime, ext, bytes) = file(&st, &r, &q.format, settings).await?;
    let name = format!("bao-cao-{}-{}-{}.{ext}", r.plan, r.quarter, r.node.id);
    // The report names citizens' petitions: who took one away is the audit log's business.
    let detail = format!("{} bytes", bytes.len());
    crate::admin::audit(
        &st,
        &p.username,
        "report-downloaded",
        &name,
        &detail,
        &addr.to_string(),
    );
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
