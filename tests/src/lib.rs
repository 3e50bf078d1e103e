//! Shared helpers for the end-to-end tests (moto fixture, spawn helpers).
