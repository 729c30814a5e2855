//! Progress on stderr: a bar on a terminal, and without one (a CI log) a plain line now
//! and then, so a long run or sweep is never silent until its end. Nothing here reaches a
//! results file.
//!
//! The plain line's interval is `CLUSTERSIM_PROGRESS_INTERVAL` seconds (default 10; `0`
//! prints at every update).

use super::console;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The default seconds between two plain progress lines.
pub const DEFAULT_INTERVAL_S: f64 = 10.0;

/// What is counted.
#[derive(Clone, Copy)]
enum Unit {
    /// Runs of a sweep.
    Runs,
    /// Simulated nanoseconds of one run.
    SimulatedNanos,
}

/// A progress report over `len` units.
pub struct Progress {
    prefix: String,
    len: u64,
    unit: Unit,
    bar: Option<ProgressBar>,
    plain: Option<Mutex<Plain>>,
}

struct Plain {
    every: Duration,
    started: Instant,
    last: Instant,
}

fn interval() -> Duration {
    let raw = std::env::var("CLUSTERSIM_PROGRESS_INTERVAL").ok();
    let s = raw
        .as_deref()
        .map(str::trim)
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite() && *v >= 0.0);
    if raw.is_some() && s.is_none() {
        console::err_line(&format!(
            "warning: CLUSTERSIM_PROGRESS_INTERVAL={:?} is not a number of seconds; using {DEFAULT_INTERVAL_S}",
            raw.unwrap_or_default()
        ));
    }
    Duration::from_secs_f64(s.unwrap_or(DEFAULT_INTERVAL_S).min(1e9))
}

impl Progress {
    fn new(prefix: &str, len: u64, unit: Unit, quiet: bool, template: &str) -> Progress {
        let mut p = Progress { prefix: prefix.to_string(), len, unit, bar: None, plain: None };
        if quiet {
            return p;
        }
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::with_draw_target(Some(len.max(1)), ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar.set_prefix(prefix.to_string());
            p.bar = Some(bar);
        } else {
            let now = Instant::now();
            p.plain = Some(Mutex::new(Plain { every: interval(), started: now, last: now }));
        }
        p
    }

    /// Progress over the runs of a sweep.
    pub fn runs(prefix: &str, runs: u64, quiet: bool) -> Progress {
        Progress::new(
            prefix,
            runs,
            Unit::Runs,
            quiet,
            "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} runs, {msg}, ETA {eta}",
        )
    }

    /// Progress over the simulated time of one run (`end_ns` nanoseconds).
    pub fn simulated(prefix: &str, end_ns: u64, quiet: bool) -> Progress {
        Progress::new(
            prefix,
            end_ns,
            Unit::SimulatedNanos,
            quiet,
            "{prefix} [{elapsed_precise}] {wide_bar} {percent}% of simulated time, ETA {eta}",
        )
    }

    /// Whether anything is shown (a bar or plain lines).
    pub fn shown(&self) -> bool {
        self.bar.is_some() || self.plain.is_some()
    }

    /// Moves to `pos` of `len`; `msg` is shown beside it (runs only).
    pub fn update(&self, pos: u64, msg: &str) {
        if let Some(b) = &self.bar {
            b.set_position(pos);
            if !msg.is_empty() {
                b.set_message(msg.to_string());
            }
        }
        let Some(plain) = &self.plain else { return };
        let Ok(mut p) = plain.lock() else { return };
        let now = Instant::now();
        if now.duration_since(p.last) < p.every || pos == 0 {
            return;
        }
        p.last = now;
        let elapsed = now.duration_since(p.started).as_secs_f64();
        let frac = if self.len == 0 { 1.0 } else { pos as f64 / self.len as f64 };
        let left = if frac > 0.0 {
            format!(", about {:.0} s left", elapsed * (1.0 - frac) / frac)
        } else {
            String::new()
        };
        let what = match self.unit {
            Unit::Runs => format!(
                "{pos} of {} runs{}",
                self.len,
                if msg.is_empty() { String::new() } else { format!(" ({msg})") }
            ),
            Unit::SimulatedNanos => format!(
                "{:.0} % of simulated time ({:.0} of {:.0} s)",
                frac * 100.0,
                pos as f64 / 1e9,
                self.len as f64 / 1e9
            ),
        };
        console::err_line(&format!("{}: {what} after {elapsed:.0} s wall{left}", self.prefix));
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}
