//! Ward boundaries (pakn_core::wards) and routing by a map point
//! (routing::target_with), on the synthetic boundaries of
//! `pakn_testkit::wards`: two wards sharing a border, a hole with an island
//! ward in it, a MultiPolygon.

use crate::common::{hn, new_case, rd, unit};
use chrono::Utc;
use pakn_core::category::Urgency;
use pakn_core::routing::{target, target_with};
use pakn_core::wards::{WardFileError, WardIndex, WardMap, parse_geojson};
use pakn_testkit::wards::*;
use serde_json::json;

fn index_of(text: &str) -> WardIndex {
    let p = parse_geojson(text, rd()).expect("a valid file");
    WardIndex::new(&WardMap::new(p.wards, p.missing, Utc::now()))
}

fn at(ix: &WardIndex, (lat, lng): (f64, f64)) -> Option<String> {
    ix.ward_at(lat, lng).map(str::to_string)
}

#[test]
fn each_point_finds_the_ward_whose_closed_area_holds_it() {
    let ix = index_of(&geojson());
    let w = |s: &str| Some(s.to_string());
    assert_eq!(at(&ix, INSIDE_70), w("00070"));
    assert_eq!(at(&ix, INSIDE_73), w("00073"));
    // The shared border: both wards' closed areas hold it; the lower code wins.
    assert_eq!(at(&ix, ON_SHARED_BORDER), w("00070"));
    // A corner shared by the two wards too.
    assert_eq!(at(&ix, (21.02, 105.82)), w("00070"));
    // A hole is not the ward's; its island is another ward's.
    assert_eq!(at(&ix, IN_HOLE), None);
    assert_eq!(at(&ix, IN_ISLAND), w("00008"));
    // The hole's ring is the ward's boundary, so in its closed area.
    assert_eq!(at(&ix, ON_HOLE_RING), w("00070"));
    // Where the island touches the hole's ring both qualify: 00008 < 00070.
    assert_eq!(at(&ix, (21.005, 105.806)), w("00008"));
    // Either part of a MultiPolygon, nothing in between.
    assert_eq!(at(&ix, IN_SECOND_PART_OF_4), w("00004"));
    assert_eq!(at(&ix, (21.005, 105.905)), w("00004"));
    assert_eq!(at(&ix, BETWEEN_PARTS_OF_4), None);
    assert_eq!(at(&ix, OUTSIDE), None);
    assert_eq!(at(&ix, (f64::NAN, 105.81)), None);
}

#[test]
fn the_border_rule_does_not_depend_on_the_order_of_the_features() {
    let mut f = features();
    f.reverse();
    let ix = index_of(&collection(f));
    assert_eq!(at(&ix, ON_SHARED_BORDER).as_deref(), Some("00070"));
    assert_eq!(at(&ix, (21.005, 105.806)).as_deref(), Some("00008"));
    // The same boundaries in another order are the same version.
    let p1 = parse_geojson(&geojson(), rd()).unwrap();
    let p2 = parse_geojson(&collection(features().into_iter().rev().collect()), rd()).unwrap();
    assert_eq!(
        WardMap::new(p1.wards, p1.missing, Utc::now()).version,
        WardMap::new(p2.wards, p2.missing, Utc::now()).version
    );
}

#[test]
fn a_file_is_checked_against_the_126_wards() {
    let p = parse_geojson(&geojson(), rd()).unwrap();
    let codes: Vec<_> = p.wards.iter().map(|w| w.ward_code.as_str()).collect();
    // Sorted, the number 4 normalised to "00004".
    assert_eq!(codes, ["00004", "00008", "00070", "00073"]);
    assert_eq!(p.missing.len(), 126 - 4);
    assert!(!p.missing.contains(&"00070".to_string()));
    // Two features of one ward are merged into one ward of two polygons.
    let mut f = features();
    f.push(json!({"type":"Feature","properties":{"ward_code":"00073"},
        "geometry":{"type":"Polygon","coordinates":[[[106.0,21.0],[106.1,21.0],[106.1,21.1],[106.0,21.0]]]}}));
    let p = parse_geojson(&collection(f), rd()).unwrap();
    let w73 = p.wards.iter().find(|w| w.ward_code == "00073").unwrap();
    assert_eq!(w73.polygons.len(), 2);
}

#[test]
fn unknown_codes_and_broken_geometry_refuse_the_file() {
    let mut f = features();
    f.push(json!({"type":"Feature","properties":{"ward_code":"99999"},
        "geometry":{"type":"Polygon","coordinates":[[[1.0,1.0],[2.0,1.0],[2.0,2.0],[1.0,1.0]]]}}));
    f.push(json!({"type":"Feature","properties":{"ward_code":"99998"},
        "geometry":{"type":"Polygon","coordinates":[[[1.0,1.0],[2.0,1.0],[2.0,2.0],[1.0,1.0]]]}}));
    assert_eq!(
        parse_geojson(&collection(f), rd()).unwrap_err(),
        WardFileError::UnknownCodes(vec!["99998".into(), "99999".into()])
    );
    let one = |feature: serde_json::Value| parse_geojson(&collection(vec![feature]), rd());
    assert_eq!(
        one(json!({"type":"Feature","properties":{},"geometry":null})).unwrap_err(),
        WardFileError::NoWardCode(0)
    );
    assert!(matches!(
        one(json!({"type":"Feature","properties":{"ward_code":"00070"},
            "geometry":{"type":"Point","coordinates":[105.8,21.0]}})),
        Err(WardFileError::Geometry { feature: 0, .. })
    ));
    // An open ring, a ring of three positions, a position off the globe.
    for coords in [
        json!([[[1.0, 1.0], [2.0, 1.0], [2.0, 2.0], [1.0, 2.0]]]),
        json!([[[1.0, 1.0], [2.0, 1.0], [1.0, 1.0]]]),
        json!([[[1.0, 91.0], [2.0, 1.0], [2.0, 2.0], [1.0, 91.0]]]),
    ] {
        assert!(matches!(
            one(json!({"type":"Feature","properties":{"ward_code":"00070"},
                "geometry":{"type":"Polygon","coordinates":coords}})),
            Err(WardFileError::Ring { feature: 0, .. })
        ));
    }
    assert!(matches!(
        parse_geojson("{\"type\":\"Feature\"}", rd()),
        Err(WardFileError::NotFeatureCollection)
    ));
    assert!(matches!(
        parse_geojson("not json", rd()),
        Err(WardFileError::NotJson(_))
    ));
}

fn case_at(category: &str, ward: Option<&str>, (lat, lng): (f64, f64)) -> pakn_core::case::Case {
    let mut c = new_case(category, Urgency::Normal, ward, hn(2025, 6, 16, 9, 0));
    c.location.lat = lat;
    c.location.lng = lng;
    c
}

#[test]
fn a_report_without_a_ward_code_goes_to_the_ward_of_its_point() {
    let ix = index_of(&geojson());
    let (u, check) = target_with(&case_at("lighting", None, INSIDE_73), rd(), Some(&ix));
    assert_eq!(u, unit("ward:00073"));
    let check = check.unwrap();
    assert_eq!(check.ward_at_point.as_deref(), Some("00073"));
    assert_eq!(check.boundaries, ix.version());
    assert!(!check.mismatch);
    // In a hole, or outside every polygon: as without boundaries (triage).
    for p in [IN_HOLE, OUTSIDE, BETWEEN_PARTS_OF_4] {
        let (u, check) = target_with(&case_at("lighting", None, p), rd(), Some(&ix));
        assert_eq!(u, unit("city:triage"), "{p:?}");
        assert_eq!(check.unwrap().ward_at_point, None);
    }
    // Outside every polygon with a ward_code: the code, no flag.
    let (u, check) = target_with(
        &case_at("lighting", Some("00073"), OUTSIDE),
        rd(),
        Some(&ix),
    );
    assert_eq!(u, unit("ward:00073"));
    assert!(!check.unwrap().mismatch);
    // A department's category goes to the department, wherever the point.
    let (u, _) = target_with(&case_at("traffic", None, INSIDE_70), rd(), Some(&ix));
    assert_eq!(u, unit("dept:police"));
}

#[test]
fn a_ward_code_the_point_contradicts_routes_by_the_code_and_is_flagged() {
    let ix = index_of(&geojson());
    let (u, check) = target_with(
        &case_at("lighting", Some("00070"), INSIDE_73),
        rd(),
        Some(&ix),
    );
    assert_eq!(u, unit("ward:00070"));
    let check = check.unwrap();
    assert!(check.mismatch);
    assert_eq!(check.ward_at_point.as_deref(), Some("00073"));
    // Agreeing code and point: no flag.
    let (_, check) = target_with(
        &case_at("lighting", Some("00073"), INSIDE_73),
        rd(),
        Some(&ix),
    );
    assert!(!check.unwrap().mismatch);
    // On the shared border, naming either ward: the point is in both
    // closed areas, so neither is a mismatch (the rule would pick 00070).
    for named in ["00070", "00073"] {
        let (u, check) = target_with(
            &case_at("lighting", Some(named), ON_SHARED_BORDER),
            rd(),
            Some(&ix),
        );
        assert_eq!(u, unit(&format!("ward:{named}")));
        let check = check.unwrap();
        assert!(!check.mismatch, "{named}");
        assert_eq!(check.ward_at_point.as_deref(), Some("00070"));
    }
    // In 00070's hole, naming 00070: outside every polygon, no flag.
    let (_, check) = target_with(
        &case_at("lighting", Some("00070"), IN_HOLE),
        rd(),
        Some(&ix),
    );
    assert!(!check.unwrap().mismatch);
    // In the island, naming 00070 (whose hole it is): flagged.
    let (_, check) = target_with(
        &case_at("lighting", Some("00070"), IN_ISLAND),
        rd(),
        Some(&ix),
    );
    assert!(check.unwrap().mismatch);
}

#[test]
fn without_boundaries_routing_is_as_before() {
    for (ward, p) in [
        (None, INSIDE_73),
        (Some("00070"), INSIDE_73),
        (None, OUTSIDE),
    ] {
        let c = case_at("lighting", ward, p);
        let (u, check) = target_with(&c, rd(), None);
        assert_eq!(u, target(&c, rd()));
        assert_eq!(check, None);
    }
    assert_eq!(
        target(&case_at("lighting", None, INSIDE_73), rd()),
        unit("city:triage")
    );
}
