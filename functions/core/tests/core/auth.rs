//! Permissions (CONTRACT.md "Who may do what"): every role × {read, unit
//! action, triage action, citizen action} on cases that are theirs and not
//! theirs. A case one may not read is 404; a readable case with an action the
//! role may not take is 403.

use crate::common::{
    assigned_lighting, citizen, hn, new_case, official, route_to, triage_officer, unit, unit_admin,
};
use pakn_core::actions::Action;
use pakn_core::auth::{self, Official, Permission, Principal, Role, Roster, Rule, Target};
use pakn_core::case::Case;
use pakn_core::category::Urgency;
use pakn_core::error::ErrorKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum R {
    Ok,
    Forbidden,
    NotFound,
}
use R::{Forbidden as F, NotFound as N, Ok as Y};

const ACCESS: [Permission; 4] = [
    Permission::ReadCase,
    Permission::UnitAction,
    Permission::TriageAction,
    Permission::CitizenAction,
];

fn check(p: &Principal, case: &Case, roster: &Roster, expected: [R; 4], what: &str) {
    for (access, want) in ACCESS.into_iter().zip(expected) {
        let got = match auth::authorize_case(p, case, roster, access) {
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
    assert_eq!(Action::Accept.permission(&ward), Permission::UnitAction);
    assert_eq!(
        Action::Extend {
            working_days: 1,
            reason: "x".into()
        }
        .permission(&ward),
        Permission::UnitAction
    );
    let transfer = Action::Transfer {
        to_unit: t.clone(),
        reason: "x".into(),
    };
    assert_eq!(transfer.permission(&ward), Permission::UnitAction);
    assert_eq!(transfer.permission(&triage), Permission::TriageAction);
    assert_eq!(
        Action::Route { to_unit: t }.permission(&triage),
        Permission::TriageAction
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
        assert_eq!(a.permission(&ward), Permission::CitizenAction);
    }
}

/// CONTRACT.md's matrix, written out by hand (not read from the code):
/// per permission, the rule of citizen, operator, official, unit_admin,
/// triage, inspector, admin.
#[test]
fn the_table_is_the_contract_matrix() {
    use Rule::{Any as A, Deny as D, OwnUnit as O, Reporter as R, TriageHeld as T, UnitStaff as S};
    #[rustfmt::skip]
    let expected: [(Permission, [Rule; 7]); 22] = [
        (Permission::Submit,            [A, A, D, D, D, D, D]),
        (Permission::ReadCase,          [R, R, O, O, T, A, A]),
        (Permission::ReadStaffView,     [D, D, O, O, T, A, A]),
        (Permission::ListCases,         [R, R, O, O, T, A, A]),
        (Permission::UnitAction,        [D, D, O, O, D, D, D]),
        (Permission::TriageAction,      [D, D, D, D, T, D, T]),
        (Permission::CitizenAction,     [R, D, D, D, D, D, D]),
        (Permission::Regrade,           [D, D, O, O, T, D, D]),
        (Permission::ReadRoster,        [D, D, S, S, D, A, A]),
        (Permission::WriteRoster,       [D, D, D, S, D, D, A]),
        (Permission::ReadScorecard,     [D, D, S, S, D, A, A]),
        (Permission::ReadAllScorecards, [D, D, D, D, D, A, A]),
        (Permission::ReadInspection,    [D, D, D, S, D, A, A]),
        (Permission::AnswerInspection,  [D, D, D, S, D, D, D]),
        (Permission::Inspect,           [D, D, D, D, D, A, A]),
        (Permission::ReadUnitNotifications, [D, D, S, S, D, A, A]),
        (Permission::ExportOwnData,     [A, A, A, A, A, A, A]),
        (Permission::EraseOwnData,      [A, D, D, D, D, D, D]),
        (Permission::ReadAudit,         [D, D, D, D, D, A, A]),
        (Permission::Follow,            [A, D, D, D, D, D, D]),
        (Permission::OwnNotifications,  [A, D, D, D, D, D, D]),
        (Permission::Duplicate,         [D, D, O, O, T, D, D]),
    ];
    assert_eq!(
        auth::TABLE.len(),
        expected.len(),
        "every permission has a row"
    );
    for (perm, rules) in expected {
        for (role, want) in Role::ALL.into_iter().zip(rules) {
            assert_eq!(
                auth::rule(perm, role),
                want,
                "{perm:?} for {}",
                role.as_str()
            );
        }
    }
}

#[test]
fn submitting_is_for_citizens_and_operators() {
    use Role::*;
    for role in Role::ALL {
        let p = Principal::new("s", role, Some(unit("ward:00070"))).unwrap();
        assert_eq!(
            auth::decide(&p, Permission::Submit, Target::Nothing),
            matches!(role, Citizen | Operator),
            "{}",
            role.as_str()
        );
    }
}

#[test]
fn rosters_and_headcounts() {
    use Role::*;
    let own = unit("ward:00070");
    let other = unit("ward:00073");
    let may = |p: &Principal, perm, u| auth::decide(p, perm, Target::Unit(u));
    for role in Role::ALL {
        let p = Principal::new("s", role, Some(own.clone())).unwrap();
        let read_own = matches!(role, Official | UnitAdmin | Inspector | Admin);
        let read_other = matches!(role, Inspector | Admin);
        let r = role.as_str();
        assert_eq!(may(&p, Permission::ReadRoster, &own), read_own, "{r}");
        assert_eq!(may(&p, Permission::ReadRoster, &other), read_other, "{r}");
        let write_own = matches!(role, UnitAdmin | Admin);
        assert_eq!(may(&p, Permission::WriteRoster, &own), write_own, "{r}");
        assert_eq!(
            may(&p, Permission::WriteRoster, &other),
            role == Admin,
            "{r}"
        );
    }
}

#[test]
fn inspections_are_read_by_inspectors_and_the_inspected_unit_admin() {
    use Role::*;
    let own = unit("ward:00070");
    let other = unit("ward:00073");
    for role in Role::ALL {
        let p = Principal::new("s", role, Some(own.clone())).unwrap();
        let r = role.as_str();
        let read_own = auth::authorize_inspection(&p, &own, Permission::ReadInspection);
        let read_other = auth::authorize_inspection(&p, &other, Permission::ReadInspection);
        let answer_own = auth::authorize_inspection(&p, &own, Permission::AnswerInspection);
        let inspect_own = auth::authorize_inspection(&p, &own, Permission::Inspect);
        match role {
            Inspector | Admin => {
                assert!(read_own.is_ok() && read_other.is_ok(), "{r}");
                assert_eq!(answer_own.unwrap_err().kind, ErrorKind::Forbidden, "{r}");
                assert!(inspect_own.is_ok(), "{r}");
            }
            UnitAdmin => {
                assert!(read_own.is_ok() && answer_own.is_ok(), "{r}");
                assert_eq!(read_other.unwrap_err().kind, ErrorKind::NotFound, "{r}");
                assert_eq!(inspect_own.unwrap_err().kind, ErrorKind::Forbidden, "{r}");
            }
            _ => {
                // Not even visible: 404, whatever the action.
                for res in [read_own, read_other, answer_own, inspect_own] {
                    assert_eq!(res.unwrap_err().kind, ErrorKind::NotFound, "{r}");
                }
            }
        }
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

/// The client application's column (an Open311 API key, CONTRACT.md
/// "Names added with the second round": it may submit and read public
/// views, nothing else), written out by hand like the matrix above.
#[test]
fn a_client_application_may_submit_and_nothing_else() {
    use Rule::{Any as A, Deny as D};
    #[rustfmt::skip]
    let expected: [(Permission, Rule); 22] = [
        (Permission::Submit, A), (Permission::ReadCase, D), (Permission::ReadStaffView, D),
        (Permission::ListCases, D), (Permission::UnitAction, D), (Permission::TriageAction, D),
        (Permission::CitizenAction, D), (Permission::Regrade, D), (Permission::ReadRoster, D),
        (Permission::WriteRoster, D), (Permission::ReadScorecard, D), (Permission::ReadAllScorecards, D),
        (Permission::ReadInspection, D), (Permission::AnswerInspection, D), (Permission::Inspect, D),
        (Permission::ReadUnitNotifications, D), (Permission::ExportOwnData, D),
        (Permission::EraseOwnData, D), (Permission::ReadAudit, D),
        (Permission::Follow, D), (Permission::OwnNotifications, D), (Permission::Duplicate, D),
    ];
    assert_eq!(
        auth::TABLE.len(),
        expected.len(),
        "every permission has a cell"
    );
    for (perm, want) in expected {
        assert_eq!(auth::rule(perm, Role::ClientApp), want, "{perm:?}");
    }
    let app = Principal::new("apikey:k7f3q9x2ab", Role::ClientApp, None).unwrap();
    assert!(auth::decide(&app, Permission::Submit, Target::Nothing));
    let case = at_ward();
    assert_eq!(
        auth::authorize_case(&app, &case, &Roster::default(), Permission::ReadCase)
            .unwrap_err()
            .kind,
        ErrorKind::NotFound
    );
    // No token names it: a token role is one of the seven.
    assert_eq!(Role::parse("client_app"), None);
    assert!(Role::EVERY.contains(&Role::ClientApp) && !Role::ALL.contains(&Role::ClientApp));
}
