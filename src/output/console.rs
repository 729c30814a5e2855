//! Printing to stdout and stderr without ever panicking. `println!` panics when stdout is
//! a closed pipe (`clustersim run … | head -1`); these functions stop printing instead, so
//! the command still writes its results and ends with its own exit code, like other Unix
//! tools that lose their reader.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);

fn put(closed: &AtomicBool, w: &mut dyn Write, text: &str) {
    if closed.load(Ordering::Relaxed) {
        return;
    }
    if w.write_all(text.as_bytes()).and_then(|()| w.flush()).is_err() {
        // A closed pipe (or any other failure): nothing more goes to this stream.
        closed.store(true, Ordering::Relaxed);
    }
}

/// Writes `text` to stdout (add the newline yourself, or use [`out_line`]).
pub fn out(text: &str) {
    put(&STDOUT_CLOSED, &mut std::io::stdout().lock(), text);
}

/// Writes `line` and a newline to stdout.
pub fn out_line(line: &str) {
    out(&format!("{line}\n"));
}

/// Writes `text` to stderr.
pub fn err(text: &str) {
    put(&STDERR_CLOSED, &mut std::io::stderr().lock(), text);
}

/// Writes `line` and a newline to stderr.
pub fn err_line(line: &str) {
    err(&format!("{line}\n"));
}
