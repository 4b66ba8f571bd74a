//! Running the real `mxlab` binary, as a user would.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Output;

pub fn mxlab(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_mxlab"))
        .args(args)
        .output()
        .expect("run mxlab")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("utf-8 stdout")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("utf-8 stderr")
}

/// A scenario file in a fresh temporary directory.
pub fn scenario_file(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mxlab-test-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

pub fn catalog_text(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../scenarios")
        .join(format!("{name}.toml"));
    std::fs::read_to_string(path).unwrap()
}

/// docs/report.schema.json, compiled once per test binary. `pointer` is a JSON pointer into it
/// ("" for the whole schema, "/$defs/ruleId" for one definition).
pub fn report_schema(pointer: &str) -> (boon::Schemas, boon::SchemaIndex) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/report.schema.json");
    let text = std::fs::read_to_string(&path).expect("docs/report.schema.json");
    let schema: serde_json::Value = serde_json::from_str(&text).expect("the schema is JSON");
    let url = "file:///mxlab/docs/report.schema.json";
    let mut compiler = boon::Compiler::new();
    // In draft 2020-12 `format` only annotates unless asked: `at` must be a real date-time.
    compiler.enable_format_assertions();
    compiler
        .add_resource(url, schema)
        .expect("the schema loads");
    let mut schemas = boon::Schemas::new();
    let index = compiler
        .compile(&format!("{url}#{pointer}"), &mut schemas)
        .unwrap_or_else(|e| panic!("docs/report.schema.json does not compile: {e:#}"));
    (schemas, index)
}

/// Whether `value` is a report (or an array of reports) as docs/report.schema.json has it;
/// the validator's explanation when it is not.
pub fn check_report(value: &serde_json::Value) -> Result<(), String> {
    let (schemas, index) = report_schema("");
    schemas.validate(value, index).map_err(|e| format!("{e}"))
}

/// `mxlab … --json` output that must be a valid report (or an array of them).
pub fn assert_valid_report(value: &serde_json::Value, what: &str) {
    if let Err(e) = check_report(value) {
        panic!("{what}: not a report as docs/report.schema.json has it:\n{e}");
    }
}

/// A fresh empty directory for a test's output files.
pub fn out_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mxlab-out-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether this is CI (`CI` set and not "false"), where a test must not skip for want of a
/// tool or a privilege: .ci/run installs the tools and CI runs as root.
pub fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false")
}

/// Why tests that need root, these `(program, Debian package)` and network namespaces of
/// their own cannot run here, if they cannot. The namespace is probed once per test binary:
/// two probes at once would meet on the name.
#[allow(dead_code)] // only the tests that make namespaces call it
pub fn namespaces_missing(tools: &[(&str, &str)]) -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0");
    if !root {
        return Some("not root (network namespaces need it)".into());
    }
    for (tool, package) in tools {
        let found = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
            .iter()
            .any(|d| std::path::Path::new(d).join(tool).exists());
        if !found {
            return Some(format!("{tool} is missing (apt-get install {package})"));
        }
    }
    static NAMESPACES: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let added = *NAMESPACES.get_or_init(|| {
        let probe = format!("mxlab-probe-{}", std::process::id());
        let added = std::process::Command::new("ip")
            .args(["netns", "add", &probe])
            .output()
            .is_ok_and(|o| o.status.success());
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &probe])
            .output();
        added
    });
    (!added).then(|| "cannot create a network namespace (`ip netns add`)".into())
}

/// The first of `candidates` found on PATH. When none is, a test that needs it skips with
/// the reason printed — except under CI (`CI` set), where the tool must be installed
/// (.ci/run installs it) and its absence fails the test.
pub fn tool(candidates: &[&str], package: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in candidates {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    assert!(
        !under_ci(),
        "CI is set but none of {candidates:?} is installed (Debian package {package}; .ci/run installs it)"
    );
    eprintln!("skipped: none of {candidates:?} on PATH (apt-get install {package})");
    None
}

/// Runs a command with a deadline, killing it when it passes.
pub fn output_within(cmd: &mut std::process::Command, secs: u64) -> Output {
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    // Read both pipes on threads so a chatty child cannot block on a full pipe.
    let mut so = child.stdout.take().unwrap();
    let mut se = child.stderr.take().unwrap();
    let t1 = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut so, &mut v);
        v
    });
    let t2 = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = std::io::Read::read_to_end(&mut se, &mut v);
        v
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break child.wait().expect("wait");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    Output {
        status,
        stdout: t1.join().unwrap(),
        stderr: t2.join().unwrap(),
    }
}

/// `mxlab serve STORY` on free ports with `extra` flags: the child and its stdout's lines
/// (the listener lines come first).
pub fn spawn_serve(
    story: &str,
    extra: &[&str],
) -> (
    std::process::Child,
    std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mxlab"))
        .args(["serve", story, "--dns", "127.0.0.1:0", "--smtp-port", "0"])
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run mxlab serve");
    let lines = std::io::BufReader::new(child.stdout.take().expect("piped")).lines();
    (child, lines)
}

/// SIGTERM, as a service manager stops a server; its exit code once it has stopped.
pub fn sigterm(child: &mut std::process::Child) -> Option<i32> {
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    child.wait().expect("wait").code()
}

/// swaks sending taro@mycompany.test's mail to hanako@partner.test through `server`
/// (`ip:port`); (success, its stdout).
pub fn swaks(server: &str) -> (bool, String) {
    let out = std::process::Command::new("swaks")
        .args([
            "--server",
            server,
            "--to",
            "hanako@partner.test",
            "--from",
            "taro@mycompany.test",
            "--timeout",
            "10",
        ])
        .output()
        .expect("swaks");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}
