//! Developer tasks, in Rust rather than shell (run with `cargo xtask <task>`):
//!
//! - `scenario <NAME>… | --all [--json]`: the same as `mxlab run`.
//! - `determinism [--runs N]`: runs `mxlab run --all --json` N times (default 100) with the
//!   other core kept busy, and fails unless every output is byte-identical.
//! - `bench`: builds the release binary and times the seed story with hyperfine; the figures
//!   go in BENCHMARKS.md.
//! - `bench-dns [--bin PATH]`: dnsperf against `mxlab serve` and against NSD serving the same
//!   zone, in one run (Debian packages dnsperf and nsd).
//! - `bench-smtp`: Postfix's smtp-source against `mxlab serve` (sink mode and in-memory
//!   capture) and against Postfix's smtp-sink, in one run (Debian package postfix).
//! - `explain-score [-v] DIR…`: `explain` against labelled notices (`.eml` + `.toml`).
//! - `explain-sisimai [-v] FACT_DIR SAMPLES_DIR`: `explain` against Sisimai's public corpus
//!   and go-sisimai's expectations.
//! - `bench-explain`: notices explained per second (release build).
//! - `fuzz-explain [--iterations N] [--seed S]`: the notice reader under mutated notices.
//! - `fuzz-scenario [--target scenario|zone|spf] [--iterations N] [--minutes M] [--seed S]`:
//!   the scenario loader, the zone parser and the SPF record parser under mutated input.
//! - `fuzz-smtp [--minutes M] [--iterations N] [--seed S]`: the SMTP session core under
//!   mutated sessions.
//! - `hostile`: `mxlab serve` under attack, one fresh server per attack (docs/reliability.md).
//! - `fuzz-dns [--iterations N] [--minutes M] [--seed S]`: the fake DNS's request path under
//!   mutated queries.
//! - `hostile-dns [--dns ADDR [--second ADDR] --pid PID]`: abuse of a running `mxlab serve`'s DNS (or of
//!   one it starts): TCP clients holding connections, a spoofed response between two served
//!   addresses, large-option queries; checks a fresh client is answered within 5 s, UDP keeps
//!   answering and peak RSS stays under 256 MB.

mod bench_dns;
mod bench_smtp;
mod dns_fuzz;
mod explain_fuzz;
mod explain_score;
mod hostile;
pub mod hostile_dns;
mod procfs;
mod scenario_fuzz;
mod smtp_fuzz;

use std::process::{Command, ExitCode};
use std::time::Instant;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("scenario") => {
            let rest = &args[1..];
            mxlab_cli::main_with(
                ["mxlab", "run"]
                    .into_iter()
                    .map(String::from)
                    .chain(rest.iter().cloned()),
            )
        }
        Some("determinism") => determinism(&args[1..]),
        Some("bench") => bench(),
        Some("bench-dns") => bench_dns::run(&root(), &args[1..]),
        Some("bench-smtp") => bench_smtp::run(&root()),
        Some("explain-score") => explain_score::dirs(&args[1..]),
        Some("explain-sisimai") => explain_score::sisimai(&args[1..]),
        Some("bench-explain") => explain_score::bench(&root()),
        Some("fuzz-explain") => explain_fuzz::run(&root(), &args[1..]),
        Some("fuzz-scenario") => scenario_fuzz::run(&root(), &args[1..]),
        Some("hostile") => hostile::run(&root()),
        Some("fuzz-smtp") => smtp_fuzz::run(&root(), &args[1..]),
        Some("fuzz-dns") => dns_fuzz::run(&root(), &args[1..]),
        Some("hostile-dns") => hostile_dns::main(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask scenario <NAME>… | --all [--json]\n       cargo xtask determinism [--runs N]\n       cargo xtask bench | bench-dns | bench-smtp\n       cargo xtask explain-score [-v] DIR… | explain-sisimai [-v] FACT_DIR SAMPLES_DIR\n       cargo xtask bench-explain | fuzz-explain [--iterations N] [--seed S]\n       cargo xtask fuzz-scenario [--target scenario|zone|spf] [--iterations N] [--minutes M] [--seed S]\n       cargo xtask hostile | fuzz-smtp [--minutes M] [--iterations N] [--seed S]\n       cargo xtask fuzz-dns [--iterations N] [--minutes M] [--seed S]\n       cargo xtask hostile-dns [--dns ADDR [--second ADDR] --pid PID]"
            );
            ExitCode::from(2)
        }
    }
}

/// The number after `name` in `args`, or `default` when it is absent or not a number.
pub(crate) fn number_arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

pub(crate) fn release_binary() -> Result<std::path::PathBuf, ExitCode> {
    let status = Command::new(env!("CARGO"))
        .args([
            "build",
            "--release",
            "--quiet",
            "--package",
            "mxlab-cli",
            "--bin",
            "mxlab",
        ])
        .current_dir(root())
        .status()
        .map_err(|e| {
            eprintln!("cargo build: {e}");
            ExitCode::FAILURE
        })?;
    if !status.success() {
        return Err(ExitCode::FAILURE);
    }
    // Where cargo put it: CARGO_TARGET_DIR when set (relative to the workspace), else target/.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| root().join(dir))
        .unwrap_or_else(|| root().join("target"));
    Ok(target.join("release/mxlab"))
}

fn determinism(args: &[String]) -> ExitCode {
    let runs: usize = match args {
        [flag, n] if flag == "--runs" => n.parse().unwrap_or(100),
        _ => 100,
    };
    let bin = match release_binary() {
        Ok(b) => b,
        Err(code) => return code,
    };
    // Load on the other core, bounded in time, so scheduling noise has a chance to show.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let burner = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let started = Instant::now();
            let mut x: u64 = 1;
            while !stop.load(std::sync::atomic::Ordering::Relaxed)
                && started.elapsed().as_secs() < 600
            {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
            }
            x
        })
    };
    let started = Instant::now();
    let mut first: Option<Vec<u8>> = None;
    let mut differing = 0;
    for _ in 0..runs {
        let out = Command::new(&bin)
            .args(["run", "--all", "--json"])
            .output()
            .expect("run mxlab");
        // Identical crashes are not determinism: every run must pass and print a report.
        if !out.status.success() || out.stdout.is_empty() {
            eprintln!("a run failed: {}", String::from_utf8_lossy(&out.stderr));
            return ExitCode::FAILURE;
        }
        match &first {
            None => first = Some(out.stdout),
            Some(f) if *f != out.stdout => differing += 1,
            Some(_) => {}
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let _ = burner.join();
    println!(
        "{runs} runs of `mxlab run --all --json` under load: {} identical, {differing} differing ({:.1} s)",
        runs - differing,
        started.elapsed().as_secs_f64()
    );
    if differing == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn bench() -> ExitCode {
    let bin = match release_binary() {
        Ok(b) => b,
        Err(code) => return code,
    };
    let bin = bin.display().to_string();
    let status = Command::new("hyperfine")
        .args([
            "--warmup",
            "3",
            "--runs",
            "50",
            "--export-markdown",
            "target/bench-seed.md",
        ])
        .arg(format!("{bin} run seed-447"))
        .arg(format!("{bin} run --all"))
        .current_dir(root())
        .status();
    match status {
        Ok(s) if s.success() => {
            println!("table written to target/bench-seed.md");
            ExitCode::SUCCESS
        }
        Ok(_) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("hyperfine: {e} (apt-get install hyperfine)");
            ExitCode::FAILURE
        }
    }
}
