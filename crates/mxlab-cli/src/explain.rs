//! `mxlab explain FILE… | -`: each message of each file (an `.eml`, or an mbox of several)
//! explained on its own. Files are read as streams, one message at a time, so an mbox of any
//! size costs the memory of one message and its report (with `--html`, of every report: the
//! page is written once all are read).

use std::fs::File;
use std::io::{self, BufReader, Read, Write};
use std::path::Path;

use mxlab_checker::artifacts::notice::mbox::Messages;
use mxlab_checker::explain::{explain, is_error};
use mxlab_checker::report::Report;
use mxlab_vocab::Lang;

use crate::{EXIT_MISMATCH, EXIT_OK, EXIT_USAGE};

/// Where the reports go: one object, or an array once there is a second.
struct Out {
    json: bool,
    lang: Lang,
    first: Option<Report>,
    count: usize,
}

impl Out {
    fn push(&mut self, report: Report, stdout: &mut impl Write) {
        self.count += 1;
        let report = report.localized(self.lang);
        if !self.json {
            if self.count > 1 {
                let _ = writeln!(stdout, "\n{}\n", "─".repeat(72));
            }
            let _ = write!(stdout, "{}", report.to_text_in(self.lang));
            return;
        }
        match self.count {
            1 => self.first = Some(report),
            2 => {
                let first = self.first.take().expect("held");
                let _ = write!(stdout, "[\n{},\n{}", pretty(&first), pretty(&report));
            }
            _ => {
                let _ = write!(stdout, ",\n{}", pretty(&report));
            }
        }
    }

    fn finish(self, stdout: &mut impl Write) {
        if !self.json {
            return;
        }
        match (self.count, self.first) {
            (1, Some(one)) => {
                let _ = writeln!(stdout, "{}", pretty(&one));
            }
            (n, _) if n > 1 => {
                let _ = writeln!(stdout, "\n]");
            }
            _ => {}
        }
    }
}

fn pretty(report: &Report) -> String {
    serde_json::to_string_pretty(report).expect("reports serialise")
}

/// `lang` is stdout's language (text and JSON); the HTML page stays English.
pub fn run(files: &[String], json: bool, html: Option<&Path>, lang: Lang) -> u8 {
    let mut stdout = io::stdout().lock();
    let mut for_html: Vec<Report> = Vec::new();
    let mut out = Out {
        json,
        lang,
        first: None,
        count: 0,
    };
    let mut unreadable = false;
    let mut error = false;
    for file in files {
        let reader: Box<dyn Read> = if file == "-" {
            Box::new(io::stdin().lock())
        } else {
            match File::open(file) {
                Ok(f) => Box::new(f),
                Err(e) => {
                    eprintln!("error: {file}: {e}");
                    unreadable = true;
                    continue;
                }
            }
        };
        let mut n = 0;
        let mut iter = Messages::new(BufReader::with_capacity(64 * 1024, reader)).peekable();
        while let Some(message) = iter.next() {
            n += 1;
            let several = n > 1 || iter.peek().is_some();
            let source = if several {
                format!("{file}#{n}")
            } else {
                file.clone()
            };
            let raw = match message {
                Ok(raw) => raw,
                Err(e) => {
                    eprintln!("error: {source}: {e}");
                    unreadable = true;
                    break;
                }
            };
            match explain(&raw, &source) {
                Ok(report) => {
                    error |= is_error(&report);
                    if html.is_some() {
                        for_html.push(report.clone());
                    }
                    out.push(report, &mut stdout);
                }
                Err(e) => {
                    eprintln!("error: {}", e.0);
                    unreadable = true;
                }
            }
        }
        if n == 0 {
            eprintln!("error: {file}: empty");
            unreadable = true;
        }
    }
    out.finish(&mut stdout);
    if let Some(path) = html
        && !for_html.is_empty()
        && let Err(e) = std::fs::write(path, crate::html::notices_page(&for_html))
    {
        eprintln!("error: cannot write {}: {e}", path.display());
        return EXIT_USAGE;
    }
    if unreadable {
        EXIT_USAGE
    } else if error {
        EXIT_MISMATCH
    } else {
        EXIT_OK
    }
}
