//! Citizens' notification preferences and notices: one row each, the
//! document as JSON beside the columns the queries and conditions need.

use crate::db::{classify, from_json, micros, to_json};
use pakn_core::ports::{Notice, NoticePrefs, StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, params};

pub fn prefs(conn: &Connection, sub: &str) -> StoreResult<Option<NoticePrefs>> {
    let j: Option<String> = conn
        .prepare_cached("SELECT json FROM notice_prefs WHERE sub = ?1")
        .and_then(|mut s| s.query_row([sub], |r| r.get(0)).optional())
        .map_err(classify)?;
    j.map(|j| from_json(&j)).transpose()
}

pub fn save_prefs(conn: &Connection, p: &NoticePrefs) -> StoreResult<()> {
    let json = to_json(p)?;
    let version = p.version as i64;
    let n = if version == 1 {
        conn.prepare_cached(
            "INSERT INTO notice_prefs (sub, version, json) VALUES (?1, ?2, ?3)
             ON CONFLICT(sub) DO NOTHING",
        )
        .and_then(|mut s| s.execute(params![p.sub, version, json]))
    } else {
        conn.prepare_cached(
            "UPDATE notice_prefs SET version = ?2, json = ?3 WHERE sub = ?1 AND version = ?4",
        )
        .and_then(|mut s| s.execute(params![p.sub, version, json, version - 1]))
    }
    .map_err(classify)?;
    if n == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!(
            "notification preferences moved on from version {}",
            version - 1
        )))
    }
}

pub fn delete_prefs(conn: &Connection, sub: &str) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM notice_prefs WHERE sub = ?1")
        .and_then(|mut s| s.execute([sub]))
        .map_err(classify)?;
    Ok(())
}

fn state(n: &Notice) -> StoreResult<String> {
    Ok(serde_json::to_value(n.state)
        .map_err(StoreError::other)?
        .as_str()
        .unwrap_or_default()
        .to_string())
}

pub fn decide(conn: &Connection, ns: &[Notice]) -> StoreResult<Vec<bool>> {
    let mut out = Vec::with_capacity(ns.len());
    for n in ns {
        let k = conn
            .prepare_cached(
                "INSERT INTO notices (id, sub, created_at, next_at, attempts, state, json)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(id) DO NOTHING",
            )
            .and_then(|mut s| {
                s.execute(params![
                    n.id,
                    n.sub,
                    micros(n.created_at),
                    n.next_at.map(micros),
                    n.attempts,
                    state(n).unwrap_or_default(),
                    to_json(n).unwrap_or_default()
                ])
            })
            .map_err(classify)?;
        out.push(k == 1);
    }
    Ok(out)
}

pub fn settle(conn: &Connection, n: &Notice, expected_attempts: u32) -> StoreResult<bool> {
    let k = conn
        .prepare_cached(
            "UPDATE notices SET next_at = ?2, attempts = ?3, state = ?4, json = ?5
             WHERE id = ?1 AND state = 'pending' AND attempts = ?6",
        )
        .and_then(|mut s| {
            s.execute(params![
                n.id,
                n.next_at.map(micros),
                n.attempts,
                state(n).unwrap_or_default(),
                to_json(n).unwrap_or_default(),
                expected_attempts
            ])
        })
        .map_err(classify)?;
    Ok(k == 1)
}

fn rows(conn: &Connection, sql: &str, p: impl rusqlite::Params) -> StoreResult<Vec<Notice>> {
    let mut s = conn.prepare_cached(sql).map_err(classify)?;
    let rows = s
        .query_map(p, |r| r.get::<_, String>(0))
        .map_err(classify)?;
    let mut out = Vec::new();
    for r in rows {
        out.push(from_json(&r.map_err(classify)?)?);
    }
    Ok(out)
}

pub fn due(conn: &Connection, now: i64, limit: usize) -> StoreResult<Vec<Notice>> {
    rows(
        conn,
        "SELECT json FROM notices WHERE state = 'pending' AND next_at <= ?1
         ORDER BY next_at, id LIMIT ?2",
        params![now, limit as i64],
    )
}

pub fn of_citizen(conn: &Connection, sub: &str, limit: usize) -> StoreResult<Vec<Notice>> {
    rows(
        conn,
        "SELECT json FROM notices WHERE sub = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2",
        params![sub, limit as i64],
    )
}

pub fn forget(conn: &Connection, sub: &str) -> StoreResult<usize> {
    conn.prepare_cached("DELETE FROM notices WHERE sub = ?1")
        .and_then(|mut s| s.execute([sub]))
        .map_err(classify)
}
