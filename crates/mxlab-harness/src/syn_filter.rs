//! `serve --drop-syn`: the SYNs sent to a host that drops every connection are discarded by an
//! nftables rule, so a client's connect goes unanswered and times out, as against a host behind
//! a silent firewall. A listening socket cannot do that: the kernel completes the handshake
//! before the server sees the connection.
//!
//! Why nftables: on loopback nothing else leaves a SYN unanswered. It is one readable rule per
//! host in a table of this process's own (`inet mxlab_<pid>`), created and deleted atomically,
//! and it lives in the network namespace `serve` runs in — meant for a namespace of its own,
//! such as tests/real-mta/postfix.sh gives. (iptables would need the legacy or nft backend
//! chosen and its own cleanup; `tc` drop actions are not in every kernel.) Needs root or
//! CAP_NET_ADMIN and `nft` (Debian's nftables).

use std::io::{self, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

/// The installed table; deleted when dropped.
pub struct SynFilter {
    table: String,
}

/// `nft` on PATH, or where Debian puts it (root's PATH has /usr/sbin, a user's may not).
fn nft() -> Command {
    let on_path = std::env::var_os("PATH")
        .is_some_and(|path| std::env::split_paths(&path).any(|dir| dir.join("nft").is_file()));
    Command::new(if on_path { "nft" } else { "/usr/sbin/nft" })
}

fn run_nft(args: &[&str], script: Option<&str>) -> io::Result<()> {
    let mut child = nft()
        .args(args)
        .stdin(if script.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("nft: {e} (apt-get install nftables)")))?;
    if let (Some(script), Some(mut stdin)) = (script, child.stdin.take()) {
        stdin.write_all(script.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if out.status.success() {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "nft {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// The ruleset that drops every TCP packet to `addrs` (nothing is ever established there, so
/// every one is a SYN or its retransmission).
pub fn ruleset(table: &str, addrs: &[SocketAddr]) -> String {
    let mut s = format!(
        "table inet {table} {{\n  chain input {{\n    type filter hook input priority filter; policy accept;\n"
    );
    for addr in addrs {
        let family = if addr.is_ipv4() { "ip" } else { "ip6" };
        s.push_str(&format!(
            "    {family} daddr {} tcp dport {} drop\n",
            addr.ip(),
            addr.port()
        ));
    }
    s.push_str("  }\n}\n");
    s
}

impl SynFilter {
    /// Drops the SYNs to `addrs` in this network namespace. Tables a killed `serve` left behind
    /// (`mxlab_<pid>` of a process that is gone) are deleted first.
    pub fn install(addrs: &[SocketAddr]) -> io::Result<SynFilter> {
        remove_stale();
        let table = format!("mxlab_{}", std::process::id());
        // A table of the same name is this process's own from an earlier start: replace it.
        let _ = run_nft(&["delete", "table", "inet", &table], None);
        run_nft(&["-f", "-"], Some(&ruleset(&table, addrs)))?;
        Ok(SynFilter { table })
    }
}

impl Drop for SynFilter {
    fn drop(&mut self) {
        if let Err(e) = run_nft(&["delete", "table", "inet", &self.table], None) {
            tracing::warn!("--drop-syn: {e}");
        }
    }
}

/// Deletes the `inet mxlab_<pid>` tables whose process no longer runs.
fn remove_stale() {
    let Ok(out) = nft()
        .args(["list", "tables", "inet"])
        .stderr(Stdio::null())
        .output()
    else {
        return;
    };
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(pid) = line
            .trim()
            .strip_prefix("table inet mxlab_")
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            let _ = run_nft(&["delete", "table", "inet", &format!("mxlab_{pid}")], None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_drop_rule_per_address() {
        let addrs = [
            "127.0.0.10:25".parse().unwrap(),
            "[::1]:2525".parse().unwrap(),
        ];
        assert_eq!(
            ruleset("mxlab_7", &addrs),
            "table inet mxlab_7 {\n  chain input {\n    type filter hook input priority filter; policy accept;\n    ip daddr 127.0.0.10 tcp dport 25 drop\n    ip6 daddr ::1 tcp dport 2525 drop\n  }\n}\n"
        );
    }
}
