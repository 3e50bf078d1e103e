//! Cases, their timeline, idempotency records and the commit of a change:
//! the SQL behind [`crate::SqliteStore`]. Every function takes a connection;
//! the write functions run inside a group-commit savepoint (see `writer`),
//! so returning `Err` undoes everything they wrote.

use crate::db::{classify, from_json, from_micros, is_unique_violation, micros, to_json};
use crate::{queue, records};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use pakn_core::case::{Case, Status, TimelineEvent, queue_due_of};
use pakn_core::ids::CaseId;
use pakn_core::ports::{
    CasePage, CaseQuery, CaseSort, Commit, Created, IdemRecord, NewCase, QueueEntry, StoreError,
    StoreResult, UNIT_QUEUE_OPEN, due_page,
};
use pakn_core::unit::UnitCode;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

/// The statuses that count as open (`Status::is_open`), as SQL.
fn open_statuses_sql() -> String {
    statuses_sql(Status::is_open)
}

/// The statuses whose resolve clock runs (`Status::clock_runs`): only these can be overdue.
fn clock_running_statuses_sql() -> String {
    statuses_sql(Status::clock_runs)
}

fn statuses_sql(keep: fn(Status) -> bool) -> String {
    let list: Vec<String> = Status::ALL
        .iter()
        .filter(|s| keep(**s))
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    list.join(",")
}

pub const DEFAULT_PAGE: usize = 50;
pub const MAX_PAGE: usize = 1000;

pub fn create(
    conn: &Connection,
    new: &NewCase,
    now: DateTime<Utc>,
    queue_now: i64,
) -> StoreResult<Created> {
    if let Some(idem) = &new.idempotency {
        if let Some(rec) = idempotency(conn, &idem.key)? {
            if rec.expires_at > now {
                return Ok(Created::Replayed(rec));
            }
            conn.execute("DELETE FROM idempotency WHERE key = ?1", [&idem.key])
                .map_err(classify)?;
        }
    }
    insert_case(conn, &new.case)?;
    insert_event(conn, &new.case.id, &new.event)?;
    records::apply_deltas(conn, &new.deltas)?;
    if let Some(idem) = &new.idempotency {
        conn.prepare_cached(
            "INSERT INTO idempotency (key, body_hash, case_id, tracking_code, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .and_then(|mut s| {
            s.execute(params![idem.key, idem.body_hash, idem.case_id.as_str(), idem.tracking_code, micros(idem.expires_at)])
        })
        .map_err(classify)?;
    }
    queue::enqueue(conn, std::slice::from_ref(&new.case.id), queue_now)?;
    Ok(Created::New)
}

pub fn idempotency(conn: &Connection, key: &str) -> StoreResult<Option<IdemRecord>> {
    let row = conn
        .prepare_cached(
            "SELECT body_hash, case_id, tracking_code, expires_at FROM idempotency WHERE key = ?1",
        )
        .and_then(|mut s| {
            s.query_row([key], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })
            .optional()
        })
        .map_err(classify)?;
    let Some((body_hash, case_id, tracking_code, expires_at)) = row else {
        return Ok(None);
    };
    let case_id = CaseId::parse(&case_id)
        .ok_or_else(|| StoreError::msg(format!("stored case id '{case_id}' is not a ULID")))?;
    Ok(Some(IdemRecord {
        key: key.to_string(),
        body_hash,
        case_id,
        tracking_code,
        expires_at: from_micros(expires_at)?,
    }))
}

pub(crate) fn insert_case(conn: &Connection, c: &Case) -> StoreResult<()> {
    let json = to_json(c)?;
    let res = conn
        .prepare_cached(
            "INSERT INTO cases (id, tracking_code, status, unit, submitted_by, submitted_role, category,
                                received_at, resolve_due, next_action_at, version, json, erase_after)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        )
        .and_then(|mut s| {
            s.execute(params![
                c.id.as_str(),
                c.tracking_code,
                c.status.as_str(),
                c.unit.as_ref().map(|u| u.as_str()),
                c.submitted_by,
                c.submitted_role.as_str(),
                c.category,
                micros(c.received_at),
                c.resolve_due.map(micros),
                c.next_action_at.map(micros),
                c.version as i64,
                json,
                c.erase_after.map(micros),
            ])
        });
    match res {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e, "cases.tracking_code") => {
            Err(StoreError::TrackingCodeTaken)
        }
        Err(e) if is_unique_violation(&e, "cases.id") => {
            Err(StoreError::Conflict(format!("case {} exists", c.id)))
        }
        Err(e) => Err(classify(e)),
    }
}

/// Events are keyed by (case, version): writing the same event twice is a no-op.
pub(crate) fn insert_event(conn: &Connection, id: &CaseId, e: &TimelineEvent) -> StoreResult<()> {
    let json = to_json(e)?;
    conn.prepare_cached(
        "INSERT OR IGNORE INTO events (case_id, version, json) VALUES (?1, ?2, ?3)",
    )
    .and_then(|mut s| s.execute(params![id.as_str(), e.version as i64, json]))
    .map_err(classify)?;
    Ok(())
}

/// Commit a change: the conditional update, then everything written with it.
pub fn commit(conn: &Connection, c: &Commit, queue_now: i64) -> StoreResult<()> {
    let case = &c.outcome.case;
    let json = to_json(case)?;
    let n = conn
        .prepare_cached(
            "UPDATE cases SET status = ?1, unit = ?2, resolve_due = ?3, next_action_at = ?4, version = ?5, json = ?6,
                              erase_after = ?9
             WHERE id = ?7 AND version = ?8",
        )
        .and_then(|mut s| {
            s.execute(params![
                case.status.as_str(),
                case.unit.as_ref().map(|u| u.as_str()),
                case.resolve_due.map(micros),
                case.next_action_at.map(micros),
                case.version as i64,
                json,
                case.id.as_str(),
                c.expected_version as i64,
                case.erase_after.map(micros),
            ])
        })
        .map_err(classify)?;
    if n == 0 {
        return Err(StoreError::Conflict(format!(
            "case {} is not at version {}",
            case.id, c.expected_version
        )));
    }
    insert_event(conn, &case.id, &c.outcome.event)?;
    for key in &c.outcome.decisions {
        records::insert_decision(conn, case.id.as_str(), key)?;
    }
    for n in &c.outcome.notifications {
        records::insert_outbox(conn, n)?;
    }
    records::apply_deltas(conn, &c.outcome.deltas)?;
    if let Some(i) = &c.inspection {
        records::insert_inspection_if_absent(conn, i)?;
    }
    if c.enqueue {
        queue::enqueue(conn, std::slice::from_ref(&case.id), queue_now)?;
    }
    Ok(())
}

pub fn get(conn: &Connection, id: &str) -> StoreResult<Option<Case>> {
    let json: Option<String> = conn
        .prepare_cached("SELECT json FROM cases WHERE id = ?1")
        .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
        .map_err(classify)?;
    json.map(|j| from_json(&j)).transpose()
}

pub fn id_by_tracking_code(conn: &Connection, code: &str) -> StoreResult<Option<CaseId>> {
    let id: Option<String> = conn
        .prepare_cached("SELECT id FROM cases WHERE tracking_code = ?1")
        .and_then(|mut s| s.query_row([code], |r| r.get(0)).optional())
        .map_err(classify)?;
    Ok(id.and_then(|i| CaseId::parse(&i)))
}

pub fn timeline(conn: &Connection, id: &str) -> StoreResult<Vec<TimelineEvent>> {
    let mut s = conn
        .prepare_cached("SELECT json FROM events WHERE case_id = ?1 ORDER BY version")
        .map_err(classify)?;
    let rows = s
        .query_map([id], |r| r.get::<_, String>(0))
        .map_err(classify)?;
    let mut out = Vec::new();
    for j in rows {
        out.push(from_json(&j.map_err(classify)?)?);
    }
    Ok(out)
}

/// A keyset cursor: the (time, id) of the last row of a page, opaque to
/// clients (cases by `received_at`, inspections by `opened_at`).
pub(crate) fn keyset_cursor(at: DateTime<Utc>, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{id}", micros(at)))
}

/// The (time in micros, id) of a [`keyset_cursor`]; `InvalidCursor` otherwise.
pub(crate) fn decode_cursor(s: &str) -> StoreResult<(i64, String)> {
    let bad = || StoreError::InvalidCursor;
    let raw = URL_SAFE_NO_PAD.decode(s.trim()).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let (t, id) = raw.split_once('|').ok_or_else(bad)?;
    Ok((t.parse().map_err(|_| bad())?, id.to_string()))
}

/// A unit's open queue by what is due next ([`due_page`]): the entries
/// from the unit/status index's columns (and `ack_due` from the row), then
/// only the page's cases are parsed.
fn list_by_due(conn: &Connection, unit: &UnitCode, q: &CaseQuery) -> StoreResult<CasePage> {
    let statuses = UNIT_QUEUE_OPEN
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(",");
    let mut s = conn
        .prepare_cached(&format!(
            "SELECT id, status, category, received_at, resolve_due, json_extract(json, '$.ack_due')
             FROM cases WHERE unit = ?1 AND status IN ({statuses})"
        ))
        .map_err(classify)?;
    let rows = s
        .query_map(params![unit.as_str()], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, Option<i64>>(4)?,
                r.get::<_, Option<String>>(5)?,
            ))
        })
        .map_err(classify)?;
    let bad = |what: &str, v: &str| StoreError::msg(format!("case {what} {v:?}"));
    let mut entries = Vec::new();
    for row in rows {
        let (id, status, category, received, resolve_due, ack_due) = row.map_err(classify)?;
        let status = Status::parse(&status).ok_or_else(|| bad("status", &status))?;
        let ack_due = ack_due
            .map(|a| {
                DateTime::parse_from_rfc3339(&a)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|_| bad("ack_due", &a))
            })
            .transpose()?;
        let resolve_due = resolve_due.map(from_micros).transpose()?;
        entries.push(QueueEntry {
            id: CaseId::parse(&id).ok_or_else(|| bad("id", &id))?,
            status,
            category,
            received_at: from_micros(received)?,
            resolve_due,
            due: queue_due_of(status, ack_due, resolve_due),
        });
    }
    let (ids, next_cursor) = due_page(entries, q)?;
    let mut cases = Vec::with_capacity(ids.len());
    let mut get = conn
        .prepare_cached("SELECT json FROM cases WHERE id = ?1")
        .map_err(classify)?;
    for id in &ids {
        let j: String = get
            .query_row(params![id.as_str()], |r| r.get(0))
            .map_err(classify)?;
        cases.push(from_json(&j)?);
    }
    Ok(CasePage { cases, next_cursor })
}

/// Newest first (received_at DESC, id DESC), filtered, one page.
pub fn list(conn: &Connection, q: &CaseQuery) -> StoreResult<CasePage> {
    if let (CaseSort::Due, Some(unit)) = (q.sort, &q.unit) {
        return list_by_due(conn, unit, q);
    }
    let limit = if q.limit == 0 {
        DEFAULT_PAGE
    } else {
        q.limit.min(MAX_PAGE)
    };
    let mut conds: Vec<String> = Vec::new();
    let mut args: Vec<Value> = Vec::new();
    // Binds a value and answers its placeholder (`?N`).
    fn bind(args: &mut Vec<Value>, v: Value) -> String {
        args.push(v);
        format!("?{}", args.len())
    }
    if let Some(u) = &q.unit {
        conds.push(format!(
            "unit = {}",
            bind(&mut args, Value::Text(u.to_string()))
        ));
    }
    if let Some(s) = &q.submitted_by {
        conds.push(format!(
            "submitted_by = {}",
            bind(&mut args, Value::Text(s.clone()))
        ));
    }
    if let Some(s) = q.status {
        conds.push(format!(
            "status = {}",
            bind(&mut args, Value::Text(s.as_str().into()))
        ));
    }
    if let Some(c) = &q.category {
        conds.push(format!(
            "category = {}",
            bind(&mut args, Value::Text(c.clone()))
        ));
    }
    if let Some(at) = q.overdue_at {
        // Case::is_overdue: the clock runs and now > resolve_due.
        let p = bind(&mut args, Value::Integer(micros(at)));
        conds.push(format!(
            "status IN ({}) AND resolve_due IS NOT NULL AND resolve_due < {p}",
            clock_running_statuses_sql()
        ));
    }
    if let Some(t) = q.received_from {
        conds.push(format!(
            "received_at >= {}",
            bind(&mut args, Value::Integer(micros(t)))
        ));
    }
    if let Some(t) = q.received_to {
        conds.push(format!(
            "received_at < {}",
            bind(&mut args, Value::Integer(micros(t)))
        ));
    }
    if let Some(c) = &q.cursor {
        let (t, id) = decode_cursor(c)?;
        let pt = bind(&mut args, Value::Integer(t));
        let pid = bind(&mut args, Value::Text(id));
        conds.push(format!(
            "(received_at < {pt} OR (received_at = {pt} AND id < {pid}))"
        ));
    }
    let where_sql = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    let sql = format!(
        "SELECT json FROM cases {where_sql} ORDER BY received_at DESC, id DESC LIMIT {}",
        limit + 1
    );
    let mut s = conn.prepare(&sql).map_err(classify)?;
    let rows = s
        .query_map(params_from_iter(args), |r| r.get::<_, String>(0))
        .map_err(classify)?;
    let mut cases: Vec<Case> = Vec::new();
    for j in rows {
        cases.push(from_json(&j.map_err(classify)?)?);
    }
    let next_cursor = if cases.len() > limit {
        cases.truncate(limit);
        cases
            .last()
            .map(|c| keyset_cursor(c.received_at, c.id.as_str()))
    } else {
        None
    };
    Ok(CasePage { cases, next_cursor })
}

/// The sweep's read: only cases due now, through the sparse index.
pub fn due(conn: &Connection, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Case>> {
    let mut s = conn
        .prepare_cached(
            "SELECT json FROM cases INDEXED BY cases_next_action
             WHERE next_action_at IS NOT NULL AND next_action_at <= ?1
             ORDER BY next_action_at, id LIMIT ?2",
        )
        .map_err(classify)?;
    let rows = s
        .query_map(
            params![micros(now), limit.min(i64::MAX as usize) as i64],
            |r| r.get::<_, String>(0),
        )
        .map_err(classify)?;
    let mut out = Vec::new();
    for j in rows {
        out.push(from_json(&j.map_err(classify)?)?);
    }
    Ok(out)
}

/// (open, overdue) now, city-wide or at one unit.
pub fn count_open(
    conn: &Connection,
    unit: Option<&UnitCode>,
    now: DateTime<Utc>,
) -> StoreResult<(i64, i64)> {
    let base = format!(
        "SELECT COUNT(*), COALESCE(SUM(status IN ({}) AND resolve_due IS NOT NULL AND resolve_due < ?1), 0)
         FROM cases WHERE status IN ({})",
        clock_running_statuses_sql(),
        open_statuses_sql()
    );
    let r = match unit {
        Some(u) => conn.query_row(
            &format!("{base} AND unit = ?2"),
            params![micros(now), u.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        ),
        None => conn.query_row(&base, params![micros(now)], |r| Ok((r.get(0)?, r.get(1)?))),
    };
    r.map_err(classify)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_bad_ones_are_refused() {
        let t = DateTime::parse_from_rfc3339("2025-07-28T09:15:30Z")
            .unwrap()
            .with_timezone(&Utc);
        let raw = URL_SAFE_NO_PAD.encode(format!("{}|{}", micros(t), "01ABC"));
        assert_eq!(
            decode_cursor(&raw).unwrap(),
            (micros(t), "01ABC".to_string())
        );
        assert_eq!(
            decode_cursor(&keyset_cursor(t, "01ABC")).unwrap(),
            (micros(t), "01ABC".to_string())
        );
        assert!(decode_cursor("!!!").is_err());
        assert!(decode_cursor(&URL_SAFE_NO_PAD.encode("nopipe")).is_err());
    }

    #[test]
    fn open_statuses_match_the_domain() {
        assert_eq!(
            open_statuses_sql(),
            "'received','triage','assigned','in_progress','awaiting_info'"
        );
    }
}
