//! Permissions (CONTRACT.md "Who may do what"): every role × {read, unit
//! action, triage action, citizen action} on cases that are theirs and not
//! theirs. A case one may not read is 404; a readable case with an action the
//! role may not take is 403.

use crate::common::{
    assigned_lighting, citizen, hn, new_case, official, route_to, triage_officer, unit, unit_admin,
};
use pakn_core::auth::{self, CaseAccess, Official, Principal, Role, Roster};
use pakn_core::case::Case;
use pakn_core::category::Urgency;
use pakn_core::error::ErrorKind;
use pakn_core::workflow::{Action, role_may};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum R {
    Ok,
    Forbidden,
    NotFound,
}
use R::{Forbidden as F, NotFound as N, Ok as Y};

const ACCESS: [CaseAccess; 4] = [
    CaseAccess::Read,
    CaseAccess::UnitAction,
    CaseAccess::TriageAction,
    CaseAccess::CitizenAction,
];

fn check(p: &Principal, case: &Case, roster: &Roster, expected: [R; 4], what: &str) {
    for (access, want) in ACCESS.into_iter().zip(expected) {
        let got = match auth::authorize(p, case, roster, access) {
            Ok(()) => Y,
            Err(e) if e.kind == ErrorKind::Forbidden => F,
            Err(e) if e.kind == ErrorKind::NotFound => N,
            Err(e) => panic!("{what}: unexpected {e}"),
        };
        assert_eq!(
            got,
            want,
            "{what} {:?} ({} {})",
            access,
            p.role.as_str(),
            p.sub
        );
    }
    assert_eq!(
        auth::can_read(p, case, roster),
        expected[0] == Y,
        "{what} can_read ({})",
        p.sub
    );
}

fn principal(sub: &str, role: Role, u: Option<&str>) -> Principal {
    Principal::new(sub, role, u.map(unit)).unwrap()
}

fn operator(sub: &str) -> Principal {
    principal(sub, Role::Operator, None)
}

fn inspector() -> Principal {
    principal("insp-1", Role::Inspector, None)
}

fn admin() -> Principal {
    principal("adm-city", Role::Admin, None)
}

fn at_ward() -> Case {
    assigned_lighting(hn(2025, 6, 16, 9, 0))
}

fn entered_by_operator() -> Case {
    let mut c = new_case(
        "lighting",
        Urgency::Normal,
        Some("00070"),
        hn(2025, 6, 16, 9, 0),
    );
    c.submitted_by = "op-1".into();
    c.submitted_role = Role::Operator;
    route_to(&c, "ward:00070", hn(2025, 6, 16, 9, 0)).case
}

fn in_triage() -> Case {
    let c = new_case("lighting", Urgency::Normal, None, hn(2025, 6, 16, 9, 0));
    route_to(&c, "city:triage", hn(2025, 6, 16, 9, 0)).case
}

#[test]
fn a_case_at_a_ward() {
    let case = at_ward();
    let empty = Roster::default();
    let rows: [(Principal, [R; 4]); 11] = [
        (citizen("cit-1"), [Y, F, F, Y]),
        (citizen("cit-2"), [N, N, N, N]),
        (operator("op-1"), [N, N, N, N]),
        (official("off-1", "ward:00070"), [Y, Y, F, F]),
        (official("off-9", "ward:00073"), [N, N, N, N]),
        (unit_admin("ua-1", "ward:00070"), [Y, Y, F, F]),
        (unit_admin("ua-9", "dept:construction"), [N, N, N, N]),
        (triage_officer(), [N, N, N, N]),
        (inspector(), [Y, F, F, F]),
        (admin(), [Y, F, F, F]),
        // A citizen whose subject equals an official's is still not that official.
        (citizen("off-1"), [N, N, N, N]),
    ];
    for (p, want) in rows {
        check(&p, &case, &empty, want, "ward case");
    }
}

#[test]
fn a_case_entered_by_a_hotline_operator() {
    let case = entered_by_operator();
    let empty = Roster::default();
    let rows: [(Principal, [R; 4]); 6] = [
        (operator("op-1"), [Y, F, F, F]),
        (operator("op-2"), [N, N, N, N]),
        // The caller has no account on the case: citizen actions are the app user's.
        (citizen("cit-1"), [N, N, N, N]),
        // Same subject, other role: not the one who entered it.
        (citizen("op-1"), [N, N, N, N]),
        (official("off-1", "ward:00070"), [Y, Y, F, F]),
        (inspector(), [Y, F, F, F]),
    ];
    for (p, want) in rows {
        check(&p, &case, &empty, want, "operator case");
    }
}

#[test]
fn a_case_in_triage() {
    let case = in_triage();
    let empty = Roster::default();
    let rows: [(Principal, [R; 4]); 7] = [
        (citizen("cit-1"), [Y, F, F, Y]),
        (citizen("cit-2"), [N, N, N, N]),
        (triage_officer(), [Y, F, Y, F]),
        (admin(), [Y, F, Y, F]),
        (inspector(), [Y, F, F, F]),
        (official("off-1", "ward:00070"), [N, N, N, N]),
        (unit_admin("ua-1", "ward:00070"), [N, N, N, N]),
    ];
    for (p, want) in rows {
        check(&p, &case, &empty, want, "triage case");
    }
}

#[test]
fn a_non_empty_roster_limits_the_unit_to_its_listed_officials() {
    let case = at_ward();
    let roster = Roster {
        officials: vec![Official {
            sub: "off-1".into(),
            name: "Nguyễn Văn A".into(),
            title: "Chuyên viên".into(),
        }],
        updated_at: None,
        updated_by: None,
    };
    check(
        &official("off-1", "ward:00070"),
        &case,
        &roster,
        [Y, Y, F, F],
        "on the roster",
    );
    check(
        &official("off-2", "ward:00070"),
        &case,
        &roster,
        [N, N, N, N],
        "not on the roster",
    );
    // "Own unit" needs the roster for every unit role once it is non-empty.
    check(
        &unit_admin("ua-1", "ward:00070"),
        &case,
        &roster,
        [N, N, N, N],
        "unit admin not on the roster",
    );
    // Empty roster: any official of the unit may act.
    check(
        &official("off-2", "ward:00070"),
        &case,
        &Roster::default(),
        [Y, Y, F, F],
        "empty roster",
    );
    // The roster of one unit says nothing about another's officials.
    check(
        &official("off-1", "ward:00073"),
        &case,
        &roster,
        [N, N, N, N],
        "other unit",
    );
    // Others are unaffected by the roster.
    check(&citizen("cit-1"), &case, &roster, [Y, F, F, Y], "reporter");
    check(&inspector(), &case, &roster, [Y, F, F, F], "inspector");
}

#[test]
fn the_action_decides_the_access_it_needs() {
    let ward = at_ward();
    let triage = in_triage();
    let t = unit("ward:00070");
    assert_eq!(Action::Accept.access(&ward), CaseAccess::UnitAction);
    assert_eq!(
        Action::Extend {
            working_days: 1,
            reason: "x".into()
        }
        .access(&ward),
        CaseAccess::UnitAction
    );
    let transfer = Action::Transfer {
        to_unit: t.clone(),
        reason: "x".into(),
    };
    assert_eq!(transfer.access(&ward), CaseAccess::UnitAction);
    assert_eq!(transfer.access(&triage), CaseAccess::TriageAction);
    assert_eq!(
        Action::Route { to_unit: t }.access(&triage),
        CaseAccess::TriageAction
    );
    for a in [
        Action::Info {
            text: "x".into(),
            media: vec![],
        },
        Action::Rate {
            score: 3,
            comment: None,
        },
        Action::Reopen { reason: "x".into() },
    ] {
        assert_eq!(a.access(&ward), CaseAccess::CitizenAction);
    }
}

#[test]
fn which_roles_may_ever_take_an_action() {
    use Role::*;
    let route = Action::Route {
        to_unit: unit("ward:00070"),
    };
    let transfer = Action::Transfer {
        to_unit: unit("ward:00070"),
        reason: "x".into(),
    };
    let rate = Action::Rate {
        score: 3,
        comment: None,
    };
    for role in Role::ALL {
        assert_eq!(
            role_may(role, &Action::Accept),
            matches!(role, Official | UnitAdmin),
            "{}",
            role.as_str()
        );
        assert_eq!(
            role_may(role, &route),
            matches!(role, Triage | Admin),
            "{}",
            role.as_str()
        );
        assert_eq!(
            role_may(role, &transfer),
            matches!(role, Official | UnitAdmin | Triage | Admin),
            "{}",
            role.as_str()
        );
        assert_eq!(role_may(role, &rate), role == Citizen, "{}", role.as_str());
        assert_eq!(
            auth::can_submit(&Principal::new("s", role, Some(unit("ward:00070"))).unwrap()),
            matches!(role, Citizen | Operator)
        );
    }
}

#[test]
fn rosters_and_headcounts() {
    use Role::*;
    let own = unit("ward:00070");
    let other = unit("ward:00073");
    for role in Role::ALL {
        let p = Principal::new("s", role, Some(own.clone())).unwrap();
        let read_own = matches!(role, Official | UnitAdmin | Inspector | Admin);
        let read_other = matches!(role, Inspector | Admin);
        assert_eq!(
            auth::can_read_roster(&p, &own),
            read_own,
            "{}",
            role.as_str()
        );
        assert_eq!(
            auth::can_read_roster(&p, &other),
            read_other,
            "{}",
            role.as_str()
        );
        assert_eq!(
            auth::can_write_roster(&p, &own),
            matches!(role, UnitAdmin | Admin),
            "{}",
            role.as_str()
        );
        assert_eq!(
            auth::can_write_roster(&p, &other),
            role == Admin,
            "{}",
            role.as_str()
        );
    }
}

#[test]
fn tokens_must_name_what_the_role_needs() {
    let e = Principal::new("off-1", Role::Official, None).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Unauthorized);
    assert_eq!(
        Principal::new("ua", Role::UnitAdmin, None)
            .unwrap_err()
            .kind,
        ErrorKind::Unauthorized
    );
    assert_eq!(
        Principal::new("  ", Role::Citizen, None).unwrap_err().kind,
        ErrorKind::Unauthorized
    );
    assert_eq!(
        Principal::new("x".repeat(129), Role::Citizen, None)
            .unwrap_err()
            .kind,
        ErrorKind::Unauthorized
    );
    // The triage office is one unit, whatever the token says.
    let t = Principal::new("tri", Role::Triage, Some(unit("ward:00070"))).unwrap();
    assert_eq!(t.unit, Some(unit("city:triage")));
}
