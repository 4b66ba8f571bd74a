//! DMARC (RFC 7489) as a receiver applies it, SPF only: no DKIM signature is made or checked
//! anywhere in mxlab yet, so a message passes DMARC only by an aligned SPF pass.
//!
//! - [`record`]: the `v=DMARC1` grammar.
//! - [`discovery`]: `_dmarc.<From domain>`, then `_dmarc.<organizational domain>` (§6.6.3).
//! - [`evaluate`]: identifier alignment (`aspf` relaxed or strict), the policy that applies
//!   (`p`, or `sp` for a subdomain), `pct` sampled from the message itself (§6.6.4).
//! - [`from`]: the RFC 5322 From domain, the identifier DMARC protects.

pub mod discovery;
pub mod evaluate;
pub mod from;
pub mod record;

pub use discovery::{Discovery, Found, discover};
pub use evaluate::{Evaluation, Identifiers, evaluate, sample};
pub use from::from_domain;
pub use record::{Alignment, Policy, Record};
