//! Deadline status of a task for a commune, as Vietnamese government reporting uses it, computed on
//! the device (offline) from the plan, the progress and the clock — in Asia/Ho_Chi_Minh.
//!
//! A deadline is a calendar day: work finished at any time on that day, local time, is on time.

use crate::ids::{Quarter, parse_iso_date, vn_civil_date};

/// Milliseconds in a day, and the UTC offset of Asia/Ho_Chi_Minh (no daylight saving).
const DAY_MS: i64 = 86_400_000;
const VN_OFFSET_MS: i64 = 7 * 3_600_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum DeadlineStatus {
    /// hoàn thành đúng hạn
    DoneOnTime,
    /// hoàn thành quá hạn
    DoneLate,
    /// đang thực hiện trong hạn
    InProgress,
    /// quá hạn (not done, deadline passed)
    Overdue,
    /// chưa bắt đầu
    NotStarted,
}

impl DeadlineStatus {
    /// The label in English (the app's second language).
    pub fn label_en(self) -> &'static str {
        match self {
            DeadlineStatus::DoneOnTime => "Done on time",
            DeadlineStatus::DoneLate => "Done late",
            DeadlineStatus::InProgress => "In progress, on time",
            DeadlineStatus::Overdue => "Overdue",
            DeadlineStatus::NotStarted => "Not started",
        }
    }

    /// The label shown to users (Vietnamese first).
    pub fn label_vi(self) -> &'static str {
        match self {
            DeadlineStatus::DoneOnTime => "Hoàn thành đúng hạn",
            DeadlineStatus::DoneLate => "Hoàn thành quá hạn",
            DeadlineStatus::InProgress => "Đang thực hiện trong hạn",
            DeadlineStatus::Overdue => "Quá hạn",
            DeadlineStatus::NotStarted => "Chưa bắt đầu",
        }
    }
}

/// What is known of a task's progress in one commune (for one unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Progress {
    /// 0–100.
    pub percent: u8,
    /// When it was marked done (Unix ms), if it was.
    pub done_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assessment {
    pub status: DeadlineStatus,
    /// sắp đến hạn: not done, and the deadline is within the warning window.
    pub due_soon: bool,
}

/// When the server first stored a progress record, by its own clock, and what it knew of the clock
/// of the device that wrote it: `Some(true)` checked and right, `Some(false)` found wrong, `None`
/// never checked (written by the server itself, or before clocks were checked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Receipt {
    pub at: i64,
    pub clock_ok: Option<bool>,
}

/// The time a "done" is judged by against its deadline. A device's clock can be wrong, or set back
/// to make late work look on time; the server's receipt cannot. With a checked clock, the earlier
/// of the device's time and the receipt (work recorded offline is received later); with a clock
/// found wrong, the receipt; never checked, the device's time.
pub fn judged_done(done_at: Option<i64>, receipt: Option<Receipt>) -> Option<i64> {
    let done = done_at?;
    Some(match receipt {
        Some(Receipt {
            at,
            clock_ok: Some(true),
        }) => done.min(at),
        Some(Receipt {
            at,
            clock_ok: Some(false),
        }) => at,
        _ => done,
    })
}

/// Unix ms of the end (exclusive) of the calendar day `YYYY-MM-DD` in Asia/Ho_Chi_Minh.
pub fn end_of_day_vn(iso: &str) -> Option<i64> {
    let (y, m, d) = parse_iso_date(iso)?;
    Some((days_from_civil(y, m, d) + 1) * DAY_MS - VN_OFFSET_MS)
}

/// Howard Hinnant's civil-to-days (days since 1970-01-01, proleptic Gregorian).
fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(if m <= 2 { y - 1 } else { y });
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The status of a task with `deadline` (ISO day, or none) given its progress, at `now` (Unix ms).
/// `warn_days`: how many days before the deadline "sắp đến hạn" starts.
pub fn assess(deadline: Option<&str>, progress: Progress, now: i64, warn_days: i64) -> Assessment {
    let end = deadline.and_then(end_of_day_vn);
    let status = match (progress.done_at, end) {
        (Some(done), Some(end)) if done < end => DeadlineStatus::DoneOnTime,
        (Some(_), Some(_)) => DeadlineStatus::DoneLate,
        (Some(_), None) => DeadlineStatus::DoneOnTime,
        (None, Some(end)) if now >= end => DeadlineStatus::Overdue,
        (None, _) if progress.percent == 0 => DeadlineStatus::NotStarted,
        (None, _) => DeadlineStatus::InProgress,
    };
    let due_soon = progress.done_at.is_none()
        && end.is_some_and(|end| now < end && end - now <= warn_days * DAY_MS);
    Assessment { status, due_soon }
}

/// The time to judge deadlines by. A phone's clock can be wrong; the server's time at the last
/// sync is a floor (time does not run backwards), and a device clock more than five minutes behind
/// it is reported as suspect so the UI can say so.
pub fn trusted_now(device_now: i64, server_time_at_last_sync: Option<i64>) -> (i64, bool) {
    match server_time_at_last_sync {
        Some(server) if device_now + 5 * 60_000 < server => (server, true),
        Some(server) => (device_now.max(server), false),
        None => (device_now, false),
    }
}

/// The reporting periods a quarterly duty expects, from the plan's start day to `now`, inclusive,
/// in Asia/Ho_Chi_Minh: one expected report per quarter per commune.
pub fn expected_quarters(start_iso: &str, now: i64) -> Vec<Quarter> {
    let Some((y, m, _)) = parse_iso_date(start_iso) else {
        return Vec::new();
    };
    let first = Quarter::of_month(y, m);
    let (ny, nm, _) = vn_civil_date(now);
    let last = Quarter::of_month(ny, nm);
    let mut out = Vec::new();
    let mut q = last;
    while q >= first {
        out.push(q);
        q = q.prev();
    }
    out.reverse();
    out
}

/// A commune's progress on a task, merged from its units' records: the furthest any unit got, and
/// done when a lead unit (or, if no lead unit has reported, any unit) marked it done.
pub fn merge_progress<'a>(
    records: impl IntoIterator<Item = &'a crate::schema::ProgressRecord>,
    lead_units: &[String],
) -> Progress {
    let records: Vec<&crate::schema::ProgressRecord> = records.into_iter().collect();
    let led: Vec<&&crate::schema::ProgressRecord> = records
        .iter()
        .filter(|r| lead_units.contains(&r.unit))
        .collect();
    let deciding: Vec<&crate::schema::ProgressRecord> = if led.is_empty() {
        records.clone()
    } else {
        led.into_iter().copied().collect()
    };
    Progress {
        percent: records
            .iter()
            .map(|r| r.percent.clamp(0, 100) as u8)
            .max()
            .unwrap_or(0),
        done_at: deciding
            .iter()
            .filter(|r| r.percent >= 100)
            .filter_map(|r| r.done_at)
            .min(),
    }
}

/// Whether a recurring duty was reported in `period`: some unit recorded progress on it during
/// that quarter (Asia/Ho_Chi_Minh).
pub fn reported_in<'a>(
    records: impl IntoIterator<Item = &'a crate::schema::ProgressRecord>,
    period: Quarter,
) -> bool {
    records.into_iter().any(|r| {
        let (y, m, _) = vn_civil_date(r.at);
        Quarter::of_month(y, m) == period
    })
}

/// The short label of a status for narrow cells (the full label is in `title`).
impl DeadlineStatus {
    pub fn short_vi(self) -> &'static str {
        match self {
            DeadlineStatus::DoneOnTime => "Xong đúng hạn",
            DeadlineStatus::DoneLate => "Xong quá hạn",
            DeadlineStatus::InProgress => "Đang làm",
            DeadlineStatus::Overdue => "Quá hạn",
            DeadlineStatus::NotStarted => "Chưa bắt đầu",
        }
    }

    pub fn short_en(self) -> &'static str {
        match self {
            DeadlineStatus::DoneOnTime => "Done on time",
            DeadlineStatus::DoneLate => "Done late",
            DeadlineStatus::InProgress => "In progress",
            DeadlineStatus::Overdue => "Overdue",
            DeadlineStatus::NotStarted => "Not started",
        }
    }

    /// The CSS class of a status (colour is never the only cue: the words are always shown).
    pub fn css(self, due_soon: bool) -> &'static str {
        match self {
            DeadlineStatus::DoneOnTime | DeadlineStatus::DoneLate => "status done",
            DeadlineStatus::Overdue => "status overdue",
            DeadlineStatus::InProgress | DeadlineStatus::NotStarted if due_soon => "status soon",
            DeadlineStatus::InProgress => "status progress",
            DeadlineStatus::NotStarted => "status todo",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use DeadlineStatus::*;

    /// Unix ms of `YYYY-MM-DD HH:MM` in Asia/Ho_Chi_Minh.
    fn vn(iso: &str, h: i64, min: i64) -> i64 {
        end_of_day_vn(iso).unwrap() - DAY_MS + h * 3_600_000 + min * 60_000
    }

    #[test]
    fn edges_table() {
        let dl = Some("2026-03-31");
        let not_started = Progress::default();
        let half = Progress {
            percent: 50,
            done_at: None,
        };
        let done = |t| Progress {
            percent: 100,
            done_at: Some(t),
        };
        let cases = [
            // (deadline, progress, now, expected status, due soon)
            (dl, not_started, vn("2026-03-01", 9, 0), NotStarted, false),
            (dl, half, vn("2026-03-25", 9, 0), InProgress, true),
            (dl, half, vn("2026-03-31", 23, 59), InProgress, true), // the deadline day itself
            (dl, half, vn("2026-04-01", 0, 0), Overdue, false),     // +07:00 midnight
            (dl, not_started, vn("2026-04-01", 0, 0), Overdue, false),
            (
                dl,
                done(vn("2026-03-31", 23, 59)),
                vn("2026-05-01", 0, 0),
                DoneOnTime,
                false,
            ), // on the day
            (
                dl,
                done(vn("2026-04-01", 0, 0)),
                vn("2026-05-01", 0, 0),
                DoneLate,
                false,
            ),
            (None, half, vn("2030-01-01", 0, 0), InProgress, false),
            (None, done(0), 0, DoneOnTime, false),
        ];
        for (i, (deadline, progress, now, status, soon)) in cases.into_iter().enumerate() {
            let a = assess(deadline, progress, now, 7);
            assert_eq!((a.status, a.due_soon), (status, soon), "case {i}");
        }
        // 2026-03-31 17:00 UTC is already 1 April in Viet Nam.
        assert_eq!(assess(dl, half, 1_774_976_400_000, 7).status, Overdue);
        assert_eq!(assess(dl, half, 1_774_976_399_999, 7).status, InProgress);
    }

    #[test]
    fn quarterly_duty_across_a_year_boundary() {
        let qs: Vec<String> = expected_quarters("2025-11-15", vn("2026-02-01", 8, 0))
            .iter()
            .map(|q| q.to_string())
            .collect();
        assert_eq!(qs, ["2025-Q4", "2026-Q1"]);
        // 31/12 at 23:30 UTC is already 1 January (Q1) in Viet Nam.
        let new_year = end_of_day_vn("2026-12-31").unwrap() + 30 * 60_000;
        assert_eq!(
            expected_quarters("2026-10-01", new_year)
                .last()
                .unwrap()
                .to_string(),
            "2027-Q1"
        );
    }

    #[test]
    fn a_done_is_judged_by_the_receipt_when_the_clock_was_wrong() {
        let (done, got) = (Some(1_000), 5_000);
        let r = |clock_ok| Some(Receipt { at: got, clock_ok });
        // Recorded offline, received later: the device's time stands with a checked clock.
        assert_eq!(judged_done(done, r(Some(true))), Some(1_000));
        // A clock ahead of the server cannot push "done" past when the server had it.
        assert_eq!(judged_done(Some(9_000), r(Some(true))), Some(5_000));
        // A clock found wrong: only the server's receipt counts.
        assert_eq!(judged_done(done, r(Some(false))), Some(5_000));
        // Never checked, or never received: the device's time.
        assert_eq!(judged_done(done, r(None)), Some(1_000));
        assert_eq!(judged_done(done, None), Some(1_000));
        assert_eq!(judged_done(None, r(Some(false))), None);
    }

    #[test]
    fn a_clock_set_back_does_not_rescue_a_deadline() {
        let server = vn("2026-04-02", 9, 0);
        let (now, suspect) = trusted_now(vn("2026-03-30", 9, 0), Some(server));
        assert!(suspect);
        assert_eq!(
            assess(
                Some("2026-03-31"),
                Progress {
                    percent: 10,
                    done_at: None
                },
                now,
                7
            )
            .status,
            Overdue
        );
        assert_eq!(
            trusted_now(server + 1000, Some(server)),
            (server + 1000, false)
        );
    }

    /// Property: for any deadline, progress and time — a done task is judged only by when it was
    /// done; an open task is overdue exactly from the end of the deadline day on, and never due soon
    /// once overdue; and days round-trip through the civil calendar.
    #[test]
    fn properties_over_many_random_cases() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for _ in 0..20_000 {
            let day = (next() % 40_000) as i64 - 10_000; // 1942..2079
            let (y, m, d) = vn_civil_date(day * DAY_MS);
            let iso = format!("{y:04}-{m:02}-{d:02}");
            let end = end_of_day_vn(&iso).unwrap();
            assert_eq!(vn_civil_date(end - 1), (y, m, d));
            assert_ne!(vn_civil_date(end), (y, m, d));
            let now = end + (next() % (60 * DAY_MS as u64)) as i64 - 30 * DAY_MS;
            let percent = (next() % 101) as u8;
            let open = assess(
                Some(&iso),
                Progress {
                    percent,
                    done_at: None,
                },
                now,
                7,
            );
            assert_eq!(open.status == Overdue, now >= end);
            assert!(!(open.due_soon && open.status == Overdue));
            let done_at = end + (next() % (4 * DAY_MS as u64)) as i64 - 2 * DAY_MS;
            let done = assess(
                Some(&iso),
                Progress {
                    percent: 100,
                    done_at: Some(done_at),
                },
                now,
                7,
            );
            assert_eq!(
                done.status,
                if done_at < end { DoneOnTime } else { DoneLate }
            );
            assert!(!done.due_soon);
        }
    }

    #[test]
    fn merged_progress_follows_the_lead_unit() {
        use crate::schema::ProgressRecord;
        let r = |unit: &str, percent, done_at| ProgressRecord {
            task_id: "t".into(),
            unit: unit.into(),
            percent,
            done_at,
            at: vn("2026-05-10", 9, 0),
            ..ProgressRecord::default()
        };
        let lead = vec!["mttq".to_string()];
        let partner_done = [r("mttq", 60, None), r("hoi-phu-nu", 100, Some(5))];
        let p = merge_progress(&partner_done, &lead);
        assert_eq!(
            (p.percent, p.done_at),
            (100, None),
            "a partner finishing is not the task done"
        );
        let lead_done = [r("mttq", 100, Some(7)), r("hoi-phu-nu", 40, None)];
        assert_eq!(merge_progress(&lead_done, &lead).done_at, Some(7));
        let no_lead = [r("hoi-phu-nu", 100, Some(9))];
        assert_eq!(merge_progress(&no_lead, &lead).done_at, Some(9));
        assert_eq!(merge_progress(&[], &lead), Progress::default());
        assert!(reported_in(&lead_done, Quarter { year: 2026, q: 2 }));
        assert!(!reported_in(&lead_done, Quarter { year: 2026, q: 3 }));
    }
}
