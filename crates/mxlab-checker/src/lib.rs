//! The client-side checker: the diagnosis engine.
//!
//! It sees only what an administrator could see — the artifacts ([`artifacts`]) and its own
//! live probes ([`probe`]) — gathers them as [`facts::Facts`], runs the rule catalog
//! ([`rules`], framework in [`rule`]) and picks a verdict ([`diagnose`]). [`report`] is the
//! report's JSON contract and text form. This crate never depends on the simulator or the
//! fake servers.

pub mod artifacts;
pub mod diagnose;
pub mod facts;
pub mod probe;
pub mod report;
pub mod rule;
pub mod rules;

pub use diagnose::{Diagnosis, diagnose};
pub use facts::Facts;
pub use report::Report;
