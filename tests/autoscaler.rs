//! The cluster autoscaler in the loop with the HPA: a load step up and down (replicas follow
//! the HPA formula, nodes come only for unschedulable pods and go no earlier than the
//! unneeded time), the autoscaler's guarantees on hand-built clusters (no scale-up for pods
//! no template fits, max size, no removal while a pod has nowhere to go, expanders,
//! provisioning timeouts, unready nodes), external HPA metrics, and bad input.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;

/// Rows of a CSV file as column → value maps.
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).expect("csv");
    let header: Vec<String> = r.headers().expect("header").iter().map(String::from).collect();
    r.records()
        .map(|rec| header.iter().cloned().zip(rec.expect("record").iter().map(String::from)).collect())
        .collect()
}

fn f(row: &BTreeMap<String, String>, k: &str) -> f64 {
    row.get(k).unwrap_or_else(|| panic!("column {k}")).parse().unwrap_or_else(|_| panic!("{k}: {:?}", row[k]))
}

/// Cluster-autoscaler rows of `autoscaler-events.csv`.
fn ca_events(out: &Path) -> Vec<BTreeMap<String, String>> {
    rows(&out.join("autoscaler-events.csv"))
        .into_iter()
        .filter(|r| r["autoscaler"] == "cluster-autoscaler")
        .collect()
}

fn hpa_events(out: &Path) -> Vec<BTreeMap<String, String>> {
    rows(&out.join("autoscaler-events.csv")).into_iter().filter(|r| r["autoscaler"] == "hpa").collect()
}

/// A service whose pods each use 0.1 CPU-s per request on a 1-CPU request, under a 50 % CPU
/// target: the HPA formula gives N = ceil(λ / 5) replicas. Load 10/s, 80/s from 5 min
/// (N = 16, four 4-CPU nodes), 10/s again from 40 min.
const STEP: &str = "
duration: 90m
sampleInterval: 10s
nodePools:
  - name: general
    count: 2
    allocatable: {cpu: 4, memory: 16Gi, pods: 110}
    pricePerHour: 0.2
    autoscaling: {minSize: 2, maxSize: 10, provisioningDelay: {constant: 120s}}
clusterAutoscaler: {}
deployments:
  - name: web
    replicas: 2
    template: {requests: {cpu: 1, memory: 1Gi}}
    horizontalPodAutoscaler: {minReplicas: 2, maxReplicas: 30, targetCpuUtilization: 50}
    service:
      concurrency: 1
      cpuPerWorker: 1
      serviceTime: {exponential: {mean: 100ms}}
      load: {steps: [{at: 0s, rate: 10}, {at: 5m, rate: 80}, {at: 40m, rate: 10}]}
";

#[test]
fn a_load_step_moves_replicas_then_nodes_and_back_without_flapping() {
    let (_dir, out) = run_yaml(STEP, &[]);
    let ca = ca_events(&out);
    let hpa = hpa_events(&out);
    let ts = rows(&out.join("timeseries.csv"));

    // Nodes are requested only for unschedulable pods, and only after the step.
    let ups: Vec<_> = ca.iter().filter(|r| r["reason"].starts_with("ScaleUp:")).collect();
    assert!(!ups.is_empty(), "no scale-up: {ca:?}");
    for r in &ups {
        assert!(f(r, "time_s") > 300.0, "scale-up before the step: {r:?}");
        let pods: u32 =
            r["reason"]["ScaleUp: ".len()..].split(' ').next().and_then(|n| n.parse().ok()).expect("count");
        assert!(pods >= 1, "{r:?}");
        let t = f(r, "time_s");
        // The sample just before the scan shows pods pending or starting beyond capacity.
        let before = ts.iter().rev().find(|s| f(s, "time_s") <= t).expect("sample");
        assert!(f(before, "deploy_web_replicas") > 4.0 * f(before, "nodes_general"), "{r:?} {before:?}");
    }

    // Replicas reach the formula's value for 80/s (16; Poisson noise may add one) before
    // the drop, and hold there.
    let at = |t: f64| ts.iter().rev().find(|s| f(s, "time_s") <= t).expect("sample");
    let high = f(at(2390.0), "deploy_web_replicas");
    assert!((16.0..=17.0).contains(&high), "replicas before the drop {high}");
    let nodes_high = f(at(2390.0), "nodes_general");
    assert!(nodes_high >= (high / 4.0).ceil(), "nodes {nodes_high} for {high} pods");

    // After the drop at 2,400 s: replicas fall no earlier than the 5-min stabilisation
    // window (less one sync), nodes no earlier than scale-down-unneeded-time after that.
    let first_down = hpa
        .iter()
        .find(|r| f(r, "time_s") > 2400.0 && f(r, "final") < f(r, "current"))
        .map(|r| f(r, "time_s"))
        .expect("replicas fall");
    assert!(first_down >= 2400.0 + 300.0 - 15.0, "replicas fell at {first_down}");
    assert!(first_down <= 2400.0 + 300.0 + 30.0, "replicas fell late, at {first_down}");
    let first_removal = ca
        .iter()
        .find(|r| r["reason"].starts_with("ScaleDown:"))
        .map(|r| f(r, "time_s"))
        .expect("nodes removed");
    assert!(
        first_removal >= first_down + 600.0 - 10.0,
        "node removed at {first_removal}, replicas fell at {first_down}"
    );

    // No flapping: nodes only rise before the first removal and only fall after it.
    let nodes: Vec<(f64, f64)> = ts.iter().map(|s| (f(s, "time_s"), f(s, "nodes_general"))).collect();
    for w in nodes.windows(2) {
        let (t, up) = (w[1].0, w[1].1 > w[0].1);
        let down = w[1].1 < w[0].1;
        assert!(!(up && t > first_removal), "nodes rose again at {t}");
        assert!(!(down && t < first_removal), "nodes fell before the first removal at {t}");
    }
    let s = summary(&out);
    assert_eq!(num(&s, "nodes"), 2.0, "back to minSize");
    assert_eq!(num(&s, "pods_pending_end"), 0.0);
    assert!(num(&s, "ca_nodes_added") >= 2.0);
    assert_eq!(num(&s, "ca_nodes_added"), num(&s, "ca_nodes_removed"));
    // Cost: node-hours × price, with added nodes counted only while they existed.
    assert!((num(&s, "cost") - 0.2 * num(&s, "node_hours")).abs() < 1e-6);
    assert!(num(&s, "node_hours") > 3.0 && num(&s, "node_hours") < 10.0 * 1.5);
}

/// Two 4-CPU nodes in a node group with room to grow, and `pods` more pods of `cpu` each.
fn group_scenario(extra_pool: &str, pods: u32, cpu: &str, ca: &str) -> String {
    format!(
        "
duration: 30m
sampleInterval: 10s
nodePools:
  - name: general
    count: 2
    allocatable: {{cpu: 4, memory: 16Gi, pods: 110}}
    pricePerHour: 0.2
    autoscaling: {{minSize: 1, maxSize: 3, provisioningDelay: {{constant: 60s}}}}
{extra_pool}
clusterAutoscaler: {ca}
deployments:
  - name: web
    replicas: {pods}
    template: {{requests: {{cpu: \"{cpu}\", memory: 1Gi}}}}
"
    )
}

#[test]
fn a_pod_no_template_fits_triggers_no_scale_up() {
    // The pod asks for a label no node group's template has.
    let yaml = group_scenario("", 1, "1", "{}")
        .replace("template: {requests:", "template: {nodeSelector: {disk: ssd}, requests:");
    let (_dir, out) = run_yaml(&yaml, &[]);
    let ca = ca_events(&out);
    assert!(ca.iter().all(|r| !r["reason"].starts_with("ScaleUp:")), "{ca:?}");
    assert!(ca.iter().any(|r| r["reason"].contains("fit no node group")), "{ca:?}");
    let s = summary(&out);
    assert_eq!(num(&s, "ca_nodes_requested"), 0.0);
    assert_eq!(num(&s, "pods_pending_end"), 1.0);
}

#[test]
fn max_size_is_never_exceeded() {
    // 40 one-CPU pods need 10 nodes; the group stops at 3.
    let (_dir, out) = run_yaml(&group_scenario("", 40, "1", "{}"), &[]);
    for s in rows(&out.join("timeseries.csv")) {
        assert!(f(&s, "nodes_general") <= 3.0, "{s:?}");
    }
    let s = summary(&out);
    assert_eq!(num(&s, "nodes_peak"), 3.0);
    assert_eq!(num(&s, "pods_running_end"), 12.0);
    assert!(ca_events(&out).iter().any(|r| r["reason"].contains("at max size")));
}

#[test]
fn max_nodes_total_caps_every_group() {
    let (_dir, out) = run_yaml(&group_scenario("", 40, "1", "{max-nodes-total: 2}"), &[]);
    assert_eq!(num(&summary(&out), "nodes_peak"), 2.0);
}

#[test]
fn a_node_whose_pods_have_nowhere_to_go_stays() {
    // One pod per node (allocatable pods: 1): utilisation 0.25 makes both nodes candidates,
    // but neither pod can move, so neither node goes.
    let yaml = group_scenario("", 2, "1", "{}").replace("pods: 110", "pods: 1");
    let (_dir, out) = run_yaml(&yaml, &[]);
    let s = summary(&out);
    assert_eq!(num(&s, "ca_nodes_removed"), 0.0, "{:?}", ca_events(&out));
    assert_eq!(num(&s, "pods_running_end"), 2.0);

    // A disruption budget that allows no eviction keeps the nodes too.
    let yaml = group_scenario("", 2, "1", "{}")
        .replace("    replicas: 2\n", "    replicas: 2\n    minAvailable: 2\n");
    let (_dir, out) = run_yaml(&yaml, &[]);
    assert_eq!(num(&summary(&out), "ca_nodes_removed"), 0.0, "{:?}", ca_events(&out));

    // Three nodes, one 1.9-CPU pod each: any two pods fit on one node, but not three, so
    // exactly one node goes, its pod moves, and nothing is left pending or re-added.
    let yaml = group_scenario("", 3, "1900m", "{}").replace("count: 2", "count: 3");
    let (_dir, out) = run_yaml(&yaml, &[]);
    let s = summary(&out);
    assert_eq!(num(&s, "ca_nodes_removed"), 1.0, "{:?}", ca_events(&out));
    assert_eq!(num(&s, "ca_nodes_requested"), 0.0);
    assert_eq!((num(&s, "pods_running_end"), num(&s, "pods_pending_end")), (3.0, 0.0));
    assert_eq!(num(&s, "nodes"), 2.0);
}

#[test]
fn empty_nodes_go_after_the_unneeded_time_down_to_min_size() {
    // No pods at all: the two nodes are empty; the group may shrink to 1.
    let yaml = group_scenario("", 0, "1", "{}");
    let (_dir, out) = run_yaml(&yaml, &[]);
    let ca = ca_events(&out);
    let downs: Vec<_> = ca.iter().filter(|r| r["reason"].starts_with("ScaleDown:")).collect();
    assert_eq!(downs.len(), 1, "{ca:?}");
    // First scan at 10 s marks it unneeded; removal 600 s later.
    assert_eq!(f(downs[0], "time_s"), 610.0);
    assert_eq!(num(&summary(&out), "nodes"), 1.0);
}

const TWO_GROUPS: &str = "
  - name: dear
    count: 0
    allocatable: {cpu: 4, memory: 16Gi, pods: 110}
    pricePerHour: 0.9
    autoscaling: {minSize: 0, maxSize: 5, provisioningDelay: {constant: 60s}, priority: 10}";

#[test]
fn expanders_choose_as_specified() {
    // Ten more one-CPU pods than the two nodes hold: equal templates, so least-waste ties and
    // the random draw decides; price picks the cheap group; priority the dear one.
    let added = |ca: &str| {
        let (_dir, out) = run_yaml(&group_scenario(TWO_GROUPS, 10, "1", ca), &[]);
        let last = rows(&out.join("timeseries.csv")).pop().expect("rows");
        (f(&last, "nodes_general"), f(&last, "nodes_dear"))
    };
    assert_eq!(added("{expander: price}"), (3.0, 0.0));
    assert_eq!(added("{expander: priority}"), (2.0, 1.0));
    assert_eq!(added("{expander: 'priority,least-waste'}"), (2.0, 1.0));
    // most-pods: the 16-CPU group schedules all pending pods in one node; least-waste
    // prefers it too when it wastes less.
    let big = TWO_GROUPS
        .replace("cpu: 4, memory: 16Gi", "cpu: 2, memory: 8Gi")
        .replace("priority: 10", "priority: 0");
    let (_dir, out) = run_yaml(&group_scenario(&big, 10, "1", "{expander: most-pods}"), &[]);
    let last = rows(&out.join("timeseries.csv")).pop().expect("rows");
    assert_eq!(f(&last, "nodes_general"), 3.0, "4-CPU nodes hold more of the pending pods per scale-up");
}

#[test]
fn a_node_that_never_comes_up_times_out_and_backs_the_group_off() {
    let yaml = group_scenario("", 10, "1", "{}")
        .replace("provisioningDelay: {constant: 60s}", "provisioningDelay: {constant: 20m}");
    let (_dir, out) = run_yaml(&yaml, &[]);
    let ca = ca_events(&out);
    let first_up =
        ca.iter().find(|r| r["reason"].starts_with("ScaleUp:")).map(|r| f(r, "time_s")).expect("scale-up");
    let timeout = ca
        .iter()
        .find(|r| r["reason"].starts_with("ScaleUpTimedOut"))
        .map(|r| f(r, "time_s"))
        .expect("timeout");
    assert_eq!(timeout, first_up + 900.0, "max-node-provision-time is 15 min");
    // The next attempt waits out the 5-min backoff.
    if let Some(next) = ca
        .iter()
        .map(|r| (f(r, "time_s"), &r["reason"]))
        .find(|(t, r)| *t > timeout && r.starts_with("ScaleUp:"))
    {
        assert!(next.0 >= timeout + 300.0, "{next:?}");
    }
    let s = summary(&out);
    assert!(num(&s, "ca_provision_timeouts") >= 1.0);
    assert_eq!(num(&s, "ca_nodes_added"), 0.0);
    assert_eq!(num(&s, "nodes_peak"), 2.0);
}

#[test]
fn an_unready_node_is_removed_after_the_unready_time_and_too_many_pause_the_autoscaler() {
    // general-1 fails at 60 s for good; it is noticed 50 s later, and as a node-group node
    // that is unready it goes after scale-down-unready-time (20 min).
    let yaml = group_scenario("", 2, "1", "{}").replace("duration: 30m", "duration: 40m")
        + "faults: [{at: 60s, fail: {node: general-1}}]\n";
    let (_dir, out) = run_yaml(&yaml, &[]);
    let ca = ca_events(&out);
    let removal = ca
        .iter()
        .find(|r| r["reason"].contains("general-1 unready"))
        .map(|r| f(r, "time_s"))
        .expect("removal");
    assert!((60.0 + 1200.0..=60.0 + 50.0 + 1200.0 + 20.0).contains(&removal), "{removal}");
    assert_eq!(num(&summary(&out), "pods_running_end"), 2.0);

    // Both nodes failing is 100 % unready, above 45 % and the 3 always tolerated? No: 2 ≤ 3
    // unready nodes are always tolerated. With ok-total-unready-count 0 the autoscaler pauses.
    let yaml = group_scenario("", 2, "1", "{ok-total-unready-count: 0}")
        + "faults: [{at: 60s, fail: {pool: {name: general, fraction: 1.0}}}]\n";
    let (_dir, out) = run_yaml(&yaml, &[]);
    let ca = ca_events(&out);
    assert!(ca.iter().any(|r| r["reason"].starts_with("ClusterUnhealthy")), "{ca:?}");
    assert_eq!(num(&summary(&out), "ca_nodes_removed"), 0.0);
}

#[test]
fn external_metrics_and_standalone_hpas_scale_deployments() {
    // A queue length of 0, then 95 from 60 s: with an average target of 10 per pod the HPA
    // wants ceil(95 / 10) = 10 replicas; with a total target of 50, ceil(95/50 × ready).
    let yaml = |target: &str| {
        format!(
            "
duration: 5m
nodePools: [{{name: p, count: 4, allocatable: {{cpu: 8, memory: 32Gi}}}}]
deployments:
  - name: worker
    replicas: 2
    template: {{requests: {{cpu: 500m, memory: 1Gi}}}}
horizontalPodAutoscalers:
  - scaleTargetRef: {{kind: Deployment, name: worker}}
    minReplicas: 1
    maxReplicas: 20
    external: {{name: queue_length, values: [{{at: 0s, value: 0}}, {{at: 60s, value: 95}}], {target}}}
"
        )
    };
    let (_dir, out) = run_yaml(&yaml("targetAverageValue: 10"), &[]);
    let hpa = hpa_events(&out);
    let last = hpa.last().expect("rows");
    assert_eq!(last["final"], "10");
    assert_eq!(last["external_metric_value"], "95.000");
    // Before 60 s the queue is empty: the HPA recommends minReplicas, which the legacy
    // 5-min downscale stabilisation holds back.
    assert_eq!((hpa[0]["raw_recommendation"].as_str(), hpa[0]["final"].as_str()), ("0", "2"));
    assert_eq!(num(&summary(&out), "pods_running_end"), 10.0);

    let (_dir, out) = run_yaml(&yaml("targetValue: 50"), &[]);
    let hpa = hpa_events(&out);
    // ratio 95/50 = 1.9 on 1 ready pod → 2, then 1.9 × 2 → 4, 1.9 × 4 → 8, 16, capped at 20.
    let finals: Vec<&str> = hpa.iter().map(|r| r["final"].as_str()).collect();
    assert!(finals.contains(&"2") && finals.contains(&"4"), "{finals:?}");
}

#[test]
fn a_day_of_diurnal_load_is_followed_without_flapping() {
    let out_dir = tempfile::tempdir().expect("temp dir");
    let scenario = repo().join("scenarios/autoscale-diurnal.yaml");
    let o = run_in(out_dir.path(), &["run", scenario.to_str().expect("path"), "--out", "out", "--quiet"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let out = out_dir.path().join("out");
    let ts = rows(&out.join("timeseries.csv"));
    let nodes: Vec<f64> = ts.iter().map(|s| f(s, "nodes_inference")).collect();
    // Direction changes of the node count: up in the morning, down at night (the first
    // hours also fall to the 02:00 trough). More than 4 reversals would be flapping.
    let mut dirs: Vec<i8> = Vec::new();
    for w in nodes.windows(2) {
        let d: i8 = if w[1] > w[0] {
            1
        } else if w[1] < w[0] {
            -1
        } else {
            0
        };
        if d != 0 && dirs.last() != Some(&d) {
            dirs.push(d);
        }
    }
    assert!(dirs.len() <= 4, "node count changed direction {} times", dirs.len());
    let s = summary(&out);
    let peak = num(&s, "nodes_peak");
    assert!((450.0..=600.0).contains(&peak), "peak {peak}");
    assert!(num(&s, "nodes") < 120.0, "nodes at midnight {}", num(&s, "nodes"));
    assert!(num(&s, "availability") > 0.999);
    // Well below the cost of the peak-sized cluster all day (about 54 % of it).
    assert!(num(&s, "cost") < 0.6 * (peak * 0.38 + 3.0 * 0.19) * 24.0);
}

#[test]
fn autoscaler_input_errors_name_the_field() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "horizontalPodAutoscalers: [{scaleTargetRef: {name: web}, minReplicas: 5, maxReplicas: 2}]",
            "horizontalPodAutoscalers[0].maxReplicas",
            "below minReplicas",
        ),
        (
            "horizontalPodAutoscalers: [{scaleTargetRef: {name: nope}, maxReplicas: 2, external: {name: q, values: [{at: 0s, value: 1}], targetValue: 1}}]",
            "horizontalPodAutoscalers[0].scaleTargetRef.name",
            "no Deployment named \"nope\"",
        ),
        (
            "horizontalPodAutoscalers: [{scaleTargetRef: {name: web}, maxReplicas: 2, external: {name: q, values: [{at: 0s, value: 1}], targetAverageValue: 0}}]",
            "horizontalPodAutoscalers[0].external.targetAverageValue",
            "greater than 0",
        ),
        (
            "horizontalPodAutoscalers: [{scaleTargetRef: {name: web}, maxReplicas: 2, targetCpuUtilization: -5}]",
            "horizontalPodAutoscalers[0].targetCpuUtilization",
            "greater than 0",
        ),
        (
            "horizontalPodAutoscalers: [{scaleTargetRef: {name: web}, maxReplicas: 2, targetCpuUtilization: 0}]",
            "horizontalPodAutoscalers[0].targetCpuUtilization",
            "greater than 0",
        ),
        (
            "clusterAutoscaler: {expander: cheapest}",
            "clusterAutoscaler.expander",
            "unknown expander \"cheapest\"",
        ),
        ("clusterAutoscaler: {scan-interval: 0s}", "clusterAutoscaler.scan-interval", "greater than 0"),
        (
            "clusterAutoscaler: {scale-down-utilization-threshold: 1.5}",
            "clusterAutoscaler.scale-down-utilization-threshold",
            "[0, 1]",
        ),
        (
            "clusterAutoscaler: {scale-down-gpu-utilization-threshold: -0.1}",
            "clusterAutoscaler.scale-down-gpu-utilization-threshold",
            "[0, 1]",
        ),
        (
            "clusterAutoscaler: {scanInterval: 10s}",
            "s.yaml:14",
            "unknown field `scanInterval`, expected one of scan-interval",
        ),
    ];
    for (extra, path, reason) in cases {
        let yaml = format!(
            "{}\n{extra}\n",
            VALID.replace("    count: 2\n", "    count: 2\n    autoscaling: {minSize: 1, maxSize: 4}\n")
        );
        let yaml =
            if extra.starts_with("clusterAutoscaler") { yaml } else { yaml + "clusterAutoscaler: {}\n" };
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("s.yaml"), &yaml).expect("write");
        let o = run_in(dir.path(), &["validate", "s.yaml"]);
        assert_eq!(o.code, 2, "{extra}: {}", o.stderr);
        assert!(o.stderr.contains(path) && o.stderr.contains(reason), "{extra}: {}", o.stderr);
        assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
    }
    let groups: &[(&str, &str, &str)] = &[
        ("autoscaling: {minSize: 5, maxSize: 2}", "nodePools[0].autoscaling.minSize", "greater than maxSize"),
        ("autoscaling: {minSize: 3, maxSize: 4}", "nodePools[0].count", "outside"),
        (
            "autoscaling: {minSize: 1, maxSize: 4, provisioningDelay: {constant: -1s}}",
            "s.yaml:6:",
            "must not be negative",
        ),
    ];
    for (group, path, reason) in groups {
        let yaml = VALID.replace("    count: 2\n", &format!("    count: 2\n    {group}\n"))
            + "clusterAutoscaler: {}\n";
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("s.yaml"), &yaml).expect("write");
        let o = run_in(dir.path(), &["validate", "s.yaml"]);
        assert_eq!(o.code, 2, "{group}: {}", o.stderr);
        assert!(o.stderr.contains(path) && o.stderr.contains(reason), "{group}: {}", o.stderr);
    }
    // A node group without the autoscaler section.
    let yaml = VALID.replace("    count: 2\n", "    count: 2\n    autoscaling: {minSize: 1, maxSize: 4}\n");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("s.yaml"), &yaml).expect("write");
    let o = run_in(dir.path(), &["validate", "s.yaml"]);
    assert_eq!(o.code, 2);
    assert!(
        o.stderr.contains("nodePools[0].autoscaling") && o.stderr.contains("clusterAutoscaler"),
        "{}",
        o.stderr
    );
}

/// One node of 2 GPUs in a node group, and `replicas` pods of a 0.6-GPU share each.
fn gpu_group_scenario(replicas: u32) -> String {
    format!(
        "
duration: 20m
nodePools:
  - name: gpu
    count: 1
    allocatable: {{cpu: 32, memory: 128Gi, nvidia.com/gpu: 2}}
    autoscaling: {{minSize: 1, maxSize: 10, provisioningDelay: {{constant: 60s}}}}
clusterAutoscaler: {{}}
deployments:
  - name: train
    replicas: {replicas}
    template: {{requests: {{cpu: 1, memory: 1Gi, nvidia.com/gpu: 1, alibabacloud.com/gpu-milli: 600}}}}
"
    )
}

#[test]
fn gpu_shares_scale_up_by_devices_in_one_step() {
    // 6 shares of 0.6 GPU: the existing node holds 2 (one per device) and the other 4 need
    // 2 more nodes. By the scalar alone the existing node would look as if it had room for a
    // third (1,200 + 600 <= 2,000 milli) and one new node for the other 3 (1,800 milli): one
    // node short, found only at a second scale-up.
    let (_dir, out) = run_yaml(&gpu_group_scenario(6), &[]);
    let s = summary(&out);
    let ups: Vec<_> = ca_events(&out).into_iter().filter(|r| r["reason"].starts_with("ScaleUp:")).collect();
    assert_eq!(ups.len(), 1, "{ups:?}");
    assert_eq!(ups[0]["reason"].split(' ').nth(1), Some("4"), "4 unschedulable pods: {ups:?}");
    assert_eq!(num(&s, "ca_scale_ups"), 1.0);
    assert_eq!(num(&s, "ca_nodes_requested"), 2.0);
    assert_eq!(num(&s, "pods_running_end"), 6.0);
    assert_eq!(num(&s, "pods_pending_end"), 0.0);
}

/// A node group of one GPU node (8 CPUs, 4 GPUs) that a 5-CPU pod without GPUs prefers, a
/// fixed CPU node the pod could move to, and the CA flags `ca`.
fn gpu_idle_scenario(ca: &str) -> String {
    format!(
        "
duration: 30m
nodePools:
  - name: gpu
    count: 1
    allocatable: {{cpu: 8, memory: 32Gi, nvidia.com/gpu: 4}}
    labels: {{tier: gpu}}
    autoscaling: {{minSize: 0, maxSize: 1, provisioningDelay: {{constant: 60s}}}}
  - name: cpu
    count: 1
    allocatable: {{cpu: 64, memory: 256Gi}}
clusterAutoscaler: {ca}
deployments:
  - name: batch
    replicas: 1
    template:
      requests: {{cpu: 5, memory: 1Gi}}
      affinity:
        nodeAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              preference: {{matchExpressions: [{{key: tier, operator: In, values: [gpu]}}]}}
"
    )
}

#[test]
fn a_gpu_node_is_judged_by_its_gpu_utilisation() {
    // The pod uses 5 of the GPU node's 8 CPUs (0.625, above the 0.5 CPU/memory threshold)
    // and none of its GPUs: upstream judges a GPU node by its GPUs alone, so the node is
    // unneeded, its pod moves to the CPU node and the node goes.
    let (_dir, out) = run_yaml(&gpu_idle_scenario("{}"), &[]);
    let s = summary(&out);
    let downs: Vec<_> =
        ca_events(&out).into_iter().filter(|r| r["reason"].starts_with("ScaleDown:")).collect();
    assert_eq!(num(&s, "ca_nodes_removed"), 1.0, "{downs:?}");
    assert!(downs.iter().any(|r| r["reason"].contains("utilisation 0.000 < 0.5")), "{downs:?}");
    assert_eq!(num(&s, "pods_running_end"), 1.0);
    // With the GPU threshold at 0, no GPU node is ever below it: the node stays.
    let (_dir, out) = run_yaml(&gpu_idle_scenario("{scale-down-gpu-utilization-threshold: 0}"), &[]);
    assert_eq!(num(&summary(&out), "ca_nodes_removed"), 0.0, "{:?}", ca_events(&out));
}
