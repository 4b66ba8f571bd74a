//! The core alone: no runtime, no stream — bytes in, outputs out.

use std::net::IpAddr;
use std::time::Duration;

use mxlab_net::Clock;
use proptest::prelude::*;

use super::*;
use crate::host::{FakeSmtpHost, Limits};

fn host(rules: &str, limits: Limits) -> FakeSmtpHost {
    let text = format!(
        "mxlab = 1\ntitle = \"t\"\nstart = \"2024-05-08T20:40:00+01:00\"\n\n[[smtp.hosts]]\nname = \"mx1.partner.test\"\naddress = \"127.0.0.10\"\n{rules}\n[sender]\nhostname = \"srv01\"\ndomain = \"mycompany.test\"\n\n[[sender.messages]]\nfrom = \"a@mycompany.test\"\nto = [\"b@partner.test\"]\nsubject = \"x\"\n\n[expect]\nverdict = \"ok.delivered\"\n"
    );
    let scenario = mxlab_scenario::load_str("t", "t.toml", &text).unwrap();
    let clock = Clock::starting_now(scenario.file.start.0, 1.0);
    FakeSmtpHost::new(
        &scenario.file.smtp.hosts[0],
        scenario.host_addresses[0],
        clock,
        limits,
    )
}

const CLIENT: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));

/// What a driver would see, written down: replies as their wire text, `>` before each read
/// (so a reply group is what lies between two of them), and the other outputs by name.
#[derive(Default)]
struct Seen {
    events: Vec<String>,
    stored: Vec<Captured>,
}

impl Seen {
    fn replies(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter(|e| e.as_bytes().first().is_some_and(u8::is_ascii_digit))
            .map(String::as_str)
            .collect()
    }

    fn last_reply(&self) -> &str {
        self.replies().last().copied().unwrap_or_default()
    }
}

/// Drives `core` over `chunks` as a driver would: each read takes the next chunk, and the
/// stream ends after the last. Lookups find nothing; stores succeed.
fn converse(core: &mut Core<'_>, chunks: &[&[u8]]) -> Seen {
    let mut seen = Seen::default();
    let mut chunks = chunks.iter();
    let mut queue_id = 0;
    // Bounded: every output is answered, and the input is finite.
    for _ in 0..1_000_000 {
        let Some(output) = core.poll() else { break };
        match output {
            Output::Reply { reply, .. } => seen.events.push(reply.to_wire()),
            Output::Note(..) => {}
            Output::Sleep(d) => seen.events.push(format!("sleep {}", d.as_secs())),
            Output::Read(mode) => {
                seen.events.push(match mode {
                    ReadMode::Within(_) => ">".into(),
                    ReadMode::Stalled => "> stalled".into(),
                });
                match chunks.next() {
                    Some(chunk) => core.received(chunk),
                    None => core.ended(),
                }
            }
            Output::Lookup(Lookup::Client) => core.client_answered(None, None),
            Output::Lookup(Lookup::Spf { .. }) => core.spf_answered(None),
            Output::Lookup(Lookup::Dmarc { .. }) => core.dmarc_answered(None),
            Output::Store(message) => {
                seen.events.push("store".into());
                seen.stored.push(message);
                queue_id += 1;
                core.stored(Ok(queue_id));
            }
            Output::StartTls => {
                seen.events.push("starttls".into());
                core.tls_finished(Err("no TLS here".into()));
            }
            Output::Hold => seen.events.push("hold".into()),
            Output::Close => seen.events.push("close".into()),
        }
    }
    seen
}

const MESSAGE: &[u8] = b"EHLO c.test\r\nMAIL FROM:<a@mycompany.test>\r\nRCPT TO:<b@partner.test>\r\nDATA\r\nSubject: x\r\n\r\n..hi\r\n.\r\nQUIT\r\n";

#[test]
fn a_pipelined_transaction_is_answered_in_groups_and_stored_before_its_250() {
    let host = host("", Limits::default());
    let mut core = Core::new(&host, CLIENT, 1, 1);
    let seen = converse(&mut core, &[MESSAGE]);
    let events: Vec<&str> = seen
        .events
        .iter()
        .map(|e| e.split("\r\n").next().unwrap())
        .collect();
    assert_eq!(
        events,
        [
            "220 mx1.partner.test ESMTP mxlab",
            ">",
            "250-mx1.partner.test greets c.test",
            "250 2.1.0 Sender OK",
            "250 2.1.5 Recipient OK",
            "354 Start mail input; end with <CRLF>.<CRLF>",
            "store",
            "250 2.6.0 Queued as 00000001",
            "221 2.0.0 Bye",
            "close",
        ]
    );
    assert_eq!(seen.stored[0].data, b"Subject: x\r\n\r\n.hi\r\n");
    assert_eq!(seen.stored[0].rcpt_to, ["b@partner.test"]);
}

#[test]
fn ehlo_advertises_the_size_limit_and_mail_refuses_a_larger_declared_size() {
    let limits = Limits {
        max_message_bytes: 1000,
        ..Limits::default()
    };
    let host = host("", limits);
    let mut core = Core::new(&host, CLIENT, 1, 1);
    let seen = converse(
        &mut core,
        &[b"EHLO c\r\n", b"MAIL FROM:<a@x.test> SIZE=1001\r\n"],
    );
    assert!(seen.replies()[1].contains("250-SIZE 1000\r\n"));
    assert!(seen.replies()[2].starts_with("552 5.3.4 "));
}

#[test]
fn helo_gets_one_line_and_ehlo_the_extensions() {
    let host = host("", Limits::default());
    let mut core = Core::new(&host, CLIENT, 1, 1);
    let seen = converse(&mut core, &[b"HELO c\r\nEHLO c\r\n"]);
    assert_eq!(seen.replies()[1], "250 mx1.partner.test greets c\r\n");
    assert!(seen.replies()[2].starts_with("250-mx1.partner.test greets c\r\n250-PIPELINING"));
}

#[test]
fn past_the_recipient_limit_the_next_is_told_452_4_5_3() {
    let host = host("", Limits::default());
    let mut core = Core::new(&host, CLIENT, 1, 1);
    let mut input = b"EHLO c\r\nMAIL FROM:<a@x.test>\r\n".to_vec();
    for n in 0..101 {
        input.extend_from_slice(format!("RCPT TO:<r{n}@partner.test>\r\n").as_bytes());
    }
    let seen = converse(&mut core, &[&input]);
    let replies = seen.replies();
    assert_eq!(
        replies
            .iter()
            .filter(|r| r.starts_with("250 2.1.5"))
            .count(),
        100
    );
    assert_eq!(seen.last_reply(), "452 4.5.3 Too many recipients\r\n");
}

#[test]
fn a_message_over_the_limit_is_read_to_its_dot_then_refused_and_the_session_goes_on() {
    let limits = Limits {
        max_message_bytes: 10,
        ..Limits::default()
    };
    let host = host("", limits);
    let mut core = Core::new(&host, CLIENT, 1, 1);
    let seen = converse(
        &mut core,
        &[
            b"EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n",
            b"0123456789abcdef\r\n",
            b".\r\nNOOP\r\n",
        ],
    );
    let replies = seen.replies();
    assert!(replies.contains(&"552 5.3.4 Message too big for system\r\n"));
    assert_eq!(seen.last_reply(), "250 2.0.0 OK\r\n");
    assert!(seen.stored.is_empty());
}

#[test]
fn an_overlong_command_line_is_refused_once_and_the_session_goes_on() {
    let host = host("", Limits::default());
    let mut core = Core::new(&host, CLIENT, 1, 1);
    let long = vec![b'A'; 2000];
    let seen = converse(&mut core, &[&long, &long, b"\r\nNOOP\r\n"]);
    let replies = seen.replies();
    assert_eq!(replies[1], "500 5.5.2 Line too long\r\n");
    assert_eq!(replies[2], "250 2.0.0 OK\r\n");
    assert_eq!(replies.len(), 3);
}

#[test]
fn mail_from_may_carry_its_extensions_parameters_past_512_octets() {
    let host = host("", Limits::default());
    let mut core = Core::new(&host, CLIENT, 1, 1);
    // The longest sender and AUTH= value the parser takes (256 octets each).
    let sender = format!("a@{}test", format!("{}.", "d".repeat(60)).repeat(4));
    let auth = format!("{}@x.test", "u".repeat(240));
    let mail = format!("MAIL FROM:<{sender}> SIZE=1000 AUTH={auth}\r\n");
    let rcpt = format!("RCPT TO:<{}@y.test>\r\n", "r".repeat(600));
    let input = format!("EHLO c\r\n{mail}{rcpt}");
    let seen = converse(&mut core, &[input.as_bytes()]);
    assert!(mail.len() > 512);
    assert_eq!(seen.replies()[2], "250 2.1.0 Sender OK\r\n");
    assert_eq!(seen.replies()[3], "500 5.5.2 Line too long\r\n");
}

#[test]
fn a_stalled_session_reads_on_without_a_word_and_holds_after_the_clients_half_close() {
    let host = host(
        "[[smtp.hosts.rules]]\nstage = \"end-of-data\"\naction = \"stall\"\n",
        Limits::default(),
    );
    let mut core = Core::new(&host, CLIENT, 1, 1);
    let seen = converse(&mut core, &[MESSAGE, b"more"]);
    let tail: Vec<&str> = seen
        .events
        .iter()
        .rev()
        .take(4)
        .rev()
        .map(String::as_str)
        .collect();
    assert_eq!(tail, ["> stalled", "> stalled", "hold", "close"]);
    assert!(seen.stored.is_empty());
    assert!(!seen.replies().iter().any(|r| r.starts_with("221")));
}

#[test]
fn a_silent_client_is_told_421_and_closed() {
    let host = host("", Limits::default());
    let mut core = Core::new(&host, CLIENT, 1, 1);
    while let Some(output) = core.poll() {
        if let Output::Lookup(Lookup::Client) = output {
            core.client_answered(None, None);
        }
        if let Output::Read(ReadMode::Within(idle)) = output {
            assert_eq!(idle, Duration::from_secs(300));
            core.timed_out();
            break;
        }
    }
    let rest: Vec<Output> = std::iter::from_fn(|| core.poll()).collect();
    assert!(
        matches!(&rest[..], [Output::Note(..), Output::Reply { reply, .. }, Output::Close] if reply.code == 421)
    );
}

#[test]
fn a_scripted_delay_is_a_sleep_before_its_reply() {
    let host = host(
        "[[smtp.hosts.rules]]\nstage = \"rcpt\"\ndelay = \"30s\"\nreply = \"451 4.7.1 Try later\"\n",
        Limits::default(),
    );
    let mut core = Core::new(&host, CLIENT, 1, 1);
    let seen = converse(
        &mut core,
        &[b"EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\n"],
    );
    let at = seen.events.iter().position(|e| e == "sleep 30").unwrap();
    assert_eq!(seen.events[at + 1], "451 4.7.1 Try later\r\n");
}

/// The replies of a conversation, wherever the reads happened to split its bytes.
fn replies_for(input: &[u8], cuts: &[usize]) -> (Vec<String>, Vec<Vec<u8>>) {
    let host = host("", Limits::default());
    let mut core = Core::new(&host, CLIENT, 1, 1);
    let mut chunks = Vec::new();
    let mut from = 0;
    for &cut in cuts {
        let cut = cut.min(input.len()).max(from);
        chunks.push(&input[from..cut]);
        from = cut;
    }
    chunks.push(&input[from..]);
    let chunks: Vec<&[u8]> = chunks.into_iter().filter(|c| !c.is_empty()).collect();
    let seen = converse(&mut core, &chunks);
    let replies = seen.replies().into_iter().map(str::to_string).collect();
    (replies, seen.stored.into_iter().map(|m| m.data).collect())
}

fn session_bytes() -> impl Strategy<Value = Vec<u8>> {
    let line = prop_oneof![
        Just(b"EHLO c.test\r\n".to_vec()),
        Just(b"MAIL FROM:<a@x.test>\r\n".to_vec()),
        Just(b"MAIL FROM:<a@x.test> SIZE=99999999999\r\n".to_vec()),
        Just(b"RCPT TO:<b@y.test>\r\n".to_vec()),
        Just(b"DATA\r\n".to_vec()),
        Just(b"Subject: x\r\n\r\nbody\r\n.\r\n".to_vec()),
        Just(b"RSET\r\nNOOP\r\n".to_vec()),
        Just(b"AUTH PLAIN\r\n".to_vec()),
        Just(b"STARTTLS\r\n".to_vec()),
        proptest::collection::vec(any::<u8>(), 0..600),
    ];
    proptest::collection::vec(line, 0..12).prop_map(|lines| lines.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A session's replies and stored mail depend on its bytes, not on how reads split them.
    #[test]
    fn the_conversation_does_not_depend_on_where_reads_split_the_input(
        input in session_bytes(),
        cuts in proptest::collection::vec(0usize..4000, 0..8),
    ) {
        let mut sorted = cuts.clone();
        sorted.sort_unstable();
        let whole = replies_for(&input, &[]);
        let split = replies_for(&input, &sorted);
        prop_assert_eq!(whole, split);
    }

    /// Any bytes at all: no panic, and no more replies than the input could ask for.
    #[test]
    fn any_input_gets_bounded_replies_and_never_a_panic(
        input in proptest::collection::vec(any::<u8>(), 0..4000),
    ) {
        let (replies, _) = replies_for(&input, &[]);
        let lines = input.iter().filter(|&&b| b == b'\n').count();
        // The banner, one per line, one for an overlong unterminated line.
        prop_assert!(replies.len() <= lines + 2);
    }
}

/// The fuzz seeds (`fuzz-seeds/`, what `cargo xtask fuzz-smtp` mutates).
fn seeds() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz-seeds");
    let mut all: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    all.sort();
    all
}

#[test]
fn every_fuzz_seed_runs_to_a_close() {
    let host = host("", Limits::default());
    for seed in seeds() {
        let mut core = Core::new(&host, CLIENT, 1, 1);
        let out = offline::replay(&mut core, &seed, 7);
        assert!(out.closed);
        assert!(!out.replies.is_empty());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The fuzz target in `cargo test`: a seed with bytes overwritten, cut and repeated, read
    /// in chunks of any size — no panic, a close at the end, bounded replies.
    #[test]
    fn mutated_fuzz_seeds_never_panic(
        which in 0usize..64,
        edits in proptest::collection::vec((0usize..4096, any::<u8>(), 0usize..3), 0..16),
        chunk in 1usize..600,
    ) {
        let seeds = seeds();
        let mut input = seeds[which % seeds.len()].clone();
        for (at, byte, kind) in edits {
            if input.is_empty() {
                break;
            }
            let at = at % input.len();
            match kind {
                0 => input[at] = byte,
                1 => input.truncate(at),
                _ => {
                    let piece = input[at..].iter().copied().take(64).collect::<Vec<_>>();
                    input.splice(at..at, piece.repeat(usize::from(byte % 8)));
                }
            }
        }
        let host = host("", Limits::default());
        let mut core = Core::new(&host, CLIENT, 1, 1);
        let out = offline::replay(&mut core, &input, chunk);
        prop_assert!(out.closed);
        let lines = input.iter().filter(|&&b| b == b'\n').count();
        prop_assert!(out.replies.len() <= lines + 2);
    }
}

#[test]
fn the_first_line_of_a_message_is_dot_unstuffed_and_a_lone_dot_ends_an_empty_one() {
    let host = host("", Limits::default());
    let envelope: &[u8] = b"EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n";
    // RFC 5321 §4.5.2: the CRLF that ends the DATA line begins the text, so a first line
    // that starts with a dot is stuffed like any other.
    let mut core = Core::new(&host, CLIENT, 1, 1);
    let seen = converse(
        &mut core,
        &[envelope, b"..first\r\nsecond\r\n.\r\nQUIT\r\n"],
    );
    assert_eq!(seen.stored.len(), 1);
    assert_eq!(seen.stored[0].data, b".first\r\nsecond\r\n");
    // An empty message is `.` alone on the line after DATA.
    let mut core = Core::new(&host, CLIENT, 1, 1);
    let seen = converse(&mut core, &[envelope, b".\r\n", b"QUIT\r\n"]);
    assert_eq!(seen.stored.len(), 1);
    assert!(seen.stored[0].data.is_empty());
    assert_eq!(seen.last_reply(), "221 2.0.0 Bye\r\n");
}

#[test]
fn a_message_holds_its_share_of_the_budget_until_it_is_stored() {
    let budget = crate::Budget::new(1 << 20, 1 << 20);
    let host = host("", Limits::default()).with_budget(budget.clone());
    let mut core = Core::new(&host, CLIENT, 1, 1);
    let mut input: &[u8] = MESSAGE;
    let mut held_while_stored = None;
    while let Some(output) = core.poll() {
        match output {
            Output::Read(_) if input.is_empty() => core.ended(),
            Output::Read(_) => {
                core.received(input);
                input = &[];
            }
            Output::Lookup(Lookup::Client) => core.client_answered(None, None),
            Output::Lookup(Lookup::Spf { .. }) => core.spf_answered(None),
            Output::Lookup(Lookup::Dmarc { .. }) => core.dmarc_answered(None),
            Output::Store(_) => {
                held_while_stored = Some(budget.data.used());
                core.stored(Ok(1));
            }
            _ => {}
        }
    }
    assert!(held_while_stored.is_some_and(|used| used > 0));
    assert_eq!(budget.data.used(), 0);
}
