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

use mxlab_checker::artifacts::Artifacts;
use mxlab_checker::probe::smtp::SmtpTimeouts;
use mxlab_checker::probe::{Mode, ProbeEnv};
use mxlab_checker::report::{
    ArtifactsReport, RecipientReport, Report, SCHEMA, TimelineEntry, Verdict,
};
use mxlab_checker::{Complaint, Diagnosis, investigate};
use mxlab_dns::DnsWorld;
use mxlab_net::Clock;
use mxlab_policy::PublicSuffixes;
use mxlab_scenario::Scenario;
use mxlab_sim::attempt::{Failure, TlsClients};
use mxlab_sim::dsn;
use mxlab_sim::format::rfc3339;
use mxlab_sim::{RecipientState, Sim};
use mxlab_smtp::{FakeSmtpHost, Limits, Transcript};
use mxlab_vocab::{EnhancedStatus, RuleId};

use crate::expect;
use crate::policy_gate::PolicyGate;
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
    let stage = Stage::build(scenario, &clock)?;
    let out = stage.play(scenario).await?;
    let investigated_at = clock.elapsed();
    let env = stage.probe_env(scenario)?;
    let complaint = complaint(scenario);
    let handed = Artifacts {
        dsn: out.dsn.clone(),
        ndr: out.ndr.clone(),
        tracking_log: Some(out.tracking_log.clone()),
        queue: Some(out.queue.clone()),
    };
    let diagnosis = investigate(&handed, &complaint, &env).await;
    // The fake servers finish their transcripts (the probe may hang up without QUIT).
    stage.world.settle(&clock).await;
    let mut report = assemble(scenario, &stage, out, diagnosis, investigated_at);
    report.expectations = expect::check(&report, &scenario.file.expect);
    report.passed = Some(report.expectations.iter().all(|x| x.ok));
    Ok(report)
}

/// The scenario's world, built: its DNS, its SMTP hosts with their certificates and SPF
/// checks, and the TLS material the sender and the administrator trust.
struct Stage {
    clock: Clock,
    world: World,
    tls: mxlab_ca::TlsWorld,
    client_dns: SocketAddr,
}

impl Stage {
    fn build(scenario: &Scenario, clock: &Clock) -> Result<Stage, String> {
        let dns = Arc::new(DnsWorld::from_scenario(
            scenario,
            clock.clone(),
            usize::MAX,
            DNS_PORT,
        )?);
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
        let tls = mxlab_ca::TlsWorld::new(scenario.file.start.0)?;
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
            // And blocklists, reverse DNS and DMARC the same way.
            host.set_gates(Arc::new(PolicyGate {
                net: DnsOnly {
                    dns: dns.clone(),
                    from: host.address,
                },
                clock: clock.clone(),
                server: SocketAddr::new(dns.receiver_dns(), DNS_PORT),
                suffixes: PublicSuffixes::with(&scenario.file.dns.public_suffixes),
            }));
        }
        Ok(Stage {
            clock: clock.clone(),
            world: World::new(dns, hosts, scenario.sender_ip),
            tls,
            client_dns: SocketAddr::new(scenario.dns.client_dns(), DNS_PORT),
        })
    }

    /// The story on the virtual clock, up to the moment the administrator looks.
    async fn play(&self, scenario: &Scenario) -> Result<mxlab_sim::Output, String> {
        let sim = Sim::new(scenario, &self.world, self.clock.clone(), self.client_dns).with_tls(
            TlsClients {
                verifying: self.tls.client_config(self.clock.clone(), true)?,
                opportunistic: self.tls.client_config(self.clock.clone(), false)?,
            },
        );
        let out = sim.run(scenario.file.investigate_at.map(|d| d.get())).await;
        match out.stopped {
            Some(why) => Err(why),
            None => Ok(out),
        }
    }

    /// Where and how the administrator probes from: the sending server's resolver and
    /// address, the root servers for a `dig +trace`, a trust store that knows the scenario's
    /// CA as it would a public one.
    fn probe_env(&self, scenario: &Scenario) -> Result<ProbeEnv<'_>, String> {
        let sender = &scenario.file.sender;
        Ok(ProbeEnv {
            net: &self.world,
            clock: self.clock.clone(),
            dns_server: self.client_dns,
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
            trust: Some(self.tls.trust()?),
            smtp_port: 25,
            smtp: SmtpTimeouts::default(),
            // An administrator has no list of blocklists by habit here: the refusals name
            // the zones to ask.
            dnsbl_zones: Vec::new(),
            public_suffixes: scenario.file.dns.public_suffixes.clone(),
            mode: Mode::Investigate,
        })
    }
}

/// The complaint as the user makes it: every recipient they wrote to, from their address.
fn complaint(scenario: &Scenario) -> Complaint {
    let messages = &scenario.file.sender.messages;
    let mut recipients: Vec<String> = Vec::new();
    for r in messages.iter().flat_map(|m| m.to.iter()) {
        if !recipients.iter().any(|x| x.eq_ignore_ascii_case(r)) {
            recipients.push(r.clone());
        }
    }
    Complaint {
        recipients,
        sender: messages[0].from.clone(),
    }
}

/// The report: the diagnosis, each recipient's fate and cause, the story's timeline and the
/// artifacts as the administrator has them.
fn assemble(
    scenario: &Scenario,
    stage: &Stage,
    out: mxlab_sim::Output,
    diagnosis: Diagnosis,
    investigated_at: Duration,
) -> Report {
    let clock = &stage.clock;
    let at = |offset: Duration| rfc3339(clock.at(offset));
    let mut timeline: Vec<TimelineEntry> = out
        .timeline
        .iter()
        .map(|e| TimelineEntry {
            at: at(e.at),
            event: e.event.clone(),
            detail: match e.attempt {
                Some(n) => format!("#{n} {}", e.detail),
                None => e.detail.clone(),
            },
            alike: e.detail.clone(),
        })
        .collect();
    let mut domains: Vec<String> = Vec::new();
    for r in &diagnosis.recipients {
        let d = r
            .address
            .rsplit_once('@')
            .map(|(_, d)| d.to_ascii_lowercase())
            .unwrap_or_default();
        if !domains.contains(&d) {
            domains.push(d);
        }
    }
    let detail = format!(
        "the checker probes {} with what the sender was handed",
        domains.join(", ")
    );
    timeline.push(TimelineEntry {
        at: at(investigated_at),
        event: "investigate".into(),
        alike: detail.clone(),
        detail,
    });

    let mut transcripts: Vec<Transcript> = stage
        .world
        .hosts
        .iter()
        .flat_map(|h| h.transcripts())
        .collect();
    transcripts.sort_by_key(|t| t.lines.first().map(|l| l.at));
    let dns_log = stage
        .world
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
    Report {
        source: None,
        schema: SCHEMA,
        scenario: Some(scenario.name.clone()),
        title: Some(scenario.file.title.clone()),
        passed: None,
        verdict: Verdict {
            rule: diagnosis.verdict,
            summary: diagnosis.verdict_summary.clone(),
        },
        findings: diagnosis.findings.clone(),
        recipients: out
            .recipients
            .iter()
            .map(|r| recipient_report(r, &diagnosis))
            .collect(),
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
    }
}

fn recipient_report(r: &mxlab_sim::Recipient, diagnosis: &Diagnosis) -> RecipientReport {
    let cause = diagnosis.cause_of(&r.address).unwrap_or(Verdict {
        rule: RuleId::Inconclusive,
        summary: "The complaint does not name this recipient".into(),
    });
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
        cause,
        notice: None,
    }
}

fn render_transcript(t: &Transcript, at: &dyn Fn(Duration) -> String) -> String {
    let mut s = format!("{} ← {}\n", t.host, t.client);
    for line in &t.lines {
        s.push_str(&format!("{} {} {}\n", at(line.at), line.who, line.text));
    }
    s
}
