//! The seam between mxlab's logic and the world it talks to.
//!
//! - [`clock`]: story time over tokio's clock (paused in scenario runs, real under `serve`).
//! - [`network`]: the [`Network`] trait every DNS question and SMTP connection goes through,
//!   and [`RealNetwork`] on kernel sockets.
//! - [`dns`]: a stub resolver on that seam; [`mx`]: RFC 5321 §5.1 routing built on it.

pub mod clock;
pub mod dns;
pub mod mx;
pub mod network;
pub mod smtp_client;
pub mod walk;

pub use clock::Clock;
pub use dns::{Answer, DnsClient, Exchange};
pub use network::{BoxStream, Network, RealNetwork};
