//! The office's queries over the read model: figures per commune for a period, the notes and the
//! petitions behind them — filtered by period, scope, commune, task and words, one page at a time.

use super::sql::{Dialect, Val};
use super::{Db, Result};
use crate::access::Scope;
use shared::api::{ActivityCount, Figures, OfficeQuery, PetitionCounts, PetitionEntry, WeekCount};
use shared::schema::{Gps, Note, Participants, Petition};
use shared::vocab::{ActivityType, PetitionStatus};
use std::collections::HashMap;

/// An office query made concrete: a period (inclusive ISO dates) and the user's scope.
pub struct Filter<'a> {
    pub query: &'a OfficeQuery,
    pub from: &'a str,
    pub to: &'a str,
    pub scope: &'a Scope,
}

/// `LIKE` patterns treat `%` and `_` as wildcards: a searched word is matched as typed.
fn like_escaped(word: &str) -> String {
    let mut out = String::from("%");
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl<'a> Filter<'a> {
    pub fn new(query: &'a OfficeQuery, from: &'a str, to: &'a str, scope: &'a Scope) -> Self {
        Filter {
            query,
            from,
            to,
            scope,
        }
    }

    /// The conditions on `rm_note_rows r`, and their parameters.
    fn conditions(&self, dialect: Dialect) -> (String, Vec<Val<'static>>) {
        let mut sql = vec!["r.activity_date >= ? AND r.activity_date <= ?".to_string()];
        let mut params: Vec<Val> = vec![self.from.to_string().into(), self.to.to_string().into()];
        if let Scope::Communes(set) = self.scope {
            sql.push(dialect.in_json_list("r.commune"));
            params.push(serde_json::to_string(&**set).unwrap_or_default().into());
        }
        if let Some(c) = &self.query.commune {
            sql.push("r.commune = ?".into());
            params.push(c.clone().into());
        }
        if let Some(t) = &self.query.task {
            sql.push(
                "EXISTS (SELECT 1 FROM rm_note_tasks t WHERE t.doc_id = r.doc_id AND t.note_id = r.note_id AND t.task_id = ?)"
                    .into(),
            );
            params.push(t.clone().into());
        }
        for word in
            shared::text::fold(self.query.q.as_deref().unwrap_or_default()).split_whitespace()
        {
            sql.push("r.folded LIKE ? ESCAPE '\\'".into());
            params.push(like_escaped(word).into());
        }
        (sql.join(" AND "), params)
    }
}

const NOTE_COLUMNS: &str = "r.doc_id, r.commune, r.note_id, r.activity_date, r.title, r.content, r.results,
    r.task_ids, r.hamlet, r.activity_type, r.unit, r.total, r.women, r.ethnic, r.religious, r.lat, r.lon,
    r.accuracy_m, r.photos, r.author, r.created_at";

/// A note of the read model with its document and commune.
pub type NoteInDoc = (String, String, Note);

fn words(s: String) -> Vec<String> {
    s.split_whitespace().map(str::to_string).collect()
}

impl Db {
    /// Figures per commune over the filter (communes without notes are absent).
    pub fn office_figures(&self, f: &Filter<'_>) -> Result<HashMap<String, Figures>> {
        let (cond, params) = f.conditions(self.dialect());
        self.with(|c| {
            let mut out: HashMap<String, Figures> = HashMap::new();
            let rows = c.rows(
                &format!(
                    "SELECT r.commune, COUNT(*), SUM(r.total), SUM(r.women), SUM(r.ethnic), SUM(r.religious),
                        SUM(r.photo_count), SUM(r.pet_open), SUM(r.pet_answered), SUM(r.pet_referred)
                     FROM rm_note_rows r WHERE {cond} GROUP BY r.commune"
                ),
                &params[..],
            )?;
            for r in rows {
                let fig = out.entry(r.get(0)?).or_default();
                fig.notes = r.get(1)?;
                fig.participants = Participants {
                    total: r.get(2)?,
                    women: r.get(3)?,
                    ethnic_minority: r.get(4)?,
                    religious: r.get(5)?,
                };
                fig.photos = r.get(6)?;
                fig.petitions = PetitionCounts {
                    open: r.get(7)?,
                    answered: r.get(8)?,
                    referred: r.get(9)?,
                };
            }
            Ok(out)
        })
    }

    /// Notes and participants per activity type over the filter, most notes first.
    pub fn office_activities(&self, f: &Filter<'_>) -> Result<Vec<ActivityCount>> {
        let (cond, params) = f.conditions(self.dialect());
        self.with(|c| {
            c.prepare(&format!(
                "SELECT r.activity_type, COUNT(*), SUM(r.total) FROM rm_note_rows r WHERE {cond}
                 GROUP BY r.activity_type ORDER BY COUNT(*) DESC, r.activity_type"
            ))?
            .query_map(&params[..], |r| {
                Ok(ActivityCount {
                    activity_type: r
                        .get::<_, Option<String>>(0)?
                        .map(|t| ActivityType::parse(&t)),
                    notes: r.get(1)?,
                    participants: r.get(2)?,
                })
            })?
            .collect()
        })
    }

    /// Notes per week of their activity date over the filter, oldest week first.
    pub fn office_weeks(&self, f: &Filter<'_>) -> Result<Vec<WeekCount>> {
        let (cond, params) = f.conditions(self.dialect());
        let monday = self.dialect().monday_of("r.activity_date");
        self.with(|c| {
            c.prepare(&format!(
                "SELECT {monday} AS w, COUNT(*) FROM rm_note_rows r WHERE {cond} GROUP BY w ORDER BY w"
            ))?
            .query_map(&params[..], |r| {
                Ok(WeekCount {
                    monday: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                    notes: r.get(1)?,
                })
            })?
            .collect()
        })
    }

    /// The latest activity date of each commune's notes, whatever the period.
    pub fn last_note_dates(&self) -> Result<HashMap<String, String>> {
        self.with(|c| {
            c.prepare("SELECT commune, last_note FROM rm_commune_last WHERE last_note IS NOT NULL")?
                .query_map((), |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect()
        })
    }

    /// A page of notes matching the filter, newest activity first: (total, (doc, commune, note)).
    pub fn office_notes(
        &self,
        f: &Filter<'_>,
        offset: u32,
        limit: u32,
    ) -> Result<(i64, Vec<NoteInDoc>)> {
        let (cond, mut params) = f.conditions(self.dialect());
        let total: i64 = self.with(|c| {
            c.query_row(
                &format!("SELECT COUNT(*) FROM rm_note_rows r WHERE {cond}"),
                &params[..],
                |r| r.get(0),
            )
        })?;
        params.push(i64::from(limit).into());
        params.push(i64::from(offset).into());
        let mut notes: Vec<NoteInDoc> = self.with(|c| {
            c.prepare(&format!(
                "SELECT {NOTE_COLUMNS} FROM rm_note_rows r WHERE {cond}
                 ORDER BY r.activity_date DESC, r.note_id DESC LIMIT ? OFFSET ?"
            ))?
            .query_map(&params[..], |r| {
                let gps = match (r.get::<_, Option<f64>>(15)?, r.get::<_, Option<f64>>(16)?) {
                    (Some(lat), Some(lon)) => Some(Gps {
                        lat,
                        lon,
                        accuracy_m: r.get::<_, Option<f64>>(17)?.unwrap_or_default(),
                    }),
                    _ => None,
                };
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    Note {
                        id: r.get(2)?,
                        activity_date: r.get(3)?,
                        title: r.get(4)?,
                        content: r.get(5)?,
                        results: r.get(6)?,
                        task_ids: words(r.get(7)?),
                        hamlet: r.get(8)?,
                        activity_type: r
                            .get::<_, Option<String>>(9)?
                            .map(|t| ActivityType::parse(&t)),
                        unit: r.get(10)?,
                        participants: Participants {
                            total: r.get(11)?,
                            women: r.get(12)?,
                            ethnic_minority: r.get(13)?,
                            religious: r.get(14)?,
                        },
                        gps,
                        photos: words(r.get(18)?),
                        author: r.get(19)?,
                        created_at: r.get(20)?,
                        ..Note::default()
                    },
                ))
            })?
            .collect()
        })?;
        self.with(|c| {
            let mut st = c.prepare(
                "SELECT text, status FROM rm_petitions WHERE doc_id = ?1 AND note_id = ?2 ORDER BY idx",
            )?;
            for (doc, _, note) in &mut notes {
                note.petitions = st
                    .query_map([doc.as_str(), note.id.as_str()], |r| {
                        Ok(Petition {
                            text: r.get(0)?,
                            status: PetitionStatus::parse(&r.get::<_, String>(1)?),
                        })
                    })?
                    .collect::<Result<_>>()?;
            }
            Ok(())
        })?;
        Ok((total, notes))
    }

    /// A page of the petitions register: petitions of the notes matching the filter (and its
    /// status, or only the open ones).
    pub fn office_petitions(
        &self,
        f: &Filter<'_>,
        offset: u32,
        limit: u32,
        name: impl Fn(&str) -> String + Sync,
    ) -> Result<(i64, Vec<PetitionEntry>)> {
        let (mut cond, mut params) = f.conditions(self.dialect());
        if let Some(s) = &f.query.status {
            cond.push_str(" AND p.status = ?");
            params.push(s.as_str().to_string().into());
        }
        if f.query.open == Some(true) {
            // The same split as the figures' counts (`petition_counts`).
            cond.push_str(" AND p.status NOT IN (?, ?)");
            params.push(PetitionStatus::Answered.as_str().to_string().into());
            params.push(PetitionStatus::Referred.as_str().to_string().into());
        }
        // The notes drive (the period's index), each note's petitions by their key: CROSS JOIN
        // keeps SQLite from scanning every petition first.
        let from = format!(
            "FROM rm_note_rows r {} rm_petitions p ON p.doc_id = r.doc_id AND p.note_id = r.note_id",
            self.dialect().ordered_join()
        );
        let total: i64 = self.with(|c| {
            c.query_row(
                &format!("SELECT COUNT(*) {from} WHERE {cond}"),
                &params[..],
                |r| r.get(0),
            )
        })?;
        params.push(i64::from(limit).into());
        params.push(i64::from(offset).into());
        let rows = self.with(|c| {
            c.prepare(&format!(
                "SELECT r.commune, r.note_id, r.activity_date, p.text, p.status {from} WHERE {cond}
                 ORDER BY r.activity_date DESC, r.note_id DESC, p.idx LIMIT ? OFFSET ?"
            ))?
            .query_map(&params[..], |r| {
                let commune: String = r.get(0)?;
                Ok(PetitionEntry {
                    commune_name: name(&commune),
                    commune_id: commune,
                    note_id: r.get(1)?,
                    activity_date: r.get(2)?,
                    text: r.get(3)?,
                    status: PetitionStatus::parse(&r.get::<_, String>(4)?),
                })
            })?
            .collect()
        })?;
        Ok((total, rows))
    }
}
