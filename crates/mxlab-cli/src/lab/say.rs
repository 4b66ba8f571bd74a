//! The lab's own words, in the trainee's language: headings, grading, hints, status. The
//! story's texts come from its `[lab.en]`/`[lab.ja]` tables and the rules' from the rule
//! catalog; what is quoted (notices, replies, evidence, commands) is never translated.

use mxlab_vocab::Lang;

/// The language of a lab session: `--lang`, else the locale (LC_ALL, LC_MESSAGES, LANG, in
/// POSIX order), else English. Only `lab` reads the environment: it is a session for a
/// person, not a report.
pub fn lang(given: Option<Lang>, env: impl Fn(&str) -> Option<String>) -> Lang {
    if let Some(lang) = given {
        return lang;
    }
    ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .find_map(|k| env(k).filter(|v| !v.is_empty()))
        .map_or(Lang::En, |locale| Lang::from_locale(&locale))
}

/// One language's fixed sentences.
pub struct Say {
    pub complaint: &'static str,
    pub no_notice: &'static str,
    pub servers: &'static str,
    pub investigate: &'static str,
    pub own_addresses: &'static str,
    pub right: &'static str,
    pub not_quite: &'static str,
    pub nudge: &'static str,
    pub evidence: &'static str,
    pub what_to_do: &'static str,
    pub no_hints: &'static str,
    pub symptom_delayed: &'static str,
    pub symptom_expired: &'static str,
    pub symptom_failed: &'static str,
    pub symptom_ok: &'static str,
    pub secondary: &'static str,
    pub close: &'static str,
    pub elsewhere: &'static str,
}

const EN: Say = Say {
    complaint: "The complaint",
    no_notice: "The user received no notice.",
    servers: "The lab's servers, until Ctrl-C",
    investigate: "Investigate from another terminal:",
    own_addresses: "(the story's own addresses)",
    right: "Right",
    not_quite: "Not quite",
    nudge: "Nudge",
    evidence: "The evidence:",
    what_to_do: "What to do:",
    no_hints: "This lab has no hints.",
    symptom_delayed: "\"400 4.4.7 Message delayed\" is a symptom, not a cause: Exchange writes it itself when a message has waited longer than the delay-notification timeout. The cause is the error behind the wait: the queue's last error.",
    symptom_expired: "The message expiring is what happened after two days of failed retries, not why they failed. What made every retry fail?",
    symptom_failed: "That delivery failed is what the notice says; the question is which error made it fail.",
    symptom_ok: "The user holds a notice saying the mail did not go through: something did go wrong.",
    secondary: "It is true here, but it does not explain what the user saw: another fault held the mail up first. The fault is",
    close: "Close: the fault is {area}, but the evidence does not show this one. Compare what the tools show with what this would look like.",
    elsewhere: "The evidence does not point there: the fault is not {area}.",
};

const JA: Say = Say {
    complaint: "ユーザーからの問い合わせ",
    no_notice: "ユーザーは通知を受け取っていません。",
    servers: "ラボのサーバー (Ctrl-C で停止)",
    investigate: "別のターミナルから調査します:",
    own_addresses: "(シナリオどおりのアドレス)",
    right: "正解",
    not_quite: "不正解",
    nudge: "ヒントの方向",
    evidence: "根拠:",
    what_to_do: "対処:",
    no_hints: "このラボにはヒントがありません。",
    symptom_delayed: "「400 4.4.7 Message delayed」は原因ではなく症状です。メッセージが配信遅延通知のタイムアウトを超えて待たされたときに Exchange 自身が書くものです。原因はその待ち時間の裏にあるエラー、つまりキューの最後のエラーです。",
    symptom_expired: "メッセージの期限切れは、2 日間の再試行が失敗し続けた結果であって、失敗の理由ではありません。毎回の再試行を失敗させたのは何でしょうか。",
    symptom_failed: "配信に失敗したことは通知に書かれているとおりです。問われているのは、どのエラーが失敗させたかです。",
    symptom_ok: "ユーザーは配信されなかったという通知を受け取っています。何かが起きています。",
    secondary: "この事象は起きていますが、ユーザーが見た現象の説明にはなりません。先に別の障害がメールを止めています。障害の場所は",
    close: "惜しい: 障害は{area}にありますが、証拠はこの原因を示していません。ツールの結果と、この原因ならどう見えるかを比べてください。",
    elsewhere: "証拠はそこを指していません: 障害は{area}にはありません。",
};

pub fn say(lang: Lang) -> &'static Say {
    match lang {
        Lang::En => &EN,
        Lang::Ja => &JA,
    }
}

impl Say {
    fn ja(&self) -> bool {
        std::ptr::eq(self, &JA)
    }

    pub fn block(&self, n: u8) -> String {
        if self.ja() {
            format!("(ブロック {n}: このラボではシナリオの 127.0.x.y が 127.{n}.x.y です)")
        } else {
            format!("(block {n}: the story's 127.0.x.y are 127.{n}.x.y in this lab)")
        }
    }

    pub fn notice(&self, i: usize, of: usize, subject: &str, date: &str) -> String {
        if self.ja() {
            format!("ユーザーが受け取った通知 {i}/{of}: \"{subject}\" ({date})")
        } else {
            format!("Notice {i} of {of} the user received: \"{subject}\" ({date})")
        }
    }

    pub fn progress_kept(&self, dir: &str) -> String {
        if self.ja() {
            format!("進行状況の保存先: {dir}")
        } else {
            format!("progress is kept in {dir}")
        }
    }

    pub fn hint_cost(&self, cost: u32) -> String {
        if self.ja() {
            format!(" (−{cost} 点)")
        } else {
            format!(" (−{cost} points)")
        }
    }

    pub fn hint_of(&self, n: usize, of: usize) -> String {
        if self.ja() {
            format!("ヒント {n}/{of}")
        } else {
            format!("Hint {n} of {of}")
        }
    }

    pub fn all_hints_used(&self, n: usize) -> String {
        if self.ja() {
            format!("ヒントは {n} 個すべて使いました。")
        } else {
            format!("No more hints: all {n} used.")
        }
    }

    pub fn ask_hint(&self, command: &str, cost: u32) -> String {
        if self.ja() {
            format!("(`{command}` でヒントが出ます。{cost} 点減点。)")
        } else {
            format!("(`{command}` gives a hint, for {cost} points.)")
        }
    }

    pub fn score_line(
        &self,
        score: u32,
        full: u32,
        hints: usize,
        wrong: usize,
        again: bool,
    ) -> String {
        if self.ja() {
            format!(
                "得点: {score}/{full} (ヒント {hints} 回、不正解 {wrong} 回){}",
                if again { " — 解答済み" } else { "" }
            )
        } else {
            let plural = |n: usize, one: &str, many: &str| {
                format!("{n} {}", if n == 1 { one } else { many })
            };
            format!(
                "Score: {score} of {full} ({}, {}){}",
                plural(hints, "hint", "hints"),
                plural(wrong, "wrong answer", "wrong answers"),
                if again { " — already solved" } else { "" }
            )
        }
    }

    pub fn read_as(&self, rule: &str) -> String {
        if self.ja() {
            format!("({rule} と解釈しました)")
        } else {
            format!("(read as {rule})")
        }
    }

    pub fn ambiguous(&self, given: &str, rules: &str) -> String {
        if self.ja() {
            format!(
                "「{given}」は次のどれとも読めます: {rules}。どれか (ルール ID か、より詳しい言葉) で答えてください。今回は解答として数えません。"
            )
        } else {
            format!(
                "\"{given}\" could mean any of: {rules}. Say which (a rule id, or more words); this did not count as an answer."
            )
        }
    }

    pub fn unknown(&self, given: &str) -> String {
        if self.ja() {
            format!(
                "「{given}」からは原因を特定できません。別の言葉か、ルール ID (`mxlab rules` で一覧) で答えてください。今回は解答として数えません。"
            )
        } else {
            format!(
                "\"{given}\" does not name a cause I know. Try other words, or a rule id (`mxlab rules` lists them); this did not count as an answer."
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flag_wins_then_the_locale_in_posix_order() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        assert_eq!(
            lang(Some(Lang::En), env(&[("LANG", "ja_JP.UTF-8")])),
            Lang::En
        );
        assert_eq!(lang(None, env(&[("LANG", "ja_JP.UTF-8")])), Lang::Ja);
        assert_eq!(
            lang(None, env(&[("LC_ALL", "C"), ("LANG", "ja_JP.UTF-8")])),
            Lang::En
        );
        assert_eq!(
            lang(None, env(&[("LC_ALL", ""), ("LANG", "ja_JP.UTF-8")])),
            Lang::Ja
        );
        assert_eq!(lang(None, env(&[])), Lang::En);
    }
}
