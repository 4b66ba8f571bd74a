//! `mxlab check <RECIPIENT>`: the checker's diagnosis, live — `investigate` with kernel
//! sockets against real DNS and mail servers, or a served story (docs/CLI.md,
//! docs/checking.md). Whatever the user was handed (notices, the tracking log, the queue)
//! goes in as `run` hands it; the probes do the rest.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use clap::Args;
use mxlab_checker::artifacts::Artifacts;
use mxlab_checker::probe::smtp::SmtpTimeouts;
use mxlab_checker::probe::{Mode, ProbeEnv};
use mxlab_checker::report::{ArtifactsReport, RecipientReport, Report, SCHEMA, Verdict};
use mxlab_checker::{Complaint, Diagnosis, investigate};
use mxlab_net::network::DEFAULT_DNS_TIMEOUT;
use mxlab_net::{Clock, RealNetwork};
use mxlab_scenario::Dur;
use mxlab_vocab::RuleId;

use crate::check_spf::{dns_server, mailbox, parse_server};
use crate::{EXIT_MISMATCH, EXIT_OK, EXIT_USAGE};
use mxlab_vocab::Lang;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// The recipient address to check delivery to.
    #[arg(value_name = "RECIPIENT", required = true)]
    pub recipient: Option<String>,
    /// The sender address used in MAIL FROM and checked for SPF and DMARC (default: the
    /// null reverse path).
    #[arg(long)]
    pub from: Option<String>,
    /// The sending IP: SPF, reverse DNS and blocklists are checked for it, and when it is an
    /// address of this host the SMTP probe connects from it.
    #[arg(long)]
    pub ip: Option<IpAddr>,
    /// The EHLO name (default: this host's name).
    #[arg(long)]
    pub helo: Option<String>,
    /// The resolver to ask, IP or IP:PORT (default: the first nameserver in /etc/resolv.conf).
    #[arg(long)]
    pub dns: Option<String>,
    /// A root server for the `dig +trace`-style walk, IP or IP:PORT (repeatable; default:
    /// the real root servers).
    #[arg(long, value_name = "ADDR")]
    pub root: Vec<String>,
    /// The port the MX hosts are probed on.
    #[arg(long, default_value_t = 25)]
    pub smtp_port: u16,
    /// Trust this CA (PEM) for STARTTLS instead of the system's trust store.
    #[arg(long, value_name = "FILE")]
    pub ca: Option<String>,
    /// A blocklist zone to ask about --ip (repeatable), besides those a refusal names.
    #[arg(long, value_name = "ZONE")]
    pub dnsbl: Vec<String>,
    /// A delivery notice the sender received (repeatable).
    #[arg(long, value_name = "FILE")]
    pub dsn: Vec<String>,
    /// The sending server's message tracking log (Exchange's format, as `run` writes it).
    #[arg(long, value_name = "FILE")]
    pub tracking_log: Option<String>,
    /// The sending server's queue (`Get-Queue | Format-List` text, as `run` writes it).
    #[arg(long, value_name = "FILE")]
    pub queue: Option<String>,
    /// Send a short test message (DATA): never done without it.
    #[arg(long)]
    pub send: bool,
    /// Cap every timeout (DNS, connect, each SMTP stage) at this duration (e.g. 10s).
    #[arg(long, value_name = "DUR", value_parser = duration)]
    pub timeout: Option<Duration>,
    /// JSON on stdout: the report object `run` prints.
    #[arg(long)]
    pub json: bool,
    /// The language of the report's words for people (en or ja); never taken from the
    /// environment, so the report is the same wherever it runs.
    #[arg(long, value_name = "en|ja", default_value_t = Lang::En)]
    pub lang: Lang,
}

/// A duration as scenarios write them (`10s`, `2m`, `1m30s`).
fn duration(text: &str) -> Result<Duration, String> {
    text.parse::<Dur>().map(Dur::get).map_err(|e| e.0)
}

/// The root servers' IPv4 addresses (a to m, root-servers.net), for the walk by default.
const ROOT_SERVERS: [Ipv4Addr; 13] = [
    Ipv4Addr::new(198, 41, 0, 4),
    Ipv4Addr::new(170, 247, 170, 2),
    Ipv4Addr::new(192, 33, 4, 12),
    Ipv4Addr::new(199, 7, 91, 13),
    Ipv4Addr::new(192, 203, 230, 10),
    Ipv4Addr::new(192, 5, 5, 241),
    Ipv4Addr::new(192, 112, 36, 4),
    Ipv4Addr::new(198, 97, 190, 53),
    Ipv4Addr::new(192, 36, 148, 17),
    Ipv4Addr::new(192, 58, 128, 30),
    Ipv4Addr::new(193, 0, 14, 129),
    Ipv4Addr::new(199, 7, 83, 42),
    Ipv4Addr::new(202, 12, 27, 33),
];

/// Tries per DNS question: one retransmission, as a stub resolver does.
const DNS_ATTEMPTS: u32 = 2;

/// Everything `check` was given, read and checked before any probe runs.
struct Setup {
    recipient: String,
    mail_from: String,
    from_ip: IpAddr,
    helo: String,
    dns: SocketAddr,
    roots: Vec<SocketAddr>,
    trust: Option<rustls::RootCertStore>,
    handed: Artifacts,
    /// Each notice file's text, for the recipients it reports.
    notices: Vec<(String, String)>,
    dns_timeout: Duration,
    smtp: SmtpTimeouts,
}

pub fn run(args: &CheckArgs) -> u8 {
    let setup = match prepare(args) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let runtime = match crate::runtime(tokio::runtime::Builder::new_current_thread()) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let diagnosis = runtime.block_on(probe(args, &setup));
    let report = report(&setup, diagnosis).localized(args.lang);
    if let Err(code) = crate::print_report(
        args.json,
        || serde_json::to_string_pretty(&report),
        || report.to_text_in(args.lang),
    ) {
        return code;
    }
    if matches!(
        report.verdict.rule,
        RuleId::OkDeliverable | RuleId::OkDelivered
    ) {
        EXIT_OK
    } else {
        EXIT_MISMATCH
    }
}

fn prepare(args: &CheckArgs) -> Result<Setup, String> {
    let recipient = mailbox(args.recipient.as_deref().unwrap_or_default());
    match recipient.rsplit_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => {}
        _ => return Err(format!("{recipient:?} is not a mail address (user@domain)")),
    }
    let dns = dns_server(args.dns.as_deref())?;
    let roots = if args.root.is_empty() {
        ROOT_SERVERS
            .iter()
            .map(|ip| SocketAddr::new(IpAddr::V4(*ip), 53))
            .collect()
    } else {
        args.root
            .iter()
            .map(|r| {
                parse_server(r).ok_or_else(|| {
                    format!("--root {r}: expected an IP address or IP:PORT (e.g. 127.0.0.1:5353)")
                })
            })
            .collect::<Result<Vec<_>, _>>()?
    };
    let trust = match &args.ca {
        Some(path) => Some(ca_file(path)?),
        None => system_roots(),
    };
    let read = |path: &str, what: &str| {
        std::fs::read(path)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|e| format!("{what} {path}: {e}"))
    };
    let mut handed = Artifacts::default();
    let mut notices = Vec::new();
    for path in &args.dsn {
        let text = read(path, "--dsn")?;
        let notice = mxlab_checker::artifacts::notice::read(text.as_bytes())
            .ok_or_else(|| format!("--dsn {path}: not a mail message"))?;
        if notice.is_delay() {
            handed.dsn.push(text.clone());
        } else {
            handed.ndr.push(text.clone());
        }
        notices.push((path.clone(), text));
    }
    if let Some(path) = &args.tracking_log {
        handed.tracking_log = Some(read(path, "--tracking-log")?);
    }
    if let Some(path) = &args.queue {
        handed.queue = Some(read(path, "--queue")?);
    }
    let cap = |d: Duration| match args.timeout {
        Some(t) => d.min(t).max(Duration::from_millis(1)),
        None => d,
    };
    if let Some(ip) = args.ip
        && std::net::UdpSocket::bind(SocketAddr::new(ip, 0)).is_err()
    {
        eprintln!(
            "note: --ip {ip} is not an address of this host: SPF, reverse DNS and blocklists are checked for it, but the SMTP probe connects from this host's own address"
        );
    }
    let rfc = SmtpTimeouts::default();
    Ok(Setup {
        recipient,
        mail_from: mailbox(args.from.as_deref().unwrap_or_default()),
        from_ip: args.ip.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        helo: args.helo.clone().unwrap_or_else(host_name),
        dns,
        roots,
        trust,
        handed,
        notices,
        dns_timeout: cap(DEFAULT_DNS_TIMEOUT),
        smtp: SmtpTimeouts {
            connect: cap(rfc.connect),
            banner: cap(rfc.banner),
            command: cap(rfc.command),
            data: cap(rfc.data),
            data_termination: cap(rfc.data_termination),
        },
    })
}

/// The CA certificates in a PEM file.
fn ca_file(path: &str) -> Result<rustls::RootCertStore, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let pem = std::fs::read(path).map_err(|e| format!("--ca {path}: {e}"))?;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| format!("--ca {path}: {e}"))?;
        roots
            .add(cert)
            .map_err(|e| format!("--ca {path}: not a CA certificate: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!("--ca {path}: no certificate in it"));
    }
    Ok(roots)
}

/// The system's trust store; `None` (STARTTLS then goes unverified, and untried) when it has
/// no certificate: an empty store would call every certificate untrusted.
fn system_roots() -> Option<rustls::RootCertStore> {
    let found = rustls_native_certs::load_native_certs();
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(found.certs);
    if roots.is_empty() {
        eprintln!(
            "warning: no certificate in the system trust store: STARTTLS is not tested (give --ca)"
        );
        return None;
    }
    Some(roots)
}

/// This host's name, as EHLO gives it by default.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

async fn probe(args: &CheckArgs, setup: &Setup) -> Diagnosis {
    let net = RealNetwork::new();
    // Certificates are judged, and SPF's %{t} answered, on the real clock: this is the
    // real world. Nothing of it reaches the report but what the world itself says.
    let clock = Clock::starting_now(time::OffsetDateTime::now_utc(), 1.0);
    let env = ProbeEnv {
        net: &net,
        clock,
        dns_server: setup.dns,
        root_hints: setup.roots.clone(),
        dns_timeout: setup.dns_timeout,
        dns_attempts: DNS_ATTEMPTS,
        from_ip: setup.from_ip,
        helo: setup.helo.clone(),
        mail_from: setup.mail_from.clone(),
        trust: setup.trust.clone(),
        smtp_port: args.smtp_port,
        smtp: setup.smtp,
        dnsbl_zones: args.dnsbl.clone(),
        public_suffixes: Vec::new(),
        mode: Mode::Check { send: args.send },
    };
    let complaint = Complaint {
        recipients: vec![setup.recipient.clone()],
        sender: setup.mail_from.clone(),
    };
    investigate(&setup.handed, &complaint, &env).await
}

/// The report `run` prints, for a check: no scenario, no timeline; the recipients the
/// notices handed in report, each with the cause the check names for it.
fn report(setup: &Setup, diagnosis: Diagnosis) -> Report {
    let mut recipients: Vec<RecipientReport> = Vec::new();
    for (path, text) in &setup.notices {
        let Ok(read) = mxlab_checker::explain::explain(text.as_bytes(), path) else {
            continue;
        };
        for mut r in read.recipients {
            if recipients
                .iter()
                .any(|x| x.address.eq_ignore_ascii_case(&r.address))
            {
                continue;
            }
            if let Some(cause) = diagnosis.cause_of(&r.address) {
                r.cause = cause;
            }
            recipients.push(r);
        }
    }
    let lf = |t: &String| t.replace("\r\n", "\n");
    let lines = |l: &[String]| l.iter().map(|x| format!("{x}\n")).collect::<String>();
    Report {
        source: None,
        schema: SCHEMA,
        scenario: None,
        title: None,
        passed: None,
        verdict: Verdict {
            rule: diagnosis.verdict,
            summary: diagnosis.verdict_summary,
        },
        findings: diagnosis.findings,
        recipients,
        timeline: Vec::new(),
        artifacts: ArtifactsReport {
            dsn: setup.handed.dsn.iter().map(lf).collect(),
            ndr: setup.handed.ndr.iter().map(lf).collect(),
            transcript: diagnosis.probed.smtp.iter().map(|c| lines(c)).collect(),
            dns_log: lines(&diagnosis.probed.dns),
            queue: setup.handed.queue.clone(),
            tracking_log: setup.handed.tracking_log.clone(),
        },
        expectations: Vec::new(),
    }
}
