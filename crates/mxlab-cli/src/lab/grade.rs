//! Grading an answer: right (the cause the story's evidence names), or wrong with why not
//! and a nudge. Pure: the answer's rule, the expected one and the lab's report in; words out.

use mxlab_checker::report::Report;
use mxlab_checker::rules::RULES;
use mxlab_vocab::{Lang, RuleId};

use super::say::say;

/// What a full score is worth, and what help costs.
pub const FULL_SCORE: u32 = 100;
pub const HINT_COST: u32 = 15;
pub const WRONG_COST: u32 = 10;
/// Solving is always worth something.
pub const MIN_SCORE: u32 = 10;

/// The score of a solved lab.
pub fn score(hints_used: usize, wrong_attempts: usize) -> u32 {
    let cost = HINT_COST.saturating_mul(hints_used as u32)
        + WRONG_COST.saturating_mul(wrong_attempts as u32);
    FULL_SCORE.saturating_sub(cost).max(MIN_SCORE)
}

/// Where in the mail path a rule's fault sits, for nudges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Area {
    Dns,
    Connection,
    Remote,
    Tls,
    Identity,
    Transport,
    Notice,
}

pub fn area(rule: RuleId) -> Area {
    let id = rule.as_str();
    if id.starts_with("dns.") {
        Area::Dns
    } else if id.starts_with("smtp.connect.") || id.starts_with("smtp.banner.") {
        Area::Connection
    } else if id.starts_with("smtp.tls.") {
        Area::Tls
    } else if id.starts_with("spf.") || id.starts_with("sender.") || id.starts_with("dmarc.") {
        Area::Identity
    } else if id.starts_with("transport.") {
        Area::Transport
    } else if id.starts_with("dsn.")
        || id.starts_with("ok.")
        || id.starts_with("notice.")
        || id.starts_with("probe.")
        || id == "inconclusive"
    {
        Area::Notice
    } else {
        Area::Remote
    }
}

impl Area {
    fn describe(self, lang: Lang) -> &'static str {
        if lang == Lang::Ja {
            return match self {
                Area::Dns => "DNS (メールの配送先を探す段階)",
                Area::Connection => "リモート メール サーバーへの接続そのもの",
                Area::Remote => "SMTP のやり取りの中でリモート メール サーバーが返す応答",
                Area::Tls => "STARTTLS とリモート サーバーの証明書",
                Area::Identity => {
                    "受信側から見た送信サーバーの身元 (SPF、逆引き DNS、ブロックリスト、DMARC)"
                }
                Area::Transport => "送信サーバー自身 (キューとトランスポートの設定)",
                Area::Notice => "通知そのもの",
            };
        }
        match self {
            Area::Dns => "in DNS: finding where the mail should go",
            Area::Connection => "in reaching the remote mail server at all",
            Area::Remote => "in what the remote mail server answers during the SMTP dialogue",
            Area::Tls => "in STARTTLS and the remote server's certificate",
            Area::Identity => {
                "in who the sending server is to the receiver: SPF, reverse DNS, blocklists, DMARC"
            }
            Area::Transport => "on the sending server itself: its queue and its transport settings",
            Area::Notice => "in the notice itself",
        }
    }

    /// Where to look next, for a trainee looking in the wrong place.
    fn nudge(self, lang: Lang) -> &'static str {
        if lang == Lang::Ja {
            return match self {
                Area::Dns => {
                    "送信サーバーが DNS に尋ねたことを自分でも尋ねてください: 上に表示した `nslookup` と `dig` のコマンドで、宛先のドメインを調べます。"
                }
                Area::Connection => {
                    "`dig` で MX を見つけ、送信サーバーと同じように話しかけてみてください: `swaks` (または `telnet <mx> 25`)。"
                }
                Area::Remote => {
                    "通知の Diagnostic-Code にあるリモート サーバーの言葉を読み、`swaks` でやり取りを再現してください。"
                }
                Area::Tls => {
                    "やり取りは STARTTLS まで進みます: `openssl s_client -starttls smtp` で証明書を確認してください。"
                }
                Area::Identity => {
                    "通知の拒否メッセージを読み、受信側と同じように送信者を調べてください: TXT (SPF) レコード、PTR、ブロックリスト。"
                }
                Area::Transport => {
                    "リモート側と DNS が正常に見えるなら、自分のサーバーを見てください: `mxlab lab show queue` (キュー ビューアー) と `mxlab lab show tracking` (メッセージ追跡ログ)。"
                }
                Area::Notice => {
                    "通知を最後まで読んでください: Diagnostic-Code には何と書かれていますか。"
                }
            };
        }
        match self {
            Area::Dns => {
                "Ask DNS what the sending server asked it: the `nslookup` and `dig` commands above, for the recipient's domain."
            }
            Area::Connection => {
                "Find the MX with `dig`, then try to talk to it as the sending server would: `swaks` (or `telnet <mx> 25`)."
            }
            Area::Remote => {
                "Read the remote server's own words in the notice (the Diagnostic-Code), then replay the dialogue with `swaks`."
            }
            Area::Tls => {
                "The dialogue gets as far as STARTTLS: look at the certificate with `openssl s_client -starttls smtp`."
            }
            Area::Identity => {
                "Read the refusal text in the notice, then look the sender up as the receiver does: its TXT (SPF) record, its PTR, the blocklist."
            }
            Area::Transport => {
                "If the remote side and DNS look healthy, look at your own server: `mxlab lab show queue` (the queue viewer) and `mxlab lab show tracking` (the message tracking log)."
            }
            Area::Notice => "Read the notice through: what does its Diagnostic-Code say?",
        }
    }
}

/// A graded answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grade {
    pub right: bool,
    /// What the trainee reads.
    pub text: String,
}

fn title(rule: RuleId, lang: Lang) -> &'static str {
    RULES
        .iter()
        .find(|r| r.id == rule)
        .map_or("", |r| r.text(lang).title)
}

/// Grades `given` against the story's cause `expected`, with the lab's own report (in the
/// trainee's language) for the evidence and the scenario's `debrief` for the seed-style
/// walkthrough.
pub fn grade(
    given: RuleId,
    expected: RuleId,
    report: &Report,
    debrief: Option<&str>,
    lang: Lang,
) -> Grade {
    if given == expected {
        return Grade {
            right: true,
            text: explanation(expected, report, debrief, lang),
        };
    }
    let say = say(lang);
    let stop = if lang == Lang::Ja { "" } else { "." };
    let mut text = format!(
        "{}: {given} — {}{stop}\n",
        say.not_quite,
        title(given, lang)
    );
    text.push_str(&why_not(given, expected, report, lang));
    text.push('\n');
    text.push_str(&format!("{}: {}\n", say.nudge, area(expected).nudge(lang)));
    Grade { right: false, text }
}

/// Why `given` is not the cause.
fn why_not(given: RuleId, expected: RuleId, report: &Report, lang: Lang) -> String {
    let say = say(lang);
    match given {
        RuleId::DsnDelayed => return say.symptom_delayed.into(),
        RuleId::DsnExpired => return say.symptom_expired.into(),
        RuleId::DsnFailed => return say.symptom_failed.into(),
        RuleId::OkDelivered | RuleId::OkDeliverable => return say.symptom_ok.into(),
        _ => {}
    }
    let fired = report
        .findings
        .iter()
        .any(|f| f.rule == given && f.rule != expected);
    if fired {
        let end = if lang == Lang::Ja { "です。" } else { "." };
        return format!("{} {}{end}", say.secondary, area(expected).describe(lang));
    }
    if area(given) == area(expected) {
        say.close.replace("{area}", area(expected).describe(lang))
    } else {
        say.elsewhere.replace("{area}", area(given).describe(lang))
    }
}

/// The full explanation of a right answer: the rule, the seed-style walkthrough, the
/// evidence the lab's own diagnosis found, and what to do.
fn explanation(rule: RuleId, report: &Report, debrief: Option<&str>, lang: Lang) -> String {
    let say = say(lang);
    let stop = if lang == Lang::Ja { "" } else { "." };
    let mut text = format!("{}: {rule} — {}{stop}\n", say.right, title(rule, lang));
    if let Some(r) = RULES.iter().find(|r| r.id == rule) {
        text.push('\n');
        text.push_str(r.text(lang).explanation);
        text.push('\n');
    }
    if let Some(debrief) = debrief {
        text.push('\n');
        text.push_str(debrief.trim_end());
        text.push('\n');
    }
    let finding = report.findings.iter().find(|f| f.rule == rule);
    if let Some(f) = finding {
        text.push_str(&format!("\n{}\n", say.evidence));
        text.push_str(&format!("  {}\n", f.summary));
        for e in &f.evidence {
            text.push_str(&format!("  · {e}\n"));
        }
    }
    let remediation: Vec<String> = match finding {
        Some(f) if !f.remediation.is_empty() => f.remediation.clone(),
        _ => RULES
            .iter()
            .find(|r| r.id == rule)
            .map(|r| {
                r.text(lang)
                    .remediation
                    .iter()
                    .map(|s| s.to_string())
                    .collect()
            })
            .unwrap_or_default(),
    };
    if !remediation.is_empty() {
        text.push_str(&format!("\n{}\n", say.what_to_do));
        for r in remediation {
            text.push_str(&format!("  → {r}\n"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use mxlab_checker::report::{ArtifactsReport, Verdict};
    use mxlab_checker::rule::{Finding, Severity};

    fn report(findings: &[RuleId]) -> Report {
        Report {
            schema: 1,
            source: None,
            scenario: None,
            title: None,
            passed: None,
            verdict: Verdict {
                rule: findings[0],
                summary: String::new(),
            },
            findings: findings
                .iter()
                .map(|r| Finding {
                    rule: *r,
                    severity: Severity::Error,
                    summary: format!("summary of {r}"),
                    evidence: vec![format!("evidence of {r}")],
                    remediation: vec![format!("fix {r}")],
                    recipients: vec![],
                    cleared: false,
                })
                .collect(),
            recipients: vec![],
            timeline: vec![],
            artifacts: ArtifactsReport::default(),
            expectations: vec![],
        }
    }

    #[test]
    fn score_counts_hints_and_wrong_answers_and_never_drops_to_nothing() {
        assert_eq!(score(0, 0), 100);
        assert_eq!(score(1, 0), 85);
        assert_eq!(score(3, 2), 35);
        assert_eq!(score(3, 20), MIN_SCORE);
    }

    #[test]
    fn right_answer_explains_with_evidence_remediation_and_debrief() {
        let r = report(&[RuleId::SmtpConnectTimeout, RuleId::DsnDelayed]);
        let g = grade(
            RuleId::SmtpConnectTimeout,
            RuleId::SmtpConnectTimeout,
            &r,
            Some("Queue viewer first."),
            Lang::En,
        );
        assert!(g.right);
        assert!(g.text.starts_with("Right: smtp.connect.timeout"));
        assert!(g.text.contains("Queue viewer first."));
        assert!(g.text.contains("· evidence of smtp.connect.timeout"));
        assert!(g.text.contains("→ fix smtp.connect.timeout"));
    }

    #[test]
    fn the_symptom_is_named_as_a_symptom() {
        let r = report(&[RuleId::SmtpConnectTimeout, RuleId::DsnDelayed]);
        let g = grade(
            RuleId::DsnDelayed,
            RuleId::SmtpConnectTimeout,
            &r,
            None,
            Lang::En,
        );
        assert!(!g.right);
        assert!(g.text.contains("symptom, not a cause"), "{}", g.text);
        assert!(g.text.contains("Nudge: Find the MX"), "{}", g.text);
    }

    #[test]
    fn wrong_answers_say_whether_they_are_near() {
        let r = report(&[RuleId::DnsLocalResolver]);
        let near = grade(
            RuleId::DnsServfail,
            RuleId::DnsLocalResolver,
            &r,
            None,
            Lang::En,
        );
        assert!(
            near.text.contains("Close: the fault is in DNS"),
            "{}",
            near.text
        );
        let far = grade(
            RuleId::SpfFail,
            RuleId::DnsLocalResolver,
            &r,
            None,
            Lang::En,
        );
        assert!(far.text.contains("does not point there"), "{}", far.text);
        assert!(!far.right);
    }

    #[test]
    fn japanese_grading_uses_the_rules_japanese_and_the_labs_own_words() {
        let r = report(&[RuleId::SmtpConnectTimeout]);
        let wrong = grade(
            RuleId::DsnDelayed,
            RuleId::SmtpConnectTimeout,
            &r,
            None,
            Lang::Ja,
        );
        assert!(
            wrong.text.starts_with("不正解: dsn.delayed — "),
            "{}",
            wrong.text
        );
        assert!(wrong.text.contains("原因ではなく症状"), "{}", wrong.text);
        let right = grade(
            RuleId::SmtpConnectTimeout,
            RuleId::SmtpConnectTimeout,
            &r,
            None,
            Lang::Ja,
        );
        let title = RULES
            .iter()
            .find(|x| x.id == RuleId::SmtpConnectTimeout)
            .unwrap()
            .text(Lang::Ja)
            .title;
        assert!(
            right
                .text
                .starts_with(&format!("正解: smtp.connect.timeout — {title}")),
            "{}",
            right.text
        );
        assert!(right.text.contains("根拠:"), "{}", right.text);
    }

    #[test]
    fn a_true_but_secondary_finding_is_told_apart() {
        let r = report(&[RuleId::SmtpTlsCertExpired, RuleId::SmtpTlsRequired]);
        let g = grade(
            RuleId::SmtpTlsRequired,
            RuleId::SmtpTlsCertExpired,
            &r,
            None,
            Lang::En,
        );
        assert!(g.text.contains("It is true here"), "{}", g.text);
    }
}
