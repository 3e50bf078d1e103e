//! Item mapping: domain values ⇄ DynamoDB items. Only this module knows
//! how a case, an event, a notification … is laid out in the table.
//!
//! Nested values (holds, answers, the notification body …) are stored as a
//! JSON string in `doc`; the attributes that keys, indexes and conditions
//! need are top-level. The case's state item, rewritten at every change,
//! keeps its JSON deflated in `docz` (binary): a routed case's JSON is
//! 0.6–1.2 KB and about half that deflated, so the item stays under the
//! 1 KB that one write unit covers (a transactional write of a bigger item
//! costs 4 units instead of 2). Items written before carry `doc` and are
//! read as they are.

use super::keys::*;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Datelike;
use chrono::{DateTime, NaiveDate, Utc};
use pakn_core::auth::Roster;
use pakn_core::case::{Case, Status, TimelineEvent};
use pakn_core::ids::CaseId;
use pakn_core::inspection::Inspection;
use pakn_core::notify::Notification;
use pakn_core::ports::{IdemRecord, QueueEntry, StoreError, UnitSummary};
use pakn_core::snapshot::Snapshot;
use pakn_core::stats::Rollup;
use pakn_core::unit::UnitCode;
use std::collections::{BTreeMap, HashMap};

pub type Item = HashMap<String, AttributeValue>;

pub const DOC: &str = "doc";
/// The case state's JSON, deflated (see the module's comment).
pub const DOCZ: &str = "docz";
/// The largest state JSON inflated (DynamoDB's item limit is 400 KB).
const DOCZ_MAX: u64 = 400 * 1024;
pub const VERSION: &str = "version";
/// `resolve_due` of a case (projected into GSI1).
pub const DUE: &str = "due";
/// What the holding unit owes next (`Case::queue_due`), projected into GSI1 for `sort=due`.
pub const QDUE: &str = "qdue";
/// The category, projected into GSI1 so a `sort=due` page filters before reading cases.
pub const CAT: &str = "cat";
pub const EXPIRES_AT: &str = "expires_at";
/// The milestones already decided for a case, as a number set of their
/// [`decision_hash`]es on the state item: a commit deciding one again is
/// refused by its condition, with no ledger item of its own.
pub const DECIDED: &str = "dn";
pub const PUBLISHED_AT: &str = "published_at";
/// On a timeline event item, when publishing from the table's stream: the
/// change's outbox entries (deflated JSON), which the event's stream record
/// hands to the publisher (see `stream.rs`).
pub const OUTZ: &str = "outz";
/// On a case's `BODY` item: the key of the idempotency record it was created with.
pub const IDEM_KEY: &str = "idem";
/// Prefix of rollup counter attributes.
pub const COUNTER: &str = "c_";

/// The fields of a case that never change after intake: stored once, in the `BODY` item.
pub const SUBMISSION_FIELDS: [&str; 12] = [
    "kind",
    "category",
    "title",
    "description",
    "urgency",
    "location",
    "media",
    "channel",
    "contact",
    "submitted_by",
    "submitted_role",
    "received_at",
];

#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    #[error("item has no attribute {0}")]
    Missing(&'static str),
    #[error("attribute {0} has the wrong type")]
    WrongType(&'static str),
    #[error("attribute {0} does not decode")]
    Json(&'static str, #[source] serde_json::Error),
    #[error("attribute {0} is not valid: {1}")]
    Invalid(&'static str, String),
}

impl From<MappingError> for StoreError {
    fn from(e: MappingError) -> Self {
        StoreError::other(e)
    }
}

pub fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}
pub fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([(PK.to_string(), s(pk)), (SK.to_string(), s(sk))])
}

pub fn get_s<'a>(item: &'a Item, name: &'static str) -> Result<&'a str, MappingError> {
    match item.get(name) {
        Some(AttributeValue::S(v)) => Ok(v),
        Some(_) => Err(MappingError::WrongType(name)),
        None => Err(MappingError::Missing(name)),
    }
}

pub fn get_n<T: std::str::FromStr>(item: &Item, name: &'static str) -> Result<T, MappingError> {
    match item.get(name) {
        Some(AttributeValue::N(v)) => v
            .parse()
            .map_err(|_| MappingError::Invalid(name, v.clone())),
        Some(_) => Err(MappingError::WrongType(name)),
        None => Err(MappingError::Missing(name)),
    }
}

pub(crate) fn doc<T: serde::de::DeserializeOwned>(
    item: &Item,
    name: &'static str,
) -> Result<T, MappingError> {
    serde_json::from_str(get_s(item, name)?).map_err(|e| MappingError::Json(name, e))
}

pub(crate) fn to_doc<T: serde::Serialize>(v: &T) -> Result<AttributeValue, MappingError> {
    serde_json::to_string(v)
        .map(s)
        .map_err(|e| MappingError::Json(DOC, e))
}

fn time(item: &Item, name: &'static str) -> Result<DateTime<Utc>, MappingError> {
    let v = get_s(item, name)?;
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| MappingError::Invalid(name, v.into()))
}

fn opt_time(item: &Item, name: &'static str) -> Result<Option<DateTime<Utc>>, MappingError> {
    if item.contains_key(name) {
        time(item, name).map(Some)
    } else {
        Ok(None)
    }
}

/// What GSI1's unit-queue entry of a case (in the partition of `status`)
/// says for a `sort=due` page: its keys and the projected `due`, `qdue`, `cat`.
pub fn queue_entry_from(item: &Item, status: Status) -> Result<QueueEntry, MappingError> {
    let sk = get_s(item, GSI1.sk)?;
    let received = sk
        .split_once('#')
        .and_then(|(t, _)| DateTime::parse_from_rfc3339(t).ok())
        .ok_or_else(|| MappingError::Invalid(GSI1.sk, sk.into()))?;
    Ok(QueueEntry {
        id: case_id_of(item)?,
        status,
        category: get_s(item, CAT)?.to_string(),
        received_at: received.with_timezone(&Utc),
        resolve_due: opt_time(item, DUE)?,
        due: opt_time(item, QDUE)?,
    })
}

// ------------------------------------------------------------------ cases

/// A case as two items: its small, often rewritten state and its submission.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    pub state: Item,
    pub body: Item,
}

impl TryFrom<&Case> for CaseRecord {
    type Error = MappingError;

    fn try_from(c: &Case) -> Result<Self, MappingError> {
        let serde_json::Value::Object(mut all) =
            serde_json::to_value(c).map_err(|e| MappingError::Json(DOC, e))?
        else {
            return Err(MappingError::Invalid(DOC, "a case is an object".into()));
        };
        let mut submission = serde_json::Map::new();
        for f in SUBMISSION_FIELDS {
            if let Some(v) = all.remove(f) {
                submission.insert(f.into(), v);
            }
        }
        let id = c.id.as_str();
        let pk = case_pk(&c.id);
        let mut state = key(&pk, SK_CASE);
        state.insert(VERSION.into(), n(c.version));
        state.insert("status".into(), s(c.status.as_str()));
        state.insert(DOCZ.into(), deflate(DOCZ, &all)?);
        record_decisions(&mut state, &c.milestones_done);
        if let Some(d) = c.resolve_due {
            // Projected into GSI1 so a unit's overdue cases are counted without reading them.
            state.insert(DUE.into(), s(ts(d)));
        }
        if let Some(u) = &c.unit {
            state.insert("unit".into(), s(u.as_str()));
            state.insert(CAT.into(), s(&c.category));
            if let Some(d) = c.queue_due() {
                state.insert(QDUE.into(), s(ts(d)));
            }
            state.insert(
                GSI1.pk.into(),
                s(unit_queue_pk(u.as_str(), c.status.as_str())),
            );
            state.insert(GSI1.sk.into(), s(at_id(Some(c.received_at), id)));
        }
        if let Some(t) = c.next_action_at {
            state.insert(GSI2.pk.into(), s(next_pk(shard(&c.id))));
            state.insert(GSI2.sk.into(), s(at_id(Some(t), id)));
        } else if let Some(t) = c.erase_after {
            // Closed: the same index, as the retention index.
            state.insert(GSI2.pk.into(), s(erase_pk(shard(&c.id))));
            state.insert(GSI2.sk.into(), s(at_id(Some(t), id)));
        }
        if !c.submitted_by.is_empty() && c.erased_at.is_none() {
            // Gone once the reporter's data is erased: no index leads from them to the case.
            state.insert(GSI3.pk.into(), s(sub_pk(&c.submitted_by)));
            state.insert(GSI3.sk.into(), s(at_id(Some(c.received_at), id)));
        }
        state.insert(
            GSI4.pk.into(),
            s(recv_pk(chrono::Datelike::year(&c.received_at))),
        );
        state.insert(GSI4.sk.into(), s(at_id(Some(c.received_at), id)));
        if c.status.is_open() {
            // A paused case (awaiting_info) sorts after every instant: open, never overdue.
            let due = c.resolve_due.filter(|_| c.status.clock_runs());
            state.insert(GSI5.pk.into(), s(open_pk(shard(&c.id))));
            state.insert(GSI5.sk.into(), s(at_id(due, id)));
            let (lat, lng) = (c.location.lat, c.location.lng);
            if lat.is_finite() && lng.is_finite() {
                let cell = pakn_core::nearby::geohash(lat, lng, pakn_core::nearby::CELL_PRECISION);
                state.insert(GSI6.pk.into(), s(near_pk(&c.category, &cell)));
                state.insert(GSI6.sk.into(), s(near_sk(lat, lng, id)));
            }
        }
        let mut body = key(pk, SK_BODY);
        body.insert(DOC.into(), to_doc(&submission)?);
        Ok(CaseRecord { state, body })
    }
}

impl TryFrom<&CaseRecord> for Case {
    type Error = MappingError;

    fn try_from(r: &CaseRecord) -> Result<Self, MappingError> {
        let mut all: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(&state_json(&r.state)?)
                .map_err(|e| MappingError::Json(DOCZ, e))?;
        let body: serde_json::Map<String, serde_json::Value> = doc(&r.body, DOC)?;
        all.extend(body);
        // The version attribute is the one conditions check: it wins.
        all.insert(VERSION.into(), get_n::<u64>(&r.state, VERSION)?.into());
        serde_json::from_value(serde_json::Value::Object(all))
            .map_err(|e| MappingError::Json(DOC, e))
    }
}

/// `v` as deflated JSON, a binary attribute (named `attr` in errors).
fn deflate<T: serde::Serialize>(attr: &'static str, v: &T) -> Result<AttributeValue, MappingError> {
    use std::io::Write as _;
    let json = serde_json::to_vec(v).map_err(|e| MappingError::Json(attr, e))?;
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&json)
        .and_then(|()| z.finish())
        .map(|b| AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(b)))
        .map_err(|e| MappingError::Invalid(attr, e.to_string()))
}

/// Deflated JSON back to text, at most [`DOCZ_MAX`] bytes of it.
fn inflate(attr: &'static str, z: &[u8]) -> Result<String, MappingError> {
    use std::io::Read as _;
    let mut out = String::new();
    flate2::read::DeflateDecoder::new(z)
        .take(DOCZ_MAX)
        .read_to_string(&mut out)
        .map_err(|e| MappingError::Invalid(attr, e.to_string()))?;
    Ok(out)
}

/// The JSON of a case's state item: `docz` inflated, or `doc` as written
/// before the state was deflated.
pub fn state_json(state: &Item) -> Result<String, MappingError> {
    match state.get(DOCZ) {
        Some(AttributeValue::B(b)) => inflate(DOCZ, b.as_ref()),
        Some(_) => Err(MappingError::WrongType(DOCZ)),
        None => get_s(state, DOC).map(String::from),
    }
}

/// The case id of a `CASE#<id>` partition key.
pub fn case_id_of(item: &Item) -> Result<CaseId, MappingError> {
    let pk = get_s(item, PK)?;
    pk.strip_prefix("CASE#")
        .and_then(CaseId::parse)
        .ok_or_else(|| MappingError::Invalid(PK, pk.into()))
}

// ----------------------------------------------------------------- events

pub fn event_item(id: &CaseId, e: &TimelineEvent) -> Result<Item, MappingError> {
    let mut item = key(case_pk(id), event_sk(e.version));
    item.insert(DOC.into(), to_doc(e)?);
    Ok(item)
}

pub fn event_from(item: &Item) -> Result<TimelineEvent, MappingError> {
    doc(item, DOC)
}

/// Carry a change's outbox entries on its event item ([`OUTZ`]; nothing
/// when there are none).
pub fn carry_outbox(event: &mut Item, ns: &[Notification]) -> Result<(), MappingError> {
    if !ns.is_empty() {
        event.insert(OUTZ.into(), deflate(OUTZ, &ns)?);
    }
    Ok(())
}

/// The outbox entries an event item carried ([`OUTZ`], its bytes).
pub fn carried_outbox(z: &[u8]) -> Result<Vec<Notification>, MappingError> {
    serde_json::from_str(&inflate(OUTZ, z)?).map_err(|e| MappingError::Json(OUTZ, e))
}

// ---------------------------------------------------------- access records

pub fn access_item(a: &pakn_core::ports::AccessRecord) -> Result<Item, MappingError> {
    let mut item = key(case_pk(&a.case_id), access_sk(&a.id));
    item.insert(DOC.into(), to_doc(a)?);
    Ok(item)
}

pub fn access_from(item: &Item) -> Result<pakn_core::ports::AccessRecord, MappingError> {
    doc(item, DOC)
}

pub fn account_from(item: &Item) -> Result<pakn_core::ports::Account, MappingError> {
    doc(item, DOC)
}

// ------------------------------------------- tracking, decisions taken

pub fn track_item(code: &str, id: &CaseId) -> Item {
    let mut item = key(track_pk(code), "TRACK");
    item.insert("case_id".into(), s(id.as_str()));
    item
}

/// Add `keys` to the state item's set of decisions taken ([`DECIDED`]).
pub fn record_decisions(state: &mut Item, keys: &[String]) {
    if keys.is_empty() {
        return;
    }
    let mut hs = match state.remove(DECIDED) {
        Some(AttributeValue::Ns(v)) => v,
        _ => vec![],
    };
    hs.extend(keys.iter().map(|k| decision_hash(k).to_string()));
    hs.sort();
    hs.dedup();
    state.insert(DECIDED.into(), AttributeValue::Ns(hs));
}

/// A decision key's 48 bits of SHA-256 (a number DynamoDB holds exactly):
/// among the handful of milestones of one case, a collision is about one in
/// 10^13.
pub fn decision_hash(key: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(key.as_bytes());
    d[..6]
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

// ------------------------------------------------------------ idempotency

pub fn idem_item(r: &IdemRecord) -> Item {
    {
        let mut item = key(idem_pk(&r.key), "IDEM");
        item.insert("body_hash".into(), s(&r.body_hash));
        item.insert("case_id".into(), s(r.case_id.as_str()));
        item.insert("tracking_code".into(), s(&r.tracking_code));
        item.insert(EXPIRES_AT.into(), n(r.expires_at.timestamp()));
        item.insert(TTL.into(), n(r.expires_at.timestamp()));
        item
    }
}

pub fn idem_from(item: &Item) -> Result<IdemRecord, MappingError> {
    let pk = get_s(item, PK)?;
    let case_id = get_s(item, "case_id")?;
    let secs: i64 = get_n(item, EXPIRES_AT)?;
    Ok(IdemRecord {
        key: pk
            .strip_prefix("IDEM#")
            .ok_or_else(|| MappingError::Invalid(PK, pk.into()))?
            .into(),
        body_hash: get_s(item, "body_hash")?.into(),
        case_id: CaseId::parse(case_id)
            .ok_or_else(|| MappingError::Invalid("case_id", case_id.into()))?,
        tracking_code: get_s(item, "tracking_code")?.into(),
        expires_at: DateTime::from_timestamp(secs, 0)
            .ok_or_else(|| MappingError::Invalid(EXPIRES_AT, secs.to_string()))?,
    })
}

// ----------------------------------------------------------------- outbox

pub fn outbox_item(nt: &Notification) -> Result<Item, MappingError> {
    {
        let (pk, sk) = outbox_key(&nt.dedup_id);
        let mut item = key(pk, sk);
        item.insert(DOC.into(), to_doc(nt)?);
        item.insert("created_at".into(), s(ts(nt.created_at)));
        item.insert(GSI1.pk.into(), s(PENDING));
        item.insert(
            GSI1.sk.into(),
            s(format!("{}#{}", ts(nt.created_at), nt.dedup_id)),
        );
        if !nt.unit.is_empty() {
            item.insert(GSI3.pk.into(), s(sent_pk(&nt.unit)));
            item.insert(
                GSI3.sk.into(),
                s(format!("{}#{}", ts(nt.created_at), nt.dedup_id)),
            );
        }
        Ok(item)
    }
}

/// An outbox entry as recorded once published (kept `retention_days` for
/// the unit's history, then expired by the TTL): off the `PENDING` index.
pub fn published_outbox_item(
    nt: &Notification,
    at: DateTime<Utc>,
    retention_days: i64,
) -> Result<Item, MappingError> {
    let mut item = outbox_item(nt)?;
    item.remove(GSI1.pk);
    item.remove(GSI1.sk);
    item.insert(PUBLISHED_AT.into(), s(ts(at)));
    item.insert(
        TTL.into(),
        n((at + chrono::Duration::days(retention_days)).timestamp()),
    );
    Ok(item)
}

pub fn notification_from(item: &Item) -> Result<Notification, MappingError> {
    doc(item, DOC)
}

/// When an outbox entry was published (`None` while pending).
pub fn published_at(item: &Item) -> Result<Option<DateTime<Utc>>, MappingError> {
    if item.contains_key(PUBLISHED_AT) {
        time(item, PUBLISHED_AT).map(Some)
    } else {
        Ok(None)
    }
}

// ---------------------------------------------------------------- accounts

pub fn account_item(a: &pakn_core::ports::Account) -> Result<Item, MappingError> {
    let mut item = key(account_pk(&a.sub), "ACCT");
    item.insert(DOC.into(), to_doc(a)?);
    Ok(item)
}

// ------------------------------------------------------------ inspections

pub fn inspection_item(i: &Inspection) -> Result<Item, MappingError> {
    {
        let mut item = key(inspection_pk(&i.id), "INSP");
        item.insert(DOC.into(), to_doc(i)?);
        item.insert(VERSION.into(), n(i.version));
        item.insert("unit".into(), s(i.unit.as_str()));
        // Top level for the condition that a closed inspection is final.
        item.insert("status".into(), s(&i.status));
        let sk = format!("{}#{}", ts(i.opened_at), i.id);
        item.insert(GSI1.pk.into(), s(inspections_pk(&i.status)));
        item.insert(GSI1.sk.into(), s(&sk));
        item.insert(GSI3.pk.into(), s(unit_inspections_pk(i.unit.as_str())));
        item.insert(GSI3.sk.into(), s(&sk));
        item.insert(GSI4.pk.into(), s(ALL_INSPECTIONS_PK));
        item.insert(GSI4.sk.into(), s(sk));
        Ok(item)
    }
}

pub fn inspection_from(item: &Item) -> Result<Inspection, MappingError> {
    let mut i: Inspection = doc(item, DOC)?;
    i.version = get_n(item, VERSION)?;
    Ok(i)
}

// ---------------------------------------------------- rosters, headcounts

pub fn roster_item(unit: &str, r: &Roster) -> Result<Item, MappingError> {
    let mut item = key(unit_pk(unit), "ROSTER");
    item.insert(DOC.into(), to_doc(r)?);
    Ok(item)
}

pub fn roster_from(item: &Item) -> Result<Roster, MappingError> {
    doc(item, DOC)
}

pub fn headcount_item(unit: &str, staff: u32) -> Item {
    let mut item = key(unit_pk(unit), "HEADCOUNT");
    item.insert("staff".into(), n(staff));
    item
}

// ---------------------------------------------------------------- rollups

/// A rollup row: its day and scope from its keys (`STATS#<yyyy-mm>` / `<dd>#<scope>`).
pub fn rollup_from(item: &Item) -> Result<Rollup, MappingError> {
    let pk = get_s(item, PK)?;
    let sk = get_s(item, SK)?;
    let (dd, scope) = sk
        .split_once('#')
        .ok_or_else(|| MappingError::Invalid(SK, sk.into()))?;
    let day = pk
        .strip_prefix("STATS#")
        .and_then(|m| NaiveDate::parse_from_str(&format!("{m}-{dd}"), "%Y-%m-%d").ok())
        .ok_or_else(|| MappingError::Invalid(PK, format!("{pk} / {sk}")))?;
    let mut counters = BTreeMap::new();
    for (k, v) in item {
        if let (Some(name), AttributeValue::N(x)) = (k.strip_prefix(COUNTER), v) {
            counters.insert(
                name.to_string(),
                x.parse()
                    .map_err(|_| MappingError::Invalid("counter", x.clone()))?,
            );
        }
    }
    Ok(Rollup {
        day: Some(day),
        scope: scope.into(),
        counters,
    })
}

/// A rollup row with these counters (for loading a table in bulk).
pub fn rollup_item(day: NaiveDate, scope: &str, counters: &BTreeMap<String, i64>) -> Item {
    let mut item = key(stats_pk(day), stats_sk(day, scope));
    for (k, v) in counters.iter().filter(|(_, v)| **v != 0) {
        item.insert(format!("{COUNTER}{k}"), n(v));
    }
    item
}

// --------------------------------------------------------------- snapshots

pub fn snapshot_item(snap: &Snapshot) -> Item {
    let mut item = key(snap_pk(snap.day.year()), snap_sk(snap.day));
    item.insert(DOC.into(), s(snap.to_json()));
    item
}

pub fn snapshot_from(item: &Item) -> Result<Snapshot, MappingError> {
    Snapshot::from_json(get_s(item, DOC)?).map_err(|e| MappingError::Invalid(DOC, e))
}

// ----------------------------------------------------------- unit summaries

/// Attributes of a unit's summary item.
pub const ROSTER_SIZE: &str = "roster_size";
pub const STAFF: &str = "staff";
pub const REGISTERED: &str = "registered";
pub const OPEN_INSPECTIONS: &str = "open_inspections";

/// A unit's summary item as a whole (for loading a table in bulk; pakn
/// itself only ever adds to and sets its attributes).
pub fn unit_summary_item(u: &UnitSummary) -> Item {
    let mut item = key(UNITS_PK, u.unit.as_str());
    item.insert(ROSTER_SIZE.into(), n(u.roster_size));
    if let Some(h) = u.headcount {
        item.insert(STAFF.into(), n(h));
    }
    item.insert(REGISTERED.into(), n(u.registered_officials));
    item.insert(OPEN_INSPECTIONS.into(), n(u.open_inspections));
    item
}

pub fn unit_summary_from(item: &Item) -> Result<UnitSummary, MappingError> {
    let code = get_s(item, SK)?;
    let unit = UnitCode::parse(code).map_err(|_| MappingError::Invalid(SK, code.into()))?;
    let num = |name: &'static str| -> Result<i64, MappingError> {
        match item.get(name) {
            None => Ok(0),
            Some(_) => get_n(item, name),
        }
    };
    Ok(UnitSummary {
        unit,
        roster_size: num(ROSTER_SIZE)?.max(0) as usize,
        headcount: item.get(STAFF).map(|_| get_n(item, STAFF)).transpose()?,
        registered_officials: num(REGISTERED)?,
        open_inspections: num(OPEN_INSPECTIONS)?,
    })
}

pub fn created_at(item: &Item) -> Result<DateTime<Utc>, MappingError> {
    time(item, "created_at")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use pakn_core::auth::Official;
    use pakn_core::notify::Audience;
    use pakn_core::unit::UnitCode;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 8, 4, 2, 0, 0).unwrap()
    }

    #[test]
    fn events_round_trip() {
        let id = CaseId::new(at());
        let e = TimelineEvent {
            at: at(),
            version: 3,
            action: "accept".into(),
            actor: "u1".into(),
            actor_role: "official".into(),
            channel: Some(pakn_core::case::Channel::Console),
            from_status: Some(pakn_core::case::Status::Assigned),
            to_status: Some(pakn_core::case::Status::InProgress),
            unit: Some(UnitCode::ward("00070")),
            text: Some("Đã nhận".into()),
            public: true,
            data: serde_json::json!({"k": 1}),
        };
        let item = event_item(&id, &e).unwrap();
        assert_eq!(get_s(&item, SK).unwrap(), "EVT#0000000003");
        assert_eq!(event_from(&item).unwrap(), e);
    }

    /// A citizen's lighting report in Hoàn Kiếm, just received.
    fn received() -> Case {
        Case::received(
            CaseId::new(at()),
            "HN-25-7K3QX".into(),
            pakn_core::case::Submission {
                kind: pakn_core::category::Kind::Field,
                category: "lighting".into(),
                title: "Đèn đường hỏng".into(),
                description: "Trước số 12".into(),
                urgency: pakn_core::category::Urgency::Normal,
                location: pakn_core::case::Location {
                    lat: 21.0285,
                    lng: 105.8542,
                    address: None,
                    ward_code: Some("00070".into()),
                },
                media: vec![],
                channel: pakn_core::case::Channel::App,
                contact: None,
            },
            "cong-dan-1".into(),
            pakn_core::auth::Role::Citizen,
            at(),
        )
    }

    #[test]
    fn the_state_is_deflated_and_a_state_written_before_is_still_read() {
        let c = received();
        let rec = CaseRecord::try_from(&c).unwrap();
        assert!(!rec.state.contains_key(DOC));
        let json = state_json(&rec.state).unwrap();
        assert!(json.contains("\"tracking_code\":\"HN-25-7K3QX\""), "{json}");
        let AttributeValue::B(z) = &rec.state[DOCZ] else {
            panic!("docz is binary")
        };
        assert!(z.as_ref().len() < json.len(), "smaller deflated");
        assert_eq!(Case::try_from(&rec).unwrap(), c);
        // As written before: the JSON itself in `doc`.
        let mut old = rec.clone();
        old.state.remove(DOCZ);
        old.state.insert(DOC.into(), s(&json));
        assert_eq!(Case::try_from(&old).unwrap(), c);
        // Neither, or garbage: a mapping error, not a panic.
        old.state.remove(DOC);
        assert!(matches!(
            Case::try_from(&old),
            Err(MappingError::Missing(DOC))
        ));
        old.state.insert(
            DOCZ.into(),
            AttributeValue::B(aws_sdk_dynamodb::primitives::Blob::new(vec![0xff; 16])),
        );
        assert!(Case::try_from(&old).is_err());
    }

    #[test]
    fn the_state_carries_the_decisions_taken_as_stable_hashes() {
        // Written by earlier deployments and checked by later ones: the
        // hash of a key must never change.
        assert_eq!(
            decision_hash("overdue@2025-08-05T10:00:00Z"),
            decision_hash("overdue@2025-08-05T10:00:00Z")
        );
        assert_eq!(decision_hash("a"), 0xca97_8112_ca1b);
        assert!(decision_hash("ack_due@x") < 1 << 48);
        assert_ne!(decision_hash("ack_due@x"), decision_hash("before_due@x"));

        let mut c = received();
        let rec = CaseRecord::try_from(&c).unwrap();
        assert!(!rec.state.contains_key(DECIDED), "nothing decided yet");
        c.milestones_done = vec!["ack_due@x".into(), "before_due@x".into()];
        let mut state = CaseRecord::try_from(&c).unwrap().state;
        // A commit adds its own decisions (here one already there, one new).
        record_decisions(&mut state, &["before_due@x".into(), "overdue@x".into()]);
        let AttributeValue::Ns(set) = &state[DECIDED] else {
            panic!("a number set")
        };
        let mut want: Vec<String> = ["ack_due@x", "before_due@x", "overdue@x"]
            .iter()
            .map(|k| decision_hash(k).to_string())
            .collect();
        want.sort();
        assert_eq!(set, &want, "each once");
    }

    #[test]
    fn a_closed_case_moves_to_the_retention_index_and_an_erased_one_leaves_the_submitter_index() {
        let mut c = received();
        let rec = CaseRecord::try_from(&c).unwrap();
        assert_eq!(get_s(&rec.state, GSI3.pk).unwrap(), "SUB#cong-dan-1");
        assert!(!rec.state.contains_key(GSI2.pk), "no next look, not closed");
        c.next_action_at = Some(at());
        let rec = CaseRecord::try_from(&c).unwrap();
        assert!(get_s(&rec.state, GSI2.pk).unwrap().starts_with("NEXT#"));
        c.status = pakn_core::case::Status::Closed;
        c.next_action_at = None;
        c.erase_after = Some(at());
        let rec = CaseRecord::try_from(&c).unwrap();
        assert_eq!(get_s(&rec.state, GSI2.pk).unwrap(), erase_pk(shard(&c.id)));
        assert_eq!(
            get_s(&rec.state, GSI2.sk).unwrap(),
            at_id(Some(at()), c.id.as_str())
        );
        c.erase_after = None;
        c.erased_at = Some(at());
        c.submitted_by = String::new();
        let rec = CaseRecord::try_from(&c).unwrap();
        for a in [GSI2.pk, GSI2.sk, GSI3.pk, GSI3.sk] {
            assert!(!rec.state.contains_key(a), "{a} left");
        }
        assert_eq!(Case::try_from(&rec).unwrap(), c);
    }

    #[test]
    fn idempotency_records_round_trip() {
        let r = IdemRecord {
            key: "abc".into(),
            body_hash: "h".into(),
            case_id: CaseId::new(at()),
            tracking_code: "HN-25-7K3QX".into(),
            expires_at: at(),
        };
        let item = idem_item(&r);
        assert_eq!(get_n::<i64>(&item, TTL).unwrap(), at().timestamp());
        assert_eq!(idem_from(&item).unwrap(), r);
    }

    #[test]
    fn outbox_entries_round_trip_and_live_with_their_case() {
        let id = CaseId::new(at());
        let n = Notification {
            dedup_id: format!("{id}:assigned:v2"),
            event: "case.assigned".into(),
            unit: "ward:00070".into(),
            urgency: "normal".into(),
            audience: vec![Audience::Unit],
            case_id: Some(id.clone()),
            body: serde_json::json!({"x": "ý"}),
            created_at: at(),
        };
        let item = outbox_item(&n).unwrap();
        assert_eq!(get_s(&item, PK).unwrap(), case_pk(&id));
        assert_eq!(get_s(&item, GSI1.pk).unwrap(), PENDING);
        assert_eq!(get_s(&item, GSI3.pk).unwrap(), format!("SENT#{}", n.unit));
        assert_eq!(notification_from(&item).unwrap(), n);
        assert_eq!(published_at(&item).unwrap(), None);
        let digest = Notification {
            dedup_id: "digest:ward:00070:2025-08-04".into(),
            case_id: None,
            ..n
        };
        assert_eq!(
            get_s(&outbox_item(&digest).unwrap(), PK).unwrap(),
            "OUT#digest:ward:00070:2025-08-04"
        );
    }

    #[test]
    fn inspections_rosters_rollups_round_trip() {
        let id = CaseId::new(at());
        let mut i = Inspection::for_overdue_case(
            &id,
            &UnitCode::ward("00070"),
            at(),
            serde_json::json!({}),
        );
        i.version = 4;
        let item = inspection_item(&i).unwrap();
        assert_eq!(get_s(&item, GSI1.pk).unwrap(), "INSPECTIONS#open");
        assert_eq!(get_s(&item, GSI3.pk).unwrap(), "INSPU#ward:00070");
        assert_eq!(get_s(&item, GSI4.pk).unwrap(), "INSPS");
        assert_eq!(inspection_from(&item).unwrap(), i);
        let r = Roster {
            officials: vec![Official {
                sub: "u1".into(),
                name: "Lê C".into(),
                title: String::new(),
            }],
            updated_at: Some(at()),
            updated_by: None,
        };
        assert_eq!(
            roster_from(&roster_item("ward:00070", &r).unwrap()).unwrap(),
            r
        );
        let d = NaiveDate::from_ymd_opt(2025, 8, 4).unwrap();
        let mut row = key(stats_pk(d), stats_sk(d, "ward:00070"));
        assert_eq!(
            (get_s(&row, PK).unwrap(), get_s(&row, SK).unwrap()),
            ("STATS#2025-08", "04#ward:00070")
        );
        row.insert(format!("{COUNTER}received"), n(3));
        row.insert(format!("{COUNTER}h2"), n(1));
        let got = rollup_from(&row).unwrap();
        assert_eq!((got.scope.as_str(), got.day), ("ward:00070", Some(d)));
        assert_eq!(
            got.counters,
            BTreeMap::from([("received".to_string(), 3), ("h2".to_string(), 1)])
        );
    }

    #[test]
    fn snapshots_and_unit_summaries_round_trip() {
        let snap = Snapshot::genesis(
            NaiveDate::from_ymd_opt(2025, 8, 4).unwrap(),
            &[],
            &BTreeMap::from([("ward:00070".to_string(), (3, 1))]),
        );
        let item = snapshot_item(&snap);
        assert_eq!(
            (get_s(&item, PK).unwrap(), get_s(&item, SK).unwrap()),
            ("SNAP#2025", "2025-08-04")
        );
        assert_eq!(snapshot_from(&item).unwrap(), snap);
        let mut u = key(UNITS_PK, "ward:00070");
        u.insert(ROSTER_SIZE.into(), n(2));
        u.insert(REGISTERED.into(), n(5));
        assert_eq!(
            unit_summary_from(&u).unwrap(),
            UnitSummary {
                roster_size: 2,
                registered_officials: 5,
                ..UnitSummary::empty(UnitCode::ward("00070"))
            }
        );
        u.insert(STAFF.into(), n(0));
        let got = unit_summary_from(&u).unwrap();
        assert_eq!(got.headcount, Some(0));
        assert_eq!(unit_summary_from(&unit_summary_item(&got)).unwrap(), got);
    }

    #[test]
    fn bad_items_are_errors_not_panics() {
        let mut item = key("CASE#x", "EVT#1");
        assert!(matches!(event_from(&item), Err(MappingError::Missing(DOC))));
        item.insert(DOC.into(), n(1));
        assert!(matches!(
            event_from(&item),
            Err(MappingError::WrongType(DOC))
        ));
        item.insert(DOC.into(), s("{"));
        assert!(matches!(event_from(&item), Err(MappingError::Json(DOC, _))));
        assert!(case_id_of(&item).is_err());
    }
}
