//! mxlab's SPF engine: RFC 7208 check_host() with a trace of every term and query, and lint
//! in the manner of checkdmarc.
//!
//! - [`record`]: which TXT record is SPF's, and its terms; [`macros`]: §7 macro strings;
//!   [`name`]: domain-name rules.
//! - [`eval`]: check_host() itself, over the [`SpfResolver`] trait ([`resolver`]); its
//!   [`trace`] is plain data; [`render`] prints it for people; [`report`] is what
//!   `mxlab check spf` shows.
//! - [`survey`] walks a domain's whole SPF tree (every include and redirect, whatever the IP);
//!   [`lint`] turns that into warnings.
//! - Resolvers: [`NetResolver`] over `mxlab_net::DnsClient` (in-memory fake DNS or real
//!   sockets), [`MemoryResolver`] over a table, [`cache::Cached`] in front of either.
//!
//! Nothing here reads a clock or a random source, or opens a socket.

pub mod cache;
pub mod eval;
pub mod lint;
pub mod macros;
pub mod memory;
pub mod name;
pub mod net;
pub mod record;
pub mod render;
pub mod report;
pub mod resolver;
pub mod result;
pub mod survey;
pub mod trace;

pub use cache::Cached;
pub use eval::{MAX_LOOKUPS, MAX_VOID_LOOKUPS, Request, check_host};
pub use lint::{Finding, Severity, lint};
pub use memory::MemoryResolver;
pub use net::NetResolver;
pub use report::Report;
pub use resolver::{Lookup, QueryType, Rdata, SpfResolver};
pub use result::{Qualifier, SpfResult};
pub use survey::{Survey, survey};
pub use trace::{Decider, Identity, Trace};
