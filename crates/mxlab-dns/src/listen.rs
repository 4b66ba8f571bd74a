//! Real sockets for `serve`: UDP and TCP on the same address, each query handed to a
//! [`Handler`]. Malformed traffic is answered (FORMERR) or ignored, a response (QR=1) is never
//! answered, and a panic while answering is caught and logged: nothing a client sends stops
//! a listener. Every query is one `tracing` event (target `mxlab::dns`, see [`log_query`]).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use hickory_proto::op::ResponseCode;
use mxlab_net::network::write_tcp_dns;
use mxlab_net::{Network, RealNetwork};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::reply::rcode_mnemonic;
use crate::resolver::Resolver;
use crate::server::{FakeDns, Handled, Transport};

/// A TCP client that sends nothing for this long is disconnected (RFC 7766 suggests seconds).
const TCP_IDLE: Duration = Duration::from_secs(10);
/// Reading the rest of a query once its length has come, or writing a reply: a client that
/// stalls half-way is disconnected after this long.
const TCP_IO: Duration = Duration::from_secs(10);
/// UDP queries waiting on a delay or an upstream server at once; past this, new ones are
/// dropped (the client retries), so a flood cannot grow tasks without bound.
const UDP_WAITING_MAX: usize = 4096;
/// How long an accept loop rests after an error such as EMFILE (no descriptor left): the
/// error repeats until a connection closes, and retrying at once spins a core.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The bounds of DNS over TCP (`serve --max-dns-tcp-*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpLimits {
    /// Connections open at once, in all. When all are taken, a new connection closes the one
    /// idle the longest (RFC 7766 §6.2.3 lets a busy server close idle connections), so
    /// clients that hold connections open and query now and then cannot lock others out.
    pub connections: usize,
    /// Connections open at once from one client address; past it, new ones are closed at once.
    pub per_client: usize,
    /// How long a connection stays open at most, however busy.
    pub lifetime: Duration,
}

impl Default for TcpLimits {
    fn default() -> Self {
        TcpLimits {
            connections: 256,
            per_client: 16,
            lifetime: Duration::from_secs(60),
        }
    }
}

/// Whatever answers DNS queries on a socket.
#[async_trait]
pub trait Handler: Send + Sync + 'static {
    async fn handle(&self, bytes: &[u8], src: SocketAddr, transport: Transport) -> Handled;

    /// Whether answering may wait (a delay, an upstream server); such queries each get a
    /// task of their own, the rest are answered in line, which is several times cheaper.
    fn may_wait(&self) -> bool {
        true
    }
}

#[async_trait]
impl Handler for FakeDns {
    async fn handle(&self, bytes: &[u8], src: SocketAddr, transport: Transport) -> Handled {
        FakeDns::handle_query(self, bytes, src, transport).await
    }

    fn may_wait(&self) -> bool {
        self.has_delays()
    }
}

/// The resolver on sockets asks its upstream servers on sockets too.
pub struct ResolverOnSockets(pub Arc<Resolver>, pub RealNetwork);

#[async_trait]
impl Handler for ResolverOnSockets {
    async fn handle(&self, bytes: &[u8], _src: SocketAddr, transport: Transport) -> Handled {
        self.0
            .handle_query(bytes, transport, &self.1 as &dyn Network)
            .await
    }
}

/// One `tracing` event at info level, target `mxlab::dns`, per query: `client` and `server`
/// (ip:port), `name`, `qtype`, `outcome` (the reply's response code, `dropped` when none went
/// out, `refused` for a TCP connection closed by a limit), `fault` (the scripted fault's
/// action, or `-`) and `transport` (`udp` or `tcp`).
pub fn log_query(client: SocketAddr, server: SocketAddr, transport: Transport, handled: &Handled) {
    tracing::info!(
        target: "mxlab::dns",
        client = %client,
        server = %server,
        name = handled.asked.as_ref().map_or("-", |a| a.name.as_str()),
        qtype = %handled.asked.as_ref().map_or_else(|| "-".to_string(), |a| a.qtype.to_string()),
        outcome = %outcome(handled.reply.as_deref()),
        fault = handled.asked.as_ref().and_then(|a| a.fault).map_or("-", |f| f.as_str()),
        transport = transport.as_str(),
    );
}

/// A reply's response code by name (NOERROR, NXDOMAIN…), or `dropped` when there is none.
pub fn outcome(reply: Option<&[u8]>) -> String {
    match reply {
        None => "dropped".into(),
        Some(r) if r.len() < 12 => "unreadable".into(),
        Some(r) => rcode_mnemonic(ResponseCode::from_low(r[3] & 0x0F)),
    }
}

/// Runs a future, turning a panic while it is polled into `Err` instead of unwinding into
/// the receive loop or the connection task that polls it.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Err(panic) => Poll::Ready(Err(panic_text(panic.as_ref()))),
        }
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

/// Answers one query with a panic contained: a panic is logged and the query dropped.
async fn answer(
    handler: &dyn Handler,
    bytes: &[u8],
    peer: SocketAddr,
    transport: Transport,
) -> Handled {
    match CatchUnwind(Box::pin(handler.handle(bytes, peer, transport))).await {
        Ok(handled) => handled,
        Err(panic) => {
            tracing::error!(target: "mxlab::dns", client = %peer, transport = transport.as_str(), "panic while answering a query (dropped): {panic}");
            Handled::default()
        }
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
    serve_with(handler, sockets, TcpLimits::default())
}

/// [`serve`] with the given bounds on DNS over TCP.
pub fn serve_with(handler: Arc<dyn Handler>, sockets: Sockets, limits: TcpLimits) -> JoinSet<()> {
    let Sockets { udp, tcp } = sockets;
    let mut tasks = JoinSet::new();
    let udp = Arc::new(udp);
    // One receive loop per core: answers given in line then use every worker thread.
    let loops = std::thread::available_parallelism().map_or(1, |n| n.get());
    let waiting = Arc::new(Semaphore::new(UDP_WAITING_MAX));
    for _ in 0..loops {
        tasks.spawn(serve_udp(handler.clone(), udp.clone(), waiting.clone()));
    }
    tasks.spawn(serve_tcp(handler, tcp, limits));
    tasks
}

async fn serve_udp(handler: Arc<dyn Handler>, socket: Arc<UdpSocket>, waiting: Arc<Semaphore>) {
    let Ok(local) = socket.local_addr() else {
        return;
    };
    let mut buf = vec![0u8; 4096];
    loop {
        let (n, peer) = match socket.recv_from(&mut buf).await {
            Ok(x) => x,
            // ICMP errors from earlier sends surface here on some systems; keep serving.
            Err(_) => continue,
        };
        if !handler.may_wait() {
            let handled = answer(handler.as_ref(), &buf[..n], peer, Transport::Udp).await;
            if let Some(reply) = &handled.reply {
                let _ = socket.send_to(reply, peer).await;
            }
            log_query(peer, local, Transport::Udp, &handled);
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
            let handled = answer(handler.as_ref(), &query, peer, Transport::Udp).await;
            if let Some(reply) = &handled.reply {
                let _ = socket.send_to(reply, peer).await;
            }
            log_query(peer, local, Transport::Udp, &handled);
        });
    }
}

/// One open TCP connection, as the accept loop sees it.
struct Conn {
    peer: IpAddr,
    /// Milliseconds since the listener started when the connection last finished a query
    /// (or opened).
    idle_since: AtomicU64,
    /// Answering a query now: not to be closed for being idle.
    busy: AtomicBool,
    close: Notify,
}

/// The open connections, for the per-client bound and for closing the longest idle.
#[derive(Default)]
struct Conns {
    open: HashMap<u64, Arc<Conn>>,
    per_client: HashMap<IpAddr, usize>,
}

impl Conns {
    fn remove(&mut self, id: u64) {
        if let Some(conn) = self.open.remove(&id)
            && let Some(n) = self.per_client.get_mut(&conn.peer)
        {
            *n -= 1;
            if *n == 0 {
                self.per_client.remove(&conn.peer);
            }
        }
    }

    /// The connection idle the longest, if any is idle.
    fn longest_idle(&self) -> Option<&Arc<Conn>> {
        self.open
            .values()
            .filter(|c| !c.busy.load(Ordering::Relaxed))
            .min_by_key(|c| c.idle_since.load(Ordering::Relaxed))
    }
}

/// Why a new connection is not served.
#[derive(Debug, PartialEq, Eq)]
enum Admit {
    Yes,
    /// Its client has `per_client` connections open already.
    ClientFull,
    /// All connections are taken and none is idle.
    Full,
}

/// Takes a new connection into `conns` under `limits`, closing the longest idle one when
/// every slot is taken.
fn admit(conns: &mut Conns, limits: &TcpLimits, id: u64, conn: &Arc<Conn>) -> Admit {
    if conns.per_client.get(&conn.peer).copied().unwrap_or(0) >= limits.per_client.max(1) {
        return Admit::ClientFull;
    }
    if conns.open.len() >= limits.connections.max(1) {
        match conns.longest_idle() {
            Some(idle) => {
                // notify_one keeps the permit if the connection is not waiting right now.
                idle.close.notify_one();
                let idle_id = conns
                    .open
                    .iter()
                    .find(|(_, c)| Arc::ptr_eq(c, idle))
                    .map(|(id, _)| *id);
                if let Some(idle_id) = idle_id {
                    conns.remove(idle_id);
                }
            }
            None => return Admit::Full,
        }
    }
    *conns.per_client.entry(conn.peer).or_default() += 1;
    conns.open.insert(id, conn.clone());
    Admit::Yes
}

async fn serve_tcp(handler: Arc<dyn Handler>, listener: TcpListener, limits: TcpLimits) {
    let Ok(local) = listener.local_addr() else {
        return;
    };
    let conns = Arc::new(Mutex::new(Conns::default()));
    let started = Instant::now();
    let mut next_id = 0u64;
    let mut failing = false;
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => {
                failing = false;
                x
            }
            Err(e) => {
                // EMFILE, ENFILE, ENOBUFS: the error repeats until something closes. Said once
                // per run of failures, then a rest, so the loop does not spin.
                if !failing {
                    tracing::warn!(target: "mxlab::dns", server = %local, "DNS over TCP cannot accept: {e}; retrying every {} ms", ACCEPT_BACKOFF.as_millis());
                    failing = true;
                }
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        next_id += 1;
        let id = next_id;
        let conn = Arc::new(Conn {
            peer: peer.ip(),
            idle_since: AtomicU64::new(millis_since(started)),
            busy: AtomicBool::new(false),
            close: Notify::new(),
        });
        let admitted = admit(&mut conns.lock().expect("conns"), &limits, id, &conn);
        if admitted != Admit::Yes {
            drop(stream);
            tracing::info!(
                target: "mxlab::dns",
                client = %peer,
                server = %local,
                name = "-",
                qtype = "-",
                outcome = "refused",
                fault = "-",
                transport = "tcp",
                reason = if admitted == Admit::ClientFull { "per-client connections" } else { "connections" },
            );
            continue;
        }
        let (handler, conns) = (handler.clone(), conns.clone());
        tokio::spawn(async move {
            let served = connection(
                handler.as_ref(),
                stream,
                peer,
                local,
                &conn,
                started,
                limits.lifetime,
            );
            if let Err(panic) = CatchUnwind(Box::pin(served)).await {
                tracing::error!(target: "mxlab::dns", client = %peer, "panic in a DNS over TCP connection (closed): {panic}");
            }
            conns.lock().expect("conns").remove(id);
        });
    }
}

fn millis_since(start: Instant) -> u64 {
    u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Serves one TCP connection until the client closes it, stays idle or stalls too long, its
/// lifetime ends, or the accept loop closes it to make room.
async fn connection(
    handler: &dyn Handler,
    mut stream: TcpStream,
    peer: SocketAddr,
    local: SocketAddr,
    conn: &Conn,
    started: Instant,
    lifetime: Duration,
) {
    let _ = stream.set_nodelay(true);
    let serve = async {
        loop {
            let mut len = [0u8; 2];
            match tokio::time::timeout(TCP_IDLE, stream.read_exact(&mut len)).await {
                Ok(Ok(_)) => {}
                _ => return,
            }
            conn.busy.store(true, Ordering::Relaxed);
            let mut query = vec![0u8; usize::from(u16::from_be_bytes(len))];
            match tokio::time::timeout(TCP_IO, stream.read_exact(&mut query)).await {
                Ok(Ok(_)) => {}
                _ => return,
            }
            let handled = answer(handler, &query, peer, Transport::Tcp).await;
            log_query(peer, local, Transport::Tcp, &handled);
            match (&handled.reply, &handled.asked) {
                (Some(reply), _) => {
                    match tokio::time::timeout(TCP_IO, write_tcp_dns(&mut stream, reply)).await {
                        Ok(Ok(())) => {}
                        _ => return,
                    }
                }
                // A dropped query over TCP: keep the connection, answer nothing.
                (None, Some(_)) => {}
                // Neither answered nor read (a response, or too short for an id): the client
                // does not speak DNS queries, and waiting on it only holds a slot.
                (None, None) => return,
            }
            conn.idle_since
                .store(millis_since(started), Ordering::Relaxed);
            conn.busy.store(false, Ordering::Relaxed);
        }
    };
    tokio::select! {
        () = serve => {}
        () = conn.close.notified() => {}
        () = tokio::time::sleep(lifetime) => {}
    }
}
