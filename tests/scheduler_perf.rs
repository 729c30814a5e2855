//! The kube-scheduler throughput study (README "kube-scheduler throughput"): the
//! scheduler_perf workloads of `scenarios/scheduler-perf-*.yaml`, measured by the
//! `throughputCollector` as upstream measures them, against the published thresholds
//! (`test/integration/scheduler_perf/misc/performance-config.yaml`).
//!
//! The full-size scenarios run here (5,000 nodes, 11,000 and 55,000 pods: well under a
//! second each in a release build), so the figures checked are the ones the study reports.

mod common;
use common::*;
use std::collections::BTreeMap;

/// Upstream thresholds, pods/s.
const UPSTREAM_BASIC_10K: f64 = 680.0;
const UPSTREAM_BASIC_50K: f64 = 810.0;
const UPSTREAM_UNSCHEDULABLE_10K: f64 = 590.0;

/// Stated tolerance on the SchedulingBasic 50k / 10k ratio, relative to upstream's 1.19.
/// The model reproduces the direction (the longer run averages higher) but only about a
/// quarter of the size: the only mechanism it has is the collector's partial last sample,
/// diluted over 61 samples instead of 12 (README).
const RATIO_TOLERANCE: f64 = 0.15;

fn run_full(file: &str) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = repo().join("scenarios").join(file);
    let o = run_in(dir.path(), &["run", &path.to_string_lossy(), "--out", "out", "--quiet", "--no-charts"]);
    assert_eq!(o.code, 0, "{file}: {}", o.stderr);
    summary(&dir.path().join("out"))
}

#[test]
fn scheduling_basic_ratio_is_within_the_stated_tolerance_of_upstream() {
    let short = run_full("scheduler-perf-basic-10k.yaml");
    let long = run_full("scheduler-perf-basic-50k.yaml");
    for (s, n) in [(&short, 10_000.0), (&long, 50_000.0)] {
        assert_eq!(num(s, "measured_pods"), n);
        assert_eq!(num(s, "measured_pods_scheduled"), n, "every measured pod is scheduled");
    }
    // Only the measured pods count: the 1,000 / 5,000 init pods are outside the window.
    assert_eq!(num(&short, "pods_scheduled"), 11_000.0);
    assert_eq!(num(&long, "pods_scheduled"), 55_000.0);
    // Calibration: 485 µs + 500 nodes examined × 1.5 µs = 1.235 ms a pod, 810 pods/s in
    // steady state, which the 50,000-pod workload's collector average is within 1 % of.
    let steady = 1e9 / (485_000.0 + 500.0 * 1_500.0);
    assert!((steady - UPSTREAM_BASIC_50K).abs() < 1.0, "{steady}");
    for s in [&short, &long] {
        let overall = num(s, "measured_throughput_overall_pods_per_s");
        assert!((overall / steady - 1.0).abs() < 0.005, "overall {overall} vs steady {steady}");
    }
    let a10 = num(&short, "measured_throughput_avg_pods_per_s");
    let a50 = num(&long, "measured_throughput_avg_pods_per_s");
    assert!((a50 / UPSTREAM_BASIC_50K - 1.0).abs() < 0.01, "50k average {a50}");
    // The ratio, of this run's collector averages and of their means over the tail's
    // phase: same direction as upstream, within the stated tolerance of its size.
    let upstream = UPSTREAM_BASIC_50K / UPSTREAM_BASIC_10K;
    let key = "measured_throughput_avg_phase_mean_pods_per_s";
    let phase_mean = num(&long, key) / num(&short, key);
    for simulated in [a50 / a10, phase_mean] {
        assert!(simulated > 1.0, "the longer workload averages higher: {simulated}");
        assert!(
            (simulated / upstream - 1.0).abs() <= RATIO_TOLERANCE,
            "ratio {simulated:.3} vs upstream {upstream:.3} (tolerance {RATIO_TOLERANCE})"
        );
    }
    // Phase mean: 12 samples of which the last covers half a second on average against 61,
    // i.e. about (1 - 0.5/61) / (1 - 0.5/12) = 1.035.
    let expected = (1.0 - 0.5 / 61.0) / (1.0 - 0.5 / 12.0);
    assert!((phase_mean - expected).abs() < 0.005, "phase-mean ratio {phase_mean:.4} vs {expected:.4}");
    // The 12 and 61 samples: the first second of each run is skipped, the last is partial.
    assert_eq!(num(&short, "measured_throughput_samples"), 12.0);
    assert_eq!(num(&long, "measured_throughput_samples"), 61.0);
}

#[test]
fn unschedulable_pods_cost_a_full_scan_each() {
    let basic = run_full("scheduler-perf-basic-10k.yaml");
    let uns = run_full("scheduler-perf-unschedulable-10k.yaml");
    // 5 pods/s that each examine all 5,000 nodes: 5 × (485 µs + 5,000 × 1.5 µs) = 4.0 % of
    // the scheduler's time, so the steady rate drops to 0.960 of SchedulingBasic's.
    let share = 5.0 * (485e-6 + 5000.0 * 1.5e-6);
    let expected = 1.0 - share;
    let overall = num(&uns, "measured_throughput_overall_pods_per_s")
        / num(&basic, "measured_throughput_overall_pods_per_s");
    assert!((overall - expected).abs() < 0.005, "overall ratio {overall:.4} vs {expected:.4}");
    assert!(num(&uns, "unschedulable_attempts") > 0.0);
    // The collector's mean over the tail's phase shows the same 4 %. Upstream's 590 / 680 =
    // 0.868 is not reached: preemption's dry run for each unschedulable pod is not charged
    // (README); the ratio is reported, not asserted against upstream's.
    let key = "measured_throughput_avg_phase_mean_pods_per_s";
    let collector = num(&uns, key) / num(&basic, key);
    assert!((collector - expected).abs() < 0.01, "phase-mean ratio {collector:.4} vs {expected:.4}");
    assert!(collector > UPSTREAM_UNSCHEDULABLE_10K / UPSTREAM_BASIC_10K);
}

#[test]
fn the_throughput_collector_is_validated() {
    let bad = format!("{VALID}throughputCollector: {{deployments: [nope], sampleInterval: 0s}}\n");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("s.yaml"), bad).expect("write");
    let o = run_in(dir.path(), &["validate", "s.yaml"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stderr.contains("throughputCollector.deployments[0]"), "{}", o.stderr);
    assert!(o.stderr.contains("throughputCollector.sampleInterval"), "{}", o.stderr);
    let empty = format!("{VALID}throughputCollector: {{deployments: []}}\n");
    std::fs::write(dir.path().join("e.yaml"), empty).expect("write");
    let o = run_in(dir.path(), &["validate", "e.yaml"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    // Without the section there are no measured_* columns.
    let (_d, out) = run_yaml(VALID, &["--no-charts"]);
    assert!(!summary(&out).contains_key("measured_throughput_avg_pods_per_s"));
    let with = format!("{VALID}throughputCollector: {{deployments: [web]}}\n");
    let (_d, out) = run_yaml(&with, &["--no-charts"]);
    let s = summary(&out);
    assert_eq!(num(&s, "measured_pods"), 3.0);
    // Three pods scheduled within the first second: no sample, so no average.
    assert_eq!(s["measured_throughput_avg_pods_per_s"], "");
}
