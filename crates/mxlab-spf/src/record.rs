//! An SPF record: which TXT record is one (§4.5) and its terms (§4.6, §5, §6), parsed in full
//! before anything is evaluated, since a syntax error anywhere is a permerror (§4.6).

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::macros::{Context, MacroString};
use crate::result::Qualifier;

/// The version tag, matched without case, then a space or the end (§4.5).
pub const VERSION: &str = "v=spf1";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub directives: Vec<Directive>,
    pub redirect: Option<Modifier>,
    pub exp: Option<Modifier>,
    /// Every term as published, in order (modifiers included).
    pub terms: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Directive {
    /// As published, e.g. `-ip4:192.0.2.0/24`.
    pub text: String,
    pub qualifier: Qualifier,
    pub mechanism: Mechanism,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Modifier {
    pub text: String,
    pub target: MacroString,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mechanism {
    All,
    Include(MacroString),
    A(HostSpec),
    Mx(HostSpec),
    Ptr(Option<MacroString>),
    Ip4 { network: Ipv4Addr, prefix: u8 },
    Ip6 { network: Ipv6Addr, prefix: u8 },
    Exists(MacroString),
}

/// The target and dual CIDR lengths of `a` and `mx` (§5.6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostSpec {
    pub domain: Option<MacroString>,
    pub prefix4: u8,
    pub prefix6: u8,
}

impl Mechanism {
    pub fn name(&self) -> &'static str {
        match self {
            Mechanism::All => "all",
            Mechanism::Include(_) => "include",
            Mechanism::A(_) => "a",
            Mechanism::Mx(_) => "mx",
            Mechanism::Ptr(_) => "ptr",
            Mechanism::Ip4 { .. } => "ip4",
            Mechanism::Ip6 { .. } => "ip6",
            Mechanism::Exists(_) => "exists",
        }
    }

    /// The terms that count against the limit of 10 DNS-querying terms (§4.6.4).
    pub fn queries_dns(&self) -> bool {
        matches!(
            self,
            Mechanism::Include(_)
                | Mechanism::A(_)
                | Mechanism::Mx(_)
                | Mechanism::Ptr(_)
                | Mechanism::Exists(_)
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub term: String,
    pub reason: String,
}

impl fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.term.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{:?}: {}", self.term, self.reason)
        }
    }
}

/// Whether one TXT record's joined text is an SPF record (§4.5).
pub fn is_spf(text: &[u8]) -> bool {
    text.len() >= VERSION.len()
        && text[..VERSION.len()].eq_ignore_ascii_case(VERSION.as_bytes())
        && (text.len() == VERSION.len() || text[VERSION.len()] == b' ')
}

/// A TXT record's character-strings joined without separators (§3.3).
pub fn join(strings: &[Vec<u8>]) -> Vec<u8> {
    strings.concat()
}

/// The SPF records among a name's TXT records (joined).
pub fn spf_records(txt: &[Vec<Vec<u8>>]) -> Vec<Vec<u8>> {
    txt.iter()
        .map(|strings| join(strings))
        .filter(|text| is_spf(text))
        .collect()
}

impl Record {
    /// Parses a record that [`is_spf`] accepted. `text` must be ASCII (the caller turns
    /// anything else into a permerror, §3.1).
    pub fn parse(text: &str) -> Result<Record, SyntaxError> {
        if !is_spf(text.as_bytes()) {
            return Err(SyntaxError {
                term: String::new(),
                reason: "not a v=spf1 record".into(),
            });
        }
        let mut record = Record {
            directives: Vec::new(),
            redirect: None,
            exp: None,
            terms: Vec::new(),
        };
        // Only SP separates terms (§4.6.1); a tab or CR inside a term is a syntax error there.
        for term in text[VERSION.len()..].split(' ').filter(|t| !t.is_empty()) {
            record.terms.push(term.to_string());
            let error = |reason: String| SyntaxError {
                term: term.to_string(),
                reason,
            };
            if let Some((name, value)) = modifier_parts(term) {
                let lower = name.to_ascii_lowercase();
                match lower.as_str() {
                    "redirect" | "exp" => {
                        let target = MacroString::parse_domain_spec(value)
                            .map_err(|e| error(e.to_string()))?;
                        let slot = if lower == "redirect" {
                            &mut record.redirect
                        } else {
                            &mut record.exp
                        };
                        if slot.is_some() {
                            return Err(error(format!("{lower}= may appear only once")));
                        }
                        *slot = Some(Modifier {
                            text: term.to_string(),
                            target,
                        });
                    }
                    // Unknown modifiers are ignored (§6), but their value must still parse.
                    _ => {
                        MacroString::parse(value, Context::ModifierValue)
                            .map_err(|e| error(e.to_string()))?;
                    }
                }
                continue;
            }
            let directive = parse_directive(term).map_err(error)?;
            record.directives.push(directive);
        }
        Ok(record)
    }
}

/// `name "=" value` with name = ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ) (§4.6.1).
fn modifier_parts(term: &str) -> Option<(&str, &str)> {
    let (name, value) = term.split_once('=')?;
    let mut chars = name.chars();
    let first = chars.next()?;
    (first.is_ascii_alphabetic()
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    .then_some((name, value))
}

fn parse_directive(term: &str) -> Result<Directive, String> {
    let (qualifier, rest) = match term.chars().next().and_then(Qualifier::from_char) {
        Some(q) => (q, &term[1..]),
        None => (Qualifier::Pass, term),
    };
    let name_end = rest.find([':', '/']).unwrap_or(rest.len());
    let (name, args) = rest.split_at(name_end);
    let mechanism = match name.to_ascii_lowercase().as_str() {
        "all" => {
            if !args.is_empty() {
                return Err("all takes no argument".into());
            }
            Mechanism::All
        }
        "include" => Mechanism::Include(required_domain(args)?),
        "exists" => Mechanism::Exists(required_domain(args)?),
        "a" => Mechanism::A(host_spec(args)?),
        "mx" => Mechanism::Mx(host_spec(args)?),
        "ptr" => Mechanism::Ptr(match args {
            "" => None,
            _ => Some(required_domain(args)?),
        }),
        "ip4" => {
            let value = args
                .strip_prefix(':')
                .ok_or("ip4 needs an address: ip4:192.0.2.0/24")?;
            let (addr, prefix) = match value.split_once('/') {
                Some((addr, len)) => (addr, cidr(len, 32)?),
                None => (value, 32),
            };
            let network = parse_ip4(addr).ok_or(format!("{addr:?} is not an IPv4 address"))?;
            Mechanism::Ip4 { network, prefix }
        }
        "ip6" => {
            let value = args
                .strip_prefix(':')
                .ok_or("ip6 needs an address: ip6:2001:db8::/32")?;
            let (addr, prefix) = match value.split_once('/') {
                Some((addr, len)) => (addr, cidr(len, 128)?),
                None => (value, 128),
            };
            let network: Ipv6Addr = addr
                .parse()
                .map_err(|_| format!("{addr:?} is not an IPv6 address"))?;
            Mechanism::Ip6 { network, prefix }
        }
        _ => return Err(format!("unknown mechanism {name:?}")),
    };
    Ok(Directive {
        text: term.to_string(),
        qualifier,
        mechanism,
    })
}

fn required_domain(args: &str) -> Result<MacroString, String> {
    let spec = args
        .strip_prefix(':')
        .ok_or("a domain is required after ':'")?;
    MacroString::parse_domain_spec(spec).map_err(|e| e.to_string())
}

/// `[ ":" domain-spec ] [ "/" ip4-cidr ] [ "//" ip6-cidr ]`, read from the right so that a
/// `/` inside the domain-spec (legal there) is not taken for a CIDR length.
fn host_spec(args: &str) -> Result<HostSpec, String> {
    let mut rest = args;
    let mut prefix6 = 128;
    let mut prefix4 = 32;
    if let Some((head, digits)) = trailing_digits(rest)
        && let Some(head) = head.strip_suffix("//")
    {
        prefix6 = cidr(digits, 128)?;
        rest = head;
    }
    if let Some((head, digits)) = trailing_digits(rest)
        && let Some(head) = head.strip_suffix('/')
    {
        prefix4 = cidr(digits, 32)?;
        rest = head;
    }
    let domain = match rest {
        "" => None,
        _ => Some(required_domain(rest)?),
    };
    Ok(HostSpec {
        domain,
        prefix4,
        prefix6,
    })
}

fn trailing_digits(s: &str) -> Option<(&str, &str)> {
    let start = s.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    (start < s.len()).then(|| s.split_at(start))
}

/// A CIDR length: decimal without leading zeros (RFC 7208's ABNF), at most `max`.
fn cidr(digits: &str, max: u8) -> Result<u8, String> {
    let ok = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'))
        && digits.len() <= 3;
    match digits.parse::<u16>() {
        Ok(n) if ok && n <= u16::from(max) => Ok(n as u8),
        _ => Err(format!("invalid CIDR length /{digits} (0–{max})")),
    }
}

/// Four decimal octets without leading zeros (RFC 7208's `qnum`).
fn parse_ip4(s: &str) -> Option<Ipv4Addr> {
    let mut octets = [0u8; 4];
    let mut parts = s.split('.');
    for octet in &mut octets {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if p.len() > 1 && p.starts_with('0') {
            return None;
        }
        *octet = p.parse().ok()?;
    }
    parts.next().is_none().then(|| Ipv4Addr::from(octets))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Record, SyntaxError> {
        Record::parse(s)
    }

    #[test]
    fn selects_records_by_version_tag() {
        assert!(is_spf(b"v=spf1"));
        assert!(is_spf(b"V=SpF1 -all"));
        assert!(!is_spf(b"v=spf10"));
        assert!(!is_spf(b"v=spf1-all"));
        assert!(!is_spf(b"spf1"));
        let records = spf_records(&[
            vec![b"v=spf1 ip4:".to_vec(), b"192.0.2.5 -all".to_vec()],
            vec![],
            vec![b"google-site-verification=x".to_vec()],
        ]);
        assert_eq!(records, [b"v=spf1 ip4:192.0.2.5 -all".to_vec()]);
    }

    #[test]
    fn parses_every_mechanism() {
        let r = parse(
            "v=spf1 +all -include:_spf.example.com ~a ?a:mail.example.com/24//64 mx/30 \
             ptr ptr:example.com ip4:192.0.2.0/24 ip6:2001:db8::/32 exists:%{i}.rbl.example.com \
             redirect=_spf.example.com exp=explain.%{d} foo=bar",
        )
        .unwrap();
        let names: Vec<&str> = r.directives.iter().map(|d| d.mechanism.name()).collect();
        assert_eq!(
            names,
            [
                "all", "include", "a", "a", "mx", "ptr", "ptr", "ip4", "ip6", "exists"
            ]
        );
        assert_eq!(r.directives[1].qualifier, Qualifier::Fail);
        assert_eq!(
            r.directives[3].mechanism,
            Mechanism::A(HostSpec {
                domain: Some(MacroString::parse_domain_spec("mail.example.com").unwrap()),
                prefix4: 24,
                prefix6: 64
            })
        );
        assert!(r.redirect.is_some() && r.exp.is_some());
        assert_eq!(r.terms.len(), 13);
    }

    #[test]
    fn syntax_errors_anywhere_are_found() {
        for bad in [
            "v=spf1 ip4:1.2.3.4 -all moo",
            "v=spf1 -all.",
            "v=spf1 -all:foobar",
            "v=spf1 -all/8",
            "v=spf1 ptr/0",
            "v=spf1 ptr:",
            "v=spf1 a/33",
            "v=spf1 a//129",
            "v=spf1 a/24/64",
            "v=spf1 a:example.com:8080",
            "v=spf1 a:111.222.33.44",
            "v=spf1 a:",
            "v=spf1 include",
            "v=spf1 include:ip5.example.com/24",
            "v=spf1 exists",
            "v=spf1 exists:mail.example.com/24",
            "v=spf1 ip4",
            "v=spf1 ip4:1.2.3.4/33",
            "v=spf1 ip4:1.2.3.4/032",
            "v=spf1 ip4:1.2.3.4//32",
            "v=spf1 ip4:1.2.3.4:8080",
            "v=spf1 ip4:1.2.3",
            "v=spf1 ip4:1.2.03.4",
            "v=spf1 ip6",
            "v=spf1 ip6:::1.1.1.1/129",
            "v=spf1 ip6:::1.1.1.1//33",
            "v=spf1 ip6::CAFE::BABE",
            "v=spf1 moo.cow/far_out=man:dog/cat",
            "v=spf1 1up=foo",
            "v=spf1 =all",
            "v=spf1 redirect:t2.example.com",
            "v=spf1 exp=",
            "v=spf1 exp=-all",
            "v=spf1 redirect=a.example.com redirect=b.example.com",
            "v=spf1 exp=a.example.com exp=b.example.com",
            "v=spf1 foo=%abc",
            "v=spf1 a:ctrl.example.com\rptr -all",
            "v=spf1 a:foo.example.com\0",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn legal_oddities() {
        for good in [
            "v=spf1",
            "v=spf1 a  -all",
            "v=spf1 a -all ",
            "v=spf1 moo.cow-far_out=man:dog/cat ip4:1.2.3.4 -all",
            "v=spf1 a:foo:bar/baz.example.com",
            "v=spf1 default=+",
            "v=spf1 ip6:Cafe:Babe:8000::/33",
            "v=spf1 ip4:1.1.1.1/0 a/0 a//0 mx/0",
            "V=SPF1 MX -ALL",
        ] {
            assert!(parse(good).is_ok(), "{good:?}: {:?}", parse(good));
        }
    }
}
