//! Starting a lab, or resuming one: find a free loopback block, move the story into it,
//! replay it in memory for the notices the user received, keep those in the state
//! directory, then serve the world on real sockets (the same code as `mxlab serve`) until
//! Ctrl-C, with the briefing and the commands printed once every listener is bound.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use mxlab_scenario::Scenario;
use mxlab_scenario::remap::{Block, load_in_block};

use super::progress::Context;
use super::state::{self, State};
use super::{ServeArgs, brief, registry, tools};
use crate::{EXIT_OK, EXIT_USAGE, ServeError};

/// A story as the lab knows it: what to load, and its texts.
pub struct Story {
    /// The catalog name, or the scenario file's absolute path.
    pub arg: String,
    pub name: String,
    pub source: String,
    pub text: String,
}

impl Story {
    /// What a user typed (a catalog name or a path), or what a state file recorded.
    pub fn resolve(arg: &str) -> Result<Story, String> {
        let path = Path::new(arg);
        if arg.ends_with(".toml") || path.components().count() > 1 {
            let label = path.display().to_string();
            let text = mxlab_scenario::source::read(path, &label).map_err(|e| e.to_string())?;
            let absolute = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
            let name = path
                .file_stem()
                .map_or_else(|| label.clone(), |s| s.to_string_lossy().into_owned());
            return Ok(Story {
                arg: absolute.display().to_string(),
                name,
                source: label,
                text,
            });
        }
        let text = mxlab_scenario::catalog::text(arg).ok_or_else(|| {
            format!(
                "{arg}: no such scenario; `mxlab list` shows the catalog (or give a .toml file)"
            )
        })?;
        Ok(Story {
            arg: arg.to_string(),
            name: arg.to_string(),
            source: format!("scenarios/{arg}.toml"),
            text: text.to_string(),
        })
    }

    pub fn load(&self, block: Block) -> Result<Scenario, String> {
        load_in_block(&self.name, &self.source, &self.text, block).map_err(|e| e.to_string())
    }
}

/// The lab's English texts: the `[lab.en]` table, or for a story without one its `story`
/// as the briefing and no hints.
pub struct Texts {
    pub briefing: String,
    pub hints: Vec<String>,
    pub debrief: Option<String>,
}

/// The lab's texts in `lang`: `[lab.ja]` for Japanese when the story has it, else English.
pub fn texts(scenario: &Scenario, lang: mxlab_vocab::Lang) -> Texts {
    match &scenario.file.lab {
        Some(lab) => {
            let en = match (&lab.ja, lang) {
                (Some(ja), mxlab_vocab::Lang::Ja) => ja.get_ref(),
                _ => lab.en.get_ref(),
            };
            Texts {
                briefing: en.briefing.get_ref().clone(),
                hints: en.hints.iter().map(|h| h.get_ref().clone()).collect(),
                debrief: en.debrief.clone(),
            }
        }
        None => Texts {
            briefing: scenario.file.story.clone(),
            hints: Vec::new(),
            debrief: None,
        },
    }
}

fn fail(message: impl std::fmt::Display) -> u8 {
    eprintln!("error: {message}");
    EXIT_USAGE
}

pub fn start(ctx: &Context, arg: Option<&str>, serve: &ServeArgs) -> u8 {
    if !(crate::MIN_TIME_SCALE..=crate::MAX_TIME_SCALE).contains(&serve.time_scale) {
        return fail(format!(
            "--time-scale {}: give a number from {} to {} (story seconds per real second)",
            serve.time_scale,
            crate::MIN_TIME_SCALE,
            crate::MAX_TIME_SCALE
        ));
    }
    if let Some(n) = serve.block
        && Block::new(n).is_none()
    {
        return fail(format!("--block {n}: a block is 0 to {}", Block::MAX));
    }
    if let Err(e) = state::ensure_dir(&ctx.dir) {
        return fail(format!("{}: {e}", ctx.dir.display()));
    }
    let dir = std::fs::canonicalize(&ctx.dir).unwrap_or_else(|_| ctx.dir.clone());
    let registry_dir = registry::dir();
    if let Some(running) = registry::running_for(&registry_dir, &dir) {
        return fail(format!(
            "the lab of {} is already running (process {}):\n{}\nstop it with Ctrl-C in its terminal, or give another --state DIR",
            dir.display(),
            running.pid,
            running.listeners.join("\n")
        ));
    }
    let existing = match State::load(&dir) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let wanted = match (arg, &existing) {
        (Some(arg), _) => arg.to_string(),
        (None, Some(s)) => s.scenario.clone(),
        (None, None) => {
            return fail(format!(
                "no lab in {} yet: `mxlab lab <SCENARIO>` starts one (`mxlab list` shows the stories)",
                dir.display()
            ));
        }
    };
    let story = match Story::resolve(&wanted) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let mut state = match existing {
        Some(s) if s.scenario == story.arg => s,
        Some(s) if s.has_progress() => {
            return fail(format!(
                "{} holds the lab {} in progress ({} hints, {} answers); finish it, `mxlab lab reset` it, or give another --state DIR",
                dir.display(),
                s.scenario,
                s.hints_used,
                s.attempts.len()
            ));
        }
        _ => State {
            scenario: story.arg.clone(),
            ..State::default()
        },
    };
    // A mistake in the file is reported where its author wrote it, before any block.
    if let Err(e) = story.load(Block::OWN) {
        return fail(e);
    }
    let candidates: Vec<u8> = match serve.block {
        Some(n) => vec![n],
        None => {
            let mut c: Vec<u8> = (1..=Block::MAX).collect();
            if state.block > 0 {
                c.retain(|n| *n != state.block);
                c.insert(0, state.block);
            }
            c
        }
    };
    let pid = std::process::id();
    for n in candidates {
        let block = Block::new(n).unwrap_or(Block::OWN);
        let mut entry = registry::Entry {
            block: n,
            pid,
            scenario: story.arg.clone(),
            state: dir.clone(),
            listeners: Vec::new(),
        };
        match registry::claim(&registry_dir, &entry) {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => return fail(format!("{}: {e}", registry_dir.display())),
        }
        let outcome = run_in_block(
            &story,
            block,
            serve,
            &dir,
            ctx,
            &mut state,
            &registry_dir,
            &mut entry,
        );
        registry::release(&registry_dir, n, pid);
        match outcome {
            Outcome::Served => {
                eprintln!(
                    "lab stopped; progress kept in {} (`mxlab lab{}` resumes it)",
                    dir.display(),
                    ctx.state_flag()
                );
                return EXIT_OK;
            }
            Outcome::InUse(e) if serve.block.is_none() => {
                tracing::info!("block {n} is in use ({e}); trying the next");
            }
            Outcome::InUse(e) => return fail(format!("--block {n}: {e}")),
            Outcome::Failed(code) => return code,
        }
    }
    fail(format!(
        "no free loopback block (1 to {}): every one is in use",
        Block::MAX
    ))
}

enum Outcome {
    Served,
    /// An address of the block is taken: try the next.
    InUse(std::io::Error),
    Failed(u8),
}

#[allow(clippy::too_many_arguments)]
fn run_in_block(
    story: &Story,
    block: Block,
    serve: &ServeArgs,
    dir: &Path,
    ctx: &Context,
    state: &mut State,
    registry_dir: &Path,
    entry: &mut registry::Entry,
) -> Outcome {
    let scenario = match story.load(block) {
        Ok(s) => s,
        Err(e) => return Outcome::Failed(fail(e)),
    };
    let foreign = block.foreign(&scenario);
    if block != Block::OWN && !foreign.is_empty() {
        let list: Vec<String> = foreign.iter().map(|ip| ip.to_string()).collect();
        return Outcome::Failed(fail(format!(
            "{}: a lab moves the story's 127.0.0.0/16 into a block of its own, and {} lies outside it; use --block 0 (the story's own addresses, one lab at a time)",
            story.source,
            list.join(", ")
        )));
    }
    // The notices the user received come from the story played out in memory.
    let report = match mxlab_harness::run(&scenario) {
        Ok(r) => r,
        Err(e) => return Outcome::Failed(fail(format!("{}: {e}", story.source))),
    };
    let notices: Vec<String> = report
        .artifacts
        .dsn
        .iter()
        .chain(&report.artifacts.ndr)
        .cloned()
        .collect();
    if let Err(e) = keep_artifacts(dir, state, &notices, &report) {
        return Outcome::Failed(fail(format!("{}: {e}", dir.display())));
    }
    state.block = block.number();
    if let Err(e) = state.save(dir) {
        return Outcome::Failed(fail(e));
    }
    let texts = texts(&scenario, ctx.lang);
    let dns = SocketAddr::new(scenario.dns.client_dns(), serve.dns_port);
    let options = mxlab_harness::serve::ServeOptions {
        dns,
        smtp_port: serve.smtp_port,
        time_scale: serve.time_scale,
        drop_syn: serve.drop_syn,
        ..mxlab_harness::serve::ServeOptions::default()
    };
    let tls = scenario.file.smtp.hosts.iter().any(|h| h.tls.is_some());
    let ca_path = dir.join(state::CA_FILE);
    if tls {
        // A lab killed without its shutdown leaves its CA behind; the directory is ours.
        let _ = std::fs::remove_file(&ca_path);
    }
    let notice_paths: Vec<PathBuf> = (1..=notices.len())
        .map(|n| state::notice_path(dir, n))
        .collect();
    let served = crate::serve_world(
        &scenario,
        &options,
        tls.then_some(ca_path.as_path()),
        |ready| {
            let at = tools::Where {
                dns: ready.served.dns_addr,
                smtp_port: ready
                    .served
                    .smtp
                    .first()
                    .map_or(serve.smtp_port, |(_, a)| a.port()),
                state: ctx.explicit.then_some(dir),
                notices: &notice_paths,
                ca: ready.ca_file,
                lang: ctx.lang,
            };
            let say = super::say::say(ctx.lang);
            let mut out = brief::opening(
                &story.name,
                block.number(),
                &texts.briefing,
                &notices,
                ctx.lang,
            );
            out.push_str(&format!(
                "\n{} ({}):\n",
                say.servers,
                say.progress_kept(&dir.display().to_string())
            ));
            for line in &ready.lines {
                out.push_str(line);
                out.push('\n');
            }
            out.push_str(&format!("\n{}\n", say.investigate));
            for line in tools::commands(&scenario, &at) {
                out.push_str("  ");
                out.push_str(&line);
                out.push('\n');
            }
            let mut stdout = std::io::stdout().lock();
            let _ = stdout.write_all(out.as_bytes());
            let _ = stdout.flush();
            entry.listeners = ready.lines.clone();
            if let Err(e) = registry::update(registry_dir, entry) {
                tracing::warn!("cannot list the lab in {}: {e}", registry_dir.display());
            }
        },
    );
    match served {
        Ok(()) => Outcome::Served,
        Err(ServeError::Start(e)) if e.kind() == std::io::ErrorKind::AddrInUse => Outcome::InUse(e),
        Err(ServeError::Start(e)) => Outcome::Failed(fail(e)),
        Err(ServeError::Reported(code)) => Outcome::Failed(code),
    }
}

/// The notices, the queue and the tracking log, as files in the state directory.
fn keep_artifacts(
    dir: &Path,
    state: &mut State,
    notices: &[String],
    report: &mxlab_checker::report::Report,
) -> std::io::Result<()> {
    // Notices of an earlier run of another story go first.
    for n in 1..=state.notices.max(notices.len()) + 1 {
        let _ = std::fs::remove_file(state::notice_path(dir, n));
    }
    for (i, raw) in notices.iter().enumerate() {
        state::write_atomic(&state::notice_path(dir, i + 1), raw.as_bytes())?;
    }
    state.notices = notices.len();
    let queue = report.artifacts.queue.clone().unwrap_or_default();
    state::write_atomic(&dir.join(state::QUEUE_FILE), queue.as_bytes())?;
    let log = report.artifacts.tracking_log.clone().unwrap_or_default();
    state::write_atomic(&dir.join(state::TRACKING_FILE), log.as_bytes())
}
