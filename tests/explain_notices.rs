//! `explain` against labelled notices it was not written from: notices written from each
//! vendor's documented format by someone who had not read the classifier
//! (tests/notices/heldout), and notices a real Postfix wrote delivering through `mxlab serve`
//! (tests/notices/real, reasons as Sisimai reads them). Measured, then kept: BENCHMARKS.md has
//! the first-time and current figures; these bounds keep them from falling.

use std::path::Path;

use mxlab_e2e::notices::score_dir;

#[test]
fn held_out_notices() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("notices/heldout");
    let score = score_dir(&dir);
    println!("{}", score.summary());
    for m in &score.misses {
        println!("  miss  {m}");
    }
    assert!(score.notices >= 80);
    assert!(score.outcome_pct() >= 95.0, "{}", score.summary());
    assert!(score.status_pct() >= 95.0, "{}", score.summary());
    // The labels' reasons are the writer's own; explain follows Sisimai's reading where the two
    // differ (a connection never made is `expired`), so this bound is lower.
    assert!(score.reason_pct() >= 88.0, "{}", score.summary());
    assert!(score.cause_pct() >= 90.0, "{}", score.summary());
}

/// Four more sets written later, each by someone who had read neither the classifier nor the
/// sets before it (tests/notices/heldout-2: each vendor's format and wordings;
/// tests/notices/heldout-3: real servers' replies found in postmaster pages, forums and issue
/// trackers; tests/notices/heldout-4: senders the others covered less — Microsoft 365,
/// Gmail, ESPs, Courier, MDaemon, Japanese and German notices; tests/notices/heldout-5:
/// hosting stacks, security gateways and providers, in English, Spanish, French, Chinese). Their first, blind figures are
/// in BENCHMARKS.md; their misses were read after.
#[test]
fn later_held_out_notices() {
    for (set, reason, cause) in [
        ("heldout-2", 90.0, 95.0),
        ("heldout-3", 85.0, 90.0),
        ("heldout-4", 88.0, 95.0),
        ("heldout-5", 88.0, 93.0),
    ] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("notices")
            .join(set);
        let score = score_dir(&dir);
        println!("{set}: {}", score.summary());
        for m in &score.misses {
            println!("  miss  {m}");
        }
        assert!(score.notices >= 40, "{set}: {}", score.summary());
        assert!(score.outcome_pct() >= 95.0, "{set}: {}", score.summary());
        assert!(score.status_pct() >= 95.0, "{set}: {}", score.summary());
        assert!(score.reason_pct() >= reason, "{set}: {}", score.summary());
        assert!(score.cause_pct() >= cause, "{set}: {}", score.summary());
    }
}

#[test]
fn notices_a_real_postfix_wrote() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("notices/real");
    let score = score_dir(&dir);
    println!("{}", score.summary());
    for m in &score.misses {
        println!("  miss  {m}");
    }
    assert!(score.notices >= 60);
    assert!(score.outcome_pct() >= 95.0, "{}", score.summary());
    assert!(score.status_pct() >= 95.0, "{}", score.summary());
    assert!(score.reason_pct() >= 75.0, "{}", score.summary());
    assert!(score.cause_pct() >= 95.0, "{}", score.summary());
}
