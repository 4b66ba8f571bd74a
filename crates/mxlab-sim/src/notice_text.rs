//! The human words of Exchange's notices in each language the simulated server speaks: the
//! sentences a user reads and the administrator's section. The `message/delivery-status`
//! part is machine text and is the same in every language (`dsn.rs`).
//!
//! Japanese: Microsoft's Japanese documentation names the administrator's section
//! 「管理者向けの診断情報」 (Exchange Server 2007 "配信不能レポートについて",
//! https://learn.microsoft.com/ja-jp/previous-versions/office/exchange-server-2007/bb232118(v=exchg.80)).
//! The delay notice's two user sentences are the seed article's Japanese
//! (/work/shared/seed, stellarinfo.com's "Exchange Server で「サーバーが 400 4.4.7 メッセージの
//! 遅延を返しました」エラーを修正する方法"), which quotes a Japanese delay notice; no published copy
//! of Exchange's own Japanese template was found, so the rest follows the English template in
//! the words of Microsoft's Japanese documentation (生成元サーバー, リモート サーバー …).

use mxlab_vocab::Lang;

/// Exchange's phrase for the time left: "1 days, 19 hours and 57 minutes" (sic: always
/// plural, as the English original writes it); in Japanese "1日と19時間57分", as the seed
/// quotes it.
pub fn time_left(minutes: u64, lang: Lang) -> String {
    let (d, h, m) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    match lang {
        Lang::En => format!("{d} days, {h} hours and {m} minutes"),
        Lang::Ja => format!("{d}日と{h}時間{m}分"),
    }
}

/// The subject's prefix: `Delivery delayed: …`, `Undeliverable: …`.
pub fn subject_prefix(delayed: bool, lang: Lang) -> &'static str {
    match (lang, delayed) {
        (Lang::En, true) => "Delivery delayed",
        (Lang::En, false) => "Undeliverable",
        (Lang::Ja, true) => "配信の遅延",
        (Lang::Ja, false) => "配信不能",
    }
}

/// The first line, above the recipients.
pub fn opening(delayed: bool, lang: Lang) -> &'static str {
    match (lang, delayed) {
        (Lang::En, true) => "Delivery is delayed to these recipients or groups:",
        (Lang::En, false) => "Delivery has failed to these recipients or groups:",
        (Lang::Ja, true) => "次の受信者またはグループへの配信が遅延しています:",
        (Lang::Ja, false) => "次の受信者またはグループへの配信に失敗しました:",
    }
}

/// `Subject: …` as the user's part repeats it.
pub fn subject_line(subject: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!("Subject: {subject}"),
        Lang::Ja => format!("件名: {subject}"),
    }
}

/// The delay notice's two sentences to the user: not delivered yet, and for how long the
/// server keeps trying.
pub fn still_trying(time_left: &str, lang: Lang) -> [String; 2] {
    match lang {
        Lang::En => [
            "This message hasn't been delivered yet. Delivery will continue to be attempted."
                .into(),
            format!(
                "The server will keep trying to deliver this message for the next {time_left}. You'll be notified if the message can't be delivered by that time."
            ),
        ],
        Lang::Ja => [
            "このメッセージはまだ配信されていません。現在も配信を試みています。".into(),
            format!(
                "サーバーは今後{time_left}の間、このメッセージの配信を試み続けます。この時間までにメッセージを配信できない場合は、その旨が通知されます。"
            ),
        ],
    }
}

/// What an NDR tells the user: the message expired, or failed for a reason below.
pub fn why_failed(expired: bool, lang: Lang) -> &'static str {
    match (lang, expired) {
        (Lang::En, true) => {
            "The recipient's server didn't accept the message before it expired. Contact the recipient by another means and ask them to check their mail server."
        }
        (Lang::En, false) => {
            "Your message couldn't be delivered. The details for administrators below say why."
        }
        (Lang::Ja, true) => {
            "受信者のサーバーが、有効期限までにメッセージを受け付けませんでした。別の方法で受信者に連絡し、メール サーバーを確認するよう依頼してください。"
        }
        (Lang::Ja, false) => {
            "メッセージを配信できませんでした。理由は、下の管理者向けの詳細に記載されています。"
        }
    }
}

/// The administrator's section's heading.
pub fn for_administrators(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Diagnostic information for administrators:",
        Lang::Ja => "管理者向けの診断情報:",
    }
}

/// `Generating server: …`.
pub fn generating_server(host: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!("Generating server: {host}"),
        Lang::Ja => format!("生成元サーバー: {host}"),
    }
}

/// `Receiving server: host (ip)`.
pub fn receiving_server(host: &str, ip: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!("Receiving server: {host} ({ip})"),
        Lang::Ja => format!("受信側サーバー: {host} ({ip})"),
    }
}

/// A reply and the server that gave it: `Remote Server at host (ip) returned '…'`.
pub fn returned(remote: Option<(&str, &str)>, reply: &str, lang: Lang) -> String {
    match (lang, remote) {
        (Lang::En, Some((host, ip))) => {
            format!("Remote Server at {host} ({ip}) returned '{reply}'")
        }
        (Lang::En, None) => format!("Remote Server returned '{reply}'"),
        (Lang::Ja, Some((host, ip))) => {
            format!("リモート サーバー {host} ({ip}) から '{reply}' が返されました")
        }
        (Lang::Ja, None) => format!("リモート サーバーから '{reply}' が返されました"),
    }
}

/// The heading over the original message's headers.
pub fn original_headers(lang: Lang) -> &'static str {
    match lang {
        Lang::En => "Original message headers:",
        Lang::Ja => "元のメッセージ ヘッダー:",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_sentence_in_both_languages() {
        let left = 43 * 60 + 57;
        assert_eq!(time_left(left, Lang::En), "1 days, 19 hours and 57 minutes");
        assert_eq!(time_left(left, Lang::Ja), "1日と19時間57分");
        assert_eq!(
            still_trying(&time_left(left, Lang::Ja), Lang::Ja)[1],
            "サーバーは今後1日と19時間57分の間、このメッセージの配信を試み続けます。この時間までにメッセージを配信できない場合は、その旨が通知されます。"
        );
    }
}
