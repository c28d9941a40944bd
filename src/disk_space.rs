//! Free space of the file system that holds the database. When it fills,
//! SQLite cannot commit and every update is refused, so `telegate check`
//! warns and /metrics shows it while there is still time to act.

use std::{fmt, io, path::Path};

/// Below this share of the file system's size (in percent) free space is low.
pub const LOW_PERCENT: u64 = 10;
/// Below this many bytes free space is low, however large the file system.
pub const LOW_BYTES: u64 = 500 * 1000 * 1000;

/// What a file system holds, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiskSpace {
    /// What an unprivileged process may still write (blocks reserved for
    /// root do not count: telegate does not run as root).
    pub free: u64,
    /// The file system's size.
    pub size: u64,
}

impl DiskSpace {
    /// The space of the file system holding `path` (statvfs).
    pub fn of(path: &Path) -> io::Result<Self> {
        let vfs = rustix::fs::statvfs(path)?;
        Ok(Self {
            free: vfs.f_bavail.saturating_mul(vfs.f_frsize),
            size: vfs.f_blocks.saturating_mul(vfs.f_frsize),
        })
    }

    /// Less than [`LOW_PERCENT`] of the size or less than [`LOW_BYTES`] free.
    pub fn is_low(&self) -> bool {
        self.free < LOW_BYTES
            || u128::from(self.free) * 100 < u128::from(self.size) * u128::from(LOW_PERCENT)
    }

    /// The free share of the size in whole percent, rounded down (so that a
    /// file system just under the threshold never shows as 10%).
    pub fn percent_free(&self) -> u64 {
        if self.size == 0 {
            return 0;
        }
        (u128::from(self.free) * 100 / u128::from(self.size)) as u64
    }
}

/// "230 MB free of 3.0 GB (7%)".
impl fmt::Display for DiskSpace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} free of {} ({}%)",
            human(self.free),
            human(self.size),
            self.percent_free()
        )
    }
}

/// The directory that holds the database, where its WAL, journal and
/// backups are written too.
pub fn database_dir(db: &Path) -> &Path {
    db.parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Bytes in decimal units, as `df -H` shows them: "512 bytes", "230 MB",
/// "3.0 GB" (one decimal below 10 of a unit, rounded down so that a low
/// figure never reads higher than it is).
pub fn human(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["kB", "MB", "GB", "TB", "PB", "EB"];
    if bytes < 1000 {
        return format!("{bytes} bytes");
    }
    let mut scale = 1000u64;
    let mut unit = 0;
    while unit + 1 < UNITS.len() && bytes / scale >= 1000 {
        scale *= 1000;
        unit += 1;
    }
    let whole = bytes / scale;
    if whole >= 10 {
        return format!("{whole} {}", UNITS[unit]);
    }
    let tenths = bytes % scale / (scale / 10);
    format!("{whole}.{tenths} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1000 * 1000;
    const GB: u64 = 1000 * MB;

    fn space(free: u64, size: u64) -> DiskSpace {
        DiskSpace { free, size }
    }

    #[test]
    fn space_is_low_under_ten_percent_of_a_large_file_system() {
        assert!(space(99 * GB, 1000 * GB).is_low());
        assert!(!space(100 * GB, 1000 * GB).is_low());
    }

    #[test]
    fn space_is_low_under_500_mb_even_when_that_is_most_of_the_file_system() {
        assert!(space(499 * MB, 600 * MB).is_low());
        assert!(space(2 * MB, 3 * MB).is_low());
        assert!(!space(500 * MB, 600 * MB).is_low());
        assert!(!space(500 * MB, 5 * GB).is_low());
    }

    #[test]
    fn a_full_or_empty_file_system_is_low() {
        assert!(space(0, 3 * GB).is_low());
        assert!(space(0, 0).is_low());
        assert_eq!(space(0, 0).percent_free(), 0);
    }

    #[test]
    fn sizes_of_exabytes_do_not_overflow() {
        assert!(!space(u64::MAX / 2, u64::MAX).is_low());
        assert_eq!(space(u64::MAX / 2, u64::MAX).percent_free(), 49);
    }

    #[test]
    fn space_reads_as_free_of_size_with_the_share() {
        assert_eq!(
            space(230 * MB, 3 * GB).to_string(),
            "230 MB free of 3.0 GB (7%)"
        );
        // 9.99% reads as 9%, not as the threshold it is below.
        assert_eq!(
            space(999 * MB, 10 * GB).to_string(),
            "999 MB free of 10 GB (9%)"
        );
    }

    #[test]
    fn bytes_read_in_decimal_units_rounded_down() {
        assert_eq!(human(0), "0 bytes");
        assert_eq!(human(999), "999 bytes");
        assert_eq!(human(1000), "1.0 kB");
        assert_eq!(human(3_145_728), "3.1 MB");
        assert_eq!(human(9_999_999), "9.9 MB");
        assert_eq!(human(10 * MB), "10 MB");
        assert_eq!(human(999_999_999), "999 MB");
        assert_eq!(human(31 * GB + 900 * MB), "31 GB");
        assert_eq!(human(2_500 * GB), "2.5 TB");
        assert_eq!(human(u64::MAX), "18 EB");
    }
}
