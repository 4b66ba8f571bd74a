//! Everything the rules may look at: what an administrator could see — the artifacts and the
//! checker's own probes — and nothing from inside the simulation. Only
//! [`crate::investigate`] fills it.

use crate::artifacts::notice::Notice;
use crate::artifacts::tracking::TrackingEvent;
use crate::probe::DomainProbe;

#[derive(Clone, Debug, Default)]
pub(crate) struct Facts {
    /// The recipients the complaint is about.
    pub recipients: Vec<String>,
    /// Delay notices (and any other DSN) the sender received.
    pub dsns: Vec<Notice>,
    /// Non-delivery reports the sender received.
    pub ndrs: Vec<Notice>,
    pub tracking: Vec<TrackingEvent>,
    /// The queue snapshot, as `Get-Queue | Format-List` shows it.
    pub queue: Option<String>,
    /// Live probes of each recipient domain.
    pub domains: Vec<DomainProbe>,
    /// The checker's own SPF evaluation of the sender (sending IP, MAIL FROM, HELO).
    pub spf: Option<mxlab_spf::Trace>,
    /// Whether the checker could probe at all: a notice read on its own supports only the
    /// causes its words name.
    pub probed: bool,
    /// The sending IP asked of each blocklist zone a refusal named (or the probe was given).
    pub dnsbl: Vec<mxlab_policy::dnsbl::Lookup>,
    /// The sending IP's reverse DNS and its forward confirmation.
    pub reverse_dns: Option<mxlab_policy::rdns::Lookup>,
    /// The sender domain's DMARC policy and its verdict with the checker's SPF result.
    pub dmarc: Option<crate::probe::policy::DmarcProbe>,
    /// After the fact, or `mxlab check` (which answers "deliverable now?").
    pub mode: crate::probe::Mode,
}

impl Facts {
    /// Every notice, delays first.
    pub fn notices(&self) -> impl Iterator<Item = &Notice> {
        self.dsns.iter().chain(&self.ndrs)
    }
}
