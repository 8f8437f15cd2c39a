//! The office's endpoints (`/api/office/*`): the figures of a period per commune, the notes and the
//! petitions behind them, for the communes under the user's node — read from the read model, so
//! no screen needs every commune's documents.

use crate::AppState;
use crate::access::Principal;
use crate::db::Filter;
use crate::error::ApiError;
use axum::Json;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use shared::api::{
    CommuneSummary, Figures, OFFICE_PAGE, OfficeNote, OfficeNotes, OfficePetitions, OfficeQuery,
    OfficeSummary,
};
use std::collections::HashMap;
use std::convert::Infallible;
use tokio::sync::broadcast::error::RecvError;

/// How long a commune may go without a device's change before it is listed as stale.
const STALE_DAYS: u32 = 14;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn require_office(p: &Principal) -> Result<(), ApiError> {
    if p.reads_communes() {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "for viewers of the aggregating level (administrators and editors need the viewer role too)",
        ))
    }
}

/// The period asked for (inclusive ISO dates), the current quarter by default.
fn period(q: &OfficeQuery) -> Result<(String, String), ApiError> {
    let quarter = crate::clock::current_quarter();
    let date = |d: &Option<String>, default: String| match d {
        None => Ok(default),
        Some(d) if shared::ids::parse_iso_date(d).is_some() => Ok(d.clone()),
        Some(d) => Err(ApiError::BadRequest(format!(
            "not a date (YYYY-MM-DD): {d}"
        ))),
    };
    let (from, to) = (
        date(&q.from, quarter.first_day())?,
        date(&q.to, quarter.last_day())?,
    );
    if from > to {
        return Err(ApiError::BadRequest(
            "the period ends before it starts".into(),
        ));
    }
    Ok((from, to))
}

/// What a list request asks for, once the role is checked: the period and where the page starts.
fn asked(p: &Principal, q: &OfficeQuery) -> Result<(String, String, u32), ApiError> {
    require_office(p)?;
    let (from, to) = period(q)?;
    Ok((from, to, q.offset.unwrap_or(0)))
}

fn add(total: &mut Figures, f: &Figures) {
    total.notes += f.notes;
    total.participants.total += f.participants.total;
    total.participants.women += f.participants.women;
    total.participants.ethnic_minority += f.participants.ethnic_minority;
    total.participants.religious += f.participants.religious;
    total.petitions.open += f.petitions.open;
    total.petitions.answered += f.petitions.answered;
    total.petitions.referred += f.petitions.referred;
    total.photos += f.photos;
}

/// Commune ID → name, for the communes of the org table.
fn commune_names(st: &AppState) -> Result<HashMap<String, String>, ApiError> {
    Ok(st
        .db
        .nodes()?
        .into_iter()
        .filter(|n| n.level == shared::vocab::OrgLevel::Commune)
        .map(|n| (n.id, n.name))
        .collect())
}

/// `GET /api/office/summary`: each commune in scope over the period, stale ones first, with totals.
pub async fn summary(
    State(st): State<AppState>,
    p: Principal,
    Query(q): Query<OfficeQuery>,
) -> Result<Json<OfficeSummary>, ApiError> {
    require_office(&p)?;
    let (from, to) = period(&q)?;
    let stale_days = q.stale_days.unwrap_or(STALE_DAYS);
    let now = crate::clock::now_ms();
    let filter = Filter::new(&q, &from, &to, &p.scope);
    let figures = st.db.office_figures(&filter)?;
    let activities = st.db.office_activities(&filter)?;
    let weeks = st.db.office_weeks(&filter)?;
    let last_notes = st.db.last_note_dates()?;
    let mut communes: Vec<CommuneSummary> = st
        .db
        .overview()?
        .into_iter()
        .filter(|c| p.scope.covers(&c.commune_id))
        .filter(|c| q.commune.as_ref().is_none_or(|x| *x == c.commune_id))
        .map(|c| {
            let figures = figures.get(&c.commune_id).cloned().unwrap_or_default();
            let quiet = c
                .last_sync
                .is_none_or(|t| now - t > i64::from(stale_days) * DAY_MS);
            CommuneSummary {
                stale: quiet || figures.notes == 0,
                last_note: last_notes.get(&c.commune_id).cloned(),
                commune_id: c.commune_id,
                name: c.name,
                last_sync: c.last_sync,
                figures,
            }
        })
        .collect();
    communes.sort_by(|a, b| (!a.stale, &a.name).cmp(&(!b.stale, &b.name)));
    let mut totals = Figures::default();
    for c in &communes {
        add(&mut totals, &c.figures);
    }
    Ok(Json(OfficeSummary {
        from,
        to,
        stale_days,
        totals,
        communes,
        activities,
        weeks,
        as_of: now,
    }))
}

/// `GET /api/office/notes`: a page of the notes in scope matching the filters, newest first.
pub async fn notes(
    State(st): State<AppState>,
    p: Principal,
    Query(q): Query<OfficeQuery>,
) -> Result<Json<OfficeNotes>, ApiError> {
    let (from, to, offset) = asked(&p, &q)?;
    let filter = Filter::new(&q, &from, &to, &p.scope);
    let (total, rows) = st.db.office_notes(&filter, offset, OFFICE_PAGE)?;
    let names = commune_names(&st)?;
    let mut notes = Vec::with_capacity(rows.len());
    for (doc_id, commune, note) in rows {
        notes.push(OfficeNote {
            received_at: st.db.received_at(&doc_id, &note.id)?,
            doc_id,
            commune_name: names
                .get(&commune)
                .cloned()
                .unwrap_or_else(|| commune.clone()),
            commune_id: commune,
            note,
        });
    }
    Ok(Json(OfficeNotes {
        total,
        offset,
        notes,
    }))
}

/// `GET /api/office/petitions`: a page of the petitions register.
pub async fn petitions(
    State(st): State<AppState>,
    p: Principal,
    Query(q): Query<OfficeQuery>,
) -> Result<Json<OfficePetitions>, ApiError> {
    let (from, to, offset) = asked(&p, &q)?;
    let filter = Filter::new(&q, &from, &to, &p.scope);
    let names = commune_names(&st)?;
    let (total, petitions) = st.db.office_petitions(&filter, offset, OFFICE_PAGE, |c| {
        names.get(c).cloned().unwrap_or_else(|| c.to_string())
    })?;
    Ok(Json(OfficePetitions {
        total,
        offset,
        petitions,
    }))
}

/// `GET /api/office/events`: Server-Sent Events, one `change` (data: the commune) whenever the read
/// model changed for a commune in the user's scope (an empty commune: something outside communes,
/// or events were missed — read everything again). Replaces polling; the browser reconnects.
pub async fn events(
    State(st): State<AppState>,
    p: Principal,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    require_office(&p)?;
    let rx = st.office_changes.subscribe();
    let stream = futures::stream::unfold((rx, p.scope), |(mut rx, scope)| async move {
        loop {
            let commune = match rx.recv().await {
                Ok(c) if c.is_empty() || scope.covers(&c) => c,
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) => String::new(),
                Err(RecvError::Closed) => return None,
            };
            let event = Event::default().event("change").data(commune);
            return Some((Ok(event), (rx, scope)));
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::default()))
}
