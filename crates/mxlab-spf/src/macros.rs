//! Macro strings (RFC 7208 §7): parsing with the grammar's errors, and expansion as a pure
//! function of the values they name. The one value that needs DNS, `%{p}`, is looked up by the
//! evaluator beforehand and handed in.

use std::fmt;

use crate::name::{is_toplabel, strip_root, truncate_left};

/// Where a macro string appears decides which letters it may use: `c`, `r` and `t` only in
/// explanation text (§7.2), and a domain-spec must end in a macro or a top label (§7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    DomainSpec,
    /// The value of an unknown modifier: checked for syntax, never expanded.
    ModifierValue,
    /// Explanation text fetched by `exp=`: spaces allowed, `c`, `r`, `t` allowed.
    Explanation,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MacroString {
    pub parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Literal(String),
    Expand(Macro),
    /// `%%`
    Percent,
    /// `%_`
    Space,
    /// `%-`
    UrlSpace,
}

/// `%{` letter [digits] [r] [delimiters] `}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Macro {
    /// Lower case; `upper` remembers whether the result is URL-escaped.
    pub letter: char,
    pub upper: bool,
    /// How many right-hand parts to keep; `None`: all.
    pub keep: Option<usize>,
    pub reverse: bool,
    /// Characters to split on; empty means `.`.
    pub delimiters: String,
}

/// The values macros stand for (§7.2), already rendered as text.
#[derive(Clone, Debug, Default)]
pub struct Values {
    /// `s`: <sender>, local-part@domain.
    pub sender: String,
    /// `l`
    pub local: String,
    /// `o`
    pub sender_domain: String,
    /// `d`: the domain being checked at this level.
    pub domain: String,
    /// `i`: dotted quad, or dot-separated nibbles for IPv6.
    pub ip_dotted: String,
    /// `p`: the validated name of <ip>, or "unknown"; filled in only when a string uses it.
    pub validated: Option<String>,
    /// `v`: "in-addr" or "ip6".
    pub ip_version: String,
    /// `h`
    pub helo: String,
    /// `c`: <ip> in its usual text form.
    pub ip_text: String,
    /// `r`: the receiving host's domain.
    pub receiver: String,
    /// `t`: seconds since the epoch, from the caller's clock (never the wall clock here).
    pub timestamp: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MacroError(pub String);

impl fmt::Display for MacroError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

const DELIMITERS: &str = ".-+,/_=";

impl MacroString {
    pub fn parse(text: &str, context: Context) -> Result<MacroString, MacroError> {
        let mut parts: Vec<Part> = Vec::new();
        let mut literal = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            if c != '%' {
                let allowed = match context {
                    Context::Explanation => c == ' ' || ('!'..='~').contains(&c),
                    _ => ('!'..='~').contains(&c),
                };
                if !allowed {
                    return Err(MacroError(format!(
                        "character {:?} at offset {at} is not allowed here",
                        c
                    )));
                }
                literal.push(c);
                continue;
            }
            let part = match chars.next() {
                Some((_, '%')) => Part::Percent,
                Some((_, '_')) => Part::Space,
                Some((_, '-')) => Part::UrlSpace,
                Some((_, '{')) => {
                    let mut body = String::new();
                    let mut closed = false;
                    for (_, c) in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        body.push(c);
                    }
                    if !closed {
                        return Err(MacroError(format!("unterminated macro at offset {at}")));
                    }
                    Part::Expand(parse_macro(&body, context)?)
                }
                _ => {
                    return Err(MacroError(format!(
                        "'%' at offset {at} is not followed by '{{', '%', '_' or '-'"
                    )));
                }
            };
            if !literal.is_empty() {
                parts.push(Part::Literal(std::mem::take(&mut literal)));
            }
            parts.push(part);
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(MacroString { parts })
    }

    /// A `domain-spec`: a macro string ending in a macro or in `.` toplabel, optionally with a
    /// final dot (§7.1). Checked before expansion: the grammar is about what is published.
    pub fn parse_domain_spec(text: &str) -> Result<MacroString, MacroError> {
        if text.is_empty() {
            return Err(MacroError("empty domain-spec".into()));
        }
        let spec = MacroString::parse(text, Context::DomainSpec)?;
        if let Some(Part::Literal(tail)) = spec.parts.last() {
            let tail = strip_root(tail);
            match tail.rsplit_once('.') {
                Some((_, top)) if is_toplabel(top) => {}
                _ => {
                    return Err(MacroError(format!(
                        "domain-spec {text:?} does not end in a macro or a valid top label"
                    )));
                }
            }
        }
        Ok(spec)
    }

    pub fn uses(&self, letter: char) -> bool {
        self.parts
            .iter()
            .any(|p| matches!(p, Part::Expand(m) if m.letter == letter))
    }

    pub fn has_macros(&self) -> bool {
        self.parts.iter().any(|p| !matches!(p, Part::Literal(_)))
    }

    /// The expansion as text (explanations keep a trailing dot).
    pub fn expand(&self, values: &Values) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Percent => out.push('%'),
                Part::Space => out.push(' '),
                Part::UrlSpace => out.push_str("%20"),
                Part::Expand(m) => out.push_str(&m.expand(values)),
            }
        }
        out
    }

    /// The expansion as a name to query: without a trailing dot, cut to 253 octets (§7.3).
    pub fn expand_domain(&self, values: &Values) -> String {
        let full = self.expand(values);
        truncate_left(strip_root(&full)).to_string()
    }
}

fn parse_macro(body: &str, context: Context) -> Result<Macro, MacroError> {
    let mut chars = body.chars().peekable();
    let Some(letter) = chars.next() else {
        return Err(MacroError("empty macro %{}".into()));
    };
    let lower = letter.to_ascii_lowercase();
    let allowed = match context {
        Context::DomainSpec => "slodiphv",
        Context::ModifierValue | Context::Explanation => "slodiphvcrt",
    };
    if !letter.is_ascii_alphabetic() || !allowed.contains(lower) {
        return Err(MacroError(format!(
            "%{{{body}}}: '{letter}' is not a macro letter here"
        )));
    }
    let mut digits = String::new();
    while let Some(c) = chars.peek().copied().filter(char::is_ascii_digit) {
        digits.push(c);
        chars.next();
    }
    let keep = if digits.is_empty() {
        None
    } else {
        // Values beyond any label count keep everything; saturate rather than overflow.
        let n = digits.parse::<usize>().unwrap_or(usize::MAX);
        if n == 0 {
            return Err(MacroError(format!(
                "%{{{body}}}: the number of parts must not be zero"
            )));
        }
        Some(n)
    };
    let reverse = matches!(chars.peek(), Some('r') | Some('R'));
    if reverse {
        chars.next();
    }
    let delimiters: String = chars.collect();
    if let Some(bad) = delimiters.chars().find(|c| !DELIMITERS.contains(*c)) {
        return Err(MacroError(format!(
            "%{{{body}}}: '{bad}' is not a delimiter"
        )));
    }
    Ok(Macro {
        letter: lower,
        upper: letter.is_ascii_uppercase(),
        keep,
        reverse,
        delimiters,
    })
}

impl Macro {
    fn expand(&self, values: &Values) -> String {
        let raw: String = match self.letter {
            's' => values.sender.clone(),
            'l' => values.local.clone(),
            'o' => values.sender_domain.clone(),
            'd' => values.domain.clone(),
            'i' => values.ip_dotted.clone(),
            'p' => values.validated.clone().unwrap_or_else(|| "unknown".into()),
            'v' => values.ip_version.clone(),
            'h' => values.helo.clone(),
            'c' => values.ip_text.clone(),
            'r' => values.receiver.clone(),
            't' => values.timestamp.to_string(),
            _ => String::new(),
        };
        let delimiters = if self.delimiters.is_empty() {
            "."
        } else {
            &self.delimiters
        };
        let mut parts: Vec<&str> = raw.split(|c| delimiters.contains(c)).collect();
        if self.reverse {
            parts.reverse();
        }
        if let Some(keep) = self.keep
            && keep < parts.len()
        {
            parts.drain(..parts.len() - keep);
        }
        let joined = parts.join(".");
        if self.upper {
            url_escape(&joined)
        } else {
            joined
        }
    }
}

/// Escapes everything outside RFC 3986's unreserved set, as upper-case macros require (§7.3).
fn url_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The values of RFC 7208 §7.4's examples.
    fn rfc_values() -> Values {
        Values {
            sender: "strong-bad@email.example.com".into(),
            local: "strong-bad".into(),
            sender_domain: "email.example.com".into(),
            domain: "email.example.com".into(),
            ip_dotted: "192.0.2.3".into(),
            validated: Some("mx.example.org".into()),
            ip_version: "in-addr".into(),
            helo: "mx.example.org".into(),
            ip_text: "192.0.2.3".into(),
            receiver: "unknown".into(),
            timestamp: 0,
        }
    }

    fn expand(s: &str) -> String {
        MacroString::parse(s, Context::Explanation)
            .unwrap()
            .expand(&rfc_values())
    }

    #[test]
    fn rfc_7208_section_7_4_examples() {
        assert_eq!(expand("%{s}"), "strong-bad@email.example.com");
        assert_eq!(expand("%{o}"), "email.example.com");
        assert_eq!(expand("%{d}"), "email.example.com");
        assert_eq!(expand("%{d4}"), "email.example.com");
        assert_eq!(expand("%{d3}"), "email.example.com");
        assert_eq!(expand("%{d2}"), "example.com");
        assert_eq!(expand("%{d1}"), "com");
        assert_eq!(expand("%{dr}"), "com.example.email");
        assert_eq!(expand("%{d2r}"), "example.email");
        assert_eq!(expand("%{l}"), "strong-bad");
        assert_eq!(expand("%{l-}"), "strong.bad");
        assert_eq!(expand("%{lr}"), "strong-bad");
        assert_eq!(expand("%{lr-}"), "bad.strong");
        assert_eq!(expand("%{l1r-}"), "strong");
        assert_eq!(
            expand("%{ir}.%{v}._spf.%{d2}"),
            "3.2.0.192.in-addr._spf.example.com"
        );
        assert_eq!(
            expand("%{lr-}.lp._spf.%{d2}"),
            "bad.strong.lp._spf.example.com"
        );
        assert_eq!(
            expand("%{p2}.trusted-domains.example.net"),
            "example.org.trusted-domains.example.net"
        );
        assert_eq!(expand("%%%_%-"), "% %20");
    }

    #[test]
    fn upper_case_letters_are_url_escaped() {
        let mut values = rfc_values();
        values.local = "~jack&jill=up-a_b3.c".into();
        let s = MacroString::parse("l=%{L}", Context::Explanation).unwrap();
        assert_eq!(s.expand(&values), "l=~jack%26jill%3Dup-a_b3.c");
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "%(ir)", "foo%.bar", "%", "%{x}", "%{d0}", "%{d2q}", "%{", "a b",
        ] {
            assert!(
                MacroString::parse(bad, Context::DomainSpec).is_err(),
                "{bad}"
            );
        }
        for only_in_exp in ["%{c}", "%{r}", "%{t}"] {
            assert!(MacroString::parse(only_in_exp, Context::DomainSpec).is_err());
            assert!(MacroString::parse(only_in_exp, Context::Explanation).is_ok());
        }
    }

    #[test]
    fn domain_specs_end_in_a_macro_or_a_top_label() {
        for good in [
            "example.com",
            "example.com.",
            "%{d}",
            "%{ir}.%{v}._spf.%{d2}",
            "foo:bar/baz.example.com",
            "foo.example.xn--zckzah",
        ] {
            assert!(MacroString::parse_domain_spec(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "museum",
            "museum.",
            "abc.123",
            "example.-com",
            "example.com:8080",
            "foo-bar",
            "%{d}com",
        ] {
            assert!(MacroString::parse_domain_spec(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn expanded_domains_lose_the_root_dot_and_fit_in_253_octets() {
        let spec = MacroString::parse_domain_spec(
            "%{d}.%{d}.%{d}.%{d}.%{d}.%{d}.%{d}.%{d}.%{d}.%{d}.%{d}.%{d}.%{d}.%{d}.example.com.",
        )
        .unwrap();
        let name = spec.expand_domain(&rfc_values());
        assert!(name.len() <= 253, "{}", name.len());
        assert!(name.ends_with(".example.com"));
    }
}
