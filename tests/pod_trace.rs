//! Pod-trace replay (`podTraces`) and node lists (`nodeLists`): a replay whose summary and
//! `pods.csv` are checked against numbers computed from the file itself (pods created =
//! rows; with ample capacity each pod's Running time = its duration; arrival times),
//! units, end time vs duration, pods that never fit, `timeScale`, `durationScale`,
//! `window`, `maxRows`, `rateMultiplier`, unsorted files, GPU-model constraints on node
//! lists, the Alibaba GPU preset on the synthetic fixture (and on the real trace when
//! `../shared/data` is present), and bad input (exit 2 naming the file, line and column).

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;

const FIXTURE: &str = "tests/fixtures/alibaba-gpu-mini";

/// Runs `yaml` (written as `s.yaml`) with `files` beside it; returns the folder and output.
fn run_with(files: &[(&str, &str)], yaml: &str, extra: &[&str]) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    std::fs::write(dir.path().join("s.yaml"), yaml).expect("write");
    let mut args = vec!["run", "s.yaml", "--out", "out", "--quiet", "--pods", "--no-charts"];
    args.extend_from_slice(extra);
    let o = run_in(dir.path(), &args);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let out = dir.path().join("out");
    (dir, out)
}

const PLAIN_HEADER: &str = "pod,arrival_ms,duration_ms,cpu_millicores,ram_bytes\n";

fn plain_scenario(extra: &str) -> String {
    format!(
        "name: t
duration: 1h
nodePools:
  - name: big
    count: 4
    allocatable: {{cpu: 64, memory: 256Gi, pods: 110}}
    kubelet: {{imagePull: {{constant: 0s}}, containerStart: {{constant: 0s}}}}
podTraces:
  - name: jobs
    file: pods.csv
    preset: plain
{extra}"
    )
}

/// `pods.csv` rows of trace pods, in creation order.
fn trace_pods(out: &Path) -> Vec<BTreeMap<String, String>> {
    csv_rows(&out.join("pods.csv")).into_iter().filter(|r| r["owner"].starts_with("PodTrace/")).collect()
}

fn secs(r: &BTreeMap<String, String>, k: &str) -> f64 {
    r[k].parse::<f64>().unwrap_or_else(|_| panic!("{k} = {:?}", r[k]))
}

#[test]
fn replay_matches_the_file() {
    // 50 pods with known arrivals and durations; the cluster holds them all at once.
    let mut csv = PLAIN_HEADER.to_string();
    let mut expect = Vec::new();
    for i in 0..50u64 {
        let arrival_ms = i * 7_300 + (i % 3) * 1_000;
        let duration_ms = 1_000 + (i * 37_000) % 600_000;
        csv.push_str(&format!("p{i},{arrival_ms},{duration_ms},{},{}\n", 250 + 10 * i, (i + 1) << 20));
        expect.push((arrival_ms as f64 / 1e3, duration_ms as f64 / 1e3));
    }
    let (_d, out) = run_with(&[("pods.csv", &csv)], &plain_scenario(""), &[]);
    let s = summary(&out);
    assert_eq!(s["trace_jobs_rows"], "50");
    assert_eq!(s["trace_jobs_pods_created"], "50");
    assert_eq!(s["pods_created"], "50");
    assert_eq!(s["trace_jobs_pods_never_fit"], "0");
    assert_eq!(s["trace_jobs_pods_pending_at_end"], "0");
    assert_eq!(s["trace_jobs_pods_succeeded"], "50");
    let pods = trace_pods(&out);
    assert_eq!(pods.len(), 50);
    for (p, (arrival, duration)) in pods.iter().zip(&expect) {
        assert!((secs(p, "created_s") - arrival).abs() < 1e-6, "{p:?}");
        assert_eq!(p["owner"], "PodTrace/jobs");
        assert_eq!(p["phase"], "Succeeded");
        let ran = secs(p, "finished_s") - secs(p, "running_s");
        assert!((ran - duration).abs() < 1e-6, "Running time {ran} != duration {duration}: {p:?}");
    }
}

#[test]
fn end_times_and_units() {
    // Seconds with an end column, cores and GiB: the same pods as a plain trace in ms.
    let csv = "name,start,stop,cores,gib\na,0,90,0.5,1\nb,1.5,2,2,0.25\n";
    let yaml = "name: t
duration: 1h
nodePools:
  - name: big
    count: 1
    allocatable: {cpu: 8, memory: 16Gi}
podTraces:
  - name: u
    file: t.csv
    columns:
      name: name
      arrival: {column: start, unit: s}
      end: {column: stop, unit: s}
      cpu: {column: cores, unit: cores}
      memory: {column: gib, unit: GiB}
";
    let (_d, out) = run_with(&[("t.csv", csv)], yaml, &[]);
    let pods = trace_pods(&out);
    assert_eq!(pods.len(), 2);
    let ran: Vec<f64> = pods.iter().map(|p| secs(p, "finished_s") - secs(p, "running_s")).collect();
    assert!((ran[0] - 90.0).abs() < 1e-6 && (ran[1] - 0.5).abs() < 1e-6, "{ran:?}");
    assert!((secs(&pods[1], "created_s") - 1.5).abs() < 1e-9);
    // 0.5 cores + 2 cores of 8, 1 GiB + 0.25 GiB of 16 at the peak.
    let s = summary(&out);
    assert!((num(&s, "cpu_allocation_peak") - 2.5 / 8.0).abs() < 1e-6, "{s:?}");
    assert!((num(&s, "memory_allocation_peak") - 1.25 / 16.0).abs() < 1e-6, "{s:?}");
}

#[test]
fn pods_that_never_fit_are_counted_and_stay_pending() {
    let csv = format!("{PLAIN_HEADER}a,0,1000,1000,1\nhuge,10,1000,100000,1\nb,20,1000,1000,1\n");
    let (_d, out) = run_with(&[("pods.csv", &csv)], &plain_scenario(""), &[]);
    let s = summary(&out);
    assert_eq!(s["trace_jobs_pods_created"], "3");
    assert_eq!(s["trace_jobs_pods_never_fit"], "1");
    assert_eq!(s["trace_jobs_pods_pending_at_end"], "1");
    assert_eq!(s["trace_jobs_pods_succeeded"], "2");
}

#[test]
fn time_scale_duration_scale_window_and_max_rows() {
    let mut csv = PLAIN_HEADER.to_string();
    for i in 0..20u64 {
        csv.push_str(&format!("p{i},{},{},100,1\n", i * 10_000, 4_000));
    }
    // Rows 5..15 by the window [50 s, 150 s), at most 6 of them, twice as fast, durations ×2.5.
    let extra = "    timeScale: 0.5\n    durationScale: 2.5\n    window: {from: 50s, to: 150s}\n    maxRows: 6\n    startAt: 100s\n";
    let (_d, out) = run_with(&[("pods.csv", &csv)], &plain_scenario(extra), &[]);
    let pods = trace_pods(&out);
    assert_eq!(pods.len(), 6);
    for (k, p) in pods.iter().enumerate() {
        // Row 5 + k arrives at (5 + k) × 10 s; offset from the window's start, halved.
        let want = 100.0 + (k as f64 * 10.0) * 0.5;
        assert!((secs(p, "created_s") - want).abs() < 1e-6, "{k}: {p:?}");
        assert!((secs(p, "finished_s") - secs(p, "running_s") - 10.0).abs() < 1e-6, "{p:?}");
    }
    assert_eq!(summary(&out)["trace_jobs_rows"], "6");
}

#[test]
fn rate_multiplier_makes_copies_by_seed() {
    let mut csv = PLAIN_HEADER.to_string();
    for i in 0..400u64 {
        csv.push_str(&format!("p{i},{},1000,10,1\n", i * 100));
    }
    let (_d, out) = run_with(&[("pods.csv", &csv)], &plain_scenario("    rateMultiplier: 2\n"), &[]);
    assert_eq!(summary(&out)["trace_jobs_pods_created"], "800");
    let (_d, a) = run_with(&[("pods.csv", &csv)], &plain_scenario("    rateMultiplier: 1.5\n"), &[]);
    let (_e, b) =
        run_with(&[("pods.csv", &csv)], &plain_scenario("    rateMultiplier: 1.5\n"), &["--seed", "77"]);
    let na = num(&summary(&a), "trace_jobs_pods_created");
    let nb = num(&summary(&b), "trace_jobs_pods_created");
    // 400 + Binomial(400, 0.5): within 6 standard deviations (sd = 10) of 600.
    for n in [na, nb] {
        assert!((n - 600.0).abs() < 60.0, "{n}");
    }
    assert_ne!(na, nb, "another seed draws other copies");
}

#[test]
fn unsorted_files_are_refused_unless_sorted_false() {
    let csv = format!("{PLAIN_HEADER}a,5000,1000,10,1\nb,1000,1000,10,1\nc,3000,1000,10,1\n");
    let e = fails_with(&[("pods.csv", &csv)], &plain_scenario(""));
    assert!(
        e.contains("pods.csv") && e.contains("line 3") && e.contains("arrival_ms") && e.contains("sorted"),
        "{e}"
    );
    let (_d, out) = run_with(&[("pods.csv", &csv)], &plain_scenario("    sorted: false\n"), &[]);
    let created: Vec<f64> = trace_pods(&out).iter().map(|p| secs(p, "created_s")).collect();
    assert_eq!(created, vec![0.0, 2.0, 4.0], "sorted by arrival, offsets from the earliest row");
}

#[test]
fn bad_rows_are_exit_2_with_file_line_and_column() {
    for (csv, needles) in [
        (format!("{PLAIN_HEADER}a,0,1000,10,1\nb,1,-5,10,1\n"), &["line 3", "duration_ms", "negative"][..]),
        (format!("{PLAIN_HEADER}a,0,1000,,1\n"), &["line 2", "cpu_millicores", "empty"][..]),
        (format!("{PLAIN_HEADER}a,0,1000,10\n"), &["line 2", "field"][..]),
        (format!("{PLAIN_HEADER}a,x,1000,10,1\n"), &["line 2", "arrival_ms", "`x`"][..]),
        (
            "pod,arrival,duration_ms,cpu_millicores,ram_bytes\n".to_string(),
            &["arrival_ms", "columns.arrival"][..],
        ),
        (PLAIN_HEADER.to_string(), &["no data rows"][..]),
    ] {
        let e = fails_with(&[("pods.csv", &csv)], &plain_scenario(""));
        assert!(e.contains("pods.csv"), "{e}");
        assert!(e.contains("podTraces[0]"), "{e}");
        for n in needles {
            assert!(e.contains(n), "missing {n:?} in: {e}");
        }
    }
    let e = fails_with(&[], &plain_scenario(""));
    assert!(e.contains("pods.csv") && e.contains("cannot read"), "{e}");
    // Mapping errors name the field.
    let yaml = plain_scenario(
        "    columns: {cpu: {column: cpu_millicores, unit: kilocores}}\n    rateMultiplier: -1\n",
    );
    let e = fails_with(&[("pods.csv", &format!("{PLAIN_HEADER}a,0,1,1,1\n"))], &yaml);
    assert!(e.contains("podTraces[0].columns.cpu.unit") && e.contains("kilocores"), "{e}");
    assert!(e.contains("podTraces[0].rateMultiplier"), "{e}");
}

#[test]
fn node_lists_become_pools_and_keep_names() {
    let nodes = "host,cores,mem_gb,gpus,gpu_type,rack\nn1,8,32,0,,r1\nn2,8,32,0,,r1\nn3,16,64,4,T4,r2\nn4,8,32,0,,r2\n";
    // Three 6-core pods, then a pod asking for one T4 GPU (or an A100, which no node has)
    // and one asking for five V100 or T4 GPUs (the T4 node has four). A pod naming only
    // models no node has is refused (tests/gpu_sharing.rs).
    let pods = "id,t,d,cpu,gpu,model\na,0,100,6,0,\nb,1,100,6,0,\nc,2,100,6,0,\ng,3,100,1,1,T4|A100\nv,4,100,1,5,V100|T4\n";
    let yaml = "name: t
duration: 1h
nodeLists:
  - name: dc
    file: nodes.csv
    zone: z1
    columns:
      name: host
      cpu: {column: cores, unit: cores}
      memory: {column: mem_gb, unit: GB}
      gpu: gpus
      gpuModel: gpu_type
podTraces:
  - name: jobs
    file: pods.csv
    columns:
      name: id
      arrival: {column: t, unit: s}
      duration: {column: d, unit: s}
      cpu: {column: cpu, unit: cores}
      gpu: {column: gpu, unit: count}
      gpuModel: model
";
    let (_d, out) = run_with(&[("nodes.csv", nodes), ("pods.csv", pods)], yaml, &[]);
    let s = summary(&out);
    assert_eq!(s["nodes"], "4");
    // Two shapes: dc-0 (the three 8-core nodes) and dc-1 (the T4 node).
    assert!(s.contains_key("cost_pool_dc-0") && s.contains_key("cost_pool_dc-1"), "{s:?}");
    assert!(!s.contains_key("cost_pool_dc-2"), "{s:?}");
    let placed: Vec<String> = trace_pods(&out).iter().map(|p| p["node"].clone()).collect();
    assert!(placed[..3].iter().all(|n| ["n1", "n2", "n3", "n4"].contains(&n.as_str())), "{placed:?}");
    assert_eq!(placed[3], "n3", "the T4 pod goes to the T4 node");
    assert_eq!(placed[4], "", "no node has five T4 or V100 GPUs: {placed:?}");
    assert_eq!(s["trace_jobs_pods_never_fit"], "1");
}

/// Runs an Alibaba-GPU-preset scenario and checks it against its two files: pods created
/// = rows, never-fit pods, each Succeeded pod's Running time = deletion − creation, and
/// every pod with `gpu_spec` on a node of one of those models.
fn check_alibaba(scenario: &Path, pods_file: &Path, nodes_file: &Path, extra: &[&str], never_fit: u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = scenario.to_string_lossy().into_owned();
    let mut args = vec!["run", path.as_str(), "--out", "out", "--quiet", "--pods", "--no-charts"];
    args.extend_from_slice(extra);
    let o = run_in(dir.path(), &args);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let out = dir.path().join("out");
    let s = summary(&out);
    let rows = csv_rows(pods_file);
    let models: BTreeMap<String, String> =
        csv_rows(nodes_file).into_iter().map(|r| (r["sn"].clone(), r["model"].clone())).collect();
    assert_eq!(num(&s, "trace_openb_rows") as usize, rows.len());
    assert_eq!(num(&s, "trace_openb_pods_created") as usize, rows.len());
    assert_eq!(num(&s, "trace_openb_pods_never_fit") as u64, never_fit);
    let pods = trace_pods(&out);
    assert_eq!(pods.len(), rows.len());
    let mut checked = 0;
    let first: f64 = rows[0]["creation_time"].parse().unwrap();
    for (p, r) in pods.iter().zip(&rows) {
        let arrival = r["creation_time"].parse::<f64>().unwrap() - first;
        assert!((secs(p, "created_s") - arrival).abs() < 1e-6, "{p:?} {r:?}");
        if p["phase"] == "Succeeded" {
            let want =
                r["deletion_time"].parse::<f64>().unwrap() - r["creation_time"].parse::<f64>().unwrap();
            assert!((secs(p, "finished_s") - secs(p, "running_s") - want).abs() < 1e-6, "{p:?} {r:?}");
            checked += 1;
        }
        if !r["gpu_spec"].is_empty() && !p["node"].is_empty() {
            let model = &models[&p["node"]];
            assert!(r["gpu_spec"].split('|').any(|m| m == model), "{} on {} ({model})", r["name"], p["node"]);
        }
    }
    assert!(checked > 0);
}

#[test]
fn alibaba_preset_on_the_synthetic_fixture() {
    let dir = repo().join(FIXTURE);
    check_alibaba(
        &dir.join("scenario.yaml"),
        &dir.join("openb_pod_list_default.csv"),
        &dir.join("openb_node_list_all_node.csv"),
        &[],
        1,
    );
}

#[test]
fn alibaba_gpu_trace_when_present() {
    let data = repo().join("../shared/data/alibaba-gpu-v2023");
    if !data.is_dir() {
        eprintln!(
            "SKIPPED: ../shared/data/alibaba-gpu-v2023 is absent (the synthetic fixture covers the same path)"
        );
        return;
    }
    check_alibaba(
        &repo().join("scenarios/trace-replay-pods.yaml"),
        &data.join("openb_pod_list_default.csv"),
        &data.join("openb_node_list_all_node.csv"),
        &[],
        0,
    );
}

#[test]
fn node_list_pools_cannot_be_overridden_or_written() {
    let dir = repo().join(FIXTURE);
    let path = dir.join("scenario.yaml").to_string_lossy().into_owned();
    let tmp = tempfile::tempdir().expect("temp dir");
    let o = run_in(tmp.path(), &["run", &path, "--set", "nodePools.0.count=3", "--out", "o", "--quiet"]);
    // `run --set` applies to the file before the lists are expanded: there is no pool 0.
    assert_eq!(o.code, 2, "{}", o.stderr);
    let yaml = format!(
        "{}\nnodePools:\n  - name: x\n    count: 1\n    allocatable: {{cpu: 1, memory: 1Gi}}\n    fromNodeList: openb\n",
        "name: t\nduration: 1m"
    );
    let e = fails_with(&[], &yaml);
    assert!(e.contains("nodePools[0].fromNodeList"), "{e}");
    // A sweep derives each point from the loaded scenario, where the list's pools exist:
    // overriding one is refused (it would be made again from the list and lost).
    let o = run_in(tmp.path(), &["sweep", &path, "-L", "nodePools.0.count", "1,2", "--out", "sw", "--quiet"]);
    assert_eq!(o.code, 2, "{}{}", o.stdout, o.stderr);
    assert!(o.stderr.contains("made from `nodeLists` entry `openb`"), "{}", o.stderr);
    // Sweeping the replay's settings works, and each point reads the same checked file.
    let o = run_in(
        tmp.path(),
        &["sweep", &path, "-L", "podTraces.0.rateMultiplier", "1,2", "--out", "sw2", "--quiet"],
    );
    assert_eq!(o.code, 0, "{}{}", o.stdout, o.stderr);
    let runs = csv_rows(&tmp.path().join("sw2/runs.csv"));
    let created: Vec<&str> = runs.iter().map(|r| r["trace_openb_pods_created"].as_str()).collect();
    assert_eq!(created, vec!["201", "402"]);
}

#[test]
fn bad_node_lists_are_exit_2_with_file_line_and_column() {
    let yaml = "name: t
duration: 1m
nodeLists:
  - name: dc
    file: nodes.csv
    columns:
      name: host
      cpu: {column: cores, unit: cores}
      memory: {column: mem, unit: GiB}
      gpu: gpus
      gpuModel: model
";
    let h = "host,cores,mem,gpus,model\n";
    for (csv, needles) in [
        (format!("{h}a,8,32,0,\na,8,32,0,\n"), &["line 3", "host", "listed twice", "line 2"][..]),
        (format!("{h}a,8,32,0,T4\n"), &["line 2", "model", "no GPUs"][..]),
        (format!("{h}a,8,32,1.5,T4\n"), &["line 2", "gpus", "whole number"][..]),
        (format!("{h}a,0,32,0,\n"), &["line 2", "cores", "no CPU"][..]),
        (format!("{h}a,8,-1,0,\n"), &["line 2", "mem", "negative"][..]),
        (
            "host,cpu,mem,gpus,model\na,8,32,0,\n".to_string(),
            &["no column `cores`", "columns.cpu", "`cpu`"][..],
        ),
    ] {
        let e = fails_with(&[("nodes.csv", &csv)], yaml);
        assert!(e.contains("nodes.csv") && e.contains("nodeLists[0]"), "{e}");
        for n in needles {
            assert!(e.contains(n), "missing {n:?} in: {e}");
        }
    }
    let e = fails_with(&[("nodes.csv", "host,cores,mem\na,1,1\n")], &yaml.replace("unit: GiB", "unit: gigs"));
    assert!(e.contains("nodeLists[0].columns.memory.unit"), "{e}");
}

/// Random mutations of the fixture's two CSV files (a byte replaced by a digit, a sign,
/// a separator, a quote, a newline or a letter; a line dropped or repeated) go through the
/// library as `run` takes them: load, then run. Nothing may panic: a case is either refused
/// with an error naming a file, or runs.
#[test]
fn mutated_trace_files_never_panic() {
    use clustersim::runner;
    use rand_core::{Rng, SeedableRng};
    let src = repo().join(FIXTURE);
    let nodes = std::fs::read(src.join("openb_node_list_all_node.csv")).expect("read");
    let pods = std::fs::read(src.join("openb_pod_list_default.csv")).expect("read");
    let yaml = std::fs::read_to_string(src.join("scenario.yaml")).expect("read");
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("scenario.yaml"), yaml).expect("write");
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(15);
    let alphabet = b"0123456789-+.,\"\n\rexZ|;= ";
    let (mut refused, mut ran) = (0, 0);
    for case in 0..300 {
        let mut files = [nodes.clone(), pods.clone()];
        let which = (rng.next_u64() % 2) as usize;
        let f = &mut files[which];
        for _ in 0..1 + rng.next_u64() % 3 {
            let at = (rng.next_u64() % f.len() as u64) as usize;
            match rng.next_u64() % 4 {
                0 | 1 => f[at] = alphabet[(rng.next_u64() % alphabet.len() as u64) as usize],
                2 => {
                    let end = f[at..].iter().position(|&b| b == b'\n').map_or(f.len(), |p| at + p + 1);
                    f.drain(at..end);
                }
                _ => {
                    let line: Vec<u8> = f[at..].iter().take_while(|&&b| b != b'\n').copied().collect();
                    f.splice(at..at, line.into_iter().chain([b'\n']));
                }
            }
        }
        std::fs::write(dir.path().join("openb_node_list_all_node.csv"), &files[0]).expect("write");
        std::fs::write(dir.path().join("openb_pod_list_default.csv"), &files[1]).expect("write");
        let file = dir.path().join("scenario.yaml");
        let outcome = std::panic::catch_unwind(|| match runner::load(&file, &[], None) {
            Err(e) => Err(e.to_string()),
            Ok(s) => runner::simulate(&s, s.seed, None).map(|_| ()).map_err(|e| e.to_string()),
        });
        match outcome {
            Err(_) => panic!("case {case} panicked (mutated file {which})"),
            Ok(Err(e)) => {
                assert!(e.contains(".csv"), "case {case}: the error names no file: {e}");
                refused += 1;
            }
            Ok(Ok(())) => ran += 1,
        }
    }
    assert!(refused > 0 && ran > 0, "refused {refused}, ran {ran}");
}

#[test]
fn never_fit_looks_at_every_zone_of_a_pool() {
    // A pool over two zones; the trace's pods select the second zone: they fit.
    let csv = format!("{PLAIN_HEADER}a,0,1000,1000,1\n");
    let yaml = "name: t
duration: 1h
nodePools:
  - name: big
    count: 2
    zones: [za, zb]
    allocatable: {cpu: 4, memory: 8Gi}
podTraces:
  - name: jobs
    file: pods.csv
    preset: plain
    template:
      nodeSelector: {topology.kubernetes.io/zone: zb}
";
    let (_d, out) = run_with(&[("pods.csv", &csv)], yaml, &[]);
    let s = summary(&out);
    assert_eq!(s["trace_jobs_pods_never_fit"], "0");
    assert_eq!(s["trace_jobs_pods_succeeded"], "1");
    assert_eq!(trace_pods(&out)[0]["node"], "big-1");
}
