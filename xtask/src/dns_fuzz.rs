//! `fuzz-dns [--iterations N] [--minutes M] [--seed S]`: the DNS request path —
//! `FakeDns::handle`, bytes in — under mutated queries, on the stable toolchain (no
//! libFuzzer): the seed queries committed in `crates/mxlab-dns/fuzz-seeds/` with bytes set,
//! cut, repeated and spliced and header bits flipped, one in sixteen pure random bytes, each
//! asked over UDP and over TCP of a server with every kind of fault
//! (`mxlab_dns::fuzz::SCENARIO`), and twice of the same server without faults (the second
//! answer comes from the cache by the path that skips parsing, and must be the same), on a
//! paused clock so delays cost nothing. Bounded in count
//! (default 50,000,000) and in time (default 10 minutes). Fails on the first panic or broken
//! reply (`mxlab_dns::fuzz::check`), writing the input to `fuzz-dns-crash.bin`.
//! Deterministic for a given seed.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mxlab_dns::Transport;
use mxlab_dns::fuzz::{check, check_repeat, mutate, seeds, src, world, world_without_faults};

use crate::explain_fuzz::Rng;

pub fn run(root: &Path, args: &[String]) -> ExitCode {
    let arg = |name: &str, default: u64| crate::number_arg(args, name, default);
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
    let plain = runtime.block_on(async { world_without_faults() });
    let plain = plain.servers[0].clone();
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
                let faulty = runtime.block_on(server.handle(&input, src(), transport));
                let first = runtime.block_on(plain.handle(&input, src(), transport));
                let second = runtime.block_on(plain.handle(&input, src(), transport));
                (faulty, first, second)
            }));
            let failure = match &outcome {
                Err(_) => Some("a panic".to_string()),
                Ok((faulty, first, second)) => check(&input, transport, faulty.as_deref())
                    .and_then(|()| check(&input, transport, first.as_deref()))
                    .and_then(|()| check_repeat(first.as_deref(), second.as_deref()))
                    .err(),
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
            answered += u64::from(matches!(outcome, Ok((Some(_), _, _))));
        }
        done += 1;
    }
    let (bytes, entries) = plain.cache_usage();
    println!(
        "{done} mutated queries (seed {seed}), each over UDP and TCP to a server with faults and twice to one without: {answered} replies from the first, no panic, no broken reply, {:.1} s; the fault-free server's answer cache {entries} entries, {bytes} bytes",
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
