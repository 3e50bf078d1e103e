//! pakn-core: the domain of pakn. Nothing cloud-shaped, no HTTP.
//!
//! - Values: [`case`], [`channel`], [`category`], [`unit`], [`ids`], [`calendar`],
//!   [`refdata`], [`inspection`], [`notify`], [`stats`], [`snapshot`], [`scorecard`],
//!   [`views`], [`text`], [`principal`], [`wards`] (boundaries), [`nearby`]
//!   (distances, geohash cells); errors in [`error`].
//! - Rules: [`auth`] (the one permission table), [`milestones`] (deadlines),
//!   [`change`] (one change of a case as a pure outcome), [`retention`]
//!   (what erasing personal data means).
//! - Ports: [`ports`], by concern.
//! - Use cases, each over the ports it needs: [`intake`], [`routing`],
//!   [`actions`], [`lookup`], [`sweep`], [`oversight`], [`reporting`]
//!   (over [`aggregate`]: period figures from snapshots and rows),
//!   [`privacy`]; [`following`] (citizens following cases);
//!   [`apikeys`] and [`open311`] (client applications);
//!   [`outbox`] commits and publishes; [`app`] composes them ([`Pakn`]).
//!
//! The modules form a DAG (a test in `tests/core/layout.rs` fails on any
//! import loop): values ← rules ← ports ← use cases ← app.

pub mod actions;
pub mod aggregate;
pub mod apikeys;
pub mod app;
pub mod auth;
pub mod calendar;
pub mod case;
pub mod category;
pub mod change;
pub mod channel;
pub mod error;
pub mod following;
pub mod ids;
pub mod inspection;
pub mod intake;
pub mod lookup;
pub mod media;
pub mod milestones;
pub mod nearby;
pub mod notices;
pub mod notify;
pub mod open311;
pub mod outbox;
pub mod oversight;
pub mod ports;
pub mod principal;
pub mod privacy;
pub mod quota;
pub mod refdata;
pub mod reporting;
pub mod retention;
pub mod routing;
pub mod scorecard;
pub mod snapshot;
pub mod stats;
pub mod subscription;
pub mod sweep;
pub mod text;
pub mod unit;
pub mod views;
pub mod wards;

pub use app::Pakn;
pub use error::{Error, ErrorKind, Result};
