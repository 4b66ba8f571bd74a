//! Progress of a run of several stories, on stderr: a bar on a terminal, one plain line per
//! story otherwise (a pipe, a CI log). One story shows nothing.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

pub enum Progress {
    Quiet,
    Lines { total: usize, done: usize },
    Bar(ProgressBar),
}

impl Progress {
    pub fn new(total: usize) -> Progress {
        if total < 2 {
            return Progress::Quiet;
        }
        if !std::io::stderr().is_terminal() {
            return Progress::Lines { total, done: 0 };
        }
        let bar = ProgressBar::new(total as u64);
        if let Ok(style) =
            ProgressStyle::with_template("{bar:32.cyan/blue} {pos:>3}/{len} {wide_msg}")
        {
            bar.set_style(style.progress_chars("█▉▊▋▌▍▎▏ "));
        }
        Progress::Bar(bar)
    }

    /// A story is about to be replayed.
    pub fn start(&mut self, name: &str) {
        if let Progress::Bar(bar) = self {
            bar.set_message(name.to_string());
        }
    }

    /// A story was replayed: `passed` is whether it matched its expectations.
    pub fn done(&mut self, name: &str, passed: bool) {
        let word = if passed { "ok  " } else { "FAIL" };
        match self {
            Progress::Quiet => {}
            Progress::Lines { total, done } => {
                *done += 1;
                let width = total.to_string().len();
                eprintln!("[{done:>width$}/{total}] {word} {name}");
            }
            Progress::Bar(bar) => {
                if !passed {
                    bar.println(format!("FAIL {name}"));
                }
                bar.inc(1);
            }
        }
    }

    pub fn finish(self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}
