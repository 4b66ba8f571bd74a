//! The fake DNS: a scenario's authoritative servers and the sender's resolver.
//!
//! - [`server`]: [`FakeDns`], one authoritative server — its zones on hickory-server's catalog
//!   behind the scripted faults; bytes in, bytes (or silence) out.
//! - [`resolver`]: the sender's resolver, walking the servers from the root or forwarding
//!   per zone.
//! - [`world`]: all of them for one scenario, with one query log.
//! - [`faults`]: the pure decision of which scripted fault a query meets.
//! - [`log`], [`reply`]: the query log; replies built without a zone.
//! - [`listen`]: UDP and TCP listeners on real sockets for `serve`, bounded and panic-proof.
//! - [`fuzz`]: the world, seeds and checks of the DNS request path's fuzzing.

pub mod faults;
pub mod fuzz;
pub mod listen;
pub mod log;
pub mod reply;
pub mod resolver;
pub mod server;
pub mod world;

pub use server::{FakeDns, Transport};
pub use world::DnsWorld;
