//! Small versions of the control-plane studies (issue #19, 6a and 6b) with their
//! qualitative results, and the rolling update they need (`deployments[].rollouts`).

mod common;
use common::*;

fn study(name: &str) -> String {
    std::fs::read_to_string(repo().join("scenarios/studies").join(name)).expect("study scenario")
}

/// 6a at 100 nodes and 3,000 pods on 4 cores: the API's worst 5-minute mutating p99 rises
/// with the creation rate and breaks the 1-s SLO (with APF's 429s) only past the cores'
/// capacity (about 4 / 9.5 ms ≈ 420 pods/s); 32 cores carry the same load within SLO.
#[test]
fn api_p99_rises_with_the_creation_rate_past_the_cores() {
    let yaml = study("cp-saturation.yaml");
    let run = |rate: u32, cores: u32| {
        let (_d, out) = run_yaml(
            &yaml,
            &[
                "--set",
                &format!("deployments.0.createRate={rate}"),
                "--set",
                &format!("controlPlane.apiserver.cores={cores}"),
            ],
        );
        summary(&out)
    };
    let rows: Vec<_> = [100, 400, 1600].iter().map(|&r| run(r, 4)).collect();
    let p99: Vec<f64> = rows.iter().map(|s| num(s, "api_mutating_worst_5m_p99_ms")).collect();
    assert!(p99.windows(2).all(|w| w[0] <= w[1]), "{p99:?}");
    assert!(p99[0] < 1000.0 && p99[2] > 1000.0, "{p99:?}");
    assert_eq!(num(&rows[0], "api_rejected_429"), 0.0);
    assert!(num(&rows[2], "api_rejected_429") > 0.0);
    assert_eq!(num(&rows[0], "slo_pod_startup_ok"), 1.0);
    assert_eq!(num(&rows[2], "slo_pod_startup_ok"), 0.0);
    let big = run(1600, 32);
    assert!(num(&big, "api_mutating_worst_5m_p99_ms") < 1000.0);
    assert_eq!(num(&big, "api_rejected_429"), 0.0);
}

/// 6b scaled down (300 nodes, 500 pods): the rolling update replaces every pod in both
/// modes, and every Endpoints update sends all 500 endpoints to each node where an
/// EndpointSlice update sends at most 100: exactly 5 × the bytes, and more API CPU.
#[test]
fn endpoint_slices_send_a_fifth_of_the_bytes_of_endpoints() {
    let yaml = study("cp-endpoints.yaml")
        .replace("count: 3000", "count: 300")
        .replace("replicas: 5000", "replicas: 500")
        .replace("duration: 1800s", "duration: 300s");
    let run = |mode: &str| {
        let (_d, out) = run_yaml(&yaml, &["--set", &format!("controlPlane.watch.endpoints={mode}")]);
        summary(&out)
    };
    let (ep, slice) = (run("Endpoints"), run("EndpointSlice"));
    for s in [&ep, &slice] {
        assert_eq!(num(s, "pods_created"), 1000.0);
        assert_eq!(num(s, "pods_deleted"), 500.0);
        assert_eq!(num(s, "pods_running_end"), 500.0);
    }
    let (b_ep, b_slice) = (num(&ep, "watch_bytes_sent"), num(&slice, "watch_bytes_sent"));
    assert!(b_slice > 0.0);
    assert_eq!(b_ep, 5.0 * b_slice, "{b_ep} vs {b_slice}");
    // Endpoint updates: 500 pods joining at the start, then in the update 500 joining, the
    // first 125 old pods (maxUnavailable) leaving at once in one update and the other 375
    // one by one: 1,376, each 500 × 300 B to each of 300 nodes.
    assert_eq!(b_ep, 1376.0 * 300.0 * 500.0 * 300.0);
    assert!(num(&ep, "apiserver_cpu_utilization_mean") > num(&slice, "apiserver_cpu_utilization_mean"));
}

/// A rolling update without a control plane: every old pod is replaced once, the
/// Deployment never has more than replicas + maxSurge pods, and it ends with `replicas`.
#[test]
fn a_rolling_update_replaces_every_pod_once() {
    let yaml = "
duration: 120s
sampleInterval: 1s
nodePools:
  - {name: p, count: 4, allocatable: {cpu: 8, memory: 32Gi},
     kubelet: {imagePull: {constant: 0s}, containerStart: {constant: 2s}}}
deployments:
  - name: web
    replicas: 8
    template: {requests: {cpu: 100m}}
    rollouts: [{at: 30s, maxSurge: 2, maxUnavailable: 0}]
";
    let (_d, out) = run_yaml(yaml, &["--pods"]);
    let s = summary(&out);
    assert_eq!(num(&s, "pods_created"), 16.0);
    assert_eq!(num(&s, "pods_deleted"), 8.0);
    assert_eq!(num(&s, "pods_running_end"), 8.0);
    let pods = csv_rows(&out.join("pods.csv"));
    // maxSurge 2, maxUnavailable 0: new pods come two at a time, each pair once the
    // previous pair is Running (2 s), so the last starts 4 × 2 s after 30 s.
    let mut new_running: Vec<f64> = pods
        .iter()
        .filter(|p| p["created_s"].parse::<f64>().unwrap_or(0.0) >= 30.0)
        .map(|p| p["running_s"].parse::<f64>().expect("running"))
        .collect();
    new_running.sort_by(f64::total_cmp);
    assert_eq!(new_running.len(), 8);
    // (+ 0.5 ms of scheduling per pod)
    assert!((new_running[7] - 38.0).abs() < 0.01, "{new_running:?}");
    assert!((new_running[1] - 32.0).abs() < 0.01 && (new_running[2] - 34.0).abs() < 0.01, "{new_running:?}");
    // At no time more than 10 pods: every new pod was created when an old one was deleted
    // or at the start of the update.
    let created: Vec<f64> = pods.iter().map(|p| p["created_s"].parse().expect("created")).collect();
    let ended: Vec<Option<f64>> = pods.iter().map(|p| p["finished_s"].parse().ok()).collect();
    for &t in &created {
        let alive = created.iter().zip(&ended).filter(|(c, e)| **c <= t && e.is_none_or(|e| e > t)).count();
        assert!(alive <= 10, "{alive} pods at {t}");
    }
}

#[test]
fn bad_rollout_settings_name_the_field() {
    let base = "
duration: 60s
nodePools: [{name: p, count: 1, allocatable: {cpu: 8, memory: 32Gi}}]
deployments:
  - name: web
    replicas: 2
    template: {}
    rollouts: [ROLLOUT]
";
    let err = fails_with(&[], &base.replace("ROLLOUT", "{at: 10s, maxSurge: abc}"));
    assert!(err.contains("deployments[0].rollouts[0].maxSurge"), "{err}");
    let err = fails_with(&[], &base.replace("ROLLOUT", "{at: 10s, maxUnavailable: 150%}"));
    assert!(err.contains("deployments[0].rollouts[0].maxUnavailable"), "{err}");
    let err = fails_with(&[], &base.replace("ROLLOUT", "{at: 10s, maxSurge: 0, maxUnavailable: 0%}"));
    assert!(err.contains("deployments[0].rollouts[0].maxUnavailable"), "{err}");
}
