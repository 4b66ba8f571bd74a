//! A scenario's fake DNS and SMTP hosts on real loopback sockets, in real time (optionally
//! scaled), for real clients. Also the library entry point for other projects' tests: start a
//! world, read its addresses, drive it, inspect what it captured.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use mxlab_dns::DnsWorld;
use mxlab_dns::listen::{Handler, ResolverOnSockets, TcpLimits, serve_with};
use mxlab_net::{Clock, RealNetwork};
use mxlab_scenario::Scenario;
use mxlab_smtp::behaviour::Act;
use mxlab_smtp::{Capture, Maildir};
// What a test reading a served world's hosts needs, without a dependency on mxlab-smtp.
pub use mxlab_smtp::budget::{DEFAULT_DATA_BYTES, DEFAULT_TRANSCRIPT_BYTES};
pub use mxlab_smtp::{Captured, FakeSmtpHost, Limits, Transcript};
use tokio::task::JoinSet;

#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Where the DNS listens (UDP and TCP); port 0 picks a free port.
    pub dns: SocketAddr,
    /// The port every SMTP host listens on, each on its own loopback address; 0 picks.
    pub smtp_port: u16,
    /// Story seconds per real second.
    pub time_scale: f64,
    /// A Maildir (created if missing) that every SMTP host writes each accepted message to,
    /// durably, before answering `250`.
    pub store: Option<PathBuf>,
    /// Keep no message and no transcript at all, for load tests. Excludes `store`.
    pub sink: bool,
    /// What each SMTP host keeps in memory: transcripts, captured messages and their total
    /// size, and the largest message it accepts.
    pub limits: Limits,
    /// Message bodies being received at once, by every host together.
    pub data_bytes: usize,
    /// Transcripts kept, by every host together.
    pub transcript_bytes: usize,
    /// A directory each finished SMTP session's transcript is written to, as a file.
    pub transcripts: Option<PathBuf>,
    /// Leave the SYNs to a host that drops every connection unanswered, with an nftables rule
    /// in this network namespace ([`crate::syn_filter`]; root or CAP_NET_ADMIN). Without it
    /// such a host holds each connection silent until the client gives up.
    pub drop_syn: bool,
    /// Bytes each DNS server's answer cache holds at most.
    pub dns_cache_bytes: usize,
    /// Connections over DNS TCP: in all and per client, and how long each lives.
    pub dns_tcp: TcpLimits,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            dns: "127.0.0.1:5353".parse().expect("literal"),
            smtp_port: 2525,
            time_scale: 1.0,
            store: None,
            sink: false,
            limits: Limits::default(),
            data_bytes: DEFAULT_DATA_BYTES,
            transcript_bytes: DEFAULT_TRANSCRIPT_BYTES,
            transcripts: None,
            drop_syn: false,
            dns_cache_bytes: mxlab_dns::server::DEFAULT_CACHE_BYTES,
            dns_tcp: TcpLimits::default(),
        }
    }
}

/// A running world. Dropping it stops every listener.
pub struct Served {
    /// Where clients ask: the resolver, or the lone server of a scenario without topology.
    pub dns_addr: SocketAddr,
    pub dns: Arc<DnsWorld>,
    /// Each authoritative server with the address it listens on, when the scenario has a
    /// topology.
    pub dns_servers: Vec<(String, SocketAddr)>,
    /// Each SMTP host with the address it listens on.
    pub smtp: Vec<(Arc<FakeSmtpHost>, SocketAddr)>,
    /// The scenario CA's certificate (PEM), for clients that verify STARTTLS. Certificates
    /// are dated around the real now, as real clients judge them on the real clock.
    pub tls_ca_pem: String,
    tasks: JoinSet<()>,
    /// The addresses of hosts that refuse every connection: bound, never listened on.
    _refusing: Vec<tokio::net::TcpSocket>,
    /// `--drop-syn`'s rule, deleted with the world.
    _syn_filter: Option<crate::syn_filter::SynFilter>,
}

trait ExtendFrom {
    fn extend_from(&mut self, other: JoinSet<()>);
}

impl ExtendFrom for JoinSet<()> {
    /// Keeps another listener's tasks with ours, so dropping `Served` stops them all.
    fn extend_from(&mut self, mut other: JoinSet<()>) {
        self.spawn(async move { while other.join_next().await.is_some() {} });
    }
}

/// Bounds for a long-running server: what it keeps in memory stays small.
const SERVE_LOG: usize = 10_000;

impl Served {
    /// Binds every listener; call inside a tokio runtime with I/O enabled.
    ///
    /// A test in another project starts the built-in `healthy` world on free ports, sends its
    /// MX one message in raw SMTP, and reads the message back from the host:
    ///
    /// ```
    /// use mxlab_harness::serve::{ServeOptions, Served};
    /// use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    /// use tokio::net::TcpStream;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let runtime = tokio::runtime::Runtime::new()?;
    /// runtime.block_on(async {
    ///     let scenario = mxlab_scenario::catalog::builtin("healthy").expect("built in")?;
    ///     let options = ServeOptions {
    ///         dns: "127.0.0.1:0".parse()?, // port 0: any free port
    ///         smtp_port: 0,
    ///         ..ServeOptions::default()
    ///     };
    ///     let served = Served::start(&scenario, &options).await?;
    ///     let mx = served.smtp_addr("mx1.partner.test").expect("the scenario's MX");
    ///
    ///     let mut smtp = BufReader::new(TcpStream::connect(mx).await?);
    ///     for command in [
    ///         "", // the greeting comes first
    ///         "EHLO client.test\r\n",
    ///         "MAIL FROM:<taro@mycompany.test>\r\n",
    ///         "RCPT TO:<hanako@partner.test>\r\n",
    ///         "DATA\r\n",
    ///         "Subject: Lunch on Friday?\r\n\r\nNoon?\r\n.\r\n",
    ///         "QUIT\r\n",
    ///     ] {
    ///         smtp.get_mut().write_all(command.as_bytes()).await?;
    ///         let mut line = String::new();
    ///         loop {
    ///             line.clear();
    ///             smtp.read_line(&mut line).await?;
    ///             // `250-` goes on, `250 ` is the reply's last line.
    ///             if line.as_bytes().get(3) != Some(&b'-') {
    ///                 break;
    ///             }
    ///         }
    ///         assert!(line.starts_with('2') || line.starts_with('3'), "{command:?}: {line}");
    ///     }
    ///
    ///     let host = served.host("mx1.partner.test").expect("the scenario's MX");
    ///     let messages = host.messages();
    ///     assert_eq!(messages.len(), 1);
    ///     assert_eq!(messages[0].mail_from, "taro@mycompany.test");
    ///     assert_eq!(messages[0].rcpt_to, ["hanako@partner.test"]);
    ///     assert_eq!(messages[0].data, b"Subject: Lunch on Friday?\r\n\r\nNoon?\r\n");
    ///     served.shutdown().await;
    ///     Ok(())
    /// })
    /// # }
    /// ```
    pub async fn start(scenario: &Scenario, options: &ServeOptions) -> io::Result<Served> {
        let clock = Clock::starting_now(scenario.file.start.0, options.time_scale);
        // Every DNS server listens on one port, each on its own address, so the resolver and
        // `dig +trace` find them as a zone's glue says. Port 0 picks one free on all of those
        // addresses at once, for UDP and TCP alike, before the world is built with it.
        let mut dns =
            DnsWorld::from_scenario(scenario, clock.clone(), SERVE_LOG, options.dns.port())
                .map_err(io::Error::other)?;
        let mut addresses = vec![options.dns.ip()];
        if dns.resolver.is_some() {
            addresses.extend(dns.servers.iter().map(|s| s.address));
        }
        let (port, sockets) = mxlab_dns::listen::bind_all(&addresses, options.dns.port())
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("DNS on {e}")))?;
        if port != options.dns.port() {
            dns = DnsWorld::from_scenario(scenario, clock.clone(), SERVE_LOG, port)
                .map_err(io::Error::other)?;
        }
        for server in &dns.servers {
            server.set_cache_limit(options.dns_cache_bytes);
        }
        let dns = Arc::new(dns);
        let serve_dns = |handler, sockets| serve_with(handler, sockets, options.dns_tcp);
        let mut tasks = tokio::task::JoinSet::new();
        let mut dns_servers = Vec::new();
        let dns_addr = SocketAddr::new(options.dns.ip(), port);
        let mut sockets = sockets.into_iter();
        let mut next_sockets = || {
            sockets
                .next()
                .ok_or_else(|| io::Error::other("a DNS socket is missing"))
        };
        match &dns.resolver {
            Some(resolver) => {
                let handler: Arc<dyn Handler> =
                    Arc::new(ResolverOnSockets(resolver.clone(), RealNetwork::new()));
                tasks.extend_from(serve_dns(handler, next_sockets()?));
                for server in &dns.servers {
                    let at = SocketAddr::new(server.address, port);
                    tasks.extend_from(serve_dns(
                        server.clone() as Arc<dyn Handler>,
                        next_sockets()?,
                    ));
                    dns_servers.push((server.name.clone(), at));
                }
            }
            None => {
                let server = dns.servers[0].clone() as Arc<dyn Handler>;
                tasks.extend_from(serve_dns(server, next_sockets()?));
            }
        }
        let capture = match (&options.store, options.sink) {
            (Some(_), true) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a sink keeps nothing: it cannot also store to a Maildir",
                ));
            }
            (Some(dir), false) => Capture::Maildir(Maildir::open(dir)?),
            (None, true) => Capture::Sink,
            (None, false) => Capture::Memory,
        };
        let tls =
            mxlab_ca::TlsWorld::new(time::OffsetDateTime::now_utc()).map_err(io::Error::other)?;
        let budget = mxlab_smtp::Budget::new(options.data_bytes, options.transcript_bytes);
        // Each host's share of the world's transcripts: a busy host evicts its own oldest,
        // never leaving another host unable to keep any.
        let hosts = scenario.file.smtp.hosts.len().max(1);
        let limits = mxlab_smtp::Limits {
            transcript_bytes: options
                .limits
                .transcript_bytes
                .min(options.transcript_bytes / hosts),
            ..options.limits
        };
        if let Some(dir) = &options.transcripts {
            std::fs::create_dir_all(dir)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
        }
        let mut smtp = Vec::new();
        let (mut refusing, mut dropped) = (Vec::new(), Vec::new());
        for (config, ip) in scenario
            .file
            .smtp
            .hosts
            .iter()
            .zip(&scenario.host_addresses)
        {
            let host = Arc::new(
                FakeSmtpHost::new(config, *ip, clock.clone(), limits)
                    .with_capture(capture.clone())
                    .with_budget(budget.clone())
                    .with_transcript_dir(options.transcripts.clone()),
            );
            if let Some(kind) = host.tls_certificate() {
                host.set_tls(
                    tls.server_config(&host.name, kind)
                        .map_err(io::Error::other)?,
                );
            }
            // SPF through the scenario's DNS in process, as the receiver's own resolver.
            host.set_spf_check(Arc::new(crate::spf_gate::SpfGate {
                net: crate::spf_gate::DnsOnly {
                    dns: dns.clone(),
                    from: *ip,
                },
                clock: clock.clone(),
                server: SocketAddr::new(dns.receiver_dns(), port),
                receiver: host.name.clone(),
            }));
            host.set_gates(Arc::new(crate::policy_gate::PolicyGate {
                net: crate::spf_gate::DnsOnly {
                    dns: dns.clone(),
                    from: *ip,
                },
                clock: clock.clone(),
                server: SocketAddr::new(dns.receiver_dns(), port),
                suffixes: mxlab_policy::PublicSuffixes::with(&scenario.file.dns.public_suffixes),
            }));
            let addr = SocketAddr::new(*ip, options.smtp_port);
            let in_use = |e: io::Error| {
                io::Error::new(e.kind(), format!("SMTP host {} on {addr}: {e}", host.name))
            };
            // What a client meets at connect when that is the same for every attempt.
            let always = host
                .connect_always()
                .filter(|s| s.delay.is_zero())
                .map(|s| s.act);
            if always == Some(Act::Refuse) {
                // Nothing listens: the kernel refuses (ECONNREFUSED), as a closed port does.
                let socket = mxlab_smtp::listen::reserve(addr).map_err(in_use)?;
                let bound = socket.local_addr()?;
                tracing::info!(
                    "{}: refuses every connection, nothing listens on {bound}",
                    host.name
                );
                refusing.push(socket);
                smtp.push((host, bound));
                continue;
            }
            let listener = mxlab_smtp::listen::bind(addr).await.map_err(in_use)?;
            let bound = listener.local_addr()?;
            if options.drop_syn && host.connect_always().is_some_and(|s| s.act == Act::Drop) {
                dropped.push(bound);
            }
            tasks.spawn(mxlab_smtp::listen::serve(host.clone(), listener));
            smtp.push((host, bound));
        }
        let syn_filter = if dropped.is_empty() {
            None
        } else {
            Some(
                crate::syn_filter::SynFilter::install(&dropped)
                    .map_err(|e| io::Error::new(e.kind(), format!("--drop-syn: {e}")))?,
            )
        };
        Ok(Served {
            dns_addr,
            dns,
            dns_servers,
            smtp,
            tls_ca_pem: tls.ca_pem(),
            tasks,
            _refusing: refusing,
            _syn_filter: syn_filter,
        })
    }

    /// One line per listener, `<role> <name> <ip:port>`, as `mxlab serve` prints them.
    pub fn listener_lines(&self) -> Vec<String> {
        let mut lines = vec![format!("dns - {}", self.dns_addr)];
        lines.extend(
            self.dns_servers
                .iter()
                .map(|(name, addr)| format!("dns {name} {addr}")),
        );
        lines.extend(
            self.smtp
                .iter()
                .map(|(h, addr)| format!("smtp {} {addr}", h.name)),
        );
        lines
    }

    /// The address of the SMTP host called `name`.
    pub fn smtp_addr(&self, name: &str) -> Option<SocketAddr> {
        self.find_smtp(name).map(|(_, a)| *a)
    }

    /// The SMTP host called `name` (a trailing dot and case do not matter): its captured
    /// messages ([`FakeSmtpHost::messages`]) and session transcripts
    /// ([`FakeSmtpHost::transcripts`]).
    pub fn host(&self, name: &str) -> Option<&Arc<FakeSmtpHost>> {
        self.find_smtp(name).map(|(h, _)| h)
    }

    fn find_smtp(&self, name: &str) -> Option<&(Arc<FakeSmtpHost>, SocketAddr)> {
        self.smtp
            .iter()
            .find(|(h, _)| h.name.eq_ignore_ascii_case(name.trim_end_matches('.')))
    }

    /// Bytes and entries held by the answer caches of all DNS servers.
    pub fn dns_cache_usage(&self) -> (usize, usize) {
        self.dns
            .servers
            .iter()
            .map(|s| s.cache_usage())
            .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    }

    pub async fn shutdown(mut self) {
        self.tasks.shutdown().await;
    }
}

/// Raises this process's soft limit on open descriptors to its hard limit, so `serve` meets
/// EMFILE only when the system says so, not at the common soft default of 1,024. Returns the
/// limit now in force. Call once at start: it changes the whole process.
#[cfg(unix)]
pub fn raise_descriptor_limit() -> io::Result<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if limit.rlim_cur < limit.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
            return Err(io::Error::last_os_error());
        }
        limit = raised;
    }
    // rlim_t is u64 here, narrower on some 32-bit targets.
    #[allow(clippy::useless_conversion)]
    Ok(u64::from(limit.rlim_cur))
}

#[cfg(not(unix))]
pub fn raise_descriptor_limit() -> io::Result<u64> {
    Err(io::Error::other("no descriptor limit to raise here"))
}
