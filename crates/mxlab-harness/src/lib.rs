//! Starts a scenario's world and runs it.
//!
//! - [`run`]: replay on the virtual clock, in memory, then check against `expect`.
//! - [`world`]: the in-memory [`mxlab_net::Network`] joining the sim to the fake servers.
//! - [`expect`]: the pure comparison of a report with its expectations.
//! - [`serve`]: the same fake servers on real loopback sockets in real time.
//! - [`syn_filter`]: `serve --drop-syn`, the nftables rule that leaves a `drop` host's SYNs
//!   unanswered.
//! - [`spf_gate`]: the remote hosts' SPF check, through the scenario's DNS.
//! - [`policy_gate`]: their blocklist, reverse-DNS and DMARC checks, the same way.

pub mod expect;
pub mod policy_gate;
pub mod run;
pub mod serve;
pub mod spf_gate;
pub mod syn_filter;
pub mod world;

pub use run::run;
