//! The checker's rule ids: dotted, stable, a public interface (`mxlab rules` lists them with
//! their meaning). As a type, an unknown id in a scenario's `expect` is a load error at its
//! position, and no code compares rule ids as strings.

use std::fmt;
use std::str::FromStr;

macro_rules! rule_ids {
    ($($variant:ident => $id:literal,)*) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RuleId {
            $($variant,)*
        }

        impl RuleId {
            pub const ALL: &'static [RuleId] = &[$(RuleId::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(RuleId::$variant => $id,)*
                }
            }
        }
    };
}

rule_ids! {
    DnsLocalResolver => "dns.local-resolver",
    DnsLameDelegation => "dns.lame-delegation",
    DnsServfail => "dns.servfail",
    DnsTimeout => "dns.timeout",
    DnsMxNxdomain => "dns.mx.nxdomain",
    DnsMxNull => "dns.mx.null",
    DnsMxMissing => "dns.mx.missing",
    DnsMxTargetUnresolvable => "dns.mx.target-unresolvable",
    DnsMxImplicit => "dns.mx.implicit",
    DnsTemporaryFailure => "dns.temporary-failure",
    SmtpConnectRefused => "smtp.connect.refused",
    SmtpConnectTimeout => "smtp.connect.timeout",
    SmtpConnectFailed => "smtp.connect.failed",
    SmtpBannerTimeout => "smtp.banner.timeout",
    SmtpRateLimited => "smtp.rate-limited",
    SmtpGreylisted => "smtp.greylisted",
    SmtpRcptMailboxFull => "smtp.rcpt.mailbox-full",
    SmtpRcptUserUnknown => "smtp.rcpt.user-unknown",
    SmtpRcptTransient => "smtp.rcpt.transient",
    SmtpRelayDenied => "smtp.relay-denied",
    SmtpDataTimeout => "smtp.data.timeout",
    SmtpDataDisconnected => "smtp.data.disconnected",
    SmtpMessageHeaderLimit => "smtp.message.header-limit",
    SmtpMessageTooBig => "smtp.message.too-big",
    SmtpTlsRequired => "smtp.tls.required",
    SmtpTlsCertExpired => "smtp.tls.cert-expired",
    SmtpTlsCertNameMismatch => "smtp.tls.cert-name-mismatch",
    SmtpTlsCertUntrusted => "smtp.tls.cert-untrusted",
    SmtpPolicyRejected => "smtp.policy.rejected",
    SmtpMxBackupUsed => "smtp.mx.backup-used",
    SenderBlocklisted => "sender.blocklisted",
    SenderPtrMissing => "sender.ptr.missing",
    SenderPtrMismatch => "sender.ptr.mismatch",
    DmarcReject => "dmarc.reject",
    DmarcQuarantine => "dmarc.quarantine",
    SpfFail => "spf.fail",
    SpfSoftfail => "spf.softfail",
    SpfNone => "spf.none",
    SpfPermerror => "spf.permerror",
    SpfTemperror => "spf.temperror",
    TransportShadowRedundancyStandalone => "transport.shadow-redundancy.standalone",
    TransportBacklog => "transport.backlog",
    NoticeAutoReply => "notice.auto-reply",
    NoticeFeedback => "notice.feedback",
    DsnExpired => "dsn.expired",
    DsnDelayed => "dsn.delayed",
    DsnFailed => "dsn.failed",
    OkDelivered => "ok.delivered",
    OkDeliverable => "ok.deliverable",
    ProbeUnavailable => "probe.unavailable",
    Inconclusive => "inconclusive",
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for RuleId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        RuleId::ALL
            .iter()
            .copied()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a rule id (`mxlab rules` lists them)"))
    }
}

serde_as_text!(RuleId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_dotted_and_parse_back() {
        let mut seen = std::collections::BTreeSet::new();
        for id in RuleId::ALL {
            assert!(seen.insert(id.as_str()), "{id} twice");
            assert!(
                id.as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '.' || c == '-')
            );
            assert_eq!(id.as_str().parse::<RuleId>(), Ok(*id));
        }
        assert!("dns.mx.typo".parse::<RuleId>().is_err());
    }
}
