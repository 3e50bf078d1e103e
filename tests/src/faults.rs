//! Fault injection around pakn's ports, for the failure drills
//! (`tests/tests/e2e/drills.rs`).
//!
//! [`Faulty`] wraps any store port (`CaseStore`, `Ledger`, `PeopleStore`,
//! `InspectionStore`, `StatsStore`, `QuotaStore` — so `Faulty<dyn Store>`
//! is itself a `Store`), the `Notifier` and the `Queue`, and delegates every
//! call to the wrapped port. At a seeded, configurable rate ([`Faults`]) a
//! call fails instead, with one of the faults a real backend produces:
//!
//! - [`Fault::Conflict`]: a conditional-check failure although the
//!   condition held — DynamoDB's `TransactionConflict` on the
//!   `TransactWriteItems` calls (`create_case`, `commit`); nothing written;
//! - [`Fault::Throttled`]: `StoreError::Unavailable` before the call
//!   (throttling, a busy SQLite); nothing written;
//! - [`Fault::TimeoutBefore`]: a timeout before the request reached the
//!   store; nothing written;
//! - [`Fault::TimeoutAfter`]: a timeout after the store did the work — the
//!   write is durable but the caller sees an error (for a read: the answer is
//!   lost); for the notifier, a publish that went out but whose
//!   acknowledgement was lost.
//!
//! Which faults a call can get follows what it is: reads get throttling and
//! timeouts, writes also a timeout after the write, the two transactional
//! writes also a conflict. The delegation is mechanical — one line per
//! method, `self.read(..)`, `self.write(..)` or `self.transact(..)` around
//! the same call on the inner port — so a method added to a port is one
//! more line here.
//!
//! Beside the random faults, a case can be *poisoned*: reading it fails
//! (as an item no released code can map would) until it is cured, which
//! makes its queue message fail on every delivery.
//!
//! And the next `create_case` calls can be refused as tracking-code
//! collisions ([`Faults::collide_next`]), which 44-bit codes make too rare
//! to meet by chance: intake must draw another code each time.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use pakn_core::case::{Case, TimelineEvent};
use pakn_core::ids::CaseId;
use pakn_core::inspection::Inspection;
use pakn_core::media::Upload;
use pakn_core::notify::Notification;
use pakn_core::ports::WardMapStore;
use pakn_core::ports::{
    AccessRecord, Account, AccountScope, ApiKey, ApiKeyStore, CasePage, CaseQuery, CaseStore,
    Commit, Created, Erasure, IdemRecord, InspectionPage, InspectionQuery, InspectionStore, Ledger,
    NewCase, Notifier, PeopleStore, PrivacyStore, Queue, QuotaStore, Sent, StatsStore, StoreError,
    StoreResult, Take, Taken, UnitSummary, UploadStore,
};
use pakn_core::principal::Roster;
use pakn_core::snapshot::Snapshot;
use pakn_core::stats::Rollup;
use pakn_core::unit::UnitCode;
use pakn_core::wards::{WardMap, WardMapInfo};
use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// One injected fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    Conflict,
    Throttled,
    TimeoutBefore,
    TimeoutAfter,
}

impl Fault {
    fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Fault::Conflict => "conflict",
            Fault::Throttled => "throttled",
            Fault::TimeoutBefore => "timeout_before",
            Fault::TimeoutAfter => "timeout_after",
        }
    }

    fn error(self, op: &'static str) -> StoreError {
        let what = match self {
            Fault::Conflict => return StoreError::Conflict(format!("injected: {op} conflicted")),
            Fault::Throttled => "throttled",
            Fault::TimeoutBefore => "timed out before the call",
            Fault::TimeoutAfter => "timed out after the call succeeded",
        };
        StoreError::Unavailable(Box::new(std::io::Error::other(format!(
            "injected: {op} {what}"
        ))))
    }
}

/// What a call is, for the faults it can get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Read,
    Write,
    /// A transactional write whose real store reports transaction conflicts.
    Transact,
}

impl Call {
    fn faults(self) -> &'static [Fault] {
        match self {
            // A timeout after a read loses the answer, like one before it.
            Call::Read => &[Fault::Throttled, Fault::TimeoutBefore, Fault::TimeoutAfter],
            Call::Write => &[Fault::Throttled, Fault::TimeoutBefore, Fault::TimeoutAfter],
            // Half of a transaction's faults are conflicts, which contention
            // makes the commonest there.
            Call::Transact => &[
                Fault::Conflict,
                Fault::Throttled,
                Fault::Conflict,
                Fault::TimeoutBefore,
                Fault::Conflict,
                Fault::TimeoutAfter,
            ],
        }
    }
}

/// The switchboard every [`Faulty`] wrapper of one pipeline shares: the
/// rate, the seeded generator, the poisoned cases and what was injected.
pub struct Faults {
    /// The fault rate in millionths (0 = none, 1_000_000 = every call).
    rate_ppm: AtomicU64,
    /// SplitMix64's counter: each draw adds the golden gamma, so concurrent
    /// draws never repeat and one seed gives one sequence of draws.
    state: AtomicU64,
    injected: [AtomicU64; 4],
    calls: AtomicU64,
    poisoned: Mutex<HashSet<CaseId>>,
    poison_hits: AtomicU64,
    refused: AtomicU64,
    /// `create_case` calls still to be refused as a tracking-code collision.
    collisions: AtomicU64,
    /// The codes refused that way, in order.
    collided: Mutex<Vec<String>>,
    /// Faults scripted for the next call of an operation ([`Faults::fail_next`]).
    scripted: Mutex<Vec<(&'static str, Fault)>>,
}

/// How many faults of each kind were injected, over how many calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Injected {
    pub calls: u64,
    pub conflict: u64,
    pub throttled: u64,
    pub timeout_before: u64,
    pub timeout_after: u64,
    /// Reads of a poisoned case refused.
    pub poison: u64,
    /// Conditional writes the wrapped port itself refused (`Conflict`):
    /// real races lost, not injected ones.
    pub refused: u64,
}

impl Injected {
    pub fn total(&self) -> u64 {
        self.conflict + self.throttled + self.timeout_before + self.timeout_after
    }
}

impl std::fmt::Display for Injected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "faults={} of {} calls (conflict={}, throttled={}, timeout_before={}, timeout_after={})",
            self.total(),
            self.calls,
            self.conflict,
            self.throttled,
            self.timeout_before,
            self.timeout_after
        )
    }
}

fn splitmix64(z: u64) -> u64 {
    let mut z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Faults {
    /// Faults at `rate` (0.0–1.0 of all calls), drawn from `seed`.
    pub fn new(seed: u64, rate: f64) -> Arc<Faults> {
        let f = Arc::new(Faults {
            rate_ppm: AtomicU64::new(0),
            state: AtomicU64::new(splitmix64(seed)),
            injected: Default::default(),
            calls: AtomicU64::new(0),
            poisoned: Mutex::new(HashSet::new()),
            poison_hits: AtomicU64::new(0),
            refused: AtomicU64::new(0),
            collisions: AtomicU64::new(0),
            collided: Mutex::new(Vec::new()),
            scripted: Mutex::new(Vec::new()),
        });
        f.set_rate(rate);
        f
    }

    /// No random faults (poisoned cases still fail).
    pub fn none() -> Arc<Faults> {
        Faults::new(0, 0.0)
    }

    pub fn set_rate(&self, rate: f64) {
        let ppm = (rate.clamp(0.0, 1.0) * 1e6).round() as u64;
        self.rate_ppm.store(ppm, Ordering::SeqCst);
    }

    /// The faults stop (the dependency recovered); poisoned cases stay poisoned.
    pub fn stop(&self) {
        self.set_rate(0.0);
    }

    /// Every read of case `id` fails until [`Faults::cure`].
    pub fn poison(&self, id: &CaseId) {
        self.poisoned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id.clone());
    }

    /// The fix is deployed: case `id` reads again.
    pub fn cure(&self, id: &CaseId) {
        self.poisoned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(id);
    }

    /// The next `n` `create_case` calls are refused with
    /// `TrackingCodeTaken` before reaching the store, as if another case
    /// already had each code drawn (nothing written).
    pub fn collide_next(&self, n: u64) {
        self.collisions.store(n, Ordering::SeqCst);
    }

    /// The next call of operation `op` (the port method's name, e.g.
    /// `commit`, `follow`) gets `fault`, whatever the rate: a crash at an
    /// exact step of a use case.
    pub fn fail_next(&self, op: &'static str, fault: Fault) {
        self.scripted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((op, fault));
    }

    fn take_scripted(&self, op: &str) -> Option<Fault> {
        let mut s = self.scripted.lock().unwrap_or_else(|e| e.into_inner());
        let i = s.iter().position(|(o, _)| *o == op)?;
        let (_, f) = s.remove(i);
        self.injected[f.index()].fetch_add(1, Ordering::SeqCst);
        Some(f)
    }

    /// The tracking codes refused by [`Faults::collide_next`], in order.
    pub fn collided(&self) -> Vec<String> {
        self.collided
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn take_collision(&self, code: &str) -> bool {
        let taken = self
            .collisions
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if taken {
            self.collided
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(code.to_string());
        }
        taken
    }

    pub fn injected(&self) -> Injected {
        let n = |f: Fault| self.injected[f.index()].load(Ordering::SeqCst);
        Injected {
            calls: self.calls.load(Ordering::SeqCst),
            conflict: n(Fault::Conflict),
            throttled: n(Fault::Throttled),
            timeout_before: n(Fault::TimeoutBefore),
            timeout_after: n(Fault::TimeoutAfter),
            poison: self.poison_hits.load(Ordering::SeqCst),
            refused: self.refused.load(Ordering::SeqCst),
        }
    }

    /// A whole invocation (say a Lambda handler over one batch) under a
    /// fault drawn like a write's: refused before it ran (throttled, a
    /// timeout before), or run to the end with its answer lost (a timeout
    /// after: the function timed out after its work). `Err` either way: the
    /// caller delivers the batch again.
    pub async fn invocation<T>(
        &self,
        op: &'static str,
        call: impl Future<Output = T>,
    ) -> StoreResult<T> {
        self.run(Call::Write, op, async { Ok(call.await) }).await
    }

    /// Draw for one call: the fault it gets, if any.
    fn draw(&self, call: Call) -> Option<Fault> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let rate = self.rate_ppm.load(Ordering::SeqCst);
        if rate == 0 {
            return None;
        }
        let r = splitmix64(
            self.state
                .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::SeqCst),
        );
        if r % 1_000_000 >= rate {
            return None;
        }
        let kinds = call.faults();
        let f = kinds[((r >> 32) % kinds.len() as u64) as usize];
        self.injected[f.index()].fetch_add(1, Ordering::SeqCst);
        Some(f)
    }

    fn check_poison(&self, id: &CaseId) -> StoreResult<()> {
        let poisoned = self
            .poisoned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains(id);
        if poisoned {
            self.poison_hits.fetch_add(1, Ordering::SeqCst);
            return Err(StoreError::msg(format!(
                "injected poison: case {id} cannot be read"
            )));
        }
        Ok(())
    }

    /// Run `call` (a future that does nothing until polled) under a fault
    /// drawn for a call of this kind.
    async fn run<T>(
        &self,
        kind: Call,
        op: &'static str,
        call: impl Future<Output = StoreResult<T>>,
    ) -> StoreResult<T> {
        let fault = match self.take_scripted(op) {
            Some(f) => {
                self.calls.fetch_add(1, Ordering::SeqCst);
                Some(f)
            }
            None => self.draw(kind),
        };
        match fault {
            None => {
                let r = call.await;
                if let Err(StoreError::Conflict(_)) = &r {
                    self.refused.fetch_add(1, Ordering::SeqCst);
                }
                r
            }
            Some(f @ Fault::TimeoutAfter) => {
                // The work is done (and durable, for a write); the answer is lost.
                let _ = call.await;
                Err(f.error(op))
            }
            Some(f) => Err(f.error(op)),
        }
    }
}

/// A port with faults injected in front of it (see the module docs).
pub struct Faulty<P: ?Sized> {
    inner: Arc<P>,
    faults: Arc<Faults>,
    /// One call at a time through this gate, when set.
    gate: Option<Arc<tokio::sync::Mutex<()>>>,
}

impl<P: ?Sized> Faulty<P> {
    pub fn new(inner: Arc<P>, faults: Arc<Faults>) -> Faulty<P> {
        Faulty {
            inner,
            faults,
            gate: None,
        }
    }

    /// Let one call at a time reach the port. For the DynamoDB emulator:
    /// moto's `TransactWriteItems` copies the whole table before it starts
    /// and puts that copy back when the transaction is cancelled, wiping
    /// whatever another request wrote meanwhile (a lost case, a lost
    /// outbox entry). DynamoDB isolates transactions; moto does not, so the
    /// drills on the emulator pass each port call through this gate. The
    /// races the drills are about — two workers reading the same version,
    /// then both trying to write — interleave between calls and still happen.
    pub fn serialized(mut self) -> Faulty<P> {
        self.gate = Some(Arc::new(tokio::sync::Mutex::new(())));
        self
    }

    pub fn faults(&self) -> &Arc<Faults> {
        &self.faults
    }

    async fn read<T>(
        &self,
        op: &'static str,
        call: impl Future<Output = StoreResult<T>>,
    ) -> StoreResult<T> {
        let _one = match &self.gate {
            Some(g) => Some(g.lock().await),
            None => None,
        };
        self.faults.run(Call::Read, op, call).await
    }

    async fn write<T>(
        &self,
        op: &'static str,
        call: impl Future<Output = StoreResult<T>>,
    ) -> StoreResult<T> {
        let _one = match &self.gate {
            Some(g) => Some(g.lock().await),
            None => None,
        };
        self.faults.run(Call::Write, op, call).await
    }

    async fn transact<T>(
        &self,
        op: &'static str,
        call: impl Future<Output = StoreResult<T>>,
    ) -> StoreResult<T> {
        let _one = match &self.gate {
            Some(g) => Some(g.lock().await),
            None => None,
        };
        self.faults.run(Call::Transact, op, call).await
    }
}

#[async_trait]
impl<P: CaseStore + ?Sized> CaseStore for Faulty<P> {
    async fn create_case(&self, new: &NewCase, now: DateTime<Utc>) -> StoreResult<Created> {
        if self.faults.take_collision(&new.case.tracking_code) {
            return Err(StoreError::TrackingCodeTaken);
        }
        self.transact("create_case", self.inner.create_case(new, now))
            .await
    }
    async fn idempotency(&self, key: &str, now: DateTime<Utc>) -> StoreResult<Option<IdemRecord>> {
        self.read("idempotency", self.inner.idempotency(key, now))
            .await
    }
    async fn get_case(&self, id: &CaseId) -> StoreResult<Option<Case>> {
        self.faults.check_poison(id)?;
        self.read("get_case", self.inner.get_case(id)).await
    }
    async fn case_id_by_tracking_code(&self, code: &str) -> StoreResult<Option<CaseId>> {
        self.read(
            "case_id_by_tracking_code",
            self.inner.case_id_by_tracking_code(code),
        )
        .await
    }
    async fn timeline(&self, id: &CaseId) -> StoreResult<Vec<TimelineEvent>> {
        self.read("timeline", self.inner.timeline(id)).await
    }
    async fn commit(&self, c: &Commit) -> StoreResult<()> {
        self.transact("commit", self.inner.commit(c)).await
    }
    async fn list_cases(&self, q: &CaseQuery) -> StoreResult<CasePage> {
        self.read("list_cases", self.inner.list_cases(q)).await
    }
    async fn open_cases_near(&self, q: &pakn_core::ports::NearQuery) -> StoreResult<Vec<Case>> {
        self.read("open_cases_near", self.inner.open_cases_near(q))
            .await
    }
    async fn due_cases(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Case>> {
        self.read("due_cases", self.inner.due_cases(now, limit))
            .await
    }
    async fn notifications_for_case(&self, id: &CaseId) -> StoreResult<Vec<Sent>> {
        self.read(
            "notifications_for_case",
            self.inner.notifications_for_case(id),
        )
        .await
    }
}

#[async_trait]
impl<P: Ledger + ?Sized> Ledger for Faulty<P> {
    fn publishes_on_commit(&self) -> bool {
        self.inner.publishes_on_commit()
    }
    async fn pending_notifications(&self, limit: usize) -> StoreResult<Vec<Notification>> {
        self.read(
            "pending_notifications",
            self.inner.pending_notifications(limit),
        )
        .await
    }
    async fn mark_published(&self, dedup_id: &str) -> StoreResult<()> {
        self.write("mark_published", self.inner.mark_published(dedup_id))
            .await
    }
    async fn mark_all_published(&self, sent: &[&Notification]) -> StoreResult<()> {
        self.write("mark_all_published", self.inner.mark_all_published(sent))
            .await
    }
    async fn decide_once(&self, n: &Notification) -> StoreResult<bool> {
        self.write("decide_once", self.inner.decide_once(n)).await
    }
    async fn get_marker(&self, key: &str) -> StoreResult<bool> {
        self.read("get_marker", self.inner.get_marker(key)).await
    }
    async fn put_marker(&self, key: &str) -> StoreResult<()> {
        self.write("put_marker", self.inner.put_marker(key)).await
    }
    async fn notifications_for_unit(
        &self,
        unit: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
    ) -> StoreResult<Vec<Sent>> {
        self.read(
            "notifications_for_unit",
            self.inner.notifications_for_unit(unit, from, to, limit),
        )
        .await
    }
}

#[async_trait]
impl<P: PeopleStore + ?Sized> PeopleStore for Faulty<P> {
    async fn get_roster(&self, unit: &UnitCode) -> StoreResult<Roster> {
        self.read("get_roster", self.inner.get_roster(unit)).await
    }
    async fn put_roster(&self, unit: &UnitCode, roster: &Roster) -> StoreResult<()> {
        self.write("put_roster", self.inner.put_roster(unit, roster))
            .await
    }
    async fn get_headcount(&self, unit: &UnitCode) -> StoreResult<Option<u32>> {
        self.read("get_headcount", self.inner.get_headcount(unit))
            .await
    }
    async fn put_headcount(&self, unit: &UnitCode, staff: u32) -> StoreResult<()> {
        self.write("put_headcount", self.inner.put_headcount(unit, staff))
            .await
    }
    async fn register_account(&self, a: &Account) -> StoreResult<bool> {
        self.write("register_account", self.inner.register_account(a))
            .await
    }
    async fn count_accounts(&self, scope: &AccountScope) -> StoreResult<i64> {
        self.read("count_accounts", self.inner.count_accounts(scope))
            .await
    }
    async fn unit_summary(&self, unit: &UnitCode) -> StoreResult<UnitSummary> {
        self.read("unit_summary", self.inner.unit_summary(unit))
            .await
    }
    async fn unit_summaries(&self) -> StoreResult<Vec<UnitSummary>> {
        self.read("unit_summaries", self.inner.unit_summaries())
            .await
    }
}

#[async_trait]
impl<P: InspectionStore + ?Sized> InspectionStore for Faulty<P> {
    async fn get_inspection(&self, id: &str) -> StoreResult<Option<Inspection>> {
        self.read("get_inspection", self.inner.get_inspection(id))
            .await
    }
    async fn list_inspections(&self, q: &InspectionQuery) -> StoreResult<InspectionPage> {
        self.read("list_inspections", self.inner.list_inspections(q))
            .await
    }
    async fn put_inspection(&self, i: &Inspection, expected_version: u64) -> StoreResult<()> {
        self.write(
            "put_inspection",
            self.inner.put_inspection(i, expected_version),
        )
        .await
    }
}

#[async_trait]
impl<P: StatsStore + ?Sized> StatsStore for Faulty<P> {
    async fn rollups(
        &self,
        scope: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> StoreResult<Vec<Rollup>> {
        self.read("rollups", self.inner.rollups(scope, from, to))
            .await
    }
    async fn rollups_all(&self, from: NaiveDate, to: NaiveDate) -> StoreResult<Vec<Rollup>> {
        self.read("rollups_all", self.inner.rollups_all(from, to))
            .await
    }
    async fn snapshots(&self, days: &[NaiveDate]) -> StoreResult<Vec<Snapshot>> {
        self.read("snapshots", self.inner.snapshots(days)).await
    }
    async fn latest_snapshot(
        &self,
        on_or_before: NaiveDate,
        not_before: NaiveDate,
    ) -> StoreResult<Option<Snapshot>> {
        self.read(
            "latest_snapshot",
            self.inner.latest_snapshot(on_or_before, not_before),
        )
        .await
    }
    async fn put_snapshot(&self, snap: &Snapshot) -> StoreResult<bool> {
        self.write("put_snapshot", self.inner.put_snapshot(snap))
            .await
    }
    async fn count_open(
        &self,
        unit: Option<&UnitCode>,
        now: DateTime<Utc>,
    ) -> StoreResult<(i64, i64)> {
        self.read("count_open", self.inner.count_open(unit, now))
            .await
    }
}

#[async_trait]
impl<P: QuotaStore + ?Sized> QuotaStore for Faulty<P> {
    async fn take(
        &self,
        key: &str,
        window_start: DateTime<Utc>,
        window: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Taken> {
        self.write("take", self.inner.take(key, window_start, window, limit))
            .await
    }
    async fn take_all(&self, takes: &[Take]) -> StoreResult<Vec<Taken>> {
        self.write("take_all", self.inner.take_all(takes)).await
    }
}

#[async_trait]
impl<P: PrivacyStore + ?Sized> PrivacyStore for Faulty<P> {
    async fn record_accesses(&self, records: &[AccessRecord]) -> StoreResult<()> {
        self.write("record_accesses", self.inner.record_accesses(records))
            .await
    }
    async fn accesses(&self, id: &CaseId) -> StoreResult<Vec<AccessRecord>> {
        self.read("accesses", self.inner.accesses(id)).await
    }
    async fn due_erasures(&self, now: DateTime<Utc>, limit: usize) -> StoreResult<Vec<Case>> {
        self.read("due_erasures", self.inner.due_erasures(now, limit))
            .await
    }
    async fn erase(&self, e: &Erasure) -> StoreResult<()> {
        self.transact("erase", self.inner.erase(e)).await
    }
    async fn account(&self, sub: &str) -> StoreResult<Option<Account>> {
        self.read("account", self.inner.account(sub)).await
    }
}

#[async_trait]
impl<P: ApiKeyStore + ?Sized> ApiKeyStore for Faulty<P> {
    async fn create_api_key(&self, k: &ApiKey) -> StoreResult<()> {
        self.write("create_api_key", self.inner.create_api_key(k))
            .await
    }
    async fn get_api_key(&self, id: &str) -> StoreResult<Option<ApiKey>> {
        self.read("get_api_key", self.inner.get_api_key(id)).await
    }
    async fn list_api_keys(&self) -> StoreResult<Vec<ApiKey>> {
        self.read("list_api_keys", self.inner.list_api_keys()).await
    }
    async fn revoke_api_key(&self, id: &str, at: DateTime<Utc>) -> StoreResult<Option<ApiKey>> {
        self.write("revoke_api_key", self.inner.revoke_api_key(id, at))
            .await
    }
}

#[async_trait]
impl<P: UploadStore + ?Sized> UploadStore for Faulty<P> {
    async fn put_upload(&self, u: &Upload) -> StoreResult<()> {
        self.write("put_upload", self.inner.put_upload(u)).await
    }
    async fn get_upload(&self, id: &str) -> StoreResult<Option<Upload>> {
        self.read("get_upload", self.inner.get_upload(id)).await
    }
    async fn save_upload(&self, u: &Upload) -> StoreResult<()> {
        self.write("save_upload", self.inner.save_upload(u)).await
    }
    async fn uploads_of(&self, owner: &str) -> StoreResult<Vec<Upload>> {
        self.read("uploads_of", self.inner.uploads_of(owner)).await
    }
    async fn erase_upload(&self, id: &str) -> StoreResult<()> {
        self.write("erase_upload", self.inner.erase_upload(id))
            .await
    }
}

#[async_trait]
impl<P: WardMapStore + ?Sized> WardMapStore for Faulty<P> {
    async fn put_ward_map(&self, map: &WardMap) -> StoreResult<()> {
        self.write("put_ward_map", self.inner.put_ward_map(map))
            .await
    }
    async fn current_ward_map(&self) -> StoreResult<Option<WardMapInfo>> {
        self.read("current_ward_map", self.inner.current_ward_map())
            .await
    }
    async fn ward_map(&self, version: &str) -> StoreResult<Option<WardMap>> {
        self.read("ward_map", self.inner.ward_map(version)).await
    }
}

#[async_trait]
impl<P: pakn_core::ports::FollowerStore + ?Sized> pakn_core::ports::FollowerStore for Faulty<P> {
    async fn follow(&self, f: &pakn_core::ports::Follower) -> StoreResult<bool> {
        self.write("follow", self.inner.follow(f)).await
    }
    async fn unfollow(&self, case_id: &CaseId, sub: &str) -> StoreResult<bool> {
        self.write("unfollow", self.inner.unfollow(case_id, sub))
            .await
    }
    async fn followers(&self, case_id: &CaseId) -> StoreResult<Vec<pakn_core::ports::Follower>> {
        self.read("followers", self.inner.followers(case_id)).await
    }
    async fn following(&self, sub: &str) -> StoreResult<Vec<pakn_core::ports::Follower>> {
        self.read("following", self.inner.following(sub)).await
    }
    async fn forget_citizen(&self, sub: &str) -> StoreResult<usize> {
        self.write("forget_citizen", self.inner.forget_citizen(sub))
            .await
    }
}

#[async_trait]
impl<P: pakn_core::ports::NoticeStore + ?Sized> pakn_core::ports::NoticeStore for Faulty<P> {
    async fn notice_prefs(&self, sub: &str) -> StoreResult<Option<pakn_core::ports::NoticePrefs>> {
        self.read("notice_prefs", self.inner.notice_prefs(sub))
            .await
    }
    async fn notice_prefs_many(
        &self,
        subs: &[String],
    ) -> StoreResult<Vec<pakn_core::ports::NoticePrefs>> {
        self.read("notice_prefs_many", self.inner.notice_prefs_many(subs))
            .await
    }
    async fn save_notice_prefs(&self, p: &pakn_core::ports::NoticePrefs) -> StoreResult<()> {
        self.write("save_notice_prefs", self.inner.save_notice_prefs(p))
            .await
    }
    async fn delete_notice_prefs(&self, sub: &str) -> StoreResult<()> {
        self.write("delete_notice_prefs", self.inner.delete_notice_prefs(sub))
            .await
    }
    async fn decide_notices(&self, ns: &[pakn_core::ports::Notice]) -> StoreResult<Vec<bool>> {
        self.write("decide_notices", self.inner.decide_notices(ns))
            .await
    }
    async fn due_notices(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        limit: usize,
    ) -> StoreResult<Vec<pakn_core::ports::Notice>> {
        self.read("due_notices", self.inner.due_notices(now, limit))
            .await
    }
    async fn settle_notice(
        &self,
        n: &pakn_core::ports::Notice,
        expected_attempts: u32,
    ) -> StoreResult<bool> {
        self.write(
            "settle_notice",
            self.inner.settle_notice(n, expected_attempts),
        )
        .await
    }
    async fn notices_of(
        &self,
        sub: &str,
        limit: usize,
    ) -> StoreResult<Vec<pakn_core::ports::Notice>> {
        self.read("notices_of", self.inner.notices_of(sub, limit))
            .await
    }
    async fn forget_notices(&self, sub: &str) -> StoreResult<usize> {
        self.write("forget_notices", self.inner.forget_notices(sub))
            .await
    }
}

#[async_trait]
impl<P: Notifier + ?Sized> Notifier for Faulty<P> {
    /// A publish refused (throttled, timed out), or one that went out but
    /// whose acknowledgement was lost ([`Fault::TimeoutAfter`]).
    async fn publish(&self, n: &Notification) -> StoreResult<()> {
        self.write("publish", self.inner.publish(n)).await
    }
}

#[async_trait]
impl<P: Queue + ?Sized> Queue for Faulty<P> {
    async fn send(&self, ids: &[CaseId]) -> StoreResult<()> {
        self.write("send", self.inner.send(ids)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(AtomicU64);

    #[async_trait]
    impl Queue for Counter {
        async fn send(&self, ids: &[CaseId]) -> StoreResult<()> {
            self.0.fetch_add(ids.len() as u64, Ordering::SeqCst);
            Ok(())
        }
    }

    fn ids() -> Vec<CaseId> {
        vec![CaseId::new(Utc::now())]
    }

    #[tokio::test]
    async fn no_rate_no_faults_and_every_call_delegates() {
        let inner = Arc::new(Counter(AtomicU64::new(0)));
        let q = Faulty::new(inner.clone(), Faults::none());
        for _ in 0..100 {
            q.send(&ids()).await.expect("no fault at rate 0");
        }
        assert_eq!(inner.0.load(Ordering::SeqCst), 100);
        assert_eq!(q.faults().injected().total(), 0);
        assert_eq!(q.faults().injected().calls, 100);
    }

    #[tokio::test]
    async fn every_call_faulted_at_rate_one_and_a_timeout_after_still_did_the_work() {
        let inner = Arc::new(Counter(AtomicU64::new(0)));
        let q = Faulty::new(inner.clone(), Faults::new(7, 1.0));
        for _ in 0..300 {
            assert!(matches!(
                q.send(&ids()).await,
                Err(StoreError::Unavailable(_))
            ));
        }
        let i = q.faults().injected();
        assert_eq!(i.total(), 300);
        assert_eq!(i.conflict, 0, "a plain write never conflicts");
        assert!(i.throttled > 0 && i.timeout_before > 0 && i.timeout_after > 0);
        assert_eq!(
            inner.0.load(Ordering::SeqCst),
            i.timeout_after,
            "only the timeouts after the call reached the port"
        );
    }

    #[tokio::test]
    async fn a_seed_gives_one_sequence_and_the_rate_is_kept_roughly() {
        let run = |seed| async move {
            let q = Faulty::new(Arc::new(Counter(AtomicU64::new(0))), Faults::new(seed, 0.1));
            let mut out = Vec::new();
            for _ in 0..2000 {
                out.push(q.send(&ids()).await.is_ok());
            }
            out
        };
        let (a, b, c) = (run(1).await, run(1).await, run(2).await);
        assert_eq!(a, b, "same seed, same faults");
        assert_ne!(a, c, "another seed, other faults");
        let failed = a.iter().filter(|ok| !**ok).count();
        assert!((120..=280).contains(&failed), "about 10 %: {failed}");
    }

    /// Counts the calls inside `send` at once, and the most ever seen.
    struct Overlap(AtomicU64, AtomicU64);

    #[async_trait]
    impl Queue for Overlap {
        async fn send(&self, _: &[CaseId]) -> StoreResult<()> {
            let now = self.0.fetch_add(1, Ordering::SeqCst) + 1;
            self.1.fetch_max(now, Ordering::SeqCst);
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            self.0.fetch_sub(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_serialized_port_takes_one_call_at_a_time() {
        for serialized in [false, true] {
            let inner = Arc::new(Overlap(AtomicU64::new(0), AtomicU64::new(0)));
            let q = Faulty::new(inner.clone(), Faults::none());
            let q = Arc::new(if serialized { q.serialized() } else { q });
            let mut calls = tokio::task::JoinSet::new();
            for _ in 0..8 {
                let q = q.clone();
                calls.spawn(async move { q.send(&ids()).await });
            }
            while let Some(r) = calls.join_next().await {
                r.expect("a call").expect("no fault");
            }
            let most = inner.1.load(Ordering::SeqCst);
            assert_eq!(most == 1, serialized, "at most {most} at once");
        }
    }

    #[tokio::test]
    async fn stop_ends_the_faults() {
        let q = Faulty::new(Arc::new(Counter(AtomicU64::new(0))), Faults::new(3, 1.0));
        assert!(q.send(&ids()).await.is_err());
        q.faults().stop();
        assert!(q.send(&ids()).await.is_ok());
    }
}
