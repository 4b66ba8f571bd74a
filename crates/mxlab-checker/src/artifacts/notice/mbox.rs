//! One file, one or more messages: an mbox (messages each opened by a `From ` line, bodies
//! with `>From ` quoting) or a single message. Read as a stream: each message is kept up to
//! the reader's limit (one octet more tells the reader it was cut) and the rest of an
//! oversized one is skipped, not held, so a file of any size is read in bounded memory.

use std::io::{self, BufRead};

use super::LIMIT;

/// The messages of a stream, in order. A stream that does not start with `From ` is one
/// message.
pub struct Messages<R> {
    reader: R,
    /// Whether the stream is an mbox; decided at the first line.
    mbox: Option<bool>,
    /// The `From ` line that opened the next message, already read.
    pending: bool,
    done: bool,
}

impl<R: BufRead> Messages<R> {
    pub fn new(reader: R) -> Self {
        Messages {
            reader,
            mbox: None,
            pending: false,
            done: false,
        }
    }

    /// One line into `line`, at most `room` octets of it kept; the rest is read and dropped.
    /// Returns the octets the line had in all (0 at the end).
    fn line(&mut self, line: &mut Vec<u8>, room: usize) -> io::Result<usize> {
        let mut total = 0;
        loop {
            let buf = self.reader.fill_buf()?;
            if buf.is_empty() {
                return Ok(total);
            }
            let (take, end) = match buf.iter().position(|&b| b == b'\n') {
                Some(at) => (at + 1, true),
                None => (buf.len(), false),
            };
            let keep = take.min(room.saturating_sub(line.len()));
            line.extend_from_slice(&buf[..keep]);
            self.reader.consume(take);
            total += take;
            if end {
                return Ok(total);
            }
        }
    }
}

impl<R: BufRead> Iterator for Messages<R> {
    type Item = io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<io::Result<Vec<u8>>> {
        if self.done {
            return None;
        }
        let mut message: Vec<u8> = Vec::new();
        let mut previous_blank = self.pending;
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = match self.line(&mut line, LIMIT + 1) {
                Ok(n) => n,
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            };
            if n == 0 {
                self.done = true;
                let empty = message.is_empty() && self.mbox == Some(true) && !self.pending;
                self.pending = false;
                return (!empty || self.mbox.is_none()).then_some(Ok(message));
            }
            let opens = line.starts_with(b"From ");
            match self.mbox {
                None => {
                    self.mbox = Some(opens);
                    if opens {
                        previous_blank = false;
                        continue;
                    }
                }
                Some(true) if opens && (previous_blank || is_postmark(&line)) => {
                    if self.pending || !message.is_empty() {
                        self.pending = true;
                        return Some(Ok(message));
                    }
                    continue;
                }
                _ => {}
            }
            self.pending = false;
            previous_blank = line == b"\n" || line == b"\r\n";
            if message.len() > LIMIT {
                continue;
            }
            let unquoted = match line.iter().position(|&b| b != b'>') {
                Some(k) if k > 0 && self.mbox == Some(true) && line[k..].starts_with(b"From ") => {
                    &line[1..]
                }
                _ => &line[..],
            };
            let room = (LIMIT + 1).saturating_sub(message.len());
            message.extend_from_slice(&unquoted[..unquoted.len().min(room)]);
        }
    }
}

/// A `From ` line that is an mbox separator by its own shape (`From sender Thu Jul  2
/// 12:05:05 2020`: a time and a year after the sender), for files whose writer did not leave
/// a blank line before it. A body's own `From ` line is quoted (`>From `) by mbox writers, and
/// prose rarely ends in a clock time and a year.
fn is_postmark(line: &[u8]) -> bool {
    let text = String::from_utf8_lossy(line);
    let words: Vec<&str> = text.split_whitespace().take(9).collect();
    let clock = |w: &str| {
        let parts: Vec<&str> = w.split(':').collect();
        (2..=3).contains(&parts.len())
            && parts
                .iter()
                .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
    };
    let year = |w: &str| w.len() == 4 && w.bytes().all(|b| b.is_ascii_digit());
    (6..=8).contains(&words.len())
        && words.iter().skip(2).any(|w| clock(w))
        && words.last().is_some_and(|w| year(w))
}

/// The messages in a file's bytes.
pub fn split(raw: &[u8]) -> Vec<Vec<u8>> {
    Messages::new(raw).filter_map(Result::ok).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn two_messages_and_their_quoting() {
        let mbox = b"From MAILER-DAEMON Wed May  8 20:40:00 2024\nSubject: one\n\n>From here\n\nFrom MAILER-DAEMON Thu May  9 20:40:00 2024\nSubject: two\n\nbody\n";
        let m = split(mbox);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0], b"Subject: one\n\nFrom here\n\n");
        assert_eq!(m[1], b"Subject: two\n\nbody\n");
    }

    /// Some writers put the next message's `From ` line right after the last one's final
    /// boundary: its shape alone opens a message there.
    #[test]
    fn a_postmark_opens_a_message_without_a_blank_line_before_it() {
        let mbox = b"From MAILER-DAEMON Wed May  8 20:40:00 2024\nSubject: one\n\n--b--\nFrom postmaster@mx.example.net  Thu May  9 20:40:00 2024\nSubject: two\n\nbody\nFrom the desk of Bob, May 2024\n";
        let m = split(mbox);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0], b"Subject: one\n\n--b--\n");
        assert_eq!(
            m[1],
            b"Subject: two\n\nbody\nFrom the desk of Bob, May 2024\n"
        );
    }

    #[test]
    fn a_single_message_is_one_and_keeps_its_from_lines() {
        let m = split(b"Subject: x\n\ny\n\nFrom here on\n");
        assert_eq!(m, [b"Subject: x\n\ny\n\nFrom here on\n".to_vec()]);
    }

    #[test]
    fn an_oversized_message_is_cut_one_octet_past_the_limit() {
        let mut big = b"Subject: x\n\n".to_vec();
        big.extend(std::iter::repeat_n(b'a', LIMIT * 2));
        let m = split(&big);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].len(), LIMIT + 1);
    }

    proptest! {
        #[test]
        fn never_more_octets_than_given(raw in proptest::collection::vec(any::<u8>(), 0..400)) {
            let total: usize = split(&raw).iter().map(Vec::len).sum();
            prop_assert!(total <= raw.len());
        }
    }
}
