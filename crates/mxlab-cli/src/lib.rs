//! The `mxlab` command line (docs/CLI.md is its contract). `cargo xtask scenario` calls
//! [`main_with`] too, so both run the same code.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use mxlab_dns::listen::TcpLimits;
use mxlab_scenario::catalog;
use mxlab_vocab::Lang;

mod ca_file;
mod check;
pub mod check_spf;
mod explain;
mod html;
mod junit;
mod lab;
mod progress;
mod run;
mod select;

/// Exit codes (docs/CLI.md).
pub const EXIT_OK: u8 = 0;
pub const EXIT_MISMATCH: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "mxlab",
    version,
    about = "Replays mail-delivery failures deterministically and diagnoses them"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Replay scenarios on the virtual clock and check each against its expectations.
    Run {
        /// Catalog names (missing-mx) or paths to .toml files.
        #[arg(
            required_unless_present_any = ["all", "filter", "tag"],
            conflicts_with = "all"
        )]
        scenarios: Vec<String>,
        /// Every scenario in the built-in catalog.
        #[arg(long)]
        all: bool,
        /// Only the scenarios whose name contains PATTERN (the catalog's, without names).
        #[arg(long, value_name = "PATTERN")]
        filter: Option<String>,
        /// Only the scenarios tagged TAG (the catalog's, without names); repeated, all of them.
        #[arg(long, value_name = "TAG")]
        tag: Vec<String>,
        /// JSON on stdout (one object, or an array for several); the summary goes to stderr.
        #[arg(long)]
        json: bool,
        /// Also write the report as a self-contained HTML page: FILE for one scenario, else a
        /// directory with one page per scenario and index.html.
        #[arg(long, value_name = "FILE|DIR")]
        html: Option<PathBuf>,
        /// Also write JUnit XML: one test case per scenario.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// The language of the report's words for people: en or ja. Never taken from the
        /// environment ($LANG), so a report is the same bytes wherever it runs.
        #[arg(long, value_name = "en|ja", default_value_t = Lang::En)]
        lang: Lang,
    },
    /// Every scenario with its one-line title and its tags.
    List,
    /// The rule catalog: id, severity, what it means, what to do.
    Rules {
        /// The language of the catalog: en or ja. Never taken from the
        /// environment ($LANG), so a report is the same bytes wherever it runs.
        #[arg(long, value_name = "en|ja", default_value_t = Lang::En)]
        lang: Lang,
    },
    /// Serve a scenario's fake DNS and SMTP hosts on real loopback sockets, in real time.
    Serve {
        scenario: String,
        /// Where the DNS server listens (UDP and TCP).
        #[arg(long, default_value = "127.0.0.1:5353")]
        dns: SocketAddr,
        /// The port each SMTP host listens on, on its own loopback address.
        #[arg(long, default_value_t = 2525)]
        smtp_port: u16,
        /// Virtual seconds per real second.
        #[arg(long, default_value_t = 1.0)]
        time_scale: f64,
        /// Also write every accepted message to this Maildir (DIR/new), durably, before
        /// answering 250; when it cannot be written the answer is 451 4.3.0.
        #[arg(long, value_name = "DIR", conflicts_with = "sink")]
        store: Option<PathBuf>,
        /// Keep no message and no transcript, for load tests.
        #[arg(long)]
        sink: bool,
        /// How many of the latest accepted messages each SMTP host keeps in memory.
        #[arg(long, value_name = "N", default_value_t = default_limits().messages)]
        capture_messages: usize,
        /// At most this many octets of captured messages in memory per SMTP host.
        #[arg(long, value_name = "OCTETS", default_value_t = default_limits().captured_bytes)]
        capture_bytes: usize,
        /// Write the scenario CA's certificate here (a new file: an existing one is an error),
        /// instead of into a private temporary directory; removed on shutdown.
        #[arg(long, value_name = "FILE")]
        tls_ca: Option<PathBuf>,
        /// How each SMTP command and reply and each DNS query is logged on stderr.
        #[arg(long, value_enum, default_value_t = LogFormat::Text)]
        log: LogFormat,
        /// Log only warnings and errors, not every session and query.
        #[arg(long)]
        quiet: bool,
        /// Also write each finished SMTP session's transcript as a file in DIR.
        #[arg(long, value_name = "DIR")]
        transcripts: Option<PathBuf>,
        #[command(flatten)]
        max: Box<ServeLimits>,
        /// Leave the SYNs to a host that drops every connection unanswered, so clients time
        /// out connecting: an nftables table `inet mxlab_<pid>` in this network namespace,
        /// deleted on shutdown (root or CAP_NET_ADMIN, `nft`; meant for a namespace of its
        /// own). Without it such a host holds each connection silent until the client gives up.
        #[arg(long)]
        drop_syn: bool,
    },
    /// Read delivery notices (any MTA's DSN or NDR, an .eml or an mbox; - for stdin) and name
    /// the cause behind each.
    Explain {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
        /// JSON on stdout: one report per message (an array when there is more than one).
        #[arg(long)]
        json: bool,
        /// Also write the reports as one self-contained HTML page.
        #[arg(long, value_name = "FILE")]
        html: Option<PathBuf>,
        /// The language of the report's words for people: en or ja. Never taken from the
        /// environment ($LANG), so a report is the same bytes wherever it runs.
        #[arg(long, value_name = "en|ja", default_value_t = Lang::En)]
        lang: Lang,
    },
    /// Check delivery to RECIPIENT now, against real DNS and mail servers or a served
    /// story: the diagnosis `run` gives, from live probes (docs/checking.md). `check spf`:
    /// SPF alone.
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Check {
        #[command(subcommand)]
        check: Option<check_spf::CheckCommand>,
        #[command(flatten)]
        live: Box<check::CheckArgs>,
    },
    /// A story as a training lab: its servers live, the user's complaint and notices, the
    /// commands to investigate with; hints, graded answers and progress (docs/labs.md).
    Lab(lab::LabArgs),
}

/// How `serve` logs what it sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One line per event, for people.
    Text,
    /// One JSON object per line, for programs (docs/CLI.md lists the fields).
    Json,
}

/// What `serve` holds at most, so that no client — hostile or merely many — can exhaust it
/// or lock others out. Each has a safe default.
#[derive(clap::Args, Debug)]
pub struct ServeLimits {
    /// The largest message accepted, advertised as SIZE (RFC 1870); 552 5.3.4 above it.
    #[arg(long, value_name = "OCTETS", default_value_t = default_limits().max_message_bytes)]
    max_message_bytes: usize,
    /// Recipients per transaction; the next is told 452 4.5.3 (RFC 5321 §4.5.3.1.8).
    #[arg(long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(100..))]
    max_recipients: u32,
    /// Sessions open at once per SMTP host; past it, 421 at the greeting.
    #[arg(long, value_name = "N", default_value_t = default_limits().sessions)]
    max_sessions: usize,
    /// Sessions open at once from one client address, per SMTP host.
    #[arg(long, value_name = "N", default_value_t = default_limits().sessions_per_client)]
    max_sessions_per_client: usize,
    /// Octets of transcripts each SMTP host keeps; the oldest go first.
    #[arg(long, value_name = "OCTETS", default_value_t = default_limits().transcript_bytes)]
    max_transcript_bytes: usize,
    /// Octets of transcripts kept by all SMTP hosts together.
    #[arg(long, value_name = "OCTETS", default_value_t = mxlab_harness::serve::DEFAULT_TRANSCRIPT_BYTES)]
    max_total_transcript_bytes: usize,
    /// Octets of message bodies being received at once by all sessions together; past it,
    /// a message is refused for now (452 4.3.1).
    #[arg(long, value_name = "OCTETS", default_value_t = mxlab_harness::serve::DEFAULT_DATA_BYTES)]
    max_total_data_bytes: usize,
    /// Octets of answers each DNS server caches (keyed by the question); past it, answers are
    /// computed afresh.
    #[arg(long, value_name = "OCTETS", default_value_t = mxlab_dns::server::DEFAULT_CACHE_BYTES)]
    max_dns_cache_bytes: usize,
    /// DNS over TCP connections open at once; past it, the longest idle one is closed.
    #[arg(long, value_name = "N", default_value_t = TcpLimits::default().connections as u32,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_dns_tcp_connections: u32,
    /// DNS over TCP connections open at once from one client address.
    #[arg(long, value_name = "N", default_value_t = TcpLimits::default().per_client as u32,
          value_parser = clap::value_parser!(u32).range(1..))]
    max_dns_tcp_per_client: u32,
    /// Real seconds a DNS over TCP connection stays open at most.
    #[arg(long, value_name = "SECONDS", default_value_t = TcpLimits::default().lifetime.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    max_dns_tcp_lifetime: u64,
}

/// Parses `args` (including the program name) and runs the command.
pub fn main_with<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { EXIT_OK });
        }
    };
    match &cli.command {
        Command::Serve { log, quiet, .. } => init_logging(
            if *quiet { "warn" } else { SERVE_LOG_FILTER },
            *log == LogFormat::Json,
        ),
        _ => init_logging("warn", false),
    }
    ExitCode::from(match cli.command {
        Command::Run {
            scenarios,
            all,
            filter,
            tag,
            json,
            html,
            junit,
            lang,
        } => run::run(
            &select::Selection {
                names: &scenarios,
                all,
                filter: filter.as_deref(),
                tags: &tag,
            },
            &run::Outputs {
                json,
                html: html.as_deref(),
                junit: junit.as_deref(),
                lang,
            },
        ),
        Command::List => list(),
        Command::Rules { lang } => rules(lang),
        Command::Serve {
            scenario,
            dns,
            smtp_port,
            time_scale,
            store,
            sink,
            capture_messages,
            capture_bytes,
            tls_ca,
            log: _,
            quiet: _,
            transcripts,
            max,
            drop_syn,
        } => {
            let options = mxlab_harness::serve::ServeOptions {
                dns,
                smtp_port,
                time_scale,
                store,
                sink,
                limits: mxlab_harness::serve::Limits {
                    messages: capture_messages,
                    captured_bytes: capture_bytes,
                    max_message_bytes: max.max_message_bytes,
                    max_recipients: max.max_recipients as usize,
                    sessions: max.max_sessions,
                    sessions_per_client: max.max_sessions_per_client,
                    transcript_bytes: max.max_transcript_bytes,
                    ..default_limits()
                },
                data_bytes: max.max_total_data_bytes,
                transcript_bytes: max.max_total_transcript_bytes,
                transcripts,
                drop_syn,
                dns_cache_bytes: max.max_dns_cache_bytes,
                dns_tcp: TcpLimits {
                    connections: max.max_dns_tcp_connections as usize,
                    per_client: max.max_dns_tcp_per_client as usize,
                    lifetime: std::time::Duration::from_secs(max.max_dns_tcp_lifetime),
                },
            };
            serve(&scenario, options, tls_ca.as_deref())
        }
        Command::Explain {
            files,
            json,
            html,
            lang,
        } => explain::run(&files, json, html.as_deref(), lang),
        Command::Check {
            check: Some(check), ..
        } => check_spf::run(check),
        Command::Check { check: None, live } => check::run(&live),
        Command::Lab(args) => lab::run(args),
    })
}

/// What `serve` logs unless told otherwise: every SMTP exchange and DNS query.
const SERVE_LOG_FILTER: &str = "warn,mxlab::smtp=info,mxlab::dns=info";

/// Logging on stderr: `MXLAB_LOG` (an env-filter directive such as `mxlab::dns=info`) wins
/// over `default`; colour only on a terminal.
fn init_logging(default: &str, json: bool) {
    use std::io::IsTerminal;
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("MXLAB_LOG").unwrap_or_else(|_| default.into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
}

fn list() -> u8 {
    let mut stdout = std::io::stdout().lock();
    for name in catalog::names() {
        match catalog::builtin(name).expect("catalog name") {
            Ok(s) => {
                let tags: Vec<&str> = s.tags().collect();
                let line = format!("{name:<24} {}", s.file.title);
                if tags.is_empty() {
                    let _ = writeln!(stdout, "{line}");
                } else {
                    let _ = writeln!(stdout, "{line}  [{}]", tags.join(", "));
                }
            }
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_USAGE;
            }
        }
    }
    EXIT_OK
}

fn rules(lang: Lang) -> u8 {
    let mut stdout = std::io::stdout().lock();
    for rule in mxlab_checker::rules::RULES {
        let text = rule.text(lang);
        let _ = writeln!(stdout, "{}  [{}]", rule.id, rule.severity.as_str());
        let _ = writeln!(stdout, "    {}", text.title);
        let _ = writeln!(stdout, "    {}", text.explanation);
        for r in text.remediation {
            let _ = writeln!(stdout, "    → {r}");
        }
        let _ = writeln!(stdout);
    }
    EXIT_OK
}

/// The story clock's speed under `serve`: slower than a thousandth, the shortest story
/// timeout is days long; faster than ten thousand, a retry schedule is over before a real
/// client has connected.
const MIN_TIME_SCALE: f64 = 0.001;
const MAX_TIME_SCALE: f64 = 10_000.0;

/// What an SMTP host keeps under `serve` unless told otherwise.
fn default_limits() -> mxlab_harness::serve::Limits {
    mxlab_harness::serve::Limits::default()
}

fn serve(
    name: &str,
    options: mxlab_harness::serve::ServeOptions,
    tls_ca: Option<&std::path::Path>,
) -> u8 {
    let (dns, time_scale) = (options.dns, options.time_scale);
    if !(MIN_TIME_SCALE..=MAX_TIME_SCALE).contains(&time_scale) {
        eprintln!(
            "error: --time-scale {time_scale}: give a number from {MIN_TIME_SCALE} to {MAX_TIME_SCALE} (story seconds per real second)"
        );
        return EXIT_USAGE;
    }
    if !dns.ip().is_loopback() {
        eprintln!("error: --dns {dns}: mxlab serves on loopback addresses only (127.0.0.0/8, ::1)");
        return EXIT_USAGE;
    }
    let scenario = match catalog::resolve(name) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let printed = |lines: &[String]| {
        let mut stdout = std::io::stdout().lock();
        for line in lines {
            let _ = writeln!(stdout, "{line}");
        }
        let _ = stdout.flush();
    };
    match serve_world(&scenario, &options, tls_ca, |served| printed(&served.lines)) {
        Ok(()) => EXIT_OK,
        Err(ServeError::Start(e)) => {
            eprintln!("error: {e}");
            EXIT_USAGE
        }
        Err(ServeError::Reported(code)) => code,
    }
}

/// A served world, as its listeners are bound: what the caller prints.
pub(crate) struct Ready<'a> {
    pub served: &'a mxlab_harness::serve::Served,
    /// One line per listener as `serve` prints them, the CA's `tls-ca - <path>` last.
    pub lines: Vec<String>,
    /// The scenario CA's file, for clients that verify STARTTLS.
    pub ca_file: Option<&'a std::path::Path>,
}

/// Why a world was not served.
pub(crate) enum ServeError {
    /// It could not start (an address in use, a Maildir that cannot be made); nothing printed.
    Start(std::io::Error),
    /// It stopped with this exit code, the reason already on stderr.
    Reported(u8),
}

/// Serves `scenario` on real sockets until SIGINT or SIGTERM: `serve` and `lab` alike. Once
/// every listener is bound, `ready` is told (it prints the listener lines); then the world
/// runs until a signal, shuts down cleanly, and the CA file goes.
pub(crate) fn serve_world(
    scenario: &mxlab_scenario::Scenario,
    options: &mxlab_harness::serve::ServeOptions,
    tls_ca: Option<&std::path::Path>,
    ready: impl FnOnce(&Ready<'_>),
) -> Result<(), ServeError> {
    // Every connection is a descriptor: the soft limit (often 1,024) goes up to the hard one.
    if let Err(e) = mxlab_harness::serve::raise_descriptor_limit() {
        tracing::warn!("cannot raise the open-file limit: {e}");
    }
    let runtime =
        runtime(tokio::runtime::Builder::new_multi_thread()).map_err(ServeError::Reported)?;
    runtime.block_on(async {
        let served = mxlab_harness::serve::Served::start(scenario, options)
            .await
            .map_err(ServeError::Start)?;
        // Clients that verify STARTTLS need the scenario's CA: one more line, with its path.
        // The file lives until shutdown (dropped after the servers stop).
        let wants_ca = tls_ca.is_some()
            || served
                .smtp
                .iter()
                .any(|(h, _)| h.tls_certificate().is_some());
        let ca_file = if wants_ca {
            match ca_file::CaFile::write(&served.tls_ca_pem, tls_ca, &std::env::temp_dir()) {
                Ok(file) => Some(file),
                Err(e) if tls_ca.is_some() => {
                    eprintln!(
                        "error: --tls-ca {e} (mxlab writes a new file, never an existing one)"
                    );
                    served.shutdown().await;
                    return Err(ServeError::Reported(EXIT_USAGE));
                }
                Err(e) => {
                    eprintln!("warning: cannot write the scenario CA: {e}");
                    None
                }
            }
        } else {
            None
        };
        let stop = shutdown_signal();
        let mut lines = served.listener_lines();
        if let Some(file) = &ca_file {
            lines.push(format!("tls-ca - {}", file.path().display()));
        }
        ready(&Ready {
            served: &served,
            lines,
            ca_file: ca_file.as_ref().map(|f| f.path()),
        });
        stop.await;
        tracing::info!("shutting down");
        served.shutdown().await;
        drop(ca_file);
        Ok(())
    })
}

/// The runtime a command runs on, or the usage exit code with the reason on stderr.
fn runtime(mut builder: tokio::runtime::Builder) -> Result<tokio::runtime::Runtime, u8> {
    builder.enable_all().build().map_err(|e| {
        eprintln!("error: cannot start the runtime: {e}");
        EXIT_USAGE
    })
}

/// A command's report on stdout, as JSON or as text; the usage exit code when the JSON
/// cannot be written.
fn print_report(
    json: bool,
    as_json: impl FnOnce() -> serde_json::Result<String>,
    as_text: impl FnOnce() -> String,
) -> Result<(), u8> {
    let mut stdout = std::io::stdout().lock();
    if !json {
        let _ = write!(stdout, "{}", as_text());
        return Ok(());
    }
    match as_json() {
        Ok(text) => {
            let _ = writeln!(stdout, "{text}");
            Ok(())
        }
        Err(e) => {
            eprintln!("error: cannot write JSON: {e}");
            Err(EXIT_USAGE)
        }
    }
}

/// Registers for SIGTERM and SIGINT at once and returns what waits for either: a signal sent
/// as soon as the listener lines are read must still shut down cleanly (and remove the CA
/// file), not find the default action in place.
#[cfg(unix)]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut interrupt = signal(SignalKind::interrupt()).expect("SIGINT handler");
    async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = interrupt.recv() => {}
        }
    }
}

#[cfg(not(unix))]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
