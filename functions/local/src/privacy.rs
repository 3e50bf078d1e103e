//! Personal data on SQLite (the SQL behind [`pakn_core::ports::PrivacyStore`]):
//! access records in `case_access`, the retention index
//! (`cases_erase_after`, partial: closed cases not yet erased), the erasure
//! of a case in one transaction, and account records.

use crate::cases::insert_event;
use crate::db::{classify, from_json, micros, to_json};
use chrono::{DateTime, Utc};
use pakn_core::case::Case;
use pakn_core::ports::{AccessRecord, Account, Erasure, StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, params};

pub fn record_accesses(conn: &Connection, records: &[AccessRecord]) -> StoreResult<()> {
    let mut s = conn
        .prepare_cached(
            "INSERT INTO case_access (case_id, id, json) VALUES (?1, ?2, ?3)
             ON CONFLICT (case_id, id) DO UPDATE SET json = excluded.json",
        )
        .map_err(classify)?;
    for r in records {
        s.execute(params![r.case_id.as_str(), r.id, to_json(r)?])
            .map_err(classify)?;
    }
    Ok(())
}

/// A case's access records by id (time order): a range of the primary key.
pub fn accesses(conn: &Connection, case_id: &str) -> StoreResult<Vec<AccessRecord>> {
    let mut s = conn
        .prepare_cached("SELECT json FROM case_access WHERE case_id = ?1 ORDER BY id")
        .map_err(classify)?;
    let rows = s
        .query_map([case_id], |r| r.get::<_, String>(0))
        .map_err(classify)?;
    let mut out = Vec::new();
    for j in rows {
        out.push(from_json(&j.map_err(classify)?)?);
    }
    Ok(out)
}

/// Cases due for erasure, through the partial index only.
pub fn due(conn: &Connection, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Case>> {
    let mut s = conn
        .prepare_cached(
            "SELECT json FROM cases INDEXED BY cases_erase_after
             WHERE erase_after IS NOT NULL AND erase_after <= ?1
             ORDER BY erase_after, id LIMIT ?2",
        )
        .map_err(classify)?;
    let rows = s
        .query_map(
            params![micros(now), i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| r.get::<_, String>(0),
        )
        .map_err(classify)?;
    let mut out = Vec::new();
    for j in rows {
        out.push(from_json(&j.map_err(classify)?)?);
    }
    Ok(out)
}

/// The erasure in one transaction: the case on its version (out of the
/// retention index, `submitted_by` blanked), its entry, the rewritten
/// entries and access records, and the idempotency records naming it.
pub fn erase(conn: &Connection, e: &Erasure) -> StoreResult<()> {
    let c = &e.case;
    let json = to_json(c)?;
    let n = conn
        .prepare_cached(
            "UPDATE cases SET status = ?1, unit = ?2, resolve_due = ?3, next_action_at = ?4,
                              erase_after = ?5, submitted_by = ?6, version = ?7, json = ?8
             WHERE id = ?9 AND version = ?10",
        )
        .and_then(|mut s| {
            s.execute(params![
                c.status.as_str(),
                c.unit.as_ref().map(|u| u.as_str()),
                c.resolve_due.map(micros),
                c.next_action_at.map(micros),
                c.erase_after.map(micros),
                c.submitted_by,
                c.version as i64,
                json,
                c.id.as_str(),
                e.expected_version as i64,
            ])
        })
        .map_err(classify)?;
    if n == 0 {
        return Err(StoreError::Conflict(format!(
            "case {} is not at version {}",
            c.id, e.expected_version
        )));
    }
    let mut s = conn
        .prepare_cached("UPDATE events SET json = ?1 WHERE case_id = ?2 AND version = ?3")
        .map_err(classify)?;
    for ev in &e.rewritten {
        s.execute(params![to_json(ev)?, c.id.as_str(), ev.version as i64])
            .map_err(classify)?;
    }
    insert_event(conn, &c.id, &e.event)?;
    let mut s = conn
        .prepare_cached("UPDATE case_access SET json = ?1 WHERE case_id = ?2 AND id = ?3")
        .map_err(classify)?;
    for a in &e.accesses {
        s.execute(params![to_json(a)?, c.id.as_str(), a.id])
            .map_err(classify)?;
    }
    conn.prepare_cached("DELETE FROM idempotency WHERE case_id = ?1")
        .and_then(|mut s| s.execute([c.id.as_str()]))
        .map_err(classify)?;
    Ok(())
}

pub fn account(conn: &Connection, sub: &str) -> StoreResult<Option<Account>> {
    let json: Option<String> = conn
        .prepare_cached("SELECT json FROM accounts WHERE sub = ?1")
        .and_then(|mut s| s.query_row([sub], |r| r.get(0)).optional())
        .map_err(classify)?;
    json.map(|j| from_json(&j)).transpose()
}
