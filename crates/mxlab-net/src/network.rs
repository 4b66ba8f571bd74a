//! The transport seam. Everything that sends a packet or opens a connection — the sending
//! MTA and the checker — goes through [`Network`]. A scenario run plugs in an in-memory world
//! (no kernel socket exists, so nothing can race the virtual clock); `serve`, `check` and the
//! interop tests plug in [`RealNetwork`].

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use async_trait::async_trait;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream, UdpSocket};

/// A byte stream to a remote SMTP server.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

pub type BoxStream = Box<dyn Stream>;

#[async_trait]
pub trait Network: Send + Sync {
    /// Sends a DNS message over UDP and returns the reply. May never return (a dropped
    /// query): callers bound it with a timeout.
    async fn dns_udp(&self, server: SocketAddr, query: Vec<u8>) -> io::Result<Vec<u8>>;

    /// The same over TCP (after a truncated UDP reply).
    async fn dns_tcp(&self, server: SocketAddr, query: Vec<u8>) -> io::Result<Vec<u8>>;

    /// Opens a connection from the sending address `from`. May never return (an unanswered
    /// SYN): callers bound it with a timeout.
    async fn connect(&self, from: IpAddr, to: SocketAddr) -> io::Result<BoxStream>;
}

/// Kernel sockets. Binds to `from` when it is an address of this machine, so a remote sees
/// the sending IP the scenario names.
#[derive(Debug, Default, Clone)]
pub struct RealNetwork {
    /// Largest DNS reply accepted over UDP.
    pub udp_payload: usize,
}

impl RealNetwork {
    pub fn new() -> Self {
        RealNetwork { udp_payload: 4096 }
    }
}

/// A DNS-over-TCP message is prefixed by its length (RFC 1035 §4.2.2).
pub async fn read_tcp_dns<R: AsyncRead + Unpin>(stream: &mut R) -> io::Result<Vec<u8>> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await?;
    let mut reply = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut reply).await?;
    Ok(reply)
}

pub async fn write_tcp_dns<W: AsyncWrite + Unpin>(
    stream: &mut W,
    message: &[u8],
) -> io::Result<()> {
    let len = u16::try_from(message.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "DNS message over 65535 bytes"))?;
    let mut framed = Vec::with_capacity(message.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(message);
    stream.write_all(&framed).await?;
    stream.flush().await
}

#[async_trait]
impl Network for RealNetwork {
    async fn dns_udp(&self, server: SocketAddr, query: Vec<u8>) -> io::Result<Vec<u8>> {
        let bind: SocketAddr = if server.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        }
        .parse()
        .unwrap();
        let socket = UdpSocket::bind(bind).await?;
        socket.connect(server).await?;
        socket.send(&query).await?;
        let mut buf = vec![0u8; self.udp_payload.max(512)];
        loop {
            let n = socket.recv(&mut buf).await?;
            // Only a reply to this query's id counts; anything else is stray.
            if n >= 2 && query.len() >= 2 && buf[..2] == query[..2] {
                buf.truncate(n);
                return Ok(buf);
            }
        }
    }

    async fn dns_tcp(&self, server: SocketAddr, query: Vec<u8>) -> io::Result<Vec<u8>> {
        let mut stream = TcpStream::connect(server).await?;
        write_tcp_dns(&mut stream, &query).await?;
        read_tcp_dns(&mut stream).await
    }

    async fn connect(&self, from: IpAddr, to: SocketAddr) -> io::Result<BoxStream> {
        let socket = if to.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        if from.is_ipv4() == to.is_ipv4() && !from.is_unspecified() {
            // Binding fails when `from` is not ours; then the kernel picks.
            let _ = socket.bind(SocketAddr::new(from, 0));
        }
        Ok(Box::new(socket.connect(to).await?))
    }
}

/// How long a real-time caller waits before calling a peer dead, for tools like `check`.
pub const DEFAULT_DNS_TIMEOUT: Duration = Duration::from_secs(5);
