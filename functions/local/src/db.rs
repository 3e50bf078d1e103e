//! The SQLite file: connection settings, the schema and its migrations,
//! error classification and the time encoding shared by every table.
//!
//! Instants are stored as integer microseconds since the Unix epoch: they
//! compare and sort as numbers, so the range queries (`next_action_at <= ?`,
//! the keyset cursor) use the indexes directly.

use chrono::{DateTime, Utc};
use pakn_core::ports::StoreError;
use rusqlite::{Connection, ErrorCode, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// How long a connection waits for another process's lock before giving up
/// with `SQLITE_BUSY` (mapped to [`StoreError::Unavailable`]).
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Schema migrations, applied in order; `schema_version` records how many ran.
/// Never edit a released step: append a new one.
const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    r#"
    CREATE TABLE cases (
        id              TEXT PRIMARY KEY,
        tracking_code   TEXT NOT NULL UNIQUE,
        status          TEXT NOT NULL,
        unit            TEXT,
        submitted_by    TEXT NOT NULL,
        submitted_role  TEXT NOT NULL,
        category        TEXT NOT NULL,
        received_at     INTEGER NOT NULL,
        resolve_due     INTEGER,
        next_action_at  INTEGER,
        version         INTEGER NOT NULL,
        json            TEXT NOT NULL
    );
    -- A unit's queue by status and deadline (and the per-unit open/overdue count).
    CREATE INDEX cases_unit_status_due ON cases(unit, status, resolve_due);
    -- City-wide open/overdue count without a scan of closed cases.
    CREATE INDEX cases_status_due ON cases(status, resolve_due);
    -- "My reports".
    CREATE INDEX cases_submitter ON cases(submitted_by, received_at);
    -- The sweep's sparse index: only cases the sweep must look at again.
    CREATE INDEX cases_next_action ON cases(next_action_at) WHERE next_action_at IS NOT NULL;
    -- Listing everything newest first.
    CREATE INDEX cases_received ON cases(received_at);

    CREATE TABLE events (
        case_id  TEXT NOT NULL REFERENCES cases(id),
        version  INTEGER NOT NULL,
        json     TEXT NOT NULL,
        PRIMARY KEY (case_id, version)
    ) WITHOUT ROWID;

    CREATE TABLE idempotency (
        key            TEXT PRIMARY KEY,
        body_hash      TEXT NOT NULL,
        case_id        TEXT NOT NULL,
        tracking_code  TEXT NOT NULL,
        expires_at     INTEGER NOT NULL
    );

    -- Decisions: a duplicate key fails the insert and with it the whole commit.
    CREATE TABLE ledger (
        case_id  TEXT NOT NULL,
        key      TEXT NOT NULL,
        PRIMARY KEY (case_id, key)
    ) WITHOUT ROWID;

    CREATE TABLE outbox (
        dedup_id      TEXT PRIMARY KEY,
        json          TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        published_at  INTEGER
    );
    CREATE INDEX outbox_pending ON outbox(created_at, dedup_id) WHERE published_at IS NULL;

    -- Keyed by scope first (not day first): every read is one scope over a day range.
    CREATE TABLE rollups (
        scope    TEXT NOT NULL,
        day      TEXT NOT NULL,
        counter  TEXT NOT NULL,
        value    INTEGER NOT NULL,
        PRIMARY KEY (scope, day, counter)
    ) WITHOUT ROWID;

    CREATE TABLE rosters (unit TEXT PRIMARY KEY, json TEXT NOT NULL);
    CREATE TABLE headcounts (unit TEXT PRIMARY KEY, staff INTEGER NOT NULL);

    CREATE TABLE inspections (
        id         TEXT PRIMARY KEY,
        version    INTEGER NOT NULL,
        status     TEXT NOT NULL,
        unit       TEXT NOT NULL,
        opened_at  INTEGER NOT NULL,
        json       TEXT NOT NULL
    );
    CREATE INDEX inspections_status_unit ON inspections(status, unit);

    -- The intake queue (SQS semantics) and its dead letters.
    CREATE TABLE queue (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        case_id        TEXT NOT NULL,
        sent_at        INTEGER NOT NULL,
        visible_at     INTEGER NOT NULL,
        receive_count  INTEGER NOT NULL DEFAULT 0,
        receipt        TEXT
    );
    CREATE INDEX queue_visible ON queue(visible_at, id);
    CREATE TABLE dead_letters (
        id             INTEGER PRIMARY KEY,
        case_id        TEXT NOT NULL,
        sent_at        INTEGER NOT NULL,
        receive_count  INTEGER NOT NULL,
        dead_at        INTEGER NOT NULL
    );

    -- The local notifier: what it published, and webhook subscribers.
    CREATE TABLE published (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        dedup_id      TEXT NOT NULL,
        event         TEXT NOT NULL,
        unit          TEXT NOT NULL,
        json          TEXT NOT NULL,
        published_at  INTEGER NOT NULL
    );
    CREATE TABLE subscriptions (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        url            TEXT NOT NULL,
        filter_policy  TEXT NOT NULL,
        created_at     INTEGER NOT NULL
    );
    "#,
    // 2: the registration drive's accounts, and markers (daily checks done).
    r#"
    CREATE TABLE accounts (
        sub            TEXT PRIMARY KEY,
        role           TEXT NOT NULL,
        unit           TEXT,
        registered_at  INTEGER NOT NULL,
        json           TEXT NOT NULL
    );
    CREATE TABLE account_counts (scope TEXT PRIMARY KEY, n INTEGER NOT NULL);
    CREATE TABLE markers (key TEXT PRIMARY KEY, at INTEGER NOT NULL);
    "#,
    // 3: request quotas, one row per key and window (kept until it ends).
    r#"
    CREATE TABLE quotas (
        key            TEXT NOT NULL,
        window_start   INTEGER NOT NULL,
        n              INTEGER NOT NULL,
        expires_at     INTEGER NOT NULL,
        PRIMARY KEY (key, window_start)
    );
    CREATE INDEX quotas_expiry ON quotas (expires_at);
    "#,
    // 4: signed, retried webhook deliveries (one row per subscriber and
    // publication, every attempt recorded) and each subscriber's health.
    r#"
    ALTER TABLE subscriptions ADD COLUMN secret TEXT NOT NULL DEFAULT '';
    ALTER TABLE subscriptions ADD COLUMN last_success_at INTEGER;
    ALTER TABLE subscriptions ADD COLUMN last_failure_at INTEGER;
    ALTER TABLE subscriptions ADD COLUMN last_error TEXT;
    -- A unit's notifications (GET /v1/units/{code}/notifications): the
    -- outbox keyed by unit and decision time.
    ALTER TABLE outbox ADD COLUMN unit TEXT NOT NULL DEFAULT '';
    UPDATE outbox SET unit = COALESCE(json_extract(json, '$.unit'), '');
    CREATE INDEX outbox_unit ON outbox(unit, created_at, dedup_id);
    CREATE TABLE deliveries (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        subscription_id  INTEGER NOT NULL,
        seq              INTEGER NOT NULL,
        status           TEXT NOT NULL,
        attempts         INTEGER NOT NULL DEFAULT 0,
        first_at         INTEGER NOT NULL,
        next_attempt_at  INTEGER NOT NULL
    );
    CREATE INDEX deliveries_due ON deliveries(subscription_id, next_attempt_at) WHERE status = 'pending';
    CREATE TABLE delivery_attempts (
        delivery_id  INTEGER NOT NULL,
        attempt      INTEGER NOT NULL,
        at           INTEGER NOT NULL,
        http_status  INTEGER,
        error        TEXT,
        PRIMARY KEY (delivery_id, attempt)
    ) WITHOUT ROWID;
    "#,
    // 5: personal data (Decree 13): the sparse retention index of closed
    // cases ("erase after"), a case's idempotency records found by case
    // (erasure removes them), and the audit records of exports.
    r#"
    ALTER TABLE cases ADD COLUMN erase_after INTEGER;
    CREATE INDEX cases_erase_after ON cases(erase_after, id) WHERE erase_after IS NOT NULL;
    CREATE INDEX idempotency_case ON idempotency(case_id);
    CREATE TABLE case_access (
        case_id  TEXT NOT NULL,
        id       TEXT NOT NULL,
        json     TEXT NOT NULL,
        PRIMARY KEY (case_id, id)
    ) WITHOUT ROWID;
    "#,
    // 6: client applications' API keys (Open311), the SHA-256 of each key
    // in its JSON, never the key.
    r#"
    CREATE TABLE api_keys (
        id          TEXT PRIMARY KEY,
        created_at  INTEGER NOT NULL,
        json        TEXT NOT NULL
    );
    "#,
    // 7: daily snapshots (pakn-core `snapshot`), every scope's rows of a day
    // range, and the city's own rollup row keeping only what it counts
    // before a case has a unit (its receipt): its other counters are its
    // units' (pakn-core `stats::city`), which counted them all along.
    r#"
    CREATE TABLE snapshots (day TEXT PRIMARY KEY, json TEXT NOT NULL);
    CREATE INDEX rollups_day ON rollups(day, scope);
    DELETE FROM rollups
     WHERE scope = 'ALL' AND counter NOT IN ('received', 'received_field', 'received_procedure');
    "#,
    // 8: ward boundaries (pakn-core `wards`), one row per loaded version,
    // and the one row naming the current version (written in the same
    // transaction, so a half-loaded version is never current).
    r#"
    CREATE TABLE ward_maps (
        version    TEXT PRIMARY KEY,
        loaded_at  INTEGER NOT NULL,
        json       TEXT NOT NULL
    );
    CREATE TABLE ward_map_current (
        id       INTEGER PRIMARY KEY CHECK (id = 1),
        version  TEXT NOT NULL REFERENCES ward_maps(version),
        info     TEXT NOT NULL
    );
    "#,
    // 9: the nearby search: open cases by category and place (a partial
    // index over the case's own JSON, so no column to keep in step).
    r#"
    CREATE INDEX cases_near ON cases(
        category,
        json_extract(json, '$.location.lat'),
        json_extract(json, '$.location.lng'))
     WHERE status IN ('received', 'triage', 'assigned', 'in_progress', 'awaiting_info');
    "#,
    // 10: citizens following cases: rows of their own, by case and by citizen.
    r#"
    CREATE TABLE followers (
        case_id  TEXT NOT NULL,
        sub      TEXT NOT NULL,
        since    INTEGER NOT NULL,
        json     TEXT NOT NULL,
        PRIMARY KEY (case_id, sub)
    ) WITHOUT ROWID;
    CREATE INDEX followers_by_sub ON followers(sub, since);
    "#,
    // 11: uploads (photos, videos): the record; the bytes live under PAKN_MEDIA_DIR.
    r#"
    CREATE TABLE uploads (id TEXT PRIMARY KEY, json TEXT NOT NULL);
    "#,
    // 12: a citizen's uploads for `GET /v1/me/data` and their erasure (an
    // index over the record's own JSON, so no column to keep in step).
    r#"
    CREATE INDEX uploads_by_owner ON uploads(json_extract(json, '$.owner'), id);
    "#,
    // 13: telling citizens: preferences (phone, devices) and the notices decided for them.
    r#"
    CREATE TABLE notice_prefs (sub TEXT PRIMARY KEY, version INTEGER NOT NULL, json TEXT NOT NULL);
    CREATE TABLE notices (
        id         TEXT PRIMARY KEY,
        sub        TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        next_at    INTEGER,
        attempts   INTEGER NOT NULL,
        state      TEXT NOT NULL,
        json       TEXT NOT NULL
    );
    CREATE INDEX notices_due ON notices(next_at) WHERE state = 'pending';
    CREATE INDEX notices_by_sub ON notices(sub, created_at);
    "#,
];

/// Open a connection with pakn's settings: WAL, `synchronous=FULL` (a commit
/// is on disk before it returns, so a `2xx` survives a power cut), a busy
/// timeout and foreign keys.
pub fn connect(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(classify)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(classify)?;
    // journal_mode answers with a row, so it is queried rather than executed.
    let mode: String = conn
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .map_err(classify)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::msg(format!(
            "{}: could not switch to WAL (journal_mode={mode})",
            path.display()
        )));
    }
    conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
        .map_err(classify)?;
    if read_only {
        conn.execute_batch("PRAGMA query_only=ON;")
            .map_err(classify)?;
    }
    Ok(conn)
}

/// Bring the schema up to date (idempotent; run by the writer connection at open).
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(classify)?;
    tx.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        .map_err(classify)?;
    let current: Option<i64> = tx
        .query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))
        .map_err(classify)?;
    let current = current.unwrap_or(0).max(0) as usize;
    if current > MIGRATIONS.len() {
        return Err(StoreError::msg(format!(
            "the database has schema version {current}, newer than this pakn ({}); upgrade pakn",
            MIGRATIONS.len()
        )));
    }
    for (i, step) in MIGRATIONS.iter().enumerate().skip(current) {
        tx.execute_batch(step).map_err(classify)?;
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [(i + 1) as i64],
        )
        .map_err(classify)?;
    }
    tx.commit().map_err(classify)
}

/// Busy/locked means "try again"; everything else is a failure (source kept).
pub fn classify(e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            StoreError::Unavailable(Box::new(e))
        }
        _ => StoreError::Other(Box::new(e)),
    }
}

/// Is this a UNIQUE/PRIMARY KEY violation naming `what` (e.g. `cases.tracking_code`)?
pub fn is_unique_violation(e: &rusqlite::Error, what: &str) -> bool {
    match e {
        rusqlite::Error::SqliteFailure(f, Some(msg)) => {
            f.code == ErrorCode::ConstraintViolation && msg.contains(what)
        }
        _ => false,
    }
}

pub fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

pub fn from_micros(us: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::<Utc>::from_timestamp_micros(us)
        .ok_or_else(|| StoreError::msg(format!("instant out of range: {us}")))
}

pub fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(StoreError::other)
}

pub fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(StoreError::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_idempotent_and_settings_hold() {
        let dir = crate::testutil::TempDir::new("local");
        let path = dir.path().join("m.db");
        let mut c = connect(&path, false).unwrap();
        migrate(&mut c).unwrap();
        migrate(&mut c).unwrap();
        let v: i64 = c
            .query_row("SELECT MAX(version) FROM schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        let sync: i64 = c.query_row("PRAGMA synchronous", [], |r| r.get(0)).unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
        let fk: i64 = c
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        let mode: String = c
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn instants_round_trip() {
        let t = DateTime::parse_from_rfc3339("2025-07-28T09:15:30.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(from_micros(micros(t)).unwrap(), t);
    }
}
