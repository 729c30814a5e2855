//! The control plane as a capacity: off by default (earlier results unchanged), SLIs on a
//! run small enough to check by hand, overload visible in API latency, and bad input.

mod common;
use common::*;

/// One node, one pod, no image pull, 1 s container start; every mutating call takes 10 ms
/// of processing + a 1 ms etcd slot + 5 ms commit = 16 ms; scheduling costs 0.5 ms + 1.5 µs.
const ONE_POD: &str = "
duration: 60s
nodePools:
  - name: p
    count: 1
    allocatable: {cpu: 4, memory: 8Gi}
    kubelet: {imagePull: {constant: 0s}, containerStart: {constant: 1s}}
deployments:
  - name: web
    replicas: 1
    template: {requests: {cpu: 500m, memory: 1Gi}}
controlPlane:
  nodeLeases: false
  serviceTime: {write: 10ms}
  etcd: {writeLatency: 5ms, maxWritesPerSecond: 1000}
";

#[test]
fn slis_on_a_run_checked_by_hand() {
    let (_dir, out) = run_yaml(ONE_POD, &[]);
    let s = summary(&out);
    // create stored at 16 ms → scheduled, bound after 0.5015 ms → binding stored 16 ms later
    // (32.5015 ms) → containers start 1 s later → status stored 16 ms later: 1.0485015 s.
    let sli = num(&s, "pod_startup_sli_p50_s");
    assert!((sli - 1.0485015).abs() < 1.0485015 * 1e-3, "{sli}");
    // The pod is Running (as the kubelet sees it) at 1.0325015 s.
    let running = num(&s, "pod_startup_p50_s");
    assert!((running - 1.0325015).abs() < 1.0325015 * 1e-3, "{running}");
    // POST pods, POST binding + its Event, PATCH status + the kubelet's Event.
    assert_eq!(num(&s, "api_requests"), 5.0);
    assert!((num(&s, "api_post_pods_p99_ms") - 16.0).abs() < 0.05);
    assert_eq!(num(&s, "slo_pod_startup_ok"), 1.0);
    assert_eq!(num(&s, "slo_api_mutating_ok"), 1.0);
}

#[test]
fn requests_share_the_apiserver_cpu_checked_by_hand() {
    // ONE_POD on one kube-apiserver replica with one core, 10 ms of CPU per create and
    // patch, nothing per KiB. POST pods alone: 10 ms CPU + 1 ms etcd slot + 5 ms commit =
    // 16 ms. The binding and its Event arrive together and share the core: both leave the
    // CPU at 20 ms, then take etcd slots one after the other, so the first is stored at
    // 16.5015 + 20 + 1 + 5 ms (42.5015 ms) and the kubelet starts the pod then; the
    // status and its Event likewise: Running observed at 1,042.5015 + 26 = 1,068.5015 ms.
    // (The commit latency grows by dbSize / 2 GiB: a few nanoseconds here.)
    let yaml = ONE_POD.replace(
        "  nodeLeases: false",
        "  nodeLeases: false\n  apiserver: {replicas: 1, cores: 1, cost: {create: 10ms, patch: 10ms, perKiB: 0s}}",
    );
    let (_dir, out) = run_yaml(&yaml, &[]);
    let s = summary(&out);
    // The binding took the first etcd slot (26 ms), its Event the second (27 ms).
    assert!((num(&s, "api_post_bindings_p99_ms") - 26.0).abs() < 0.05);
    assert!((num(&s, "api_post_events_p99_ms") - 27.0).abs() < 0.05);
    assert!((num(&s, "api_patch_pods_status_p99_ms") - 26.0).abs() < 0.05);
    let running = num(&s, "pod_startup_p50_s");
    assert!((running - 1.0425015).abs() < 1.0425015 * 1e-3, "{running}");
    let sli = num(&s, "pod_startup_sli_p50_s");
    assert!((sli - 1.0685015).abs() < 1.0685015 * 1e-3, "{sli}");
    assert!((num(&s, "api_post_pods_p99_ms") - 16.0).abs() < 0.05);
    // 5 requests × 10 ms of CPU in 60 s on one core (summary.csv keeps 6 decimals).
    let util = num(&s, "apiserver_cpu_utilization_mean");
    assert!((util - 0.05 / 60.0).abs() < 1e-6, "{util}");
    // The resource model adds its columns; the fixed model does not.
    let (_d, plain) = run_yaml(ONE_POD, &[]);
    assert!(!summary(&plain).contains_key("apiserver_cpu_utilization_mean"));
}

#[test]
fn apf_without_contention_changes_no_latency() {
    // With 600 seats shared by the levels, ONE_POD's five requests never wait: the same
    // SLIs as the pre-APF mode, no 429, and the APF columns present.
    let (_d0, base) = run_yaml(ONE_POD, &[]);
    let (_d1, out) = run_yaml(&ONE_POD.replace("  nodeLeases: false", "  nodeLeases: false\n  apf: {}"), &[]);
    let (b, s) = (summary(&base), summary(&out));
    for k in ["pod_startup_sli_p50_s", "api_mutating_p99_ms", "api_requests"] {
        assert_eq!(b[k], s[k], "{k}");
    }
    assert_eq!(num(&s, "api_rejected_429"), 0.0);
    assert_eq!(num(&s, "apf_workload_high_rejected"), 0.0);
}

/// 3,000 pods created at once by a controller manager allowed 5,000 QPS, on one
/// kube-apiserver with one core: the creates, bindings and statuses flood it while 50
/// kubelets renew their leases.
const FLOOD: &str = "
duration: 3m
nodePools:
  - name: p
    count: 50
    allocatable: {cpu: 64, memory: 256Gi, pods: 110}
    kubelet: {imagePull: {constant: 0s}, containerStart: {constant: 1s}}
deployments:
  - name: web
    replicas: 3000
    template: {requests: {cpu: 10m, memory: 10Mi}}
controlPlane:
  clients:
    controllerManager: {qps: 5000, burst: 5000}
    scheduler: {qps: 5000, burst: 5000}
  apiserver: {replicas: 1, cores: 1}
";

#[test]
fn apf_keeps_node_leases_fast_under_a_flood_of_pod_writes() {
    // Pre-APF, a lease renewal waits behind thousands of pod writes for one of the 200
    // mutating seats and then shares the core with 200 of them: seconds. With APF it has
    // node-high's own seats (98) and shares the core with at most workload-high's 98 in
    // service, while the flood of workload-high requests overflows its queues and gets
    // 429s (Retry-After growing to 32 s): the leases stay within a fraction of a second and
    // every pod still starts.
    let (_d0, pre) = run_yaml(FLOOD, &[]);
    let (_d1, apf) = run_yaml(&FLOOD.replace("  apiserver:", "  apf: {}\n  apiserver:"), &[]);
    let (pre, apf) = (summary(&pre), summary(&apf));
    let (lease_pre, lease_apf) = (num(&pre, "api_put_leases_p99_ms"), num(&apf, "api_put_leases_p99_ms"));
    assert!(lease_pre > 1000.0, "pre-APF lease p99 {lease_pre} ms");
    assert!(lease_apf < 0.1 * lease_pre, "APF lease p99 {lease_apf} ms vs {lease_pre} ms");
    assert!(num(&apf, "apf_workload_high_rejected") > 0.0);
    assert_eq!(num(&apf, "apf_node_high_rejected"), 0.0);
    assert_eq!(
        num(&apf, "api_rejected_429"),
        num(&apf, "apf_workload_high_rejected") + num(&apf, "apf_system_rejected")
    );
    assert_eq!(num(&apf, "pods_running_end"), 3000.0);
}

/// ONE_POD plus `stuck` pods that fit an empty node but not beside `web`, for 7 minutes.
fn stuck(replicas: u32) -> String {
    ONE_POD.replace("duration: 60s", "duration: 7m").replace(
        "controlPlane:",
        &format!("  - {{name: stuck, replicas: {replicas}, template: {{requests: {{cpu: 4, memory: 1Gi}}}}}}\ncontrolPlane:"),
    )
}

#[test]
fn a_failed_attempt_writes_the_pods_status_and_an_event_once() {
    // Each stuck pod is created (POST pods), fails (PATCH status with PodScheduled=False,
    // POST events) and stays Pending. After 5 minutes in unschedulablePods it is tried again
    // and fails again, which writes nothing more: the condition does not change and the
    // event joins its series.
    let (_d0, base) = run_yaml(&stuck(0), &[]);
    let (_d2, out) = run_yaml(&stuck(2), &[]);
    let (b, s) = (summary(&base), summary(&out));
    assert_eq!(num(&s, "pods_pending_end"), 2.0);
    assert!(num(&s, "unschedulable_attempts") >= 4.0, "tried again: {s:?}");
    assert_eq!(num(&s, "api_requests"), num(&b, "api_requests") + 2.0 * 3.0);
    assert!(num(&s, "api_patch_pods_status_p99_ms") > 0.0);
}

#[test]
fn with_the_control_plane_off_results_are_unchanged() {
    // Golden files from the build before the control plane existed (and before
    // PodTopologySpread and InterPodAffinity: without default constraints, which the
    // quickstart's Deployment would get, nothing of theirs applies and the bytes are the same).
    let (_dir, out) = run_yaml(
        &std::fs::read_to_string(repo().join("scenarios/quickstart.yaml")).expect("scenario"),
        &["--no-charts", "--set", "scheduler.podTopologySpread.defaultingType=List"],
    );
    for f in ["summary.csv", "timeseries.csv"] {
        let got = std::fs::read(out.join(f)).expect("output");
        let want = std::fs::read(repo().join(format!("tests/golden/quickstart-{f}"))).expect("golden");
        assert!(got == want, "{f} differs from tests/golden/quickstart-{f}");
    }
}

#[test]
fn a_slow_etcd_breaks_the_api_and_startup_slos() {
    // 2,000 pods at once through an etcd of 100 writes/s: the writes queue for tens of
    // seconds, so the mutating p99 and the start-up SLI go far past 1 s and 5 s.
    let yaml = ONE_POD
        .replace("count: 1", "count: 50")
        .replace("replicas: 1", "replicas: 2000")
        .replace("cpu: 500m, memory: 1Gi", "cpu: 10m, memory: 10Mi")
        .replace("maxWritesPerSecond: 1000", "maxWritesPerSecond: 100")
        .replace("duration: 60s", "duration: 10m");
    let (_dir, out) =
        run_yaml(&yaml, &["--set", "controlPlane.clients.controllerManager={qps: 1000, burst: 1000}"]);
    let s = summary(&out);
    assert!(num(&s, "api_mutating_p99_ms") > 1000.0, "{}", num(&s, "api_mutating_p99_ms"));
    assert_eq!(num(&s, "slo_api_mutating_ok"), 0.0);
    assert_eq!(num(&s, "slo_pod_startup_ok"), 0.0);
    assert_eq!(num(&s, "pods_running_end"), 2000.0);
}

#[test]
fn control_plane_input_errors_name_the_field() {
    let cases = [
        (
            "{clients: {scheduler: {qps: 0, burst: 0}}}",
            "controlPlane.clients.scheduler",
            "qps 0 with burst 0",
        ),
        ("{clients: {kubelet: {qps: -1, burst: 10}}}", "controlPlane.clients.kubelet.qps", "greater than 0"),
        ("{etcd: {maxWritesPerSecond: -5}}", "controlPlane.etcd.maxWritesPerSecond", "greater than 0"),
        (
            "{maxRequestsInflight: -1}",
            "controlPlane.maxRequestsInflight",
            "expected a whole number from 0 to 4294967295",
        ),
        ("{etcd: {writeLatency: -1ms}}", "controlPlane.etcd.writeLatency", "must not be negative"),
        ("{serviceTime: {write: -2ms}}", "controlPlane.serviceTime.write", "must not be negative"),
        ("{apiserver: {cores: 0}}", "controlPlane.apiserver.cores", "at least 1 core"),
        ("{apiserver: {replicas: 0}}", "controlPlane.apiserver.replicas", "at least 1"),
        ("{apiserver: {cost: {create: -1ms}}}", "controlPlane.apiserver.cost.create", "must not be negative"),
        ("{apiserver: {cost: {perKiB: -1us}}}", "controlPlane.apiserver.cost.perKiB", "must not be negative"),
        (
            "{apiserver: {}, etcd: {quotaBackendBytes: 0}}",
            "controlPlane.etcd.quotaBackendBytes",
            "more than 0",
        ),
        (
            "{apf: {priorityLevels: [{name: workload-low, nominalConcurrencyShares: 0}]}}",
            "controlPlane.apf.priorityLevels[0].nominalConcurrencyShares",
            "no shares",
        ),
        (
            "{apf: {priorityLevels: [{name: exempt}]}}",
            "controlPlane.apf.priorityLevels[0].name",
            "not a default",
        ),
        (
            "{apf: {priorityLevels: [{name: system, queues: 4, handSize: 8}]}}",
            "controlPlane.apf.priorityLevels[0].handSize",
            "handSize 8 is greater than deckSize 4",
        ),
        (
            "{apf: {}, maxRequestsInflight: 0, maxMutatingRequestsInflight: 0}",
            "controlPlane.maxRequestsInflight",
            "both 0",
        ),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("s.yaml"), VALID).expect("write");
    for (value, path, reason) in cases {
        let set = format!("controlPlane={value}");
        let o = run_in(dir.path(), &["validate", "s.yaml", "--set", &set]);
        assert_eq!(o.code, 2, "{value}: {}", o.stderr);
        assert!(o.stderr.contains(path) && o.stderr.contains(reason), "{value}: {}", o.stderr);
    }
}

/// 30 nodes in three zones, 60 pods Running by 5 min, the node-lifecycle controller with
/// its upstream defaults; one kube-apiserver replica.
const OUTAGE: &str = "
duration: 20m
sampleInterval: 30s
nodePools:
  - name: general
    count: 30
    zones: [zone-a, zone-b, zone-c]
    allocatable: {cpu: 8, memory: 32Gi}
    kubelet: {imagePull: {constant: 1s}, containerStart: {constant: 1s}}
deployments:
  - name: web
    replicas: 60
    scale: [{at: 6m, replicas: 75}]
    template:
      requests: {cpu: '1', memory: 1Gi}
controlPlane:
  apiserver: {replicas: 1}
faults:
  - at: 5m
    duration: 5m
    fail: {apiserver: {}}
";

#[test]
fn an_apiserver_outage_leaves_running_pods_and_evicts_nothing_on_return() {
    let (_dir, out) = run_yaml(OUTAGE, &[]);
    let s = summary(&out);
    // Every kubelet's lease is older than the 50-s grace period at the first monitor tick
    // after the return (10 min): all 30 nodes go NotReady, every zone is fully disrupted,
    // so the controller enters the master disruption mode and taints nothing; the leases
    // renewed within 7 s bring the nodes back. Nothing is evicted.
    assert_eq!(num(&s, "nodes_lease_stale"), 30.0);
    assert_eq!(num(&s, "pods_evicted"), 0.0);
    assert_eq!(num(&s, "pods_evicted_after_cp_fault"), 0.0);
    // The relist storm: per node the kubelet's pods and its Node, plus the scheduler's and
    // the controller manager's pods and nodes: 2 × 30 + 4 LISTs.
    assert_eq!(num(&s, "relist_lists"), 64.0);
    // Unavailable 300 s of 1,200.
    assert_eq!(num(&s, "api_availability"), 0.75);
    assert_eq!(num(&s, "api_unavailable_s"), 300.0);
    assert_eq!(num(&s, "pods_running_end"), 75.0);
    // During the outage: the 60 pods keep running, the 15 created by the scale-up at 6 min
    // are not even visible to the scheduler (their creates wait), so none is bound.
    let rows = csv_rows(&out.join("timeseries.csv"));
    for r in rows.iter().filter(|r| {
        let t: f64 = r["time_s"].parse().expect("time");
        (330.0..=600.0).contains(&t)
    }) {
        assert_eq!(r["pods_running"], "60", "at {}", r["time_s"]);
        assert_eq!(r["pods_starting"], "0", "at {}", r["time_s"]);
        // No request reaches a server until the return at 600 s.
        if r["time_s"] != "600.000" {
            assert_eq!(r["api_requests"], "0", "at {}", r["time_s"]);
        }
    }
}

#[test]
fn a_short_outage_or_one_replica_down_marks_no_node_and_relists_nothing() {
    // 30 s away is less than the grace period: no lease is stale at the first tick after.
    let yaml = OUTAGE.replace("duration: 5m\n    fail", "duration: 30s\n    fail");
    let (_dir, out) = run_yaml(&yaml, &[]);
    let s = summary(&out);
    assert_eq!(num(&s, "nodes_lease_stale"), 0.0);
    assert_eq!(num(&s, "relist_lists"), 64.0);
    assert_eq!(num(&s, "api_unavailable_s"), 30.0);
    // One of three replicas down: the others serve (watches resume there), no relist.
    let yaml = OUTAGE
        .replace("apiserver: {replicas: 1}", "apiserver: {replicas: 3}")
        .replace("fail: {apiserver: {}}", "fail: {apiserver: {replicas: 1}}");
    let (_dir, out) = run_yaml(&yaml, &[]);
    let s = summary(&out);
    assert_eq!(num(&s, "api_availability"), 1.0);
    assert_eq!(num(&s, "relist_lists"), 0.0);
    assert_eq!(num(&s, "nodes_lease_stale"), 0.0);
    assert_eq!(num(&s, "pods_running_end"), 75.0);
}

#[test]
fn etcd_down_stops_writes_and_etcd_slow_adds_commit_latency() {
    // etcd unavailable 5 min: writes wait (the API is unavailable for them), no relist (the
    // API servers stay up), the leases go stale and the master disruption mode evicts
    // nothing.
    let yaml = OUTAGE.replace("fail: {apiserver: {}}", "fail: {etcd: {}}");
    let (_dir, out) = run_yaml(&yaml, &[]);
    let s = summary(&out);
    assert_eq!(num(&s, "api_unavailable_s"), 300.0);
    assert_eq!(num(&s, "relist_lists"), 0.0);
    assert_eq!(num(&s, "nodes_lease_stale"), 30.0);
    assert_eq!(num(&s, "pods_evicted"), 0.0);
    assert_eq!(num(&s, "pods_running_end"), 75.0);
    // The pod creates of the scale-up at 6 min wait for etcd until 10 min: about 240 s.
    assert!(num(&s, "api_post_pods_p99_ms") > 239_000.0, "{}", num(&s, "api_post_pods_p99_ms"));
    // etcd slow by 2 s for 5 min: the leases renewed then take at least 2 s, the API stays
    // available, and it is healthy again at once after the fault.
    let yaml = OUTAGE.replace("fail: {apiserver: {}}", "fail: {etcd: {slow: 2s}}");
    let (_dir, out) = run_yaml(&yaml, &[]);
    let s = summary(&out);
    assert_eq!(num(&s, "api_availability"), 1.0);
    assert!(num(&s, "api_put_leases_p99_ms") >= 2000.0, "{}", num(&s, "api_put_leases_p99_ms"));
    assert_eq!(num(&s, "api_recovery_s"), 0.0);
    assert_eq!(num(&s, "nodes_lease_stale"), 0.0);
}

/// One zone of 10 nodes, two 4-core pods on each 8-core node; `FRACTION` of the nodes
/// fail for good at 1 min.
const ZONE: &str = "
duration: 15m
nodePools:
  - name: p
    count: 10
    zones: [zone-a]
    allocatable: {cpu: 8, memory: 32Gi}
    kubelet: {imagePull: {constant: 0s}, containerStart: {constant: 1s}}
deployments:
  - name: web
    replicas: 20
    template:
      requests: {cpu: '4', memory: 1Gi}
faults:
  - at: 1m
    fail: {pool: {name: p, fraction: FRACTION}}
";

#[test]
fn zone_disruption_modes_decide_the_evictions() {
    let evicted = |fraction: &str| {
        let (_dir, out) = run_yaml(&ZONE.replace("FRACTION", fraction), &[]);
        num(&summary(&out), "pods_evicted")
    };
    // 4 of 10 NotReady: 0.4 < unhealthyZoneThreshold 0.55, the zone stays Normal; every
    // failed node is tainted (0.1 node/s) and its 2 pods evicted 300 s later.
    assert_eq!(evicted("0.4"), 8.0);
    // 6 of 10: PartialDisruption once the sixth is noticed; a zone of at most
    // largeClusterSizeThreshold (50) nodes then taints nothing more, so only the nodes
    // tainted while it was Normal lose their pods.
    let partial = evicted("0.6");
    assert!(partial > 0.0 && partial < 12.0, "{partial}");
    // 10 of 10, the only zone: every zone is fully disrupted, the master disruption mode
    // removes the taints placed and evicts nothing.
    assert_eq!(evicted("1.0"), 0.0);
}

#[test]
fn control_plane_fault_input_errors_name_the_field() {
    let base = "duration: 10m\nnodePools: [{name: p, count: 2, allocatable: {cpu: 4, memory: 8Gi}}]\n";
    let cases = [
        (
            "faults: [{at: 1m, duration: 1m, fail: {apiserver: {}}}]",
            "faults[0].fail.apiserver",
            "controlPlane",
        ),
        ("faults: [{at: 1m, duration: 1m, fail: {etcd: {slow: 1s}}}]", "faults[0].fail.etcd", "controlPlane"),
        (
            "controlPlane: {}\nfaults: [{at: 1m, fail: {apiserver: {}}}]",
            "faults[0].duration",
            "needs a duration",
        ),
        (
            "controlPlane: {apiserver: {replicas: 2}}\nfaults: [{at: 1m, duration: 1m, fail: {apiserver: {replicas: 3}}}]",
            "faults[0].fail.apiserver.replicas",
            "expected 1 to 2",
        ),
        (
            "controlPlane: {}\nfaults: [{at: 1m, duration: 1m, fail: {apiserver: {replicas: 0}}}]",
            "faults[0].fail.apiserver.replicas",
            "expected 1 to 1",
        ),
        (
            "controlPlane: {misbehavingClient: {listsPerSecond: 0}}",
            "controlPlane.misbehavingClient.listsPerSecond",
            "greater than 0",
        ),
        (
            "controlPlane: {lists: {kubelet: disk}}",
            "s.yaml:3:",
            "unknown value `disk`; expected one of watchCache, etcd",
        ),
        (
            "controlPlane: {}\nfaults: [{at: 1m, duration: 1m, fail: {etcd: {slow: -1s}}}]",
            "s.yaml:4:",
            "invalid duration \"-1s\": must not be negative",
        ),
    ];
    let dir = tempfile::tempdir().expect("temp dir");
    for (extra, path, reason) in cases {
        std::fs::write(dir.path().join("s.yaml"), format!("{base}{extra}\n")).expect("write");
        let o = run_in(dir.path(), &["validate", "s.yaml"]);
        assert_eq!(o.code, 2, "{extra}: {}", o.stderr);
        assert!(o.stderr.contains(path) && o.stderr.contains(reason), "{extra}: {}", o.stderr);
    }
}
