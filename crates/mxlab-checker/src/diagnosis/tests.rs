//! The diagnosis on typed evidence: each cause fires on the failure it explains and not on
//! its neighbours', per recipient, whatever the order of the recipients.

use mxlab_vocab::RuleId;

use super::*;
use crate::artifacts::tracking::TrackingEvent;

/// The diagnosis of the facts alone (the stories read from them, as `investigate` does).
fn diagnose(facts: &Facts) -> Diagnosis {
    super::diagnose(facts, &observe::of(facts))
}

fn event(at: &str, id: &str, rcpt: &str, status: &str) -> TrackingEvent {
    TrackingEvent {
        date_time: at.into(),
        event_id: id.into(),
        message_id: "<1@x>".into(),
        source: "SMTP".into(),
        source_context: String::new(),
        recipients: vec![rcpt.into()],
        recipient_status: status.into(),
        ..TrackingEvent::default()
    }
}

fn facts(recipients: &[&str], tracking: Vec<TrackingEvent>) -> Facts {
    Facts {
        recipients: recipients.iter().map(|s| s.to_string()).collect(),
        tracking,
        probed: true,
        ..Facts::default()
    }
}

fn cause(d: &Diagnosis, who: &str) -> RuleId {
    d.recipients.iter().find(|r| r.address == who).unwrap().rule
}

#[test]
fn nothing_known_is_inconclusive() {
    let d = diagnose(&Facts::default());
    assert_eq!(d.verdict, RuleId::Inconclusive);
}

#[test]
fn a_full_mailbox_explains_only_its_recipient() {
    for order in [
        ["hanako@p.test", "jiro@p.test"],
        ["jiro@p.test", "hanako@p.test"],
    ] {
        let d = diagnose(&facts(
            &order,
            vec![
                event(
                    "2024-05-08T19:40:00.000Z",
                    "DEFER",
                    "hanako@p.test",
                    "452 4.2.2 Mailbox full",
                ),
                event(
                    "2024-05-08T19:40:00.000Z",
                    "SEND",
                    "jiro@p.test",
                    "250 2.6.0 Queued",
                ),
            ],
        ));
        assert_eq!(d.verdict, RuleId::SmtpRcptMailboxFull);
        assert_eq!(cause(&d, "hanako@p.test"), RuleId::SmtpRcptMailboxFull);
        assert_eq!(cause(&d, "jiro@p.test"), RuleId::OkDelivered);
    }
}

#[test]
fn greylisting_is_a_deferral_that_a_retry_clears() {
    let tracking = |status: &str| {
        vec![
            event("2024-05-08T19:40:00.000Z", "DEFER", "a@p.test", status),
            event(
                "2024-05-08T19:55:00.000Z",
                "SEND",
                "a@p.test",
                "250 2.0.0 OK",
            ),
        ]
    };
    for status in [
        "451 4.7.1 Greylisted, please try again later",
        "451 Internal resource temporarily unavailable",
        "450 4.2.0 <a@p.test>: Recipient address rejected: Greylisted",
        "451 4.7.1 Please try again later",
    ] {
        let d = diagnose(&facts(&["a@p.test"], tracking(status)));
        assert_eq!(d.verdict, RuleId::SmtpGreylisted, "{status}");
        assert!(
            d.findings
                .iter()
                .any(|f| f.rule == RuleId::SmtpGreylisted && f.cleared)
        );
    }
    // A remote that defers with a reason, then relents, is not greylisting.
    let d = diagnose(&facts(
        &["a@p.test"],
        tracking("451 4.4.7 Message delayed, try again later"),
    ));
    assert_eq!(d.verdict, RuleId::SmtpRcptTransient);
}

#[test]
fn a_cause_that_cleared_keeps_its_name() {
    let mut tracking: Vec<TrackingEvent> = (0..42)
        .map(|i| {
            event(
                &format!("2024-05-08T{:02}:{:02}:00.000Z", 19 + i / 12, (i % 12) * 5),
                "DEFER",
                "a@p.test",
                "451 4.4.0 DNS query failed. The error was: p.test MX: SERVFAIL",
            )
        })
        .collect();
    tracking.push(event(
        "2024-05-08T23:40:00.000Z",
        "SEND",
        "a@p.test",
        "250 2.0.0 OK",
    ));
    let d = diagnose(&facts(&["a@p.test"], tracking));
    assert_eq!(d.verdict, RuleId::DnsServfail);
    let f = d
        .findings
        .iter()
        .find(|f| f.rule == RuleId::DnsServfail)
        .unwrap();
    assert!(f.cleared);
    // 42 deferrals are one evidence line.
    assert_eq!(
        f.evidence
            .iter()
            .filter(|e| e.contains("DNS query failed"))
            .count(),
        1
    );
    assert!(f.evidence[0].contains("×42"), "{:?}", f.evidence);
}

#[test]
fn delivered_with_nothing_in_the_way_is_ok() {
    let d = diagnose(&facts(
        &["a@p.test"],
        vec![event(
            "2024-05-08T19:40:00.000Z",
            "SEND",
            "a@p.test",
            "250 2.0.0 OK",
        )],
    ));
    assert_eq!(d.verdict, RuleId::OkDelivered);
    assert_eq!(cause(&d, "a@p.test"), RuleId::OkDelivered);
}

#[test]
fn the_verdict_is_the_cause_of_the_most_recipients() {
    let d = diagnose(&facts(
        &["a@p.test", "b@p.test", "c@q.test"],
        vec![
            event(
                "2024-05-08T19:40:00.000Z",
                "FAIL",
                "a@p.test",
                "550 5.1.1 User unknown",
            ),
            event(
                "2024-05-08T19:40:00.000Z",
                "FAIL",
                "c@q.test",
                "552 5.3.4 Message size exceeds fixed limit",
            ),
            event(
                "2024-05-08T19:40:00.000Z",
                "FAIL",
                "b@p.test",
                "550 5.1.1 <b@p.test>: Recipient address rejected: User unknown in virtual mailbox table",
            ),
        ],
    ));
    assert_eq!(d.verdict, RuleId::SmtpRcptUserUnknown);
    assert_eq!(cause(&d, "c@q.test"), RuleId::SmtpMessageTooBig);
    let f = d
        .findings
        .iter()
        .find(|f| f.rule == RuleId::SmtpRcptUserUnknown)
        .unwrap();
    assert_eq!(f.recipients, ["a@p.test", "b@p.test"]);
}

#[test]
fn a_message_never_attempted_waits_in_the_local_queue() {
    let mut received = event("2024-05-08T19:40:00.000Z", "RECEIVE", "a@p.test", "");
    received.message_id = "<2@x>".into();
    let d = diagnose(&facts(
        &["a@p.test", "b@p.test"],
        vec![
            received,
            event("2024-05-08T19:40:00.000Z", "RECEIVE", "b@p.test", ""),
            event(
                "2024-05-08T19:41:00.000Z",
                "SEND",
                "b@p.test",
                "250 2.0.0 OK",
            ),
            event("2024-05-08T22:10:00.000Z", "RECEIVE", "c@p.test", ""),
        ],
    ));
    assert_eq!(cause(&d, "a@p.test"), RuleId::TransportBacklog);
    assert_eq!(cause(&d, "b@p.test"), RuleId::OkDelivered);
}

#[test]
fn dns_failures_of_unrelated_domains_that_cleared_point_at_the_resolver() {
    let run = |a: &str, b: &str| {
        diagnose(&facts(
            &["x@one.test", "y@two.test"],
            vec![
                event("2024-05-08T19:40:00.000Z", "DEFER", "x@one.test", a),
                event("2024-05-08T19:40:00.000Z", "DEFER", "y@two.test", b),
                event("2024-05-08T20:40:00.000Z", "SEND", "x@one.test", "250 OK"),
                event("2024-05-08T20:40:00.000Z", "SEND", "y@two.test", "250 OK"),
            ],
        ))
    };
    let d = run(
        "451 4.4.0 DNS query failed. The error was: one.test MX: SERVFAIL",
        "451 4.4.0 DNS query failed. The error was: two.test MX: SERVFAIL",
    );
    assert_eq!(d.verdict, RuleId::DnsLocalResolver);
    // One MX host at a shared provider failing is that provider's DNS, not the resolver.
    let shared = "451 4.4.0 DNS query failed. The error was: mx01.provider.test A: SERVFAIL";
    let d = run(shared, shared);
    assert_eq!(d.verdict, RuleId::DnsServfail);
}

/// Each cause fires on an error that names it — and on no other row's error: a confusion
/// table over typed evidence (one tracking-log failure per recipient).
#[test]
fn each_cause_fires_on_its_own_evidence_and_no_other() {
    let rows: &[(RuleId, &str)] = &[
        (
            RuleId::SmtpConnectTimeout,
            "441 4.4.1 Error encountered while communicating with primary target IP address: \"Failed to connect. Winsock error code: 10060, Win32 error code: 10060.\"",
        ),
        (
            RuleId::SmtpConnectRefused,
            "connect to mx.p.test[192.0.2.1]:25: Connection refused",
        ),
        (
            RuleId::SmtpBannerTimeout,
            "conversation with mx.p.test[192.0.2.1] timed out while receiving the initial server greeting",
        ),
        (
            RuleId::SmtpDataTimeout,
            "conversation with mx.p.test[192.0.2.1] timed out while sending end of data -- message may be sent more than once",
        ),
        (
            RuleId::SmtpDataDisconnected,
            "lost connection with mx.p.test[192.0.2.1] while sending message body",
        ),
        (
            RuleId::SmtpRateLimited,
            "421 4.3.2 The maximum number of concurrent server connections has exceeded a limit, closing transmission channel",
        ),
        (
            RuleId::SmtpRcptMailboxFull,
            "552 5.2.2 <a@p.test>: Mailbox full",
        ),
        (
            RuleId::SmtpRcptUserUnknown,
            "550 5.1.1 <a@p.test>: Recipient address rejected: User unknown in virtual mailbox table",
        ),
        (
            RuleId::SmtpRelayDenied,
            "554 5.7.1 <a@p.test>: Relay access denied",
        ),
        (
            RuleId::SmtpMessageTooBig,
            "552 5.3.4 Message size exceeds fixed limit",
        ),
        (
            RuleId::SmtpMessageHeaderLimit,
            "552 5.3.4 Message header size exceeds limit",
        ),
        (
            RuleId::SmtpTlsRequired,
            "530 5.7.0 Must issue a STARTTLS command first",
        ),
        (
            RuleId::SmtpTlsCertExpired,
            "451 4.4.317 Cannot connect to remote server [Message=TLS negotiation failed with error CertificateExpired]",
        ),
        (
            RuleId::SmtpTlsCertNameMismatch,
            "451 4.4.317 Cannot connect to remote server [Message=TLS negotiation failed with error CertificateNameMismatch]",
        ),
        (
            RuleId::SmtpTlsCertUntrusted,
            "451 4.4.317 Cannot connect to remote server [Message=TLS negotiation failed with error UnknownIssuer]",
        ),
        (
            RuleId::SmtpPolicyRejected,
            "550 5.7.1 Message rejected due to content restrictions",
        ),
        (
            RuleId::SenderBlocklisted,
            "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
        ),
        (
            RuleId::SenderPtrMissing,
            "450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]",
        ),
        (
            RuleId::SenderPtrMismatch,
            "550 5.7.25 The PTR name of 192.0.2.1 does not resolve back to it",
        ),
        (
            RuleId::DmarcReject,
            "550 5.7.26 Unauthenticated email from s.test is not accepted due to domain's DMARC policy",
        ),
        (
            RuleId::SmtpRcptTransient,
            "451 4.3.0 <a@p.test>: Temporary lookup failure",
        ),
        (RuleId::SpfFail, "550 5.7.23 SPF validation failed"),
        (
            RuleId::SpfTemperror,
            "451 4.7.24 SPF validation error, try again later",
        ),
        (RuleId::SpfPermerror, "550 5.7.24 SPF validation error"),
        (
            RuleId::DnsMxNxdomain,
            "554 5.4.4 SMTPSEND.DNS.NonExistentDomain; nonexistent domain",
        ),
        (
            RuleId::DnsMxMissing,
            "554 5.4.4 Unable to route: p.test has no MX and no A or AAAA records",
        ),
        (
            RuleId::DnsMxNull,
            "556 5.1.10 Recipient address has null MX",
        ),
        (
            RuleId::DnsServfail,
            "451 4.4.0 DNS query failed. The error was: p.test MX: SERVFAIL",
        ),
        (
            RuleId::DnsTimeout,
            "451 4.4.0 DNS query failed. The error was: p.test MX: timed out",
        ),
    ];
    let recipients: Vec<String> = (0..rows.len()).map(|i| format!("r{i}@p{i}.test")).collect();
    let refs: Vec<&str> = recipients.iter().map(String::as_str).collect();
    let tracking = rows
        .iter()
        .zip(&recipients)
        .map(|((_, text), who)| event("2024-05-08T19:40:00.000Z", "FAIL", who, text))
        .collect();
    let d = diagnose(&facts(&refs, tracking));
    for ((want, text), who) in rows.iter().zip(&recipients) {
        assert_eq!(cause(&d, who), *want, "{text}");
        // The finding of that cause explains this recipient and only this one.
        let f = d.findings.iter().find(|f| f.rule == *want).unwrap();
        assert_eq!(f.recipients, std::slice::from_ref(who), "{want}");
    }
}

#[test]
fn retries_that_differ_only_by_an_id_fold_into_one_line() {
    let tracking: Vec<TrackingEvent> = (0..30)
        .map(|i| {
            event(
                &format!("2024-05-08T19:{:02}:00.000Z", i * 2),
                "DEFER",
                "a@p.test",
                &format!("421-4.7.0 Try again later, closing connection. (EHLO) d{i:02}x443c01a7336sm{i}4 - gsmtp"),
            )
        })
        .collect();
    let d = diagnose(&facts(&["a@p.test"], tracking));
    let f = &d.findings[0];
    let lines: Vec<_> = f
        .evidence
        .iter()
        .filter(|e| e.contains("Try again"))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("×30"), "{lines:?}");
}

mod receiver_policies {
    use std::net::{IpAddr, Ipv4Addr, SocketAddr};

    use hickory_proto::rr::rdata::{A, PTR};
    use hickory_proto::rr::{Name, RData, Record, RecordType};
    use mxlab_net::{Answer, Exchange};
    use mxlab_policy::rdns;
    use mxlab_vocab::{ReverseDns, RuleId};

    use super::*;

    const IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));

    fn exchange(name: &str, rtype: RecordType, answer: Answer) -> Exchange {
        Exchange {
            name: name.into(),
            rtype,
            server: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 53),
            answer,
        }
    }

    /// The sending IP's reverse DNS: a PTR to `name` whose A record is `forward`, or none.
    fn reverse(ptr_to: Option<&str>, forward: Option<Ipv4Addr>) -> rdns::Lookup {
        let ptr_name = rdns::ptr_name(IP);
        let ptr = match ptr_to {
            Some(target) => Answer::Records(vec![Record::from_rdata(
                ptr_name.clone(),
                60,
                RData::PTR(PTR(Name::from_ascii(target).unwrap())),
            )]),
            None => Answer::NxDomain,
        };
        let fwd: Vec<Answer> = ptr_to
            .map(|t| match forward {
                Some(a) => Answer::Records(vec![Record::from_rdata(
                    Name::from_ascii(t).unwrap(),
                    60,
                    RData::A(A::from(a)),
                )]),
                None => Answer::NxDomain,
            })
            .into_iter()
            .collect();
        rdns::Lookup {
            ip: IP,
            result: rdns::decide(IP, &ptr, &fwd),
            names: rdns::names(&ptr),
            ptr: exchange(&ptr_name.to_ascii(), RecordType::PTR, ptr),
            forward: fwd
                .into_iter()
                .map(|a| exchange(ptr_to.unwrap(), RecordType::A, a))
                .collect(),
        }
    }

    fn refused(text: &str, rdns: Option<rdns::Lookup>) -> Facts {
        let mut f = facts(
            &["a@p.test"],
            vec![event("2024-05-08T19:40:00.000Z", "FAIL", "a@p.test", text)],
        );
        f.reverse_dns = rdns;
        f
    }

    #[test]
    fn the_lookup_tells_a_missing_ptr_from_one_that_does_not_resolve_back() {
        let text = "450 4.7.25 Client host rejected: cannot find your hostname, [192.0.2.1]";
        let missing = diagnose(&refused(text, Some(reverse(None, None))));
        assert_eq!(missing.verdict, RuleId::SenderPtrMissing);
        let elsewhere = reverse(Some("mail.s.test."), Some(Ipv4Addr::new(192, 0, 2, 9)));
        assert_eq!(elsewhere.result, ReverseDns::Mismatch);
        let mismatch = diagnose(&refused(text, Some(elsewhere)));
        assert_eq!(mismatch.verdict, RuleId::SenderPtrMismatch);
        let f = &mismatch.findings[0];
        assert!(
            f.evidence.iter().any(|e| e.contains("mail.s.test. A")),
            "{:?}",
            f.evidence
        );
        // Fixed since: the cause keeps its name from the text, cleared.
        let fixed = reverse(Some("mail.s.test."), Some(Ipv4Addr::new(192, 0, 2, 1)));
        let d = diagnose(&refused(text, Some(fixed)));
        assert_eq!(d.verdict, RuleId::SenderPtrMissing);
        assert!(d.findings[0].cleared);
    }

    #[test]
    fn a_missing_ptr_nobody_refused_is_a_warning_not_the_verdict() {
        let mut f = facts(
            &["a@p.test"],
            vec![event(
                "2024-05-08T19:40:00.000Z",
                "SEND",
                "a@p.test",
                "250 2.6.0 Queued",
            )],
        );
        f.reverse_dns = Some(reverse(None, None));
        let d = diagnose(&f);
        assert_eq!(d.verdict, RuleId::OkDelivered);
        let ptr = d
            .findings
            .iter()
            .find(|x| x.rule == RuleId::SenderPtrMissing)
            .expect("a finding for the missing PTR");
        assert_eq!(ptr.severity, crate::rule::Severity::Warning);
        assert!(ptr.recipients.is_empty());
        // A confirmed PTR says nothing.
        f.reverse_dns = Some(reverse(
            Some("mail.s.test."),
            Some(Ipv4Addr::new(192, 0, 2, 1)),
        ));
        let d = diagnose(&f);
        assert!(
            d.findings
                .iter()
                .all(|x| x.rule != RuleId::SenderPtrMissing)
        );
    }

    #[test]
    fn a_bare_5_7_26_without_a_dmarc_policy_is_about_spf() {
        let d = diagnose(&refused(
            "550 5.7.26 Multiple authentication checks failed",
            None,
        ));
        assert_eq!(d.verdict, RuleId::SpfFail);
        let d = diagnose(&refused(
            "550 5.7.1 Email rejected per DMARC policy for s.test",
            None,
        ));
        assert_eq!(d.verdict, RuleId::DmarcReject);
    }
}

/// `check`'s probe of p.test: MX hosts reached as `results` say, for a@p.test.
fn live(results: Vec<(&str, crate::probe::smtp::SmtpResult)>, send: bool) -> Diagnosis {
    use crate::probe::smtp::SmtpProbe;
    use crate::probe::{DomainProbe, Mode};
    use mxlab_net::mx::{MxHost, Resolution, Route};
    let smtp: Vec<SmtpProbe> = results
        .into_iter()
        .map(|(ip, result)| SmtpProbe {
            host: "mx.p.test".into(),
            ip: ip.parse().unwrap(),
            port: 25,
            recipient: "a@p.test".into(),
            at: std::time::Duration::ZERO,
            banner_limit: std::time::Duration::from_secs(300),
            result,
        })
        .collect();
    let facts = Facts {
        recipients: vec!["a@p.test".into()],
        probed: true,
        mode: Mode::Check { send },
        domains: vec![DomainProbe {
            domain: "p.test".into(),
            resolution: Resolution {
                domain: "p.test".into(),
                route: Route::Mx(vec![MxHost {
                    name: "mx.p.test".into(),
                    preference: 10,
                    addresses: Ok(smtp.iter().map(|p| p.ip).collect()),
                }]),
                exchanges: Vec::new(),
            },
            trace: None,
            smtp,
            resolver_silent: false,
        }],
        ..Facts::default()
    };
    diagnose(&facts)
}

fn greeted(steps: &[(crate::probe::smtp::Step, u16)]) -> crate::probe::smtp::SmtpResult {
    use crate::probe::smtp::{Outcome, ProbeStep, SmtpResult};
    use mxlab_vocab::Reply;
    SmtpResult::Greeted {
        banner: Reply::new(220, None, "mx.p.test ESMTP"),
        steps: steps
            .iter()
            .map(|(step, code)| ProbeStep {
                step: *step,
                sent: step.to_string(),
                outcome: Outcome::Reply(Reply::new(*code, None, "ok")),
            })
            .collect(),
    }
}

#[test]
fn a_live_check_names_what_the_probe_got_through_to() {
    use crate::probe::smtp::{SmtpResult, Step};
    let accepted = [
        (Step::Ehlo, 250),
        (Step::Mail, 250),
        (Step::Rcpt, 250),
        (Step::RcptPostmaster, 550),
        (Step::Rset, 250),
    ];
    let d = live(vec![("127.0.0.10", greeted(&accepted))], false);
    assert_eq!(d.verdict, RuleId::OkDeliverable, "{d:?}");
    // A refused postmaster only tells more; the recipient was accepted.
    assert_eq!(cause(&d, "a@p.test"), RuleId::OkDeliverable);

    let sent = [
        (Step::Ehlo, 250),
        (Step::Mail, 250),
        (Step::Rcpt, 250),
        (Step::Data, 354),
        (Step::EndOfData, 250),
    ];
    let d = live(vec![("127.0.0.10", greeted(&sent))], true);
    assert_eq!(d.verdict, RuleId::OkDelivered);

    // An IPv6 target out of this host's reach is skipped for the next one.
    let d = live(
        vec![
            (
                "::1",
                SmtpResult::Unreachable("Network is unreachable".into()),
            ),
            ("127.0.0.10", greeted(&accepted)),
        ],
        false,
    );
    assert_eq!(d.verdict, RuleId::OkDeliverable);

    // The refusal the probe meets is the failure.
    let refused = [(Step::Ehlo, 250), (Step::Mail, 250), (Step::Rcpt, 550)];
    let d = live(vec![("127.0.0.10", greeted(&refused))], false);
    assert_ne!(d.verdict, RuleId::OkDeliverable);
}

#[test]
fn a_probe_this_host_cannot_run_blames_nobody() {
    use crate::probe::smtp::SmtpResult;
    let d = live(
        vec![(
            "::1",
            SmtpResult::Unreachable("Network is unreachable".into()),
        )],
        false,
    );
    assert_eq!(d.verdict, RuleId::Inconclusive);
    let rules: Vec<RuleId> = d.findings.iter().map(|f| f.rule).collect();
    assert_eq!(rules, [RuleId::ProbeUnavailable], "{d:?}");
    assert!(d.verdict_summary.starts_with("Not tested:"));
}
