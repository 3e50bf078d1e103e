//! pakn-core: the domain of pakn. Cases, units, categories, the status
//! machine, the SLA policy and working-hours calendar, routing, deadlines,
//! statistics, and the ports the adapters implement. Nothing cloud-shaped.

pub mod auth;
pub mod calendar;
pub mod case;
pub mod category;
pub mod error;
pub mod ids;
pub mod inspection;
pub mod notify;
pub mod oversight;
pub mod ports;
pub mod refdata;
pub mod routing;
pub mod schedule;
pub mod scorecard;
pub mod service;
pub mod stats;
pub mod text;
pub mod unit;
pub mod views;
pub mod workflow;

pub use error::{Error, ErrorKind, Result};
pub use service::Pakn;
