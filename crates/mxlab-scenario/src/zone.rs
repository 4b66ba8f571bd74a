//! Zone data: RFC 1035 master-file text parsed with hickory's parser, located to a line of
//! the scenario file when it fails (hickory's errors carry no position).

use std::collections::BTreeMap;
use std::net::IpAddr;

use hickory_proto::rr::{Name, RData, RecordSet, RrKey};
use hickory_proto::serialize::txt::Parser;

/// One zone, parsed.
#[derive(Debug, Clone)]
pub struct ParsedZone {
    pub origin: Name,
    pub records: BTreeMap<RrKey, RecordSet>,
}

impl ParsedZone {
    /// Every A and AAAA address in the zone, with its owner name.
    pub fn addresses(&self) -> impl Iterator<Item = (&Name, IpAddr)> {
        self.records.values().flat_map(|set| {
            set.records_without_rrsigs()
                .filter_map(move |record| match &record.data {
                    RData::A(a) => Some((set.name(), IpAddr::V4(a.0))),
                    RData::AAAA(aaaa) => Some((set.name(), IpAddr::V6(aaaa.0))),
                    _ => None,
                })
        })
    }
}

/// A zone that did not parse: the 0-based line within the zone text, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZoneError {
    pub line: usize,
    pub message: String,
}

pub fn parse_zone(origin: &str, text: &str) -> Result<ParsedZone, ZoneError> {
    refuse_file_directives(text)?;
    let origin_name = Name::from_ascii(origin).map_err(|e| ZoneError {
        line: 0,
        message: format!("zone origin `{origin}`: {e}"),
    })?;
    let parse = |t: &str| Parser::new(t, None, Some(origin_name.clone())).parse();
    match parse(text) {
        Ok((origin, records)) => {
            let soa = RrKey::new(origin.clone().into(), hickory_proto::rr::RecordType::SOA);
            if !records.contains_key(&soa) {
                return Err(ZoneError {
                    line: 0,
                    message: format!("zone `{origin}` has no SOA record at its apex"),
                });
            }
            if let Some(name) = cname_conflict(&records) {
                // The first prefix of lines with the conflict ends at the line that made it.
                let lines: Vec<&str> = text.split_inclusive('\n').collect();
                let mut end = 0;
                let mut line = 0;
                for (i, l) in lines.iter().enumerate() {
                    end += l.len();
                    if parse(&text[..end]).is_ok_and(|(_, r)| cname_conflict(&r).is_some()) {
                        line = i;
                        break;
                    }
                }
                return Err(ZoneError {
                    line,
                    message: format!(
                        "{name} has a CNAME and other data: a name with a CNAME has nothing else (RFC 1034 §3.6.2)"
                    ),
                });
            }
            Ok(ParsedZone { origin, records })
        }
        Err(error) => {
            // The first line from which every longer prefix fails is the culprit: shorter
            // prefixes may fail only because a parenthesised record is still open.
            let lines: Vec<&str> = text.split_inclusive('\n').collect();
            let mut culprit = lines.len().saturating_sub(1);
            let mut prefix_len: usize = lines.iter().map(|l| l.len()).sum();
            for i in (0..lines.len()).rev() {
                prefix_len -= lines[i].len();
                if parse(&text[..prefix_len]).is_ok() {
                    culprit = i;
                    break;
                }
            }
            Err(ZoneError {
                line: culprit,
                message: format!("bad zone data: {error}"),
            })
        }
    }
}

/// A name with a CNAME and anything else (another CNAME included), which no server can load.
fn cname_conflict(records: &BTreeMap<RrKey, RecordSet>) -> Option<Name> {
    use hickory_proto::rr::RecordType;
    records.iter().find_map(|(key, set)| {
        if key.record_type != RecordType::CNAME {
            return None;
        }
        let name = set.name();
        let others = records.iter().any(|(k, s)| {
            s.name() == name
                && k.record_type != RecordType::CNAME
                && !matches!(k.record_type, RecordType::RRSIG | RecordType::NSEC)
        });
        (others || set.records_without_rrsigs().count() > 1).then(|| name.clone())
    })
}

/// `$INCLUDE` reads a file of this machine into the zone, which `serve` would then hand to any
/// client that asks: a scenario's zones are self-contained, so the directive is refused before
/// hickory's parser could follow it. (`$ORIGIN` and `$TTL` read nothing and stay.)
fn refuse_file_directives(text: &str) -> Result<(), ZoneError> {
    for (line, content) in text.lines().enumerate() {
        if let Some(word) = directives(content).find(|w| w.eq_ignore_ascii_case("INCLUDE")) {
            return Err(ZoneError {
                line,
                message: format!(
                    "`${word}` reads a file into the zone; a scenario's zones are self-contained: write the records here"
                ),
            });
        }
    }
    Ok(())
}

/// The `$WORD` directives of one master-file line, outside quoted strings and comments.
fn directives(line: &str) -> impl Iterator<Item = &str> {
    let mut quoted = false;
    let mut escaped = false;
    let mut found = Vec::new();
    for (i, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => break,
            '$' if !quoted => {
                let rest = &line[i + 1..];
                let end = rest
                    .find(|c: char| !c.is_ascii_alphanumeric())
                    .unwrap_or(rest.len());
                found.push(&rest[..end]);
            }
            _ => {}
        }
    }
    found.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "@ 300 IN SOA ns1 hostmaster 1 3600 600 86400 300\n\
                        @ 300 IN NS ns1\n\
                        @ 300 IN MX 10 mx1\n\
                        mx1 300 IN A 127.0.0.10\n";

    #[test]
    fn parses_a_zone_and_lists_addresses() {
        let zone = parse_zone("remote.test", GOOD).unwrap();
        assert_eq!(zone.origin.to_ascii(), "remote.test.");
        let addrs: Vec<_> = zone.addresses().map(|(_, ip)| ip.to_string()).collect();
        assert_eq!(addrs, ["127.0.0.10"]);
    }

    #[test]
    fn locates_the_bad_line() {
        let bad = format!("{GOOD}www 300 IN A not-an-address\nmail 300 IN A 127.0.0.11\n");
        let err = parse_zone("remote.test", &bad).unwrap_err();
        assert_eq!(err.line, 4, "{err:?}");
    }

    #[test]
    fn include_is_refused_wherever_it_is_written() {
        for line in [
            "$INCLUDE /etc/passwd",
            "  $include /etc/hostname x.test.",
            "($INCLUDE /x",
        ] {
            let text = format!("{GOOD}{line}\n");
            let err = parse_zone("remote.test", &text).unwrap_err();
            assert_eq!(err.line, 4, "{line}: {err:?}");
            assert!(err.message.contains("reads a file"), "{err:?}");
        }
        let quoted = format!("{GOOD}txt 300 IN TXT \"$INCLUDE is text here\" ; $INCLUDE\n");
        assert!(parse_zone("remote.test", &quoted).is_ok());
    }

    #[test]
    fn a_cname_beside_other_data_is_located() {
        let text =
            format!("{GOOD}www 300 IN A 127.0.0.11\nmx1 300 IN CNAME www\nz 300 IN A 127.0.0.12\n");
        let err = parse_zone("remote.test", &text).unwrap_err();
        assert_eq!(err.line, 5, "{err:?}");
        assert!(err.message.contains("CNAME and other data"), "{err:?}");
    }

    #[test]
    fn a_zone_needs_an_soa() {
        let err = parse_zone("remote.test", "mx1 300 IN A 127.0.0.10\n").unwrap_err();
        assert!(err.message.contains("SOA"), "{err:?}");
    }
}
