//! The lab commands a trainee runs beside a running lab: `show`, `hint`, `answer`,
//! `status`, `reset`, and `--list`. They read and write the state directory only; `answer`
//! and `hint` read the story again for its texts and its evidence.

use std::io::Write;
use std::path::PathBuf;

use mxlab_scenario::remap::Block;
use mxlab_vocab::RuleId;

use super::grade::{self, grade};
use super::say::say;
use super::start::{Story, texts};
use super::state::{self, Attempt, State};
use super::words::{self, Reading};
use super::{Exhibit, registry};
use crate::{EXIT_MISMATCH, EXIT_OK, EXIT_USAGE};

/// The state directory a command works on.
pub struct Context {
    pub dir: PathBuf,
    /// Given with --state: the commands the lab prints repeat it.
    pub explicit: bool,
    /// The trainee's language.
    pub lang: mxlab_vocab::Lang,
}

impl Context {
    /// ` --state DIR` when the trainee chose one, for commands printed back to them.
    pub fn state_flag(&self) -> String {
        if self.explicit {
            format!(" --state {}", self.dir.display())
        } else {
            String::new()
        }
    }
}

fn fail(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    EXIT_USAGE
}

/// The lab in the state directory, or the usage error saying there is none.
fn load(ctx: &Context) -> Result<State, u8> {
    match State::load(&ctx.dir) {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(fail(format!(
            "no lab in {}: `mxlab lab <SCENARIO>{}` starts one",
            ctx.dir.display(),
            ctx.state_flag()
        ))),
        Err(e) => Err(fail(e)),
    }
}

fn save(ctx: &Context, state: &State) -> Result<(), u8> {
    state.save(&ctx.dir).map_err(fail)
}

fn print(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

pub fn show(ctx: &Context, what: Exhibit) -> u8 {
    let state = match load(ctx) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let read = |path: PathBuf| {
        std::fs::read_to_string(&path).map_err(|e| fail(format!("{}: {e}", path.display())))
    };
    let mut out = String::new();
    match what {
        Exhibit::Dsn => {
            if state.notices == 0 {
                out.push_str("The user received no notice.\n");
            }
            for n in 1..=state.notices {
                let path = state::notice_path(&ctx.dir, n);
                match read(path.clone()) {
                    Ok(text) => {
                        out.push_str(&format!("==> {} <==\n", path.display()));
                        out.push_str(&text);
                        if !text.ends_with('\n') {
                            out.push('\n');
                        }
                    }
                    Err(code) => return code,
                }
            }
        }
        Exhibit::Queue => match read(ctx.dir.join(state::QUEUE_FILE)) {
            Ok(text) => out.push_str(&text),
            Err(code) => return code,
        },
        Exhibit::Tracking => match read(ctx.dir.join(state::TRACKING_FILE)) {
            Ok(text) => out.push_str(&text),
            Err(code) => return code,
        },
    }
    print(&out);
    EXIT_OK
}

/// The story of the lab, loaded in the block it runs in (so its evidence names this lab's
/// addresses).
fn story(state: &State) -> Result<mxlab_scenario::Scenario, u8> {
    let story = Story::resolve(&state.scenario).map_err(fail)?;
    story
        .load(Block::new(state.block).unwrap_or(Block::OWN))
        .map_err(fail)
}

pub fn hint(ctx: &Context) -> u8 {
    let mut state = match load(ctx) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let scenario = match story(&state) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let say = say(ctx.lang);
    let hints = texts(&scenario, ctx.lang).hints;
    if hints.is_empty() {
        print(&format!("{}\n", say.no_hints));
        return EXIT_OK;
    }
    // Once used up, or once solved, every hint is shown again, at no cost.
    if state.hints_used >= hints.len() || state.solved() {
        let mut out = if state.solved() {
            String::new()
        } else {
            format!("{}\n", say.all_hints_used(hints.len()))
        };
        for (i, h) in hints.iter().enumerate() {
            out.push_str(&format!(
                "\n{}: {}\n",
                say.hint_of(i + 1, hints.len()),
                h.trim_end()
            ));
        }
        print(&out);
        return EXIT_OK;
    }
    let n = state.hints_used;
    state.hints_used += 1;
    if let Err(code) = save(ctx, &state) {
        return code;
    }
    print(&format!(
        "{}{}: {}\n",
        say.hint_of(n + 1, hints.len()),
        say.hint_cost(grade::HINT_COST),
        hints[n].trim_end()
    ));
    EXIT_OK
}

pub fn answer(ctx: &Context, given: &str) -> u8 {
    let mut state = match load(ctx) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let rule = match given.trim().parse::<RuleId>() {
        Ok(rule) => rule,
        Err(_) => match words::read(given) {
            Reading::Rule(rule) => rule,
            Reading::Ambiguous(rules) => {
                let list: Vec<&str> = rules.iter().map(|r| r.as_str()).collect();
                print(&format!(
                    "{}\n",
                    say(ctx.lang).ambiguous(given, &list.join(", "))
                ));
                return EXIT_MISMATCH;
            }
            Reading::Unknown => {
                print(&format!("{}\n", say(ctx.lang).unknown(given)));
                return EXIT_MISMATCH;
            }
        },
    };
    let scenario = match story(&state) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let expected = scenario.file.expect.verdict;
    // The lab's own diagnosis, for the evidence in the explanation.
    let report = match mxlab_harness::run(&scenario) {
        Ok(r) => r.localized(ctx.lang),
        Err(e) => return fail(e),
    };
    let texts = texts(&scenario, ctx.lang);
    let say = say(ctx.lang);
    let graded = grade(rule, expected, &report, texts.debrief.as_deref(), ctx.lang);
    let was_solved = state.solved();
    let mut out = String::new();
    if !given.trim().eq_ignore_ascii_case(rule.as_str()) {
        out.push_str(&format!("{}\n", say.read_as(rule.as_str())));
    }
    out.push_str(&graded.text);
    if !was_solved {
        state.attempts.push(Attempt {
            answer: given.to_string(),
            rule: rule.as_str().to_string(),
            right: graded.right,
        });
        if let Err(code) = save(ctx, &state) {
            return code;
        }
    }
    if graded.right {
        let score = grade::score(state.hints_used, state.wrong_attempts());
        out.push_str(&format!(
            "\n{}\n",
            say.score_line(
                score,
                grade::FULL_SCORE,
                state.hints_used,
                state.wrong_attempts(),
                was_solved
            )
        ));
    } else if state.hints_used < texts.hints.len() {
        out.push_str(&format!(
            "{}\n",
            say.ask_hint(
                &format!("mxlab lab hint{}", ctx.state_flag()),
                grade::HINT_COST
            )
        ));
    }
    print(&out);
    if graded.right { EXIT_OK } else { EXIT_MISMATCH }
}

pub fn status(ctx: &Context) -> u8 {
    let state = match load(ctx) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let hints = story(&state)
        .map(|s| texts(&s, ctx.lang).hints.len())
        .unwrap_or(0);
    let mut out = format!("lab      {}\n", state.scenario);
    out.push_str(&format!("state    {}\n", ctx.dir.display()));
    match registry::running_for(&registry::dir(), &ctx.dir) {
        Some(entry) => {
            out.push_str(&format!(
                "running  yes (process {}, block {})\n",
                entry.pid, entry.block
            ));
            for line in &entry.listeners {
                out.push_str(&format!("         {line}\n"));
            }
        }
        None => out.push_str(&format!(
            "running  no (`mxlab lab{}` resumes it)\n",
            ctx.state_flag()
        )),
    }
    out.push_str(&format!("hints    {} of {hints} used\n", state.hints_used));
    out.push_str(&format!("answers  {}", state.attempts.len()));
    for a in &state.attempts {
        out.push_str(&format!(
            "\n         {} {} ({})",
            if a.right { "right" } else { "wrong" },
            a.rule,
            a.answer
        ));
    }
    out.push('\n');
    if state.solved() {
        out.push_str(&format!(
            "solved   yes, score {} of {}\n",
            grade::score(state.hints_used, state.wrong_attempts()),
            grade::FULL_SCORE
        ));
    } else {
        out.push_str(&format!(
            "solved   not yet (score if solved now: {})\n",
            grade::score(state.hints_used, state.wrong_attempts())
        ));
    }
    print(&out);
    EXIT_OK
}

pub fn reset(ctx: &Context) -> u8 {
    let mut state = match load(ctx) {
        Ok(s) => s,
        Err(code) => return code,
    };
    state.hints_used = 0;
    state.attempts.clear();
    if let Err(code) = save(ctx, &state) {
        return code;
    }
    print(&format!(
        "lab {} starts over: no hints used, no answers given.\n",
        state.scenario
    ));
    EXIT_OK
}

pub fn list() -> u8 {
    let running = registry::running(&registry::dir());
    let mut out = String::new();
    if running.is_empty() {
        out.push_str("no lab is running\n");
    }
    for entry in running {
        out.push_str(&format!(
            "block {}  {}  process {}  state {}\n",
            entry.block,
            entry.scenario,
            entry.pid,
            entry.state.display()
        ));
        for line in &entry.listeners {
            out.push_str(&format!("  {line}\n"));
        }
    }
    print(&out);
    EXIT_OK
}
