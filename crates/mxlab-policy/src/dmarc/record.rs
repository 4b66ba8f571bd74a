//! The DMARC record (RFC 7489 §6.3, §6.4): `v=DMARC1; p=reject; sp=…; aspf=r|s; pct=…`,
//! tag-value pairs separated by semicolons, `v` first. Unknown tags are ignored (§6.3).

use std::fmt;

/// What the domain owner asks receivers to do with mail that fails (§6.3 `p`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Policy {
    None,
    Quarantine,
    Reject,
}

impl Policy {
    fn parse(value: &str) -> Option<Policy> {
        Some(match value.to_ascii_lowercase().as_str() {
            "none" => Policy::None,
            "quarantine" => Policy::Quarantine,
            "reject" => Policy::Reject,
            _ => return None,
        })
    }

    /// The next less strict policy: what a message sampled out by `pct` gets (§6.6.4).
    pub fn relaxed(self) -> Policy {
        match self {
            Policy::Reject => Policy::Quarantine,
            Policy::Quarantine | Policy::None => Policy::None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Policy::None => "none",
            Policy::Quarantine => "quarantine",
            Policy::Reject => "reject",
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Identifier alignment mode (§3.1): organizational domains equal, or names equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Alignment {
    #[default]
    Relaxed,
    Strict,
}

impl Alignment {
    pub fn as_str(self) -> &'static str {
        match self {
            Alignment::Relaxed => "relaxed",
            Alignment::Strict => "strict",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub policy: Policy,
    /// `sp`: the policy for subdomains of the domain where the record was found.
    pub subdomain_policy: Option<Policy>,
    pub aspf: Alignment,
    pub adkim: Alignment,
    /// `pct`: the share of failing mail the policy applies to (0–100).
    pub pct: u8,
    /// `rua` was given (a record with a bad `p` and an `rua` still counts, as `p=none`).
    pub reports: bool,
}

/// True for a TXT record that claims to be DMARC (`v=DMARC1` first); others at `_dmarc` are
/// not DMARC records at all and are skipped (§6.6.3 step 2).
pub fn is_dmarc(text: &str) -> bool {
    let first = text.split(';').next().unwrap_or("");
    match first.split_once('=') {
        Some((tag, value)) => {
            tag.trim().eq_ignore_ascii_case("v") && value.trim().eq_ignore_ascii_case("DMARC1")
        }
        None => false,
    }
}

/// Reads a record; an error says why it is not a usable policy.
pub fn parse(text: &str) -> Result<Record, String> {
    if !is_dmarc(text) {
        return Err("does not begin with v=DMARC1".into());
    }
    let mut policy = None;
    let mut bad_policy = None;
    let mut record = Record {
        policy: Policy::None,
        subdomain_policy: None,
        aspf: Alignment::Relaxed,
        adkim: Alignment::Relaxed,
        pct: 100,
        reports: false,
    };
    for part in text.split(';').skip(1) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let Some((tag, value)) = part.split_once('=') else {
            return Err(format!("`{part}` is not tag=value"));
        };
        let (tag, value) = (tag.trim().to_ascii_lowercase(), value.trim());
        match tag.as_str() {
            "p" => match Policy::parse(value) {
                Some(p) => policy = Some(p),
                None => bad_policy = Some(value.to_string()),
            },
            "sp" => {
                record.subdomain_policy = Some(
                    Policy::parse(value).ok_or_else(|| format!("sp={value} is not a policy"))?,
                )
            }
            "aspf" | "adkim" => {
                let mode = match value.to_ascii_lowercase().as_str() {
                    "r" => Alignment::Relaxed,
                    "s" => Alignment::Strict,
                    _ => return Err(format!("{tag}={value}: r or s")),
                };
                if tag == "aspf" {
                    record.aspf = mode;
                } else {
                    record.adkim = mode;
                }
            }
            "pct" => {
                record.pct = value
                    .parse::<u8>()
                    .ok()
                    .filter(|p| *p <= 100)
                    .ok_or_else(|| format!("pct={value}: a number from 0 to 100"))?;
            }
            "rua" => record.reports = !value.is_empty(),
            // ruf, fo, rf, ri and anything newer: no bearing on the disposition.
            _ => {}
        }
    }
    match (policy, bad_policy) {
        (Some(p), None) => record.policy = p,
        // §6.6.3 step 6: no valid p, but reports wanted: treat as p=none.
        (_, _) if record.reports => record.policy = Policy::None,
        (_, Some(bad)) => return Err(format!("p={bad} is not a policy")),
        (None, None) => return Err("no p= tag".into()),
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_tags_that_decide() {
        let r = parse("v=DMARC1; p=reject; sp=quarantine; aspf=s; pct=30; rua=mailto:d@x.test")
            .unwrap();
        assert_eq!(r.policy, Policy::Reject);
        assert_eq!(r.subdomain_policy, Some(Policy::Quarantine));
        assert_eq!(r.aspf, Alignment::Strict);
        assert_eq!(r.pct, 30);
        let plain = parse("v=DMARC1;p=quarantine").unwrap();
        assert_eq!((plain.aspf, plain.pct), (Alignment::Relaxed, 100));
    }

    #[test]
    fn what_is_not_a_policy() {
        assert!(!is_dmarc("v=spf1 -all"));
        assert!(parse("p=reject; v=DMARC1").is_err());
        assert!(parse("v=DMARC1; rua=mailto:x@y.test").is_ok_and(|r| r.policy == Policy::None));
        assert!(parse("v=DMARC1; p=block").is_err());
        assert!(parse("v=DMARC1").is_err());
        assert!(parse("v=DMARC1; p=reject; pct=150").is_err());
        assert!(parse("v=DMARC1; p=reject; x-future=1").is_ok());
    }
}
