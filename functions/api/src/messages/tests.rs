//! The catalogue covers every code, fills every parameter, and falls back
//! to its kind for anything else.

use super::*;
use unicode_normalization::is_nfc;

/// One error of every code pakn can produce, each variant of its
/// wording, with the parameters its producer gives.
fn every_error() -> Vec<Error> {
    use ErrorKind::*;
    let inv = Error::invalid;
    vec![
        // pakn-core
        Error::not_found(),
        Error::forbidden(),
        Error::bug("x"),
        Error::unavailable(pakn_core::error::Message("x".into())),
        Error::invalid_transition("closed", "accept"),
        Error::new(Conflict, "invalid_transition")
            .with("subject", "inspection")
            .with("action", "add_finding"),
        Error::stale_version(),
        Error::stale_version().with("subject", "inspection"),
        Error::new(VersionRequired, "if_match_required"),
        Error::new(Malformed, "invalid_cursor").with_field("cursor"),
        Error::unauthorized("no_subject"),
        Error::unauthorized("no_unit"),
        Error::new(Conflict, "idempotency_key_reused").with_field("Idempotency-Key"),
        inv("category", "unknown_category").with("category", "x"),
        inv("kind", "kind_mismatch")
            .with("category", "lighting")
            .with("kind", "field"),
        inv("location", "outside_city"),
        inv("location.ward_code", "unknown_ward").with("ward_code", "99999"),
        inv("channel", "invalid_channel"),
        inv("X-Pakn-Channel", "invalid_channel"),
        inv("contact", "contact_required"),
        inv("title", "required"),
        inv("title", "too_long").with("chars", 201).with("max", 200),
        inv("title", "control_characters"),
        inv("media", "too_many").with("count", 6).with("max", 5),
        inv("media", "invalid_url"),
        inv("to_unit", "unknown_unit").with("unit", "ward:99999"),
        inv("unit", "invalid_unit_code").with("value", "x"),
        inv("to_unit", "invalid_target_unit").with("action", "transfer"),
        inv("to_unit", "invalid_target_unit").with("action", "route"),
        inv("working_days", "out_of_range").with("max", 15),
        Error::new(Conflict, "already_extended"),
        Error::new(NotFound, "unknown_case").with("id", "C1"),
        inv("to", "invalid_period"),
        inv("officials", "officials_required"),
        inv("officials", "not_on_roster").with("official", "o1"),
        Error::new(Conflict, "findings_required"),
        // pakn-api's commands and extractors
        Error::unauthorized("no_token"),
        Error::new(Unauthorized, "no_role"),
        Error::new(Unauthorized, "invalid_token"),
        Error::new(Unauthorized, "invalid_token").with("reason", "algorithm"),
        Error::new(Unauthorized, "invalid_token").with("reason", "expired"),
        Error::new(Unauthorized, "invalid_token").with("reason", "issuer"),
        Error::new(Unauthorized, "invalid_token").with("reason", "no_role"),
        Error::new(Unauthorized, "invalid_token").with("reason", "unit"),
        Error::new(Unauthorized, "invalid_token")
            .with("reason", "algorithm")
            .with("expected", "RS256"),
        Error::new(Unauthorized, "invalid_token").with("reason", "unknown_key"),
        Error::new(Unauthorized, "invalid_token").with("reason", "token_use"),
        Error::new(Unauthorized, "invalid_token").with("reason", "not_yet_valid"),
        Error::new(Unauthorized, "staff_role_from_citizen_pool"),
        Error::malformed().with_field("Idempotency-Key"),
        inv("location", "location_required"),
        inv("location.ward_code", "invalid_ward_code"),
        inv("contact.phone", "invalid_phone"),
        inv("contact.email", "invalid_email"),
        inv("officials", "too_many").with("max", 500),
        inv("body", "invalid_body")
            .with("expected", "report")
            .with("detail", "d"),
        inv("body", "invalid_body")
            .with("expected", "action")
            .with("detail", "d"),
        inv("body", "invalid_body")
            .with("expected", "finding")
            .with("detail", "d"),
        inv("officials", "invalid_body")
            .with("expected", "roster")
            .with("detail", "d"),
        inv("staff", "invalid_body").with("expected", "headcount"),
        inv("body", "invalid_body").with("expected", "nothing"),
        inv("reason_code", "unknown_reason_code").with("allowed", "a, b"),
        inv("score", "out_of_range"),
        inv("officials.sub", "duplicate").with("value", "o1"),
        inv("kind", "unknown_finding_kind").with("allowed", "a, b"),
        inv("status", "unknown_status").with("status", "x"),
        inv("tracking_code", "invalid_check_character"),
        inv("urgency", "urgency_unchanged"),
        inv("unit", "empty_filter"),
        inv("audience", "unknown_audience").with("value", "x"),
        inv("event", "unknown_event")
            .with("value", "x")
            .with("allowed", "a, b"),
        inv("urgency", "unknown_urgency").with("value", "x"),
        Error::new(Conflict, "overdue_downgrade"),
        inv("from", "invalid_date").with("expected", "date_or_rfc3339"),
        inv("from", "invalid_date").with("expected", "date"),
        inv("period", "invalid_period").with("expected", "period"),
        inv("from", "invalid_period").with("expected", "years"),
        inv("limit", "out_of_range").with("max", 100),
        Error::new(Malformed, "unreadable_body"),
        Error::new(Malformed, "malformed_json").with("detail", "d"),
        Error::new(Malformed, "unsupported_media_type"),
        Error::new(Malformed, "payload_too_large").with("kib", 64),
        Error::new(Malformed, "malformed_query").with("detail", "d"),
        Error::new(Malformed, "malformed_path"),
        Error::new(Malformed, "malformed_if_match").with_field("If-Match"),
        Error::new(Malformed, "no_route"),
        Error::new(Malformed, "method_not_allowed"),
        Error::rate_limited(42),
        // Open311 and API keys
        Error::new(Forbidden, "api_key_required").with_field("api_key"),
        Error::new(Forbidden, "invalid_api_key").with_field("api_key"),
        Error::new(NotFound, "unknown_api_key").with("id", "k1"),
        Error::new(NotFound, "unknown_service").with("service_code", "x"),
        inv("attribute[ward_code]", "ward_required")
            .with("service", "Chiếu sáng công cộng")
            .with("service_code", "lighting"),
        inv("lat", "coordinates_required"),
        Error::new(NotFound, "unknown_request").with("id", "x"),
        inv("end_date", "invalid_span").with("days", 90),
        inv("page", "out_of_range"),
        inv("page_size", "out_of_range").with("max", 1000),
        inv("lat", "invalid_number"),
        inv("start_date", "invalid_date").with("expected", "w3c"),
        inv("attribute[ward_code]", "single_value"),
        Error::new(Malformed, "unknown_format"),
        Error::new(Malformed, "unsupported_media_type").with("expected", "form"),
        // Telling citizens
        inv("phone", "not_a_mobile_phone"),
        inv("phone", "phone_required"),
        Error::new(Conflict, "concurrent_update"),
        Error::new(Conflict, "no_code_pending"),
        Error::new(Conflict, "code_expired"),
        inv("code", "wrong_code").with("attempts_left", 4),
        Error::new(NotFound, "push_not_configured"),
        inv("platform", "unsupported_platform").with("accepted", "fcm"),
        inv("token", "invalid_device_token"),
        inv("body", "invalid_body")
            .with("expected", "notification_settings")
            .with("detail", "d"),
        inv("body", "invalid_body")
            .with("expected", "verification_code")
            .with("detail", "d"),
        inv("body", "invalid_body")
            .with("expected", "device")
            .with("detail", "d"),
    ]
}

#[test]
fn every_code_has_both_messages_filled_in() {
    for e in every_error() {
        assert!(template(&e).is_some(), "{e}: not in the catalogue");
        let (en, vi) = messages(&e);
        assert!(!en.trim().is_empty() && !vi.trim().is_empty(), "{e}");
        assert_ne!(en, vi, "{e}: the Vietnamese message is the English one");
        assert!(is_nfc(&vi), "{e}: not NFC: {vi}");
        for m in [&en, &vi] {
            let left = m
                .match_indices('{')
                .find(|(i, _)| placeholder(&m[i + 1..]).is_some());
            assert!(left.is_none(), "{e}: unfilled placeholder in {m}");
        }
    }
}

#[test]
fn each_variant_has_its_own_wording() {
    let all: Vec<(String, String)> = every_error()
        .iter()
        .filter(|e| !matches!(e.code, "internal" | "unavailable"))
        .map(messages)
        .collect();
    for (i, m) in all.iter().enumerate() {
        assert!(!all[..i].contains(m), "two errors share {m:?}");
    }
}

#[test]
fn parameters_are_substituted_once() {
    let e = Error::invalid("category", "unknown_category").with("category", "{field}");
    let (en, vi) = messages(&e);
    assert_eq!(en, "Unknown category '{field}'; see GET /v1/categories.");
    assert_eq!(
        vi,
        "Lĩnh vực '{field}' không tồn tại; xem GET /v1/categories."
    );
    let (en, _) = messages(
        &Error::invalid("contact.name", "too_long")
            .with("chars", 3)
            .with("max", 2),
    );
    assert_eq!(
        en,
        "'contact.name' has 3 characters; at most 2 are allowed."
    );
}

#[test]
fn unknown_codes_and_missing_parameters_fall_back_to_the_kind() {
    use ErrorKind::*;
    for kind in [
        Malformed,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        StaleVersion,
        VersionRequired,
        Invalid,
        Unavailable,
        Internal,
    ] {
        let (en, vi) = messages(&Error::new(kind, "no_such_code"));
        assert_eq!((en.as_str(), vi.as_str()), generic(kind), "{kind:?}");
        assert!(!en.is_empty() && !vi.is_empty() && en != vi && is_nfc(&vi));
    }
    // A known code without the parameter its sentence needs.
    let (en, _) = messages(&Error::invalid("category", "unknown_category"));
    assert_eq!(en, generic(Invalid).0);
    let (en, _) = messages(&Error::invalid("x", "invalid_body"));
    assert_eq!(en, generic(Invalid).0);
}

/// One notice of every code pakn can answer a successful request with.
fn every_notice() -> Vec<pakn_core::intake::Notice> {
    vec![pakn_core::intake::Notice::urgency_capped(3)]
}

#[test]
fn every_notice_has_both_messages_filled_in() {
    use pakn_core::intake::Notice;
    for n in every_notice() {
        let (en, vi) = notice(&n).unwrap_or_else(|| panic!("{}: not in the catalogue", n.code));
        assert!(en.contains('3') && vi.contains('3'), "{en} / {vi}");
        assert_ne!(en, vi);
        assert!(is_nfc(&vi), "not NFC: {vi}");
        assert!(!en.contains('{') && !vi.contains('{'));
    }
    let unknown = Notice {
        code: "no_such_notice",
        params: vec![],
    };
    assert_eq!(notice(&unknown), None);
}
