//! Personal data (Decree 13): the channel recorded on every change, when a
//! closed case's personal data is due for erasure, and what an erasure
//! takes out and keeps. Dates worked out by hand in Hanoi time.

use crate::common::{act, assigned_lighting, citizen, hn, rd, route_to};
use pakn_core::actions;
use pakn_core::auth::{Principal, Role};
use pakn_core::case::{Case, Channel, Contact, Rating, TimelineEvent};
use pakn_core::error::ErrorKind;
use pakn_core::refdata::RefData;
use pakn_core::retention;
use serde_json::json;

/// Routed Mon 16 Jun 2025, accepted, resolved Tue 17 Jun 09:00.
fn resolved() -> Case {
    let accepted = act(
        &assigned_lighting(hn(2025, 6, 16, 9, 0)),
        "accept",
        json!({}),
        hn(2025, 6, 16, 10, 0),
    )
    .case;
    act(
        &accepted,
        "resolve",
        json!({"answer": "Đã thay bóng đèn"}),
        hn(2025, 6, 17, 9, 0),
    )
    .case
}

#[test]
fn the_channel_comes_from_the_role_and_a_citizen_may_say_web() {
    let by_role = [
        (Role::Citizen, Channel::App),
        (Role::Operator, Channel::Hotline),
        (Role::Official, Channel::Console),
        (Role::UnitAdmin, Channel::Console),
        (Role::Triage, Channel::Console),
        (Role::Inspector, Channel::Console),
        (Role::Admin, Channel::Console),
    ];
    for (role, channel) in by_role {
        let p = Principal::new("s", role, Some(crate::common::unit("ward:00070"))).unwrap();
        assert_eq!(p.channel, channel, "{}", role.as_str());
        // Nobody claims a derived channel; staff cannot claim a citizen's.
        for c in [
            Channel::Console,
            Channel::Hotline,
            Channel::Open311,
            Channel::System,
        ] {
            assert_eq!(
                p.clone().with_channel(c).unwrap_err().kind,
                ErrorKind::Invalid
            );
        }
        let web = p.clone().with_channel(Channel::Web);
        if role == Role::Citizen {
            assert_eq!(web.unwrap().channel, Channel::Web);
        } else {
            assert_eq!(web.unwrap_err().field.as_deref(), Some("X-Pakn-Channel"));
        }
    }
    assert_eq!(Principal::system("deadlines").channel, Channel::System);
}

#[test]
fn every_change_records_its_channel() {
    let c = assigned_lighting(hn(2025, 6, 16, 9, 0));
    let o = route_to(
        &crate::common::new_case(
            "lighting",
            pakn_core::category::Urgency::Normal,
            Some("00070"),
            hn(2025, 6, 16, 9, 0),
        ),
        "ward:00070",
        hn(2025, 6, 16, 9, 0),
    );
    assert_eq!(o.event.channel, Some(Channel::System), "the router");
    let o = act(&c, "accept", json!({}), hn(2025, 6, 16, 10, 0));
    assert_eq!(o.event.channel, Some(Channel::Console), "an official");
    let resolved = resolved();
    let web = citizen(crate::common::CITIZEN)
        .with_channel(Channel::Web)
        .unwrap();
    let action = crate::common::parse("rate", json!({"score": 5})).unwrap();
    let o = actions::apply(&resolved, &web, action, hn(2025, 6, 18, 9, 0), rd()).unwrap();
    assert_eq!(o.event.channel, Some(Channel::Web), "a citizen on the web");
    let o = actions::close_after_window(&resolved, hn(2025, 6, 25, 9, 0), rd()).unwrap();
    assert_eq!(o.event.channel, Some(Channel::System), "the sweep");
}

#[test]
fn entries_written_before_channels_read_back_as_system_or_unknown() {
    let old = json!({"at": "2025-06-16T02:00:00Z", "version": 2, "action": "routed",
        "actor": "system:router", "actor_role": "admin", "public": true});
    let e: TimelineEvent = serde_json::from_value(old).unwrap();
    assert_eq!(e.channel, None);
    assert_eq!(e.channel_or_inferred(), Some(Channel::System));
    let old = json!({"at": "2025-06-16T02:00:00Z", "version": 3, "action": "accept",
        "actor": "off-1", "actor_role": "official", "public": true});
    let e: TimelineEvent = serde_json::from_value(old).unwrap();
    assert_eq!(e.channel_or_inferred(), None, "unknown, not guessed");
    // A case stored before this change reads back with no retention fields.
    let mut v = serde_json::to_value(resolved()).unwrap();
    let o = v.as_object_mut().unwrap();
    for k in ["erase_after", "erasure_requested_at", "erased_at"] {
        o.remove(k);
    }
    let c: Case = serde_json::from_value(v).unwrap();
    assert_eq!((c.erase_after, c.erased_at), (None, None));
}

#[test]
fn a_case_is_due_for_erasure_five_years_after_it_closes() {
    let c = resolved();
    assert_eq!(c.erase_after, None, "not closed yet");
    // Rated Wed 18 Jun 2025 20:00 → due Mon 18 Jun 2030 20:00.
    let o = act(&c, "rate", json!({"score": 4}), hn(2025, 6, 18, 20, 0));
    assert_eq!(o.case.erase_after, Some(hn(2030, 6, 18, 20, 0)));
    // Closed by the sweep at the end of the window: from that instant.
    let o = actions::close_after_window(&c, hn(2025, 6, 25, 9, 0), rd()).unwrap();
    assert_eq!(o.case.erase_after, Some(hn(2030, 6, 25, 9, 0)));
    // A leap day closes into 28 February.
    let mut leap = c.clone();
    leap.resolved_at = Some(hn(2028, 2, 22, 9, 0));
    let o = actions::close_after_window(&leap, hn(2028, 2, 29, 12, 0), rd()).unwrap();
    assert_eq!(o.case.erase_after, Some(hn(2033, 2, 28, 12, 0)));
    // The city's own policy: two years.
    let mut two: RefData = rd().clone();
    two.policy.personal_data_retention_years = 2;
    let o = actions::close_after_window(&c, hn(2025, 6, 25, 9, 0), &two).unwrap();
    assert_eq!(o.case.erase_after, Some(hn(2027, 6, 25, 9, 0)));
}

#[test]
fn a_reporter_who_asked_is_erased_as_soon_as_the_case_closes() {
    let mut c = resolved();
    c.erasure_requested_at = Some(hn(2025, 6, 17, 12, 0));
    let o = act(&c, "rate", json!({"score": 2}), hn(2025, 6, 18, 20, 0));
    assert_eq!(o.case.erase_after, Some(hn(2025, 6, 18, 20, 0)));
    // Once erased, never due again.
    let mut erased = o.case.clone();
    erased.erased_at = Some(hn(2025, 6, 18, 20, 15));
    assert_eq!(retention::erase_after(&erased, &rd().policy), None);
}

fn entry(actor: &str, role: &str, action: &str, text: Option<&str>) -> TimelineEvent {
    TimelineEvent {
        at: hn(2025, 6, 17, 9, 0),
        version: 5,
        action: action.into(),
        actor: actor.into(),
        actor_role: role.into(),
        channel: Some(Channel::App),
        from_status: None,
        to_status: None,
        unit: None,
        text: text.map(String::from),
        public: false,
        data: json!({"media": ["https://example.vn/nha-toi.jpg"], "score": 4}),
    }
}

#[test]
fn erasing_takes_the_reporters_data_and_keeps_official_records() {
    let mut c = resolved();
    c.contact = Some(Contact {
        name: Some("Nguyễn Văn A".into()),
        phone: Some("0912345678".into()),
        email: Some("a@example.vn".into()),
    });
    c.location.address = Some("12 Hàng Bài".into());
    c.location.lat = 21.028_456;
    c.location.lng = 105.854_249;
    c.media = vec!["https://example.vn/anh.jpg".into()];
    c.rating = Some(Rating {
        score: 4,
        comment: Some("Cảm ơn anh Tú".into()),
        at: hn(2025, 6, 18, 9, 0),
    });
    let before = c.clone();
    retention::erase_case(&mut c);
    assert_eq!(c.contact, None);
    assert_eq!(c.location.address, None);
    assert_eq!((c.location.lat, c.location.lng), (21.028, 105.854));
    assert!(c.description.is_empty() && c.media.is_empty());
    assert_eq!(
        c.rating.as_ref().map(|r| (r.score, r.comment.clone())),
        Some((4, None))
    );
    assert_eq!(
        c.submitted_by, "",
        "no index leads from the reporter to the case"
    );
    // Kept: the case, its title, figures, the official answer and deadlines.
    assert_eq!(c.title, before.title);
    assert_eq!(c.answer, before.answer);
    assert_eq!(
        (c.status, c.resolve_due, c.first_resolved_on_time),
        (
            before.status,
            before.resolve_due,
            before.first_resolved_on_time
        )
    );

    let mine = entry(
        crate::common::CITIZEN,
        "citizen",
        "info",
        Some("Số nhà tôi là 12"),
    );
    let erased = retention::erase_entry(&before, &mine).expect("the reporter's entry");
    assert_eq!((erased.actor.as_str(), erased.text.as_deref()), ("", None));
    assert_eq!(
        erased.data,
        json!({"score": 4}),
        "media links go, figures stay"
    );
    assert_eq!(
        (
            erased.action.as_str(),
            erased.actor_role.as_str(),
            erased.channel
        ),
        ("info", "citizen", Some(Channel::App)),
        "the skeleton stays"
    );
    // An official's note, the reporter's subject under another role, and
    // pakn's own entries are not the reporter's.
    for other in [
        entry(
            "off-1",
            "official",
            "note",
            Some("Đã gọi điện cho người dân"),
        ),
        entry(crate::common::CITIZEN, "operator", "submitted", None),
        entry("system:deadlines", "admin", "close", None),
    ] {
        assert_eq!(
            retention::erase_entry(&before, &other),
            None,
            "{}",
            other.actor
        );
    }
}

#[test]
fn a_hotline_case_keeps_the_operators_subject() {
    let mut c = resolved();
    c.submitted_by = "op-1".into();
    c.submitted_role = Role::Operator;
    c.contact = Some(Contact {
        name: Some("Người gọi".into()),
        phone: Some("0987654321".into()),
        email: None,
    });
    let op = entry("op-1", "operator", "submitted", None);
    assert_eq!(retention::erase_entry(&c, &op), None, "staff records stay");
    retention::erase_case(&mut c);
    assert_eq!(
        (c.submitted_by.as_str(), c.contact.is_none()),
        ("op-1", true)
    );
}

/// The uploads an erasure deletes: those the report names and those of the
/// reporter's own entries (answers to questions), deduplicated; never an
/// official's evidence, an external link, or another person's entry.
#[test]
fn an_erasure_deletes_the_reporters_uploads_and_never_the_evidence() {
    let mut case = assigned_lighting(hn(2025, 6, 16, 9, 0));
    case.media = vec![
        "upload:01JR0000000000000000000001".into(),
        "https://example.org/anh.jpg".into(),
    ];
    let entry = |actor: &str, role: &str, data: serde_json::Value| TimelineEvent {
        at: case.updated_at,
        version: case.version,
        action: "x".into(),
        actor: actor.into(),
        actor_role: role.into(),
        channel: None,
        from_status: None,
        to_status: None,
        unit: None,
        text: None,
        public: true,
        data,
    };
    let reporter = case.submitted_by.clone();
    let timeline = vec![
        entry(
            &reporter,
            "citizen",
            json!({"media": ["upload:01JR0000000000000000000002", "upload:01JR0000000000000000000001"]}),
        ),
        entry(
            "can-bo-1",
            "official",
            json!({"evidence": ["upload:01JR0000000000000000000003"]}),
        ),
        // An official's entry that names media is still not the reporter's.
        entry(
            "can-bo-1",
            "official",
            json!({"media": ["upload:01JR0000000000000000000004"]}),
        ),
    ];
    assert_eq!(
        pakn_core::privacy::reporter_uploads(&case, &timeline),
        vec![
            "01JR0000000000000000000001".to_string(),
            "01JR0000000000000000000002".to_string()
        ]
    );
    // A case entered by an operator: the report's media only.
    let mut by_operator = case.clone();
    by_operator.submitted_role = Role::Operator;
    assert_eq!(
        pakn_core::privacy::reporter_uploads(&by_operator, &timeline),
        vec!["01JR0000000000000000000001".to_string()]
    );
}
