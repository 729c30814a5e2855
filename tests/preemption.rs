//! Priority preemption in the scheduling cycle: PriorityClasses, DefaultPreemption's victim
//! choice with node nomination, `preemptionPolicy: Never`, disruption budgets, bad input.

mod common;
use common::*;

/// Ten 4-CPU nodes full of 3-CPU training pods; at 2 min six 3-CPU inference pods of a
/// higher class arrive.
const TWO_CLASSES: &str = "
duration: 10m
priorityClasses:
  - {name: training, value: 100}
  - {name: inference, value: 1000}
nodePools:
  - name: p
    count: 10
    allocatable: {cpu: 4, memory: 16Gi}
deployments:
  - name: training
    replicas: 10
    template: {priorityClassName: training, requests: {cpu: 3, memory: 1Gi}}
  - name: inference
    replicas: 0
    scale: [{at: 2m, replicas: 6}]
    template: {priorityClassName: inference, requests: {cpu: 3, memory: 1Gi}}
";

fn running_by_owner(out: &std::path::Path) -> (usize, usize) {
    let pods = std::fs::read_to_string(out.join("pods.csv")).expect("pods.csv");
    let running: Vec<&str> = pods.lines().filter(|l| l.contains(",Running,")).collect();
    let inference = running.iter().filter(|l| l.contains("Deployment/inference")).count();
    (inference, running.len() - inference)
}

#[test]
fn higher_priority_pods_preempt_exactly_what_they_need() {
    let (_dir, out) = run_yaml(TWO_CLASSES, &["--pods", "--no-charts"]);
    let s = summary(&out);
    // One victim per inference pod; the nominated node is not retaken by the recreated
    // training pods, so there is no preemption loop.
    assert_eq!(num(&s, "pods_preempted"), 6.0);
    assert_eq!(num(&s, "preemptions"), 6.0);
    assert_eq!(running_by_owner(&out), (6, 4));
    assert_eq!(num(&s, "pods_pending_end"), 6.0, "the recreated training pods wait");
}

#[test]
fn never_policy_and_budgets_stop_preemption() {
    let never = TWO_CLASSES
        .replace("{name: inference, value: 1000}", "{name: inference, value: 1000, preemptionPolicy: Never}");
    let (_dir, out) = run_yaml(&never, &["--pods", "--no-charts"]);
    assert_eq!(num(&summary(&out), "pods_preempted"), 0.0);
    assert_eq!(running_by_owner(&out), (0, 10));

    // A budget of minAvailable 7 on training allows 3 disruptions; upstream still preempts
    // (a PDB is best effort) but prefers nodes without violations, so at most 3 victims
    // come without a violation and the rest are chosen anyway.
    let budget = TWO_CLASSES.replace("    replicas: 10\n", "    replicas: 10\n    minAvailable: 7\n");
    let (_dir, out) = run_yaml(&budget, &["--pods", "--no-charts"]);
    assert_eq!(num(&summary(&out), "pods_preempted"), 6.0);

    // Without PriorityClasses (bare priorities), preemption stays off unless asked for.
    let bare = TWO_CLASSES
        .replace(
            "priorityClasses:\n  - {name: training, value: 100}\n  - {name: inference, value: 1000}\n",
            "",
        )
        .replace("priorityClassName: training", "priority: 100")
        .replace("priorityClassName: inference", "priority: 1000");
    let (_dir, out) = run_yaml(&bare, &["--pods", "--no-charts"]);
    assert!(!summary(&out).contains_key("pods_preempted"));
    let (_dir, out) = run_yaml(&bare, &["--pods", "--no-charts", "--set", "scheduler.preemption=true"]);
    assert_eq!(num(&summary(&out), "pods_preempted"), 6.0);
}

#[test]
fn priority_class_errors_name_the_field() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("s.yaml"), TWO_CLASSES).expect("write");
    for (set, path, reason) in [
        (
            "deployments.0.template.priorityClassName=nope",
            "deployments[0].template.priorityClassName",
            "no PriorityClass named \"nope\"",
        ),
        ("priorityClasses.0.value=2000000000", "priorityClasses[0].value", "at most 1000000000"),
        ("priorityClasses.1.name=training", "priorityClasses[1].name", "duplicate name"),
        ("priorityClasses.0.preemptionPolicy=Sometimes", "priorityClasses.0.preemptionPolicy", "Sometimes"),
    ] {
        let o = run_in(dir.path(), &["validate", "s.yaml", "--set", set]);
        assert_eq!(o.code, 2, "{set}: {}", o.stderr);
        assert!(o.stderr.contains(path) && o.stderr.contains(reason), "{set}: {}", o.stderr);
    }
}

/// One node of 2 GPUs: two 0.6-GPU training pods, one per device, and at 1 min an
/// inference pod of a higher class asking for 0.5 of a GPU.
const GPU_SHARES: &str = "
duration: 5m
priorityClasses:
  - {name: training, value: 100}
  - {name: inference, value: 1000}
nodePools:
  - name: gpu
    count: 1
    allocatable: {cpu: 32, memory: 128Gi, nvidia.com/gpu: 2}
deployments:
  - name: training
    replicas: 2
    template:
      priorityClassName: training
      requests: {cpu: 1, memory: 1Gi, nvidia.com/gpu: 1, alibabacloud.com/gpu-milli: 600}
  - name: inference
    replicas: 0
    scale: [{at: 1m, replicas: 1}]
    template:
      priorityClassName: inference
      requests: {cpu: 1, memory: 1Gi, nvidia.com/gpu: 1, alibabacloud.com/gpu-milli: 500}
";

#[test]
fn preemption_frees_gpu_devices_not_just_the_scalar() {
    // The scalar has room (1,200 + 500 <= 2,000 milli) but no device has 500 free: the dry
    // run gives the victims' devices back, so one training pod goes (the other is
    // reprieved: with it back, a device still holds 0.5) and the inference pod runs.
    let (_dir, out) = run_yaml(GPU_SHARES, &["--pods", "--no-charts"]);
    let s = summary(&out);
    assert_eq!(num(&s, "pods_preempted"), 1.0);
    assert_eq!(running_by_owner(&out), (1, 1));
    let pods = csv_rows(&out.join("pods.csv"));
    let inference = pods.iter().find(|r| r["owner"] == "Deployment/inference").expect("inference pod");
    assert_eq!(inference["phase"], "Running");
    assert!(inference["gpu_devices"].ends_with(":500"), "{inference:?}");
}
