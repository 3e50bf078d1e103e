//! Ward boundaries: one row per version (the whole map as JSON) and the row
//! naming the current one, written in one transaction.

use crate::db::{classify, from_json, micros, to_json};
use pakn_core::ports::StoreResult;
use pakn_core::wards::{WardMap, WardMapInfo};
use rusqlite::{Connection, OptionalExtension, params};

pub fn put(conn: &Connection, map: &WardMap) -> StoreResult<()> {
    let json = to_json(map)?;
    let info = to_json(&map.info())?;
    conn.prepare_cached(
        "INSERT INTO ward_maps (version, loaded_at, json) VALUES (?1, ?2, ?3)
         ON CONFLICT(version) DO UPDATE SET loaded_at = excluded.loaded_at, json = excluded.json",
    )
    .and_then(|mut s| s.execute(params![map.version, micros(map.loaded_at), json]))
    .map_err(classify)?;
    conn.prepare_cached(
        "INSERT INTO ward_map_current (id, version, info) VALUES (1, ?1, ?2)
         ON CONFLICT(id) DO UPDATE SET version = excluded.version, info = excluded.info",
    )
    .and_then(|mut s| s.execute(params![map.version, info]))
    .map_err(classify)?;
    Ok(())
}

pub fn current(conn: &Connection) -> StoreResult<Option<WardMapInfo>> {
    let info: Option<String> = conn
        .prepare_cached("SELECT info FROM ward_map_current WHERE id = 1")
        .and_then(|mut s| s.query_row([], |r| r.get(0)).optional())
        .map_err(classify)?;
    info.as_deref().map(from_json).transpose()
}

pub fn get(conn: &Connection, version: &str) -> StoreResult<Option<WardMap>> {
    let json: Option<String> = conn
        .prepare_cached("SELECT json FROM ward_maps WHERE version = ?1")
        .and_then(|mut s| s.query_row([version], |r| r.get(0)).optional())
        .map_err(classify)?;
    json.as_deref().map(from_json).transpose()
}
