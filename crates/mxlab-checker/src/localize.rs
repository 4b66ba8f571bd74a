//! A report's sentences for people in another language than the English the diagnosis
//! writes. The diagnosis builds each summary from what it saw; in another language the
//! summary is the rule's own title there, followed by the reply the English quotes — the
//! words the administrator saw, which are never translated — and the catalog's remediation
//! replaces the English steps one for one.

use mxlab_vocab::{Lang, RuleId};

use crate::rule::Finding;
use crate::rules::rule;

/// The English `summary` of `id` in `lang`.
pub fn summary(id: RuleId, english: &str, lang: Lang) -> String {
    if lang == Lang::En {
        return english.to_string();
    }
    let title = rule(id).text(lang).title;
    match quoted(english) {
        Some(q) => format!("{title}: {q}"),
        None => title.to_string(),
    }
}

/// A finding's summary and remediation in `lang`; steps the catalog does not have (none yet)
/// stay as written.
pub fn finding(f: &mut Finding, lang: Lang) {
    if lang == Lang::En {
        return;
    }
    f.summary = summary(f.rule, &f.summary, lang);
    let en = rule(f.rule).text(Lang::En).remediation;
    let there = rule(f.rule).text(lang).remediation;
    let who = f.recipients.first().cloned().unwrap_or_default();
    for step in &mut f.remediation {
        if let Some(i) = en.iter().position(|e| e == step) {
            *step = there[i].to_string();
        } else if let Some(i) = en
            .iter()
            .position(|e| e.contains("<recipient>") && e.replace("<recipient>", &who) == *step)
        {
            // `explain` fills the recipient into the catalog's `mxlab check <recipient>`.
            *step = there[i].replace(PLACEHOLDER_JA, &who);
        }
    }
}

/// How the Japanese catalog writes the recipient a command is to be run for.
const PLACEHOLDER_JA: &str = "<宛先>";

/// The reply an English summary quotes, with its quotes: `'441 4.4.1 …'`. A quote opens
/// after a space (`: '…'`, `is '…'`); an apostrophe (`notice's`) does not.
fn quoted(english: &str) -> Option<&str> {
    let start = english.find(" '")? + 1;
    let end = english.rfind('\'')?;
    (end > start).then(|| &english[start..=end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quoted_reply_is_kept() {
        let s = summary(
            RuleId::SmtpConnectTimeout,
            "mx1.partner.test (127.0.0.10) does not answer connections on port 25: '441 4.4.1 it's down'",
            Lang::Ja,
        );
        assert_eq!(s, "宛先の MX が接続に応答しません: '441 4.4.1 it's down'");
        assert_eq!(
            summary(
                RuleId::DsnDelayed,
                "The delay notice's summary; the real error behind it is '441 4.4.1 x'",
                Lang::Ja
            ),
            "\"400 4.4.7 Message delayed\" は症状であり、原因ではありません: '441 4.4.1 x'"
        );
        assert_eq!(
            summary(RuleId::OkDelivered, "Every message was delivered", Lang::Ja),
            "メールは配信されました"
        );
    }

    #[test]
    fn remediation_step_for_step_with_the_recipient_filled_in() {
        let r = rule(RuleId::SmtpConnectFailed);
        let mut f = Finding {
            rule: r.id,
            severity: r.severity,
            summary: String::new(),
            evidence: Vec::new(),
            remediation: r
                .remediation
                .iter()
                .map(|s| s.replace("<recipient>", "a@b.test"))
                .chain(["something else".to_string()])
                .collect(),
            recipients: vec!["a@b.test".into()],
            cleared: false,
        };
        finding(&mut f, Lang::Ja);
        assert!(
            f.remediation[0].contains("mxlab check a@b.test"),
            "{:?}",
            f.remediation
        );
        assert!(!f.remediation[0].contains(PLACEHOLDER_JA));
        assert_eq!(f.remediation[2], "something else");
    }
}
