//! Shared helpers for the end-to-end tests (moto fixture, spawn helpers).

pub mod moto;
pub mod process;
pub mod runtime_stub;
