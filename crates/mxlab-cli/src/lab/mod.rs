//! `mxlab lab`: a story as a training lab (docs/labs.md).
//!
//! The process model: `mxlab lab <SCENARIO>` replays the story in memory for the notices the
//! user received, then serves its world in the foreground until Ctrl-C, like `serve`. The
//! trainee investigates from another terminal with real tools and with `mxlab lab hint`,
//! `answer`, `status` and `show`, which read and write the state directory only. A stopped
//! lab resumes where it was with `mxlab lab` in the same state directory.
//!
//! - [`state`]: a trainee's progress in the state directory, and the notices kept there.
//! - [`registry`]: the labs running on this machine and the loopback block each holds.
//! - [`brief`]: the complaint and the notices as the lab opens.
//! - [`start`]: starting (and resuming) a lab: replay, serve, brief.
//! - [`tools`]: the commands a trainee can investigate with, against this lab's addresses.
//! - [`words`]: plain-words answers to rule ids.
//! - [`grade`]: right or wrong, why, and the score.
//! - [`say`]: the lab's own words in the trainee's language.
//! - [`progress`]: `hint`, `answer`, `status`, `reset`, `show`, `--list`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

mod brief;
mod grade;
mod progress;
mod registry;
mod say;
mod start;
mod state;
mod tools;
mod words;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct LabArgs {
    #[command(subcommand)]
    pub action: Option<LabAction>,
    /// The story to train on: a catalog name (missing-mx) or a .toml file. Without it, the
    /// lab in the state directory resumes.
    pub scenario: Option<String>,
    /// The running labs on this machine, with their addresses.
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub serve: ServeArgs,
    #[command(flatten)]
    pub state: StateArg,
}

/// Where a lab listens.
#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// The loopback block: the story's 127.0.x.y become 127.N.x.y (1 to 254); 0 keeps the
    /// story's own addresses (a lab alone in a network namespace). Default: the block this
    /// state directory had, else the first free one.
    #[arg(long, value_name = "N")]
    pub block: Option<u8>,
    /// The DNS port, on the story's resolver address (53 in a network namespace).
    #[arg(long, default_value_t = 5353)]
    pub dns_port: u16,
    /// The port each SMTP host listens on, on its own address (25 in a network namespace).
    #[arg(long, default_value_t = 2525)]
    pub smtp_port: u16,
    /// Story seconds per real second (a 15-minute greylisting window in 15 s at 60).
    #[arg(long, default_value_t = 1.0)]
    pub time_scale: f64,
    /// As `serve --drop-syn`: a host that drops every connection leaves the SYNs unanswered
    /// (nftables; root, in a network namespace of the lab's own).
    #[arg(long)]
    pub drop_syn: bool,
}

/// Every lab command takes the state directory.
#[derive(Args, Debug, Clone)]
pub struct StateArg {
    /// The trainee's state directory, one lab per directory (default:
    /// $XDG_STATE_HOME/mxlab/labs, else ~/.local/state/mxlab/labs).
    #[arg(long, value_name = "DIR", global = true)]
    pub state: Option<PathBuf>,
    /// The language of the briefing, hints, grading and rules: en or ja (default: from
    /// LC_ALL, LC_MESSAGES or LANG, else en).
    #[arg(long, value_name = "en|ja", global = true)]
    pub lang: Option<mxlab_vocab::Lang>,
}

#[derive(Subcommand, Debug)]
pub enum LabAction {
    /// Show what else the administrator has: the notices whole, the queue, the tracking log.
    Show { what: Exhibit },
    /// The next hint (each costs points).
    Hint,
    /// Name the cause: a rule id (`mxlab rules`) or plain words. Exit 0 right, 1 wrong.
    Answer {
        #[arg(required = true, num_args = 1.., value_name = "RULE-ID or words")]
        words: Vec<String>,
    },
    /// The lab, its addresses, hints used, attempts and score.
    Status,
    /// Start the lab over: hints, attempts and score forgotten.
    Reset,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exhibit {
    /// The delivery notices the user received, whole (DSNs and NDRs).
    Dsn,
    /// The sending server's queue, as its queue viewer shows it.
    Queue,
    /// The message tracking log.
    Tracking,
}

pub fn run(args: LabArgs) -> u8 {
    let dir = match args.state.state.clone().or_else(state::default_dir) {
        Some(dir) => dir,
        None => {
            eprintln!("error: no state directory: set XDG_STATE_HOME or HOME, or give --state DIR");
            return crate::EXIT_USAGE;
        }
    };
    let explicit = args.state.state.is_some();
    let lang = say::lang(args.state.lang, |k| std::env::var(k).ok());
    let ctx = progress::Context {
        dir,
        explicit,
        lang,
    };
    match args.action {
        Some(LabAction::Show { what }) => progress::show(&ctx, what),
        Some(LabAction::Hint) => progress::hint(&ctx),
        Some(LabAction::Answer { words }) => progress::answer(&ctx, &words.join(" ")),
        Some(LabAction::Status) => progress::status(&ctx),
        Some(LabAction::Reset) => progress::reset(&ctx),
        None if args.list => progress::list(),
        None => start::start(&ctx, args.scenario.as_deref(), &args.serve),
    }
}
