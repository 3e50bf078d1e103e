//! Client applications' API keys: one row per key, its record as JSON
//! (the key's SHA-256, never the key).

use crate::db::{classify, from_json, is_unique_violation, micros, to_json};
use chrono::{DateTime, Utc};
use pakn_core::ports::{ApiKey, StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, params};

pub fn create(conn: &Connection, key: &ApiKey) -> StoreResult<()> {
    let json = to_json(key)?;
    conn.prepare_cached("INSERT INTO api_keys (id, created_at, json) VALUES (?1, ?2, ?3)")
        .and_then(|mut s| s.execute(params![key.id, micros(key.created_at), json]))
        .map_err(|e| {
            if is_unique_violation(&e, "api_keys.id") {
                StoreError::Conflict(format!("API key id {} is taken", key.id))
            } else {
                classify(e)
            }
        })?;
    Ok(())
}

pub fn get(conn: &Connection, id: &str) -> StoreResult<Option<ApiKey>> {
    let json: Option<String> = conn
        .prepare_cached("SELECT json FROM api_keys WHERE id = ?1")
        .and_then(|mut s| s.query_row([id], |r| r.get(0)).optional())
        .map_err(classify)?;
    json.as_deref().map(from_json).transpose()
}

pub fn list(conn: &Connection) -> StoreResult<Vec<ApiKey>> {
    let mut s = conn
        .prepare_cached("SELECT json FROM api_keys ORDER BY created_at, id")
        .map_err(classify)?;
    let rows = s
        .query_map([], |r| r.get::<_, String>(0))
        .map_err(classify)?;
    let mut out = Vec::new();
    for r in rows {
        out.push(from_json(&r.map_err(classify)?)?);
    }
    Ok(out)
}

pub fn revoke(conn: &Connection, id: &str, at: DateTime<Utc>) -> StoreResult<Option<ApiKey>> {
    let Some(mut key) = get(conn, id)? else {
        return Ok(None);
    };
    if key.revoked_at.is_none() {
        key.revoked_at = Some(at);
        let json = to_json(&key)?;
        conn.prepare_cached("UPDATE api_keys SET json = ?2 WHERE id = ?1")
            .and_then(|mut s| s.execute(params![id, json]))
            .map_err(classify)?;
    }
    Ok(Some(key))
}
