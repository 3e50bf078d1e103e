//! Duplicate: the holding unit (or triage, while it holds the case) closes
//! a report as a duplicate of another **open** case. The duplicate goes
//! straight to `closed` with `duplicate_of`; it is not a rejection — not
//! counted against the unit (its own `duplicates` counter, never
//! `rejected`), and not reopenable (a closed case takes no citizen action).
//! The original keeps its own deadline and holder; its reporter's follow
//! is recorded by [`super::Actions::act`] (the reporter of the duplicate
//! then follows the original).

use super::{Step, bad};
use crate::case::{Case, DuplicateOf, Status::*};
use crate::change::Change;
use crate::error::{Error, ErrorKind, Result};
use crate::stats::Counter;
use serde_json::json;

pub(super) fn duplicate(ch: &mut Change<'_>, original: Option<&Case>) -> Result<Step> {
    let case = ch.before;
    let now = ch.now;
    if !matches!(case.status, Triage | Assigned | InProgress | AwaitingInfo) {
        return Err(bad(ch, "duplicate"));
    }
    let original = original.ok_or_else(|| Error::bug("duplicate without its original"))?;
    if original.id == case.id {
        return Err(Error::invalid("of", "duplicate_of_itself"));
    }
    if !original.status.is_open() {
        return Err(Error::new(ErrorKind::Conflict, "original_not_open")
            .with_field("of")
            .with("status", original.status.as_str()));
    }
    // A chain would hide the report that is being handled.
    if original.duplicate_of.is_some() {
        return Err(Error::bug("an open case marked duplicate"));
    }
    let unit = case.unit.clone();
    ch.case.status = Closed;
    ch.case.closed_at = Some(now);
    ch.case.duplicate_of = Some(DuplicateOf {
        id: original.id.clone(),
        tracking_code: original.tracking_code.clone(),
    });
    ch.end_hold();
    ch.count(now, unit.as_ref(), Counter::Duplicates, 1);
    ch.notify_status();
    Ok((
        None,
        true,
        json!({"duplicate_of": {"id": original.id, "tracking_code": original.tracking_code}}),
    ))
}
