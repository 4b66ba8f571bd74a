//! The labs running on this machine: one file per loopback block in a runtime directory
//! (`$MXLAB_LAB_RUNTIME_DIR`, else `$XDG_RUNTIME_DIR/mxlab/labs`, else
//! `$TMPDIR/mxlab-labs-<uid>`), naming the process, its state directory and its listeners.
//!
//! A block is claimed by creating its file exclusively; a file whose process is gone is stale
//! and taken over. The claim only orders the labs of one user: what really keeps two labs
//! apart is the kernel, which refuses a second listener on an address in use, and the lab
//! then moves on to the next block.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// One running lab, as `mxlab lab --list` shows it.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    pub block: u8,
    pub pid: u32,
    pub scenario: String,
    pub state: PathBuf,
    /// The listener lines, as `serve` prints them; empty while it starts.
    pub listeners: Vec<String>,
}

pub fn dir() -> PathBuf {
    let non_empty = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    if let Some(dir) = non_empty("MXLAB_LAB_RUNTIME_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(run) = non_empty("XDG_RUNTIME_DIR") {
        return PathBuf::from(run).join("mxlab").join("labs");
    }
    std::env::temp_dir().join(format!("mxlab-labs-{}", uid()))
}

/// This process's user id, without libc: the owner of `/proc/self`.
fn uid() -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata("/proc/self").map_or(0, |m| m.uid())
    }
    #[cfg(not(unix))]
    {
        0
    }
}

/// Block 0 is the story's own addresses, which only a lab alone in its network namespace
/// uses: many such labs run at once, each in its own namespace, so each has a file of its
/// own.
fn entry_path(dir: &Path, block: u8, pid: u32) -> PathBuf {
    if block == 0 {
        dir.join(format!("own-{pid}.json"))
    } else {
        dir.join(format!("{block}.json"))
    }
}

/// Whether process `pid` still exists (Linux: its /proc entry). Elsewhere every lab is
/// taken to be alive.
pub fn alive(pid: u32) -> bool {
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

fn read(path: &Path) -> Option<Entry> {
    serde_json::from_slice(&std::fs::read(path).ok()?).ok()
}

/// Every running lab, by block. Stale files are skipped (and left for a claim to take over).
pub fn running(dir: &Path) -> Vec<Entry> {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<Entry> = listing
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .filter_map(|e| read(&e.path()))
        .filter(|e| alive(e.pid))
        .collect();
    out.sort_by_key(|e| e.block);
    out
}

/// The running lab of state directory `state`, if any.
pub fn running_for(dir: &Path, state: &Path) -> Option<Entry> {
    let state = std::fs::canonicalize(state).unwrap_or_else(|_| state.to_path_buf());
    running(dir).into_iter().find(|e| e.state == state)
}

/// Claims `block` for this process: true when it is now ours.
pub fn claim(dir: &Path, entry: &Entry) -> io::Result<bool> {
    super::state::ensure_dir(dir)?;
    let path = entry_path(dir, entry.block, entry.pid);
    if let Some(held) = read(&path) {
        if alive(held.pid) && held.pid != entry.pid {
            return Ok(false);
        }
        // Stale: its process is gone.
        let _ = std::fs::remove_file(&path);
    }
    let text = serde_json::to_vec_pretty(entry).map_err(io::Error::other)?;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(mut file) => {
            file.write_all(&text)?;
            Ok(true)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        // A half-written file of another claim reads as nothing above; treat as taken.
        Err(e) => Err(e),
    }
}

/// Rewrites our entry (with its listeners, once bound).
pub fn update(dir: &Path, entry: &Entry) -> io::Result<()> {
    let text = serde_json::to_vec_pretty(entry).map_err(io::Error::other)?;
    super::state::write_atomic(&entry_path(dir, entry.block, entry.pid), &text)
}

/// Gives `block` up, if it is still ours.
pub fn release(dir: &Path, block: u8, pid: u32) {
    let path = entry_path(dir, block, pid);
    if read(&path).is_none_or(|e| e.pid == pid) {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_is_held_once_and_taken_over_when_stale() {
        let dir = std::env::temp_dir().join(format!("mxlab-registry-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let me = Entry {
            block: 3,
            pid: std::process::id(),
            scenario: "missing-mx".into(),
            state: "/s".into(),
            listeners: vec![],
        };
        assert!(claim(&dir, &me).unwrap());
        let other = Entry {
            pid: 1,
            ..me.clone()
        };
        // pid 1 is alive: it cannot take our block, and we cannot take its.
        assert!(!claim(&dir, &other).unwrap());
        assert_eq!(running(&dir), vec![me.clone()]);
        // A gone process's block is free.
        release(&dir, 3, me.pid);
        let gone = Entry {
            pid: u32::MAX - 1,
            ..me.clone()
        };
        update(&dir, &gone).unwrap();
        assert!(running(&dir).is_empty());
        assert!(claim(&dir, &me).unwrap());
        release(&dir, 3, me.pid);
        assert!(running(&dir).is_empty());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
