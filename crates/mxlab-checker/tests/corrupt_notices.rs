//! Notices that once made the reader panic, found by `cargo xtask fuzz-explain`: each is read
//! to a report or refused, never a panic — in debug builds too, where a dependency's own debug
//! assertions run.

use mxlab_checker::explain::explain;

#[test]
fn a_closing_boundary_of_no_open_multipart_is_read() {
    // A Gmail notice mutated by the fuzzer: a nested multipart closed by a boundary that no
    // open part declared (mail-parser asserts on it in debug builds, then recovers).
    let raw = include_bytes!("data/corrupt-nested-multipart.eml");
    let report = explain(raw, "corrupt.eml");
    assert!(report.is_ok_and(|r| !r.recipients.is_empty()));
}
