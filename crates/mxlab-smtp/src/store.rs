//! Where a host keeps the mail it accepted: the latest messages in a bounded ring in memory,
//! optionally each one durably in a Maildir as well, or nothing at all (sink mode, for load
//! tests).
//!
//! Mail answered `250` must not be lost, so a Maildir delivery is complete — written to `tmp/`,
//! fsynced, linked into `new/`, `new/` fsynced — before [`crate::FakeSmtpHost::accept`]
//! returns, and any failure on the way is a [`StoreError`] that the session answers with
//! `451 4.3.0` instead of `250`: the client keeps the message and tries again.

use std::collections::VecDeque;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::host::Captured;

/// What a host does with a message it accepted.
#[derive(Clone, Debug, Default)]
pub enum Capture {
    /// The latest messages in memory, within the host's [`crate::Limits`].
    #[default]
    Memory,
    /// In memory as above, and each message in this Maildir before the `250`.
    Maildir(Arc<Maildir>),
    /// Nothing at all, not even transcripts: only the queue id is counted.
    Sink,
}

/// Why an accepted message could not be kept. Its text goes into the `451 4.3.0` reply, so it
/// names the kind of failure only, never a path.
#[derive(Debug)]
pub struct StoreError(pub io::Error);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Message not stored ({}), try again later", self.0.kind())
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// The latest captured messages, bounded in count and in total size.
#[derive(Debug, Default)]
pub(crate) struct Ring {
    messages: VecDeque<Captured>,
    bytes: usize,
}

/// What a message costs the ring: its content, its envelope and what the host adds to it.
fn weight(message: &Captured) -> usize {
    message.data.len()
        + message.mail_from.len()
        + message.rcpt_to.iter().map(String::len).sum::<usize>()
        + message.helo.len()
        + message.client.len()
        + message.received.len()
}

impl Ring {
    /// Keeps `message`, forgetting the oldest ones as needed to stay within `max_messages` and
    /// `max_bytes`. A message larger than `max_bytes` on its own is not kept (the older ones
    /// stay): keeping it would break the bound the user set.
    pub(crate) fn push(&mut self, message: Captured, max_messages: usize, max_bytes: usize) {
        let size = weight(&message);
        if max_messages == 0 || size > max_bytes {
            return;
        }
        while self.messages.len() >= max_messages || self.bytes + size > max_bytes {
            match self.messages.pop_front() {
                Some(old) => self.bytes -= weight(&old),
                None => break,
            }
        }
        self.bytes += size;
        self.messages.push_back(message);
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &Captured> {
        self.messages.iter()
    }

    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.bytes
    }
}

/// A Maildir (`tmp/`, `new/`, `cur/`) that every host of a served world delivers into.
#[derive(Debug)]
pub struct Maildir {
    root: PathBuf,
    pid: u32,
    /// Makes file names unique within this process; the pid makes them unique between
    /// processes sharing the directory, and `link` (which never replaces a file) catches the
    /// rest, such as a pid reused after a restart.
    counter: AtomicU64,
}

/// How many names to try when a file of that name already exists.
const NAME_TRIES: u32 = 16;

impl Maildir {
    /// Opens `root` as a Maildir, creating it and its three subdirectories if needed, so a
    /// directory the server cannot use is an error at start rather than at the first message.
    ///
    /// Directories it creates are private (0700) and so is every message (0600): mail is
    /// nobody else's business on a shared machine. Files left in `tmp/` by a server that died
    /// while writing (its process is gone, or they are older than 36 hours, as the Maildir
    /// convention has it) are removed.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Arc<Maildir>> {
        let root = root.into();
        for sub in ["tmp", "new", "cur"] {
            let dir = root.join(sub);
            private_dir(&dir)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
        }
        clean_tmp(&root.join("tmp"));
        Ok(Arc::new(Maildir {
            root,
            pid: std::process::id(),
            counter: AtomicU64::new(0),
        }))
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes `message` durably into `new/` and returns the file's path. `stamp` is the time
    /// of acceptance in Unix seconds, the first part of the file's name. `host` is the
    /// accepting host's name.
    ///
    /// The file is the envelope as `Return-Path:`, the host's `Received:` header, one
    /// `X-Envelope-To:` per recipient, then the message exactly as received (CRLF line ends,
    /// dot-unstuffed).
    pub fn deliver(&self, message: &Captured, stamp: i64, host: &str) -> io::Result<PathBuf> {
        let host = maildir_safe(host);
        for _ in 0..NAME_TRIES {
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            let name = format!("{stamp}.P{}Q{n}.{host}", self.pid);
            let tmp = self.root.join("tmp").join(&name);
            let new = self.root.join("new").join(&name);
            let file = match private_file().open(&tmp) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            };
            let written = write_message(file, message).and_then(|()| fs::hard_link(&tmp, &new));
            // tmp/ only ever holds files in the making: remove ours whatever happened.
            let _ = fs::remove_file(&tmp);
            match written {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
            // The new directory entry is what makes the message visible after a crash.
            if let Err(e) = File::open(self.root.join("new")).and_then(|d| d.sync_all()) {
                let _ = fs::remove_file(&new);
                return Err(e);
            }
            return Ok(new);
        }
        Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "no free file name in the Maildir",
        ))
    }
}

/// Creates `dir` and any missing parents, each new one 0700.
fn private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// A new file, never an existing one (nor a symbolic link's target), readable by its owner only.
fn private_file() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// How old a file in `tmp/` is before any writer is presumed dead (the Maildir convention).
const STALE_TMP: std::time::Duration = std::time::Duration::from_secs(36 * 3600);

/// Most entries of `tmp/` looked at when opening, so a huge directory cannot stall a start.
const MAX_TMP_SCAN: usize = 100_000;

/// Removes what writers that died left in `tmp/`: regular files named by a process of ours
/// that no longer runs, or older than [`STALE_TMP`]. Never follows a symbolic link; errors
/// are ignored (what cannot be removed now is tried at the next start).
fn clean_tmp(tmp: &Path) -> usize {
    let Ok(entries) = fs::read_dir(tmp) else {
        return 0;
    };
    let mut removed = 0;
    for entry in entries.take(MAX_TMP_SCAN).flatten() {
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.file_type().is_file() {
            continue;
        }
        let name = entry.file_name();
        let dead_writer = writer_pid(&name.to_string_lossy()).is_some_and(|pid| !running(pid));
        let stale = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age > STALE_TMP);
        if (dead_writer || stale) && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// The process id in a name this store gives its files (`<stamp>.P<pid>Q<n>.<host>`).
fn writer_pid(name: &str) -> Option<u32> {
    let (_, rest) = name.split_once(".P")?;
    let (pid, _) = rest.split_once('Q')?;
    pid.parse().ok()
}

/// Whether a process with this id runs on this machine (Linux's /proc; elsewhere it is
/// presumed to, and only age removes its files).
fn running(pid: u32) -> bool {
    if pid == std::process::id() {
        return true;
    }
    let proc = Path::new("/proc");
    !proc.is_dir() || proc.join(pid.to_string()).exists()
}

fn write_message(mut file: File, message: &Captured) -> io::Result<()> {
    let mut head = format!("Return-Path: <{}>\r\n", header_safe(&message.mail_from));
    head.push_str(&message.received);
    for rcpt in &message.rcpt_to {
        head.push_str(&format!("X-Envelope-To: <{}>\r\n", header_safe(rcpt)));
    }
    file.write_all(head.as_bytes())?;
    file.write_all(&message.data)?;
    file.sync_all()
}

/// An address as a header value: a CR or LF would start a header of the client's choosing.
fn header_safe(address: &str) -> String {
    address.replace(['\r', '\n'], "")
}

/// A host name as the last part of a Maildir file name: `/` would be a path and `:` starts the
/// flags, so both are escaped as the Maildir convention says (`\057`, `\072`).
fn maildir_safe(host: &str) -> String {
    host.replace('/', "\\057").replace(':', "\\072")
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;
    use std::sync::Arc;
    use std::time::Duration;

    use mxlab_net::Clock;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};
    use tokio::task::JoinHandle;

    use super::*;
    use crate::{FakeSmtpHost, Limits, session};

    fn message(n: usize, size: usize) -> Captured {
        Captured {
            at: Duration::from_secs(n as u64),
            mail_from: "a@x.test".into(),
            rcpt_to: vec!["b@y.test".into()],
            data: vec![b'x'; size],
            helo: String::new(),
            client: String::new(),
            tls: false,
            received: String::new(),
        }
    }

    #[test]
    fn the_ring_keeps_the_latest_within_count_and_bytes() {
        let mut ring = Ring::default();
        for n in 0..10 {
            ring.push(message(n, 100), 3, 10_000);
        }
        let kept: Vec<u64> = ring.iter().map(|m| m.at.as_secs()).collect();
        assert_eq!(kept, [7, 8, 9]);

        // Each message weighs 100 + 8 + 8 octets; 400 octets hold three of them.
        let mut ring = Ring::default();
        for n in 0..10 {
            ring.push(message(n, 100), 100, 400);
        }
        let kept: Vec<u64> = ring.iter().map(|m| m.at.as_secs()).collect();
        assert_eq!(kept, [7, 8, 9]);
        assert_eq!(ring.bytes(), 3 * 116);

        // One message bigger than the whole bound is not kept; the others stay.
        ring.push(message(10, 1000), 100, 400);
        assert_eq!(ring.iter().count(), 3);
        assert_eq!(ring.bytes(), 3 * 116);

        let mut none = Ring::default();
        none.push(message(0, 1), 0, 400);
        assert_eq!(none.iter().count(), 0);
    }

    #[test]
    fn the_ring_weighs_what_the_host_adds_to_a_message_too() {
        // A client's long HELO name comes back in the trace header: a tiny message can carry
        // several hundred octets besides its data, and the bound must see them.
        let long = |n| Captured {
            helo: "h".repeat(255),
            client: "127.0.0.2".into(),
            received: format!("Received: from {} ([127.0.0.2])\r\n", "h".repeat(255)),
            ..message(n, 1)
        };
        let mut ring = Ring::default();
        for n in 0..10 {
            ring.push(long(n), 100, 2_000);
        }
        assert!(ring.iter().count() <= 2_000 / 500);
        assert!(ring.bytes() <= 2_000);
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mxlab-store-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    fn files(dir: &Path) -> Vec<PathBuf> {
        let mut all: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        all.sort();
        all
    }

    #[test]
    fn a_maildir_delivery_is_whole_in_new_and_leaves_nothing_in_tmp() {
        let root = scratch("whole");
        let maildir = Maildir::open(&root).unwrap();
        let m = Captured {
            at: Duration::ZERO,
            mail_from: "taro@mycompany.test".into(),
            rcpt_to: vec!["a@partner.test".into(), "b@partner.test".into()],
            data: b"Subject: hi\r\n\r\nbody\r\n".to_vec(),
            helo: "srv01.mycompany.test".into(),
            client: "127.0.0.2".into(),
            tls: false,
            received: "Received: from srv01.mycompany.test ([127.0.0.2])\r\n".into(),
        };
        let first = maildir
            .deliver(&m, 1_715_197_200, "mx1/partner:test")
            .unwrap();
        let second = maildir
            .deliver(&m, 1_715_197_200, "mx1/partner:test")
            .unwrap();
        assert_ne!(first, second, "unique names");
        assert_eq!(
            first.file_name().unwrap().to_str().unwrap(),
            format!(
                "1715197200.P{}Q0.mx1\\057partner\\072test",
                std::process::id()
            )
        );
        assert_eq!(
            fs::read(&first).unwrap(),
            b"Return-Path: <taro@mycompany.test>\r\nReceived: from srv01.mycompany.test ([127.0.0.2])\r\nX-Envelope-To: <a@partner.test>\r\nX-Envelope-To: <b@partner.test>\r\nSubject: hi\r\n\r\nbody\r\n"
        );
        assert_eq!(files(&root.join("new")).len(), 2);
        assert!(files(&root.join("tmp")).is_empty());
        assert!(root.join("cur").is_dir());
        let _ = fs::remove_dir_all(&root);
    }

    #[cfg(unix)]
    #[test]
    fn files_and_directories_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let root = scratch("private");
        let maildir = Maildir::open(&root).unwrap();
        let path = maildir.deliver(&message(0, 10), 7, "mx1.test").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        for sub in ["", "tmp", "new", "cur"] {
            assert_eq!(mode(&root.join(sub)), 0o700, "{sub}");
        }
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn leftovers_of_a_dead_writer_are_cleaned_at_start() {
        let root = scratch("leftovers");
        drop(Maildir::open(&root).unwrap());
        let tmp = root.join("tmp");
        // No process has pid 4194304 (above Linux's largest pid), and the other file is ours.
        let dead = tmp.join("7.P4194304Q0.mx1.test");
        let live = tmp.join(format!("7.P{}Q9.mx1.test", std::process::id()));
        let foreign = tmp.join("1700000000.M1P2.other-writer");
        for f in [&dead, &live, &foreign] {
            fs::write(f, "half a message").unwrap();
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(&foreign, tmp.join("7.P4194305Q0.link")).unwrap();
        drop(Maildir::open(&root).unwrap());
        assert!(!dead.exists());
        assert!(
            live.exists() && foreign.exists(),
            "a running writer's files stay"
        );
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn a_name_taken_by_another_process_is_never_overwritten() {
        let root = scratch("taken");
        let maildir = Maildir::open(&root).unwrap();
        let taken = root
            .join("new")
            .join(format!("7.P{}Q0.mx1.test", std::process::id()));
        fs::write(&taken, "someone else's").unwrap();
        let path = maildir.deliver(&message(0, 10), 7, "mx1.test").unwrap();
        assert_ne!(path, taken);
        assert_eq!(fs::read_to_string(&taken).unwrap(), "someone else's");
        let _ = fs::remove_dir_all(&root);
    }

    const HOST: &str = r#"
mxlab = 1
title = "store test"
start = "2024-05-08T20:40:00+01:00"

[[smtp.hosts]]
name = "mx1.partner.test"
address = "127.0.0.1"

[sender]
hostname = "srv01.mycompany.lan"
domain = "mycompany.test"

[[sender.messages]]
from = "a@mycompany.test"
to = ["b@partner.test"]
subject = "x"

[expect]
verdict = "ok.delivered"
"#;

    fn host(capture: Capture) -> Arc<FakeSmtpHost> {
        let scenario = mxlab_scenario::load_str("store-test", "store-test.toml", HOST).unwrap();
        let clock = Clock::starting_now(scenario.file.start.0, 1.0);
        Arc::new(
            FakeSmtpHost::new(
                &scenario.file.smtp.hosts[0],
                scenario.host_addresses[0],
                clock,
                Limits::default(),
            )
            .with_capture(capture),
        )
    }

    /// A session over an in-memory pipe, for a client that speaks raw SMTP.
    fn session(host: &Arc<FakeSmtpHost>) -> (BufReader<DuplexStream>, JoinHandle<()>) {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let host = host.clone();
        let task = tokio::spawn(async move {
            let (attempt, _) = host.connect(IpAddr::from([127, 0, 0, 2]));
            session::run(&host, server, IpAddr::from([127, 0, 0, 2]), attempt).await;
        });
        (BufReader::new(client), task)
    }

    async fn say(s: &mut BufReader<DuplexStream>, line: &str) -> String {
        if !line.is_empty() {
            s.get_mut().write_all(line.as_bytes()).await.unwrap();
        }
        let mut reply = String::new();
        loop {
            let mut l = String::new();
            s.read_line(&mut l).await.unwrap();
            reply.push_str(&l);
            if l.len() < 4 || l.as_bytes()[3] == b' ' {
                return reply;
            }
        }
    }

    /// Sends one message in its own session and waits for the session to end; returns the
    /// reply to the final dot.
    async fn send(host: &Arc<FakeSmtpHost>, body: &str) -> String {
        let (mut s, task) = session(host);
        assert!(say(&mut s, "").await.starts_with("220 "));
        assert!(say(&mut s, "EHLO c.test\r\n").await.starts_with("250"));
        assert!(
            say(&mut s, "MAIL FROM:<a@mycompany.test>\r\n")
                .await
                .starts_with("250")
        );
        assert!(
            say(&mut s, "RCPT TO:<b@partner.test>\r\n")
                .await
                .starts_with("250")
        );
        assert!(say(&mut s, "DATA\r\n").await.starts_with("354"));
        let end = say(&mut s, &format!("{body}\r\n.\r\n")).await;
        say(&mut s, "QUIT\r\n").await;
        task.await.unwrap();
        end
    }

    #[tokio::test]
    async fn a_failing_store_answers_451_and_every_250_is_on_disk() {
        let root = scratch("failing");
        let host = host(Capture::Maildir(Maildir::open(&root).unwrap()));

        let ok = send(&host, "Subject: one\r\n\r\nfirst").await;
        assert!(ok.starts_with("250 2.6.0 Queued as"), "{ok}");

        // The disk goes away under the server: tmp/ is gone, nothing can be written.
        fs::remove_dir_all(root.join("tmp")).unwrap();
        let refused = send(&host, "Subject: two\r\n\r\nsecond").await;
        assert!(refused.starts_with("451 4.3.0 "), "{refused}");
        assert!(
            !refused.contains(root.to_str().unwrap()),
            "no path in the reply"
        );

        // A link that fails after the file was written (new/ is not a directory for a moment)
        // leaves nothing behind in tmp/ either.
        fs::create_dir(root.join("tmp")).unwrap();
        fs::rename(root.join("new"), root.join("new.aside")).unwrap();
        fs::write(root.join("new"), "not a directory").unwrap();
        let refused = send(&host, "Subject: three\r\n\r\nthird").await;
        assert!(refused.starts_with("451 4.3.0 "), "{refused}");
        assert!(files(&root.join("tmp")).is_empty());

        fs::remove_file(root.join("new")).unwrap();
        fs::rename(root.join("new.aside"), root.join("new")).unwrap();
        let ok = send(&host, "Subject: four\r\n\r\nfourth").await;
        assert!(ok.starts_with("250 "), "{ok}");

        // Exactly the acknowledged messages: in memory and, whole, on disk.
        let kept: Vec<String> = host
            .messages()
            .iter()
            .map(|m| String::from_utf8_lossy(&m.data).into_owned())
            .collect();
        assert_eq!(
            kept,
            [
                "Subject: one\r\n\r\nfirst\r\n",
                "Subject: four\r\n\r\nfourth\r\n"
            ]
        );
        let on_disk: Vec<String> = files(&root.join("new"))
            .iter()
            .map(|p| fs::read_to_string(p).unwrap())
            .collect();
        assert_eq!(on_disk.len(), 2, "{on_disk:?}");
        for (text, body) in on_disk.iter().zip(&kept) {
            assert!(
                text.starts_with("Return-Path: <a@mycompany.test>\r\n"),
                "{text}"
            );
            assert!(text.ends_with(body.as_str()), "{text}");
        }
        assert_eq!(
            host.transcripts().len(),
            4,
            "a capturing host keeps transcripts"
        );
        let _ = fs::remove_dir_all(&root);
    }

    #[tokio::test]
    async fn a_sink_keeps_no_message_and_no_transcript() {
        let host = host(Capture::Sink);
        let first = send(&host, "Subject: one\r\n\r\nx").await;
        let second = send(&host, "Subject: two\r\n\r\nx").await;
        assert!(first.starts_with("250 2.6.0 Queued as 00000001"), "{first}");
        assert!(
            second.starts_with("250 2.6.0 Queued as 00000002"),
            "{second}"
        );
        assert!(host.messages().is_empty());
        assert!(host.transcripts().is_empty());
    }

    #[tokio::test]
    async fn a_sink_writes_no_transcript_file_either() {
        let dir = scratch("sink-transcripts");
        fs::create_dir_all(&dir).unwrap();
        let host = Arc::into_inner(host(Capture::Sink)).unwrap();
        let host = Arc::new(host.with_transcript_dir(Some(dir.clone())));
        let end = send(&host, "Subject: one\r\n\r\nx").await;
        assert!(end.starts_with("250 "), "{end}");
        assert_eq!(files(&dir), Vec::<PathBuf>::new());
        let _ = fs::remove_dir_all(&dir);
    }
}
