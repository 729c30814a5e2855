//! GPU devices and the FGD study (issue #16): shares never exceed one device and whole GPUs
//! take wholly free devices (checked on `pods.csv`'s devices and by `check_invariants` in
//! debug runs), model constraints, each GPU-sharing policy end to end, the inflation protocol
//! on the synthetic fixture (arrived demand, failures, determinism by seed), the
//! fragmentation columns, and bad input (exit 2 naming the field or the file and line).

mod common;
use common::*;
use std::collections::BTreeMap;

const FIXTURE: &str = "tests/fixtures/alibaba-gpu-mini";

const RUN: &[&str] = &["--pods", "--no-charts"];

/// Two nodes of 2 GPUs each and a Deployment of `replicas` pods asking `gpu` GPUs of
/// `milli` each.
fn devices_scenario(replicas: u32, gpu: u32, milli: u32, policy: &str) -> String {
    format!(
        "name: t
duration: 10m
nodePools:
  - name: gpu
    count: 2
    allocatable: {{cpu: 64, memory: 256Gi, nvidia.com/gpu: 2}}
    labels: {{nvidia.com/gpu.product: V100M32}}
    kubelet: {{imagePull: {{constant: 0s}}, containerStart: {{constant: 0s}}}}
deployments:
  - name: share
    replicas: {replicas}
    template:
      requests: {{cpu: 1, memory: 1Gi, nvidia.com/gpu: {gpu}, alibabacloud.com/gpu-milli: {milli}}}
{policy}"
    )
}

/// Per (node, device): the milli the pods in `rows` hold there.
fn device_load(rows: &[BTreeMap<String, String>]) -> BTreeMap<(String, String), u32> {
    let mut load = BTreeMap::new();
    for r in rows.iter().filter(|r| r["phase"] == "Running") {
        let (devs, milli) = r["gpu_devices"].split_once(':').expect("devices");
        for d in devs.split('+') {
            *load.entry((r["node"].clone(), d.to_string())).or_insert(0) += milli.parse::<u32>().unwrap();
        }
    }
    load
}

#[test]
fn a_share_fits_on_one_device_not_on_the_sum() {
    // Six 600-milli shares on 4 GPUs: 3,600 ≤ 4,000 milli in all, but two shares do not fit
    // one device, so four run (one per device) and two stay Pending.
    for policy in ["", "scheduler: {gpuSharing: {policy: FGD}}", "scheduler: {gpuSharing: {policy: Random}}"]
    {
        let (_d, out) = run_yaml(&devices_scenario(6, 1, 600, policy), RUN);
        let s = summary(&out);
        assert_eq!(s["pods_running_end"], "4", "{policy}");
        assert_eq!(s["pods_pending_end"], "2", "{policy}");
        let rows = csv_rows(&out.join("pods.csv"));
        let load = device_load(&rows);
        assert_eq!(load.len(), 4, "one share per device: {load:?}");
        assert!(load.values().all(|&m| m == 600), "{load:?}");
    }
}

#[test]
fn shares_pack_onto_the_tightest_device() {
    // 300-milli shares: three fit one device (900); with the tightest pick the first device
    // of a node fills before the next is used.
    let (_d, out) = run_yaml(&devices_scenario(3, 1, 300, ""), RUN);
    let rows = csv_rows(&out.join("pods.csv"));
    let load = device_load(&rows);
    assert!(load.values().all(|&m| m <= 1000), "a device never exceeds 1000: {load:?}");
    let total: u32 = load.values().sum();
    assert_eq!(total, 900);
}

#[test]
fn whole_gpus_need_wholly_free_devices() {
    // A 2-GPU pod needs both devices of a node free. With one 100-milli share on each node
    // (scheduled first), no 2-GPU pod fits although each node has 1,900 milli free.
    let yaml = format!(
        "{}  - name: whole
    replicas: 1
    startAt: 1m
    template:
      requests: {{cpu: 1, memory: 1Gi, nvidia.com/gpu: 2}}
",
        devices_scenario(2, 1, 100, "").replace("\n{policy}", "")
    );
    // The share Deployment spreads (LeastAllocated on cpu): one share per node.
    let (_d, out) = run_yaml(&yaml, RUN);
    let rows = csv_rows(&out.join("pods.csv"));
    let whole: Vec<_> = rows.iter().filter(|r| r["template"] == "deployment/whole").collect();
    assert_eq!(whole.len(), 1);
    let shares: Vec<_> = rows.iter().filter(|r| r["template"] == "deployment/share").collect();
    let nodes: std::collections::BTreeSet<_> = shares.iter().map(|r| r["node"].clone()).collect();
    if nodes.len() == 2 {
        assert_eq!(whole[0]["phase"], "Pending", "no node has two wholly free devices");
    } else {
        assert_eq!(whole[0]["phase"], "Running");
        assert_eq!(whole[0]["gpu_devices"], "0+1:1000");
    }
}

#[test]
fn every_policy_runs_the_mini_protocol_and_is_deterministic() {
    let fixture = repo().join(FIXTURE).join("fgd.yaml");
    let path = fixture.to_string_lossy().into_owned();
    let mut at_end = BTreeMap::new();
    for policy in ["Random", "DotProd", "GpuClustering", "GpuPacking", "BestFit", "FGD"] {
        let set = format!("scheduler.gpuSharing.policy={policy}");
        let run = |seed: &str| {
            let dir = tempfile::tempdir().expect("temp dir");
            let o = run_in(
                dir.path(),
                &[
                    "run",
                    &path,
                    "--out",
                    "out",
                    "--quiet",
                    "--no-charts",
                    "--pods",
                    "--seed",
                    seed,
                    "--set",
                    &set,
                ],
            );
            assert_eq!(o.code, 0, "{policy}: {}", o.stderr);
            let out = dir.path().join("out");
            (summary(&out), std::fs::read(out.join("pods.csv")).unwrap(), dir)
        };
        let (a, pods_a, _da) = run("42");
        let (b, pods_b, _db) = run("42");
        assert_eq!(a, b, "{policy}: same seed, same summary");
        assert_eq!(pods_a, pods_b, "{policy}: same seed, same pods.csv");
        let arrived: u64 = a["trace_openb_inflated_pods"].parse().unwrap();
        let failed: u64 = a["trace_openb_pods_failed"].parse().unwrap();
        assert_eq!(a["pods_created"].parse::<u64>().unwrap(), arrived);
        assert_eq!(a["pods_deleted"].parse::<u64>().unwrap(), failed, "{policy}: a failed pod is deleted");
        assert_eq!(a["pods_pending_end"], "0", "{policy}: no pod waits");
        // The allocation never exceeds the arrived demand nor 100 %.
        for k in 0..=130 {
            if let Ok(v) = a[&format!("gpu_alloc_pct_at_arrived_{k}")].parse::<f64>() {
                // A bucket holds arrivals within half a percent (an empty one, its neighbours).
                assert!(v <= k as f64 + 1.5 && v <= 100.0, "{policy}: {v} at {k} %");
            }
        }
        let (c, _, _dc) = run("43");
        assert_ne!(a["gpu_alloc_pct_at_arrived_50"], "", "{policy}");
        at_end.insert(
            policy,
            (a["gpu_alloc_pct_at_arrived_120"].clone(), c["trace_openb_inflated_pods"].clone()),
        );
    }
    assert_eq!(at_end.len(), 6);
}

#[test]
fn inflation_reaches_the_target_demand() {
    // The fixture's 201 rows ask for 190.32 GPUs on 77 GPUs: above 130 %, so the shuffled
    // list is cut to at most 130 % (100.1 GPUs).
    let fixture = repo().join(FIXTURE).join("fgd.yaml");
    let path = fixture.to_string_lossy().into_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    let o = run_in(dir.path(), &["run", &path, "--out", "out", "--quiet", "--no-charts", "--pods"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let rows = csv_rows(&dir.path().join("out/pods.csv"));
    // Pod i arrives at i seconds.
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["created_s"], format!("{i}.000000"));
    }
    let s = summary(&dir.path().join("out"));
    assert!(s.contains_key("gpu_frag_ratio_of_free_end"));
    assert!(s.contains_key("gpu_frag_pct_at_arrived_130"));
    let ts = std::fs::read_to_string(dir.path().join("out/timeseries.csv")).unwrap();
    assert!(ts.lines().next().unwrap().contains("gpu_frag_ratio_of_free"));
}

const NODES: &str = "sn,cpu_milli,memory_mib,gpu,model\nn0,32000,65536,2,T4\n";

fn trace_yaml(extra: &str) -> String {
    format!(
        "name: t
duration: 1h
nodeLists:
  - {{name: l, file: nodes.csv, preset: alibaba-gpu-v2023}}
podTraces:
  - name: p
    file: pods.csv
    preset: alibaba-gpu-v2023
{extra}"
    )
}

const POD_HEADER: &str = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n";

#[test]
fn bad_gpu_input_is_refused_with_the_file_and_line() {
    // A share of 2 GPUs.
    let pods = format!("{POD_HEADER}p0,1000,1024,2,500,,BE,Running,1,5,1\n");
    let e = fails_with(&[("nodes.csv", NODES), ("pods.csv", &pods)], &trace_yaml(""));
    assert!(e.contains("pods.csv") && e.contains("line 2") && e.contains("exactly 1 GPU"), "{e}");
    // A share above one GPU.
    let pods = format!("{POD_HEADER}p0,1000,1024,1,1500,,BE,Running,1,5,1\n");
    let e = fails_with(&[("nodes.csv", NODES), ("pods.csv", &pods)], &trace_yaml(""));
    assert!(e.contains("line 2") && e.contains("more than one GPU"), "{e}");
    // Fractional and negative GPU counts.
    for n in ["1.5", "-1"] {
        let pods = format!("{POD_HEADER}p0,1000,1024,{n},1000,,BE,Running,1,5,1\n");
        let e = fails_with(&[("nodes.csv", NODES), ("pods.csv", &pods)], &trace_yaml(""));
        assert!(e.contains("pods.csv") && e.contains("line 2"), "{n}: {e}");
    }
    // A pod whose only model no node has.
    let pods = format!(
        "{POD_HEADER}p0,1000,1024,1,500,,BE,Running,1,5,1\np1,1000,1024,1,500,A100,BE,Running,2,5,1\n"
    );
    let e = fails_with(&[("nodes.csv", NODES), ("pods.csv", &pods)], &trace_yaml(""));
    assert!(e.contains("line 3") && e.contains("GPU model `A100` is on no node") && e.contains("T4"), "{e}");
    // Inflation with settings that read the trace's times.
    let pods = format!("{POD_HEADER}p0,1000,1024,1,500,,BE,Running,1,5,1\n");
    let e = fails_with(
        &[("nodes.csv", NODES), ("pods.csv", &pods)],
        &trace_yaml("    timeScale: 2\n    inflation: {gpuPercent: 0}\n"),
    );
    assert!(e.contains("podTraces[0].timeScale") && e.contains("podTraces[0].inflation.gpuPercent"), "{e}");
}

#[test]
fn bad_gpu_templates_are_refused() {
    let e = fails_with(&[], &devices_scenario(1, 2, 500, ""));
    assert!(e.contains("alibabacloud.com/gpu-milli") && e.contains("nvidia.com/gpu: 1"), "{e}");
    let e = fails_with(&[], &devices_scenario(1, 1, 1500, ""));
    assert!(e.contains("expected 1 to 1000"), "{e}");
    let e = fails_with(
        &[],
        &devices_scenario(1, 1, 500, "").replace("nvidia.com/gpu: 2}", "nvidia.com/gpu: 40}"),
    );
    assert!(e.contains("at most 32"), "{e}");
    let e = fails_with(&[], &devices_scenario(1, 1, 500, "scheduler: {gpuSharing: {policy: Tetris}}"));
    assert!(e.contains("Tetris") && e.contains("FGD"), "{e}");
}

#[test]
fn explain_shows_the_gpu_policy_score() {
    // Three 500-milli shares on two 2-GPU nodes under BestFit: every placement's score is the
    // policy's alone (the default plugins are off without `keepDefaultScores`), and the
    // chosen node's total is never below the runner-up's.
    let yaml = devices_scenario(3, 1, 500, "scheduler: {gpuSharing: {policy: BestFit}}");
    let (_d, out) = run_yaml(&yaml, &["--explain", "--no-charts"]);
    let rows = attempts(&out);
    let placed: Vec<_> = rows.iter().filter(|r| r["result"] == "Scheduled").collect();
    assert_eq!(placed.len(), 3, "{rows:?}");
    let n =
        |r: &BTreeMap<String, String>, k: &str| r[k].parse::<i64>().unwrap_or_else(|_| panic!("{k}: {r:?}"));
    assert!(placed.iter().any(|r| n(r, "score_GpuSharing") > 0), "{placed:?}");
    for r in placed {
        assert_eq!(n(r, "score_GpuSharing"), n(r, "score_total"), "{r:?}");
        assert_eq!(n(r, "score_NodeResourcesFit"), 0, "{r:?}");
        if !r["runner_up_score_total"].is_empty() {
            assert!(n(r, "runner_up_score_total") <= n(r, "score_total"), "{r:?}");
        }
    }
    // Without a policy the column is there and 0.
    let (_d, out) = run_yaml(&devices_scenario(1, 1, 500, ""), &["--explain", "--no-charts"]);
    let rows = attempts(&out);
    assert!(
        rows.iter().filter(|r| r["result"] == "Scheduled").all(|r| r["score_GpuSharing"] == "0"),
        "{rows:?}"
    );
}

/// The rows of `scheduling-attempts.csv` (its message column holds commas).
fn attempts(out: &std::path::Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(out.join("scheduling-attempts.csv")).expect("attempts file");
    let header: Vec<String> = r.headers().expect("header").iter().map(String::from).collect();
    r.records()
        .map(|rec| header.iter().cloned().zip(rec.expect("row").iter().map(String::from)).collect())
        .collect()
}
