//! The statistics and summaries that answer reads in one query: every
//! scope's rollup rows of a day range, daily snapshots, unit summaries, and
//! the paged inspection listing. (SQLite counts a unit's summary from its
//! tables; the DynamoDB store keeps the same numbers in one item per unit,
//! and the contract suite proves they agree.)

use crate::cases;
use crate::db::{classify, from_json};
use chrono::NaiveDate;
use pakn_core::inspection::Inspection;
use pakn_core::ports::{InspectionPage, InspectionQuery, StoreError, StoreResult, UnitSummary};
use pakn_core::snapshot::Snapshot;
use pakn_core::stats::Rollup;
use pakn_core::unit::UnitCode;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use std::collections::BTreeMap;

/// Every scope's rows of local days `[from, to)`, by day then scope.
pub fn rollups_all(conn: &Connection, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<Rollup>> {
    let mut s = conn
        .prepare_cached(
            "SELECT day, scope, counter, value FROM rollups INDEXED BY rollups_day
             WHERE day >= ?1 AND day < ?2 ORDER BY day, scope, counter",
        )
        .map_err(classify)?;
    let rows = s
        .query_map(params![from.to_string(), to.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .map_err(classify)?;
    let mut by: BTreeMap<(NaiveDate, String), BTreeMap<String, i64>> = BTreeMap::new();
    for row in rows {
        let (day, scope, counter, value) = row.map_err(classify)?;
        let day: NaiveDate = day.parse().map_err(StoreError::other)?;
        by.entry((day, scope)).or_default().insert(counter, value);
    }
    Ok(by
        .into_iter()
        .map(|((day, scope), counters)| Rollup {
            day: Some(day),
            scope,
            counters,
        })
        .collect())
}

pub fn snapshots(conn: &Connection, days: &[NaiveDate]) -> StoreResult<Vec<Snapshot>> {
    let mut s = conn
        .prepare_cached("SELECT json FROM snapshots WHERE day = ?1")
        .map_err(classify)?;
    let mut out = Vec::new();
    for d in days {
        let json: Option<String> = s
            .query_row([d.to_string()], |r| r.get(0))
            .optional()
            .map_err(classify)?;
        if let Some(j) = json {
            out.push(Snapshot::from_json(&j).map_err(StoreError::msg)?);
        }
    }
    out.sort_by_key(|s| s.day);
    out.dedup_by_key(|s| s.day);
    Ok(out)
}

pub fn latest_snapshot(
    conn: &Connection,
    on_or_before: NaiveDate,
    not_before: NaiveDate,
) -> StoreResult<Option<Snapshot>> {
    let json: Option<String> = conn
        .prepare_cached(
            "SELECT json FROM snapshots WHERE day <= ?1 AND day >= ?2 ORDER BY day DESC LIMIT 1",
        )
        .and_then(|mut s| {
            s.query_row(
                params![on_or_before.to_string(), not_before.to_string()],
                |r| r.get(0),
            )
            .optional()
        })
        .map_err(classify)?;
    json.map(|j| Snapshot::from_json(&j).map_err(StoreError::msg))
        .transpose()
}

/// Written once: `false` if the day has a snapshot.
pub fn put_snapshot(conn: &Connection, s: &Snapshot) -> StoreResult<bool> {
    let n = conn
        .prepare_cached("INSERT OR IGNORE INTO snapshots (day, json) VALUES (?1, ?2)")
        .and_then(|mut st| st.execute(params![s.day.to_string(), s.to_json()]))
        .map_err(classify)?;
    Ok(n == 1)
}

/// Every unit with a roster, a headcount, a registered official or an
/// inspection not closed (or only `unit`), by unit code.
pub fn unit_summaries(conn: &Connection, unit: Option<&str>) -> StoreResult<Vec<UnitSummary>> {
    let mut s = conn
        .prepare_cached(
            "WITH units(unit) AS (
                 SELECT unit FROM rosters
                 UNION SELECT unit FROM headcounts
                 UNION SELECT substr(scope, 6) FROM account_counts WHERE scope LIKE 'unit:%'
                 UNION SELECT unit FROM inspections WHERE status <> 'closed'
             )
             SELECT u.unit,
                    COALESCE((SELECT json_array_length(r.json, '$.officials') FROM rosters r WHERE r.unit = u.unit), 0),
                    (SELECT h.staff FROM headcounts h WHERE h.unit = u.unit),
                    COALESCE((SELECT a.n FROM account_counts a WHERE a.scope = 'unit:' || u.unit), 0),
                    (SELECT COUNT(*) FROM inspections i WHERE i.unit = u.unit AND i.status <> 'closed')
             FROM units u WHERE ?1 IS NULL OR u.unit = ?1 ORDER BY u.unit",
        )
        .map_err(classify)?;
    let rows = s
        .query_map([unit], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
            ))
        })
        .map_err(classify)?;
    let mut out = Vec::new();
    for row in rows {
        let (code, roster, staff, registered, open) = row.map_err(classify)?;
        let Ok(unit) = UnitCode::parse(&code) else {
            continue;
        };
        let s = UnitSummary {
            unit,
            roster_size: roster.max(0) as usize,
            headcount: staff
                .map(u32::try_from)
                .transpose()
                .map_err(StoreError::other)?,
            registered_officials: registered,
            open_inspections: open,
        };
        if !s.is_empty() {
            out.push(s);
        }
    }
    Ok(out)
}

/// Oldest first (`opened_at`, id), filtered, one page.
pub fn list_inspections(conn: &Connection, q: &InspectionQuery) -> StoreResult<InspectionPage> {
    let limit = q.limit.clamp(1, 1000);
    let mut conds = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    let arg = |v: Value, args: &mut Vec<Value>| {
        args.push(v);
        format!("?{}", args.len())
    };
    if let Some(s) = &q.status {
        let p = arg(Value::Text(s.clone()), &mut args);
        conds.push(format!("status = {p}"));
    }
    if let Some(u) = &q.unit {
        let p = arg(Value::Text(u.to_string()), &mut args);
        conds.push(format!("unit = {p}"));
    }
    if let Some(r) = &q.reason {
        let p = arg(Value::Text(r.clone()), &mut args);
        conds.push(format!("json_extract(json, '$.reason') = {p}"));
    }
    if let Some(c) = &q.cursor {
        let (t, id) = cases::decode_cursor(c)?;
        let pt = arg(Value::Integer(t), &mut args);
        let pi = arg(Value::Text(id), &mut args);
        conds.push(format!(
            "(opened_at > {pt} OR (opened_at = {pt} AND id > {pi}))"
        ));
    }
    let where_sql = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    let p = arg(Value::Integer(limit as i64 + 1), &mut args);
    let mut s = conn
        .prepare(&format!(
            "SELECT json FROM inspections {where_sql} ORDER BY opened_at, id LIMIT {p}"
        ))
        .map_err(classify)?;
    let rows = s
        .query_map(params_from_iter(args), |r| r.get::<_, String>(0))
        .map_err(classify)?;
    let mut items: Vec<Inspection> = Vec::new();
    for j in rows {
        items.push(from_json(&j.map_err(classify)?)?);
    }
    let next_cursor = if items.len() > limit {
        items.truncate(limit);
        items
            .last()
            .map(|i| cases::keyset_cursor(i.opened_at, &i.id))
    } else {
        None
    };
    Ok(InspectionPage { items, next_cursor })
}
