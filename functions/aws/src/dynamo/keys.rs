//! The single-table layout: key formats, index names and attributes. The
//! table definition in [`crate::provision`] and `template.yaml` are built
//! from (and tested against) these names.
//!
//! | item | pk | sk | indexes |
//! |---|---|---|---|
//! | case state (small, rewritten on every change; `dn` the hashes of the milestones decided, the reminder ledger) | `CASE#<id>` | `CASE` | GSI1 unit queue `UNIT#<unit>#<status>` / `<received_at>#<id>` (projects `due`); GSI2 sparse sharded next look `NEXT#<shard>` / `<next_action_at>#<id>` while open, then the retention index `ERASE#<shard>` / `<erase_after>#<id>` once closed, until erased; GSI3 submitter `SUB#<sub>` / `<received_at>#<id>` until the reporter's data is erased; GSI4 received year `RECV#<yyyy>` / `<received_at>#<id>`; GSI5 sparse sharded open-by-due `OPEN#<shard>` / `<resolve_due>#<id>` |
//! | case submission (written once, rewritten by an erasure) | `CASE#<id>` | `BODY` (`idem`: the idempotency key it was created with) | |
//! | access record (an export of the case's personal data) | `CASE#<id>` | `ACC#<instant>#<ulid>` | |
//! | timeline event (publishing from the stream, `outz`: the change's outbox entries, deflated) | `CASE#<id>` | `EVT#<version, 10 digits>` | |
//! | tracking code | `TRACK#<code>` | `TRACK` | |
//! | idempotency record | `IDEM#<key hash>` | `IDEM` | TTL `ttl` |
//! | outbox (decided notification) of a case | `CASE#<id>` | `OUT#<dedup id>` | GSI1 `PENDING` / `<created_at>#<dedup id>` while unpublished (publishing inline), or only once parked (publishing from the table's stream, where an entry is stored only once published or parked, having travelled on its event's `outz`: see `stream.rs`); GSI3 the unit's notifications `SENT#<unit>` / `<created_at>#<dedup id>` |
//! | outbox entry without a case (digests) | `OUT#<dedup id>` | `OUT` | same; TTL after publishing |
//! | account (registration drive) | `ACCT#<sub>` | `ACCT` | |
//! | account counter | `ACCTS#<scope key>` | `N` | |
//! | marker (e.g. daily checks done) | `MARK#<key>` | `MARK` | |
//! | client application's API key (its SHA-256 in `doc`) | `APIKEY#<id>` | `APIKEY` | GSI1 `APIKEYS` / `<created_at>#<id>` |
//! | quota counter (`n`) of a key and window | `QUOTA#<key>#<window start, Unix s>` | `QUOTA` | TTL `ttl` = window end |
//! | inspection | `INSP#<id>` | `INSP` | GSI1 `INSPECTIONS#<status>` / `<opened_at>#<id>`; GSI3 the unit's `INSPU#<unit>` / same; GSI4 all `INSPS` / same |
//! | roster, headcount | `UNIT#<code>` | `ROSTER`, `HEADCOUNT` | |
//! | unit summary (roster size, headcount, registered officials, open inspections) | `UNITS` | `<unit>` | |
//! | daily rollup row of a scope (`ALL` or a unit) | `STATS#<yyyy-mm>` | `<dd>#<scope>` | |
//! | daily snapshot (every scope at the end of a day) | `SNAP#<yyyy>` | `<yyyy-mm-dd>` | |
//! | a citizen following a case (see `followers.rs`) | `CASE#<id>` | `FOLLOW#<sub>` | GSI3 `FOLLOWS#<sub>` / `<since>#<id>` |
//! | ward boundaries: chunks and manifest of a version; the current version (see `wards.rs`) | `WARDS#<version>`; `WARDS` | `CHUNK#<nnnn>`, `MANIFEST`; `CURRENT` | |
//!
//! Departures from ARCHITECTURE.md, and why:
//! - Publishing marks an outbox entry by its dedup id alone: the key is
//!   derived from it ([`outbox_key`]).
//! - Rollups live in one item collection per month (`STATS#<yyyy-mm>`),
//!   sorted by day then scope: every unit's rows of a day or a month are one
//!   `Query`, one scope's days a `BatchGetItem` of known keys. Each change
//!   adds to one row (its unit's). Periods are answered from the daily
//!   snapshots (`SNAP#<yyyy>`, one item for the whole city per day), two per
//!   month of the period, all in one `BatchGetItem` (pakn-core `aggregate`).
//! - The facts a scorecard needs beside the rollups (roster size, headcount,
//!   registered officials, open inspections) are kept, as they change, in
//!   one item per unit in one collection (`UNITS`): every unit's is one `Query`.
//! - Every index projects keys only. Index copies are then rewritten only
//!   when a key moves (not on every change of the case), which keeps the
//!   write units of a lifecycle low; reads fetch the items by key after the
//!   index query, with strong consistency, which also filters out index
//!   entries that lag behind the table.
//! - Listings are newest first everywhere (the contract), so every listing
//!   index sorts by `<received_at>#<id>`: a listing over several partitions
//!   (a unit's statuses, the years of receipt) is a merge, and its cursor is
//!   simply the last sort key returned. The unit index projects `due`
//!   (resolve_due) so a unit's overdue cases are counted with a filter.
//! - The retention index shares GSI2 with the "next look": a case leaves
//!   the next-look partitions when it closes (no milestone is left) and
//!   enters the `ERASE#` ones in the same write, so the index entry moves
//!   rather than a new index or item being added; the template is unchanged.
//! - GSI6 (nearby) holds each open case under the precision-6 geohash cell
//!   of its point (about 1.2 km x 0.6 km) and its category; its keys never
//!   move (place and category are fixed at intake), so it costs one index
//!   write when the case is created and one when it closes. The nearby
//!   search queries only the cells its box touches (one to four for 250 m),
//!   computes distances from the sort keys, and reads only the nearest cases.
//! - GSI5 (open by due) answers the city-wide open/overdue counts without
//!   a scan; GSI4 (year of receipt) lists every case for inspectors and
//!   admins.

use chrono::{DateTime, Utc};
use pakn_core::ids::CaseId;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
/// TTL attribute (epoch seconds). DynamoDB deletes lazily; the code never trusts it.
pub const TTL: &str = "ttl";

/// Shards of the "next look" and "open" indexes (spread writes; queries fan out over all).
pub const SHARDS: u32 = 4;

/// A global secondary index: name and key attributes (all strings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gsi {
    pub name: &'static str,
    pub pk: &'static str,
    pub sk: &'static str,
}

pub const GSI1: Gsi = Gsi {
    name: "gsi1",
    pk: "gsi1pk",
    sk: "gsi1sk",
};
pub const GSI2: Gsi = Gsi {
    name: "gsi2",
    pk: "gsi2pk",
    sk: "gsi2sk",
};
pub const GSI3: Gsi = Gsi {
    name: "gsi3",
    pk: "gsi3pk",
    sk: "gsi3sk",
};
pub const GSI4: Gsi = Gsi {
    name: "gsi4",
    pk: "gsi4pk",
    sk: "gsi4sk",
};
pub const GSI5: Gsi = Gsi {
    name: "gsi5",
    pk: "gsi5pk",
    sk: "gsi5sk",
};
/// Sparse: open cases by category and place (see [`near_pk`]).
pub const GSI6: Gsi = Gsi {
    name: "gsi6",
    pk: "gsi6pk",
    sk: "gsi6sk",
};
pub const GSIS: [Gsi; 6] = [GSI1, GSI2, GSI3, GSI4, GSI5, GSI6];

/// The nearby index's partition of a category and a geohash cell
/// (precision [`pakn_core::nearby::CELL_PRECISION`]).
pub fn near_pk(category: &str, cell: &str) -> String {
    format!("NEAR#{category}#{cell}")
}

/// The nearby index's sort key: the point (so the distance is computed
/// from the index alone, before any case is read) and the id.
pub fn near_sk(lat: f64, lng: f64, id: &str) -> String {
    format!("{lat:.7}#{lng:.7}#{id}")
}

/// The point and id of a [`near_sk`].
pub fn parse_near_sk(sk: &str) -> Option<(f64, f64, &str)> {
    let mut it = sk.splitn(3, '#');
    let lat = it.next()?.parse().ok()?;
    let lng = it.next()?.parse().ok()?;
    Some((lat, lng, it.next()?))
}

pub const SK_CASE: &str = "CASE";
pub const SK_BODY: &str = "BODY";

pub fn case_pk(id: &CaseId) -> String {
    format!("CASE#{id}")
}
pub fn event_sk(version: u64) -> String {
    format!("EVT#{version:010}")
}
pub fn track_pk(code: &str) -> String {
    format!("TRACK#{code}")
}
/// A quota counter: the window is in the key (TTL deletion is lazy, and
/// moto never deletes), so an old window's item is never read again.
pub fn quota_pk(key: &str, window_start: DateTime<Utc>) -> String {
    format!("QUOTA#{key}#{}", window_start.timestamp())
}

pub fn api_key_pk(id: &str) -> String {
    format!("APIKEY#{id}")
}
/// The index partition listing every API key.
pub const API_KEYS: &str = "APIKEYS";

pub fn idem_pk(key: &str) -> String {
    format!("IDEM#{key}")
}
/// Where an outbox entry lives, from its dedup id alone (publishing marks it
/// by that id): a case's decisions (`<case id>:<key>`) in the case's
/// partition (`CASE#<id>` / `OUT#<dedup id>`), so a case's outbox is one
/// query; decisions without a case (digests) under `OUT#<dedup id>` / `OUT`.
pub fn outbox_key(dedup_id: &str) -> (String, String) {
    match dedup_id
        .split_once(':')
        .and_then(|(id, _)| CaseId::parse(id).filter(|c| c.as_str() == id))
    {
        Some(id) => (case_pk(&id), format!("OUT#{dedup_id}")),
        None => (format!("OUT#{dedup_id}"), "OUT".into()),
    }
}
pub fn account_pk(sub: &str) -> String {
    format!("ACCT#{sub}")
}
pub fn account_count_pk(scope: &str) -> String {
    format!("ACCTS#{scope}")
}
pub fn marker_pk(key: &str) -> String {
    format!("MARK#{key}")
}
pub fn inspection_pk(id: &str) -> String {
    format!("INSP#{id}")
}
pub fn unit_pk(code: &str) -> String {
    format!("UNIT#{code}")
}
/// The item collection of a month's rollup rows.
pub fn stats_pk(day: chrono::NaiveDate) -> String {
    format!("STATS#{}", day.format("%Y-%m"))
}
/// A rollup row's sort key: day of the month, then scope.
pub fn stats_sk(day: chrono::NaiveDate, scope: &str) -> String {
    format!("{}#{scope}", day.format("%d"))
}
pub fn snap_pk(year: i32) -> String {
    format!("SNAP#{year:04}")
}
pub fn snap_sk(day: chrono::NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}
/// Every unit's summary item lives in this one collection.
pub const UNITS_PK: &str = "UNITS";
/// A unit's inspections on GSI3 (which cases and outbox entries use with other partitions).
pub fn unit_inspections_pk(unit: &str) -> String {
    format!("INSPU#{unit}")
}
/// Every inspection on GSI4 (cases use it by year of receipt).
pub const ALL_INSPECTIONS_PK: &str = "INSPS";
pub fn unit_queue_pk(unit: &str, status: &str) -> String {
    format!("UNIT#{unit}#{status}")
}
pub fn next_pk(shard: u32) -> String {
    format!("NEXT#{shard}")
}
/// The retention index: closed cases by `erase_after` (GSI2, see above).
pub fn erase_pk(shard: u32) -> String {
    format!("ERASE#{shard}")
}
pub fn access_sk(id: &str) -> String {
    format!("ACC#{id}")
}
pub fn open_pk(shard: u32) -> String {
    format!("OPEN#{shard}")
}
pub fn sub_pk(sub: &str) -> String {
    format!("SUB#{sub}")
}
pub fn recv_pk(year: i32) -> String {
    format!("RECV#{year:04}")
}
pub const PENDING: &str = "PENDING";
/// A unit's notifications (`GET /v1/units/{code}/notifications`): the outbox
/// entries on GSI3, which case items use for their submitter. One index
/// serves both item kinds (their partition keys never collide), so the
/// table keeps its five indexes and the template is unchanged.
pub fn sent_pk(unit: &str) -> String {
    format!("SENT#{unit}")
}
pub fn inspections_pk(status: &str) -> String {
    format!("INSPECTIONS#{status}")
}

/// Instants in sort keys: fixed width, so string order is time order.
pub fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A sort key "at this instant, this id"; `None` sorts after every instant.
pub fn at_id(t: Option<DateTime<Utc>>, id: &str) -> String {
    match t {
        Some(t) => format!("{}#{id}", ts(t)),
        None => format!("~#{id}"),
    }
}

/// The shard of a case (FNV-1a of its id): stable, evenly spread.
pub fn shard(id: &CaseId) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in id.as_str().bytes() {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h % SHARDS
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn instants_sort_as_strings() {
        let a = Utc.with_ymd_and_hms(2025, 7, 1, 9, 0, 0).unwrap();
        let b = a + chrono::Duration::milliseconds(5);
        assert!(ts(a) < ts(b));
        assert_eq!(ts(a), "2025-07-01T09:00:00.000Z");
        assert!(at_id(Some(a), "X") < ts(b), "due before now is overdue");
        assert!(at_id(Some(b), "X") > ts(b), "due == now is not overdue");
        assert!(at_id(None, "X") > ts(b));
        assert_eq!(event_sk(12), "EVT#0000000012");
    }

    #[test]
    fn shards_spread() {
        let now = Utc::now();
        let mut seen = [0; SHARDS as usize];
        for _ in 0..400 {
            seen[shard(&CaseId::new(now)) as usize] += 1;
        }
        assert!(seen.iter().all(|n| *n > 50), "{seen:?}");
    }
}
