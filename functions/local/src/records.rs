//! Everything beside the cases: the decision ledger, the outbox, daily
//! rollups, rosters, headcounts and inspections.

use crate::db::{classify, from_json, is_unique_violation, micros, to_json};
use chrono::NaiveDate;
use pakn_core::auth::Roster;
use pakn_core::inspection::Inspection;
use pakn_core::notify::Notification;
use pakn_core::ports::{Account, AccountScope, StoreError, StoreResult};
use pakn_core::stats::{Rollup, StatDelta};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;

/// A decision, written without `OR IGNORE`: a duplicate is a `Conflict`
/// (and, inside a commit, undoes the whole commit).
pub fn insert_decision(conn: &Connection, case_id: &str, key: &str) -> StoreResult<()> {
    match conn
        .prepare_cached("INSERT INTO ledger (case_id, key) VALUES (?1, ?2)")
        .and_then(|mut s| s.execute(params![case_id, key]))
    {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e, "ledger.") => Err(StoreError::Conflict(format!(
            "decision '{key}' for '{case_id}' was taken before"
        ))),
        Err(e) => Err(classify(e)),
    }
}

/// Put a notification in the outbox once (by `dedup_id`); `true` if it is new.
pub fn insert_outbox(conn: &Connection, n: &Notification) -> StoreResult<bool> {
    let json = to_json(n)?;
    let changed = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO outbox (dedup_id, json, created_at, unit) VALUES (?1, ?2, ?3, ?4)",
        )
        .and_then(|mut s| s.execute(params![n.dedup_id, json, micros(n.created_at), n.unit]))
        .map_err(classify)?;
    Ok(changed == 1)
}

/// A decision with no case change (digests): ledger row + outbox entry, once.
pub fn decide_once(conn: &Connection, n: &Notification) -> StoreResult<bool> {
    let scope = n
        .case_id
        .as_ref()
        .map(|c| c.to_string())
        .unwrap_or_else(|| format!("unit:{}", n.unit));
    let changed = conn
        .prepare_cached("INSERT OR IGNORE INTO ledger (case_id, key) VALUES (?1, ?2)")
        .and_then(|mut s| s.execute(params![scope, format!("notify:{}", n.dedup_id)]))
        .map_err(classify)?;
    if changed == 0 {
        return Ok(false);
    }
    insert_outbox(conn, n)
}

pub fn pending(conn: &Connection, limit: usize) -> StoreResult<Vec<Notification>> {
    let mut s = conn
        .prepare_cached("SELECT json FROM outbox WHERE published_at IS NULL ORDER BY created_at, dedup_id LIMIT ?1")
        .map_err(classify)?;
    let rows = s
        .query_map([limit.min(i64::MAX as usize) as i64], |r| {
            r.get::<_, String>(0)
        })
        .map_err(classify)?;
    let mut out = Vec::new();
    for j in rows {
        out.push(from_json(&j.map_err(classify)?)?);
    }
    Ok(out)
}

pub fn mark_published(conn: &Connection, dedup_id: &str, now: i64) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE outbox SET published_at = ?1 WHERE dedup_id = ?2 AND published_at IS NULL",
    )
    .and_then(|mut s| s.execute(params![now, dedup_id]))
    .map_err(classify)?;
    Ok(())
}

/// Add the deltas to the daily counters (upsert: `value = value + excluded.value`).
pub fn apply_deltas(conn: &Connection, deltas: &[StatDelta]) -> StoreResult<()> {
    if deltas.is_empty() {
        return Ok(());
    }
    let mut s = conn
        .prepare_cached(
            "INSERT INTO rollups (scope, day, counter, value) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (scope, day, counter) DO UPDATE SET value = value + excluded.value",
        )
        .map_err(classify)?;
    for d in deltas {
        s.execute(params![
            d.scope,
            d.day.to_string(),
            d.counter.name(),
            d.amount
        ])
        .map_err(classify)?;
    }
    Ok(())
}

/// One [`Rollup`] per day of `[from, to)` that has counters, in day order.
pub fn rollups(
    conn: &Connection,
    scope: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> StoreResult<Vec<Rollup>> {
    let mut s = conn
        .prepare_cached(
            "SELECT day, counter, value FROM rollups WHERE scope = ?1 AND day >= ?2 AND day < ?3 ORDER BY day, counter",
        )
        .map_err(classify)?;
    let rows = s
        .query_map(params![scope, from.to_string(), to.to_string()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
            ))
        })
        .map_err(classify)?;
    let mut days: BTreeMap<NaiveDate, BTreeMap<String, i64>> = BTreeMap::new();
    for row in rows {
        let (day, counter, value) = row.map_err(classify)?;
        let day: NaiveDate = day.parse().map_err(StoreError::other)?;
        days.entry(day).or_default().insert(counter, value);
    }
    Ok(days
        .into_iter()
        .map(|(day, counters)| Rollup {
            day: Some(day),
            scope: scope.to_string(),
            counters,
        })
        .collect())
}

pub fn get_roster(conn: &Connection, unit: &str) -> StoreResult<Roster> {
    let json: Option<String> = conn
        .prepare_cached("SELECT json FROM rosters WHERE unit = ?1")
        .and_then(|mut s| s.query_row([unit], |r| r.get(0)).optional())
        .map_err(classify)?;
    Ok(json.map(|j| from_json(&j)).transpose()?.unwrap_or_default())
}

pub fn put_roster(conn: &Connection, unit: &str, roster: &Roster) -> StoreResult<()> {
    let json = to_json(roster)?;
    conn.prepare_cached("INSERT INTO rosters (unit, json) VALUES (?1, ?2) ON CONFLICT (unit) DO UPDATE SET json = excluded.json")
        .and_then(|mut s| s.execute(params![unit, json]))
        .map_err(classify)?;
    Ok(())
}

pub fn get_headcount(conn: &Connection, unit: &str) -> StoreResult<Option<u32>> {
    let n: Option<i64> = conn
        .prepare_cached("SELECT staff FROM headcounts WHERE unit = ?1")
        .and_then(|mut s| s.query_row([unit], |r| r.get(0)).optional())
        .map_err(classify)?;
    n.map(|n| u32::try_from(n).map_err(StoreError::other))
        .transpose()
}

pub fn put_headcount(conn: &Connection, unit: &str, staff: u32) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO headcounts (unit, staff) VALUES (?1, ?2) ON CONFLICT (unit) DO UPDATE SET staff = excluded.staff",
    )
    .and_then(|mut s| s.execute(params![unit, staff as i64]))
    .map_err(classify)?;
    Ok(())
}

/// Opened once per id: a second opening is ignored (the commit still succeeds).
pub fn insert_inspection_if_absent(conn: &Connection, i: &Inspection) -> StoreResult<bool> {
    let json = to_json(i)?;
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO inspections (id, version, status, unit, opened_at, json) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )
        .and_then(|mut s| s.execute(params![i.id, i.version as i64, i.status, i.unit.as_str(), micros(i.opened_at), json]))
        .map_err(classify)?;
    Ok(n == 1)
}

/// Insert if absent (`expected_version` 0) or update on that version; else `Conflict`.
pub fn put_inspection(conn: &Connection, i: &Inspection, expected_version: u64) -> StoreResult<()> {
    if expected_version == 0 {
        return if insert_inspection_if_absent(conn, i)? {
            Ok(())
        } else {
            Err(StoreError::Conflict(format!("inspection {} exists", i.id)))
        };
    }
    let json = to_json(i)?;
    let n = conn
        .prepare_cached(
            "UPDATE inspections SET version = ?1, status = ?2, unit = ?3, opened_at = ?4, json = ?5
             WHERE id = ?6 AND version = ?7 AND status <> 'closed'",
        )
        .and_then(|mut s| {
            s.execute(params![
                i.version as i64,
                i.status,
                i.unit.as_str(),
                micros(i.opened_at),
                json,
                i.id,
                expected_version as i64
            ])
        })
        .map_err(classify)?;
    if n == 0 {
        return Err(StoreError::Conflict(format!(
            "inspection {} is not at version {expected_version} (or is closed)",
            i.id
        )));
    }
    Ok(())
}

pub fn get_inspection(conn: &Connection, id: &str) -> StoreResult<Option<Inspection>> {
    let json: Option<String> = conn
        .prepare_cached("SELECT json FROM inspections WHERE id = ?1")
        .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
        .map_err(classify)?;
    json.map(|j| from_json(&j)).transpose()
}

/// Register an account once; on first registration add it to each scope's count.
pub fn register_account(conn: &Connection, a: &Account) -> StoreResult<bool> {
    let json = to_json(a)?;
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO accounts (sub, role, unit, registered_at, json) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut s| {
            s.execute(params![a.sub, a.role.as_str(), a.unit.as_ref().map(|u| u.to_string()), micros(a.registered_at), json])
        })
        .map_err(classify)?;
    if n == 0 {
        return Ok(false);
    }
    for scope in a.scopes() {
        conn.prepare_cached(
            "INSERT INTO account_counts (scope, n) VALUES (?1, 1) ON CONFLICT (scope) DO UPDATE SET n = n + 1",
        )
        .and_then(|mut s| s.execute([scope.key()]))
        .map_err(classify)?;
    }
    Ok(true)
}

pub fn count_accounts(conn: &Connection, scope: &AccountScope) -> StoreResult<i64> {
    let n: Option<i64> = conn
        .prepare_cached("SELECT n FROM account_counts WHERE scope = ?1")
        .and_then(|mut s| s.query_row([scope.key()], |r| r.get(0)).optional())
        .map_err(classify)?;
    Ok(n.unwrap_or(0))
}

pub fn get_marker(conn: &Connection, key: &str) -> StoreResult<bool> {
    let n: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM markers WHERE key = ?1")
        .and_then(|mut s| s.query_row([key], |r| r.get(0)).optional())
        .map_err(classify)?;
    Ok(n.is_some())
}

pub fn put_marker(conn: &Connection, key: &str, at: i64) -> StoreResult<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO markers (key, at) VALUES (?1, ?2)")
        .and_then(|mut s| s.execute(params![key, at]))
        .map_err(classify)?;
    Ok(())
}

/// A unit's outbox in `[from, to)`: a range of the `outbox_unit` index.
pub fn notifications_for_unit(
    conn: &Connection,
    unit: &str,
    from: i64,
    to: i64,
    limit: usize,
) -> StoreResult<Vec<(Notification, Option<chrono::DateTime<chrono::Utc>>)>> {
    let mut s = conn
        .prepare_cached(
            "SELECT json, published_at FROM outbox WHERE unit = ?1 AND created_at >= ?2 AND created_at < ?3 ORDER BY created_at, dedup_id LIMIT ?4",
        )
        .map_err(classify)?;
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    sent_rows(&mut s, params![unit, from, to, limit])
}

/// A case's outbox: its dedup ids all start with `<case id>:`, so this is a
/// range scan of the primary key.
pub fn notifications_for_case(
    conn: &Connection,
    case_id: &str,
) -> StoreResult<Vec<(Notification, Option<chrono::DateTime<chrono::Utc>>)>> {
    let mut s = conn
        .prepare_cached(
            "SELECT json, published_at FROM outbox WHERE dedup_id >= ?1 AND dedup_id < ?2 ORDER BY created_at, dedup_id",
        )
        .map_err(classify)?;
    sent_rows(
        &mut s,
        params![format!("{case_id}:"), format!("{case_id};")],
    )
}

/// Outbox rows of `SELECT json, published_at …`: each notification and when
/// it was published (`None` while pending).
fn sent_rows(
    s: &mut rusqlite::Statement<'_>,
    p: impl rusqlite::Params,
) -> StoreResult<Vec<(Notification, Option<chrono::DateTime<chrono::Utc>>)>> {
    let rows = s
        .query_map(p, |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))
        })
        .map_err(classify)?;
    let mut out = Vec::new();
    for row in rows {
        let (json, published) = row.map_err(classify)?;
        out.push((
            from_json(&json)?,
            published.map(crate::db::from_micros).transpose()?,
        ));
    }
    Ok(out)
}

/// Count one unit against `key` in the window starting at `start` (micros)
/// and ending at `end`, unless `limit` were counted: true when counted.
/// Windows that ended before this one started are removed on the way.
pub fn take_quota(
    conn: &Connection,
    key: &str,
    start: i64,
    end: i64,
    limit: u32,
) -> StoreResult<bool> {
    conn.prepare_cached("DELETE FROM quotas WHERE expires_at <= ?1")
        .and_then(|mut s| s.execute([start]))
        .map_err(classify)?;
    if limit == 0 {
        return Ok(false);
    }
    let changed = conn
        .prepare_cached(
            "INSERT INTO quotas (key, window_start, n, expires_at) VALUES (?1, ?2, 1, ?3)
             ON CONFLICT (key, window_start) DO UPDATE SET n = n + 1 WHERE n < ?4",
        )
        .and_then(|mut s| s.execute(params![key, start, end, limit]))
        .map_err(classify)?;
    Ok(changed == 1)
}
