//! A scenario run: the story on the virtual clock, then the checker at `investigate_at`, then
//! the comparison with `expect`.
//!
//! Determinism by construction: one current-thread tokio runtime with its clock paused and no
//! I/O driver. Every task — the queue, the fake servers' sessions, the checker — is driven by
//! in-memory pipes, so the runtime is idle exactly when every task waits on a timer, and only
//! then does tokio move the clock, straight to the next deadline. Nothing reads the wall clock
//! and no kernel socket exists to race it; a stray one would fail for lack of an I/O driver.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mxlab_checker::artifacts::{self, Artifacts};
use mxlab_checker::probe::smtp::SmtpTimeouts;
use mxlab_checker::probe::{ProbeEnv, probe_domain, probe_spf};
use mxlab_checker::report::{
    ArtifactsReport, RecipientReport, Report, SCHEMA, TimelineEntry, Verdict,
};
use mxlab_checker::{Facts, diagnose};
use mxlab_dns::DnsWorld;
use mxlab_net::Clock;
use mxlab_scenario::Scenario;
use mxlab_sim::attempt::{Failure, TlsClients};
use mxlab_sim::dsn;
use mxlab_sim::format::rfc3339;
use mxlab_sim::{RecipientState, Sim};
use mxlab_smtp::{FakeSmtpHost, Limits, Transcript};
use mxlab_vocab::EnhancedStatus;

use crate::expect;
use crate::spf_gate::{DnsOnly, SpfGate};
use crate::world::World;

/// DNS servers listen on the standard port in the in-memory world.
pub const DNS_PORT: u16 = 53;

/// Replays `scenario` and checks it. Errors only for a scenario the fake servers cannot take.
pub fn run(scenario: &Scenario) -> Result<Report, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(replay(scenario))
}

async fn replay(scenario: &Scenario) -> Result<Report, String> {
    let clock = Clock::starting_now(scenario.file.start.0, 1.0);
    let dns = Arc::new(DnsWorld::from_scenario(
        scenario,
        clock.clone(),
        usize::MAX,
        DNS_PORT,
    )?);
    let client_dns = SocketAddr::new(scenario.dns.client_dns(), DNS_PORT);
    let hosts: Vec<Arc<FakeSmtpHost>> = scenario
        .file
        .smtp
        .hosts
        .iter()
        .zip(&scenario.host_addresses)
        .map(|(h, ip)| {
            Arc::new(FakeSmtpHost::new(
                h,
                *ip,
                clock.clone(),
                Limits {
                    transcripts: usize::MAX,
                    messages: usize::MAX,
                    captured_bytes: usize::MAX,
                    ..Limits::default()
                },
            ))
        })
        .collect();
    // The scenario's own CA, its certificates dated around the story's start.
    let tls = mxlab_tls::TlsWorld::new(scenario.file.start.0)?;
    for host in &hosts {
        if let Some(kind) = host.tls_certificate() {
            host.set_tls(tls.server_config(&host.name, kind)?);
        }
        // Each remote host checks SPF through the scenario's DNS, as its own resolver would.
        host.set_spf_check(Arc::new(SpfGate {
            net: DnsOnly {
                dns: dns.clone(),
                from: host.address,
            },
            clock: clock.clone(),
            server: SocketAddr::new(dns.receiver_dns(), DNS_PORT),
            receiver: host.name.clone(),
        }));
    }
    let world = World {
        dns,
        hosts: hosts.clone(),
        client: scenario.sender_ip,
    };

    let sim = Sim::new(scenario, &world, clock.clone(), client_dns).with_tls(TlsClients {
        verifying: tls.client_config(clock.clone(), true)?,
        opportunistic: tls.client_config(clock.clone(), false)?,
    });
    let out = sim.run(scenario.file.investigate_at.map(|d| d.get())).await;

    // The administrator looks now, with what they were handed and their own probes.
    let investigated_at = clock.elapsed();
    let sender = &scenario.file.sender;
    let env = ProbeEnv {
        net: &world,
        clock: clock.clone(),
        dns_server: client_dns,
        root_hints: scenario
            .dns
            .root_hints(&scenario.zones)
            .into_iter()
            .map(|ip| SocketAddr::new(ip, DNS_PORT))
            .collect(),
        dns_timeout: sender.transport.dns_timeout.get(),
        dns_attempts: sender.transport.dns_attempts,
        from_ip: scenario.sender_ip,
        helo: sender.hostname.clone(),
        mail_from: sender.messages[0].from.clone(),
        // The admin's trust store knows the scenario's CA as it would a public one.
        tls: Some(tls.client_config(clock.clone(), true)?),
        smtp_port: 25,
        smtp: SmtpTimeouts::default(),
    };
    let recipients: Vec<String> = sender
        .messages
        .iter()
        .flat_map(|m| m.to.iter().cloned())
        .collect();
    let mut domains: Vec<String> = recipients
        .iter()
        .filter_map(|r| r.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()))
        .collect();
    let mut seen = std::collections::BTreeSet::new();
    domains.retain(|d| seen.insert(d.clone()));
    let mut probes = Vec::new();
    for domain in &domains {
        // The first recipient the user named at that domain.
        let recipient = recipients
            .iter()
            .find(|r| r.to_ascii_lowercase().ends_with(&format!("@{domain}")))
            .cloned()
            .unwrap_or_else(|| format!("postmaster@{domain}"));
        probes.push(probe_domain(&env, domain, &recipient).await);
    }
    let handed = Artifacts {
        dsn: out.dsn.clone(),
        ndr: out.ndr.clone(),
        tracking_log: Some(out.tracking_log.clone()),
        queue: Some(out.queue.clone()),
    };
    let facts = Facts {
        recipients: recipients.clone(),
        dsns: handed
            .dsn
            .iter()
            .filter_map(|d| artifacts::dsn::read(d))
            .collect(),
        ndrs: handed
            .ndr
            .iter()
            .filter_map(|d| artifacts::dsn::read(d))
            .collect(),
        tracking: handed
            .tracking_log
            .as_deref()
            .map(artifacts::tracking::read)
            .unwrap_or_default(),
        domains: probes,
        spf: Some(probe_spf(&env).await),
    };
    let diagnosis = diagnose(&facts);

    let at = |offset: Duration| rfc3339(clock.at(offset));
    let mut timeline: Vec<TimelineEntry> = out
        .timeline
        .iter()
        .map(|e| TimelineEntry {
            at: at(e.at),
            event: e.event.clone(),
            detail: e.detail.clone(),
        })
        .collect();
    timeline.push(TimelineEntry {
        at: at(investigated_at),
        event: "investigate".into(),
        detail: format!(
            "the checker probes {} with what the sender was handed",
            domains.join(", ")
        ),
    });

    let mut transcripts: Vec<Transcript> = hosts.iter().flat_map(|h| h.transcripts()).collect();
    transcripts.sort_by_key(|t| t.lines.first().map(|l| l.at));
    let dns_log = world
        .dns
        .log_entries()
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {} {} {}\n",
                at(e.at),
                e.server,
                e.protocol,
                e.name,
                e.rtype,
                e.outcome
            )
        })
        .collect();

    let mut report = Report {
        schema: SCHEMA,
        scenario: Some(scenario.name.clone()),
        title: Some(scenario.file.title.clone()),
        passed: None,
        verdict: Verdict {
            rule: diagnosis.verdict,
            summary: diagnosis.verdict_summary,
        },
        findings: diagnosis.findings,
        recipients: out.recipients.iter().map(recipient_report).collect(),
        timeline,
        artifacts: ArtifactsReport {
            dsn: out.dsn.iter().map(|d| d.replace("\r\n", "\n")).collect(),
            ndr: out.ndr.iter().map(|d| d.replace("\r\n", "\n")).collect(),
            transcript: transcripts
                .iter()
                .map(|t| render_transcript(t, &at))
                .collect(),
            dns_log,
            queue: Some(out.queue),
            tracking_log: Some(out.tracking_log),
        },
        expectations: Vec::new(),
    };
    report.expectations = expect::check(&report, &scenario.file.expect);
    report.passed = Some(report.expectations.iter().all(|x| x.ok));
    Ok(report)
}

fn recipient_report(r: &mxlab_sim::Recipient) -> RecipientReport {
    let last = r.last_error.as_ref().map(|(f, _)| f);
    let remote = |f: Option<&Failure>| {
        f.and_then(|f| f.remote.as_ref())
            .map(|(h, _)| h.clone())
            .unwrap_or_default()
    };
    let (outcome, status, diagnostic, remote_mta) = match &r.state {
        RecipientState::Delivered { reply, host } => {
            let status = reply
                .status
                .filter(|s| s.class == 2)
                .unwrap_or(EnhancedStatus::new(2, 0, 0));
            (
                "delivered",
                status.to_string(),
                reply.to_string(),
                host.clone(),
            )
        }
        RecipientState::Failed { failure } => (
            "failed",
            failure.status().to_string(),
            failure.reply.to_string(),
            remote(Some(failure)),
        ),
        RecipientState::Expired => (
            "expired",
            dsn::TIME_EXPIRED.to_string(),
            dsn::expired().to_string(),
            remote(last),
        ),
        RecipientState::Pending => (
            "delayed",
            if r.delayed {
                dsn::TIME_EXPIRED.to_string()
            } else {
                last.map(|f| f.status().to_string()).unwrap_or_default()
            },
            last.map(|f| f.reply.to_string()).unwrap_or_default(),
            remote(last),
        ),
    };
    RecipientReport {
        address: r.address.clone(),
        outcome: outcome.into(),
        status,
        diagnostic,
        remote_mta,
    }
}

fn render_transcript(t: &Transcript, at: &dyn Fn(Duration) -> String) -> String {
    let mut s = format!("{} ← {}\n", t.host, t.client);
    for line in &t.lines {
        s.push_str(&format!("{} {} {}\n", at(line.at), line.who, line.text));
    }
    s
}
