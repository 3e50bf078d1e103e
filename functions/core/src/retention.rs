//! Personal data under Decree 13/2023/NĐ-CP: what erasing a case's
//! personal data means, as pure functions of the case and its timeline.
//! The use cases that apply them (the retention sweep, `DELETE
//! /v1/me/data`) are in `crate::privacy`.
//!
//! **When.** A closed case is erased `personal_data_retention_years` (policy,
//! default 5) after it closed ([`erase_after`], stamped on the case by every
//! change that closes it, and indexed by the store); a case whose reporter
//! asked for erasure while it was still open is erased as soon as it closes.
//!
//! **What goes.** The reporter's contact (name, phone, e-mail), the street
//! address (the coordinates are rounded to about 100 m, as the public view
//! already shows them), the description, the media links, the rating
//! comment; on the timeline, the texts and media the reporter wrote (info,
//! rate, reopen) and the reporter's subject wherever it names them (the
//! case's `submitted_by`, their entries' `actor`), so no index or entry
//! leads from the person to the case any more.
//!
//! **What stays.** The case itself and its tracking code, its timeline
//! skeleton (when, which role, which action, which channel, the statuses and
//! units), its figures (statistics and scorecards are counted at each change
//! and never recomputed from the case), and every official's action with its
//! text: answers, notes, questions, reasons and the officials' subjects are
//! official records. The title stays: it is the report's public summary,
//! shown to anyone by tracking code and sent to the agencies. A case entered
//! by a hotline operator keeps the operator's subject (staff).

use crate::case::{Case, Status, TimelineEvent};
use crate::category::SlaPolicy;
use crate::principal::Role;
use chrono::{DateTime, Months, Utc};

/// When the reporter's personal data of `case` must be erased: `None` unless
/// the case is closed and not yet erased.
pub fn erase_after(case: &Case, policy: &SlaPolicy) -> Option<DateTime<Utc>> {
    if case.status != Status::Closed || case.erased_at.is_some() {
        return None;
    }
    let closed = case.closed_at.unwrap_or(case.updated_at);
    if case.erasure_requested_at.is_some() {
        return Some(closed);
    }
    let months = policy.personal_data_retention_years.saturating_mul(12);
    // Past chrono's range (a policy of thousands of years): never.
    closed.checked_add_months(Months::new(months))
}

/// Is the citizen who reported `case` the one who wrote this entry?
/// (An operator who entered a case acts as staff: their entries stay.)
pub fn by_reporter(case: &Case, e: &TimelineEvent) -> bool {
    case.submitted_role == Role::Citizen
        && !case.submitted_by.is_empty()
        && e.actor == case.submitted_by
        && e.actor_role == Role::Citizen.as_str()
}

/// The entry with the reporter's personal data taken out (their subject,
/// their text, their media links); `None` if the entry is not theirs.
pub fn erase_entry(case: &Case, e: &TimelineEvent) -> Option<TimelineEvent> {
    if !by_reporter(case, e) {
        return None;
    }
    let mut e = e.clone();
    e.actor = String::new();
    e.text = None;
    if let Some(o) = e.data.as_object_mut() {
        o.remove("media");
    }
    Some(e)
}

/// Three decimals of a degree: about 110 m (what the public view shows).
fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Take the reporter's personal data out of the case itself (the caller
/// makes it a change: version, timeline entry, `erased_at`).
pub fn erase_case(case: &mut Case) {
    case.description = String::new();
    case.contact = None;
    case.location.address = None;
    case.location.lat = round3(case.location.lat);
    case.location.lng = round3(case.location.lng);
    case.media.clear();
    if let Some(r) = case.rating.as_mut() {
        r.comment = None;
    }
    if case.submitted_role == Role::Citizen {
        case.submitted_by = String::new();
    }
}
