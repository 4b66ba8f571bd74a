//! What the server does at a stage: pure decision from the scripted rules, the stage, the
//! attempt number and the recipient. No I/O and no clock; the session executes the step.

use std::net::IpAddr;
use std::time::Duration;

use mxlab_scenario::model::{SmtpAction, SmtpRule};
use mxlab_vocab::{DmarcDisposition, EnhancedStatus, Reply, ReverseDns, SpfResult, Stage};

use crate::gates::{DmarcVerdict, DnsblVerdict, Listing};

/// One decided step: wait `delay`, then act.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    pub delay: Duration,
    pub act: Act,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Act {
    /// Do what a healthy server does here.
    Accept,
    Reply(Reply),
    /// connect: the port is closed.
    Refuse,
    /// connect: the SYN goes unanswered.
    Drop,
    /// Say nothing, ever; the client's timeout decides.
    Stall,
    /// Close the connection without a word.
    Close,
    /// data: answer 354, take this many bytes of the message, then hang up.
    CloseAfter(u64),
    /// data: answer 354, then read the message at most this many bytes per second.
    Throttle(u64),
}

/// A recipient a stage is about.
#[derive(Clone, Copy, Debug)]
pub struct Recipient<'a> {
    pub address: &'a str,
    /// Story time since this client, sender and recipient were first seen (greylisting);
    /// `None` when the host remembers no such thing.
    pub since_first_seen: Option<Duration>,
}

/// What a rule's conditions are tested against.
#[derive(Clone, Copy, Debug, Default)]
pub struct Context<'a> {
    /// This client's connection count at this host, from 1.
    pub attempt: u32,
    /// The recipients the stage is about: at RCPT the one given; at DATA and end-of-data every
    /// one accepted in this transaction. None before RCPT.
    pub recipients: &'a [Recipient<'a>],
    /// Sessions open at the host, this one included.
    pub concurrent: u32,
    /// The message, at end-of-data.
    pub message: Option<&'a [u8]>,
    /// The sender's SPF result as this host evaluated it (from MAIL on).
    pub spf: Option<SpfResult>,
    /// The client's address, as default replies quote it.
    pub client: Option<IpAddr>,
    /// What the host's blocklist zones say about the client (from the banner on).
    pub dnsbl: Option<&'a DnsblVerdict>,
    /// The client's reverse DNS as this host sees it (from the banner on).
    pub reverse_dns: Option<ReverseDns>,
    /// The From domain's DMARC disposition (at end-of-data).
    pub dmarc: Option<&'a DmarcVerdict>,
}

/// The size of a message's header section: up to the first empty line.
pub fn header_bytes(message: &[u8]) -> usize {
    message
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(message.len(), |i| i + 2)
}

/// `*` matches any run of characters; everything else literally, ignoring ASCII case.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.to_ascii_lowercase(), text.to_ascii_lowercase());
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == t;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !t.starts_with(first) || !t[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &t[first.len()..t.len() - last.len()];
    for middle in &parts[1..parts.len() - 1] {
        match rest.find(middle) {
            Some(i) => rest = &rest[i + middle.len()..],
            None => return false,
        }
    }
    true
}

/// A rule's per-recipient conditions (`recipient`, `within`) for one recipient.
fn recipient_matches(rule: &SmtpRule, r: &Recipient<'_>) -> bool {
    rule.recipient
        .as_deref()
        .is_none_or(|pattern| glob_matches(pattern, r.address))
        && rule
            .within
            .is_none_or(|window| r.since_first_seen.is_some_and(|since| since < window.get()))
}

fn rule_applies(rule: &SmtpRule, stage: Stage, ctx: &Context<'_>) -> bool {
    let per_recipient = rule.recipient.is_some() || rule.within.is_some();
    rule.stage == stage
        && rule
            .attempts
            .is_none_or(|range| range.contains(ctx.attempt))
        // At DATA and end-of-data: when any recipient of the transaction matches.
        && (!per_recipient || ctx.recipients.iter().any(|r| recipient_matches(rule, r)))
        && rule.connections_over.is_none_or(|n| ctx.concurrent > n)
        && rule.spf.is_none_or(|want| ctx.spf == Some(want))
        && rule
            .dnsbl
            .is_none_or(|want| ctx.dnsbl.is_some_and(|v| v.result() == want))
        && rule.reverse_dns.is_none_or(|want| ctx.reverse_dns == Some(want))
        && rule
            .dmarc
            .is_none_or(|want| ctx.dmarc.is_some_and(|v| v.disposition == want))
        && rule
            .size_over
            .is_none_or(|n| ctx.message.is_some_and(|m| m.len() as u64 > n))
        && rule
            .header_bytes_over
            .is_none_or(|n| ctx.message.is_some_and(|m| header_bytes(m) as u64 > n))
}

/// The first rule for `stage` whose conditions hold decides; with none, a healthy server.
pub fn decide(rules: &[SmtpRule], stage: Stage, ctx: &Context<'_>) -> Step {
    scripted(rules, stage, ctx).unwrap_or(Step {
        delay: Duration::ZERO,
        act: Act::Accept,
    })
}

/// What every connection meets at `connect`, whatever its attempt number, when that is one
/// and the same step (`None` when it depends on the attempt). At `connect` only the attempt
/// number decides (the loader allows no other condition there), and the decision changes only
/// where an `attempts` range begins or ends, so those attempts are all there is to try.
/// `serve` reads it: a host that refuses every connection needs no listener, and one that
/// drops every connection can have its SYNs dropped by a packet filter.
pub fn connect_always(rules: &[SmtpRule]) -> Option<Step> {
    let mut attempts = vec![1];
    for range in rules
        .iter()
        .filter(|r| r.stage == Stage::Connect)
        .filter_map(|r| r.attempts)
    {
        attempts.push(range.first);
        attempts.extend(range.last.and_then(|last| last.checked_add(1)));
    }
    let mut steps = attempts.into_iter().map(|attempt| {
        decide(
            rules,
            Stage::Connect,
            &Context {
                attempt,
                ..Context::default()
            },
        )
    });
    let first = steps.next()?;
    steps.all(|step| step == first).then_some(first)
}

/// What a strict receiver answers at MAIL FROM for an SPF result (RFC 7372 codes), when no
/// rule scripts otherwise. `None`: accept.
pub fn strict_spf(result: SpfResult) -> Option<Reply> {
    match result {
        SpfResult::Fail => Some(Reply::new(
            550,
            Some(EnhancedStatus::new(5, 7, 23)),
            "SPF validation failed",
        )),
        SpfResult::TempError => Some(Reply::new(
            451,
            Some(EnhancedStatus::new(4, 7, 24)),
            "SPF validation error, try again later",
        )),
        SpfResult::PermError => Some(Reply::new(
            550,
            Some(EnhancedStatus::new(5, 7, 24)),
            "SPF validation error: the sender's SPF record is invalid",
        )),
        SpfResult::Pass | SpfResult::None | SpfResult::Neutral | SpfResult::SoftFail => None,
    }
}

/// What a host with blocklist zones answers at RCPT for a listed client, as Postfix's
/// `reject_rbl_client` words it: the zone and its TXT reason.
pub fn strict_dnsbl(client: IpAddr, listing: &Listing) -> Reply {
    let reason = listing
        .reason
        .as_deref()
        .map(|r| format!("; {r}"))
        .unwrap_or_default();
    Reply::new(
        554,
        Some(EnhancedStatus::new(5, 7, 1)),
        &format!(
            "Service unavailable; Client host [{client}] blocked using {}{reason}",
            listing.zone
        ),
    )
}

/// What a host with `reverse_dns = "strict"` answers at RCPT when the client's PTR is missing,
/// does not resolve back to it, or cannot be looked up (Postfix's
/// `reject_unknown_client_hostname`, RFC 7372's 4.7.25). `None`: accept.
pub fn strict_reverse_dns(client: IpAddr, result: ReverseDns) -> Option<Reply> {
    match result {
        ReverseDns::Confirmed => None,
        ReverseDns::Missing | ReverseDns::Mismatch | ReverseDns::TempError => Some(Reply::new(
            450,
            Some(EnhancedStatus::new(4, 7, 25)),
            &format!("Client host rejected: cannot find your hostname, [{client}]"),
        )),
    }
}

/// What a host with `dmarc = "strict"` answers at end-of-data when the policy says reject
/// (RFC 7372's 5.7.26). Quarantined mail is accepted (into the junk folder); `None`: accept.
pub fn strict_dmarc(verdict: &DmarcVerdict) -> Option<Reply> {
    match verdict.disposition {
        DmarcDisposition::Reject => Some(Reply::new(
            550,
            Some(EnhancedStatus::new(5, 7, 26)),
            &format!(
                "Unauthenticated mail from {} is refused: the domain's DMARC policy is reject",
                verdict.from_domain
            ),
        )),
        _ => None,
    }
}

/// The scripted step for `stage`, if a rule's conditions hold.
pub fn scripted(rules: &[SmtpRule], stage: Stage, ctx: &Context<'_>) -> Option<Step> {
    let rule = rules.iter().find(|r| rule_applies(r, stage, ctx))?;
    let act = match (rule.action, &rule.reply) {
        (Some(SmtpAction::Accept), _) | (None, None) if rule.read_rate.is_some() => {
            Act::Throttle(rule.read_rate.unwrap_or(1))
        }
        (Some(SmtpAction::Accept), _) | (None, None) => Act::Accept,
        (Some(SmtpAction::Reply) | None, Some(reply)) => Act::Reply(reply.clone()),
        (Some(SmtpAction::Reply), None) => Act::Accept, // rejected by the loader
        (Some(SmtpAction::Refuse), _) => Act::Refuse,
        (Some(SmtpAction::Drop), _) => Act::Drop,
        (Some(SmtpAction::Stall), _) => Act::Stall,
        (Some(SmtpAction::Close), _) => match rule.after_bytes {
            Some(n) => Act::CloseAfter(n),
            None => Act::Close,
        },
    };
    Some(Step {
        delay: rule.delay.map_or(Duration::ZERO, |d| d.get()),
        act,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mxlab_scenario::values::CountRange;

    fn rule(stage: Stage) -> SmtpRule {
        SmtpRule {
            stage,
            attempts: None,
            recipient: None,
            within: None,
            connections_over: None,
            size_over: None,
            header_bytes_over: None,
            spf: None,
            dnsbl: None,
            reverse_dns: None,
            dmarc: None,
            action: None,
            reply: None,
            delay: None,
            after_bytes: None,
            read_rate: None,
        }
    }

    #[test]
    fn globs() {
        assert!(glob_matches("*@partner.test", "Hanako@partner.test"));
        assert!(glob_matches("a*c*e", "abcde"));
        assert!(!glob_matches("a*c*e", "abde"));
        assert!(!glob_matches("bob@partner.test", "bobby@partner.test"));
    }

    #[test]
    fn greylisting_holds_only_inside_its_window() {
        let mut grey = rule(Stage::Rcpt);
        grey.within = Some(mxlab_scenario::Dur::from_mins(15));
        grey.reply = Some("451 4.7.1 Greylisted, try again later".parse().unwrap());
        let rules = [grey];
        let at = |mins: u64| {
            decide(
                &rules,
                Stage::Rcpt,
                &Context {
                    attempt: 1,
                    recipients: &[seen("a@b", mins)],
                    ..Context::default()
                },
            )
            .act
        };
        assert!(matches!(at(0), Act::Reply(_)));
        assert!(matches!(at(14), Act::Reply(_)));
        assert_eq!(at(15), Act::Accept);
    }

    #[test]
    fn size_and_header_limits_read_the_message() {
        let mut big_header = rule(Stage::EndOfData);
        big_header.header_bytes_over = Some(20);
        big_header.reply = Some("552 5.3.4 Header too large".parse().unwrap());
        let rules = [big_header];
        let message = |m: &'static [u8]| Context {
            message: Some(m),
            ..Context::default()
        };
        assert_eq!(header_bytes(b"A: b\r\n\r\nbody"), 6);
        assert_eq!(
            decide(&rules, Stage::EndOfData, &message(b"A: b\r\n\r\nbody")).act,
            Act::Accept
        );
        let long = b"X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\nbody";
        assert!(matches!(
            decide(&rules, Stage::EndOfData, &message(long)).act,
            Act::Reply(_)
        ));
    }

    #[test]
    fn rate_limits_count_open_sessions() {
        let mut busy = rule(Stage::Banner);
        busy.connections_over = Some(2);
        busy.reply = Some("421 4.7.0 Too many connections".parse().unwrap());
        let rules = [busy];
        let open = |n| Context {
            concurrent: n,
            ..Context::default()
        };
        assert_eq!(decide(&rules, Stage::Banner, &open(2)).act, Act::Accept);
        assert!(matches!(
            decide(&rules, Stage::Banner, &open(3)).act,
            Act::Reply(_)
        ));
    }

    #[test]
    fn no_rule_means_healthy() {
        assert_eq!(
            decide(&[], Stage::Rcpt, &Context::default()).act,
            Act::Accept
        );
    }

    #[test]
    fn attempts_and_recipients_select_rules() {
        let mut first_two = rule(Stage::Rcpt);
        first_two.attempts = Some(CountRange {
            first: 1,
            last: Some(2),
        });
        first_two.reply = Some("451 4.7.1 try later".parse().unwrap());
        let mut full = rule(Stage::Rcpt);
        full.recipient = Some("bob@*".into());
        full.reply = Some("452 4.2.2 mailbox full".parse().unwrap());
        let rules = [full, first_two];
        let code = |stage, attempt, recipient| {
            let ctx = Context {
                attempt,
                recipients: &[to(recipient)],
                ..Context::default()
            };
            code(decide(&rules, stage, &ctx))
        };
        assert_eq!(code(Stage::Rcpt, 1, "alice@x"), 451);
        assert_eq!(code(Stage::Rcpt, 3, "alice@x"), 250);
        assert_eq!(code(Stage::Rcpt, 3, "bob@x"), 452);
        assert_eq!(code(Stage::Mail, 1, "alice@x"), 250);
    }

    #[test]
    fn connect_always_holds_only_for_every_attempt() {
        let at = |action, attempts: Option<&str>| SmtpRule {
            action: Some(action),
            attempts: attempts.map(|a| a.parse().unwrap()),
            ..rule(Stage::Connect)
        };
        let act = |rules: &[SmtpRule]| connect_always(rules).map(|s| s.act);
        assert_eq!(act(&[]), Some(Act::Accept));
        assert_eq!(act(&[at(SmtpAction::Refuse, None)]), Some(Act::Refuse));
        assert_eq!(act(&[at(SmtpAction::Drop, None)]), Some(Act::Drop));
        assert_eq!(act(&[at(SmtpAction::Refuse, Some("2-"))]), None);
        assert_eq!(act(&[at(SmtpAction::Drop, Some("1-70"))]), None);
        assert_eq!(
            act(&[at(SmtpAction::Refuse, Some("1-"))]),
            Some(Act::Refuse)
        );
        // Two ranges that cover every attempt between them.
        assert_eq!(
            act(&[
                at(SmtpAction::Refuse, Some("1-3")),
                at(SmtpAction::Refuse, Some("4-"))
            ]),
            Some(Act::Refuse)
        );
        assert_eq!(
            act(&[
                at(SmtpAction::Refuse, Some("1-3")),
                at(SmtpAction::Refuse, Some("5-"))
            ]),
            None
        );
        // Rules at later stages do not matter.
        assert_eq!(
            act(&[SmtpRule {
                attempts: Some("2".parse().unwrap()),
                ..rule(Stage::Rcpt)
            }]),
            Some(Act::Accept)
        );
    }

    fn to(address: &str) -> Recipient<'_> {
        Recipient {
            address,
            since_first_seen: None,
        }
    }

    fn seen(address: &str, mins: u64) -> Recipient<'_> {
        Recipient {
            address,
            since_first_seen: Some(Duration::from_secs(mins * 60)),
        }
    }

    fn code(step: Step) -> u16 {
        match step.act {
            Act::Reply(r) => r.code,
            _ => 250,
        }
    }

    /// The reply code `rules` give at `stage` for a first attempt with these recipients.
    fn code_for(rules: &[SmtpRule], stage: Stage, recipients: &[Recipient<'_>]) -> u16 {
        let ctx = Context {
            attempt: 1,
            recipients,
            ..Context::default()
        };
        code(decide(rules, stage, &ctx))
    }

    #[test]
    fn a_recipient_condition_at_data_and_end_of_data_holds_for_any_accepted_recipient() {
        for stage in [Stage::Data, Stage::EndOfData] {
            let mut not_bob = rule(stage);
            not_bob.recipient = Some("bob@*".into());
            not_bob.reply = Some("554 5.7.1 Not for bob".parse().unwrap());
            let rules = [not_bob];
            let with = |recipients: &[Recipient<'_>]| code_for(&rules, stage, recipients);
            assert_eq!(with(&[to("alice@x")]), 250, "{stage}");
            assert_eq!(with(&[to("alice@x"), to("Bob@x")]), 554, "{stage}");
            assert_eq!(with(&[to("bob@x"), to("carol@x")]), 554, "{stage}");
            assert_eq!(with(&[]), 250, "{stage}: no recipient, no match");
        }
    }

    #[test]
    fn greylisting_at_data_holds_while_any_accepted_recipient_is_inside_its_window() {
        for stage in [Stage::Data, Stage::EndOfData] {
            let mut grey = rule(stage);
            grey.within = Some(mxlab_scenario::Dur::from_mins(15));
            grey.reply = Some("451 4.7.1 Greylisted, try again later".parse().unwrap());
            let rules = [grey];
            let with = |recipients: &[Recipient<'_>]| code_for(&rules, stage, recipients);
            assert_eq!(with(&[seen("a@x", 20), seen("b@x", 3)]), 451, "{stage}");
            assert_eq!(with(&[seen("a@x", 20), seen("b@x", 15)]), 250, "{stage}");
            // Nothing remembered: nothing is inside a window.
            assert_eq!(with(&[to("a@x")]), 250, "{stage}");
        }
    }

    #[test]
    fn recipient_and_within_together_hold_for_the_same_recipient() {
        let mut grey_bob = rule(Stage::Data);
        grey_bob.recipient = Some("bob@*".into());
        grey_bob.within = Some(mxlab_scenario::Dur::from_mins(15));
        grey_bob.reply = Some("451 4.7.1 Greylisted".parse().unwrap());
        let rules = [grey_bob];
        let with = |recipients: &[Recipient<'_>]| code_for(&rules, Stage::Data, recipients);
        // Bob was first seen long ago; alice just now: neither matches both conditions.
        assert_eq!(with(&[seen("bob@x", 30), seen("alice@x", 0)]), 250);
        assert_eq!(with(&[seen("alice@x", 30), seen("bob@x", 0)]), 451);
    }
}
