//! The client-side checker: the diagnosis engine.
//!
//! Its one door is [`investigate`]: the artifacts an administrator was handed
//! ([`artifacts`]), the complaint, and where to probe from ([`probe::ProbeEnv`]) in; a
//! [`Diagnosis`] out. Inside, it reads each recipient's story from the artifacts, classifies
//! every error it saw, localises the fault with its own live probes ([`probe`]) and names a
//! cause per recipient from the rule catalog ([`rules`]); [`report`] is the report's JSON
//! contract and text form, in English or Japanese ([`words`], `Rule::text`). It sees only what an administrator could: this crate never
//! depends on the simulator, the fake servers or the scenario.

pub mod artifacts;
mod diagnosis;
pub mod explain;
mod facts;
mod investigate;
mod localize;
pub mod probe;
pub mod report;
pub mod rule;
pub mod rules;
pub mod words;

pub use diagnosis::classify::{Symptom, classify, classify_without_table};
pub use diagnosis::wordings;
pub use diagnosis::{Diagnosis, ProbeLog, RecipientCause};
pub use investigate::{Complaint, investigate, read_notice};
