//! The nearby search in the store contract (both backends): open cases of a
//! category within the radius, nearest first, at most the limit; just
//! outside the radius, other categories and closed cases left out; around a
//! point where four geohash cells meet, so the search must read
//! neighbouring cells.

use super::{changed, commit_of, create, routed, t0, ward70};
use chrono::Duration;
use pakn_core::case::{Case, Status};
use pakn_core::nearby::{CELL_PRECISION, cell_size, distance_m, geohash};
use pakn_core::ports::{NearQuery, Store};
use pakn_testkit::sample_case;
use std::sync::Arc;

/// A point where four precision-6 geohash cells meet, in Hoàn Kiếm.
fn corner() -> (f64, f64) {
    let (dlat, dlng) = cell_size(CELL_PRECISION);
    let lat = -90.0 + ((21.0285 + 90.0) / dlat).round() * dlat;
    let lng = -180.0 + ((105.8542 + 180.0) / dlng).round() * dlng;
    (lat, lng)
}

/// The point `d` metres from `(lat, lng)` at `bearing` degrees (0 north, 90 east).
fn offset((lat, lng): (f64, f64), d: f64, bearing: f64) -> (f64, f64) {
    let r = pakn_core::nearby::EARTH_RADIUS_M;
    let (b, d) = (bearing.to_radians(), d / r);
    let p1 = lat.to_radians();
    let p2 = (p1.sin() * d.cos() + p1.cos() * d.sin() * b.cos()).asin();
    let l2 = lng.to_radians() + (b.sin() * d.sin() * p1.cos()).atan2(d.cos() - p1.sin() * p2.sin());
    (p2.to_degrees(), l2.to_degrees())
}

async fn case_at(store: &dyn Store, n: i64, category: &str, (lat, lng): (f64, f64)) -> Case {
    let mut c = sample_case(t0() + Duration::seconds(n), "cong-dan-gan");
    c.category = category.into();
    c.location.lat = lat;
    c.location.lng = lng;
    create(store, &c).await;
    c
}

pub async fn nearby_lists_open_cases_of_a_category_nearest_first(store: Arc<dyn Store>) {
    let center = corner();
    // The four quadrants around the corner are four different cells.
    let cells: std::collections::BTreeSet<_> = [45.0, 135.0, 225.0, 315.0]
        .iter()
        .map(|b| {
            let (la, ln) = offset(center, 50.0, *b);
            geohash(la, ln, CELL_PRECISION)
        })
        .collect();
    assert_eq!(cells.len(), 4);

    let s = &*store;
    // Inside 250 m, in every quadrant: 240 m (just inside), 30 m, 100 m, 180 m, 200 m, 220 m.
    let inside = [
        (240.0, 10.0),
        (30.0, 100.0),
        (100.0, 190.0),
        (180.0, 280.0),
        (200.0, 45.0),
        (220.0, 300.0),
    ];
    let mut want = Vec::new();
    for (i, (d, b)) in inside.iter().enumerate() {
        let c = case_at(s, i as i64, "drainage", offset(center, *d, *b)).await;
        want.push((*d, c.id.clone()));
    }
    // Just outside: 260 m.
    let far = case_at(s, 10, "drainage", offset(center, 260.0, 200.0)).await;
    // Another category, 10 m away.
    let other = case_at(s, 11, "lighting", offset(center, 10.0, 0.0)).await;
    // A drainage case 20 m away, routed then closed: not open any more.
    let closed = case_at(s, 12, "drainage", offset(center, 20.0, 250.0)).await;
    let r = routed(&closed, ward70());
    s.commit(&commit_of(closed.version, r.clone()))
        .await
        .unwrap();
    let shut = changed(&r.case, |c| {
        c.status = Status::Closed;
        c.closed_at = Some(c.updated_at);
        c.next_action_at = None;
    });
    s.commit(&commit_of(r.case.version, shut)).await.unwrap();
    // A routed (assigned) case 60 m away is open and listed.
    let assigned = case_at(s, 13, "drainage", offset(center, 60.0, 160.0)).await;
    s.commit(&commit_of(assigned.version, routed(&assigned, ward70())))
        .await
        .unwrap();
    want.push((60.0, assigned.id.clone()));
    want.sort_by(|a, b| a.0.total_cmp(&b.0));

    let q = |limit| NearQuery {
        category: "drainage".into(),
        lat: center.0,
        lng: center.1,
        radius_m: 250.0,
        limit,
    };
    let got = s.open_cases_near(&q(5)).await.unwrap();
    let ids: Vec<_> = got.iter().map(|c| c.id.clone()).collect();
    let expect: Vec<_> = want.iter().take(5).map(|(_, id)| id.clone()).collect();
    assert_eq!(ids, expect, "the five nearest, nearest first");
    // Everything inside, with a larger limit: 7 cases, none of the others.
    let all = s.open_cases_near(&q(50)).await.unwrap();
    assert_eq!(all.len(), 7);
    for c in &all {
        assert!(distance_m(center.0, center.1, c.location.lat, c.location.lng) <= 250.0);
        assert!(c.id != far.id && c.id != other.id && c.id != closed.id);
    }
    // The lighting case alone in its category.
    let lighting = s
        .open_cases_near(&NearQuery {
            category: "lighting".into(),
            ..q(5)
        })
        .await
        .unwrap();
    assert_eq!(
        lighting.iter().map(|c| &c.id).collect::<Vec<_>>(),
        [&other.id]
    );
    // Nothing around a point far away.
    let empty = s
        .open_cases_near(&NearQuery {
            lat: 21.2,
            lng: 105.6,
            ..q(5)
        })
        .await
        .unwrap();
    assert!(empty.is_empty());
}
