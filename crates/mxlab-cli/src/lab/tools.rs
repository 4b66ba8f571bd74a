//! The commands a trainee investigates with, written out for this lab's addresses and ports:
//! the standard tools an administrator has (`nslookup`, `dig`, `swaks`, `openssl`) and
//! mxlab's own (`check`, `explain`). Pure: the scenario and where it listens in, lines out.

use std::net::SocketAddr;
use std::path::Path;

use mxlab_scenario::Scenario;

/// Where a lab's world listens and keeps its files.
pub struct Where<'a> {
    /// The DNS the sending server asks (the story's resolver, or its lone server).
    pub dns: SocketAddr,
    pub smtp_port: u16,
    /// The state directory, when the trainee chose it (`--state` goes on every lab command).
    pub state: Option<&'a Path>,
    /// The notices' files, for `mxlab explain`.
    pub notices: &'a [std::path::PathBuf],
    /// The scenario CA's file, for clients that verify STARTTLS.
    pub ca: Option<&'a Path>,
    /// The language of the comments (the commands are the same in every language).
    pub lang: mxlab_vocab::Lang,
}

/// Shell-quotes a path only when it needs it.
fn sh(text: &str) -> String {
    if text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+:@=,".contains(&b))
    {
        text.to_string()
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

/// `dig`'s and `nslookup`'s way of naming a server and a port other than 53.
fn port_flags(dns: SocketAddr) -> (String, String) {
    if dns.port() == 53 {
        (String::new(), String::new())
    } else {
        (
            format!(" -p {}", dns.port()),
            format!(" -port={}", dns.port()),
        )
    }
}

/// The first recipient of the story's first message, and its sender.
fn complaint(scenario: &Scenario) -> Option<(&str, &str)> {
    let message = scenario.file.sender.messages.first()?;
    Some((message.to.first()?.as_str(), message.from.as_str()))
}

/// The commands, one per line, each with a short comment of what it shows.
pub fn commands(scenario: &Scenario, at: &Where<'_>) -> Vec<String> {
    let mut lines = Vec::new();
    let state = at
        .state
        .map(|p| format!(" --state {}", sh(&p.display().to_string())))
        .unwrap_or_default();
    let (dig_port, ns_port) = port_flags(at.dns);
    let server = at.dns.ip();
    if let Some((to, from)) = complaint(scenario) {
        let domain = to.rsplit_once('@').map_or(to, |(_, d)| d);
        lines.push(format!(
            "nslookup{ns_port} -type=MX {domain} {server}   # the MX, as the sending server's DNS answers"
        ));
        lines.push(format!(
            "dig @{server}{dig_port} {domain} MX   # the same, with the full answer"
        ));
        if let Some(root) = scenario.dns.root_hints(&scenario.zones).first() {
            lines.push(format!(
                "dig @{root}{dig_port} +trace {domain} MX   # the walk from this world's root"
            ));
        }
        let reverse_zone = scenario
            .zones
            .iter()
            .any(|z| z.origin.to_ascii().ends_with("in-addr.arpa."));
        if reverse_zone {
            lines.push(format!(
                "dig @{server}{dig_port} -x {}   # the sending IP's PTR",
                scenario.sender_ip
            ));
        }
        for (host, ip) in scenario
            .file
            .smtp
            .hosts
            .iter()
            .zip(&scenario.host_addresses)
        {
            let name = host.name.get_ref();
            let addr = SocketAddr::new(*ip, at.smtp_port);
            lines.push(format!(
                "swaks --server {addr} --to {to} --from {from} --local-interface {}   # talk SMTP to {name} as the sending server",
                scenario.sender_ip
            ));
            if host.tls.is_some() {
                let ca = at
                    .ca
                    .map(|p| format!(" -CAfile {}", sh(&p.display().to_string())))
                    .unwrap_or_default();
                lines.push(format!(
                    "openssl s_client -starttls smtp -connect {addr} -servername {name}{ca} </dev/null   # its certificate"
                ));
            }
        }
        let roots = scenario
            .dns
            .root_hints(&scenario.zones)
            .iter()
            .map(|r| format!(" --root {}", SocketAddr::new(*r, at.dns.port())))
            .collect::<String>();
        let roots = if roots.is_empty() {
            format!(" --root {}", at.dns)
        } else {
            roots
        };
        let ca = at
            .ca
            .map(|p| format!(" --ca {}", sh(&p.display().to_string())))
            .unwrap_or_default();
        lines.push(format!(
            "mxlab check {to} --from {from} --ip {} --dns {}{roots} --smtp-port {}{ca}   # mxlab's live diagnosis",
            scenario.sender_ip, at.dns, at.smtp_port
        ));
    }
    for notice in at.notices {
        lines.push(format!(
            "mxlab explain {}   # what the notice says",
            sh(&notice.display().to_string())
        ));
    }
    lines.push(format!(
        "mxlab lab show queue{state}   # the queue viewer; also: show tracking, show dsn"
    ));
    lines.push(format!(
        "mxlab lab hint{state}   # one hint at a time (costs points)"
    ));
    lines.push(format!(
        "mxlab lab answer{state} <rule id or plain words>   # a rule id from `mxlab rules`, or say it in words"
    ));
    align(lines, at.lang)
}

/// A comment in the trainee's language.
fn note_in(note: &str, lang: mxlab_vocab::Lang) -> String {
    if lang == mxlab_vocab::Lang::En {
        return note.to_string();
    }
    const JA: &[(&str, &str)] = &[
        (
            "the MX, as the sending server's DNS answers",
            "送信サーバーの DNS が答える MX",
        ),
        (
            "the same, with the full answer",
            "同じ問い合わせを、応答全体で",
        ),
        (
            "the walk from this world's root",
            "この世界のルートからたどる",
        ),
        ("the sending IP's PTR", "送信 IP の PTR"),
        ("its certificate", "その証明書"),
        ("mxlab's live diagnosis", "mxlab によるその場の診断"),
        ("what the notice says", "通知が何を言っているか"),
        (
            "the queue viewer; also: show tracking, show dsn",
            "キュー ビューアー (ほかに show tracking、show dsn)",
        ),
        (
            "one hint at a time (costs points)",
            "ヒントを 1 つずつ (減点あり)",
        ),
        (
            "a rule id from `mxlab rules`, or say it in words",
            "`mxlab rules` のルール ID、または自分の言葉で",
        ),
    ];
    if let Some((_, ja)) = JA.iter().find(|(en, _)| *en == note) {
        return ja.to_string();
    }
    match note
        .strip_prefix("talk SMTP to ")
        .and_then(|n| n.strip_suffix(" as the sending server"))
    {
        Some(host) => format!("送信サーバーとして {host} と SMTP で話す"),
        None => note.to_string(),
    }
}

/// Lines of `command   # comment` with the comments in one column (as far as is readable).
fn align(lines: Vec<String>, lang: mxlab_vocab::Lang) -> Vec<String> {
    let split: Vec<(String, Option<String>)> = lines
        .into_iter()
        .map(|l| match l.split_once("   # ") {
            Some((c, note)) => (c.trim_end().to_string(), Some(note_in(note, lang))),
            None => (l, None),
        })
        .collect();
    let width = split
        .iter()
        .filter(|(_, n)| n.is_some())
        .map(|(c, _)| c.chars().count())
        .filter(|w| *w <= 60)
        .max()
        .unwrap_or(0);
    split
        .into_iter()
        .map(|(c, note)| match note {
            Some(n) => format!("{c:<width$}  # {n}"),
            None => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use mxlab_scenario::remap::{Block, load_in_block};

    #[test]
    fn commands_name_this_labs_addresses_and_ports() {
        let text = mxlab_scenario::catalog::text("seed-447").unwrap();
        let block = Block::new(7).unwrap();
        let scenario = load_in_block("seed-447", "seed-447", text, block).unwrap();
        let notices = vec![std::path::PathBuf::from("/s/notice-1.eml")];
        let lines = commands(
            &scenario,
            &Where {
                dns: "127.7.0.53:5353".parse().unwrap(),
                smtp_port: 2525,
                state: Some(Path::new("/tmp/my labs")),
                notices: &notices,
                ca: None,
                lang: mxlab_vocab::Lang::En,
            },
        );
        let all = lines.join("\n");
        assert!(
            all.contains("nslookup -port=5353 -type=MX partner.test 127.7.0.53"),
            "{all}"
        );
        assert!(
            all.contains("dig @127.7.0.53 -p 5353 partner.test MX"),
            "{all}"
        );
        assert!(all.contains("swaks --server 127.7.0.10:2525 --to hanako@partner.test --from taro@mycompany.test --local-interface 127.7.0.2"), "{all}");
        assert!(all.contains("mxlab check hanako@partner.test --from taro@mycompany.test --ip 127.7.0.2 --dns 127.7.0.53:5353 --root 127.7.0.53:5353 --smtp-port 2525"), "{all}");
        assert!(all.contains("mxlab explain /s/notice-1.eml"), "{all}");
        assert!(
            all.contains("mxlab lab hint --state '/tmp/my labs'"),
            "{all}"
        );
        assert!(!all.contains("openssl"), "{all}");
    }

    #[test]
    fn comments_follow_the_language_and_commands_do_not() {
        let text = mxlab_scenario::catalog::text("seed-447").unwrap();
        let scenario = load_in_block("seed-447", "s", text, Block::OWN).unwrap();
        let at = |lang| Where {
            dns: "127.0.0.53:53".parse().unwrap(),
            smtp_port: 25,
            state: None,
            notices: &[],
            ca: None,
            lang,
        };
        let en = commands(&scenario, &at(mxlab_vocab::Lang::En));
        let ja = commands(&scenario, &at(mxlab_vocab::Lang::Ja));
        assert_eq!(en.len(), ja.len());
        for (e, j) in en.iter().zip(&ja) {
            assert_eq!(
                e.split("  #").next().unwrap().trim_end(),
                j.split("  #").next().unwrap().trim_end()
            );
            // Every comment has its Japanese.
            let note = j.split("# ").nth(1).unwrap_or("");
            assert!(!note.is_ascii() || note.is_empty(), "{j}");
        }
        assert!(
            ja.iter()
                .any(|l| l.contains("送信サーバーとして mx1.partner.test と SMTP で話す"))
        );
    }

    #[test]
    fn port_53_needs_no_flag() {
        let text = mxlab_scenario::catalog::text("tls-failure").unwrap();
        let scenario = load_in_block("tls-failure", "t", text, Block::OWN).unwrap();
        let lines = commands(
            &scenario,
            &Where {
                dns: "127.0.0.53:53".parse().unwrap(),
                smtp_port: 25,
                state: None,
                notices: &[],
                ca: Some(Path::new("/s/ca.pem")),
                lang: mxlab_vocab::Lang::En,
            },
        );
        let all = lines.join("\n");
        assert!(
            all.contains("nslookup -type=MX partner.test 127.0.0.53"),
            "{all}"
        );
        assert!(all.contains("dig @127.0.0.53 partner.test MX"), "{all}");
        assert!(all.contains("openssl s_client -starttls smtp -connect 127.0.0.10:25 -servername mx1.partner.test -CAfile /s/ca.pem"), "{all}");
    }
}
