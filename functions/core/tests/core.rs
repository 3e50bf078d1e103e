//! Unit and property tests of the pakn domain (pakn-core), in one test binary.
//!
//! Every expected value is worked out by hand in the test (Hanoi local time,
//! UTC+7, against the holiday data in `infra/data/holidays.json`), never
//! copied from the code's output.

#[path = "core/common.rs"]
mod common;

#[path = "core/calendar.rs"]
mod calendar;

#[path = "core/calendar_props.rs"]
mod calendar_props;

#[path = "core/workflow.rs"]
mod workflow;

#[path = "core/transitions.rs"]
mod transitions;

#[path = "core/auth.rs"]
mod auth;

#[path = "core/routing.rs"]
mod routing;

#[path = "core/wards.rs"]
mod wards;

#[path = "core/nearby.rs"]
mod nearby;

#[path = "core/notices.rs"]
mod notices;

#[path = "core/schedule.rs"]
mod schedule;

#[path = "core/stats.rs"]
mod stats;

#[path = "core/layout.rs"]
mod layout;

#[path = "core/privacy.rs"]
mod privacy;
