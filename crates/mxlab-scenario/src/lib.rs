//! The scenario: one TOML file that tells a mail-delivery story — the zones, the remote SMTP
//! hosts and how they misbehave, the sending server and its messages, and the diagnosis the
//! story must produce.
//!
//! - [`model`]: the file as written (schema v1, documented in `docs/scenarios.md`).
//! - [`load`]: TOML to a validated [`Scenario`]; every error names file:line:col.
//! - [`catalog`]: the built-in scenarios.
//! - [`remap`]: a story moved onto a loopback block of its own (many labs at once).
//! - [`duration`], [`values`], [`zone`]: the value types keys parse into.

pub mod catalog;
pub mod duration;
pub mod error;
pub mod load;
pub mod locate;
pub mod model;
pub mod remap;
pub mod source;
pub mod topology;
pub mod values;
pub mod zone;

pub use duration::Dur;
pub use error::LoadError;
pub use load::{Scenario, load_path, load_str};
