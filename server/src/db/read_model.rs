//! The read model's tables: a row per live note (with its tasks and petitions), notes per commune
//! and period, progress per task × commune × unit, and the overview of communes the aggregating
//! level starts from.

use super::sql::{OptionalExtension, Sql, params};
use super::{Db, Result};
use shared::api::{CommuneOverview, JudgedDone};
use shared::schema::Note;
use shared::status::{Receipt, judged_done};

/// What a commit did to a notes document's live notes.
pub enum NotesChange {
    /// Every live note (the document was read whole): rows not listed are removed.
    Full(Vec<Note>),
    /// Only these keys changed: `live` are (re)written, `gone` removed (deleted, invalid, absent).
    Some { live: Vec<Note>, gone: Vec<String> },
}

/// Where a notes document belongs.
pub struct NotesDoc<'a> {
    pub doc_id: &'a str,
    pub commune: &'a str,
    pub period: &'a str,
}

/// The words a search over a note looks at, folded (accent- and case-insensitive).
fn folded(n: &Note) -> String {
    let mut text = vec![n.title.as_str(), n.content.as_str(), n.results.as_str()];
    text.extend(n.petitions.iter().map(|p| p.text.as_str()));
    shared::text::fold(&text.join(" "))
}

fn remove_note(tx: &Sql, doc_id: &str, note_id: &str) -> Result<()> {
    for table in ["rm_note_rows", "rm_note_tasks", "rm_petitions"] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE doc_id = ?1 AND note_id = ?2"),
            [doc_id, note_id],
        )?;
    }
    Ok(())
}

/// Record when the server first saw an entry (a note, a version of a progress record); later
/// sightings keep the first time. For a progress record, also what the server then knew of its
/// author's device clocks (`by`: the author's username): right when every checked one was within
/// [`CLOCK_TOLERANCE_MS`] of the server's, wrong when one was not, unknown when none was checked.
fn received(tx: &Sql, doc_id: &str, entry: &str, by: Option<&str>) -> Result<()> {
    tx.execute(
        "INSERT INTO received(doc_id, entry, at, clock_ok) VALUES (?1, ?2, ?3,
             (SELECT CASE WHEN COUNT(t.clock_at) = 0 THEN NULL
                          WHEN MAX(ABS(t.clock_skew)) <= ?5 THEN 1 ELSE 0 END
              FROM tokens t JOIN users u ON u.id = t.user_id WHERE u.username = ?4))
         ON CONFLICT(doc_id, entry) DO NOTHING",
        params![
            doc_id,
            entry,
            crate::clock::now_ms(),
            by,
            CLOCK_TOLERANCE_MS
        ],
    )
    .map(|_| ())
}

/// A device clock within this of the server's is right (phones set their clock from the network,
/// usually to the second).
pub const CLOCK_TOLERANCE_MS: i64 = 5 * 60_000;

/// A progress record's version as the receipts name it: task, unit and the device's time.
fn progress_entry(r: &shared::schema::ProgressRecord) -> String {
    format!("{}/{}/{}", r.task_id, r.unit, r.at)
}

fn write_note(tx: &Sql, d: &NotesDoc<'_>, n: &Note) -> Result<()> {
    remove_note(tx, d.doc_id, &n.id)?;
    received(tx, d.doc_id, &n.id, None)?;
    // Kept on the row, so the summary adds them up without reading the petitions.
    let pets = shared::report::petition_counts(n);
    let p = n.participants;
    tx.execute(
        "INSERT INTO rm_note_rows(doc_id, note_id, commune, period, activity_date, title, content,
             results, task_ids, hamlet, activity_type, unit, total, women, ethnic, religious, lat,
             lon, accuracy_m, photos, photo_count, pet_open, pet_answered, pet_referred, author,
             created_at, folded)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
             ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27)",
        params![
            d.doc_id,
            n.id,
            d.commune,
            d.period,
            n.activity_date,
            n.title,
            n.content,
            n.results,
            n.task_ids.join(" "),
            n.hamlet,
            n.activity_type.as_ref().map(|t| t.as_str()),
            n.unit,
            p.total,
            p.women,
            p.ethnic_minority,
            p.religious,
            n.gps.map(|g| g.lat),
            n.gps.map(|g| g.lon),
            n.gps.map(|g| g.accuracy_m),
            n.photos.join(" "),
            n.photos.len() as i64,
            pets.open,
            pets.answered,
            pets.referred,
            n.author,
            n.created_at,
            folded(n),
        ],
    )?;
    for t in &n.task_ids {
        tx.execute(
            "INSERT INTO rm_note_tasks(doc_id, note_id, task_id) VALUES (?1, ?2, ?3)
             ON CONFLICT(doc_id, note_id, task_id) DO NOTHING",
            params![d.doc_id, n.id, t],
        )?;
    }
    for (i, pe) in n.petitions.iter().enumerate() {
        tx.execute(
            "INSERT INTO rm_petitions(doc_id, note_id, idx, text, status) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![d.doc_id, n.id, i as i64, pe.text, pe.status.as_str()],
        )?;
    }
    Ok(())
}

impl Db {
    /// When the server first received an entry of a document (see `received`), if it did.
    pub fn received_at(&self, doc_id: &str, entry: &str) -> Result<Option<i64>> {
        self.with(|c| {
            c.query_row(
                "SELECT at FROM received WHERE doc_id = ?1 AND entry = ?2",
                [doc_id, entry],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// The heads a document was last indexed at (hex, space-separated), if it was.
    pub fn indexed_heads(&self, doc_id: &str) -> Result<Option<String>> {
        self.with(|c| {
            c.query_row(
                "SELECT heads FROM rm_doc_heads WHERE doc_id = ?1",
                [doc_id],
                |r| r.get(0),
            )
            .optional()
        })
    }

    /// Apply what a commit did to a notes document, and record the heads it is now indexed at, in
    /// one transaction. Returns the document's live notes count and the photos they reference.
    ///
    /// `from`: the indexed heads `change` was worked out from ([`Db::indexed_heads`]). If they
    /// are not the indexed heads any more — another node, sharing this database, applied a
    /// commit meanwhile — nothing is written and the answer is `None`: the caller works the
    /// change out again. So each commit reaches the read model once, whichever node took it.
    pub fn apply_notes(
        &self,
        d: &NotesDoc<'_>,
        change: &NotesChange,
        from: Option<&str>,
        heads: &str,
    ) -> Result<Option<(i64, Vec<String>)>> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.lock(&format!("read-model/{}", d.doc_id))?;
            let now: Option<String> = tx
                .query_row(
                    "SELECT heads FROM rm_doc_heads WHERE doc_id = ?1",
                    [d.doc_id],
                    |r| r.get(0),
                )
                .optional()?;
            if now.as_deref() != from {
                return Ok(None);
            }
            match change {
                NotesChange::Full(notes) => {
                    for table in ["rm_note_rows", "rm_note_tasks", "rm_petitions"] {
                        tx.execute(
                            &format!("DELETE FROM {table} WHERE doc_id = ?1"),
                            [d.doc_id],
                        )?;
                    }
                    for n in notes {
                        write_note(&tx, d, n)?;
                    }
                }
                NotesChange::Some { live, gone } => {
                    for id in gone {
                        remove_note(&tx, d.doc_id, id)?;
                    }
                    for n in live {
                        write_note(&tx, d, n)?;
                    }
                }
            }
            tx.execute(
                "INSERT INTO rm_doc_heads(doc_id, heads) VALUES (?1, ?2)
                 ON CONFLICT(doc_id) DO UPDATE SET heads = ?2",
                [d.doc_id, heads],
            )?;
            let count: i64 = tx.query_row(
                "SELECT COUNT(*) FROM rm_note_rows WHERE doc_id = ?1",
                [d.doc_id],
                |r| r.get(0),
            )?;
            tx.execute(
                "INSERT INTO rm_notes(commune, period, notes) VALUES (?1, ?2, ?3)
                 ON CONFLICT(commune, period) DO UPDATE SET notes = ?3",
                params![d.commune, d.period, count],
            )?;
            // One index lookup (commune, activity_date): deletes may lower it, so it is recomputed.
            tx.execute(
                "INSERT INTO rm_commune_last(commune, last_note)
                     VALUES (?1, (SELECT MAX(activity_date) FROM rm_note_rows WHERE commune = ?1))
                 ON CONFLICT(commune) DO UPDATE SET last_note = excluded.last_note",
                [d.commune],
            )?;
            let mut photos = Vec::new();
            for r in tx.query_map(
                "SELECT photos FROM rm_note_rows WHERE doc_id = ?1",
                [d.doc_id],
                |r| r.get::<_, String>(0),
            )? {
                photos.extend(r?.split_whitespace().map(str::to_string));
            }
            tx.commit()?;
            Ok(Some((count, photos)))
        })
    }

    /// Every derived row of the notes read model, as sorted lines: what the read model test compares
    /// between incremental updates and a rebuild.
    pub fn read_model_dump(&self) -> Result<Vec<String>> {
        self.with(|c| {
            let mut out = Vec::new();
            for (table, order) in [
                ("rm_note_rows", "doc_id, note_id"),
                ("rm_note_tasks", "doc_id, note_id, task_id"),
                ("rm_petitions", "doc_id, note_id, idx"),
                ("rm_notes", "commune, period"),
                ("rm_commune_last", "commune"),
                ("quarantine", "doc_id, entry"),
            ] {
                let (names, rows) = c.table(&format!("SELECT * FROM {table} ORDER BY {order}"))?;
                // `first_seen` of a quarantined entry is when it was seen, not what it is.
                let skip = names.iter().position(|n| n == "first_seen");
                for r in rows {
                    let mut line = format!("{table}:");
                    for (_, v) in r.iter().enumerate().filter(|(i, _)| Some(*i) != skip) {
                        line.push_str(&format!(" {v:?}"));
                    }
                    out.push(line);
                }
            }
            Ok(out)
        })
    }

    /// Forget every derived row, so `readmodel rebuild` writes them all again from the documents.
    pub fn clear_read_model(&self) -> Result<()> {
        self.with(|c| {
            c.execute_batch(
                "DELETE FROM rm_note_rows; DELETE FROM rm_note_tasks; DELETE FROM rm_petitions;
                 DELETE FROM rm_doc_heads; DELETE FROM rm_notes; DELETE FROM rm_progress;
                 DELETE FROM rm_commune_last;
                 DELETE FROM quarantine;",
            )
        })
    }

    /// Replace the progress rows of one (plan, commune) with the records of its progress document.
    pub fn set_progress(
        &self,
        plan: &str,
        commune: &str,
        records: &[shared::schema::ProgressRecord],
    ) -> Result<()> {
        self.with(|c| {
            let tx = c.transaction()?;
            tx.execute(
                "DELETE FROM rm_progress WHERE plan = ?1 AND commune = ?2",
                [plan, commune],
            )?;
            let doc_id = shared::DocKey::progress(plan, commune).doc_id().to_string();
            for r in records {
                received(&tx, &doc_id, &progress_entry(r), Some(&r.by))?;
                tx.execute(
                    "INSERT INTO rm_progress(plan, commune, task, unit, percent, done_at, by, at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                     ON CONFLICT(plan, commune, task, unit) DO UPDATE SET percent = ?5, done_at = ?6,
                         by = ?7, at = ?8",
                    params![plan, commune, r.task_id, r.unit, r.percent, r.done_at, r.by, r.at],
                )?;
            }
            tx.commit()
        })
    }

    /// The progress records of the communes `covers` accepts whose "done" the server judges at
    /// another time than their device said (see [`shared::status::judged_done`]).
    pub fn judged_done(&self, covers: &dyn Fn(&str) -> bool) -> Result<Vec<JudgedDone>> {
        let rows = self.with(|c| {
            c.prepare(
                "SELECT p.commune, p.task, p.unit, p.at, p.done_at, r.at, r.clock_ok
                 FROM rm_progress p
                 JOIN documents d ON d.kind = 'progress' AND d.scope = p.plan || '/' || p.commune
                 JOIN received r ON r.doc_id = d.doc_id AND r.entry = p.task || '/' || p.unit || '/' || p.at
                 WHERE p.done_at IS NOT NULL AND (r.clock_ok = 0 OR (r.clock_ok = 1 AND r.at < p.done_at))",
            )?
            .query_map((), |r| {
                let receipt = Receipt {
                    at: r.get(5)?,
                    clock_ok: r.get::<_, Option<i64>>(6)?.map(|v| v != 0),
                };
                let done: i64 = r.get(4)?;
                Ok((
                    JudgedDone {
                        commune: r.get(0)?,
                        task: r.get(1)?,
                        unit: r.get(2)?,
                        at: r.get(3)?,
                        done_at: judged_done(Some(done), Some(receipt)).unwrap_or(done),
                    },
                    done,
                ))
            })?
            .collect::<Result<Vec<_>>>()
        })?;
        Ok(rows
            .into_iter()
            .filter(|(j, done)| j.done_at != *done && covers(&j.commune))
            .map(|(j, _)| j)
            .collect())
    }

    /// Progress rows of a plan: (commune, task, unit, percent).
    pub fn progress(&self, plan: &str) -> Result<Vec<(String, String, String, i64)>> {
        self.with(|c| {
            c.prepare("SELECT commune, task, unit, percent FROM rm_progress WHERE plan = ?1 ORDER BY commune, task, unit")?
                .query_map([plan], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect()
        })
    }

    /// Every commune with its number of notes (all periods) and the time of its last stored change.
    pub fn overview(&self) -> Result<Vec<CommuneOverview>> {
        self.with(|c| {
            c.prepare(
                "SELECT n.id, n.name,
                        COALESCE((SELECT SUM(notes) FROM rm_notes WHERE commune = n.id), 0),
                        (SELECT MAX(last_change) FROM documents WHERE commune = n.id AND kind IN ('notes', 'progress'))
                 FROM org_nodes n WHERE n.level = 'commune' AND n.removed = 0 ORDER BY n.name",
            )?
            .query_map((), |r| Ok(CommuneOverview { commune_id: r.get(0)?, name: r.get(1)?, notes: r.get(2)?, last_sync: r.get(3)? }))?
            .collect()
        })
    }
}
