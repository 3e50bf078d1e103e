//! Ward boundaries in the store contract (both backends, through
//! `for_each_contract_test!`): versions stored whole and made current, a
//! map larger than one DynamoDB item, and the router finding a report's
//! ward from its point with them (or not, before any load).

use super::{create, t0};
use chrono::Duration;
use pakn_core::Pakn;
use pakn_core::case::{Case, Status};
use pakn_core::notify::Notification;
use pakn_core::ports::{ManualClock, Notifier, Store, StoreResult};
use pakn_core::refdata::RefData;
use pakn_core::routing::{RouteResult, WardCache};
use pakn_core::unit::UnitCode;
use pakn_core::wards::{WardBoundary, WardMap, parse_geojson};
use pakn_testkit::sample_case;
use pakn_testkit::wards::{INSIDE_70, INSIDE_73, OUTSIDE, geojson};
use std::sync::Arc;

struct Discard;

#[async_trait::async_trait]
impl Notifier for Discard {
    async fn publish(&self, _: &Notification) -> StoreResult<()> {
        Ok(())
    }
}

fn pakn(store: &Arc<dyn Store>) -> Pakn {
    let mut pakn = Pakn::new(
        store.clone(),
        Arc::new(Discard),
        Arc::new(ManualClock::new(t0() + Duration::minutes(1))),
        Arc::new(RefData::embedded()),
    );
    // Every message looks at the current version (tests load between messages).
    pakn.wards = Arc::new(WardCache::new(std::time::Duration::ZERO));
    pakn
}

/// The same map, up to the last bit of a coordinate (serde_json's default
/// float parsing may be one unit in the last place off).
#[track_caller]
fn assert_same(got: Option<WardMap>, want: &WardMap) {
    let got = got.expect("the version is stored");
    assert_eq!(got.info(), want.info());
    assert_eq!(got.wards.len(), want.wards.len());
    for (g, w) in got.wards.iter().zip(&want.wards) {
        assert_eq!(g.ward_code, w.ward_code);
        let flat = |b: &WardBoundary| -> Vec<[f64; 2]> {
            b.polygons.iter().flatten().flatten().copied().collect()
        };
        let (gf, wf) = (flat(g), flat(w));
        assert_eq!(gf.len(), wf.len(), "{}", g.ward_code);
        assert!(
            gf.iter()
                .zip(&wf)
                .all(|(a, b)| (a[0] - b[0]).abs() < 1e-12 && (a[1] - b[1]).abs() < 1e-12),
            "{}: coordinates differ",
            g.ward_code
        );
    }
}

fn synthetic() -> WardMap {
    let p = parse_geojson(&geojson(), &RefData::embedded()).expect("valid");
    WardMap::new(p.wards, p.missing, t0())
}

/// A case at `(lat, lng)` naming `ward` (or none).
async fn report(store: &dyn Store, n: i64, ward: Option<&str>, (lat, lng): (f64, f64)) -> Case {
    let mut c = sample_case(t0() + Duration::seconds(n), "cong-dan-1");
    c.location.ward_code = ward.map(str::to_string);
    c.location.lat = lat;
    c.location.lng = lng;
    create(store, &c).await;
    c
}

async fn route(p: &Pakn, c: &Case) -> Case {
    assert!(matches!(
        p.routing().route_case(&c.id).await.expect("route"),
        RouteResult::Routed(_)
    ));
    p.cases.get_case(&c.id).await.unwrap().unwrap()
}

pub async fn ward_boundaries_are_versioned_and_route_reports_by_their_point(store: Arc<dyn Store>) {
    let p = pakn(&store);
    assert_eq!(store.current_ward_map().await.unwrap(), None);
    // Before any boundaries: as always, no ward_code → triage, no check.
    let before = route(&p, &report(&*store, 1, None, INSIDE_73).await).await;
    assert_eq!(before.status, Status::Triage);
    assert_eq!(before.ward_check, None);

    let map = synthetic();
    store.put_ward_map(&map).await.unwrap();
    assert_eq!(store.current_ward_map().await.unwrap(), Some(map.info()));
    assert_same(store.ward_map(&map.version).await.unwrap(), &map);
    assert_eq!(store.ward_map("no-such-version").await.unwrap(), None);

    let found = route(&p, &report(&*store, 2, None, INSIDE_73).await).await;
    assert_eq!(found.status, Status::Assigned);
    assert_eq!(found.unit, Some(UnitCode::ward("00073")));
    let check = found.ward_check.expect("checked against the boundaries");
    assert_eq!(check.boundaries, map.version);
    assert!(!check.mismatch);

    let flagged = route(&p, &report(&*store, 3, Some("00070"), INSIDE_73).await).await;
    assert_eq!(flagged.unit, Some(UnitCode::ward("00070")));
    assert!(flagged.ward_check.unwrap().mismatch);

    let outside = route(&p, &report(&*store, 4, None, OUTSIDE).await).await;
    assert_eq!(outside.status, Status::Triage);

    // A second version, bigger than one DynamoDB item: 00073 alone, as a
    // circle of 20,000 vertices around the point that was 00070's.
    let (lat, lng) = INSIDE_70;
    let mut ring: Vec<[f64; 2]> = (0..20_000)
        .map(|i| {
            let a = i as f64 / 20_000.0 * std::f64::consts::TAU;
            [lng + 0.01 * a.cos(), lat + 0.01 * a.sin()]
        })
        .collect();
    ring.push(ring[0]);
    let big = WardMap::new(
        vec![WardBoundary {
            ward_code: "00073".into(),
            polygons: vec![vec![ring]],
        }],
        vec![],
        t0() + Duration::hours(1),
    );
    assert!(serde_json::to_string(&big).unwrap().len() > 400_000);
    store.put_ward_map(&big).await.unwrap();
    assert_eq!(store.current_ward_map().await.unwrap(), Some(big.info()));
    assert_same(store.ward_map(&big.version).await.unwrap(), &big);
    // The older version stays readable; the router uses the new one.
    assert_same(store.ward_map(&map.version).await.unwrap(), &map);
    let moved = route(&p, &report(&*store, 5, None, INSIDE_70).await).await;
    assert_eq!(moved.unit, Some(UnitCode::ward("00073")));
    assert_eq!(moved.ward_check.unwrap().boundaries, big.version);
}
