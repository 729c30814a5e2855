//! The kube-scheduler throughput study (README "kube-scheduler throughput"): the
//! scheduler_perf workloads of `scenarios/scheduler-perf-*.yaml`, measured by the
//! `throughputCollector` as upstream measures them, against the published thresholds
//! (`test/integration/scheduler_perf/misc/performance-config.yaml`).
//!
//! The full-size scenarios run here (5,000 nodes, 11,000 and 55,000 pods: well under a
//! second each in a release build), 250 seeds each for the threshold statistic, so the
//! figures checked are the ones the study reports.

mod common;
use common::*;
use std::collections::BTreeMap;

use clustersim::engine::{SimDuration, SimTime, StreamId};
use clustersim::scheduler::noise::CostNoise;

/// Upstream thresholds, pods/s.
const UPSTREAM_BASIC_10K: f64 = 680.0;
const UPSTREAM_BASIC_50K: f64 = 810.0;
const UPSTREAM_UNSCHEDULABLE_10K: f64 = 590.0;

/// Upstream sets each threshold to the minimum collector average of its last 250 CI runs
/// (kubernetes/kubernetes PR #136276): the statistic compared is the expected minimum of
/// `M` runs, estimated here from the first `N` seeds.
const M: usize = 250;
const N: usize = 500;

/// Stated tolerance on the 50k / 10k ratio of that statistic, relative to upstream's 1.191.
/// Estimated from 500 runs the ratio moves by about 2 % with the seeds (1.182 and 1.207 for
/// seeds 1..500 and 501..1000; 1.187 from all 1,250, results/scheduler-perf/table.csv), and
/// upstream's own 1.191 is a single minimum, which moves more.
const RATIO_TOLERANCE: f64 = 0.05;

/// Stated tolerance on the calibration: the 50k statistic against upstream's 810.
const CALIBRATION_TOLERANCE: f64 = 0.03;

fn run_full(file: &str, set: &[&str]) -> BTreeMap<String, String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = repo().join("scenarios").join(file);
    let mut args = vec!["run", path.to_str().expect("utf-8 path"), "--out", "out", "--quiet", "--no-charts"];
    for s in set {
        args.extend_from_slice(&["--set", s]);
    }
    let o = run_in(dir.path(), &args);
    assert_eq!(o.code, 0, "{file}: {}", o.stderr);
    summary(&dir.path().join("out"))
}

/// `measured_throughput_avg_pods_per_s` and `measured_pods_scheduled` of seeds 1..=N, from
/// `clustersim sweep -r N`.
fn sweep(file: &str) -> Vec<(f64, f64)> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = repo().join("scenarios").join(file);
    let reps = N.to_string();
    let o = run_in(
        dir.path(),
        &["sweep", path.to_str().expect("utf-8 path"), "-r", &reps, "--out", "out", "-q", "-j", "2"],
    );
    assert_eq!(o.code, 0, "{file}: {}", o.stderr);
    let rows: Vec<(f64, f64)> = csv_rows(&dir.path().join("out/runs.csv"))
        .iter()
        .map(|r| (num(r, "measured_throughput_avg_pods_per_s"), num(r, "measured_pods_scheduled")))
        .collect();
    assert_eq!(rows.len(), N);
    rows
}

/// The expected minimum of `m` runs drawn from these: the mean, over every `m`-subset, of its
/// minimum, `sum_i w_i x_(i)` over the sorted values with `w_i = C(n-i, m-1) / C(n, m)`
/// (the same estimator as `scenarios/studies/scheduler-perf.sh`).
fn expected_min(rows: &[(f64, f64)], m: usize) -> f64 {
    let mut x: Vec<f64> = rows.iter().map(|r| r.0).collect();
    x.sort_by(f64::total_cmp);
    let n = x.len();
    let (mut w, mut e, mut total) = (m as f64 / n as f64, 0.0, 0.0);
    for (i, v) in x.iter().enumerate().take(n - m + 1) {
        e += w * v;
        total += w;
        let i = i + 1;
        if i < n {
            w *= (n - i + 1 - m) as f64 / (n - i) as f64;
        }
    }
    assert!((total - 1.0).abs() < 1e-9, "weights sum to {total}");
    e
}

fn mean(rows: &[(f64, f64)]) -> f64 {
    rows.iter().map(|r| r.0).sum::<f64>() / rows.len() as f64
}

#[test]
fn the_expected_minimum_is_the_subset_average() {
    // 4 runs, minimum of 2: the 6 pairs have minima 1, 1, 1, 2, 2, 3 -> 10 / 6.
    let rows: Vec<(f64, f64)> = [3.0, 1.0, 4.0, 2.0].iter().map(|&v| (v, 0.0)).collect();
    assert!((expected_min(&rows, 2) - 10.0 / 6.0).abs() < 1e-12);
    assert_eq!(expected_min(&rows, 1), mean(&rows));
    assert_eq!(expected_min(&rows, 4), 1.0);
}

#[test]
fn the_threshold_statistic_reproduces_upstreams_ratio() {
    let short = sweep("scheduler-perf-basic-10k.yaml");
    let long = sweep("scheduler-perf-basic-50k.yaml");
    assert!(short.iter().all(|r| r.1 == 10_000.0), "every measured pod is scheduled in every run");
    assert!(long.iter().all(|r| r.1 == 50_000.0));
    let (t10, t50) = (expected_min(&short, M), expected_min(&long, M));
    // Calibration: the 50k statistic is upstream's threshold.
    assert!((t50 / UPSTREAM_BASIC_50K - 1.0).abs() <= CALIBRATION_TOLERANCE, "50k statistic {t50:.1}");
    // The ratio of the statistics matches upstream's within the stated tolerance...
    let upstream = UPSTREAM_BASIC_50K / UPSTREAM_BASIC_10K;
    let ratio = t50 / t10;
    assert!(
        (ratio / upstream - 1.0).abs() <= RATIO_TOLERANCE,
        "ratio {ratio:.3} vs upstream {upstream:.3} (tolerance {RATIO_TOLERANCE}); statistics {t50:.1} / {t10:.1}"
    );
    // ... while the mean rates differ by only the collector's partial last sample, diluted
    // over about 13 samples against 60 (about 3.5 %): a short run's average spreads more, so
    // the minimum of many lies further below the mean.
    let means = mean(&long) / mean(&short);
    assert!((1.02..1.06).contains(&means), "ratio of means {means:.3}");
    let drop = |rows: &[(f64, f64)]| 1.0 - expected_min(rows, M) / mean(rows);
    assert!(drop(&short) > 1.5 * drop(&long), "{} vs {}", drop(&short), drop(&long));
}

#[test]
fn without_noise_the_cost_model_is_exact() {
    // sigma 0: every cycle costs 410 µs + 500 nodes examined × 1.5 µs = 1.16 ms.
    let steady = 1e9 / (410_000.0 + 500.0 * 1_500.0);
    let off = ["scheduler.cost.noise.sigma=0"];
    let short = run_full("scheduler-perf-basic-10k.yaml", &off);
    let long = run_full("scheduler-perf-basic-50k.yaml", &off);
    // Only the measured pods count: the 1,000 / 5,000 init pods are outside the window.
    assert_eq!(num(&short, "pods_scheduled"), 11_000.0);
    assert_eq!(num(&long, "pods_scheduled"), 55_000.0);
    for s in [&short, &long] {
        let overall = num(s, "measured_throughput_overall_pods_per_s");
        assert!((overall / steady - 1.0).abs() < 0.005, "overall {overall} vs steady {steady}");
    }
    // The collector's mean over the phase of its ticks: 11 samples of which the last covers
    // about half a second, against 58: (1 - 0.5/58) / (1 - 0.5/11) = 1.039 to first order.
    assert_eq!(num(&short, "measured_throughput_samples"), 11.0);
    assert_eq!(num(&long, "measured_throughput_samples"), 58.0);
    let key = "measured_throughput_avg_phase_mean_pods_per_s";
    let phase_mean = num(&long, key) / num(&short, key);
    let expected = (1.0 - 0.5 / 58.0) / (1.0 - 0.5 / 11.0);
    assert!((phase_mean - expected).abs() < 0.01, "phase-mean ratio {phase_mean:.4} vs {expected:.4}");
    // Unschedulable: 5 pods/s that each examine all 5,000 nodes, 5 × (410 µs + 5,000 ×
    // 1.5 µs) = 4.0 % of the scheduler's time.
    let uns = run_full("scheduler-perf-unschedulable-10k.yaml", &off);
    let expected = 1.0 - 5.0 * (410e-6 + 5000.0 * 1.5e-6);
    let overall = num(&uns, "measured_throughput_overall_pods_per_s")
        / num(&short, "measured_throughput_overall_pods_per_s");
    assert!((overall - expected).abs() < 0.005, "overall ratio {overall:.4} vs {expected:.4}");
    assert!(num(&uns, "unschedulable_attempts") > 0.0);
    // Upstream's 590 / 680 = 0.868 is not reached (README).
    assert!(overall > UPSTREAM_UNSCHEDULABLE_10K / UPSTREAM_BASIC_10K);
}

#[test]
fn noise_scales_each_second_by_its_factor() {
    // One pod template, 1 ms per attempt and nothing per node: without noise 1,000 bindings
    // a second; with it, about 1,000 / factor(k) in second k, the factor computed here.
    let yaml = "\
name: noise
seed: 7
duration: 30s
scheduler:
  cost: {perPod: 1ms, perNodeExamined: 0s, noise: {sigma: 0.5, period: 1s}}
nodePools:
  - {name: p, count: 200, allocatable: {cpu: 64, memory: 256Gi, pods: 110}}
deployments:
  - {name: d, replicas: 20000, template: {requests: {cpu: 10m, memory: 10Mi}}}
";
    let (_d, out) = run_yaml(yaml, &["--pods", "--no-charts"]);
    let mut per_second = [0u32; 30];
    for r in csv_rows(&out.join("pods.csv")) {
        per_second[num(&r, "bound_s") as usize] += 1;
    }
    let mut noise = CostNoise::new(0.5, SimDuration::from_secs(1), 7, StreamId(8));
    let mut busy_seconds = 0;
    let mut total = 0u32;
    for (k, &n) in per_second.iter().enumerate() {
        total += n;
        if total >= 20_000 {
            break; // the last, partial second
        }
        let f = noise.factor_at(SimTime(k as u64 * 1_000_000_000));
        let want = 1000.0 / f;
        // A cycle that starts in second k and ends in k + 1 is counted there: ± 1 each end.
        assert!(
            (f64::from(n) - want).abs() <= 2.0,
            "second {k}: {n} bindings, factor {f:.3} wants {want:.1}"
        );
        busy_seconds += 1;
    }
    assert!(busy_seconds >= 10, "{busy_seconds}");
    // The factors do differ: sigma 0.5 is visible second to second.
    let lo = per_second[..busy_seconds].iter().min().expect("seconds");
    let hi = per_second[..busy_seconds].iter().max().expect("seconds");
    assert!(f64::from(*hi) > 1.5 * f64::from(*lo), "{lo}..{hi}");
}

#[test]
fn noise_is_validated() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (cost, field, reason) in [
        ("{noise: {sigma: -0.1}}", "scheduler.cost.noise.sigma", "from 0"),
        ("{noise: {sigma: 4}}", "scheduler.cost.noise.sigma", "to 3"),
        ("{noise: {sigma: .nan}}", "scheduler.cost.noise.sigma", "from 0"),
        ("{noise: {sigma: 0.2, period: 0s}}", "scheduler.cost.noise.period", "greater than 0"),
    ] {
        let bad = format!("{VALID}scheduler: {{cost: {cost}}}\n");
        std::fs::write(dir.path().join("s.yaml"), bad).expect("write");
        let o = run_in(dir.path(), &["validate", "s.yaml"]);
        assert_eq!(o.code, 2, "{cost}: {}", o.stderr);
        assert!(o.stderr.contains(field) && o.stderr.contains(reason), "{cost}: {}", o.stderr);
    }
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
