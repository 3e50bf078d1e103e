//! The handlers, one module per resource.

pub mod cases;
pub mod public;
pub mod units;
