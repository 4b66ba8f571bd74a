//! The DMARC verdict (RFC 7489 §3.1, §6.6.2, §6.6.4) from what discovery found and the SPF
//! result: SPF authenticates the MAIL FROM domain (or the HELO name for a null sender); DMARC
//! passes when that pass is aligned with the From domain — relaxed: the same organizational
//! domain; strict: the same name. Otherwise the policy applies (`sp` for a subdomain of the
//! domain the record was found at), to `pct` percent of messages, chosen by a hash of the
//! message itself so a story always samples the same way.

use mxlab_vocab::{DmarcDisposition, SpfResult};

use super::discovery::Found;
use super::record::{Alignment, Policy};
use crate::org_domain::PublicSuffixes;

/// The identifiers a receiver has for one message.
#[derive(Clone, Copy, Debug)]
pub struct Identifiers<'a> {
    /// The RFC 5322 From domain.
    pub from_domain: &'a str,
    /// The domain SPF evaluated: MAIL FROM's, or the HELO name for a null sender.
    pub spf_domain: &'a str,
    pub spf: SpfResult,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    pub from_domain: String,
    pub spf_domain: String,
    pub spf: SpfResult,
    /// The alignment mode applied (the record's `aspf`; relaxed without a record).
    pub aspf: Alignment,
    pub spf_aligned: bool,
    /// The policy the record asks for this From domain (`p`, or `sp` for a subdomain).
    pub policy: Option<Policy>,
    /// The message fell outside `pct`: the next less strict policy applied.
    pub sampled_out: bool,
    pub disposition: DmarcDisposition,
}

impl Evaluation {
    /// DMARC passed: SPF passed and is aligned.
    pub fn passed(&self) -> bool {
        self.disposition == DmarcDisposition::Pass
    }
}

/// Are the two names aligned under `mode`?
pub fn aligned(from: &str, other: &str, mode: Alignment, suffixes: &PublicSuffixes) -> bool {
    let n = |s: &str| s.trim().trim_end_matches('.').to_ascii_lowercase();
    let (from, other) = (n(from), n(other));
    match mode {
        Alignment::Strict => from == other,
        Alignment::Relaxed => {
            suffixes.organizational_domain(&from) == suffixes.organizational_domain(&other)
        }
    }
}

/// A number from 0 to 99 for `pct`, derived from the message (FNV-1a): the same message is
/// always sampled the same way, and no randomness enters a run.
pub fn sample(message: &[u8]) -> u8 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in message {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    (hash % 100) as u8
}

/// The verdict; `sample` is [`sample`] of the message (0–99).
pub fn evaluate(
    ids: Identifiers<'_>,
    found: &Found,
    suffixes: &PublicSuffixes,
    sample: u8,
) -> Evaluation {
    let record = match found {
        Found::Record { at, record, .. } => Some((at.as_str(), record)),
        _ => None,
    };
    let aspf = record.map_or(Alignment::Relaxed, |(_, r)| r.aspf);
    let spf_aligned = aligned(ids.from_domain, ids.spf_domain, aspf, suffixes);
    let policy = record.map(|(at, r)| {
        let is_subdomain = !ids
            .from_domain
            .trim_end_matches('.')
            .eq_ignore_ascii_case(at);
        match (is_subdomain, r.subdomain_policy) {
            (true, Some(sp)) => sp,
            _ => r.policy,
        }
    });
    let mut sampled_out = false;
    let disposition = if ids.spf == SpfResult::Pass && spf_aligned && record.is_some() {
        DmarcDisposition::Pass
    } else {
        match (found, record, policy) {
            (Found::TempError { .. }, _, _) => DmarcDisposition::TempError,
            (_, Some((_, r)), Some(p)) => {
                let applied = if sample < r.pct {
                    p
                } else {
                    sampled_out = p != Policy::None;
                    p.relaxed()
                };
                match applied {
                    Policy::Reject => DmarcDisposition::Reject,
                    Policy::Quarantine => DmarcDisposition::Quarantine,
                    Policy::None => DmarcDisposition::None,
                }
            }
            _ => DmarcDisposition::None,
        }
    };
    Evaluation {
        from_domain: ids.from_domain.to_ascii_lowercase(),
        spf_domain: ids.spf_domain.to_ascii_lowercase(),
        spf: ids.spf,
        aspf,
        spf_aligned,
        policy,
        sampled_out,
        disposition,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dmarc::record::parse;

    fn found(at: &str, text: &str) -> Found {
        Found::Record {
            at: at.into(),
            text: text.into(),
            record: parse(text).unwrap(),
        }
    }

    fn ids<'a>(from: &'a str, spf_domain: &'a str, spf: SpfResult) -> Identifiers<'a> {
        Identifiers {
            from_domain: from,
            spf_domain,
            spf,
        }
    }

    const PSL: fn() -> PublicSuffixes = PublicSuffixes::builtin;

    #[test]
    fn an_aligned_spf_pass_passes() {
        let f = found("mycompany.test", "v=DMARC1; p=reject");
        let e = evaluate(
            ids("mycompany.test", "bounce.mycompany.test", SpfResult::Pass),
            &f,
            &PSL(),
            0,
        );
        assert!(e.spf_aligned);
        assert_eq!(e.disposition, DmarcDisposition::Pass);
    }

    #[test]
    fn strict_alignment_wants_the_same_name() {
        let f = found("mycompany.test", "v=DMARC1; p=reject; aspf=s");
        let e = evaluate(
            ids("mycompany.test", "bounce.mycompany.test", SpfResult::Pass),
            &f,
            &PSL(),
            0,
        );
        assert!(!e.spf_aligned);
        assert_eq!(e.disposition, DmarcDisposition::Reject);
    }

    #[test]
    fn failing_spf_meets_the_policy() {
        let f = found("mycompany.test", "v=DMARC1; p=quarantine");
        let e = evaluate(
            ids("mycompany.test", "mycompany.test", SpfResult::Fail),
            &f,
            &PSL(),
            50,
        );
        assert_eq!(e.disposition, DmarcDisposition::Quarantine);
        let none = found("mycompany.test", "v=DMARC1; p=none");
        let e = evaluate(
            ids("mycompany.test", "mycompany.test", SpfResult::Fail),
            &none,
            &PSL(),
            0,
        );
        assert_eq!(e.disposition, DmarcDisposition::None);
    }

    #[test]
    fn subdomains_get_sp_and_pct_samples() {
        let f = found(
            "mycompany.test",
            "v=DMARC1; p=reject; sp=quarantine; pct=20",
        );
        let sub = ids("portal.mycompany.test", "other.test", SpfResult::Pass);
        let e = evaluate(sub, &f, &PSL(), 10);
        assert_eq!(
            (e.policy, e.disposition),
            (Some(Policy::Quarantine), DmarcDisposition::Quarantine)
        );
        let e = evaluate(sub, &f, &PSL(), 20);
        assert!(e.sampled_out);
        assert_eq!(e.disposition, DmarcDisposition::None);
        let top = ids("mycompany.test", "other.test", SpfResult::Pass);
        assert_eq!(
            evaluate(top, &f, &PSL(), 99).disposition,
            DmarcDisposition::Quarantine
        );
    }

    #[test]
    fn no_policy_and_temporary_failures() {
        let e = evaluate(
            ids("x.test", "x.test", SpfResult::Fail),
            &Found::Nothing,
            &PSL(),
            0,
        );
        assert_eq!(e.disposition, DmarcDisposition::None);
        let t = Found::TempError {
            name: "_dmarc.x.test".into(),
            status: "SERVFAIL".into(),
        };
        assert_eq!(
            evaluate(ids("x.test", "x.test", SpfResult::Fail), &t, &PSL(), 0).disposition,
            DmarcDisposition::TempError
        );
    }

    #[test]
    fn sampling_is_a_function_of_the_message() {
        assert_eq!(sample(b"one message"), sample(b"one message"));
        assert!(sample(b"anything") < 100);
        let spread: std::collections::BTreeSet<u8> =
            (0..200u32).map(|i| sample(&i.to_be_bytes())).collect();
        assert!(spread.len() > 50, "{}", spread.len());
    }
}
