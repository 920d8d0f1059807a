//! A progress bar on stderr for long work, shown only when stderr is a terminal,
//! and the `-q` switch that silences it and the summaries.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU8, Ordering};

/// Process-wide, like zstd's display level: set once from `-q` before any work,
/// so the commands need not carry it down to every summary.
static QUIET: AtomicU8 = AtomicU8::new(0);

/// `-q`/`--quiet`: no progress bars, summaries or notes. Errors and warnings
/// still print.
pub fn set_quiet(level: u8) {
    QUIET.store(level, Ordering::Relaxed);
}

/// Is `-q` in effect (summaries and notes are then left out)?
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed) > 0
}

/// `-qq`: also the notices zstd keeps at `-q` (a directory with nothing to do).
pub fn very_quiet() -> bool {
    QUIET.load(Ordering::Relaxed) > 1
}

pub struct Progress(Option<ProgressBar>);

impl Progress {
    pub fn bytes(total: u64, what: &str) -> Progress {
        if quiet() || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = ProgressBar::new(total);
        // A total of 0 is an unknown size (standard input): no bar, no ETA,
        // rather than a full bar over "226 MiB/0 B".
        // Decimal units (MB, MB/s), as the summary line after the work prints them.
        let template = if total == 0 {
            "{msg} {decimal_bytes} {decimal_bytes_per_sec}"
        } else {
            "{msg} [{bar:30}] {decimal_bytes}/{decimal_total_bytes} {decimal_bytes_per_sec} eta {eta}"
        };
        bar.set_style(ProgressStyle::with_template(template).expect("valid template").progress_chars("=> "));
        bar.set_message(what.to_string());
        Progress(Some(bar))
    }

    /// No bar at all.
    pub fn hidden() -> Progress {
        Progress(None)
    }

    pub fn set(&self, done: u64) {
        if let Some(b) = &self.0 {
            b.set_position(done);
        }
    }

    /// Where the bar is (0 when hidden).
    pub fn position(&self) -> u64 {
        self.0.as_ref().map_or(0, ProgressBar::position)
    }

    pub fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
