//! The scenario CA's certificate on disk under `serve`, for clients that verify STARTTLS.
//!
//! Written either to `--tls-ca FILE` or into a private directory made as mkdtemp(3) makes one
//! (an unpredictable name, created by `mkdir` with mode 0700, which fails rather than follow or
//! reuse anything already there). The file itself is created exclusively (`O_EXCL`, mode
//! 0600), so a planted file or symbolic link is an error, never overwritten or followed. Both
//! are removed when the value is dropped, at shutdown.

use std::hash::{BuildHasher, Hasher};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Names tried before giving up on a private directory.
const DIR_TRIES: u32 = 16;

/// The written CA certificate; removed (with its private directory) on drop.
#[derive(Debug)]
pub struct CaFile {
    path: PathBuf,
    /// The private directory made for it, when no path was asked for.
    dir: Option<PathBuf>,
}

impl CaFile {
    /// Writes `pem` to `requested`, or into a new private directory under `parent`.
    pub fn write(pem: &str, requested: Option<&Path>, parent: &Path) -> io::Result<CaFile> {
        let (path, dir) = match requested {
            Some(path) => (path.to_path_buf(), None),
            None => {
                let dir = private_dir(parent)?;
                (dir.join("ca.pem"), Some(dir))
            }
        };
        let written = exclusive(&path).and_then(|mut file| {
            // Created by us from here on: a failed write removes it.
            let filled = file
                .write_all(pem.as_bytes())
                .and_then(|()| file.sync_all());
            if filled.is_err() {
                let _ = std::fs::remove_file(&path);
            }
            filled
        });
        if let Err(e) = written {
            if let Some(dir) = &dir {
                let _ = std::fs::remove_dir(dir);
            }
            return Err(io::Error::new(e.kind(), format!("{}: {e}", path.display())));
        }
        Ok(CaFile { path, dir })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for CaFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// A new file, readable by its owner only; an existing file or link is an error.
fn exclusive(path: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// `parent/mxlab-serve-XXXXXXXXXXXXXXXX`, made by `mkdir` with mode 0700: the name is random
/// (std's per-process hash keys), and `mkdir` never reuses or follows an existing entry.
fn private_dir(parent: &Path) -> io::Result<PathBuf> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    let mut last = None;
    for attempt in 0..DIR_TRIES {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(std::process::id());
        hasher.write_u32(attempt);
        let dir = parent.join(format!("mxlab-serve-{:016x}", hasher.finish()));
        match builder.create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(io::Error::new(e.kind(), format!("{}: {e}", dir.display()))),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free directory name")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mxlab-ca-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[cfg(unix)]
    #[test]
    fn private_exclusive_and_gone_on_drop() {
        use std::os::unix::fs::PermissionsExt;
        let parent = scratch("private");
        let ca = CaFile::write("PEM", None, &parent).unwrap();
        let dir = ca.path().parent().unwrap().to_path_buf();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(ca.path()), 0o600);
        assert_eq!(std::fs::read_to_string(ca.path()).unwrap(), "PEM");
        let other = CaFile::write("PEM", None, &parent).unwrap();
        assert_ne!(other.path(), ca.path(), "an unpredictable name each time");
        drop(ca);
        assert!(!dir.exists());
        drop(other);
        assert_eq!(std::fs::read_dir(&parent).unwrap().count(), 0);
        let _ = std::fs::remove_dir_all(&parent);
    }

    #[cfg(unix)]
    #[test]
    fn a_planted_file_or_link_is_never_written_through() {
        let parent = scratch("planted");
        let target = parent.join("precious");
        std::fs::write(&target, "keep me").unwrap();
        let link = parent.join("ca.pem");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = CaFile::write("PEM", Some(&link), &parent).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists, "{err}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
        assert!(CaFile::write("PEM", Some(&target), &parent).is_err());
        // The asked-for path is written, then removed on drop.
        let asked = parent.join("asked.pem");
        let ca = CaFile::write("PEM", Some(&asked), &parent).unwrap();
        assert_eq!(std::fs::read_to_string(&asked).unwrap(), "PEM");
        drop(ca);
        assert!(!asked.exists());
        let _ = std::fs::remove_dir_all(&parent);
    }
}
