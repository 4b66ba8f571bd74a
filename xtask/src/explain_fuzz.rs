//! `fuzz-explain [--iterations N] [--seed S]`: the notice reader under mutated input — the
//! held-out notices with bytes flipped, cut, repeated and spliced together — bounded in count
//! (default 200,000) and in time (10 minutes). Fails on the first panic, printing the input's
//! seed and iteration so it can be replayed. Deterministic for a given seed.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mxlab_checker::explain::explain;

/// xorshift64*: enough randomness for mutations, seeded, no dependency.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

pub(crate) fn mutate(rng: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut m = corpus[rng.below(corpus.len())].clone();
    for _ in 0..=rng.below(8) {
        if m.is_empty() {
            break;
        }
        let at = rng.below(m.len());
        match rng.below(6) {
            0 => m[at] = rng.next() as u8,
            1 => m.truncate(at),
            2 => {
                let end = (at + rng.below(64)).min(m.len());
                let piece = m[at..end].to_vec();
                for _ in 0..rng.below(50) {
                    m.splice(at..at, piece.iter().copied());
                }
            }
            3 => {
                let other = &corpus[rng.below(corpus.len())];
                let from = rng.below(other.len());
                m.splice(at..at, other[from..].iter().copied().take(512));
            }
            4 => m.insert(
                at,
                [b'\n', b'\r', b'-', b'<', b'>', b'=', 0, 0xff][rng.below(8)],
            ),
            _ => {
                let end = (at + rng.below(256)).min(m.len());
                m.drain(at..end);
            }
        }
    }
    m
}

pub fn run(root: &Path, args: &[String]) -> ExitCode {
    let arg = |name: &str, default: u64| crate::number_arg(args, name, default);
    let iterations = arg("--iterations", 200_000);
    let seed = arg("--seed", 1).max(1);
    let corpus: Vec<Vec<u8>> = mxlab_e2e::notices::labelled(&root.join("tests/notices"))
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect();
    if corpus.is_empty() {
        eprintln!("no notices under tests/notices");
        return ExitCode::from(2);
    }
    std::panic::set_hook(Box::new(|_| {}));
    let started = Instant::now();
    let mut rng = Rng(seed);
    let mut done = 0u64;
    while done < iterations && started.elapsed() < Duration::from_secs(600) {
        let input = mutate(&mut rng, &corpus);
        if std::panic::catch_unwind(|| explain(&input, "fuzz")).is_err() {
            let _ = std::panic::take_hook();
            eprintln!("panic at iteration {done} (seed {seed}); input written to fuzz-crash.eml");
            let _ = std::fs::write("fuzz-crash.eml", &input);
            let _ = explain(&input, "fuzz");
            return ExitCode::FAILURE;
        }
        done += 1;
    }
    println!(
        "{done} mutated notices (seed {seed}), no panic, {:.1} s",
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
