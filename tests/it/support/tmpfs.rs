//! A small file system of its own (tmpfs), for tests of a nearly full disk.
//! Mounting needs root: without it the test is skipped with a message,
//! unless TELEGATE_REQUIRE_ROOT is set (`.ci/run` sets it, so CI fails
//! instead).

use std::{path::Path, process::Command};

use tempfile::TempDir;

/// A mounted tmpfs, unmounted when dropped (also when the test fails).
pub struct Tmpfs {
    dir: TempDir,
}

impl Tmpfs {
    /// A tmpfs of `size` (mount's notation: "3m", "1g"), or `None` when this
    /// process may not mount one.
    pub fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        let refusal = match mounted {
            Ok(out) if out.status.success() => return Some(Self { dir }),
            Ok(out) => String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            Err(e) => e.to_string(),
        };
        assert!(
            std::env::var_os("TELEGATE_REQUIRE_ROOT").is_none(),
            "cannot mount a tmpfs ({refusal}); this test needs root"
        );
        eprintln!("skipped: mounting a tmpfs needs root ({refusal}); CI runs as root");
        None
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Grows (or shrinks) the file system in place, as an operator makes room.
    pub fn resize(&self, size: &str) {
        let out = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.path())
            .output()
            .expect("mount runs");
        assert!(
            out.status.success(),
            "remount: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: detached at once even while a file on it is still open, so
        // no mount outlives the test; the TempDir then removes the directory.
        let _ = Command::new("umount").arg("-l").arg(self.path()).status();
    }
}
