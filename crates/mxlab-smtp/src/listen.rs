//! The TCP listener for `serve`: one task per connection, each a [`session::run`].

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::behaviour::Act;
use crate::host::FakeSmtpHost;
use crate::session;

/// Concurrent sessions per host; further connections wait in the kernel's backlog.
pub const MAX_SESSIONS: usize = 1024;

pub async fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    TcpListener::bind(addr).await
}

/// Serves `host` on `listener` until the task is dropped.
pub async fn serve(host: Arc<FakeSmtpHost>, listener: TcpListener) {
    let slots = Arc::new(Semaphore::new(MAX_SESSIONS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let Ok((stream, peer)) = listener.accept().await else {
            continue;
        };
        let host = host.clone();
        tokio::spawn(async move {
            let _permit = permit;
            connection(&host, stream, peer).await;
        });
    }
}

async fn connection(host: &FakeSmtpHost, mut stream: TcpStream, peer: SocketAddr) {
    let (attempt, step) = host.connect(peer.ip());
    if !step.delay.is_zero() {
        host.clock.sleep(step.delay).await;
    }
    match step.act {
        // The kernel has already completed the handshake, so "refused" is the next best
        // thing: an immediate reset.
        Act::Refuse => {
            let _ = stream.set_zero_linger();
        }
        // An unanswered SYN cannot be staged on a listening socket: hold the connection
        // silently instead, which a client sees as a banner timeout.
        Act::Drop | Act::Stall => {
            let mut sink = [0u8; 1024];
            // Held until the client gives up, or for the idle limit on the story clock.
            while let Some(Ok(n)) = host
                .clock
                .timeout(host.limits.idle, stream.read(&mut sink))
                .await
            {
                if n == 0 {
                    break;
                }
            }
        }
        Act::Close | Act::CloseAfter(_) => {}
        Act::Accept | Act::Reply(_) | Act::Throttle(_) => {
            // The session ends itself: on QUIT, on a hang-up, or after the idle limit.
            session::run(host, stream, peer.ip(), attempt).await;
        }
    }
}
