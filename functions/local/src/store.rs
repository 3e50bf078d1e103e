//! [`SqliteStore`]: the [`CaseStore`] port on SQLite. Writes go through the
//! group-commit writer, reads through the read pool (see `writer`); the SQL
//! lives in `cases` and `records`.

use crate::db::{classify, from_json, micros, to_json};
use crate::writer::Db;
use crate::{aggregates, apikeys, cases, followers, notices, privacy, records, wards};
use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use pakn_core::auth::Roster;
use pakn_core::case::{Case, TimelineEvent};
use pakn_core::ids::CaseId;
use pakn_core::inspection::Inspection;
use pakn_core::media::Upload;
use pakn_core::notify::Notification;
use pakn_core::ports::{
    AccessRecord, Account, AccountScope, ApiKey, ApiKeyStore, CasePage, CaseQuery, CaseStore,
    Clock, Commit, Created, Erasure, IdemRecord, InspectionPage, InspectionQuery, InspectionStore,
    Ledger, NewCase, PeopleStore, PrivacyStore, QuotaStore, Sent, StatsStore, StoreError,
    StoreResult, Take, Taken, UnitSummary, UploadStore, WardMapStore,
};
use pakn_core::snapshot::Snapshot;
use pakn_core::stats::Rollup;
use pakn_core::unit::UnitCode;
use pakn_core::wards::{WardMap, WardMapInfo};
use std::path::Path;
use std::sync::Arc;

pub struct SqliteStore {
    db: Arc<Db>,
    /// Time for the queue messages written with cases, and `published_at`.
    clock: Arc<dyn Clock>,
}

impl SqliteStore {
    pub(crate) fn new(db: Arc<Db>, clock: Arc<dyn Clock>) -> Self {
        SqliteStore { db, clock }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        self.db.path()
    }

    /// (write transactions, write jobs) since open: group commit at work.
    pub fn group_commit_counts(&self) -> (u64, u64) {
        self.db.group_commit_counts()
    }

    /// Store reads since open (each a query or a few on one read connection).
    pub fn read_count(&self) -> u64 {
        self.db.read_count()
    }

    /// For benchmarks only: insert `cases` as they are, in one write — no
    /// timeline entry, queue message, counter or index beyond the cases
    /// table's own. `pakn bench` fills a database with a million open cases
    /// this way in seconds.
    pub async fn seed_cases(&self, cases: Vec<Case>) -> StoreResult<()> {
        self.db
            .write(move |c| {
                for case in &cases {
                    cases::insert_case(c, case)?;
                }
                Ok(())
            })
            .await
    }

    /// A consistent copy of the whole database at `dest` (`VACUUM INTO`; the
    /// file must not exist). Runs on a read connection: writers go on.
    /// The copy is created 0600 first (`VACUUM INTO` accepts an empty file).
    pub async fn backup(&self, dest: &Path) -> StoreResult<()> {
        if dest.exists() {
            return Err(pakn_core::ports::StoreError::msg(format!(
                "{} exists",
                dest.display()
            )));
        }
        crate::private_file(dest)?;
        let dest = dest.to_string_lossy().into_owned();
        self.db
            .read(move |c| {
                c.execute_batch("PRAGMA query_only=OFF").map_err(classify)?;
                let r = c.execute("VACUUM INTO ?1", [&dest]).map_err(classify);
                c.execute_batch("PRAGMA query_only=ON").map_err(classify)?;
                r.map(|_| ())
            })
            .await
    }

    /// How the retention step's query is executed (the partial index only).
    pub async fn due_erasures_plan(&self) -> StoreResult<String> {
        self.query_plan(
            "EXPLAIN QUERY PLAN SELECT json FROM cases INDEXED BY cases_erase_after
             WHERE erase_after IS NOT NULL AND erase_after <= 0 ORDER BY erase_after, id LIMIT 10",
        )
        .await
    }

    /// How the sweep's query is executed (to prove it reads the sparse index only).
    pub async fn due_cases_plan(&self) -> StoreResult<String> {
        self.query_plan(
            "EXPLAIN QUERY PLAN SELECT json FROM cases INDEXED BY cases_next_action
             WHERE next_action_at IS NOT NULL AND next_action_at <= 0 ORDER BY next_action_at, id LIMIT 10",
        )
        .await
    }

    /// The details of an `EXPLAIN QUERY PLAN`, joined with `; `.
    async fn query_plan(&self, explain: &'static str) -> StoreResult<String> {
        self.db
            .read(move |c| {
                let mut s = c.prepare(explain).map_err(classify)?;
                let rows = s
                    .query_map([], |r| r.get::<_, String>(3))
                    .map_err(classify)?;
                let mut out = Vec::new();
                for r in rows {
                    out.push(r.map_err(classify)?);
                }
                Ok(out.join("; "))
            })
            .await
    }
}

#[async_trait]
impl CaseStore for SqliteStore {
    async fn create_case(&self, new: &NewCase, now: DateTime<Utc>) -> StoreResult<Created> {
        let new = new.clone();
        let queue_now = micros(self.clock.now());
        let created = self
            .db
            .write(move |c| cases::create(c, &new, now, queue_now))
            .await?;
        self.db.queued.notify_waiters();
        Ok(created)
    }
    async fn idempotency(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<IdemRecord>> {
        let key = key.to_string();
        self.db
            .read(move |c| Ok(cases::idempotency(c, &key)?.filter(|r| r.expires_at > now)))
            .await
    }
    async fn get_case(&self, id: &CaseId) -> StoreResult<Option<Case>> {
        let id = id.to_string();
        self.db.read(move |c| cases::get(c, &id)).await
    }
    async fn case_id_by_tracking_code(&self, code: &str) -> StoreResult<Option<CaseId>> {
        let code = code.to_string();
        self.db
            .read(move |c| cases::id_by_tracking_code(c, &code))
            .await
    }
    async fn timeline(&self, id: &CaseId) -> StoreResult<Vec<TimelineEvent>> {
        let id = id.to_string();
        self.db.read(move |c| cases::timeline(c, &id)).await
    }
    async fn commit(&self, commit: &Commit) -> StoreResult<()> {
        let enqueue = commit.enqueue;
        let commit = commit.clone();
        let queue_now = micros(self.clock.now());
        self.db
            .write(move |c| cases::commit(c, &commit, queue_now))
            .await?;
        if enqueue {
            self.db.queued.notify_waiters();
        }
        Ok(())
    }
    async fn list_cases(&self, q: &CaseQuery) -> StoreResult<CasePage> {
        let q = q.clone();
        self.db.read(move |c| cases::list(c, &q)).await
    }
    async fn due_cases(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Case>> {
        self.db.read(move |c| cases::due(c, now, limit)).await
    }
    async fn open_cases_near(&self, q: &pakn_core::ports::NearQuery) -> StoreResult<Vec<Case>> {
        let q = q.clone();
        self.db.read(move |c| cases::near(c, &q)).await
    }
    async fn notifications_for_case(
        &self,
        id: &CaseId,
    ) -> StoreResult<Vec<(Notification, Option<DateTime<Utc>>)>> {
        let id = id.to_string();
        self.db
            .read(move |c| records::notifications_for_case(c, &id))
            .await
    }
}

#[async_trait]
impl Ledger for SqliteStore {
    async fn pending_notifications(&self, limit: usize) -> StoreResult<Vec<Notification>> {
        self.db.read(move |c| records::pending(c, limit)).await
    }
    async fn mark_published(&self, dedup_id: &str) -> StoreResult<()> {
        let id = dedup_id.to_string();
        let now = micros(self.clock.now());
        self.db
            .write(move |c| records::mark_published(c, &id, now))
            .await
    }
    /// One write job for all of them.
    async fn mark_all_published(&self, sent: &[&Notification]) -> StoreResult<()> {
        if sent.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = sent.iter().map(|n| n.dedup_id.clone()).collect();
        let now = micros(self.clock.now());
        self.db
            .write(move |c| {
                for id in &ids {
                    records::mark_published(c, id, now)?;
                }
                Ok(())
            })
            .await
    }
    async fn decide_once(&self, n: &Notification) -> StoreResult<bool> {
        let n = n.clone();
        self.db.write(move |c| records::decide_once(c, &n)).await
    }
    async fn notifications_for_unit(
        &self,
        unit: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<Sent>> {
        let (unit, from, to) = (unit.to_string(), micros(from), micros(to));
        self.db
            .read(move |c| records::notifications_for_unit(c, &unit, from, to, limit))
            .await
    }
    async fn get_marker(&self, key: &str) -> StoreResult<bool> {
        let key = key.to_string();
        self.db.read(move |c| records::get_marker(c, &key)).await
    }
    async fn put_marker(&self, key: &str) -> StoreResult<()> {
        let (key, at) = (key.to_string(), micros(self.clock.now()));
        self.db
            .write(move |c| records::put_marker(c, &key, at))
            .await
    }
}

#[async_trait]
impl PeopleStore for SqliteStore {
    async fn get_roster(&self, unit: &UnitCode) -> StoreResult<Roster> {
        let unit = unit.to_string();
        self.db.read(move |c| records::get_roster(c, &unit)).await
    }
    async fn put_roster(&self, unit: &UnitCode, roster: &Roster) -> StoreResult<()> {
        let (unit, roster) = (unit.to_string(), roster.clone());
        self.db
            .write(move |c| records::put_roster(c, &unit, &roster))
            .await
    }
    async fn get_headcount(&self, unit: &UnitCode) -> StoreResult<Option<u32>> {
        let unit = unit.to_string();
        self.db
            .read(move |c| records::get_headcount(c, &unit))
            .await
    }
    async fn put_headcount(&self, unit: &UnitCode, staff: u32) -> StoreResult<()> {
        let unit = unit.to_string();
        self.db
            .write(move |c| records::put_headcount(c, &unit, staff))
            .await
    }
    async fn register_account(&self, a: &Account) -> StoreResult<bool> {
        let a = a.clone();
        self.db
            .write(move |c| records::register_account(c, &a))
            .await
    }
    async fn count_accounts(&self, scope: &AccountScope) -> StoreResult<i64> {
        let scope = scope.clone();
        self.db
            .read(move |c| records::count_accounts(c, &scope))
            .await
    }
    async fn unit_summary(&self, unit: &UnitCode) -> StoreResult<UnitSummary> {
        let code = unit.to_string();
        let found = self
            .db
            .read(move |c| aggregates::unit_summaries(c, Some(&code)))
            .await?;
        Ok(found
            .into_iter()
            .next()
            .unwrap_or_else(|| UnitSummary::empty(unit.clone())))
    }
    async fn unit_summaries(&self) -> StoreResult<Vec<UnitSummary>> {
        self.db
            .read(move |c| aggregates::unit_summaries(c, None))
            .await
    }
}

#[async_trait]
impl InspectionStore for SqliteStore {
    async fn get_inspection(&self, id: &str) -> StoreResult<Option<Inspection>> {
        let id = id.to_string();
        self.db.read(move |c| records::get_inspection(c, &id)).await
    }
    async fn list_inspections(&self, q: &InspectionQuery) -> StoreResult<InspectionPage> {
        let q = q.clone();
        self.db
            .read(move |c| aggregates::list_inspections(c, &q))
            .await
    }
    async fn put_inspection(&self, i: &Inspection, expected_version: u64) -> StoreResult<()> {
        let i = i.clone();
        self.db
            .write(move |c| records::put_inspection(c, &i, expected_version))
            .await
    }
}

#[async_trait]
impl StatsStore for SqliteStore {
    async fn rollups(
        &self,
        scope: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Rollup>> {
        let scope = scope.to_string();
        self.db
            .read(move |c| records::rollups(c, &scope, from, to))
            .await
    }
    async fn rollups_all(&self, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<Rollup>> {
        self.db
            .read(move |c| aggregates::rollups_all(c, from, to))
            .await
    }
    async fn snapshots(&self, days: &[NaiveDate]) -> StoreResult<Vec<Snapshot>> {
        let days = days.to_vec();
        self.db.read(move |c| aggregates::snapshots(c, &days)).await
    }
    async fn latest_snapshot(
        &self,
        on_or_before: NaiveDate,
        not_before: NaiveDate,
    ) -> StoreResult<Option<Snapshot>> {
        self.db
            .read(move |c| aggregates::latest_snapshot(c, on_or_before, not_before))
            .await
    }
    async fn put_snapshot(&self, s: &Snapshot) -> StoreResult<bool> {
        let s = s.clone();
        self.db
            .write(move |c| aggregates::put_snapshot(c, &s))
            .await
    }
    async fn count_open(
        &self,
        unit: Option<&UnitCode>,
        now: DateTime<Utc>,
    ) -> StoreResult<(i64, i64)> {
        let unit = unit.cloned();
        self.db
            .read(move |c| cases::count_open(c, unit.as_ref(), now))
            .await
    }
}

#[async_trait]
impl QuotaStore for SqliteStore {
    async fn take(
        &self,
        key: &str,
        window_start: DateTime<Utc>,
        window: Duration,
        limit: u32,
    ) -> StoreResult<Taken> {
        let key = key.to_string();
        let window_end = window_start + window;
        let (start, end) = (micros(window_start), micros(window_end));
        let allowed = self
            .db
            .write(move |c| records::take_quota(c, &key, start, end, limit))
            .await?;
        Ok(Taken {
            allowed,
            window_end,
        })
    }

    /// All in one write job.
    async fn take_all(&self, takes: &[Take]) -> StoreResult<Vec<Taken>> {
        let rows: Vec<(String, i64, i64, u32, DateTime<Utc>)> = takes
            .iter()
            .map(|t| {
                let end = t.window_start + t.window;
                (
                    t.key.clone(),
                    micros(t.window_start),
                    micros(end),
                    t.limit,
                    end,
                )
            })
            .collect();
        self.db
            .write(move |c| {
                let mut out = Vec::with_capacity(rows.len());
                for (key, start, end, limit, window_end) in &rows {
                    let allowed = records::take_quota(c, key, *start, *end, *limit)?;
                    out.push(Taken {
                        allowed,
                        window_end: *window_end,
                    });
                    if !allowed {
                        break;
                    }
                }
                Ok(out)
            })
            .await
    }
}

#[async_trait]
impl PrivacyStore for SqliteStore {
    async fn record_accesses(&self, records: &[AccessRecord]) -> StoreResult<()> {
        if records.is_empty() {
            return Ok(());
        }
        let records = records.to_vec();
        self.db
            .write(move |c| privacy::record_accesses(c, &records))
            .await
    }
    async fn accesses(&self, id: &CaseId) -> StoreResult<Vec<AccessRecord>> {
        let id = id.to_string();
        self.db.read(move |c| privacy::accesses(c, &id)).await
    }
    async fn due_erasures(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Case>> {
        self.db.read(move |c| privacy::due(c, now, limit)).await
    }
    async fn erase(&self, e: &Erasure) -> StoreResult<()> {
        let e = e.clone();
        self.db.write(move |c| privacy::erase(c, &e)).await
    }
    async fn account(&self, sub: &str) -> StoreResult<Option<Account>> {
        let sub = sub.to_string();
        self.db.read(move |c| privacy::account(c, &sub)).await
    }
}

#[async_trait]
impl ApiKeyStore for SqliteStore {
    async fn create_api_key(&self, key: &ApiKey) -> StoreResult<()> {
        let key = key.clone();
        self.db.write(move |c| apikeys::create(c, &key)).await
    }
    async fn get_api_key(&self, id: &str) -> StoreResult<Option<ApiKey>> {
        let id = id.to_string();
        self.db.read(move |c| apikeys::get(c, &id)).await
    }
    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKey>> {
        self.db.read(apikeys::list).await
    }
    async fn revoke_api_key(&self, id: &str, at: DateTime<Utc>) -> StoreResult<Option<ApiKey>> {
        let id = id.to_string();
        self.db.write(move |c| apikeys::revoke(c, &id, at)).await
    }
}

#[async_trait]
impl UploadStore for SqliteStore {
    async fn put_upload(&self, u: &Upload) -> StoreResult<()> {
        let (id, json) = (u.id.clone(), to_json(u)?);
        self.db
            .write(move |c| {
                c.execute(
                    "INSERT INTO uploads (id, json) VALUES (?1, ?2)",
                    rusqlite::params![id, json],
                )
                .map_err(classify)?;
                Ok(())
            })
            .await
    }
    async fn get_upload(&self, id: &str) -> StoreResult<Option<Upload>> {
        let id = id.to_string();
        self.db
            .read(move |c| {
                use rusqlite::OptionalExtension;
                let j: Option<String> = c
                    .query_row("SELECT json FROM uploads WHERE id = ?1", [&id], |r| {
                        r.get(0)
                    })
                    .optional()
                    .map_err(classify)?;
                j.map(|j| from_json(&j)).transpose()
            })
            .await
    }
    async fn save_upload(&self, u: &Upload) -> StoreResult<()> {
        let (id, json) = (u.id.clone(), to_json(u)?);
        self.db
            .write(move |c| {
                let n = c
                    .execute(
                        "UPDATE uploads SET json = ?2 WHERE id = ?1",
                        rusqlite::params![id, json],
                    )
                    .map_err(classify)?;
                if n == 0 {
                    return Err(StoreError::Conflict(format!("upload {id} is gone")));
                }
                Ok(())
            })
            .await
    }
    async fn uploads_of(&self, owner: &str) -> StoreResult<Vec<Upload>> {
        let owner = owner.to_string();
        self.db
            .read(move |c| {
                let mut st = c
                    .prepare_cached(
                        "SELECT json FROM uploads WHERE json_extract(json, '$.owner') = ?1
                         ORDER BY id",
                    )
                    .map_err(classify)?;
                let rows = st
                    .query_map([&owner], |r| r.get::<_, String>(0))
                    .map_err(classify)?;
                let mut out = Vec::new();
                for r in rows {
                    out.push(from_json(&r.map_err(classify)?)?);
                }
                Ok(out)
            })
            .await
    }
    async fn erase_upload(&self, id: &str) -> StoreResult<()> {
        let id = id.to_string();
        self.db
            .write(move |c| {
                c.execute("DELETE FROM uploads WHERE id = ?1", [&id])
                    .map_err(classify)?;
                Ok(())
            })
            .await
    }
}

#[async_trait]
impl WardMapStore for SqliteStore {
    async fn put_ward_map(&self, map: &WardMap) -> StoreResult<()> {
        let map = map.clone();
        self.db.write(move |c| wards::put(c, &map)).await
    }
    async fn current_ward_map(&self) -> StoreResult<Option<WardMapInfo>> {
        self.db.read(wards::current).await
    }
    async fn ward_map(&self, version: &str) -> StoreResult<Option<WardMap>> {
        let version = version.to_string();
        self.db.read(move |c| wards::get(c, &version)).await
    }
}

#[async_trait]
impl pakn_core::ports::FollowerStore for SqliteStore {
    async fn follow(&self, f: &pakn_core::ports::Follower) -> StoreResult<bool> {
        let f = f.clone();
        self.db.write(move |c| followers::follow(c, &f)).await
    }
    async fn unfollow(&self, case_id: &CaseId, sub: &str) -> StoreResult<bool> {
        let (id, sub) = (case_id.to_string(), sub.to_string());
        self.db
            .write(move |c| followers::unfollow(c, &id, &sub))
            .await
    }
    async fn followers(&self, case_id: &CaseId) -> StoreResult<Vec<pakn_core::ports::Follower>> {
        let id = case_id.to_string();
        self.db.read(move |c| followers::of_case(c, &id)).await
    }
    async fn following(&self, sub: &str) -> StoreResult<Vec<pakn_core::ports::Follower>> {
        let sub = sub.to_string();
        self.db.read(move |c| followers::of_citizen(c, &sub)).await
    }
    async fn forget_citizen(&self, sub: &str) -> StoreResult<usize> {
        let sub = sub.to_string();
        self.db
            .write(move |c| followers::forget_citizen(c, &sub))
            .await
    }
}

#[async_trait]
impl pakn_core::ports::NoticeStore for SqliteStore {
    async fn notice_prefs(&self, sub: &str) -> StoreResult<Option<pakn_core::ports::NoticePrefs>> {
        let sub = sub.to_string();
        self.db.read(move |c| notices::prefs(c, &sub)).await
    }
    async fn save_notice_prefs(&self, p: &pakn_core::ports::NoticePrefs) -> StoreResult<()> {
        let p = p.clone();
        self.db.write(move |c| notices::save_prefs(c, &p)).await
    }
    async fn delete_notice_prefs(&self, sub: &str) -> StoreResult<()> {
        let sub = sub.to_string();
        self.db.write(move |c| notices::delete_prefs(c, &sub)).await
    }
    async fn decide_notices(&self, ns: &[pakn_core::ports::Notice]) -> StoreResult<Vec<bool>> {
        let ns = ns.to_vec();
        self.db.write(move |c| notices::decide(c, &ns)).await
    }
    async fn due_notices(
        &self,
        now: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<pakn_core::ports::Notice>> {
        self.db
            .read(move |c| notices::due(c, micros(now), limit))
            .await
    }
    async fn settle_notice(
        &self,
        n: &pakn_core::ports::Notice,
        expected_attempts: u32,
    ) -> StoreResult<bool> {
        let n = n.clone();
        self.db
            .write(move |c| notices::settle(c, &n, expected_attempts))
            .await
    }
    async fn notices_of(
        &self,
        sub: &str,
        limit: usize,
    ) -> StoreResult<Vec<pakn_core::ports::Notice>> {
        let sub = sub.to_string();
        self.db
            .read(move |c| notices::of_citizen(c, &sub, limit))
            .await
    }
    async fn forget_notices(&self, sub: &str) -> StoreResult<usize> {
        let sub = sub.to_string();
        self.db.write(move |c| notices::forget(c, &sub)).await
    }
}
