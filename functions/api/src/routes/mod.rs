//! The handlers, one module per resource.

pub mod accounts;
pub mod cases;
pub mod dev;
pub mod events;
pub mod follow;
pub mod inspections;
pub mod notices;
pub mod privacy;
pub mod public;
pub mod scorecards;
pub mod units;
pub mod uploads;
