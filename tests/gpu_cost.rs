//! The cost of GPU nodes and the GPU-hours (issue #16): `pricePerGpuHour` on pools and node
//! lists (with `gpuPricesPerHour` per GPU model) in the cost columns and the cluster
//! autoscaler's price expander, `gpu_hours`, `gpu_hours_allocated` and
//! `cost_per_allocated_gpu_hour` against hand-computed values; and the inflation's errors
//! found when a run is built, which are bad input (exit 2) in `run`, `validate` and `sweep`.

mod common;
use clustersim::sim::{RunError, Simulation};
use common::*;

const FIXTURE: &str = "tests/fixtures/alibaba-gpu-mini";

/// Two nodes of 4 GPUs at 0.5 + 4 × 2.0 per hour, for 2 hours, with a 2-GPU Deployment of
/// `train` replicas scaled to 1 at 1 h and `share` pods of half a GPU; placements are
/// instantaneous (no scheduling cost, no start-up delay) so the GPU-hours are exact.
fn gpu_cluster(train: u32, share: u32) -> String {
    format!(
        "name: t
duration: 2h
sampleInterval: 10m
scheduler: {{cost: {{perPod: 0s, perNodeExamined: 0s}}}}
nodePools:
  - name: gpu
    count: 2
    allocatable: {{cpu: 32, memory: 128Gi, nvidia.com/gpu: 4}}
    pricePerHour: 0.5
    pricePerGpuHour: 2.0
    kubelet: {{imagePull: {{constant: 0s}}, containerStart: {{constant: 0s}}}}
deployments:
  - name: train
    replicas: {train}
    scale: [{{at: 1h, replicas: {}}}]
    template: {{requests: {{cpu: 1, memory: 1Gi, nvidia.com/gpu: 2}}}}
  - name: share
    replicas: {share}
    template: {{requests: {{cpu: 1, memory: 1Gi, nvidia.com/gpu: 1, alibabacloud.com/gpu-milli: 500}}}}
",
        train.min(1)
    )
}

#[test]
fn a_gpu_node_costs_its_price_plus_each_gpu() {
    let (_d, out) = run_yaml(&gpu_cluster(2, 1), &["--no-charts"]);
    let s = summary(&out);
    // 2 nodes × (0.5 + 4 GPUs × 2.0) per hour × 2 h.
    assert_eq!(s["cost"], "34.000000");
    assert_eq!(s["cost_pool_gpu"], "34.000000");
    assert_eq!(s["node_hours"], "4.000000");
    // The time series' cost (cost_until) uses the same price.
    let ts = csv_rows(&out.join("timeseries.csv"));
    let last = ts.last().expect("rows");
    assert_eq!((last["time_s"].as_str(), last["cost"].as_str()), ("7200.000", "34.000000"));
    let mid = ts.iter().find(|r| r["time_s"] == "3600.000").expect("the row at 1 h");
    assert_eq!(mid["cost"], "17.000000");
}

#[test]
fn gpu_hours_count_the_devices_provisioned_and_the_gpus_pods_hold() {
    let (_d, out) = run_yaml(&gpu_cluster(2, 1), &["--no-charts", "--pods"]);
    let s = summary(&out);
    // 8 GPUs for 2 h.
    assert_eq!(s["gpu_hours"], "16.000000");
    // Two 2-GPU pods for 1 h, one of them for the second hour too, half a GPU for 2 h:
    // 4 + 2 + 1 GPU-hours.
    assert_eq!(s["gpu_hours_allocated"], "7.000000");
    assert_eq!(s["cost_per_allocated_gpu_hour"], format!("{:.6}", 34.0 / 7.0));
    // The mean GPU allocation is the same integral over the Ready GPUs.
    assert_eq!(s["gpu_allocation_mean"], format!("{:.6}", 7.0 / 16.0));
    // The columns sit beside the cost: GPU-hours before it, the cost per GPU-hour after
    // the per-pool costs.
    let header = std::fs::read_to_string(out.join("summary.csv")).expect("summary");
    let cols: Vec<&str> = header.lines().next().expect("header").split(',').collect();
    let at = |c: &str| cols.iter().position(|k| *k == c).unwrap_or_else(|| panic!("{c}"));
    assert_eq!(at("gpu_hours"), at("node_hours") + 1);
    assert_eq!(at("gpu_hours_allocated"), at("gpu_hours") + 1);
    assert_eq!(at("cost"), at("gpu_hours_allocated") + 1);
    assert_eq!(at("cost_pool_gpu"), at("cost") + 1);
    assert_eq!(at("cost_per_allocated_gpu_hour"), at("cost_pool_gpu") + 1);
    // The time series has the GPU allocation after the memory allocation: 4.5 of 8 GPUs in
    // the first hour, 2.5 in the second.
    let ts = csv_rows(&out.join("timeseries.csv"));
    let text = std::fs::read_to_string(out.join("timeseries.csv")).expect("timeseries");
    let tcols: Vec<&str> = text.lines().next().expect("header").split(',').collect();
    let tat = |c: &str| tcols.iter().position(|k| *k == c).unwrap_or_else(|| panic!("{c}"));
    assert_eq!(tat("gpu_allocation"), tat("memory_allocation") + 1);
    let row = |t: &str| ts.iter().find(|r| r["time_s"] == t).unwrap_or_else(|| panic!("row {t}"));
    assert_eq!(row("1800.000")["gpu_allocation"], "0.562500");
    assert_eq!(row("5400.000")["gpu_allocation"], "0.312500");
}

#[test]
fn no_gpu_allocated_leaves_the_cost_per_gpu_hour_empty() {
    let (_d, out) = run_yaml(&gpu_cluster(0, 0), &["--no-charts"]);
    let s = summary(&out);
    assert_eq!(s["gpu_hours"], "16.000000");
    assert_eq!(s["gpu_hours_allocated"], "0.000000");
    assert_eq!(s["cost_per_allocated_gpu_hour"], "", "no denominator: empty, as other ratios");
    // A cluster without GPUs has none of the GPU columns.
    let (_d, out) = run_yaml(VALID, &["--no-charts"]);
    let s = summary(&out);
    for c in ["gpu_hours", "gpu_hours_allocated", "cost_per_allocated_gpu_hour", "gpu_allocation_mean"] {
        assert!(!s.contains_key(c), "{c} without GPUs");
    }
    let ts = std::fs::read_to_string(out.join("timeseries.csv")).expect("timeseries");
    assert!(!ts.lines().next().expect("header").contains("gpu"), "no GPU column without GPUs");
}

const NODE_LIST: &str = "sn,cpu_milli,memory_mib,gpu,model\n\
                         n0,32000,65536,2,T4\n\
                         n1,64000,262144,8,V100M32\n\
                         n2,16000,32768,0,\n";

fn list_yaml(prices: &str) -> String {
    format!(
        "name: l
duration: 1h
nodeLists:
  - name: l
    file: nodes.csv
    preset: alibaba-gpu-v2023
    pricePerHour: 1.0
{prices}"
    )
}

#[test]
fn a_node_list_prices_gpus_by_model() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("nodes.csv"), NODE_LIST).expect("write");
    let yaml = list_yaml("    pricePerGpuHour: 0.5\n    gpuPricesPerHour: {V100M32: 3.0}\n");
    std::fs::write(dir.path().join("s.yaml"), yaml).expect("write");
    let o = run_in(dir.path(), &["run", "s.yaml", "--out", "out", "--quiet", "--no-charts"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let s = summary(&dir.path().join("out"));
    // The pools in order of first appearance: T4 (2 GPUs at the list's 0.5), V100M32 (8 at
    // its own 3.0), no GPUs.
    assert_eq!(s["cost_pool_l-0"], "2.000000");
    assert_eq!(s["cost_pool_l-1"], "25.000000");
    assert_eq!(s["cost_pool_l-2"], "1.000000");
    assert_eq!(s["cost"], "28.000000");
    assert_eq!(s["gpu_hours"], "10.000000");
}

#[test]
fn bad_gpu_prices_are_refused_naming_the_field() {
    // A model no node of the list has.
    let e =
        fails_with(&[("nodes.csv", NODE_LIST)], &list_yaml("    gpuPricesPerHour: {A100: 4.0, T4: 0.35}\n"));
    assert!(e.contains("s.yaml: nodeLists[0].gpuPricesPerHour.A100"), "{e}");
    assert!(e.contains("GPU model `A100`") && e.contains("T4, V100M32") && e.contains("nodes.csv"), "{e}");
    assert!(!e.contains("gpuPricesPerHour.T4"), "a model the list has is fine: {e}");
    // Negative prices.
    let e = fails_with(&[("nodes.csv", NODE_LIST)], &list_yaml("    pricePerGpuHour: -1\n"));
    assert!(e.contains("nodeLists[0].pricePerGpuHour"), "{e}");
    let e = fails_with(&[("nodes.csv", NODE_LIST)], &list_yaml("    gpuPricesPerHour: {T4: -0.1}\n"));
    assert!(e.contains("nodeLists[0].gpuPricesPerHour.T4"), "{e}");
    let e = fails_with(&[], &gpu_cluster(1, 0).replace("pricePerGpuHour: 2.0", "pricePerGpuHour: .nan"));
    assert!(e.contains("nodePools[0].pricePerGpuHour") && e.contains("finite price"), "{e}");
}

#[test]
fn the_price_expander_compares_prices_with_the_gpus() {
    // Two node groups of 4-GPU nodes: `cheapbase` costs 1 + 4 × 5 = 21 an hour, `cheapgpus`
    // 3 + 4 × 1 = 7. A pending GPU pod adds a node of the cheaper one with its GPUs; on the
    // base prices alone it would be `cheapbase`.
    let yaml = |gpu_prices: bool| {
        let (a, b) = if gpu_prices { (5.0, 1.0) } else { (0.0, 0.0) };
        format!(
            "name: e
duration: 20m
nodePools:
  - name: cheapbase
    count: 0
    allocatable: {{cpu: 16, memory: 64Gi, nvidia.com/gpu: 4}}
    pricePerHour: 1.0
    pricePerGpuHour: {a}
    autoscaling: {{minSize: 0, maxSize: 3, provisioningDelay: {{constant: 60s}}}}
  - name: cheapgpus
    count: 0
    allocatable: {{cpu: 16, memory: 64Gi, nvidia.com/gpu: 4}}
    pricePerHour: 3.0
    pricePerGpuHour: {b}
    autoscaling: {{minSize: 0, maxSize: 3, provisioningDelay: {{constant: 60s}}}}
clusterAutoscaler: {{expander: price}}
deployments:
  - name: job
    replicas: 1
    template: {{requests: {{cpu: 1, memory: 1Gi, nvidia.com/gpu: 1}}}}
"
        )
    };
    let added = |gpu_prices: bool| {
        let (_d, out) = run_yaml(&yaml(gpu_prices), &["--no-charts"]);
        let s = summary(&out);
        assert_eq!(s["pods_running_end"], "1", "{s:?}");
        let ts = csv_rows(&out.join("timeseries.csv"));
        let last = ts.last().expect("rows").clone();
        (last["nodes_cheapbase"].clone(), last["nodes_cheapgpus"].clone(), s["cost"].clone())
    };
    let (base, gpus, cost) = added(true);
    assert_eq!((base.as_str(), gpus.as_str()), ("0", "1"), "the GPU-inclusive price decides");
    // The node runs from its registration (about 70 s) to the end at 7 an hour.
    let cost: f64 = cost.parse().expect("cost");
    assert!(cost > 7.0 * 18.0 / 60.0 && cost < 7.0 * 19.0 / 60.0, "{cost}");
    let (base, gpus, _) = added(false);
    assert_eq!((base.as_str(), gpus.as_str()), ("1", "0"), "without GPU prices the base price decides");
}

#[test]
fn an_inflation_the_run_is_too_short_for_is_bad_input() {
    let fixture = repo().join(FIXTURE).join("fgd.yaml");
    let path = fixture.to_string_lossy().into_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    // `run` and `validate` check the scenario's own seed when they load it.
    for args in [
        &["run", &path, "--duration", "60s", "--out", "o", "--quiet"][..],
        &["validate", &path, "--duration", "60s"],
    ] {
        let sub = args[0];
        let o = run_in(dir.path(), args);
        assert_eq!(o.code, 2, "{sub}: {}", o.stderr);
        let e = &o.stderr;
        assert!(e.contains("fgd.yaml: duration: 1m is too short for podTraces[0] `openb`"), "{sub}: {e}");
        assert!(e.contains("inflation makes") && e.contains("expected a duration of at least"), "{sub}: {e}");
        assert!(!e.contains("internal error"), "{sub}: {e}");
    }
    assert!(!dir.path().join("o").exists(), "nothing written");

    // Another seed is checked when its run is built: a typed input error naming the field.
    let s = clustersim::runner::load(&fixture, &[], None).expect("the fixture loads");
    let mut short = s.clone();
    short.duration.0 = clustersim::engine::SimDuration::from_secs(60);
    match Simulation::new(&short, 43) {
        Err(RunError::Input { field, message }) => {
            assert_eq!(field, "duration");
            assert!(
                message.contains("podTraces[0] `openb`") && message.contains("pods, one per 1s"),
                "{message}"
            );
        }
        Err(other) => panic!("expected an input error, got {other}"),
        Ok(_) => panic!("a run of 60 s built for an inflation of about 100 pods"),
    }
    match clustersim::runner::simulate(&short, 43, None) {
        Err(e @ RunError::Input { .. }) => {
            let as_file = e.in_scenario(&fixture).expect("an input error");
            assert!(as_file.to_string().contains("fgd.yaml: duration: 1m is too short"), "{as_file}");
        }
        other => panic!("expected an input error, got {:?}", other.map(|_| ())),
    }
    // A node set without GPUs: the inflation itself is refused at its path.
    let mut no_gpus = s.clone();
    for p in &mut no_gpus.node_pools {
        p.allocatable.gpu.0 = 0;
    }
    match Simulation::new(&no_gpus, 42) {
        Err(RunError::Input { field, message }) => {
            assert_eq!(field, "podTraces[0].inflation");
            assert!(message.contains("no GPUs"), "{message}");
        }
        other => panic!("expected an input error, got {:?}", other.map(|_| ()).err()),
    }
}

#[test]
fn a_sweep_refuses_a_point_too_short_for_its_inflation() {
    let fixture = repo().join(FIXTURE).join("fgd.yaml");
    let path = fixture.to_string_lossy().into_owned();
    let dir = tempfile::tempdir().expect("temp dir");
    let o =
        run_in(dir.path(), &["sweep", &path, "--out", "sw", "-q", "--no-charts", "-L", "duration", "60s,2h"]);
    assert_eq!(o.code, 2, "refused as bad input, not failed: {}", o.stderr);
    assert!(o.stderr.contains("1 run refused"), "{}", o.stderr);
    let runs = dir.path().join("sw/runs");
    let failed = std::fs::read_to_string(runs.join("run-000000.failed")).expect("the refused run's file");
    let first = failed.lines().next().expect("identity line");
    assert!(first.ends_with(" input"), "recorded as refused input: {first}");
    assert!(failed.contains("refused") && failed.contains("duration: 1m is too short"), "{failed}");
    assert!(runs.join("run-000001.csv").exists(), "the other point ran");
    let rows = csv_rows(&dir.path().join("sw/runs.csv"));
    assert_eq!(rows.len(), 1);
}
