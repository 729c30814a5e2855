//! A full disk: `run` and `sweep` exit 4 with their own message, leave no temporary file,
//! keep the previous results (run) or the finished runs (sweep), and a sweep stops starting
//! runs once its folder cannot be written; `--resume` then finishes it byte-identically.
//!
//! The full disk is a small tmpfs mounted in a private mount namespace (`unshare -rm`, a
//! user namespace, no privileges needed), so the test runs the same way in CI.

mod common;
use common::*;
use std::process::Command;

/// Runs `script` with bash inside a new user + mount namespace, with `$BIN` the binary and
/// `$T` a fresh folder on which a tmpfs of `size` is mounted at `$T/disk`. Returns stdout.
fn in_small_disk(size: &str, script: &str) -> String {
    let d = tempfile::tempdir().expect("tmp");
    std::fs::write(d.path().join("s.yaml"), VALID).expect("w");
    std::fs::create_dir(d.path().join("disk")).expect("mkdir");
    let full =
        format!("set -u\nmount -t tmpfs -o size={size} tmpfs \"$T/disk\" || exit 97\ncd \"$T\"\n{script}");
    let o = Command::new("unshare")
        .args(["-rm", "bash", "-c", &full])
        .env("BIN", bin())
        .env("T", d.path())
        .output()
        .expect("unshare runs (util-linux)");
    let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "script failed ({:?}):\n{stdout}\n{stderr}", o.status.code());
    stdout
}

fn value<'a>(out: &'a str, key: &str) -> &'a str {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{key} not in:\n{out}"))
}

#[test]
fn a_run_on_a_full_disk_keeps_the_previous_results() {
    let quick = repo().join("scenarios/quickstart.yaml");
    let out = in_small_disk(
        "4m",
        &format!(
            r#"
Q='{}'
"$BIN" run "$Q" --out disk/X -q; echo first=$?
md5sum disk/X/* > before.txt
# Fill the disk, then run again (with charts, which write the most).
dd if=/dev/zero of=disk/fill bs=4k 2>/dev/null
"$BIN" run "$Q" --out disk/X -q --seed 5 2> err.txt; echo second=$?
echo "message=$(head -c 300 err.txt | tr '\n' ' ')"
md5sum disk/X/* > after.txt
cmp -s before.txt after.txt; echo same=$?
echo "left=$(ls -A disk | tr '\n' ' ')"
echo "tmp=$(find disk -name '*.tmp-*' | wc -l)"
"#,
            quick.display()
        ),
    );
    assert_eq!(value(&out, "first"), "0", "{out}");
    assert_eq!(value(&out, "second"), "4", "exit 4 on a full disk: {out}");
    let msg = value(&out, "message");
    assert!(msg.contains("cannot write the results") && msg.contains("No space left"), "{msg}");
    assert!(!msg.contains("bug"), "a full disk is not a bug: {msg}");
    assert_eq!(value(&out, "same"), "0", "the previous results are intact: {out}");
    assert_eq!(value(&out, "left").trim(), "X fill", "no staging folder or temporary file: {out}");
    assert_eq!(value(&out, "tmp"), "0");
}

#[test]
fn a_sweep_on_a_full_disk_stops_and_resumes() {
    let out = in_small_disk(
        "160k",
        r#"
"$BIN" sweep s.yaml --out disk/sw -r 300 -q --no-charts --jobs 2 2> err.txt; echo code=$?
echo "message=$(head -c 400 err.txt | tr '\n' ' ')"
echo "written=$(ls disk/sw/runs | grep -c '^run-')"
echo "tmp=$(find disk -name '.*' -name '*.tmp-*' | wc -l)"
mount -o remount,size=8m "$T/disk"
"$BIN" sweep s.yaml --out disk/sw -r 300 -q --no-charts --resume; echo resumed=$?
"$BIN" sweep s.yaml --out whole -r 300 -q --no-charts; echo whole=$?
cmp disk/sw/runs.csv whole/runs.csv && cmp disk/sw/points.csv whole/points.csv; echo same=$?
"#,
    );
    assert_eq!(value(&out, "code"), "4", "{out}");
    let msg = value(&out, "message");
    assert!(
        msg.contains("No space left") && msg.contains("not started") && msg.contains("--resume"),
        "{msg}"
    );
    let written: usize = value(&out, "written").parse().expect("count");
    assert!(written > 0 && written < 300, "some runs were written, not all: {written}");
    assert_eq!(value(&out, "tmp"), "0", "no temporary file left");
    assert_eq!(value(&out, "resumed"), "0", "{out}");
    assert_eq!(value(&out, "whole"), "0");
    assert_eq!(value(&out, "same"), "0", "the resumed sweep equals an uninterrupted one");
}
