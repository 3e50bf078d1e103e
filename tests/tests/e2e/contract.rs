//! (module owned by one engineer; see main.rs)
