//! Runs the public RFC 7208 test suite (the YAML file maintained with pyspf, not part of this
//! repository) against mxlab-spf:
//!
//! ```sh
//! pip download --no-deps --no-binary :all: pyspf -d /tmp/pyspf
//! tar xzf /tmp/pyspf/pyspf-*.tar.gz -C /tmp/pyspf
//! cargo run -p mxlab-spf --example conformance -- /tmp/pyspf/pyspf-*/test/rfc7208-tests.yml
//! ```
//!
//! Each scenario's `zonedata` is served by [`SuiteDns`], which follows the suite driver's rules
//! (pyspf's test/testspf.py): `SPF` entries double as TXT unless the name lists TXT itself,
//! `TXT: NONE` means no TXT, `TIMEOUT` makes every type not listed before it time out, and an
//! unknown name starting with `error.` times out. Prints each failure, the result chosen where
//! the suite accepts several, then `N passed, M failed`; exits 1 if any failed.

use std::collections::HashMap;
use std::net::IpAddr;
use std::process::ExitCode;

use mxlab_spf::{Lookup, QueryType, Rdata, Request, SpfResolver, SpfResult, check_host};
use yaml_rust2::{Yaml, YamlLoader};

/// One zone entry in file order.
#[derive(Clone, Debug)]
enum Entry {
    Record(QueryType, Rdata),
    /// `TXT: NONE`: listed, but no record.
    NoTxt,
    Cname(String),
    Timeout,
}

#[derive(Default)]
struct SuiteDns {
    zone: HashMap<String, Vec<Entry>>,
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl SuiteDns {
    fn answer(&self, name: &str, qtype: QueryType, depth: usize) -> Lookup {
        let Some(entries) = self.zone.get(&key(name)) else {
            return if key(name).starts_with("error.") {
                Lookup::Timeout
            } else {
                Lookup::NxDomain
            };
        };
        let mut found = Vec::new();
        for entry in entries {
            match entry {
                Entry::Timeout if found.is_empty() => return Lookup::Timeout,
                Entry::Timeout => break,
                Entry::Record(t, data) if *t == qtype => found.push(data.clone()),
                Entry::Cname(target) if found.is_empty() => {
                    // The driver follows one level; a longer chain or a loop is an error here,
                    // as a resolver would report it.
                    if depth >= 8 {
                        return Lookup::Error("CNAME loop".into());
                    }
                    return self.answer(target, qtype, depth + 1);
                }
                _ => {}
            }
        }
        if found.is_empty() {
            Lookup::NoData
        } else {
            Lookup::Records(found)
        }
    }
}

impl SpfResolver for SuiteDns {
    async fn lookup(&self, name: &str, qtype: QueryType) -> Lookup {
        self.answer(name, qtype, 0)
    }
}

fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Real(r) => Some(r.clone()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// TXT/SPF data: one string, or a list of strings (the character-strings of one record).
fn txt_strings(y: &Yaml) -> Vec<Vec<u8>> {
    match y {
        Yaml::Array(items) => items
            .iter()
            .filter_map(scalar)
            .map(String::into_bytes)
            .collect(),
        other => scalar(other).map(String::into_bytes).into_iter().collect(),
    }
}

fn load_zone(zonedata: &Yaml) -> Result<SuiteDns, String> {
    let mut dns = SuiteDns::default();
    let Some(names) = zonedata.as_hash() else {
        return Ok(dns);
    };
    for (name, entries) in names {
        let name = scalar(name).ok_or("zone name is not a string")?;
        let mut list = Vec::new();
        let mut generated = Vec::new();
        let mut has_txt = false;
        for entry in entries.as_vec().into_iter().flatten() {
            if entry.as_str() == Some("TIMEOUT") {
                list.push(Entry::Timeout);
                continue;
            }
            let Some(map) = entry.as_hash() else {
                return Err(format!("{name}: unreadable entry {entry:?}"));
            };
            for (rtype, value) in map {
                let rtype = scalar(rtype).unwrap_or_default();
                let text = scalar(value).unwrap_or_default();
                match rtype.as_str() {
                    "TXT" => {
                        has_txt = true;
                        if text == "NONE" {
                            list.push(Entry::NoTxt);
                        } else {
                            list.push(Entry::Record(
                                QueryType::Txt,
                                Rdata::Txt(txt_strings(value)),
                            ));
                        }
                    }
                    "SPF" => {
                        let data = Rdata::Txt(txt_strings(value));
                        list.push(Entry::Record(QueryType::Spf, data.clone()));
                        generated.push(Entry::Record(QueryType::Txt, data));
                    }
                    "A" => list.push(Entry::Record(
                        QueryType::A,
                        Rdata::A(text.parse().map_err(|_| format!("{name}: A {text}"))?),
                    )),
                    "AAAA" => list.push(Entry::Record(
                        QueryType::Aaaa,
                        Rdata::Aaaa(text.parse().map_err(|_| format!("{name}: AAAA {text}"))?),
                    )),
                    "MX" => {
                        let pair = value.as_vec().ok_or(format!("{name}: MX {value:?}"))?;
                        let preference = pair
                            .first()
                            .and_then(Yaml::as_i64)
                            .and_then(|p| u16::try_from(p).ok())
                            .ok_or(format!("{name}: MX preference"))?;
                        let exchange = pair.get(1).and_then(scalar).unwrap_or_default();
                        list.push(Entry::Record(
                            QueryType::Mx,
                            Rdata::Mx {
                                preference,
                                exchange,
                            },
                        ));
                    }
                    "PTR" => list.push(Entry::Record(QueryType::Ptr, Rdata::Ptr(text))),
                    "CNAME" => list.push(Entry::Cname(text)),
                    other => return Err(format!("{name}: unknown type {other}")),
                }
            }
        }
        // The driver copies SPF entries to TXT only where the name lists no TXT at all.
        if !has_txt {
            list.extend(generated);
        }
        list.retain(|e| !matches!(e, Entry::NoTxt));
        dns.zone.insert(key(&name), list);
    }
    Ok(dns)
}

struct Outcome {
    passed: usize,
    failed: Vec<String>,
    choices: Vec<String>,
}

async fn run_scenario(doc: &Yaml, outcome: &mut Outcome) -> Result<(), String> {
    let dns = load_zone(&doc["zonedata"])?;
    let section = doc["description"].as_str().unwrap_or("?").to_string();
    let Some(tests) = doc["tests"].as_hash() else {
        return Ok(());
    };
    for (id, test) in tests {
        let id = scalar(id).unwrap_or_default();
        let host = scalar(&test["host"]).unwrap_or_default();
        let ip: IpAddr = host
            .parse()
            .map_err(|_| format!("{id}: host {host:?} is not an IP address"))?;
        let mail_from = scalar(&test["mailfrom"]).unwrap_or_default();
        let helo = scalar(&test["helo"]).unwrap_or_default();
        let expected: Vec<String> = match &test["result"] {
            Yaml::Array(items) => items.iter().filter_map(scalar).collect(),
            other => scalar(other).into_iter().collect(),
        };
        let request = Request::mail_from(ip, &mail_from, &helo);
        let trace = check_host(&dns, &request).await;
        let got = trace.result;
        let result_ok = expected.iter().any(|e| SpfResult::parse(e) == Some(got));
        let explanation = trace
            .explanation
            .clone()
            .unwrap_or_else(|| "DEFAULT".into());
        let explanation_ok = match scalar(&test["explanation"]) {
            Some(want) => want == explanation,
            None => true,
        };
        if result_ok && explanation_ok {
            outcome.passed += 1;
            // Where the suite accepts several results, say which one this engine chose.
            if expected.len() > 1 {
                let preferred = expected.first().and_then(|e| SpfResult::parse(e)) == Some(got);
                outcome.choices.push(format!(
                    "{id} ({section}): {got} of {}{}",
                    expected.join("|"),
                    if preferred {
                        " (the suite's preference)"
                    } else {
                        ""
                    }
                ));
            }
        } else {
            let mut line = format!(
                "FAIL {id} ({section}): expected {} got {got}",
                expected.join("|")
            );
            if !explanation_ok {
                line.push_str(&format!(
                    "; explanation {:?}, expected {:?}",
                    explanation,
                    scalar(&test["explanation"]).unwrap_or_default()
                ));
            }
            line.push_str(&format!("\n     because {}", trace.reason));
            outcome.failed.push(line);
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: conformance <rfc7208-tests.yml>");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let docs = match YamlLoader::load_from_str(&text) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let mut outcome = Outcome {
        passed: 0,
        failed: Vec::new(),
        choices: Vec::new(),
    };
    for doc in &docs {
        if let Err(e) = runtime.block_on(run_scenario(doc, &mut outcome)) {
            eprintln!("error: {path}: {e}");
            return ExitCode::from(2);
        }
    }
    for line in &outcome.failed {
        println!("{line}");
    }
    for line in &outcome.choices {
        println!("choice {line}");
    }
    println!("{} passed, {} failed", outcome.passed, outcome.failed.len());
    if outcome.failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
