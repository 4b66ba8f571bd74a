//! The receiver-side SPF gate's seam: the host asks an [`SpfCheck`] for the sender's result
//! at MAIL FROM. The harness provides one over mxlab-spf and the scenario's DNS, so this crate
//! needs neither, and the check runs on the virtual clock in runs and on sockets under serve.

use std::net::IpAddr;

use async_trait::async_trait;
use mxlab_vocab::SpfResult;

#[async_trait]
pub trait SpfCheck: Send + Sync {
    /// The RFC 7208 result for mail from `mail_from` sent by `ip` after HELO `helo`.
    async fn check(&self, ip: IpAddr, mail_from: &str, helo: &str) -> SpfResult;
}
