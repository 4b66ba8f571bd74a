//! `fuzz-smtp [--minutes M] [--iterations N] [--seed S]`: the SMTP session core under
//! mutated sessions — the seeds of `crates/mxlab-smtp/fuzz-seeds` with bytes flipped, cut,
//! repeated and spliced — read in chunks of random size, against hosts of several catalog
//! stories (greylisting, AUTH, STARTTLS, size limits, stalls). Bounded in count (default
//! 10,000,000) and time (default 10 minutes). A run fails on the first panic, on a session
//! that does not end, or on more replies than the input has lines; the input is written to
//! `fuzz-crash-smtp.txt` to replay. Deterministic for a given seed.

use std::net::IpAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mxlab_net::Clock;
use mxlab_smtp::core::{Core, offline};
use mxlab_smtp::{FakeSmtpHost, Limits};

use crate::explain_fuzz::{Rng, mutate};

/// Catalog stories whose first SMTP host the sessions are played against.
const HOSTS: &[&str] = &[
    "healthy",
    "greylisting",
    "too-big",
    "data-timeout",
    "relay-denied",
    "tls-failure",
    "user-unknown",
    "rate-limited",
];

fn hosts() -> Vec<FakeSmtpHost> {
    let limits = Limits {
        max_message_bytes: 64 * 1024,
        ..Limits::default()
    };
    HOSTS
        .iter()
        .filter_map(|name| mxlab_scenario::catalog::builtin(name)?.ok())
        .filter(|s| !s.file.smtp.hosts.is_empty())
        .map(|s| {
            let clock = Clock::starting_now(s.file.start.0, 1.0);
            FakeSmtpHost::new(&s.file.smtp.hosts[0], s.host_addresses[0], clock, limits)
        })
        .collect()
}

pub fn run(root: &Path, args: &[String]) -> ExitCode {
    let arg = |name: &str, default: u64| crate::number_arg(args, name, default);
    let iterations = arg("--iterations", 10_000_000);
    let minutes = arg("--minutes", 10);
    let seed = arg("--seed", 1).max(1);
    let corpus: Vec<Vec<u8>> = std::fs::read_dir(root.join("crates/mxlab-smtp/fuzz-seeds"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| std::fs::read(e.path()).ok())
        .collect();
    if corpus.is_empty() {
        eprintln!("no seeds under crates/mxlab-smtp/fuzz-seeds");
        return ExitCode::from(2);
    }
    // Current-thread tokio for the host's clock (tokio's Instant), never for I/O.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    let _guard = runtime.enter();
    let hosts = hosts();
    let client: IpAddr = [127, 0, 0, 2].into();
    std::panic::set_hook(Box::new(|_| {}));
    let started = Instant::now();
    let limit = Duration::from_secs(minutes * 60);
    let mut rng = Rng(seed);
    let (mut done, mut replies, mut stored) = (0u64, 0u64, 0u64);
    while done < iterations && started.elapsed() < limit {
        let input = mutate(&mut rng, &corpus);
        let host = &hosts[rng.below(hosts.len())];
        let chunk = 1 + rng.below(700);
        let attempt = 1 + rng.below(4) as u32;
        // A panic leaves nothing half-changed that the next iteration relies on: each session
        // is new, and a host keeps only counts and greylisting memory.
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut core = Core::new(host, client, attempt, 1);
            offline::replay(&mut core, &input, chunk)
        }));
        let lines = input.iter().filter(|&&b| b == b'\n').count();
        let failure = match &outcome {
            Err(_) => Some("panic".to_string()),
            Ok(out) if !out.closed => Some("the session did not end".into()),
            Ok(out) if out.replies.len() > lines + 2 => {
                Some(format!("{} replies to {lines} lines", out.replies.len()))
            }
            Ok(_) => None,
        };
        if let Some(failure) = failure {
            let _ = std::panic::take_hook();
            eprintln!(
                "{failure} at iteration {done} (seed {seed}, chunk {chunk}); input in fuzz-crash-smtp.txt"
            );
            let _ = std::fs::write("fuzz-crash-smtp.txt", &input);
            return ExitCode::FAILURE;
        }
        if let Ok(out) = outcome {
            replies += out.replies.len() as u64;
            stored += out.stored.len() as u64;
        }
        done += 1;
    }
    println!(
        "{done} mutated sessions (seed {seed}) against {} hosts in {:.0} s: {replies} replies, {stored} messages stored, no panic, every session ended",
        hosts.len(),
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
