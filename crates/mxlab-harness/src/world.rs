//! The in-memory world of a scenario run: the fake DNS and SMTP hosts behind a [`Network`]
//! that never touches a kernel socket. A dropped packet or an unanswered SYN is a future that
//! never completes, so the caller's timeout — on the paused clock — decides, exactly.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use mxlab_dns::{DnsWorld, Transport};
use mxlab_net::{BoxStream, Network};
use mxlab_smtp::FakeSmtpHost;
use mxlab_smtp::behaviour::Act;

/// Room for a whole SMTP exchange in flight; a full pipe simply waits, like a TCP window.
const PIPE_BYTES: usize = 64 * 1024;

pub struct World {
    pub dns: Arc<DnsWorld>,
    pub hosts: Vec<Arc<FakeSmtpHost>>,
    /// Where queries appear to come from: the sending server.
    pub client: IpAddr,
    /// The fake servers' session tasks, so a run can wait for them to finish their
    /// transcripts before reading them.
    pub sessions: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// How long, in story time, a run waits for sessions still open when the story ends. Every
/// session ends by itself within the server's idle limit (5 minutes); this only bounds it.
const SETTLE: Duration = Duration::from_secs(3600);

fn unreachable(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionRefused, what.to_string())
}

impl World {
    pub fn new(dns: Arc<DnsWorld>, hosts: Vec<Arc<FakeSmtpHost>>, client: IpAddr) -> Self {
        World {
            dns,
            hosts,
            client,
            sessions: Mutex::new(Vec::new()),
        }
    }

    /// Waits until every fake-server session has ended (the client hung up, with or without
    /// QUIT, or the server's idle limit ran out), so their transcripts are whole.
    pub async fn settle(&self, clock: &mxlab_net::Clock) {
        let sessions = std::mem::take(&mut *self.sessions.lock().expect("sessions"));
        for session in sessions {
            let _ = clock.timeout(SETTLE, session).await;
        }
    }

    async fn dns(
        &self,
        server: SocketAddr,
        query: Vec<u8>,
        transport: Transport,
    ) -> io::Result<Vec<u8>> {
        let src = SocketAddr::new(self.client, 53000);
        let answer = if server.port() == 53 {
            self.dns
                .handle(server.ip(), &query, src, transport, self)
                .await
        } else {
            None
        };
        match answer {
            // Nothing listens there: the port-unreachable a real client would get.
            None => Err(unreachable("no DNS server at that address")),
            Some(Some(reply)) => Ok(reply),
            Some(None) => std::future::pending().await,
        }
    }
}

#[async_trait]
impl Network for World {
    async fn dns_udp(&self, server: SocketAddr, query: Vec<u8>) -> io::Result<Vec<u8>> {
        self.dns(server, query, Transport::Udp).await
    }

    async fn dns_tcp(&self, server: SocketAddr, query: Vec<u8>) -> io::Result<Vec<u8>> {
        self.dns(server, query, Transport::Tcp).await
    }

    async fn connect(&self, from: IpAddr, to: SocketAddr) -> io::Result<BoxStream> {
        let Some(host) = self
            .hosts
            .iter()
            .find(|h| h.address == to.ip() && to.port() == 25)
            .cloned()
        else {
            return Err(unreachable("connection refused"));
        };
        let (attempt, step) = host.connect(from);
        if !step.delay.is_zero() {
            host.clock.sleep(step.delay).await;
        }
        match step.act {
            Act::Refuse => Err(unreachable("connection refused")),
            Act::Drop => std::future::pending().await,
            Act::Close | Act::CloseAfter(_) => {
                let (client, _server) = tokio::io::duplex(PIPE_BYTES);
                Ok(Box::new(client))
            }
            Act::Accept | Act::Reply(_) | Act::Stall | Act::Throttle(_) => {
                let (client, server) = tokio::io::duplex(PIPE_BYTES);
                let session = tokio::spawn(async move {
                    mxlab_smtp::session::run(&host, server, from, attempt).await;
                });
                self.sessions.lock().expect("sessions").push(session);
                Ok(Box::new(client))
            }
        }
    }
}
