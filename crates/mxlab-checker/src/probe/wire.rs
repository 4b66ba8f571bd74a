//! The probe's side of an SMTP conversation: commands out, replies in, each reply read with
//! the one wire parser ([`mxlab_vocab::ReplyParser`]) so that what the server said is kept
//! exactly (a `4.7.500` stays `4.7.500`).

use std::io;
use std::time::Duration;

use mxlab_net::{BoxStream, Clock};
use mxlab_vocab::{Reply, ReplyParser};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// What a reply read can end in besides a reply.
#[derive(Debug)]
pub enum ReadError {
    Timeout,
    /// Closed, reset, or something that is not an SMTP reply.
    Closed,
}

/// Bytes read but not yet consumed are bounded: a server that never ends a line gets cut off.
const MAX_PENDING: usize = 64 * 1024;

pub struct Conn {
    pub stream: BoxStream,
    pending: Vec<u8>,
}

impl Conn {
    pub fn new(stream: BoxStream) -> Self {
        Conn {
            stream,
            pending: Vec::new(),
        }
    }

    async fn read_line(&mut self) -> io::Result<String> {
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=end).collect();
                return Ok(String::from_utf8_lossy(&line).into_owned());
            }
            if self.pending.len() > MAX_PENDING {
                return Err(io::Error::other("reply line too long"));
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            self.pending.extend_from_slice(&chunk[..n]);
        }
    }

    async fn read_reply_now(&mut self) -> Result<Reply, ReadError> {
        let mut parser = ReplyParser::default();
        loop {
            let line = self.read_line().await.map_err(|_| ReadError::Closed)?;
            match parser.line(&line) {
                Ok(Some(reply)) => return Ok(reply),
                Ok(None) => continue,
                Err(_) => return Err(ReadError::Closed),
            }
        }
    }

    /// The next reply, within `limit` of story time.
    pub async fn read_reply(&mut self, clock: &Clock, limit: Duration) -> Result<Reply, ReadError> {
        clock
            .timeout(limit, self.read_reply_now())
            .await
            .unwrap_or(Err(ReadError::Timeout))
    }

    /// Sends `bytes` and reads the reply, all within `limit`.
    pub async fn exchange(
        &mut self,
        clock: &Clock,
        limit: Duration,
        bytes: &[u8],
    ) -> Result<Reply, ReadError> {
        let sent = clock
            .timeout(limit, async {
                self.stream.write_all(bytes).await?;
                self.stream.flush().await
            })
            .await;
        match sent {
            None => return Err(ReadError::Timeout),
            Some(Err(_)) => return Err(ReadError::Closed),
            Some(Ok(())) => {}
        }
        self.read_reply(clock, limit).await
    }
}
