//! Shared helpers for the end-to-end tests (moto fixture, spawn helpers, the
//! HTTP harness, fault injection around the ports).

pub mod counting;
pub mod faults;
pub mod http_app;
pub mod moto;
pub mod process;
pub mod runtime_stub;
