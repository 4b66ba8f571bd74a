//! The receiver policies the real world is full of, as protocol machinery: what a receiving
//! server asks the DNS about the client that connects and the domain that sends, and what it
//! concludes. The fake SMTP server's gates (through the scenario's DNS) and the checker's
//! probes (as an administrator's tools) both use it, as they both use the SPF engine.
//!
//! - [`dnsbl`]: RFC 5782 blocklist queries — the reversed address under a zone, an A record
//!   in 127.0.0.0/8 for a listing, the TXT record for its reason.
//! - [`rdns`]: the client IP's PTR and its forward confirmation (FCrDNS).
//! - [`org_domain`]: organizational domains from a small public-suffix list.
//! - [`dmarc`]: RFC 7489 — the record grammar, policy discovery with the organizational-domain
//!   fallback, SPF alignment and the disposition, `pct` sampled deterministically.
//!
//! Each decision is a pure function of the answers; the lookups beside them only ask.

pub mod dmarc;
pub mod dnsbl;
pub mod org_domain;
pub mod rdns;

pub use org_domain::PublicSuffixes;
