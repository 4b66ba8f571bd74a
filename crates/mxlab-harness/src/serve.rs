//! A scenario's fake DNS and SMTP hosts on real loopback sockets, in real time (optionally
//! scaled), for real clients. Also the library entry point for other projects' tests: start a
//! world, read its addresses, drive it, inspect what it captured.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use mxlab_dns::FakeDns;
use mxlab_net::Clock;
use mxlab_scenario::Scenario;
use mxlab_smtp::{FakeSmtpHost, Limits};
use tokio::task::JoinSet;

#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Where the DNS listens (UDP and TCP); port 0 picks a free port.
    pub dns: SocketAddr,
    /// The port every SMTP host listens on, each on its own loopback address; 0 picks.
    pub smtp_port: u16,
    /// Story seconds per real second.
    pub time_scale: f64,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            dns: "127.0.0.1:5353".parse().expect("literal"),
            smtp_port: 2525,
            time_scale: 1.0,
        }
    }
}

/// A running world. Dropping it stops every listener.
pub struct Served {
    pub dns_addr: SocketAddr,
    pub dns: Arc<FakeDns>,
    /// Each SMTP host with the address it listens on.
    pub smtp: Vec<(Arc<FakeSmtpHost>, SocketAddr)>,
    tasks: JoinSet<()>,
}

/// Bounds for a long-running server: what it keeps in memory stays small.
const SERVE_LOG: usize = 10_000;

impl Served {
    /// Binds every listener; call inside a tokio runtime with I/O enabled.
    pub async fn start(scenario: &Scenario, options: &ServeOptions) -> io::Result<Served> {
        let clock = Clock::starting_now(scenario.file.start.0, options.time_scale);
        let dns = Arc::new(
            FakeDns::from_scenario(scenario, clock.clone(), SERVE_LOG).map_err(io::Error::other)?,
        );
        let (dns_addr, mut tasks) = mxlab_dns::listen::listen(dns.clone(), options.dns)
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("DNS on {}: {e}", options.dns)))?;
        let mut smtp = Vec::new();
        for (config, ip) in scenario
            .file
            .smtp
            .hosts
            .iter()
            .zip(&scenario.host_addresses)
        {
            let host = Arc::new(FakeSmtpHost::new(
                config,
                *ip,
                clock.clone(),
                Limits::default(),
            ));
            let addr = SocketAddr::new(*ip, options.smtp_port);
            let listener = mxlab_smtp::listen::bind(addr).await.map_err(|e| {
                io::Error::new(e.kind(), format!("SMTP host {} on {addr}: {e}", host.name))
            })?;
            let bound = listener.local_addr()?;
            tasks.spawn(mxlab_smtp::listen::serve(host.clone(), listener));
            smtp.push((host, bound));
        }
        Ok(Served {
            dns_addr,
            dns,
            smtp,
            tasks,
        })
    }

    /// One line per listener, `<role> <name> <ip:port>`, as `mxlab serve` prints them.
    pub fn listener_lines(&self) -> Vec<String> {
        let mut lines = vec![format!("dns - {}", self.dns_addr)];
        lines.extend(
            self.smtp
                .iter()
                .map(|(h, addr)| format!("smtp {} {addr}", h.name)),
        );
        lines
    }

    /// The address of the SMTP host called `name`.
    pub fn smtp_addr(&self, name: &str) -> Option<SocketAddr> {
        self.smtp
            .iter()
            .find(|(h, _)| h.name.eq_ignore_ascii_case(name.trim_end_matches('.')))
            .map(|(_, a)| *a)
    }

    pub async fn shutdown(mut self) {
        self.tasks.shutdown().await;
    }
}
