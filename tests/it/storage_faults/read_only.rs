//! The database's file system turned read-only under serve, as ext4 does
//! with errors=remount-ro when it meets an error: an ext4 image on a loop
//! device (in a tmpfs), its error triggered through sysfs. A file system
//! in that state stays read-only until it is checked and mounted again,
//! which needs serve's files closed: so recovery here is the operator's
//! (stop, fsck, mount, start), and what is tested is that serve tells the
//! truth meanwhile and that nothing acknowledged is lost or doubled.

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use telegate::standin::StandIn;

use super::{CHATS, Run, start};
use crate::{
    binary::stop,
    support::{BOT_USERNAME, TOKEN, tmpfs::Tmpfs},
};

/// An ext4 file system in an image file, mounted with errors=remount-ro.
struct Ext4 {
    image: PathBuf,
    dir: PathBuf,
    /// Holds the image; unmounted after `dir` (fields drop after `drop`).
    _tmpfs: Tmpfs,
}

impl Ext4 {
    fn make() -> Option<Self> {
        let tmpfs = Tmpfs::mount("40m")?;
        let (image, dir) = (tmpfs.path().join("ext4.img"), tmpfs.path().join("mnt"));
        std::fs::create_dir(&dir).unwrap();
        run(Command::new("truncate").args(["-s", "16m"]).arg(&image));
        run(Command::new("mkfs.ext4")
            .args(["-q", "-O", "^has_journal"])
            .arg(&image));
        let disk = Self {
            image,
            dir,
            _tmpfs: tmpfs,
        };
        disk.mount();
        Some(disk)
    }

    fn mount(&self) {
        run(Command::new("mount")
            .args(["-o", "loop,errors=remount-ro"])
            .arg(&self.image)
            .arg(&self.dir));
    }

    fn path(&self) -> &Path {
        &self.dir
    }

    /// An error as ext4 meets one: it turns read-only at once.
    fn fail(&self) {
        let out = Command::new("findmnt")
            .args(["-no", "SOURCE"])
            .arg(&self.dir)
            .output()
            .unwrap();
        let device = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let name = device.rsplit('/').next().unwrap().to_owned();
        std::fs::write(format!("/sys/fs/ext4/{name}/trigger_fs_error"), "1").unwrap();
    }

    /// What an operator does: unmount, check, mount again.
    fn repair(&self) {
        run(Command::new("umount").arg(&self.dir));
        // 1: errors corrected, which is the point.
        let status = Command::new("e2fsck")
            .args(["-fy"])
            .arg(&self.image)
            .output()
            .unwrap()
            .status;
        assert!(status.code().is_some_and(|c| c <= 1), "e2fsck: {status}");
        self.mount();
    }
}

impl Drop for Ext4 {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}

fn run(command: &mut Command) {
    let out = command.output().expect("the command runs");
    assert!(
        out.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_system_turned_read_only_answers_503_says_so_and_loses_nothing_over_a_repair() {
    let Some(disk) = Ext4::make() else { return };
    let standin = StandIn::start(TOKEN, BOT_USERNAME).await.unwrap();
    let served = start(&standin, disk.path(), &[], |_| {});
    let mut run = Run::new(standin, served);
    run.working().await;

    disk.fail();
    run.until_refused().await;
    // SQLite reports a write refused with EROFS as an I/O error.
    run.failing("disk I/O error", "io").await;

    stop(&mut run.served);
    disk.repair();
    run.served = start(&run.standin, disk.path(), &[], |_| {});
    assert_eq!(run.ping(CHATS.start).await, 200, "taken once repaired");
    // ext4's abort drops what was written but not yet on disk, as a power
    // cut does: every acknowledged update was fsynced (none is lost), but
    // a reply's "sent" mark (a synchronous=NORMAL commit) may be gone, and
    // that reply goes out again. So: at least once here, not exactly once.
    run.all_answered_at_least_once().await;
    stop(&mut run.served);
}
