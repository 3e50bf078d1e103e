//! Every unit's record for a period (NYC 311's agency report cards, with
//! pakn's additions: roster and registration coverage, inspections), the
//! ranking, and the CSV export Home Affairs uses for year-end evaluation.

use crate::stats::{self, Counter, Rollup};
use crate::unit::Unit;
use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Scorecard {
    pub unit: String,
    pub name_vi: String,
    pub name_en: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Cases first routed to the unit, by the day they were received.
    pub received: i64,
    pub resolved: i64,
    pub resolved_on_time: i64,
    pub resolved_late: i64,
    pub on_time_rate: Option<f64>,
    pub late_rate: Option<f64>,
    pub rejected: i64,
    /// Open and overdue at the end of the period: now for a period that has
    /// not ended, else from the snapshot of its last day (`None` without one).
    pub open: Option<i64>,
    pub overdue_open: Option<i64>,
    /// Working hours from receipt to first resolution (histogram bucket bounds).
    pub median_hours: Option<f64>,
    pub p90_hours: Option<f64>,
    pub transfers_out: i64,
    pub passed_around: i64,
    pub extensions: i64,
    /// Urgency lowered by the unit itself (`regrade`).
    pub downgrades: i64,
    pub reopens: i64,
    pub satisfaction_avg: Option<f64>,
    pub satisfaction_count: i64,
    pub roster_size: usize,
    /// No roster of officials handling reports (the city demands one).
    pub roster_missing: bool,
    pub headcount: Option<u32>,
    pub registered_officials: i64,
    pub registration_rate: Option<f64>,
    pub open_inspections: usize,
    /// Rank by on-time rate; `None` when the unit resolved too few cases to rank.
    pub rank: Option<u32>,
}

/// What the store knows about a unit beyond its rollups.
#[derive(Debug, Clone, Default)]
pub struct UnitFacts {
    pub open: Option<(i64, i64)>,
    pub roster_size: usize,
    pub headcount: Option<u32>,
    pub registered_officials: i64,
    pub open_inspections: usize,
}

pub fn build(unit: &Unit, from: NaiveDate, to: NaiveDate, r: &Rollup, f: &UnitFacts) -> Scorecard {
    let s = stats::figures(from, to, Some(unit.code.to_string()), r, f.open);
    let ratings = r.get(Counter::RatingCount);
    Scorecard {
        unit: unit.code.to_string(),
        name_vi: unit.name_vi.clone(),
        name_en: unit.name_en.clone(),
        from,
        to,
        received: s.total,
        resolved: s.resolved,
        resolved_on_time: s.resolved_on_time,
        resolved_late: s.resolved_late,
        on_time_rate: s.on_time_rate,
        late_rate: s.late_rate,
        rejected: s.rejected,
        open: s.open,
        overdue_open: s.overdue_open,
        median_hours: stats::percentile(r, 0.5),
        p90_hours: stats::percentile(r, 0.9),
        transfers_out: r.get(Counter::TransfersOut),
        passed_around: r.get(Counter::PassedAround),
        extensions: r.get(Counter::Extensions),
        downgrades: r.get(Counter::Downgrades),
        reopens: r.get(Counter::Reopens),
        satisfaction_avg: (ratings > 0).then(|| r.get(Counter::RatingSum) as f64 / ratings as f64),
        satisfaction_count: ratings,
        roster_size: f.roster_size,
        roster_missing: f.roster_size == 0,
        headcount: f.headcount,
        registered_officials: f.registered_officials,
        registration_rate: f
            .headcount
            .filter(|h| *h > 0)
            .map(|h| f.registered_officials as f64 / h as f64),
        open_inspections: f.open_inspections,
        rank: None,
    }
}

/// A row of a league table of units: what ranking reads and writes.
pub trait Ranked {
    fn unit(&self) -> &str;
    fn resolved(&self) -> i64;
    fn on_time_rate(&self) -> Option<f64>;
    fn set_rank(&mut self, rank: Option<u32>);
}

impl Ranked for Scorecard {
    fn unit(&self) -> &str {
        &self.unit
    }
    fn resolved(&self) -> i64 {
        self.resolved
    }
    fn on_time_rate(&self) -> Option<f64> {
        self.on_time_rate
    }
    fn set_rank(&mut self, rank: Option<u32>) {
        self.rank = rank;
    }
}

/// Rank units that resolved at least `min_resolved` cases by on-time rate
/// (then by more resolved, then by code); the others stay listed, unranked,
/// so one lucky case cannot top the table. Sorted: ranked first.
pub fn rank<T: Ranked>(rows: &mut [T], min_resolved: u32) {
    let ranked = |r: &T| r.resolved() >= min_resolved as i64;
    rows.sort_by(|a, b| {
        ranked(b)
            .cmp(&ranked(a))
            .then_with(|| {
                b.on_time_rate()
                    .unwrap_or(-1.0)
                    .partial_cmp(&a.on_time_rate().unwrap_or(-1.0))
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
            .then_with(|| b.resolved().cmp(&a.resolved()))
            .then_with(|| a.unit().cmp(b.unit()))
    });
    let mut n = 0;
    for r in rows.iter_mut() {
        if ranked(r) {
            n += 1;
            r.set_rank(Some(n));
        } else {
            r.set_rank(None);
        }
    }
}

const CSV_COLUMNS: [&str; 28] = [
    "rank",
    "unit",
    "name_vi",
    "name_en",
    "from",
    "to",
    "received",
    "resolved",
    "resolved_on_time",
    "resolved_late",
    "on_time_rate",
    "late_rate",
    "rejected",
    "open",
    "overdue_open",
    "median_hours",
    "p90_hours",
    "transfers_out",
    "passed_around",
    "extensions",
    "reopens",
    "satisfaction_avg",
    "satisfaction_count",
    "roster_size",
    "headcount",
    "registration_rate",
    "open_inspections",
    "downgrades",
];

/// A text cell: a leading `=`, `+`, `-`, `@`, tab or carriage return is
/// prefixed with `'` so a spreadsheet never runs it as a formula (numbers
/// are written by the other helpers and left alone); then quoted as needed.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_default()
}

fn rate(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.4}")).unwrap_or_default()
}

/// UTF-8 with a BOM (so Excel opens Vietnamese correctly), CRLF line ends.
pub fn to_csv(cards: &[Scorecard]) -> String {
    let mut out = String::from("\u{feff}");
    out.push_str(&CSV_COLUMNS.join(","));
    out.push_str("\r\n");
    for c in cards {
        let row = [
            opt(c.rank),
            field(&c.unit),
            field(&c.name_vi),
            field(&c.name_en),
            c.from.to_string(),
            c.to.to_string(),
            c.received.to_string(),
            c.resolved.to_string(),
            c.resolved_on_time.to_string(),
            c.resolved_late.to_string(),
            rate(c.on_time_rate),
            rate(c.late_rate),
            c.rejected.to_string(),
            opt(c.open),
            opt(c.overdue_open),
            opt(c.median_hours),
            opt(c.p90_hours),
            c.transfers_out.to_string(),
            c.passed_around.to_string(),
            c.extensions.to_string(),
            c.reopens.to_string(),
            c.satisfaction_avg
                .map(|x| format!("{x:.2}"))
                .unwrap_or_default(),
            c.satisfaction_count.to_string(),
            c.roster_size.to_string(),
            opt(c.headcount),
            rate(c.registration_rate),
            c.open_inspections.to_string(),
            c.downgrades.to_string(),
        ];
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_cells_never_start_a_formula() {
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("+84"), "'+84");
        assert_eq!(field("-1"), "'-1");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("\tx"), "'\tx");
        assert_eq!(field("Phường Hoàn Kiếm"), "Phường Hoàn Kiếm");
        assert_eq!(field("a,b"), "\"a,b\"");
    }

    use super::*;
    use crate::unit::UnitCode;

    fn unit(code: &str, name: &str) -> Unit {
        Unit {
            code: UnitCode::parse(code).unwrap(),
            name_vi: name.into(),
            name_en: "X".into(),
            unit_type: "ward".into(),
            parent: None,
        }
    }

    fn card(code: &str, resolved: i64, on_time: i64) -> Scorecard {
        let mut r = Rollup::default();
        r.counters.insert(Counter::Resolved.name(), resolved);
        r.counters.insert(Counter::ResolvedOnTime.name(), on_time);
        r.counters
            .insert(Counter::ResolvedLate.name(), resolved - on_time);
        let d = NaiveDate::from_ymd_opt(2025, 7, 1).unwrap();
        build(
            &unit(code, "Phường \"Hoàn\" Kiếm, HN"),
            d,
            d,
            &r,
            &UnitFacts::default(),
        )
    }

    #[test]
    fn a_lucky_single_case_is_listed_but_not_ranked() {
        let mut cards = vec![
            card("ward:00001", 1, 1),
            card("ward:00002", 20, 18),
            card("ward:00003", 10, 10),
        ];
        rank(&mut cards, 10);
        let order: Vec<_> = cards.iter().map(|c| (c.unit.as_str(), c.rank)).collect();
        assert_eq!(
            order,
            vec![
                ("ward:00003", Some(1)),
                ("ward:00002", Some(2)),
                ("ward:00001", None)
            ]
        );
    }

    #[test]
    fn csv_has_bom_header_and_quotes() {
        let csv = to_csv(&[card("ward:00002", 20, 18)]);
        assert!(csv.starts_with("\u{feff}rank,unit,name_vi"));
        assert!(csv.contains("\"Phường \"\"Hoàn\"\" Kiếm, HN\""), "{csv}");
        assert!(csv.contains(",0.9000,0.1000,"), "{csv}");
        assert_eq!(csv.matches("\r\n").count(), 2);
    }
}
