//! `mxlab serve` for real clients: listener lines, dig and swaks against them, clean exit on
//! SIGTERM.

mod common;

use std::process::Command;

use common::{sigterm, spawn_serve, swaks};

#[test]
fn serve_prints_its_listeners_answers_real_clients_and_stops_on_sigterm() {
    let (mut child, mut lines) = spawn_serve("healthy", &[]);
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

    let (ok, swaks_out) = swaks(&smtp);
    assert!(
        ok && swaks_out.contains("<-  250 2.6.0 Queued as"),
        "{swaks_out}"
    );

    assert_eq!(sigterm(&mut child), Some(0), "clean shutdown on SIGTERM");
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

/// The scenario CA's file: private (0600, in a 0700 directory of its own), and gone once
/// `serve` has stopped on SIGTERM.
#[test]
fn the_ca_file_is_private_and_gone_after_sigterm() {
    use std::os::unix::fs::PermissionsExt;

    let (mut child, lines) = spawn_serve("starttls", &[]);
    let ca = lines
        .map_while(Result::ok)
        .take(20)
        .find_map(|l| l.strip_prefix("tls-ca - ").map(std::path::PathBuf::from))
        .expect("a tls-ca listener line");
    let file_mode = std::fs::metadata(&ca).unwrap().permissions().mode() & 0o777;
    let dir = ca.parent().unwrap().to_path_buf();
    let dir_mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    assert_eq!(file_mode, 0o600, "{}", ca.display());
    assert_eq!(dir_mode, 0o700, "{}", dir.display());

    assert_eq!(sigterm(&mut child), Some(0));
    assert!(!ca.exists(), "{} left behind", ca.display());
    assert!(!dir.exists(), "{} left behind", dir.display());
}
