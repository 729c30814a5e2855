//! index.html renders in a real browser: headless Chromium (Debian's `chromium`, which
//! `.ci/run` installs) takes a screenshot of a run's report, which must be a PNG of the
//! window's size with the table and the charts on it (many colours, not a blank page).
//!
//! Without chromium the test fails, unless CLUSTERSIM_SKIP_CHROMIUM=1 says to skip it.
//! Set CLUSTERSIM_SCREENSHOT=path.png to keep the screenshot.

mod common;
mod pngcheck;
use common::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SCENARIO: &str = "\
name: report-check
duration: 20m
sampleInterval: 30s
nodePools:
  - name: pool
    count: 3
    allocatable: {cpu: 8, memory: 16Gi}
deployments:
  - name: web
    replicas: 4
    template:
      requests: {cpu: 500m, memory: 1Gi}
    service:
      concurrency: 2
      serviceTime: {exponential: {mean: 40ms}}
      load: {poisson: {rate: 60}}
";

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    let dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    ["chromium", "chromium-browser"]
        .iter()
        .flat_map(|name| dirs.iter().map(move |d| d.join(name)))
        .find(|p| p.is_file())
}

/// Runs `cmd`, killing it after `limit`; returns whether it exited successfully.
fn run_with_limit(cmd: &mut Command, limit: Duration) -> (bool, String) {
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("chromium starts");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            return (status.success(), err);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn screenshot(browser: &Path, page: &Path, shot: &Path, profile: &Path) {
    let url = format!("file://{}", page.display());
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .arg(format!("--screenshot={}", shot.display()))
    .arg("--window-size=1200,2000")
    .arg(url);
    let (ok, err) = run_with_limit(&mut cmd, Duration::from_secs(120));
    assert!(ok && shot.is_file(), "chromium failed to take the screenshot:\n{err}");
}

#[test]
fn the_report_renders_in_headless_chromium() {
    let Some(browser) = chromium() else {
        if std::env::var("CLUSTERSIM_SKIP_CHROMIUM").is_ok_and(|v| v == "1") {
            eprintln!("SKIPPED: chromium is not installed (CLUSTERSIM_SKIP_CHROMIUM=1)");
            return;
        }
        panic!(
            "chromium is not installed: `apt-get install chromium` (as .ci/run does), \
             or set CLUSTERSIM_SKIP_CHROMIUM=1 to skip this test"
        );
    };
    let (dir, out) = run_yaml(SCENARIO, &[]);
    let page = out.join("index.html").canonicalize().expect("index.html");
    let shot = dir.path().join("screenshot.png");
    let profile = dir.path().join("chromium-profile");
    screenshot(&browser, &page, &shot, &profile);
    if let Some(keep) = std::env::var_os("CLUSTERSIM_SCREENSHOT") {
        std::fs::copy(&shot, &keep).expect("copy the screenshot");
    }

    let pic = pngcheck::decode(&shot);
    assert_eq!((pic.width, pic.height), (1200, 2000), "the window's size");
    assert!(pic.colours() > 200, "a blank page? only {} colours", pic.colours());
    assert!(pic.ink() > 0.05, "a blank page? {:.3} of the pixels drawn", pic.ink());
    // The charts are images of many colours: the lower half (below the table) has them.
    let lower = pngcheck::Picture {
        width: pic.width,
        height: pic.height / 2,
        pixels: pic.pixels[(pic.width * pic.height / 2) as usize..].to_vec(),
    };
    assert!(lower.colours() > 100, "no chart below the table? {} colours", lower.colours());
}
