//! `fuzz-scenario [--target scenario|zone|spf] [--iterations N] [--minutes M] [--seed S]`:
//! the scenario loader, the zone parser and the SPF record parser under mutated input, on the
//! stable toolchain (no libFuzzer): the catalog's stories, their zones and their SPF records
//! (the seed corpus, committed as `scenarios/`) with bytes flipped, cut, repeated and spliced.
//! Bounded in count (default 1,000,000) and in time (default 10 minutes). Fails on the first
//! panic, and on a loader error without a line and column. Deterministic for a given seed.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::explain_fuzz::{Rng, mutate};

/// What one input did wrong, if anything.
type Check = fn(&[u8]) -> Result<(), String>;

fn scenario(input: &[u8]) -> Result<(), String> {
    let Ok(text) = mxlab_scenario::source::decode("fuzz", input.to_vec()) else {
        return Ok(());
    };
    match mxlab_scenario::load_str("fuzz", "fuzz", &text) {
        Err(e) if e.line == 0 || e.col == 0 => Err(format!("an error without a place: {e}")),
        Err(e) if e.line > text.lines().count() + 1 => Err(format!("a line past the end: {e}")),
        _ => Ok(()),
    }
}

fn zone(input: &[u8]) -> Result<(), String> {
    let text = String::from_utf8_lossy(input);
    match mxlab_scenario::zone::parse_zone("partner.test", &text) {
        Err(e) if e.line > text.lines().count() => Err(format!("a line past the end: {e:?}")),
        _ => Ok(()),
    }
}

fn spf(input: &[u8]) -> Result<(), String> {
    if let Ok(text) = std::str::from_utf8(input) {
        let _ = mxlab_spf::record::Record::parse(text);
    }
    Ok(())
}

/// The seed corpus of each target, read from the catalog.
fn corpus(root: &Path, target: &str) -> Vec<Vec<u8>> {
    let stories: Vec<String> = std::fs::read_dir(root.join("scenarios"))
        .map(|dir| {
            let mut paths: Vec<_> = dir.flatten().map(|e| e.path()).collect();
            paths.sort();
            paths
                .iter()
                .filter(|p| p.extension().is_some_and(|e| e == "toml"))
                .filter_map(|p| std::fs::read_to_string(p).ok())
                .collect()
        })
        .unwrap_or_default();
    let zones = || {
        stories.iter().filter_map(|s| {
            let story: mxlab_scenario::model::ScenarioFile = toml::from_str(s).ok()?;
            Some(
                story
                    .dns
                    .zones
                    .into_iter()
                    .map(|z| z.records.into_inner())
                    .collect::<Vec<_>>(),
            )
        })
    };
    match target {
        "zone" => zones().flatten().map(String::into_bytes).collect(),
        "spf" => zones()
            .flatten()
            .flat_map(|z| {
                z.lines()
                    .filter_map(|l| {
                        l.split_once('"')
                            .map(|(_, r)| r.trim_end_matches('"').to_string())
                    })
                    .filter(|r| r.starts_with("v=spf1"))
                    .collect::<Vec<_>>()
            })
            .map(String::into_bytes)
            .collect(),
        _ => stories.into_iter().map(String::into_bytes).collect(),
    }
}

pub fn run(root: &Path, args: &[String]) -> ExitCode {
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
    };
    let number = |name: &str, default: u64| crate::number_arg(args, name, default);
    let iterations = number("--iterations", 1_000_000);
    let minutes = number("--minutes", 10);
    let seed = number("--seed", 1).max(1);
    let target = value("--target").map_or("scenario", String::as_str);
    let check: Check = match target {
        "scenario" => scenario,
        "zone" => zone,
        "spf" => spf,
        other => {
            eprintln!("--target {other}: one of scenario, zone, spf");
            return ExitCode::from(2);
        }
    };
    let corpus = corpus(root, target);
    if corpus.is_empty() {
        eprintln!("no seed corpus for {target} under scenarios/");
        return ExitCode::from(2);
    }
    std::panic::set_hook(Box::new(|_| {}));
    let started = Instant::now();
    let limit = Duration::from_secs(minutes * 60);
    let mut rng = Rng(seed);
    let mut done = 0u64;
    while done < iterations && started.elapsed() < limit {
        let input = mutate(&mut rng, &corpus);
        let outcome = std::panic::catch_unwind(|| check(&input));
        let finding = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(wrong)) => Some(wrong),
            Err(_) => Some("a panic".to_string()),
        };
        if let Some(finding) = finding {
            let _ = std::panic::take_hook();
            let file = format!("fuzz-crash-{target}.txt");
            eprintln!("{finding} at iteration {done} (seed {seed}); input written to {file}");
            let _ = std::fs::write(&file, &input);
            return ExitCode::FAILURE;
        }
        done += 1;
    }
    println!(
        "{target}: {done} mutated inputs from {} seeds (seed {seed}), no panic, no error without a place, {:.1} s",
        corpus.len(),
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
