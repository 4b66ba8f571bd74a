//! One file, one or more messages: an mbox (messages each opened by a `From ` line, bodies
//! with `>From ` quoting) or a single message. Each message is kept up to the reader's limit;
//! the rest of an oversized one is skipped, not held.

use super::LIMIT;

/// The messages in a file's bytes, in order. A file that does not start with `From ` is one
/// message.
pub fn split(raw: &[u8]) -> Vec<Vec<u8>> {
    if !raw.starts_with(b"From ") {
        return vec![raw[..raw.len().min(LIMIT + 1)].to_vec()];
    }
    let mut out: Vec<Vec<u8>> = Vec::new();
    let mut previous_blank = true;
    for line in raw.split_inclusive(|&b| b == b'\n') {
        if previous_blank && line.starts_with(b"From ") {
            out.push(Vec::new());
            previous_blank = false;
            continue;
        }
        previous_blank = line == b"\n" || line == b"\r\n";
        let Some(message) = out.last_mut() else {
            continue;
        };
        // One octet past the limit tells the reader the message was cut.
        if message.len() > LIMIT {
            continue;
        }
        let unquoted = match line.iter().position(|&b| b != b'>') {
            Some(n) if n > 0 && line[n..].starts_with(b"From ") => &line[1..],
            _ => line,
        };
        message.extend_from_slice(unquoted);
    }
    out
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

    #[test]
    fn a_single_message_is_one() {
        assert_eq!(split(b"Subject: x\n\ny\n").len(), 1);
    }

    proptest! {
        #[test]
        fn never_more_octets_than_given(raw in proptest::collection::vec(any::<u8>(), 0..400)) {
            let total: usize = split(&raw).iter().map(Vec::len).sum();
            prop_assert!(total <= raw.len());
        }
    }
}
