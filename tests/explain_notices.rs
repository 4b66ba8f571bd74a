//! `explain` against notices written from each vendor's documented format by someone who had
//! not read the classifier (tests/notices/heldout, labels beside each). Measured, then kept:
//! BENCHMARKS.md has the first-time and current figures; these bounds keep them from falling.

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
    assert!(score.reason_pct() >= 93.0, "{}", score.summary());
    assert!(score.cause_pct() >= 90.0, "{}", score.summary());
}
