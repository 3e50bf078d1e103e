//! Routing rules: category × place → the responsible unit.
//!
//! A category names its unit, or "the ward of the location". The ward comes
//! from the report's `ward_code` (the app resolves it from GPS). With no ward
//! (and no boundary file to find it from the coordinates — not built yet, see
//! README "Not yet") the case goes to the city triage office, which routes it
//! by hand.

use crate::case::Case;
use crate::category::Responsible;
use crate::refdata::RefData;
use crate::unit::UnitCode;

pub fn target(case: &Case, refdata: &RefData) -> UnitCode {
    let Some(cat) = refdata.category(&case.category) else {
        return UnitCode::triage();
    };
    match &cat.responsible {
        Responsible::Unit(u) if refdata.unit(u).is_some() => u.clone(),
        Responsible::Unit(_) => UnitCode::triage(),
        Responsible::WardOfLocation => case
            .location
            .ward_code
            .as_deref()
            .map(UnitCode::ward)
            .filter(|u| refdata.unit(u).is_some())
            .unwrap_or_else(UnitCode::triage),
    }
}
