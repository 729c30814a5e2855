//! `clustersim run --explain`: one row per scheduling attempt in `scheduling-attempts.csv`;
//! the examined nodes are the feasible ones plus those each filter plugin rejected first;
//! upstream's message for a failure; the chosen node's and the runner-up's scores for a
//! placement; the same decisions as without it; the report lists the pods that waited
//! longest.

mod common;
use common::*;
use std::path::Path;

fn scenario(name: &str) -> String {
    std::fs::read_to_string(repo().join("scenarios").join(name)).expect("scenario")
}

/// A cluster where pods wait for every reason: spread, anti-affinity, node selectors, taints,
/// a cordon, too little room, and a preemption.
const REASONS: &str = "
seed: 3
duration: 15m
priorityClasses:
  - {name: low, value: 0}
  - {name: high, value: 1000}
nodePools:
  - name: p
    count: 6
    zones: [a, b, c]
    allocatable: {cpu: 4, memory: 8Gi, pods: 10}
  - name: t
    count: 2
    zones: [a]
    taints: [{key: dedicated, value: batch, effect: NoSchedule}]
    allocatable: {cpu: 8, memory: 16Gi}
deployments:
  - name: web
    replicas: 9
    template:
      priorityClassName: low
      labels: {app: web}
      requests: {cpu: 1, memory: 1Gi}
      topologySpreadConstraints:
        - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: web}}}
  - name: big
    replicas: 4
    template: {priorityClassName: low, requests: {cpu: 3, memory: 2Gi}}
  - name: zonal
    replicas: 3
    template: {priorityClassName: low, requests: {cpu: 500m}, nodeSelector: {topology.kubernetes.io/zone: b}}
  - name: urgent
    replicas: 0
    scale: [{at: 5m, replicas: 2}]
    template: {priorityClassName: high, requests: {cpu: 3, memory: 2Gi}}
maintenance:
  - {at: 2m, drain: p-1, duration: 5m}
";

fn attempts(dir: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    // The message column holds commas: read it with the csv crate's rules.
    let mut r = csv::Reader::from_path(dir.join("scheduling-attempts.csv")).expect("attempts file");
    let header: Vec<String> = r.headers().expect("header").iter().map(String::from).collect();
    r.records()
        .map(|rec| {
            let rec = rec.expect("row");
            header.iter().cloned().zip(rec.iter().map(String::from)).collect()
        })
        .collect()
}

fn n(row: &std::collections::BTreeMap<String, String>, k: &str) -> i64 {
    row.get(k).unwrap_or_else(|| panic!("column {k}")).parse().unwrap_or_else(|_| panic!("{k}: {row:?}"))
}

fn check_rows(what: &str, yaml: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let (d, out) = run_yaml(yaml, &["--explain", "--pods"]);
    let rows = attempts(&out);
    let s = summary(&out);
    assert_eq!(rows.len() as f64, num(&s, "scheduling_attempts"), "{what}: one row per attempt");
    let examined: i64 = rows.iter().map(|r| n(r, "nodes_examined")).sum();
    assert_eq!(examined as f64, num(&s, "nodes_examined"), "{what}: nodes examined");
    for r in &rows {
        let rejected: i64 =
            clustersim::scheduler::explain::FILTERS.iter().map(|f| n(r, &format!("rejected_{f}"))).sum();
        assert_eq!(
            n(r, "feasible_nodes") + rejected,
            n(r, "nodes_examined"),
            "{what}: feasible + rejected = examined in {r:?}"
        );
        match r["result"].as_str() {
            "Scheduled" => {
                assert!(
                    n(r, "feasible_nodes") >= 1 && !r["node"].is_empty() && r["message"].is_empty(),
                    "{r:?}"
                );
                if !r["score_total"].is_empty() {
                    let sum: i64 = clustersim::scheduler::explain::SCORES
                        .iter()
                        .map(|p| n(r, &format!("score_{p}")))
                        .sum();
                    assert_eq!(sum, n(r, "score_total"), "{r:?}");
                    if !r["runner_up_score_total"].is_empty() {
                        assert!(n(r, "runner_up_score_total") <= n(r, "score_total"), "{r:?}");
                    }
                }
            }
            "Unschedulable" => {
                assert_eq!(n(r, "feasible_nodes"), 0, "{r:?}");
                let msg = &r["message"];
                assert!(msg.starts_with(&format!("0/{} nodes are available", r["nodes_examined"])), "{msg}");
            }
            other => panic!("result {other}"),
        }
    }
    (d, out)
}

#[test]
fn rows_add_up_for_every_kind_of_scenario() {
    check_rows("quickstart", &scenario("quickstart.yaml"));
    check_rows("hpa-spike", &scenario("hpa-spike.yaml"));
    let (_d, out) = check_rows("reasons", REASONS);
    let rows = attempts(&out);
    let messages: Vec<&str> = rows.iter().map(|r| r["message"].as_str()).filter(|m| !m.is_empty()).collect();
    let all = messages.join("\n");
    for reason in [
        "node(s) didn't match pod topology spread constraints",
        "node(s) didn't match pod anti-affinity rules",
        "node(s) had untolerated taint {dedicated: batch}",
        "node(s) didn't match Pod's node affinity/selector",
        "node(s) were unschedulable",
        "Insufficient cpu",
    ] {
        assert!(all.contains(reason), "no failure says {reason:?}:\n{all}");
    }
    // The reasons are sorted as strings, as upstream sorts them.
    for m in &messages {
        let list = m.split_once(": ").map(|(_, l)| l.trim_end_matches('.')).unwrap_or("");
        let parts: Vec<&str> = list.split(", ").collect();
        let mut sorted = parts.clone();
        sorted.sort();
        assert_eq!(parts, sorted, "{m}");
    }
    assert!(rows.iter().any(|r| !r["nominated_node"].is_empty()), "the urgent pods preempted");
}

#[test]
fn explaining_does_not_change_a_run() {
    let (_a, with) = run_yaml(REASONS, &["--explain", "--pods", "--no-charts"]);
    let (_b, without) = run_yaml(REASONS, &["--pods", "--no-charts"]);
    for f in ["summary.csv", "timeseries.csv", "pods.csv"] {
        let a = std::fs::read(with.join(f)).expect("with");
        let b = std::fs::read(without.join(f)).expect("without");
        assert!(a == b, "{f} differs with --explain");
    }
    assert!(!without.join("scheduling-attempts.csv").exists());
}

#[test]
fn a_known_failure_reads_like_upstream() {
    // Hostname anti-affinity with more replicas than nodes: the surplus fails on every node.
    let yaml = "
duration: 1m
nodePools: [{name: p, count: 3, allocatable: {cpu: 4, memory: 8Gi}}]
deployments:
  - name: web
    replicas: 4
    template:
      labels: {app: web}
      requests: {cpu: 100m}
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - {topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: web}}}
";
    let (_d, out) = check_rows("anti-affinity", yaml);
    let rows = attempts(&out);
    let fail = rows.iter().find(|r| r["result"] == "Unschedulable").expect("a failure");
    assert_eq!(fail["message"], "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.");
    assert_eq!(n(fail, "rejected_InterPodAffinity"), 3);
    let page = std::fs::read_to_string(out.join("index.html")).expect("report");
    assert!(
        page.contains("Pods that waited longest") && page.contains("still waiting"),
        "the report lists it"
    );
}
