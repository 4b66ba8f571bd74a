//! Reading a scenario: TOML → model → checks that only a whole file can make.

use std::net::{IpAddr, Ipv4Addr};
use std::ops::Range;
use std::path::Path;

use mxlab_vocab::Stage;
use toml::Spanned;

use crate::error::LoadError;
use crate::model::{ScenarioFile, SmtpAction};
use crate::topology::{self, Topology};
use crate::zone::{ParsedZone, parse_zone};

/// A loaded, validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The catalog name, or the file stem for a path.
    pub name: String,
    /// Where it came from, as error messages name it.
    pub source: String,
    pub file: ScenarioFile,
    /// `file.dns.zones`, parsed.
    pub zones: Vec<ParsedZone>,
    /// The loopback address of each of `file.smtp.hosts`, in the same order.
    pub host_addresses: Vec<IpAddr>,
    /// The sending server's address.
    pub sender_ip: IpAddr,
    /// Who serves DNS: the authoritative servers and the sender's resolver.
    pub dns: Topology,
}

impl Scenario {
    /// The file's `tags`, as written.
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.file.tags.iter().map(|t| t.get_ref().as_str())
    }
}

/// The format version this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// Reads and validates a scenario file.
pub fn load_path(path: &Path) -> Result<Scenario, LoadError> {
    let label = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| LoadError::whole_file(&label, format!("cannot read: {e}")))?;
    let name = path
        .file_stem()
        .map_or_else(|| label.clone(), |s| s.to_string_lossy().into_owned());
    load_str(&name, &label, &text)
}

/// Validates scenario text; `source` names it in errors.
pub fn load_str(name: &str, source: &str, text: &str) -> Result<Scenario, LoadError> {
    let file: ScenarioFile = toml::from_str(text).map_err(|e| {
        let offset = e.span().map_or(0, |s| s.start);
        LoadError::at(source, text, offset, e.message().trim_end().to_string())
    })?;
    let at = |span: Range<usize>, msg: String| LoadError::at(source, text, span.start, msg);

    if *file.mxlab.get_ref() != FORMAT_VERSION {
        return Err(at(
            file.mxlab.span(),
            format!(
                "format version {} is not supported; this mxlab reads version {FORMAT_VERSION}",
                file.mxlab.get_ref()
            ),
        ));
    }

    for tag in &file.tags {
        check_tag(tag.get_ref()).map_err(|m| at(tag.span(), m))?;
    }

    let mut zones = Vec::new();
    for zone in &file.dns.zones {
        let parsed = parse_zone(&zone.origin, zone.records.get_ref()).map_err(|e| {
            let (line, col) = zone_text_position(text, &zone.records, e.line);
            LoadError {
                file: source.to_string(),
                line,
                col,
                message: e.message,
            }
        })?;
        for (owner, ip) in parsed.addresses() {
            if !ip.is_loopback() {
                let line_in_zone = zone
                    .records
                    .get_ref()
                    .lines()
                    .position(|l| l.contains(&ip.to_string()))
                    .unwrap_or(0);
                let (line, col) = zone_text_position(text, &zone.records, line_in_zone);
                return Err(LoadError {
                    file: source.to_string(),
                    line,
                    col,
                    message: format!(
                        "{owner} has address {ip}, outside 127.0.0.0/8 and ::1: {LOOPBACK_ONLY}"
                    ),
                });
            }
        }
        zones.push(parsed);
    }

    let dns = topology::build(&file.dns, &zones)
        .map_err(|e| LoadError::at(source, text, e.offset, e.message))?;

    let mut host_addresses = Vec::new();
    for host in &file.smtp.hosts {
        let name = host.name.get_ref();
        let address = match &host.address {
            Some(address) => {
                check_loopback(address).map_err(|m| at(address.span(), m))?;
                *address.get_ref()
            }
            None => zones
                .iter()
                .flat_map(|z| z.addresses())
                .find(|(owner, _)| owner.to_ascii().trim_end_matches('.').eq_ignore_ascii_case(name.trim_end_matches('.')))
                .map(|(_, ip)| ip)
                .ok_or_else(|| {
                    at(host.name.span(), format!("SMTP host `{name}` has no A or AAAA record in the zones; add one or set `address`"))
                })?,
        };
        for rule in &host.rules {
            check_rule(rule).map_err(|m| at(host.name.span(), format!("host `{name}`: {m}")))?;
            if rule.dnsbl.is_some() && host.dnsbl.is_empty() {
                return Err(at(
                    host.name.span(),
                    format!(
                        "host `{name}`: a `dnsbl` condition needs the host's `dnsbl` zones, e.g. dnsbl = [\"zen.spamhaus.test\"]"
                    ),
                ));
            }
        }
        for zone in &host.dnsbl {
            check_zone_name(zone.get_ref()).map_err(|m| at(zone.span(), m))?;
        }
        host_addresses.push(address);
    }

    let sender_ip = match &file.sender.ip {
        Some(ip) => {
            check_loopback(ip).map_err(|m| at(ip.span(), m))?;
            *ip.get_ref()
        }
        None => IpAddr::V4(Ipv4Addr::LOCALHOST),
    };

    if let Some(cap) = &file.sender.capacity
        && *cap.get_ref() == 0
    {
        return Err(at(
            cap.span(),
            "`capacity` is messages per hour, at least 1".into(),
        ));
    }
    for message in &file.sender.messages {
        if let Some(count) = &message.count
            && !(1..=10_000).contains(count.get_ref())
        {
            return Err(at(count.span(), "`count` is from 1 to 10000".into()));
        }
    }
    if file.sender.messages.is_empty() {
        return Err(LoadError::whole_file(
            source,
            "`sender.messages` is empty: a story needs a message",
        ));
    }
    for message in &file.sender.messages {
        for address in std::iter::once(&message.from).chain(&message.to) {
            if address
                .split_once('@')
                .is_none_or(|(l, d)| l.is_empty() || d.is_empty())
            {
                return Err(LoadError::whole_file(
                    source,
                    format!("`{address}` in sender.messages is not a mail address (local@domain)"),
                ));
            }
        }
    }

    Ok(Scenario {
        name: name.to_string(),
        source: source.to_string(),
        file,
        zones,
        host_addresses,
        sender_ip,
        dns,
    })
}

const LOOPBACK_ONLY: &str = "mxlab only ever talks to this machine";

fn check_loopback(address: &Spanned<IpAddr>) -> Result<(), String> {
    let ip = *address.get_ref();
    if ip.is_loopback() {
        Ok(())
    } else {
        Err(format!(
            "{ip} is outside 127.0.0.0/8 and ::1: {LOOPBACK_ONLY}"
        ))
    }
}

/// Which actions make sense at which stage.
fn check_rule(rule: &crate::model::SmtpRule) -> Result<(), String> {
    let stage = rule.stage.as_str();
    match rule.action {
        Some(SmtpAction::Refuse | SmtpAction::Drop) if rule.stage != Stage::Connect => Err(
            format!("stage `{stage}`: `refuse` and `drop` only apply at `connect`"),
        ),
        Some(SmtpAction::Reply) if rule.reply.is_none() => Err(format!(
            "stage `{stage}`: action `reply` needs `reply = \"<code> <text>\"`"
        )),
        _ if rule.after_bytes.is_some()
            && !(rule.stage == Stage::Data && rule.action == Some(SmtpAction::Close)) =>
        {
            Err("`after_bytes` goes with `stage = \"data\"` and `action = \"close\"`".into())
        }
        _ if rule.read_rate.is_some_and(|r| r == 0)
            || (rule.read_rate.is_some() && rule.stage != Stage::Data) =>
        {
            Err("`read_rate` (bytes per second, at least 1) goes with `stage = \"data\"`".into())
        }
        _ if (rule.size_over.is_some() || rule.header_bytes_over.is_some())
            && rule.stage != Stage::EndOfData =>
        {
            Err(format!(
                "stage `{stage}`: `size_over` and `header_bytes_over` are judged at `end-of-data`"
            ))
        }
        _ if rule.within.is_some() && rule.stage < Stage::Rcpt => Err(format!(
            "stage `{stage}`: greylisting (`within`) needs the recipient, from `rcpt` on"
        )),
        _ if rule.spf.is_some() && rule.stage < Stage::Mail => Err(format!(
            "stage `{stage}`: an `spf` condition needs the sender, from `mail` on"
        )),
        _ if rule.connections_over.is_some() && rule.stage == Stage::Connect => {
            Err("`connections_over` is judged from `banner` on, once the connection is open".into())
        }
        _ if rule.stage == Stage::Connect && rule.reply.is_some() => {
            Err("stage `connect` takes no reply: script the greeting at stage `banner`".into())
        }
        Some(SmtpAction::Stall) if rule.stage == Stage::Connect => {
            Err("stage `connect`: use `drop` for a connection that is never answered".into())
        }
        _ if (rule.dnsbl.is_some() || rule.reverse_dns.is_some()) && rule.stage == Stage::Connect => {
            Err("`dnsbl` and `reverse_dns` conditions are judged from `banner` on: a refusal at connection time is a greeting (`stage = \"banner\"`, `reply = \"554 …\"`)".into())
        }
        _ if rule.dmarc.is_some() && rule.stage != Stage::EndOfData => Err(format!(
            "stage `{stage}`: a `dmarc` condition needs the message's From header, at `end-of-data`"
        )),
        _ if rule.recipient.is_some() && rule.stage < Stage::Rcpt => Err(format!(
            "stage `{stage}`: a `recipient` condition applies from `rcpt` on"
        )),
        _ => Ok(()),
    }
}

/// A blocklist zone must be a DNS name the host can ask under.
fn check_tag(tag: &str) -> Result<(), String> {
    let ok = tag
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && tag
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format!(
            "tag `{tag}`: a tag is lower-case letters, digits and `-` (e.g. \"dns\", \"smtp-policy\")"
        ))
    }
}

fn check_zone_name(zone: &str) -> Result<(), String> {
    let name = zone.trim().trim_end_matches('.');
    let labels_ok = !name.is_empty()
        && name.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    if labels_ok {
        Ok(())
    } else {
        Err(format!("`{zone}` is not a DNS zone name for `dnsbl`"))
    }
}

/// Maps a line of zone text back to the scenario file. Zone text normally sits in a
/// `"""` string whose first newline TOML drops.
fn zone_text_position(text: &str, records: &Spanned<String>, zone_line: usize) -> (usize, usize) {
    let span = records.span();
    let raw = &text[span.start.min(text.len())..span.end.min(text.len())];
    let (start_line, start_col) = crate::error::line_col(text, span.start);
    let multi_line = raw.starts_with("\"\"\"") || raw.starts_with("'''");
    let skips_first_newline = multi_line && raw[3..].starts_with(['\n', '\r']);
    if skips_first_newline {
        (start_line + 1 + zone_line, 1)
    } else if zone_line == 0 {
        (start_line, start_col)
    } else {
        (start_line + zone_line, 1)
    }
}
