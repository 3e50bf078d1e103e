//! Routing (routing::target): ward categories to the ward of the location,
//! department categories to their unit, otherwise the city triage office.
//! Expectations from infra/data/categories.json.

use crate::common::{hn, new_case, rd, unit};
use pakn_core::category::{Responsible, Urgency};
use pakn_core::routing::target;

fn route(category: &str, ward: Option<&str>) -> String {
    let c = new_case(category, Urgency::Normal, ward, hn(2025, 6, 16, 9, 0));
    target(&c, rd()).to_string()
}

#[test]
fn ward_categories_go_to_the_ward_of_the_location() {
    for cat in [
        "lighting",
        "drainage",
        "waste",
        "illegal-construction",
        "sidewalk",
        "trees",
        "noise",
        "land",
        "admin-procedure",
    ] {
        assert_eq!(route(cat, Some("00070")), "ward:00070", "{cat}");
        assert_eq!(route(cat, Some("00073")), "ward:00073", "{cat}");
    }
}

#[test]
fn department_categories_go_to_their_unit_wherever_the_report_is() {
    let table = [
        ("road-damage", "dept:construction"),
        ("traffic", "dept:police"),
        ("security", "dept:police"),
        ("water-supply", "dept:water-supply"),
        ("pollution", "dept:environment"),
        ("food-safety", "dept:health"),
        ("civil-status", "dept:justice"),
    ];
    for (cat, u) in table {
        assert_eq!(route(cat, Some("00070")), u, "{cat}");
        assert_eq!(route(cat, None), u, "{cat} without a ward");
    }
}

#[test]
fn without_a_known_ward_a_ward_category_goes_to_triage() {
    assert_eq!(route("lighting", None), "city:triage");
    // A well-formed code that is not one of Hanoi's 126 wards/communes.
    assert_eq!(route("lighting", Some("99999")), "city:triage");
    // An unknown category goes to triage too.
    let mut c = new_case(
        "lighting",
        Urgency::Normal,
        Some("00070"),
        hn(2025, 6, 16, 9, 0),
    );
    c.category = "ufo-sighting".into();
    assert_eq!(target(&c, rd()), unit("city:triage"));
}

#[test]
fn every_category_routes_somewhere_that_exists() {
    for cat in &rd().categories {
        let u = target(
            &new_case(
                &cat.code,
                Urgency::Normal,
                Some("00070"),
                hn(2025, 6, 16, 9, 0),
            ),
            rd(),
        );
        assert!(rd().unit(&u).is_some(), "{}", cat.code);
        match &cat.responsible {
            Responsible::WardOfLocation => assert_eq!(u, unit("ward:00070"), "{}", cat.code),
            Responsible::Unit(d) => assert_eq!(&u, d, "{}", cat.code),
        }
    }
}
