//! Output folders: what a folder holds, what may be replaced, locks, and how `run` swaps a
//! finished folder into place.
//!
//! - [`inspect`] sorts a folder's entries into what clustersim writes (a run's files, a
//!   sweep's files) and everything else. clustersim never deletes what it did not write:
//!   a folder holding anything else is refused, whatever the flags.
//! - [`Staging`]: `run` writes its files into a fresh sibling folder
//!   (`.<name>.staging-<pid>-<n>`) and [`Staging::commit`] swaps it into place with one
//!   atomic `renameat2(RENAME_EXCHANGE)` (two renames where the platform has no exchange),
//!   so after a run every file of the folder belongs to that run, and an interrupted run
//!   leaves the previous results whole. A staging folder left by a killed run is removed by
//!   the next run into the same folder (its lock file is no longer held).
//! - [`lock_exclusive`] / [`lock_shared`]: an advisory lock on `DIR/.clustersim.lock`
//!   (`flock`), held by a sweep or a merge for as long as it writes the folder, so a second
//!   sweep into the same folder is refused instead of mixing its runs in.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Why an output folder cannot be used or written.
#[derive(Debug)]
pub enum FolderError {
    /// The folder cannot be used as asked (exit 2): it holds other files, another process
    /// holds it, a flag is missing.
    Input(String),
    /// Reading or writing failed (disk full, permissions, …) (exit 4).
    Io(String),
}

impl std::fmt::Display for FolderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FolderError::Input(m) | FolderError::Io(m) => f.write_str(m),
        }
    }
}

fn io_err(path: &Path, what: &str, e: &io::Error) -> FolderError {
    FolderError::Io(format!("{}: cannot {what}: {e}", path.display()))
}

/// The lock file of a sweep folder.
pub const LOCK_FILE: &str = ".clustersim.lock";

/// Top-level names a `run` writes.
pub const RUN_NAMES: &[&str] = &[
    "summary.csv",
    "timeseries.csv",
    "pods.csv",
    "autoscaler-events.csv",
    "scheduling-attempts.csv",
    "startup-cdf.csv",
    "run.json",
    "index.html",
    "charts",
];

/// Top-level names a `sweep` or `merge` writes.
pub const SWEEP_NAMES: &[&str] = &["runs.csv", "points.csv", "sweep.json", "runs", "index.html", "charts"];

/// Top-level names a `plan` writes (besides `runs.csv`, `runs/`, `charts/`, `index.html`).
pub const PLAN_NAMES: &[&str] = &["plan.csv", "plan.json"];

/// What a folder holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Contents {
    /// The folder does not exist.
    pub missing: bool,
    /// Anything at all (the lock file and temporary files aside).
    pub any: bool,
    /// `run.json`: the results of a `run`.
    pub run: bool,
    /// `sweep.json`, `plan.json` or `runs/`: the results of a sweep, a shard, a merge or a plan.
    pub sweep: bool,
    /// Entries clustersim did not write (relative paths), sorted.
    pub foreign: Vec<String>,
}

impl Contents {
    /// "a, b, c" (at most five, then "…").
    pub fn foreign_list(&self) -> String {
        let mut s: Vec<&str> = self.foreign.iter().take(5).map(String::as_str).collect();
        if self.foreign.len() > 5 {
            s.push("…");
        }
        s.join(", ")
    }
}

/// A temporary file of [`super::write_atomic`] (`.<name>.tmp-<pid>`) or a lock file.
fn is_scratch(name: &str) -> bool {
    name == LOCK_FILE || (name.starts_with('.') && name.contains(".tmp-"))
}

fn names(dir: &Path) -> io::Result<Vec<(String, bool)>> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let is_dir = e.file_type()?.is_dir();
        v.push((e.file_name().to_string_lossy().into_owned(), is_dir));
    }
    v.sort();
    Ok(v)
}

/// Sorts the entries of `dir` (see [`Contents`]).
pub fn inspect(dir: &Path) -> Result<Contents, FolderError> {
    let mut c = Contents::default();
    match std::fs::metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            c.missing = true;
            return Ok(c);
        }
        Err(e) => return Err(io_err(dir, "read", &e)),
        Ok(m) if !m.is_dir() => {
            return Err(FolderError::Input(format!("{} exists and is not a folder", dir.display())));
        }
        Ok(_) => {}
    }
    let read = |d: &Path| names(d).map_err(|e| io_err(d, "read", &e));
    for (name, is_dir) in read(dir)? {
        if is_scratch(&name) {
            continue;
        }
        c.any = true;
        let known = RUN_NAMES.contains(&name.as_str())
            || SWEEP_NAMES.contains(&name.as_str())
            || PLAN_NAMES.contains(&name.as_str());
        let wants_dir = name == "charts" || name == "runs";
        if !known || wants_dir != is_dir {
            c.foreign.push(name);
            continue;
        }
        match name.as_str() {
            "run.json" => c.run = true,
            // A plan's folder holds runs like a sweep's: `run` replaces it only with --force.
            "sweep.json" | "plan.json" => c.sweep = true,
            "runs" => {
                c.sweep = true;
                for (f, d) in read(&dir.join("runs"))? {
                    let ours = !d
                        && (is_scratch(&f)
                            || (f.starts_with("run-") && (f.ends_with(".csv") || f.ends_with(".failed"))));
                    if !ours {
                        c.foreign.push(format!("runs/{f}"));
                    }
                }
            }
            "charts" => {
                for (f, d) in read(&dir.join("charts"))? {
                    let ours = !d && (is_scratch(&f) || f.ends_with(".png") || f.ends_with(".svg"));
                    if !ours {
                        c.foreign.push(format!("charts/{f}"));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(c)
}

/// Removes everything clustersim wrote in `dir` (after [`inspect`] found nothing foreign),
/// keeping the lock file.
pub fn clear(dir: &Path) -> Result<(), FolderError> {
    for (name, is_dir) in names(dir).map_err(|e| io_err(dir, "read", &e))? {
        if name == LOCK_FILE {
            continue;
        }
        let p = dir.join(&name);
        let r = if is_dir { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
        r.map_err(|e| io_err(&p, "remove", &e))?;
    }
    Ok(())
}

/// Takes the exclusive lock of `dir` (created if missing) for a sweep or a merge that
/// writes it. The lock is released when the returned file is dropped (or the process ends).
pub fn lock_exclusive(dir: &Path, what: &str) -> Result<File, FolderError> {
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, "create the folder", &e))?;
    let path = dir.join(LOCK_FILE);
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| io_err(&path, "open", &e))?;
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(FolderError::Input(format!(
            "{what} {}: another clustersim sweep or merge is writing to this folder (it holds {}); wait for \
             it to end, or choose another folder",
            dir.display(),
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(io_err(&path, "lock", &e)),
    }
}

/// Takes a shared lock of `dir` if it has a lock file, so that a merge does not read a
/// folder a sweep is still writing. `None` when the folder has no lock file.
pub fn lock_shared(dir: &Path) -> Result<Option<File>, FolderError> {
    let path = dir.join(LOCK_FILE);
    let f = match OpenOptions::new().read(true).open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(&path, "open", &e)),
    };
    match f.try_lock_shared() {
        Ok(()) => Ok(Some(f)),
        Err(std::fs::TryLockError::WouldBlock) => Err(FolderError::Input(format!(
            "{}: a clustersim sweep is still writing to this folder; wait for it to end before merging it",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(io_err(&path, "lock", &e)),
    }
}

/// A run's output folder being built beside its final place.
pub struct Staging {
    /// The folder as the user named it (for messages).
    target: PathBuf,
    /// The same, absolute.
    abs_target: PathBuf,
    /// Where the files are written until [`Staging::commit`].
    dir: PathBuf,
    /// `dir` + `.lock`, held while this process builds `dir`.
    lock_path: PathBuf,
    lock: Option<File>,
    committed: bool,
}

static STAGING_SEQ: AtomicU64 = AtomicU64::new(0);

impl Staging {
    /// Prepares to replace `target`. Refused (exit 2) when `target` holds anything
    /// clustersim did not write, or a sweep's results without `force`.
    pub fn begin(target: &Path, force: bool) -> Result<Staging, FolderError> {
        let c = inspect(target)?;
        if !c.foreign.is_empty() {
            return Err(FolderError::Input(format!(
                "--out {}: the folder holds files clustersim did not write ({}); clustersim never deletes \
                 them: choose another --out, or empty the folder",
                target.display(),
                c.foreign_list()
            )));
        }
        if c.sweep && !force {
            return Err(FolderError::Input(format!(
                "--out {}: the folder holds the results of a sweep; add --force to replace them with this \
                 run's, or choose another --out",
                target.display()
            )));
        }
        if c.sweep {
            // A sweep may still be writing it.
            drop(lock_exclusive(target, "--out")?);
        }
        // The absolute path of the target, through its parent (which is created).
        let abs = if target.is_absolute() {
            target.to_path_buf()
        } else {
            std::env::current_dir().map_err(|e| io_err(target, "resolve", &e))?.join(target)
        };
        let abs = normalise(&abs);
        let (Some(parent), Some(name)) = (abs.parent(), abs.file_name()) else {
            return Err(FolderError::Input(format!(
                "--out {}: expected a folder with a name (not the root)",
                target.display()
            )));
        };
        let name = name.to_string_lossy().into_owned();
        std::fs::create_dir_all(parent).map_err(|e| io_err(parent, "create the folder", &e))?;
        remove_stale(parent, &name);
        let n = STAGING_SEQ.fetch_add(1, Ordering::Relaxed);
        let dir = parent.join(format!(".{name}.staging-{}-{n}", std::process::id()));
        let lock_path = parent.join(format!(".{name}.staging-{}-{n}.lock", std::process::id()));
        let lock = File::create(&lock_path).map_err(|e| io_err(&lock_path, "create", &e))?;
        lock.lock().map_err(|e| io_err(&lock_path, "lock", &e))?;
        let mut s = Staging {
            target: target.to_path_buf(),
            abs_target: abs.clone(),
            dir: dir.clone(),
            lock_path,
            lock: Some(lock),
            committed: false,
        };
        std::fs::create_dir(&dir).map_err(|e| io_err(&dir, "create the folder", &e))?;
        s.committed = false;
        Ok(s)
    }

    /// The folder to write the run's files into.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Puts the staged folder in the target's place and removes the previous results.
    pub fn commit(mut self) -> Result<(), FolderError> {
        // The target may have changed since `begin`: check again right before the swap.
        let c = inspect(&self.abs_target)?;
        if !c.foreign.is_empty() {
            return Err(FolderError::Input(format!(
                "--out {}: files clustersim did not write appeared in the folder during the run ({}); the \
                 results were not written",
                self.target.display(),
                c.foreign_list()
            )));
        }
        if c.missing {
            match std::fs::rename(&self.dir, &self.abs_target) {
                Ok(()) => {
                    self.committed = true;
                    return Ok(());
                }
                // Created meanwhile by someone else: swap with it below.
                Err(e) if self.abs_target.is_dir() => {
                    let _ = e;
                }
                Err(e) => return Err(io_err(&self.abs_target, "create", &e)),
            }
        }
        exchange(&self.dir, &self.abs_target).map_err(|e| io_err(&self.abs_target, "replace", &e))?;
        self.committed = true;
        // `dir` now holds the previous results.
        std::fs::remove_dir_all(&self.dir).map_err(|e| io_err(&self.dir, "remove the previous results", &e))
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
        let _ = std::fs::remove_file(&self.lock_path);
        drop(self.lock.take());
    }
}

/// `a/./b/../c` → `a/c`, without touching the file system (symlinks are kept as named).
fn normalise(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Removes staging folders of `name` in `parent` whose lock no process holds (left by a
/// killed run).
fn remove_stale(parent: &Path, name: &str) {
    let prefix = format!(".{name}.staging-");
    let Ok(entries) = names(parent) else { return };
    for (f, _) in entries {
        let Some(stem) = f.strip_prefix(&prefix).and_then(|r| r.strip_suffix(".lock")) else { continue };
        let lock_path = parent.join(&f);
        let Ok(lock) = OpenOptions::new().write(true).open(&lock_path) else { continue };
        if lock.try_lock().is_ok() {
            let _ = std::fs::remove_dir_all(parent.join(format!("{prefix}{stem}")));
            let _ = std::fs::remove_file(&lock_path);
        }
    }
}

/// Swaps two existing paths atomically where the platform can.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(()),
        // A file system without RENAME_EXCHANGE.
        Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => exchange_by_renames(a, b),
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> io::Result<()> {
    exchange_by_renames(a, b)
}

/// `b` → `b.old`, `a` → `b`, `b.old` → `a`: the window without `b` is two renames long.
fn exchange_by_renames(a: &Path, b: &Path) -> io::Result<()> {
    let mut old = a.as_os_str().to_owned();
    old.push(".old");
    let old = PathBuf::from(old);
    std::fs::rename(b, &old)?;
    if let Err(e) = std::fs::rename(a, b) {
        let _ = std::fs::rename(&old, b);
        return Err(e);
    }
    std::fs::rename(&old, a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspect_sorts_entries() {
        let d = tempfile::tempdir().expect("tmp");
        let p = d.path();
        assert!(inspect(&p.join("nope")).expect("ok").missing);
        let c = inspect(p).expect("ok");
        assert!(!c.any && !c.missing);
        std::fs::write(p.join("summary.csv"), "x").expect("w");
        std::fs::write(p.join("run.json"), "{}").expect("w");
        std::fs::write(p.join(LOCK_FILE), "").expect("w");
        std::fs::write(p.join(".summary.csv.tmp-12"), "").expect("w");
        std::fs::create_dir(p.join("charts")).expect("mkdir");
        std::fs::write(p.join("charts/pods.png"), "").expect("w");
        let c = inspect(p).expect("ok");
        assert!(c.any && c.run && !c.sweep && c.foreign.is_empty(), "{c:?}");
        std::fs::write(p.join("charts/notes.txt"), "").expect("w");
        std::fs::write(p.join("notes.txt"), "").expect("w");
        std::fs::create_dir(p.join("runs")).expect("mkdir");
        std::fs::write(p.join("runs/run-000001.csv"), "").expect("w");
        std::fs::write(p.join("runs/other"), "").expect("w");
        let c = inspect(p).expect("ok");
        assert!(c.sweep);
        assert_eq!(c.foreign, ["charts/notes.txt", "notes.txt", "runs/other"]);
        clear(p).ok();
    }

    #[test]
    fn staging_replaces_the_folder_whole() {
        let d = tempfile::tempdir().expect("tmp");
        let out = d.path().join("out");
        std::fs::create_dir(&out).expect("mkdir");
        std::fs::write(out.join("pods.csv"), "old").expect("w");
        std::fs::write(out.join("run.json"), "old").expect("w");
        let s = Staging::begin(&out, false).expect("begin");
        std::fs::write(s.path().join("run.json"), "new").expect("w");
        s.commit().expect("commit");
        assert_eq!(std::fs::read_to_string(out.join("run.json")).expect("r"), "new");
        assert!(!out.join("pods.csv").exists(), "the previous run's extra file is gone");
        let left: Vec<_> = names(d.path()).expect("ls").into_iter().map(|(n, _)| n).collect();
        assert_eq!(left, ["out"], "no staging folder or lock left");
        // Dropped without commit: the previous results stay, the staging folder goes.
        let s = Staging::begin(&out, false).expect("begin");
        std::fs::write(s.path().join("run.json"), "newer").expect("w");
        drop(s);
        assert_eq!(std::fs::read_to_string(out.join("run.json")).expect("r"), "new");
        let left: Vec<_> = names(d.path()).expect("ls").into_iter().map(|(n, _)| n).collect();
        assert_eq!(left, ["out"]);
    }

    #[test]
    fn foreign_files_and_sweeps_are_refused() {
        let d = tempfile::tempdir().expect("tmp");
        let out = d.path().join("out");
        std::fs::create_dir(&out).expect("mkdir");
        std::fs::write(out.join("sweep.json"), "{}").expect("w");
        let Err(FolderError::Input(m)) = Staging::begin(&out, false) else { panic!("a sweep needs --force") };
        assert!(m.contains("--force"), "{m}");
        assert!(Staging::begin(&out, true).is_ok());
        std::fs::write(out.join("thesis.tex"), "").expect("w");
        let Err(FolderError::Input(m)) = Staging::begin(&out, true) else { panic!("foreign files") };
        assert!(m.contains("thesis.tex"), "{m}");
    }

    #[test]
    fn a_held_lock_is_refused() {
        let d = tempfile::tempdir().expect("tmp");
        let held = lock_exclusive(d.path(), "--out").expect("first");
        let Err(FolderError::Input(m)) = lock_exclusive(d.path(), "--out") else { panic!("second lock") };
        assert!(m.contains("another clustersim sweep"), "{m}");
        assert!(lock_shared(d.path()).is_err());
        drop(held);
        assert!(lock_shared(d.path()).expect("free").is_some());
    }

    #[test]
    fn stale_staging_folders_are_removed() {
        let d = tempfile::tempdir().expect("tmp");
        let stale = d.path().join(".out.staging-1-0");
        std::fs::create_dir(&stale).expect("mkdir");
        std::fs::write(d.path().join(".out.staging-1-0.lock"), "").expect("w");
        let s = Staging::begin(&d.path().join("out"), false).expect("begin");
        assert!(!stale.exists());
        drop(s);
    }
}
