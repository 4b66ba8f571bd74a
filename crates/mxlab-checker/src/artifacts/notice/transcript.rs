//! A session transcript written into a notice: Sendmail's "Transcript of session follows",
//! where `>>> RCPT To:<bob@example.net>` is what the sender said and `<<< 550 5.1.1 …` what
//! the remote answered. It tells which command a reply answered when no words say so —
//! a recipient refused only at `DATA` was accepted at `RCPT` and refused for its content.

/// The most exchanges read from one notice.
const MAX_EXCHANGES: usize = 256;

/// One command and the first reply line written after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// The command's verb, upper case: `RCPT`, `DATA`, `MAIL`, `EHLO`; `.` for the end of
    /// the message.
    pub command: String,
    pub reply: String,
}

/// Every `>>>` command with the `<<<` reply that follows it, in order. A sender that
/// pipelines (RFC 2920) writes `>>> DATA` once and then reads the replies to the RCPT
/// commands sent with it before DATA's own: of several replies after one command, only the
/// last answers it, and those before it, after `DATA`, answer recipients.
pub fn read(text: &str) -> Vec<Exchange> {
    let mut out = Vec::new();
    let mut command: Option<String> = None;
    let mut replies: Vec<String> = Vec::new();
    let mut open = false;
    for line in text.lines() {
        let t = line.trim();
        if let Some(sent) = t.strip_prefix(">>>") {
            settle(command.take(), &mut replies, &mut out);
            command = sent.split_whitespace().next().map(str::to_ascii_uppercase);
            open = false;
        } else if let Some(got) = t.strip_prefix("<<<") {
            let got = got.trim();
            // `503-All RCPT commands …` continues until the line with a space after its code.
            let continued = got.as_bytes().get(3) == Some(&b'-');
            match replies.last_mut() {
                Some(last) if open => {
                    last.push(' ');
                    last.push_str(got.get(4..).unwrap_or(""));
                }
                _ => replies.push(got.to_string()),
            }
            open = continued;
        }
        if out.len() >= MAX_EXCHANGES || replies.len() >= MAX_EXCHANGES {
            break;
        }
    }
    settle(command, &mut replies, &mut out);
    out.truncate(MAX_EXCHANGES);
    out
}

/// Gives the replies read after one command their commands: the last is the command's.
fn settle(command: Option<String>, replies: &mut Vec<String>, out: &mut Vec<Exchange>) {
    let Some(command) = command else {
        replies.clear();
        return;
    };
    let Some(own) = replies.pop() else {
        return;
    };
    if command == "DATA" {
        out.extend(replies.drain(..).map(|reply| Exchange {
            command: "RCPT".to_string(),
            reply,
        }));
    }
    replies.clear();
    out.push(Exchange {
        command,
        reply: own,
    });
}

/// The command a reply answered, when the transcript shows that reply.
pub fn answered<'a>(exchanges: &'a [Exchange], reply: &str) -> Option<&'a str> {
    let reply = reply.trim();
    if reply.is_empty() {
        return None;
    }
    exchanges
        .iter()
        .rev()
        .find(|e| !e.reply.is_empty() && (reply.contains(&e.reply) || e.reply.contains(reply)))
        .map(|e| e.command.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SESSION: &str = "   ----- Transcript of session follows -----\n\
        ... while talking to mx.example.org.:\n\
        >>> MAIL From:<ann@example.com> SIZE=1024\n\
        <<< 250 2.1.0 Sender ok\n\
        >>> RCPT To:<bob@example.org>\n\
        <<< 250 2.1.5 Recipient ok\n\
        >>> DATA\n\
        <<< 554 5.7.1 Message refused by the content filter\n\
        554 5.0.0 Service unavailable\n";

    #[test]
    fn each_reply_belongs_to_the_command_before_it() {
        let x = read(SESSION);
        assert_eq!(x.len(), 3);
        assert_eq!(x[1].command, "RCPT");
        assert_eq!(
            answered(&x, "554 5.7.1 Message refused by the content filter"),
            Some("DATA")
        );
        assert_eq!(answered(&x, "550 5.1.1 Unknown"), None);
        assert_eq!(answered(&x, ""), None);
    }

    #[test]
    fn pipelined_recipients_are_answered_before_data() {
        let x = read(
            ">>> DATA\n<<< 550 5.1.1 <bob@example.org>... User unknown\n\
             <<< 503-All RCPT commands were rejected\n<<< 503 Valid RCPT must precede DATA\n",
        );
        assert_eq!(
            answered(&x, "550 5.1.1 <bob@example.org>... User unknown"),
            Some("RCPT")
        );
        assert_eq!(x.last().map(|e| e.command.as_str()), Some("DATA"));
        assert_eq!(
            x.last().map(|e| e.reply.as_str()),
            Some("503-All RCPT commands were rejected Valid RCPT must precede DATA")
        );
    }

    #[test]
    fn a_reply_without_a_command_is_not_an_exchange() {
        assert!(read("<<< 421 closing\n>>> QUIT\n").is_empty());
    }
}
