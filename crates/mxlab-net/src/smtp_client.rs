//! The client end of an SMTP session over any byte stream — the sending server's and the
//! checker's probe alike: command lines out, replies in.
//! Every reply is read line by line with [`ReplyParser`], the one wire parser, so what the
//! remote host said — its enhanced status code with a three-digit detail too — reaches the
//! notices and the tracking log exactly as it was sent. Timeouts are on the story clock.

use std::time::Duration;

use crate::{BoxStream, Clock};
use mxlab_vocab::{Reply, ReplyParser};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Why a session broke off without a reply, in the words of Exchange's
/// `421 4.4.2 Connection dropped due to …`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Broken {
    /// No whole reply within the time allowed.
    TimedOut,
    /// The connection failed or closed, or what came back was not an SMTP reply.
    SocketError,
}

impl Broken {
    pub fn as_str(self) -> &'static str {
        match self {
            Broken::TimedOut => "TimedOut",
            Broken::SocketError => "SocketError",
        }
    }
}

/// Octets kept while waiting for the end of a line; the parser refuses long lines anyway, this
/// bounds the memory a server that never ends its line can take.
const MAX_PENDING: usize = 4096;

pub struct Client {
    /// Public so that STARTTLS can swap the plain stream for a TLS one.
    pub stream: BoxStream,
    /// Received and not yet read.
    buf: Vec<u8>,
}

impl Client {
    pub fn new(stream: BoxStream) -> Self {
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    /// Reads one whole reply, however long it takes.
    pub async fn read(&mut self) -> Result<Reply, Broken> {
        let mut parser = ReplyParser::default();
        loop {
            while let Some(end) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=end).collect();
                match parser.line(&String::from_utf8_lossy(&line)) {
                    Ok(Some(reply)) => return Ok(reply),
                    Ok(None) => {}
                    Err(_) => return Err(Broken::SocketError),
                }
            }
            if self.buf.len() > MAX_PENDING {
                return Err(Broken::SocketError);
            }
            let mut chunk = [0u8; 1024];
            match self.stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return Err(Broken::SocketError),
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Reads one reply within `limit` of story time.
    pub async fn read_within(&mut self, clock: &Clock, limit: Duration) -> Result<Reply, Broken> {
        clock
            .timeout(limit, self.read())
            .await
            .unwrap_or(Err(Broken::TimedOut))
    }

    /// Sends `line` (the CRLF is added) and reads the reply, both within `limit`.
    pub async fn command(
        &mut self,
        clock: &Clock,
        limit: Duration,
        line: &str,
    ) -> Result<Reply, Broken> {
        clock
            .timeout(limit, async {
                self.write(format!("{line}\r\n").as_bytes()).await?;
                self.flush().await?;
                self.read().await
            })
            .await
            .unwrap_or(Err(Broken::TimedOut))
    }

    /// Sends the message after a 354 and reads the reply to it, within `limit`.
    pub async fn message(
        &mut self,
        clock: &Clock,
        limit: Duration,
        message: &[u8],
    ) -> Result<Reply, Broken> {
        clock
            .timeout(limit, async {
                self.write_message(message).await?;
                self.read().await
            })
            .await
            .unwrap_or(Err(Broken::TimedOut))
    }

    /// Forgets whatever the server sent ahead of time: nothing sent before the TLS handshake
    /// counts after it (RFC 3207 §4.2).
    pub fn discard_buffered(&mut self) {
        self.buf.clear();
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), Broken> {
        self.stream
            .write_all(bytes)
            .await
            .map_err(|_| Broken::SocketError)
    }

    async fn flush(&mut self) -> Result<(), Broken> {
        self.stream.flush().await.map_err(|_| Broken::SocketError)
    }

    /// The message with a dot doubled at the start of each line (RFC 5321 §4.5.2), then the
    /// final dot. A dot after a lone CR or LF is doubled too, as a receiver may read either as
    /// a line end.
    async fn write_message(&mut self, message: &[u8]) -> Result<(), Broken> {
        let mut after_line_end = false;
        let mut last = 0;
        for (pos, &byte) in message.iter().enumerate() {
            if byte == b'.' && after_line_end {
                self.write(&message[last..pos]).await?;
                self.write(b".").await?;
                last = pos;
                after_line_end = false;
            } else {
                after_line_end = byte == b'\n' || byte == b'\r';
            }
        }
        self.write(&message[last..]).await?;
        self.write(b"\r\n.\r\n").await?;
        self.flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mxlab_vocab::EnhancedStatus;
    use time::macros::datetime;
    use tokio::io::{AsyncBufReadExt, BufReader};

    fn clock() -> Clock {
        Clock::starting_now(datetime!(2024-05-08 20:40 +1), 1.0)
    }

    #[tokio::test(start_paused = true)]
    async fn replies_keep_their_enhanced_status_exactly() {
        let (ours, mut theirs) = tokio::io::duplex(4096);
        let mut client = Client::new(Box::new(ours));
        theirs
            .write_all(b"451-4.7.500 Access denied,\r\n451 4.7.500 please try again later\r\n250 2.1.5 OK\r\n")
            .await
            .unwrap();
        let first = client.read().await.unwrap();
        assert_eq!(first.code, 451);
        assert_eq!(first.status, Some(EnhancedStatus::new(4, 7, 500)));
        assert_eq!(
            first.one_line(),
            "451 4.7.500 Access denied, please try again later"
        );
        // What came in behind the first reply is the next one.
        let second = client.read().await.unwrap();
        assert_eq!(second.one_line(), "250 2.1.5 OK");
    }

    #[tokio::test(start_paused = true)]
    async fn silence_times_out_on_the_story_clock_and_junk_is_a_socket_error() {
        let clock = clock();
        let (ours, mut theirs) = tokio::io::duplex(4096);
        let mut client = Client::new(Box::new(ours));
        let limit = Duration::from_secs(300);
        assert_eq!(
            client.read_within(&clock, limit).await,
            Err(Broken::TimedOut)
        );
        assert_eq!(clock.elapsed(), limit);
        theirs.write_all(b"hello there\r\n").await.unwrap();
        assert_eq!(client.read().await, Err(Broken::SocketError));
        drop(theirs);
        assert_eq!(client.read().await, Err(Broken::SocketError));
    }

    #[tokio::test(start_paused = true)]
    async fn messages_are_dot_stuffed_and_ended() {
        let clock = clock();
        let (ours, theirs) = tokio::io::duplex(4096);
        let mut client = Client::new(Box::new(ours));
        let server = tokio::spawn(async move {
            let mut theirs = BufReader::new(theirs);
            let mut received = Vec::new();
            loop {
                let mut line = String::new();
                theirs.read_line(&mut line).await.unwrap();
                received.push(line.clone());
                if line == ".\r\n" {
                    break;
                }
            }
            theirs
                .get_mut()
                .write_all(b"250 2.6.0 Queued\r\n")
                .await
                .unwrap();
            received.concat()
        });
        let reply = client
            .message(
                &clock,
                Duration::from_secs(600),
                b"Subject: x\r\n\r\n.hidden\r\nend",
            )
            .await
            .unwrap();
        assert_eq!(reply.code, 250);
        assert_eq!(
            server.await.unwrap(),
            "Subject: x\r\n\r\n..hidden\r\nend\r\n.\r\n"
        );
    }
}
