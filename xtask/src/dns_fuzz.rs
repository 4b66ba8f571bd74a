//! `fuzz-dns [--iterations N] [--minutes M] [--seed S]`: the DNS request path —
//! `FakeDns::handle`, bytes in — under mutated queries, on the stable toolchain (no
//! libFuzzer): the seed queries committed in `crates/mxlab-dns/fuzz-seeds/` with bytes set,
//! cut, repeated and spliced and header bits flipped, one in sixteen pure random bytes, each
//! asked over UDP and over TCP of a server with every kind of fault
//! (`mxlab_dns::fuzz::SCENARIO`), on a paused clock so delays cost nothing. Bounded in count
//! (default 50,000,000) and in time (default 10 minutes). Fails on the first panic or broken
//! reply (`mxlab_dns::fuzz::check`), writing the input to `fuzz-dns-crash.bin`.
//! Deterministic for a given seed.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mxlab_dns::Transport;
use mxlab_dns::fuzz::{check, mutate, seeds, src, world};

use crate::explain_fuzz::Rng;

pub fn run(root: &Path, args: &[String]) -> ExitCode {
    let arg = |name: &str, default: u64| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let iterations = arg("--iterations", 50_000_000);
    let minutes = arg("--minutes", 10).min(24 * 60);
    let seed = arg("--seed", 1).max(1);
    let corpus = seeds(&root.join("crates/mxlab-dns"));
    if corpus.is_empty() {
        eprintln!("no seeds under crates/mxlab-dns/fuzz-seeds");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let dns = runtime.block_on(async { world() });
    let server = dns.servers[0].clone();
    std::panic::set_hook(Box::new(|_| {}));
    let started = Instant::now();
    let limit = Duration::from_secs(minutes * 60);
    let mut rng = Rng(seed);
    let (mut done, mut answered) = (0u64, 0u64);
    while done < iterations && started.elapsed() < limit {
        let input = if rng.below(16) == 0 {
            (0..rng.below(600)).map(|_| rng.next() as u8).collect()
        } else {
            let mut input = corpus[rng.below(corpus.len())].clone();
            let other = &corpus[rng.below(corpus.len())];
            mutate(&mut input, other, || rng.next());
            input
        };
        for transport in [Transport::Udp, Transport::Tcp] {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                runtime.block_on(server.handle(&input, src(), transport))
            }));
            let failure = match &outcome {
                Err(_) => Some("a panic".to_string()),
                Ok(reply) => check(&input, transport, reply.as_deref()).err(),
            };
            if let Some(failure) = failure {
                let _ = std::panic::take_hook();
                eprintln!(
                    "{failure} at iteration {done} over {} (seed {seed}); input written to fuzz-dns-crash.bin",
                    transport.as_str()
                );
                let _ = std::fs::write("fuzz-dns-crash.bin", &input);
                return ExitCode::FAILURE;
            }
            answered += u64::from(matches!(outcome, Ok(Some(_))));
        }
        done += 1;
    }
    let (bytes, entries) = server.cache_usage();
    println!(
        "{done} mutated queries (seed {seed}), each over UDP and TCP: {answered} replies, no panic, no broken reply, {:.1} s; answer cache {entries} entries, {bytes} bytes",
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
