//! Real sockets for `serve`: UDP and TCP on the same address, each query handed to a
//! [`Handler`]. Malformed traffic is answered (FORMERR) or ignored; it never stops the
//! listener.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use mxlab_net::network::{read_tcp_dns, write_tcp_dns};
use mxlab_net::{Network, RealNetwork};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::resolver::Resolver;
use crate::server::{FakeDns, Transport};

/// A TCP client that sends nothing for this long is disconnected (RFC 7766 suggests seconds).
const TCP_IDLE: Duration = Duration::from_secs(10);
/// Concurrent TCP connections; more wait for a slot, so memory stays bounded.
const TCP_MAX: usize = 256;
/// UDP queries waiting on a delay or an upstream server at once; past this, new ones are
/// dropped (the client retries), so a flood cannot grow tasks without bound.
const UDP_WAITING_MAX: usize = 4096;

/// Whatever answers DNS queries on a socket.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    async fn handle(&self, bytes: &[u8], src: SocketAddr, transport: Transport) -> Option<Vec<u8>>;

    /// Whether answering may wait (a delay, an upstream server); such queries each get a
    /// task of their own, the rest are answered in line, which is several times cheaper.
    fn may_wait(&self) -> bool {
        true
    }
}

#[async_trait]
impl Handler for FakeDns {
    async fn handle(&self, bytes: &[u8], src: SocketAddr, transport: Transport) -> Option<Vec<u8>> {
        FakeDns::handle(self, bytes, src, transport).await
    }

    fn may_wait(&self) -> bool {
        self.has_delays()
    }
}

/// The resolver on sockets asks its upstream servers on sockets too.
pub struct ResolverOnSockets(pub Arc<Resolver>, pub RealNetwork);

#[async_trait]
impl Handler for ResolverOnSockets {
    async fn handle(
        &self,
        bytes: &[u8],
        _src: SocketAddr,
        transport: Transport,
    ) -> Option<Vec<u8>> {
        self.0
            .handle(bytes, transport, &self.1 as &dyn Network)
            .await
    }
}

/// One address's UDP socket and TCP listener, on one port.
pub struct Sockets {
    pub udp: UdpSocket,
    pub tcp: TcpListener,
}

/// Ports tried when port 0 asks for any free one.
const PORT_TRIES: u32 = 64;

/// Binds UDP and TCP on every one of `ips`, all on one port. Port 0 picks a port that is free
/// for all of them at once: the first UDP bind chooses it, and when any other bind finds it
/// taken (another process got it between two binds) everything is released and a new port
/// tried, at most [`PORT_TRIES`] times. So port 0 never fails with AddrInUse while free ports
/// remain. A port given is bound as it is, once.
pub async fn bind_all(ips: &[IpAddr], port: u16) -> io::Result<(u16, Vec<Sockets>)> {
    let tries = if port == 0 { PORT_TRIES } else { 1 };
    let mut last = None;
    for _ in 0..tries {
        match bind_once(ips, port).await {
            Ok(bound) => return Ok(bound),
            Err(e) if port == 0 && e.kind() == io::ErrorKind::AddrInUse => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::from(io::ErrorKind::AddrInUse)))
}

async fn bind_once(ips: &[IpAddr], port: u16) -> io::Result<(u16, Vec<Sockets>)> {
    let mut port = port;
    let mut all = Vec::with_capacity(ips.len());
    for ip in ips {
        let at = SocketAddr::new(*ip, port);
        let annotate = |e: io::Error| io::Error::new(e.kind(), format!("{at}: {e}"));
        let udp = UdpSocket::bind(at).await.map_err(annotate)?;
        port = udp.local_addr()?.port();
        let tcp = TcpListener::bind(SocketAddr::new(*ip, port))
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("{ip}:{port} (TCP): {e}")))?;
        all.push(Sockets { udp, tcp });
    }
    Ok((port, all))
}

/// Binds UDP and TCP on `addr` (port 0 picks one: both get the same port) and serves until
/// the returned set is dropped or aborted.
pub async fn listen(
    handler: Arc<dyn Handler>,
    addr: SocketAddr,
) -> io::Result<(SocketAddr, JoinSet<()>)> {
    let (port, mut sockets) = bind_all(&[addr.ip()], addr.port()).await?;
    let Some(bound) = sockets.pop() else {
        return Err(io::Error::other("no socket bound"));
    };
    Ok((SocketAddr::new(addr.ip(), port), serve(handler, bound)))
}

/// Serves on sockets already bound, until the returned set is dropped or aborted.
pub fn serve(handler: Arc<dyn Handler>, sockets: Sockets) -> JoinSet<()> {
    let Sockets { udp, tcp } = sockets;
    let mut tasks = JoinSet::new();
    let udp = Arc::new(udp);
    // One receive loop per core: answers given in line then use every worker thread.
    let loops = std::thread::available_parallelism().map_or(1, |n| n.get());
    let waiting = Arc::new(Semaphore::new(UDP_WAITING_MAX));
    for _ in 0..loops {
        tasks.spawn(serve_udp(handler.clone(), udp.clone(), waiting.clone()));
    }
    tasks.spawn(serve_tcp(handler, tcp));
    tasks
}

async fn serve_udp(handler: Arc<dyn Handler>, socket: Arc<UdpSocket>, waiting: Arc<Semaphore>) {
    let mut buf = vec![0u8; 4096];
    loop {
        let (n, peer) = match socket.recv_from(&mut buf).await {
            Ok(x) => x,
            // ICMP errors from earlier sends surface here on some systems; keep serving.
            Err(_) => continue,
        };
        if !handler.may_wait() {
            if let Some(reply) = handler.handle(&buf[..n], peer, Transport::Udp).await {
                let _ = socket.send_to(&reply, peer).await;
            }
            continue;
        }
        let Ok(permit) = waiting.clone().try_acquire_owned() else {
            continue;
        };
        let query = buf[..n].to_vec();
        let (handler, socket) = (handler.clone(), socket.clone());
        // Each query on its own task, so a delayed answer does not hold up the rest.
        tokio::spawn(async move {
            let _permit = permit;
            if let Some(reply) = handler.handle(&query, peer, Transport::Udp).await {
                let _ = socket.send_to(&reply, peer).await;
            }
        });
    }
}

async fn serve_tcp(handler: Arc<dyn Handler>, listener: TcpListener) {
    let slots = Arc::new(Semaphore::new(TCP_MAX));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let Ok((mut stream, peer)) = listener.accept().await else {
            continue;
        };
        let handler = handler.clone();
        tokio::spawn(async move {
            let _permit = permit;
            loop {
                let query = match tokio::time::timeout(TCP_IDLE, read_tcp_dns(&mut stream)).await {
                    Ok(Ok(q)) => q,
                    _ => return,
                };
                match handler.handle(&query, peer, Transport::Tcp).await {
                    Some(reply) => {
                        if write_tcp_dns(&mut stream, &reply).await.is_err() {
                            return;
                        }
                    }
                    // A dropped query over TCP: keep the connection, answer nothing.
                    None => continue,
                }
            }
        });
    }
}
