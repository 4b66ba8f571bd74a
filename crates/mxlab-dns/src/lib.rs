//! The fake authoritative DNS server.
//!
//! - [`server`]: [`FakeDns`], the zones on hickory-server's catalog behind the faults;
//!   bytes in, bytes (or silence) out.
//! - [`faults`]: the pure decision of which scripted fault a query meets.
//! - [`log`]: the bounded query log.
//! - [`listen`]: UDP and TCP listeners on real sockets for `serve`.

pub mod faults;
pub mod listen;
pub mod log;
pub mod server;

pub use server::{FakeDns, Transport};
