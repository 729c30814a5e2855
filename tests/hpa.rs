//! The HPA in a closed loop with the traffic model: a step up of load raises the replica
//! count to what the upstream formula predicts, the legacy scale-up limit and downscale
//! stabilisation show in the decisions, and every decision is logged.

mod common;
use common::*;

const SCENARIO: &str = "
duration: 20m
sampleInterval: 30s
scheduler: {cost: {perPod: 0s, perNodeExamined: 0s}}
nodePools: [{name: p, count: 20, allocatable: {cpu: 4, memory: 16Gi}, kubelet: {containerStart: {constant: 2s}}}]
deployments:
  - name: web
    replicas: 2
    template: {requests: {cpu: 1}}
    horizontalPodAutoscaler: {minReplicas: 2, maxReplicas: 20, targetCpuUtilization: 50}
    service:
      concurrency: 1
      cpuPerWorker: 1
      serviceTime: {exponential: {mean: 100ms}}
      load: {steps: [{at: 0s, rate: 10}, {at: 5m, rate: 40}]}
";

#[test]
fn a_load_step_scales_to_the_formula_and_is_logged() {
    let (_dir, out) = run_yaml(SCENARIO, &[]);
    let events = std::fs::read_to_string(out.join("autoscaler-events.csv")).expect("events");
    let header: Vec<&str> = events.lines().next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect("column");
    let (current_col, final_col) = (col("current"), col("final"));
    let rows: Vec<Vec<&str>> = events.lines().skip(1).map(|l| l.split(',').collect()).collect();
    // A sync every 15 s from 15 s to 1,200 s.
    assert_eq!(rows.len(), 80);
    // Each pod is busy λ/N × 0.1 s per s, one CPU per busy worker, 1 CPU requested:
    // utilisation 10λ/N %, so the 50 % target needs N = ceil(λ / 5): 8 at 40 requests/s.
    // Poisson noise and the backlog right after the step can add one; the 5-min downscale
    // stabilisation then keeps the highest recent recommendation.
    let last: i32 = rows.last().expect("rows")[final_col].parse().expect("final");
    assert!((8..=10).contains(&last), "final replicas {last}");
    // The legacy scale-up limit max(2 × current, 4) caps every step.
    for r in &rows {
        let (current, fin): (i32, i32) =
            (r[current_col].parse().expect("current"), r[final_col].parse().expect("final"));
        assert!(fin <= (2 * current).max(4), "scale-up limit broken in {r:?}");
    }
    // Before the step (10 requests/s) the HPA needs about 2 pods.
    let before: Vec<i32> = rows
        .iter()
        .filter(|r| r[0].parse::<f64>().unwrap_or(0.0) < 300.0)
        .map(|r| r[final_col].parse().expect("final"))
        .collect();
    assert!(before.iter().all(|&n| (2..=3).contains(&n)), "{before:?}");
    let s = summary(&out);
    assert!(num(&s, "pods_running_end") >= 8.0);
}

#[test]
fn hpa_input_errors_name_the_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = SCENARIO.replace("template: {requests: {cpu: 1}}", "template: {requests: {memory: 1Gi}}");
    std::fs::write(dir.path().join("s.yaml"), bad).expect("write");
    let o = run_in(dir.path(), &["validate", "s.yaml"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("horizontalPodAutoscaler.targetCpuUtilization"), "{}", o.stderr);
    let bad = SCENARIO.replace("minReplicas: 2, maxReplicas: 20", "minReplicas: 5, maxReplicas: 3");
    std::fs::write(dir.path().join("s.yaml"), bad).expect("write");
    let o = run_in(dir.path(), &["validate", "s.yaml"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("horizontalPodAutoscaler.maxReplicas"), "{}", o.stderr);
}
