//! Reading a scenario: TOML → model → checks that only a whole file can make.

use std::net::{IpAddr, Ipv4Addr};
use std::ops::Range;
use std::path::Path;

use mxlab_vocab::Stage;
use toml::Spanned;

use crate::error::LoadError;
use crate::locate::{Locator, Step};
use crate::model::{DnsAction, ScenarioFile, SmtpAction, SmtpRule};
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
    let text = crate::source::read(path, &label)?;
    let name = path
        .file_stem()
        .map_or_else(|| label.clone(), |s| s.to_string_lossy().into_owned());
    load_str(&name, &label, &text)
}

/// Validates scenario text; `source` names it in errors.
pub fn load_str(name: &str, source: &str, text: &str) -> Result<Scenario, LoadError> {
    let file: ScenarioFile = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        LoadError::at(
            source,
            text,
            span.start,
            toml_message(text, span, e.message()),
        )
    })?;
    let at = |span: Range<usize>, msg: String| LoadError::at(source, text, span.start, msg);
    // Where a key of the file sits, for checks made after reading it; the document is only
    // parsed again when one fails.
    let key_at = |path: &[Step<'_>], msg: String| {
        let span = Locator::new(text).key(path).unwrap_or(0..0);
        LoadError::at(source, text, span.start, msg)
    };

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
            LoadError::new(source, line, col, e.message)
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
                return Err(LoadError::new(
                    source,
                    line,
                    col,
                    format!(
                        "{owner} has address {ip}, outside 127.0.0.0/8 and ::1: {LOOPBACK_ONLY}"
                    ),
                ));
            }
        }
        zones.push(parsed);
    }

    let dns = topology::build(&file.dns, &zones)
        .map_err(|e| LoadError::at(source, text, e.offset, e.message))?;

    let mut host_addresses: Vec<IpAddr> = Vec::new();
    for (h, host) in file.smtp.hosts.iter().enumerate() {
        let name = host.name.get_ref();
        let host_path = [Step::Key("smtp"), Step::Key("hosts"), Step::Index(h)];
        if let Some(banner) = &host.banner
            && let Some(problem) = banner_problem(banner)
        {
            let path = [&host_path[..], &[Step::Key("banner")]].concat();
            return Err(key_at(&path, format!("host `{name}`: {problem}")));
        }
        if let Some(first) = file.smtp.hosts[..h]
            .iter()
            .find(|other| same_name(other.name.get_ref(), name))
        {
            let (line, _) = crate::error::line_col(text, first.name.span().start);
            return Err(at(
                host.name.span(),
                format!(
                    "SMTP host `{name}` is already described at line {line}: one host, one entry (put all its rules there)"
                ),
            ));
        }
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
        for (r, rule) in host.rules.iter().enumerate() {
            let rule_path = [&host_path[..], &[Step::Key("rules"), Step::Index(r)]].concat();
            let problem = check_rule(rule).err().or_else(|| {
                (rule.dnsbl.is_some() && host.dnsbl.is_empty()).then(|| RuleProblem {
                    key: Some("dnsbl"),
                    message: "a `dnsbl` condition needs the host's `dnsbl` zones, e.g. dnsbl = [\"zen.spamhaus.test\"]".into(),
                })
            });
            if let Some(RuleProblem { key, message }) = problem {
                let mut path = rule_path.clone();
                path.extend(key.map(Step::Key));
                let message = format!("host `{name}`, rule {}: {message}", r + 1);
                let located = Locator::new(text);
                let span = located
                    .key(&path)
                    .or_else(|| located.key(&rule_path))
                    .unwrap_or(0..0);
                return Err(at(span, message));
            }
        }
        for zone in &host.dnsbl {
            check_zone_name(zone.get_ref()).map_err(|m| at(zone.span(), m))?;
        }
        if let Some(i) = host_addresses.iter().position(|a| *a == address) {
            return Err(at(
                host.name.span(),
                format!(
                    "SMTP host `{name}` has address {address}, as `{}` has: two hosts cannot listen on one address",
                    file.smtp.hosts[i].name.get_ref()
                ),
            ));
        }
        host_addresses.push(address);
    }

    for (f, fault) in file.dns.faults.iter().enumerate() {
        let path = |key| {
            [
                Step::Key("dns"),
                Step::Key("faults"),
                Step::Index(f),
                Step::Key(key),
            ]
        };
        let name = &fault.name;
        if fault.action == DnsAction::Delay && fault.delay.is_none_or(|d| d.get().is_zero()) {
            return Err(key_at(
                &path("action"),
                format!(
                    "fault for `{name}`: action `delay` needs `delay = \"<how long>\"`, e.g. delay = \"3s\""
                ),
            ));
        }
        if fault.action != DnsAction::Delay && fault.delay.is_some() {
            return Err(key_at(
                &path("delay"),
                format!(
                    "fault for `{name}`: `delay` goes with `action = \"delay\"`; this fault's action is `{}`",
                    fault.action.as_str()
                ),
            ));
        }
        if let (Some(from), Some(until)) = (fault.from, fault.until)
            && until <= from
        {
            return Err(key_at(
                &path("until"),
                format!(
                    "fault for `{name}`: the window ends (`until = \"{until}\"`) before it begins (`from = \"{from}\"`), so the fault would never fire"
                ),
            ));
        }
    }

    let sender_ip = match &file.sender.ip {
        Some(ip) => {
            check_loopback(ip).map_err(|m| at(ip.span(), m))?;
            *ip.get_ref()
        }
        None => IpAddr::V4(Ipv4Addr::LOCALHOST),
    };

    check_retry_intervals(&file.sender.transport).map_err(|(key, message)| {
        key_at(
            &[Step::Key("sender"), Step::Key("transport"), Step::Key(key)],
            message,
        )
    })?;

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
        return Err(key_at(
            &[Step::Key("sender"), Step::Key("messages")],
            "`sender.messages` is empty: a story needs a message".into(),
        ));
    }
    for (i, message) in file.sender.messages.iter().enumerate() {
        let fields = std::iter::once(("from", &message.from, None)).chain(
            message
                .to
                .iter()
                .enumerate()
                .map(|(n, to)| ("to", to, Some(n))),
        );
        for (key, address, n) in fields {
            if address
                .split_once('@')
                .is_none_or(|(l, d)| l.is_empty() || d.is_empty())
            {
                let mut path = vec![
                    Step::Key("sender"),
                    Step::Key("messages"),
                    Step::Index(i),
                    Step::Key(key),
                ];
                path.extend(n.map(Step::Index));
                let span = Locator::new(text).value(&path).unwrap_or(0..0);
                return Err(at(
                    span,
                    format!("`{address}` in sender.messages is not a mail address (local@domain)"),
                ));
            }
        }
    }

    if let Some(lab) = &file.lab {
        check_lab(lab).map_err(|(span, m)| at(span, m))?;
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

/// The most hints a lab gives: more than a handful is a walkthrough, not a lab.
pub const MAX_LAB_HINTS: usize = 10;

/// A lab's texts must say something, and the Japanese must match the English hint for hint
/// (a trainee switching language mid-lab keeps their place).
fn check_lab(lab: &crate::model::Lab) -> Result<(), (Range<usize>, String)> {
    let mut texts = vec![("en", &lab.en)];
    texts.extend(lab.ja.as_ref().map(|ja| ("ja", ja)));
    for (lang, text) in &texts {
        let t = text.get_ref();
        if t.briefing.get_ref().trim().is_empty() {
            return Err((
                t.briefing.span(),
                format!(
                    "`lab.{lang}.briefing` is empty: the briefing is the user's complaint, where the trainee starts"
                ),
            ));
        }
        if let Some(hint) = t.hints.iter().find(|h| h.get_ref().trim().is_empty()) {
            return Err((hint.span(), format!("an empty hint in `lab.{lang}.hints`")));
        }
        if t.hints.len() > MAX_LAB_HINTS {
            return Err((
                t.hints[MAX_LAB_HINTS].span(),
                format!(
                    "`lab.{lang}.hints` has {} hints; a lab gives at most {MAX_LAB_HINTS}",
                    t.hints.len()
                ),
            ));
        }
    }
    if let Some(ja) = &lab.ja
        && ja.get_ref().hints.len() != lab.en.get_ref().hints.len()
    {
        return Err((
            ja.span(),
            format!(
                "`lab.ja` has {} hints and `lab.en` has {}: each hint in both languages",
                ja.get_ref().hints.len(),
                lab.en.get_ref().hints.len()
            ),
        ));
    }
    Ok(())
}

/// The shortest retry interval: anything shorter only makes the queue spin.
const MIN_RETRY_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// Zero and sub-second retry intervals are refused: a queue retrying a deferring host that
/// often makes hundreds of millions of attempts in a two-day story.
fn check_retry_intervals(t: &crate::model::Transport) -> Result<(), (&'static str, String)> {
    for (key, value) in [
        ("message_retry_interval", t.message_retry_interval),
        (
            "transient_failure_retry_interval",
            t.transient_failure_retry_interval,
        ),
        (
            "outbound_connection_failure_retry_interval",
            t.outbound_connection_failure_retry_interval,
        ),
    ] {
        if value.get() < MIN_RETRY_INTERVAL {
            return Err((
                key,
                format!(
                    "`{key} = \"{value}\"`: a retry interval is at least 1s (Exchange's own default is 5m or 10m)"
                ),
            ));
        }
    }
    Ok(())
}

/// A banner is one line of text: CR, LF or NUL in it would let a client read a forged reply.
fn banner_problem(banner: &str) -> Option<String> {
    let c = banner.chars().find(|c| c.is_control() && *c != '\t')?;
    let what = match c {
        '\r' => "a CR".to_string(),
        '\n' => "a line break".to_string(),
        '\0' => "a NUL".to_string(),
        other => format!("the control character {}", other.escape_default()),
    };
    Some(format!(
        "the banner contains {what}; it is the text of one 220 line (a greeting of several lines, or another code, is a rule at stage `banner`)"
    ))
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// toml's message, with what a person needs where toml's own words would puzzle: a date
/// written without quotes is read as a TOML datetime, which toml reports as "invalid type:
/// map".
fn toml_message(text: &str, span: Range<usize>, message: &str) -> String {
    let message = message.trim_end();
    let value = text.get(span).unwrap_or_default().trim();
    let looks_like_date = value.len() >= 8
        && value.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && value.as_bytes()[4] == b'-';
    if message.contains("invalid type: map") && looks_like_date {
        return format!(
            "`{value}` is an unquoted date; every date and time in a scenario is a string: quote it, `\"{value}\"`"
        );
    }
    message.to_string()
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

/// What is wrong with a rule, and which of its keys says it (the rule as a whole when none).
struct RuleProblem {
    key: Option<&'static str>,
    message: String,
}

/// Which actions make sense at which stage, and which keys go together.
fn check_rule(rule: &SmtpRule) -> Result<(), RuleProblem> {
    if let Some(action) = rule.action
        && action != SmtpAction::Reply
        && rule.reply.is_some()
    {
        return Err(RuleProblem {
            key: Some("reply"),
            message: format!(
                "a `reply` is only sent with `action = \"reply\"` (or no action); this rule's action is `{}`, which sends none",
                action.as_str()
            ),
        });
    }
    check_rule_stage(rule).map_err(|message| RuleProblem { key: None, message })
}

/// Which actions make sense at which stage.
fn check_rule_stage(rule: &SmtpRule) -> Result<(), String> {
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
