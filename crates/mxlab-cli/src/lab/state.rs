//! A trainee's progress, kept in the state directory: which story, which block it last ran
//! on, hints used, answers given, whether it is solved. The notices, queue and tracking log
//! of the lab's replay sit beside it as plain files (`notice-1.eml`, `queue.txt`,
//! `tracking.log`) for `mxlab explain` and other tools. The answer itself is never written
//! there: it is worked out from the story when an answer is graded.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The file of progress in a state directory.
pub const STATE_FILE: &str = "lab.json";
pub const QUEUE_FILE: &str = "queue.txt";
pub const TRACKING_FILE: &str = "tracking.log";
/// The scenario CA while the lab runs (stories with STARTTLS).
pub const CA_FILE: &str = "ca.pem";

/// `$XDG_STATE_HOME/mxlab/labs`, else `~/.local/state/mxlab/labs`.
pub fn default_dir() -> Option<PathBuf> {
    let non_empty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(state) = non_empty("XDG_STATE_HOME") {
        return Some(PathBuf::from(state).join("mxlab").join("labs"));
    }
    non_empty("HOME").map(|home| PathBuf::from(home).join(".local/state/mxlab/labs"))
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Attempt {
    /// What the trainee typed.
    pub answer: String,
    /// The rule it was read as.
    pub rule: String,
    pub right: bool,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct State {
    /// A catalog name, or the absolute path of the scenario file.
    pub scenario: String,
    /// The loopback block it last ran on (kept on resume when free).
    pub block: u8,
    pub hints_used: usize,
    /// Answers graded, in order (unreadable answers are not attempts).
    pub attempts: Vec<Attempt>,
    /// How many notices the replay left (`notice-1.eml` …).
    pub notices: usize,
}

impl State {
    pub fn solved(&self) -> bool {
        self.attempts.iter().any(|a| a.right)
    }

    pub fn wrong_attempts(&self) -> usize {
        self.attempts.iter().take_while(|a| !a.right).count()
    }

    /// Whether anything would be lost by replacing this lab with another.
    pub fn has_progress(&self) -> bool {
        !self.solved() && (self.hints_used > 0 || !self.attempts.is_empty())
    }

    pub fn load(dir: &Path) -> io::Result<Option<State>> {
        match std::fs::read(dir.join(STATE_FILE)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{}: {e}", dir.join(STATE_FILE).display()),
                )
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io::Error::new(
                e.kind(),
                format!("{}: {e}", dir.join(STATE_FILE).display()),
            )),
        }
    }

    /// Written to a temporary file and renamed, so a lab stopped mid-write keeps the last
    /// whole state.
    pub fn save(&self, dir: &Path) -> io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(io::Error::other)?;
        write_atomic(&dir.join(STATE_FILE), text.as_bytes())
    }
}

/// The path of notice `n` (from 1).
pub fn notice_path(dir: &Path, n: usize) -> PathBuf {
    dir.join(format!("notice-{n}.eml"))
}

/// Makes the state directory, private: progress and notices are the trainee's own.
pub fn ensure_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_is_what_a_replacement_would_lose() {
        let mut s = State::default();
        assert!(!s.has_progress());
        s.hints_used = 1;
        assert!(s.has_progress());
        s.attempts.push(Attempt {
            answer: "x".into(),
            rule: "dns.mx.missing".into(),
            right: true,
        });
        assert!(s.solved());
        assert!(!s.has_progress());
    }

    #[test]
    fn round_trips_through_its_file() {
        let dir = std::env::temp_dir().join(format!("mxlab-state-test-{}", std::process::id()));
        ensure_dir(&dir).unwrap();
        let s = State {
            scenario: "missing-mx".into(),
            block: 4,
            hints_used: 2,
            attempts: vec![],
            notices: 1,
        };
        s.save(&dir).unwrap();
        assert_eq!(State::load(&dir).unwrap(), Some(s));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
