//! `mxlab check spf`: RFC 7208 evaluation against any DNS server, with the trace of every term
//! and query, and lint of the whole published SPF tree (docs/CLI.md, docs/spf.md).

use std::net::{IpAddr, SocketAddr};
use std::time::SystemTime;

use clap::{Args, Subcommand};
use mxlab_net::network::DEFAULT_DNS_TIMEOUT;
use mxlab_net::{Clock, DnsClient, RealNetwork};
use mxlab_spf::{Cached, NetResolver, Report, report};

use crate::{EXIT_MISMATCH, EXIT_OK, EXIT_USAGE};

#[derive(Subcommand, Debug)]
pub enum CheckCommand {
    /// RFC 7208 evaluation with a trace of every term and lookup.
    Spf(SpfArgs),
}

#[derive(Args, Debug)]
pub struct SpfArgs {
    /// The sending IP to evaluate.
    #[arg(long)]
    pub ip: IpAddr,
    /// The MAIL FROM address; "" or "<>" for the null reverse path (then postmaster@HELO).
    #[arg(long)]
    pub from: String,
    /// The HELO/EHLO name; when given, the HELO identity is checked too.
    #[arg(long)]
    pub helo: Option<String>,
    /// The DNS server to ask, IP or IP:PORT (default: the first nameserver in /etc/resolv.conf).
    #[arg(long)]
    pub dns: Option<String>,
    /// JSON on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Tries per question: one retransmission, as a stub resolver does.
const ATTEMPTS: u32 = 2;

pub fn run(command: CheckCommand) -> u8 {
    match command {
        CheckCommand::Spf(args) => spf(&args),
    }
}

fn spf(args: &SpfArgs) -> u8 {
    let server = match dns_server(args.dns.as_deref()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_USAGE;
        }
    };
    let mail_from = mailbox(&args.from);
    let helo = args.helo.clone().unwrap_or_default();
    if mail_from.is_empty() && helo.is_empty() {
        eprintln!(
            "error: --from is the null reverse path: give --helo, whose postmaster is then checked"
        );
        return EXIT_USAGE;
    }
    let runtime = match crate::runtime(tokio::runtime::Builder::new_current_thread()) {
        Ok(rt) => rt,
        Err(code) => return code,
    };
    let report = runtime.block_on(evaluate(args.ip, &mail_from, &helo, server));
    if let Err(code) = crate::print_report(
        args.json,
        || serde_json::to_string_pretty(&report),
        || report.to_text(),
    ) {
        return code;
    }
    if report.has_errors() {
        EXIT_MISMATCH
    } else {
        EXIT_OK
    }
}

/// `<a@b>` and `a@b` alike; `<>` is the null path.
pub(crate) fn mailbox(from: &str) -> String {
    let from = from.trim();
    from.strip_prefix('<')
        .and_then(|f| f.strip_suffix('>'))
        .unwrap_or(from)
        .to_string()
}

pub(crate) fn dns_server(arg: Option<&str>) -> Result<SocketAddr, String> {
    match arg {
        Some(text) => parse_server(text).ok_or_else(|| {
            format!("--dns {text}: expected an IP address or IP:PORT (e.g. 127.0.0.1:5353)")
        }),
        None => {
            let conf = std::fs::read_to_string("/etc/resolv.conf")
                .map_err(|e| format!("no --dns given and /etc/resolv.conf is unreadable: {e}"))?;
            first_nameserver(&conf)
                .map(|ip| SocketAddr::new(ip, 53))
                .ok_or_else(|| "no --dns given and /etc/resolv.conf names no nameserver".into())
        }
    }
}

pub(crate) fn parse_server(text: &str) -> Option<SocketAddr> {
    text.parse::<SocketAddr>().ok().or_else(|| {
        text.parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, 53))
    })
}

/// The first `nameserver` line's address (a zone index such as `%eth0` is dropped).
fn first_nameserver(conf: &str) -> Option<IpAddr> {
    conf.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next() == Some("nameserver"))
            .then(|| words.next())
            .flatten()
            .and_then(|addr| addr.split('%').next())
            .and_then(|addr| addr.parse().ok())
    })
}

async fn evaluate(ip: IpAddr, mail_from: &str, helo: &str, server: SocketAddr) -> Report {
    let net = RealNetwork::new();
    // The stub needs a clock for its timeouts; story time means nothing outside scenarios.
    let clock = Clock::starting_now(time::OffsetDateTime::UNIX_EPOCH, 1.0);
    let client = DnsClient::new(&net, clock, server, DEFAULT_DNS_TIMEOUT, ATTEMPTS);
    // One question, one answer: the survey after the check reuses what the check asked.
    let resolver = Cached::new(NetResolver::new(client));
    // %{t} is the one macro that needs the time; against real DNS, real time is the answer.
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut report = report::check(&resolver, ip, mail_from, helo, now).await;
    report.dns = Some(server.to_string());
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf() {
        let conf =
            "# generated\nsearch example.test\nnameserver fe80::1%eth0\nnameserver 10.0.0.1\n";
        assert_eq!(first_nameserver(conf), Some("fe80::1".parse().unwrap()));
        assert_eq!(
            first_nameserver("nameserver 127.0.0.53\noptions edns0\n"),
            Some("127.0.0.53".parse().unwrap())
        );
        assert_eq!(first_nameserver("search x\n"), None);
    }

    #[test]
    fn servers_and_mailboxes() {
        assert_eq!(
            parse_server("127.0.0.1:5353"),
            Some("127.0.0.1:5353".parse().unwrap())
        );
        assert_eq!(
            parse_server("127.0.0.1"),
            Some("127.0.0.1:53".parse().unwrap())
        );
        assert_eq!(parse_server("[::1]:53"), Some("[::1]:53".parse().unwrap()));
        assert_eq!(parse_server("dns.example"), None);
        assert_eq!(mailbox("<taro@mycompany.test>"), "taro@mycompany.test");
        assert_eq!(mailbox("<>"), "");
        assert_eq!(mailbox("taro@mycompany.test"), "taro@mycompany.test");
    }
}
