//! What the city triage office does: route a case no rule could route.
//! (Transfer from triage is the unit transfer, without counting a transfer.)

use super::{Step, bad};
use crate::case::Status::*;
use crate::change::Change;
use crate::error::{Error, Result};
use crate::notify::Audience;
use crate::unit::UnitCode;
use serde_json::json;

pub(super) fn route(ch: &mut Change<'_>, to_unit: UnitCode) -> Result<Step> {
    if ch.before.status != Triage {
        return Err(bad(ch, "route"));
    }
    if to_unit.is_triage() {
        return Err(Error::invalid("to_unit", "invalid_target_unit").with("action", "route"));
    }
    ch.end_hold();
    ch.start_hold(&to_unit);
    ch.case.unit = Some(to_unit.clone());
    ch.case.status = Assigned;
    ch.case.ack_due = ch.fresh_ack_due(&to_unit);
    ch.notify_assigned(&to_unit, Audience::Unit);
    ch.notify_status();
    Ok((None, false, json!({"to_unit": to_unit})))
}
