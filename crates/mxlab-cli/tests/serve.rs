//! `mxlab serve` for real clients: listener lines, dig and swaks against them, clean exit on
//! SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[test]
fn serve_prints_its_listeners_answers_real_clients_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mxlab"))
        .args([
            "serve",
            "healthy",
            "--dns",
            "127.0.0.1:0",
            "--smtp-port",
            "0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let dns_line = lines.next().unwrap().unwrap();
    let smtp_line = lines.next().unwrap().unwrap();
    let dns = dns_line
        .strip_prefix("dns - ")
        .unwrap_or_else(|| panic!("{dns_line}"))
        .to_string();
    let smtp = smtp_line
        .strip_prefix("smtp mx1.partner.test ")
        .unwrap_or_else(|| panic!("{smtp_line}"))
        .to_string();
    let (dns_ip, dns_port) = dns.rsplit_once(':').unwrap();
    assert!(smtp.starts_with("127.0.0.10:"), "{smtp}");

    let dig = Command::new("dig")
        .args([
            &format!("@{dns_ip}"),
            "-p",
            dns_port,
            "+time=2",
            "partner.test",
            "MX",
        ])
        .output()
        .expect("dig");
    let dig = String::from_utf8_lossy(&dig.stdout);
    assert!(
        dig.contains("status: NOERROR") && dig.contains("mx1.partner.test."),
        "{dig}"
    );

    let swaks = Command::new("swaks")
        .args([
            "--server",
            &smtp,
            "--to",
            "hanako@partner.test",
            "--from",
            "taro@mycompany.test",
            "--timeout",
            "10",
        ])
        .output()
        .expect("swaks");
    let swaks_out = String::from_utf8_lossy(&swaks.stdout);
    assert!(
        swaks.status.success() && swaks_out.contains("<-  250 2.6.0 Queued as"),
        "{swaks_out}"
    );

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "clean shutdown on SIGTERM");
}

#[test]
fn serve_refuses_addresses_off_loopback() {
    let out = Command::new(env!("CARGO_BIN_EXE_mxlab"))
        .args(["serve", "healthy", "--dns", "192.0.2.1:53"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("loopback addresses only"));
}
