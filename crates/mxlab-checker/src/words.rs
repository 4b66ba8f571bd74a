//! The report's own words in each language: its headings, the labels of its lines, and the
//! sentences it builds around figures. What the report quotes — replies, notices, log lines,
//! rule ids — is never translated; what the rules say is in the catalog (`Rule::text`).
//!
//! Every heading is an enum variant with an exhaustive match per language, so a new one does
//! not compile without its Japanese; the tests hold each language to the English's figures.

use mxlab_vocab::Lang;

use crate::rule::Severity;

/// A section of the text report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heading {
    Verdict,
    Findings,
    Recipients,
    Timeline,
    Artifacts,
    Expectations,
}

impl Heading {
    pub const ALL: [Heading; 6] = [
        Heading::Verdict,
        Heading::Findings,
        Heading::Recipients,
        Heading::Timeline,
        Heading::Artifacts,
        Heading::Expectations,
    ];

    pub fn say(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Heading::Verdict, Lang::En) => "verdict",
            (Heading::Findings, Lang::En) => "findings",
            (Heading::Recipients, Lang::En) => "recipients",
            (Heading::Timeline, Lang::En) => "timeline",
            (Heading::Artifacts, Lang::En) => "artifacts",
            (Heading::Expectations, Lang::En) => "expectations",
            (Heading::Verdict, Lang::Ja) => "判定",
            (Heading::Findings, Lang::Ja) => "検出事項",
            (Heading::Recipients, Lang::Ja) => "受信者",
            (Heading::Timeline, Lang::Ja) => "タイムライン",
            (Heading::Artifacts, Lang::Ja) => "収集した資料",
            (Heading::Expectations, Lang::Ja) => "期待される結果",
        }
    }
}

/// A finding's severity as the text report labels it (JSON keeps `error`, `warning`, `info`).
pub fn severity(sev: Severity, lang: Lang) -> &'static str {
    match (lang, sev) {
        (Lang::En, s) => s.as_str(),
        (Lang::Ja, Severity::Error) => "エラー",
        (Lang::Ja, Severity::Warning) => "警告",
        (Lang::Ja, Severity::Info) => "情報",
    }
}

/// Whom a finding explains: `for a, b (cleared since)`.
pub fn for_whom(who: &str, cleared: bool, lang: Lang) -> String {
    match (lang, cleared) {
        (Lang::En, false) => format!("for {who}"),
        (Lang::En, true) => format!("for {who} (cleared since)"),
        (Lang::Ja, false) => format!("対象: {who}"),
        (Lang::Ja, true) => format!("対象: {who} (現在は解消済み)"),
    }
}

/// A recipient's cause, and the bounce reason where a notice gave one.
pub fn cause(rule: &str, reason: Option<&str>, lang: Lang) -> String {
    match (lang, reason) {
        (Lang::En, Some(r)) => format!("cause {rule}  reason {r}"),
        (Lang::En, None) => format!("cause {rule}"),
        (Lang::Ja, Some(r)) => format!("原因 {rule}  理由 {r}"),
        (Lang::Ja, None) => format!("原因 {rule}"),
    }
}

/// The line under a folded run of alike timeline entries.
pub fn more_alike(count: usize, last: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!("… {count} more alike, the last at {last}"),
        Lang::Ja => format!("… ほかに同様の {count} 件、最後は {last}"),
    }
}

/// The count of what the administrator was handed.
pub fn artifacts(dsn: usize, ndr: usize, transcripts: usize, dns: usize, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "{dsn} DSN, {ndr} NDR, {transcripts} SMTP transcript(s), {dns} DNS queries (--json shows them whole)"
        ),
        Lang::Ja => format!(
            "DSN {dsn} 件、NDR {ndr} 件、SMTP トランスクリプト {transcripts} 件、DNS クエリ {dns} 件 (全文は --json で表示)"
        ),
    }
}

/// The last line of a run of several stories.
pub fn tally(passed: usize, failed: usize, lang: Lang) -> String {
    match lang {
        Lang::En => format!("{passed} passed, {failed} failed"),
        Lang::Ja => format!("合格 {passed} 件、不合格 {failed} 件"),
    }
}

/// A timeline entry's kind, as the sending server's history names it. Kinds the report does
/// not know stay as written.
pub fn event(kind: &str, lang: Lang) -> &str {
    match lang {
        Lang::En => kind,
        Lang::Ja => match kind {
            "submitted" => "送信",
            "shadow" => "シャドウ",
            "attempt" => "配信試行",
            "delivered" => "配信完了",
            "delay DSN" => "遅延通知",
            "NDR" => "NDR",
            "expired" => "期限切れ",
            "investigate" => "調査",
            other => other,
        },
    }
}

/// The kinds `event` knows, for its test.
#[cfg(test)]
const EVENTS: [&str; 8] = [
    "submitted",
    "shadow",
    "attempt",
    "delivered",
    "delay DSN",
    "NDR",
    "expired",
    "investigate",
];

/// `s` padded with spaces to `width` columns, a wide (CJK) character counting two, so that
/// Japanese labels line up as English ones do.
pub fn pad(s: &str, width: usize) -> String {
    let used: usize = s.chars().map(columns).sum();
    format!("{s}{}", " ".repeat(width.saturating_sub(used)))
}

fn columns(c: char) -> usize {
    let wide = matches!(c,
        '\u{1100}'..='\u{115f}'
        | '\u{2e80}'..='\u{303e}'
        | '\u{3041}'..='\u{33ff}'
        | '\u{3400}'..='\u{4dbf}'
        | '\u{4e00}'..='\u{9fff}'
        | '\u{ac00}'..='\u{d7a3}'
        | '\u{f900}'..='\u{faff}'
        | '\u{fe30}'..='\u{fe4f}'
        | '\u{ff00}'..='\u{ff60}'
        | '\u{ffe0}'..='\u{ffe6}');
    if wide { 2 } else { 1 }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kana(s: &str) -> bool {
        s.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c))
    }

    /// Every heading and every label in every language; the non-English ones translated, and
    /// each sentence carrying the same figures as the English.
    #[test]
    fn every_word_in_every_language() {
        for h in Heading::ALL {
            for lang in Lang::ALL {
                assert!(!h.say(lang).is_empty(), "{h:?} {lang}");
            }
            assert!(
                kana(h.say(Lang::Ja)) || h.say(Lang::Ja) != h.say(Lang::En),
                "{h:?}"
            );
        }
        for sev in [Severity::Error, Severity::Warning, Severity::Info] {
            assert!(kana(severity(sev, Lang::Ja)) || severity(sev, Lang::Ja) != sev.as_str());
        }
        for kind in EVENTS {
            for lang in Lang::ALL {
                assert!(!event(kind, lang).is_empty());
            }
        }
        for lang in Lang::ALL {
            let line = artifacts(1, 2, 3, 581, lang);
            for n in ["1", "2", "3", "581", "--json"] {
                assert!(line.contains(n), "{lang}: {line}");
            }
            let t = tally(7, 8, lang);
            assert!(t.contains('7') && t.contains('8'), "{lang}: {t}");
            let m = more_alike(23, "2024-05-09T00:33:00+01:00", lang);
            assert!(m.contains("23") && m.contains("2024-05-09T00:33:00+01:00"));
            let f = for_whom("a@b.test", true, lang);
            assert!(f.contains("a@b.test"));
            let c = cause("smtp.connect.timeout", Some("expired"), lang);
            assert!(c.contains("smtp.connect.timeout") && c.contains("expired"));
        }
        for s in [
            artifacts(0, 0, 0, 0, Lang::Ja),
            tally(0, 0, Lang::Ja),
            more_alike(1, "", Lang::Ja),
            for_whom("", true, Lang::Ja),
            cause("", None, Lang::Ja),
        ] {
            assert!(!s.is_ascii(), "untranslated: {s}");
        }
    }

    #[test]
    fn wide_characters_take_two_columns() {
        assert_eq!(pad("エラー", 7), "エラー ");
        assert_eq!(pad("error", 7), "error  ");
        assert_eq!(pad("toolongword", 3), "toolongword");
    }
}
