//! Scoring `explain` against labelled notices: a directory of `.eml` files each with a
//! `.toml` of what an expert reads in it, and Sisimai's public corpus with go-sisimai's test
//! expectations. The test over the project's own corpus and the `cargo xtask explain-score`
//! / `explain-sisimai` commands share it.

use std::path::{Path, PathBuf};

use mxlab_checker::explain::explain;
use mxlab_checker::report::{RecipientReport, Report};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Expected {
    #[serde(default)]
    pub source: String,
    pub verdict: Option<String>,
    #[serde(default)]
    pub recipients: Vec<ExpectedRecipient>,
}

#[derive(Debug, Deserialize)]
pub struct ExpectedRecipient {
    pub address: String,
    pub outcome: String,
    pub status: Option<String>,
    pub reason: Option<String>,
    pub cause: Option<String>,
}

/// Agreement counts, per recipient (and per notice for the verdict).
#[derive(Debug, Default)]
pub struct Score {
    pub notices: usize,
    pub verdicts: usize,
    pub recipients: usize,
    pub outcome: usize,
    pub status: usize,
    pub reason: usize,
    pub reasons_labelled: usize,
    pub cause: usize,
    pub causes_labelled: usize,
    pub misses: Vec<String>,
}

fn pct(n: usize, of: usize) -> f64 {
    if of == 0 {
        100.0
    } else {
        100.0 * n as f64 / of as f64
    }
}

impl Score {
    pub fn outcome_pct(&self) -> f64 {
        pct(self.outcome, self.recipients)
    }
    pub fn status_pct(&self) -> f64 {
        pct(self.status, self.recipients)
    }
    pub fn reason_pct(&self) -> f64 {
        pct(self.reason, self.reasons_labelled)
    }
    pub fn cause_pct(&self) -> f64 {
        pct(self.cause, self.causes_labelled)
    }

    pub fn summary(&self) -> String {
        format!(
            "{} notices, {} recipients: outcome {:.1}%, status {:.1}%, reason {:.1}% (of {}), cause {:.1}% (of {}), verdict {:.1}%",
            self.notices,
            self.recipients,
            self.outcome_pct(),
            self.status_pct(),
            self.reason_pct(),
            self.reasons_labelled,
            self.cause_pct(),
            self.causes_labelled,
            pct(self.verdicts, self.notices)
        )
    }
}

/// Every `.eml` under `dir` that has a `.toml` beside it, sorted.
pub fn labelled(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "eml") && p.with_extension("toml").exists()
            {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn find<'r>(report: &'r Report, address: &str) -> Option<&'r RecipientReport> {
    report
        .recipients
        .iter()
        .find(|r| r.address.eq_ignore_ascii_case(address))
}

/// Scores every labelled notice under `dir`.
pub fn score_dir(dir: &Path) -> Score {
    let mut score = Score::default();
    for eml in labelled(dir) {
        let name = eml.strip_prefix(dir).unwrap_or(&eml).display().to_string();
        let expected: Expected = match std::fs::read_to_string(eml.with_extension("toml"))
            .map_err(|e| e.to_string())
            .and_then(|t| toml::from_str(&t).map_err(|e| e.to_string()))
        {
            Ok(x) => x,
            Err(e) => {
                score.misses.push(format!("{name}: labels unreadable: {e}"));
                continue;
            }
        };
        let raw = std::fs::read(&eml).unwrap_or_default();
        let report = explain(&raw, &name).ok();
        score.notices += 1;
        let verdict = report.as_ref().map(|r| r.verdict.rule.to_string());
        if expected.verdict.is_none() || verdict == expected.verdict {
            score.verdicts += 1;
        } else {
            score.misses.push(format!(
                "{name}: verdict {} (expected {})",
                verdict.as_deref().unwrap_or("unreadable"),
                expected.verdict.as_deref().unwrap_or("")
            ));
        }
        for x in &expected.recipients {
            score.recipients += 1;
            let got = report.as_ref().and_then(|r| find(r, &x.address));
            let mut miss = Vec::new();
            let outcome = got.map(|g| g.outcome.as_str());
            if outcome == Some(x.outcome.as_str()) {
                score.outcome += 1;
            } else {
                miss.push(format!("outcome {outcome:?} not {}", x.outcome));
            }
            let status = got.map(|g| g.status.as_str());
            match x.status.as_deref() {
                None | Some("") => score.status += 1,
                Some(s) if status == Some(s) => score.status += 1,
                Some(s) => miss.push(format!("status {status:?} not {s}")),
            }
            if let Some(reason) = &x.reason {
                score.reasons_labelled += 1;
                let got = got
                    .and_then(|g| g.notice.as_ref())
                    .map(|n| n.reason.to_string());
                if got.as_deref() == Some(reason.as_str()) {
                    score.reason += 1;
                } else {
                    miss.push(format!("reason {got:?} not {reason}"));
                }
            }
            if let Some(cause) = &x.cause {
                score.causes_labelled += 1;
                let got = got.map(|g| g.cause.rule.to_string());
                if got.as_deref() == Some(cause.as_str()) {
                    score.cause += 1;
                } else {
                    miss.push(format!("cause {got:?} not {cause}"));
                }
            }
            if !miss.is_empty() {
                score
                    .misses
                    .push(format!("{name} {}: {}", x.address, miss.join("; ")));
            }
        }
    }
    score
}

/// One recipient as go-sisimai's tests expect it.
#[derive(Debug)]
pub struct SisimaiCase {
    pub file: PathBuf,
    pub index: usize,
    pub status: String,
    pub reason: String,
}

/// The public expectations in go-sisimai's `fact/*_test.go` tables: label, index, status,
/// reply code, reason, per sample `set-of-emails/maildir/bsd/<prefix><engine>-<label>.eml`;
/// and how many rows name a sample the corpus does not hold (not counted, but said).
pub fn sisimai_cases(fact_dir: &Path, samples: &Path) -> (Vec<SisimaiCase>, usize) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fact_dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    let mut out = Vec::new();
    let mut absent = 0;
    for f in files
        .iter()
        .filter(|f| f.to_string_lossy().ends_with("_test.go"))
    {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        let prefix = if text.contains("func TestLhost") {
            "lhost-"
        } else if text.contains("func TestRhost") {
            "rhost-"
        } else {
            ""
        };
        // Only the public list: rows before `EngineTest(t, "<Name>", publiclist, true)`.
        let Some(end) = text.find("publiclist, true)") else {
            continue;
        };
        let head = &text[..end];
        let Some(name_at) = head.rfind("EngineTest(t, \"") else {
            continue;
        };
        let engine = head[name_at + "EngineTest(t, \"".len()..]
            .split('"')
            .next()
            .unwrap_or("")
            .to_ascii_lowercase();
        let start = head.find("publiclist").unwrap_or(0);
        for line in head[start..name_at].lines() {
            let fields: Vec<String> = line
                .split(['{', '}'])
                .find(|s| s.contains('"'))
                .map(|row| {
                    row.split(',')
                        .map(|v| v.trim().trim_matches('"').to_string())
                        .collect()
                })
                .unwrap_or_default();
            if fields.len() < 5 {
                continue;
            }
            let Ok(index) = fields[1].parse::<usize>() else {
                continue;
            };
            let Some(file) = sample(samples, prefix, &engine, fields[0].as_str()) else {
                absent += 1;
                continue;
            };
            out.push(SisimaiCase {
                file,
                index,
                status: fields[2].clone(),
                reason: fields[4].to_ascii_lowercase(),
            });
        }
    }
    (out, absent)
}

/// Engines whose samples keep an older name than their tables use.
const RENAMED: &[(&str, &str)] = &[("mailmarshalsmtp", "mailmarshal")];

/// The sample a row of the tables names: `<prefix><engine>-<label>.eml`, under the engine's
/// older name where its samples kept one.
fn sample(samples: &Path, prefix: &str, engine: &str, label: &str) -> Option<PathBuf> {
    let named = RENAMED
        .iter()
        .find(|(now, _)| *now == engine)
        .map_or(engine, |(_, then)| then);
    Some(samples.join(format!("{prefix}{named}-{label}.eml"))).filter(|p| p.is_file())
}

/// Sisimai's own statuses for notices that give none (`5.0.9xx`, `4.0.9xx`): only the
/// class can agree with a reader that does not invent codes.
fn pseudo(status: &str) -> bool {
    let parts: Vec<&str> = status.split('.').collect();
    parts.len() == 3 && parts[1] == "0" && parts[2].len() == 3 && parts[2].starts_with('9')
}

/// Agreement with go-sisimai's expectations: (cases, status strict, status with Sisimai's
/// pseudo-statuses counted by class, reason, misses).
pub fn score_sisimai(cases: &[SisimaiCase]) -> (usize, usize, usize, usize, Vec<String>) {
    let (mut strict, mut lenient, mut reason) = (0, 0, 0);
    let mut misses = Vec::new();
    let mut cache: Option<(PathBuf, Vec<Report>)> = None;
    for c in cases {
        if cache.as_ref().is_none_or(|(p, _)| *p != c.file) {
            let raw = std::fs::read(&c.file).unwrap_or_default();
            let reports = mxlab_checker::artifacts::notice::mbox::split(&raw)
                .iter()
                .filter_map(|m| explain(m, "").ok())
                .collect();
            cache = Some((c.file.clone(), reports));
        }
        let reports = &cache.as_ref().expect("filled").1;
        let all: Vec<&RecipientReport> = reports.iter().flat_map(|r| &r.recipients).collect();
        let got = all.get(c.index - 1);
        let status = got.map(|g| g.status.as_str()).unwrap_or("");
        let why = got
            .and_then(|g| g.notice.as_ref())
            .map(|n| n.reason.to_string())
            .unwrap_or_default();
        let name = c.file.file_name().unwrap_or_default().to_string_lossy();
        let mut miss = Vec::new();
        if status == c.status || c.status.is_empty() {
            strict += 1;
            lenient += 1;
        } else if pseudo(&c.status) && status.get(..1) == c.status.get(..1) {
            lenient += 1;
        } else {
            miss.push(format!("status {status} not {}", c.status));
        }
        if why == c.reason {
            reason += 1;
        } else {
            miss.push(format!("reason {why} not {}", c.reason));
        }
        if !miss.is_empty() {
            let said = got
                .map(|g| g.diagnostic.as_str())
                .unwrap_or("(no recipient)");
            let said: String = said.chars().take(140).collect();
            misses.push(format!("{name}#{}: {} — {said}", c.index, miss.join("; ")));
        }
    }
    (cases.len(), strict, lenient, reason, misses)
}
