//! The TCP listener for `serve`: one task per connection, each a session driven by
//! [`session::run_with`]. Admission is bounded per host and per client address; a client
//! past either bound is told `421` and the connection closed, so a flood from one address
//! never locks out the others.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use mxlab_vocab::{EnhancedStatus, Reply};
use socket2::{SockRef, TcpKeepalive};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use crate::behaviour::Act;
use crate::host::FakeSmtpHost;
use crate::session::{self, Hold};

/// After an accept error such as EMFILE, wait this long before accepting again: the error
/// repeats at once until a descriptor is freed, and retrying at once spins a core.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

pub async fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// The address taken but never listened on: a host that refuses every connection. The kernel
/// answers each SYN with a reset, so a client's connect fails with ECONNREFUSED ("Connection
/// refused"), as against a real host whose port is closed; holding the socket keeps the
/// address:port from anyone else and gives port 0 its number. Without `SO_REUSEADDR`, so no
/// other socket can take the port while it is held.
pub fn reserve(addr: SocketAddr) -> io::Result<TcpSocket> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.bind(addr)?;
    Ok(socket)
}

/// Serves `host` on `listener` until the task is dropped.
pub async fn serve(host: Arc<FakeSmtpHost>, listener: TcpListener) {
    let warned = AtomicBool::new(false);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                if !warned.swap(true, Ordering::Relaxed) {
                    tracing::warn!(host = %host.name, "cannot accept connections: {e}; backing off");
                }
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let host = host.clone();
        // A panic in one session ends that task only; the loop goes on (tokio contains it
        // and the panic hook reports it).
        tokio::spawn(async move {
            let Some(admission) = host.admit(peer.ip()) else {
                turn_away(&host, stream, peer).await;
                return;
            };
            connection(&host, stream, peer).await;
            drop(admission);
        });
    }
}

/// RFC 5321 §3.1: a server that will not serve says `421` in place of its greeting.
async fn turn_away(host: &FakeSmtpHost, mut stream: TcpStream, peer: SocketAddr) {
    tracing::info!(target: "mxlab::smtp", client = %peer, host = %host.name, "too many connections");
    let busy = Reply::new(
        421,
        Some(EnhancedStatus::new(4, 7, 0)),
        &format!("{} Too many connections, try again later", host.name),
    );
    let wire = busy.to_wire();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.write_all(wire.as_bytes())).await;
}

async fn connection(host: &FakeSmtpHost, mut stream: TcpStream, peer: SocketAddr) {
    let (attempt, step) = host.connect(peer.ip());
    if !step.delay.is_zero() {
        host.clock.sleep(step.delay).await;
    }
    match step.act {
        // A host that refuses every connection has no listener (`reserve`): this is a refusal
        // that depends on the attempt number, so the listener has to be there to count. The
        // kernel has already completed the handshake, so "refused" is the next best thing: an
        // immediate reset (a client sees "Connection reset by peer", or a connection lost
        // before the greeting).
        Act::Refuse => {
            let _ = stream.set_zero_linger();
        }
        // An unanswered SYN cannot be staged on a listening socket (`serve --drop-syn` has a
        // packet filter drop them for a host that drops every connection): hold the connection
        // silently instead, which a client sees as a greeting timeout. No idle 421 here — the
        // client's own timeout must decide, at any time scale — only the real-time cap.
        // (`stall` is not allowed at connect: the loader asks for `drop`.)
        Act::Drop | Act::Stall => {
            let mut sink = [0u8; 1024];
            let hold = async {
                while let Ok(n) = stream.read(&mut sink).await {
                    if n == 0 {
                        break;
                    }
                }
            };
            let _ = tokio::time::timeout(host.limits.hold, hold).await;
        }
        Act::Close | Act::CloseAfter(_) => {}
        Act::Accept | Act::Reply(_) | Act::Throttle(_) => {
            // Replies go out in one write per group; Nagle would hold the next group back
            // until the client's delayed ACK (about 40 ms per pipelined group).
            let _ = stream.set_nodelay(true);
            let hold = hold_for(host, &stream);
            // The session ends itself: on QUIT, on a hang-up, or after the idle limit.
            session::run_with(host, Box::new(stream), peer.ip(), attempt, Some(hold)).await;
        }
    }
}

/// How a stalled session learns that its client has gone entirely: TCP keepalive probes
/// answered with a reset once the client's socket is gone, seen on a second descriptor for
/// the same connection. Not at once: a client that half-closed and then closed leaves its
/// socket in FIN_WAIT_2, which acknowledges probes until its kernel lets it go (60 s on
/// Linux), so the hold ends about a minute after the client closed. Set up at the first
/// question only, as few sessions ever stall.
fn hold_for(host: &FakeSmtpHost, stream: &TcpStream) -> Hold {
    use std::os::fd::{AsRawFd, BorrowedFd};
    let fd = stream.as_raw_fd();
    let mut probe: Option<socket2::Socket> = None;
    let gone = move || {
        if probe.is_none() {
            // SAFETY: the session owns the stream, and with it this descriptor, for as long
            // as it can ask this question (a Hold lives inside the session that owns it).
            let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
            let keepalive = TcpKeepalive::new()
                .with_time(Duration::from_secs(5))
                .with_interval(Duration::from_secs(5));
            let socket = SockRef::from(&borrowed);
            if socket.set_tcp_keepalive(&keepalive).is_err() {
                return false;
            }
            probe = socket.try_clone().ok();
        }
        let Some(probe) = &probe else { return false };
        let mut byte = [std::mem::MaybeUninit::new(0u8)];
        // Non-blocking, as the listener's socket is: Ok(0) is only the client's FIN;
        // WouldBlock, a client still there; an error, a client gone.
        matches!(probe.take_error(), Ok(Some(_)))
            || matches!(probe.peek(&mut byte), Err(e) if e.kind() != io::ErrorKind::WouldBlock)
    };
    Hold {
        gone: Box::new(gone),
        cap: host.limits.hold,
    }
}
