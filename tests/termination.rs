//! Graceful termination (`terminationGracePeriodSeconds`, `terminationTime`): hand-checked
//! small runs. A deleted Running pod stays Terminating for min(terminationTime, grace
//! period), holding its node's resources, then frees them; preemption victims do the same
//! and their preemptor waits, nominated, without preempting again.

mod common;
use common::*;
use std::collections::BTreeMap;

/// `pods.csv` rows as column → value.
fn pods(out: &std::path::Path) -> Vec<BTreeMap<String, String>> {
    csv_rows(&out.join("pods.csv"))
}

fn secs(row: &BTreeMap<String, String>, k: &str) -> f64 {
    row[k].parse().unwrap_or_else(|_| panic!("{k} = {:?} in {row:?}", row[k]))
}

/// `timeseries.csv` as (header, rows).
fn timeseries(out: &std::path::Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(out.join("timeseries.csv")).expect("timeseries.csv");
    let mut lines = text.lines();
    let header = lines.next().expect("header").split(',').map(String::from).collect();
    (header, lines.map(|l| l.split(',').map(String::from).collect()).collect())
}

/// One 4-CPU node full of two 2-CPU web pods; at 60 s web scales to 1 and a 2-CPU batch
/// pod arrives, which fits only once the deleted web pod has freed its CPU.
const SCALE_DOWN: &str = "
duration: 2m
sampleInterval: 5s
nodePools:
  - name: p
    count: 1
    allocatable: {cpu: 4, memory: 16Gi}
deployments:
  - name: web
    replicas: 2
    scale: [{at: 60s, replicas: 1}]
    template:
      requests: {cpu: 2, memory: 1Gi}
      terminationTime: 10s
  - name: batch
    replicas: 0
    scale: [{at: 60s, replicas: 1}]
    template:
      requests: {cpu: 2, memory: 1Gi}
";

fn by_owner<'a>(rows: &'a [BTreeMap<String, String>], owner: &str) -> Vec<&'a BTreeMap<String, String>> {
    rows.iter().filter(|r| r["owner"] == format!("Deployment/{owner}")).collect()
}

#[test]
fn scale_down_holds_the_node_for_the_termination_time() {
    let (_dir, out) = run_yaml(SCALE_DOWN, &["--pods", "--no-charts"]);
    let rows = pods(&out);
    let web = by_owner(&rows, "web");
    assert_eq!(web.len(), 2, "a scale-down creates no replacement");
    let gone: Vec<_> = web.iter().filter(|r| r["phase"] == "Deleted").collect();
    assert_eq!(gone.len(), 1);
    assert_eq!(secs(gone[0], "terminating_s"), 60.0);
    assert_eq!(secs(gone[0], "finished_s"), 70.0, "Terminating for exactly terminationTime");
    assert_eq!(gone[0]["disruption_target"], "", "a scale-down sets no DisruptionTarget");
    let batch = by_owner(&rows, "batch");
    assert_eq!(batch.len(), 1);
    let bound = secs(batch[0], "bound_s");
    // Bound once the CPU is free, after one scheduling cycle's cost (well under 10 ms).
    assert!((70.0..70.01).contains(&bound), "batch bound at {bound}");
    assert_eq!(batch[0]["phase"], "Running");

    let s = summary(&out);
    assert_eq!(num(&s, "pods_deleted"), 1.0);
    assert_eq!(num(&s, "pods_terminating_end"), 0.0);

    let (header, ts) = timeseries(&out);
    let col = header.iter().position(|h| h == "pods_terminating").expect("pods_terminating column");
    assert_eq!(header[col - 1], "pods_starting", "next to the other phase counts");
    let at = |t: &str| ts.iter().find(|r| r[0] == t).map(|r| r[col].clone()).expect("row");
    assert_eq!(
        (at("55.000"), at("60.000"), at("65.000"), at("70.000")),
        ("0".into(), "1".into(), "1".into(), "0".into())
    );
}

#[test]
fn the_grace_period_caps_the_termination_time() {
    let capped = SCALE_DOWN.replace(
        "      terminationTime: 10s\n",
        "      terminationTime: {constant: 10s}\n      terminationGracePeriodSeconds: 3\n",
    );
    let (_dir, out) = run_yaml(&capped, &["--pods", "--no-charts"]);
    let rows = pods(&out);
    let gone: Vec<_> = by_owner(&rows, "web").into_iter().filter(|r| r["phase"] == "Deleted").collect();
    assert_eq!(secs(gone[0], "finished_s"), 63.0, "killed when the 3 s grace period ends");
    let bound = secs(by_owner(&rows, "batch")[0], "bound_s");
    assert!((63.0..63.01).contains(&bound), "batch bound at {bound}");

    // A zero grace period deletes at once, like the default termination time of 0.
    let (_dir, out) = run_yaml(
        &SCALE_DOWN.replace(
            "      terminationTime: 10s\n",
            "      terminationTime: 10s\n      terminationGracePeriodSeconds: 0\n",
        ),
        &["--pods", "--no-charts"],
    );
    let rows = pods(&out);
    let bound = secs(by_owner(&rows, "batch")[0], "bound_s");
    assert!((60.0..60.01).contains(&bound), "batch bound at {bound}");
    assert!(!rows[0].contains_key("terminating_s"), "no termination columns without graceful termination");
    let (header, _) = timeseries(&out);
    assert!(!header.iter().any(|h| h == "pods_terminating"));
}

/// Two 4-CPU nodes, each with a 3-CPU low-priority pod that takes 20 s to exit; a 0.5-CPU
/// filler leaves at 70 s (a cluster change that makes the waiting preemptor try again). At
/// 60 s a 3-CPU high-priority pod arrives and preempts one low pod.
const PREEMPTION: &str = "
duration: 3m
priorityClasses:
  - {name: low, value: 100}
  - {name: high, value: 1000}
nodePools:
  - name: p
    count: 2
    allocatable: {cpu: 4, memory: 16Gi}
deployments:
  - name: low
    replicas: 2
    template:
      priorityClassName: low
      requests: {cpu: 3, memory: 1Gi}
      terminationTime: 20s
  - name: filler
    replicas: 1
    scale: [{at: 70s, replicas: 0}]
    template:
      requests: {cpu: 500m, memory: 1Gi}
  - name: high
    replicas: 0
    scale: [{at: 60s, replicas: 1}]
    template:
      priorityClassName: high
      requests: {cpu: 3, memory: 1Gi}
";

#[test]
fn a_preemptor_waits_nominated_for_its_terminating_victim() {
    let (_dir, out) = run_yaml(PREEMPTION, &["--pods", "--no-charts"]);
    let rows = pods(&out);
    let low = by_owner(&rows, "low");
    let victims: Vec<_> = low.iter().filter(|r| r["disruption_target"] == "PreemptionByScheduler").collect();
    assert_eq!(victims.len(), 1, "{low:?}");
    let victim = victims[0];
    assert_eq!(victim["phase"], "Deleted");
    assert_eq!(secs(victim, "terminating_s"), 60.0);
    assert_eq!(secs(victim, "finished_s"), 80.0, "the victim's own 20 s termination");

    let high = by_owner(&rows, "high");
    assert_eq!(high.len(), 1);
    assert_eq!(high[0]["phase"], "Running");
    assert_eq!(high[0]["node"], victim["node"], "bound to the node it was nominated to");
    let bound = secs(high[0], "bound_s");
    assert!((80.0..80.01).contains(&bound), "preemptor bound at {bound}");
    assert!(
        secs(high[0], "scheduling_attempts") >= 3.0,
        "it tried again while the victim was terminating (at 70 s): {:?}",
        high[0]
    );

    // The other low pod keeps its node: no second preemption while the victim terminates.
    let s = summary(&out);
    assert_eq!(num(&s, "preemptions"), 1.0);
    assert_eq!(num(&s, "pods_preempted"), 1.0);
    let survivors: Vec<_> = low.iter().filter(|r| r["phase"] == "Running").collect();
    assert_eq!(survivors.len(), 1);
    assert_ne!(survivors[0]["node"], victim["node"]);
    // The victim's replacement was created at once and waits (no room, no lower priority).
    let replacement: Vec<_> = low.iter().filter(|r| r["phase"] == "Pending").collect();
    assert_eq!(replacement.len(), 1);
    assert_eq!(secs(replacement[0], "created_s"), 60.0);
}

#[test]
fn graceful_termination_with_the_control_plane() {
    let yaml = format!("{SCALE_DOWN}controlPlane: {{}}\n");
    let (_dir, out) = run_yaml(&yaml, &["--pods", "--no-charts"]);
    let rows = pods(&out);
    let gone: Vec<_> = by_owner(&rows, "web").into_iter().filter(|r| r["phase"] == "Deleted").collect();
    assert_eq!(gone.len(), 1);
    let (start, end) = (secs(gone[0], "terminating_s"), secs(gone[0], "finished_s"));
    assert!((end - start - 10.0).abs() < 1e-9, "Terminating for 10 s: {start} → {end}");
    let bound = secs(by_owner(&rows, "batch")[0], "bound_s");
    assert!(bound >= end, "batch bound at {bound}, before the CPU was free at {end}");

    // The same run with pods that exit at once makes three API requests less: the
    // kubelet's final DELETE after the termination, and the status patch and event of the
    // batch pod's failed attempt while the CPU was still held.
    let graceful = summary(&out);
    let (_dir, out) = run_yaml(&yaml.replace("      terminationTime: 10s\n", ""), &["--no-charts"]);
    let at_once = summary(&out);
    assert_eq!(num(&graceful, "unschedulable_attempts"), 1.0);
    assert_eq!(num(&at_once, "unschedulable_attempts"), 0.0);
    assert_eq!(num(&graceful, "api_requests"), num(&at_once, "api_requests") + 3.0);
}

#[test]
fn negative_termination_settings_name_the_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("s.yaml"), SCALE_DOWN).expect("write");
    for (set, path) in [
        (
            "deployments.0.template.terminationGracePeriodSeconds=-1",
            "deployments[0].template.terminationGracePeriodSeconds",
        ),
        ("deployments.0.template.terminationTime=-5s", "deployments[0].template.terminationTime"),
        ("deployments.1.template.terminationTime=-2", "deployments[1].template.terminationTime"),
    ] {
        let o = run_in(dir.path(), &["validate", "s.yaml", "--set", set]);
        assert_eq!(o.code, 2, "{set}: {}", o.stderr);
        assert!(o.stderr.contains(path), "{set}: {}", o.stderr);
    }
    // The same in the file itself, in a churn template.
    let churn = "
duration: 60s
nodePools:
  - {name: p, count: 1, allocatable: {cpu: 4, memory: 8Gi}}
churn:
  - name: jobs
    arrivalRate: 1
    lifetime: {constant: 10s}
    templates:
      - template: {terminationTime: -3s, terminationGracePeriodSeconds: -30}
";
    std::fs::write(dir.path().join("c.yaml"), churn).expect("write");
    let o = run_in(dir.path(), &["validate", "c.yaml"]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    for path in [
        "churn[0].templates[0].template.terminationTime",
        "churn[0].templates[0].template.terminationGracePeriodSeconds",
    ] {
        assert!(o.stderr.contains(path), "{path}: {}", o.stderr);
    }
}

/// Two 4-CPU nodes, one 3-CPU web pod on each (15 s to exit); `p-0` is drained at 60 s.
const DRAIN: &str = "
duration: 2m
nodePools:
  - name: p
    count: 2
    allocatable: {cpu: 4, memory: 16Gi}
deployments:
  - name: web
    replicas: 2
    template:
      requests: {cpu: 3, memory: 1Gi}
      terminationTime: 15s
maintenance:
  - {at: 60s, drain: p-0, duration: 10m}
";

#[test]
fn a_drain_evicts_gracefully_and_the_owner_replaces_at_once() {
    let (_dir, out) = run_yaml(DRAIN, &["--pods", "--no-charts"]);
    let rows = pods(&out);
    let evicted: Vec<_> = rows.iter().filter(|r| r["disruption_target"] == "EvictionByEvictionAPI").collect();
    assert_eq!(evicted.len(), 1, "{rows:?}");
    assert_eq!(evicted[0]["node"], "p-0");
    assert_eq!(evicted[0]["phase"], "Deleted");
    assert_eq!((secs(evicted[0], "terminating_s"), secs(evicted[0], "finished_s")), (60.0, 75.0));
    // The replacement is created at once; p-0 is cordoned and p-1 full, so it waits.
    let replacement: Vec<_> = rows.iter().filter(|r| r["created_s"] != "0.000000").collect();
    assert_eq!(replacement.len(), 1);
    assert_eq!((secs(replacement[0], "created_s"), replacement[0]["phase"].as_str()), (60.0, "Pending"));
    assert_eq!(num(&summary(&out), "pods_drained"), 1.0);
}
