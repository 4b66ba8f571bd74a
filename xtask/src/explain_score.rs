//! `explain-score DIR…` and `explain-sisimai FACT_DIR SAMPLES_DIR`: how `explain` agrees with
//! labelled notices — a directory of `.eml` + `.toml` pairs, or Sisimai's public corpus
//! (set-of-emails `maildir/bsd`) against go-sisimai's `fact/*_test.go` expectations. Misses
//! are listed with `-v`.

use std::path::Path;
use std::process::ExitCode;

use mxlab_e2e::notices::{score_dir, score_sisimai, sisimai_cases};

pub fn dirs(args: &[String]) -> ExitCode {
    let verbose = args.iter().any(|a| a == "-v");
    let dirs: Vec<&String> = args.iter().filter(|a| *a != "-v").collect();
    if dirs.is_empty() {
        eprintln!("usage: cargo xtask explain-score [-v] DIR…");
        return ExitCode::from(2);
    }
    for dir in dirs {
        let score = score_dir(Path::new(dir));
        if verbose {
            for m in &score.misses {
                println!("  miss  {m}");
            }
        }
        println!("{dir}: {}", score.summary());
    }
    ExitCode::SUCCESS
}

pub fn sisimai(args: &[String]) -> ExitCode {
    let verbose = args.iter().any(|a| a == "-v");
    let paths: Vec<&String> = args.iter().filter(|a| *a != "-v").collect();
    let [fact, samples] = paths.as_slice() else {
        eprintln!(
            "usage: cargo xtask explain-sisimai [-v] <go-sisimai>/fact <set-of-emails>/maildir/bsd"
        );
        return ExitCode::from(2);
    };
    let (cases, absent) = sisimai_cases(Path::new(fact), Path::new(samples));
    let started = std::time::Instant::now();
    let (n, strict, lenient, reason, misses) = score_sisimai(&cases);
    if verbose {
        for m in &misses {
            println!("  miss  {m}");
        }
    }
    let pct = |k: usize| 100.0 * k as f64 / n.max(1) as f64;
    println!(
        "{n} recipients ({absent} rows name a sample the corpus lacks): status {:.1}% ({:.1}% counting Sisimai's own x.0.9xx codes by class), reason {:.1}% ({:.2} s)",
        pct(strict),
        pct(lenient),
        pct(reason),
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}

/// `bench-explain`: notices explained per second, the held-out notices in memory explained
/// over and over for at least five seconds (release build).
pub fn bench(root: &Path) -> ExitCode {
    let notices: Vec<Vec<u8>> = mxlab_e2e::notices::labelled(&root.join("tests/notices"))
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .collect();
    let started = std::time::Instant::now();
    let mut done = 0usize;
    while started.elapsed() < std::time::Duration::from_secs(5) {
        for n in &notices {
            let _ = std::hint::black_box(mxlab_checker::explain::explain(n, "bench"));
            done += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{done} notices ({} distinct) in {secs:.2} s: {:.0} notices/s on one core",
        notices.len(),
        done as f64 / secs
    );
    ExitCode::SUCCESS
}
