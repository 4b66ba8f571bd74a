//! A Japanese Exchange's notices read as the English ones: `explain` on seed-447-ja's delay
//! notice and NDR names the same cause, the same recipients' fates and the same findings as
//! on seed-447's — in UTF-8 as the story writes them, and re-encoded in ISO-2022-JP and
//! Shift_JIS as Japanese servers and clients also send them (the reader decodes the charset;
//! the encodings here are encoding_rs's, not the reader's).

use mxlab_checker::explain::explain;
use mxlab_checker::report::Report;

fn notices(name: &str) -> Vec<String> {
    let scenario = mxlab_scenario::catalog::builtin(name).unwrap().unwrap();
    let report = mxlab_harness::run(&scenario).unwrap();
    assert_eq!(report.passed, Some(true), "{name} passes");
    let a = report.artifacts;
    a.dsn.into_iter().chain(a.ndr).collect()
}

/// What a reading decides: the verdict, each recipient's fate, status and cause, and which
/// rules fired — everything but the words that quote the notice itself (its subject).
fn decided(r: &Report) -> String {
    let recipients: Vec<String> = r
        .recipients
        .iter()
        .map(|x| {
            let reason = x.notice.as_ref().map(|n| n.reason.to_string());
            format!(
                "{} {} {} {} {} {:?}",
                x.address, x.outcome, x.status, x.diagnostic, x.cause.rule, reason
            )
        })
        .collect();
    let findings: Vec<String> = r
        .findings
        .iter()
        .map(|f| format!("{} {} {}", f.rule, f.summary, f.recipients.join(",")))
        .collect();
    format!(
        "{} {}\n{}\n{}",
        r.verdict.rule,
        r.verdict.summary,
        recipients.join("\n"),
        findings.join("\n")
    )
}

/// The notice with its UTF-8 text part re-encoded in `charset`, its header saying so. (A
/// report's artifacts have LF line ends.)
fn reencoded(notice: &str, encoding: &'static encoding_rs::Encoding, cte: &str) -> Vec<u8> {
    let header = "Content-Type: text/plain; charset=\"utf-8\"\nContent-Transfer-Encoding: 8bit\n\n";
    let start = notice.find(header).expect("the text part") + header.len();
    let end = start + notice[start..].find("\n--mxlab-").expect("its end");
    let (text, _, unmappable) = encoding.encode(&notice[start..end]);
    assert!(!unmappable, "{} holds the whole text", encoding.name());
    let mut out = notice.as_bytes()[..start - header.len()].to_vec();
    out.extend_from_slice(
        format!(
            "Content-Type: text/plain; charset=\"{}\"\nContent-Transfer-Encoding: {cte}\n\n",
            encoding.name()
        )
        .as_bytes(),
    );
    out.extend_from_slice(&text);
    out.extend_from_slice(&notice.as_bytes()[end..]);
    out
}

#[test]
fn the_japanese_seed_explains_as_the_seed() {
    let en = notices("seed-447");
    let ja = notices("seed-447-ja");
    assert_eq!(en.len(), ja.len(), "a delay notice and an NDR each");
    for (e, j) in en.iter().zip(&ja) {
        assert!(j.contains("管理者向けの診断情報"), "a Japanese notice");
        let want = decided(&explain(e.as_bytes(), "en").unwrap());
        assert_eq!(
            decided(&explain(j.as_bytes(), "ja").unwrap()),
            want,
            "UTF-8"
        );
        for (encoding, cte) in [
            (encoding_rs::ISO_2022_JP, "7bit"),
            (encoding_rs::SHIFT_JIS, "8bit"),
        ] {
            let bytes = reencoded(j, encoding, cte);
            if encoding == encoding_rs::ISO_2022_JP {
                assert!(bytes.is_ascii(), "ISO-2022-JP is 7-bit");
            }
            let got = decided(&explain(&bytes, encoding.name()).unwrap());
            assert_eq!(got, want, "{}", encoding.name());
        }
    }
    // The delay notice names the seed's cause.
    let delay = explain(ja[0].as_bytes(), "ja").unwrap();
    assert_eq!(delay.verdict.rule.to_string(), "smtp.connect.timeout");
}
