//! Followers: one row per (case, citizen), read by case or by citizen.

use crate::db::{classify, from_json, micros, to_json};
use pakn_core::ports::{Follower, StoreResult};
use rusqlite::{Connection, params};

pub fn follow(conn: &Connection, f: &Follower) -> StoreResult<bool> {
    let json = to_json(f)?;
    let n = conn
        .prepare_cached(
            "INSERT INTO followers (case_id, sub, since, json) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(case_id, sub) DO NOTHING",
        )
        .and_then(|mut s| s.execute(params![f.case_id.as_str(), f.sub, micros(f.since), json]))
        .map_err(classify)?;
    Ok(n == 1)
}

pub fn unfollow(conn: &Connection, case_id: &str, sub: &str) -> StoreResult<bool> {
    let n = conn
        .prepare_cached("DELETE FROM followers WHERE case_id = ?1 AND sub = ?2")
        .and_then(|mut s| s.execute(params![case_id, sub]))
        .map_err(classify)?;
    Ok(n == 1)
}

/// Remove every follow of a citizen: how many there were.
pub fn forget_citizen(conn: &Connection, sub: &str) -> StoreResult<usize> {
    conn.prepare_cached("DELETE FROM followers WHERE sub = ?1")
        .and_then(|mut s| s.execute(params![sub]))
        .map_err(classify)
}

fn rows(conn: &Connection, sql: &str, key: &str) -> StoreResult<Vec<Follower>> {
    let mut s = conn.prepare_cached(sql).map_err(classify)?;
    let rows = s
        .query_map([key], |r| r.get::<_, String>(0))
        .map_err(classify)?;
    let mut out = Vec::new();
    for r in rows {
        out.push(from_json(&r.map_err(classify)?)?);
    }
    Ok(out)
}

pub fn of_case(conn: &Connection, case_id: &str) -> StoreResult<Vec<Follower>> {
    rows(
        conn,
        "SELECT json FROM followers WHERE case_id = ?1 ORDER BY since, sub",
        case_id,
    )
}

pub fn of_citizen(conn: &Connection, sub: &str) -> StoreResult<Vec<Follower>> {
    rows(
        conn,
        "SELECT json FROM followers WHERE sub = ?1 ORDER BY since DESC, case_id DESC",
        sub,
    )
}
