//! Real sockets for `serve`: UDP and TCP on the same address, each query handed to
//! [`FakeDns::handle`]. Malformed traffic is answered (FORMERR) or ignored; it never stops the
//! listener.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mxlab_net::network::{read_tcp_dns, write_tcp_dns};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::server::{FakeDns, Transport};

/// A TCP client that sends nothing for this long is disconnected (RFC 7766 suggests seconds).
const TCP_IDLE: Duration = Duration::from_secs(10);
/// Concurrent TCP connections; more wait for a slot, so memory stays bounded.
const TCP_MAX: usize = 256;

/// Binds UDP and TCP on `addr` (port 0 picks one: both get the same port) and serves until
/// the returned set is dropped or aborted.
pub async fn listen(dns: Arc<FakeDns>, addr: SocketAddr) -> io::Result<(SocketAddr, JoinSet<()>)> {
    let udp = UdpSocket::bind(addr).await?;
    let bound = udp.local_addr()?;
    let tcp = TcpListener::bind(bound).await?;
    let mut tasks = JoinSet::new();
    tasks.spawn(serve_udp(dns.clone(), Arc::new(udp)));
    tasks.spawn(serve_tcp(dns, tcp));
    Ok((bound, tasks))
}

async fn serve_udp(dns: Arc<FakeDns>, socket: Arc<UdpSocket>) {
    let mut buf = vec![0u8; 4096];
    loop {
        let (n, peer) = match socket.recv_from(&mut buf).await {
            Ok(x) => x,
            // ICMP errors from earlier sends surface here on some systems; keep serving.
            Err(_) => continue,
        };
        let query = buf[..n].to_vec();
        let (dns, socket) = (dns.clone(), socket.clone());
        // Each query on its own task, so a delayed answer does not hold up the rest.
        tokio::spawn(async move {
            if let Some(reply) = dns.handle(&query, peer, Transport::Udp).await {
                let _ = socket.send_to(&reply, peer).await;
            }
        });
    }
}

async fn serve_tcp(dns: Arc<FakeDns>, listener: TcpListener) {
    let slots = Arc::new(Semaphore::new(TCP_MAX));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let Ok((mut stream, peer)) = listener.accept().await else {
            continue;
        };
        let dns = dns.clone();
        tokio::spawn(async move {
            let _permit = permit;
            loop {
                let query = match tokio::time::timeout(TCP_IDLE, read_tcp_dns(&mut stream)).await {
                    Ok(Ok(q)) => q,
                    _ => return,
                };
                match dns.handle(&query, peer, Transport::Tcp).await {
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
