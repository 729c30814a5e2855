//! Traffic end to end: Little's law in every service of every scenario, the trace-replay
//! path on the synthetic fixture, pods that stop take their requests with them, and bad
//! traffic input (trace files, rates) exits 2 with a located message.

mod common;
use common::*;
use std::collections::BTreeMap;
use std::path::Path;

fn run_file(file: &Path, extra: &[&str]) -> (tempfile::TempDir, BTreeMap<String, String>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let f = file.to_string_lossy().into_owned();
    let mut args = vec!["run", &f, "--out", "out", "--quiet"];
    args.extend_from_slice(extra);
    let o = run_in(dir.path(), &args);
    assert_eq!(o.code, 0, "{}: {}", file.display(), o.stderr);
    let s = summary(&dir.path().join("out"));
    (dir, s)
}

/// Every service of every shipped scenario (shortened) and of the fixture obeys L = λW,
/// with L from the integral of the number in system and W from arrival and finish times.
#[test]
fn littles_law_holds_in_every_service_of_every_scenario() {
    let mut files: Vec<(std::path::PathBuf, Vec<&str>)> =
        vec![(repo().join("tests/fixtures/trace-replay.yaml"), vec![])];
    for entry in std::fs::read_dir(repo().join("scenarios")).expect("scenarios/") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "yaml") {
            continue; // scenarios/sweeps/, scenarios/studies/
        }
        let text = std::fs::read_to_string(&path).expect("read");
        if !text.contains("service:") {
            continue;
        }
        if text.contains("shared/data/") && !repo().join("../shared/data").is_dir() {
            eprintln!("SKIPPED {}: ../shared/data is absent", path.display());
            continue;
        }
        files.push((path, vec!["--duration", "30m"]));
    }
    assert!(files.len() >= 2, "at least the fixture and web-service.yaml");
    for (file, extra) in files {
        let (_dir, s) = run_file(&file, &extra);
        let services: Vec<String> = s
            .keys()
            .filter_map(|k| {
                k.strip_prefix("svc_").and_then(|r| r.strip_suffix("_mean_in_system")).map(String::from)
            })
            .collect();
        assert!(!services.is_empty(), "{}: no service columns", file.display());
        for name in services {
            let l = num(&s, &format!("svc_{name}_mean_in_system"));
            // The rate from exact counts (the rate column is rounded to 6 decimals).
            let lambda = num(&s, &format!("svc_{name}_requests")) / num(&s, "simulated_s");
            let w = num(&s, &format!("svc_{name}_mean_time_in_system_ms")) / 1e3;
            assert!(
                // Columns carry 6 decimals: allow their rounding, and 1e-6 relative.
                (l - lambda * w).abs() <= 1e-6 + 1e-6 * l,
                "{}: service {name}: L = {l}, λW = {}",
                file.display(),
                lambda * w
            );
        }
    }
}

#[test]
fn trace_replay_fixture_serves_every_trace_request() {
    let (_dir, s) = run_file(&repo().join("tests/fixtures/trace-replay.yaml"), &[]);
    // 200 rows in the fixture, each arriving once (rateMultiplier 1).
    assert_eq!(num(&s, "svc_genai_requests"), 200.0);
    let outcomes = num(&s, "svc_genai_succeeded")
        + num(&s, "svc_genai_rejected_queue_full")
        + num(&s, "svc_genai_rejected_no_endpoint")
        + num(&s, "svc_genai_timed_out")
        + num(&s, "svc_genai_failed");
    assert_eq!(outcomes, 200.0, "every request ends in exactly one outcome by the end of the run");
    // Doubling the rate doubles the arrivals exactly (whole multiplier).
    let (_dir, s2) = run_file(
        &repo().join("tests/fixtures/trace-replay.yaml"),
        &["--set", "deployments.0.service.load.trace.rateMultiplier=2"],
    );
    assert_eq!(num(&s2, "svc_genai_requests"), 400.0);
}

#[test]
fn the_real_genai_trace_replays_when_present() {
    let trace = repo().join("../shared/data/alibaba-genai-v2026/lora_request_trace.csv");
    if !trace.is_file() {
        eprintln!("SKIPPED: {} is absent", trace.display());
        return;
    }
    let (_dir, s) = run_file(&repo().join("scenarios/trace-replay-genai.yaml"), &[]);
    assert_eq!(num(&s, "svc_genai_requests"), 26_823.0);
}

#[test]
fn a_scaled_down_pod_takes_its_requests_with_it() {
    // One pod, one worker, 1 s service times, 5 requests/s: the pod is always busy with a
    // queue when it is deleted at 60 s; its queued and in-flight requests fail.
    let yaml = "
duration: 120s
nodePools: [{name: p, count: 2, allocatable: {cpu: 4, memory: 8Gi}}]
deployments:
  - name: web
    replicas: 1
    scale: [{at: 60s, replicas: 0}]
    template: {requests: {cpu: 1}}
    service:
      serviceTime: {constant: 1s}
      load: {poisson: {rate: 5}}
";
    let (_dir, out) = run_yaml(yaml, &[]);
    let s = summary(&out);
    assert!(
        num(&s, "svc_web_failed") > 10.0,
        "queued requests fail with the pod: {:?}",
        s.get("svc_web_failed")
    );
    assert!(num(&s, "svc_web_rejected_no_endpoint") > 100.0, "no Ready pod after 60 s");
    assert_eq!(num(&s, "pods_deleted"), 1.0);
}

struct Bad {
    name: &'static str,
    csv: Option<&'static str>,
    load: &'static str,
    expect: &'static [&'static str],
}

const SERVICE: &str = "
duration: 60s
nodePools: [{name: p, count: 1, allocatable: {cpu: 4, memory: 8Gi}}]
deployments:
  - name: web
    replicas: 1
    template: {requests: {cpu: 1}}
    service:
      load: ";

const BAD: &[Bad] = &[
    Bad {
        name: "missing trace file",
        csv: None,
        load: "{trace: {file: nope.csv, timeColumn: t}}",
        expect: &["nope.csv", "deployments[0].service.load.trace"],
    },
    Bad {
        name: "no such column",
        csv: Some("t,s\n1,0.5\n"),
        load: "{trace: {file: t.csv, timeColumn: time}}",
        expect: &["t.csv", "time", "`t`, `s`"],
    },
    Bad {
        name: "unparsable timestamp",
        csv: Some("t,s\n1,0.5\nsoon,0.5\n"),
        load: "{trace: {file: t.csv, timeColumn: t}}",
        expect: &["t.csv", "line 3", "soon"],
    },
    Bad {
        name: "non-monotone timestamps",
        csv: Some("t,s\n5,0.5\n7,0.5\n6,0.5\n"),
        load: "{trace: {file: t.csv, timeColumn: t}}",
        expect: &["t.csv", "line 4"],
    },
    Bad {
        name: "negative service time",
        csv: Some("t,s\n1,0.5\n2,-3\n"),
        load: "{trace: {file: t.csv, timeColumn: t, serviceTimeColumn: s}}",
        expect: &["t.csv", "line 3", "-3"],
    },
    Bad {
        name: "empty trace",
        csv: Some("t,s\n"),
        load: "{trace: {file: t.csv, timeColumn: t}}",
        expect: &["t.csv"],
    },
    Bad {
        name: "negative rate",
        csv: None,
        load: "{poisson: {rate: -5}}",
        expect: &["deployments[0].service.load.poisson.rate", "expected a finite rate"],
    },
    Bad {
        name: "rate that is not a number",
        csv: None,
        load: "{steps: [{at: 0s, rate: .nan}]}",
        expect: &["deployments[0].service.load.steps[0].rate"],
    },
    Bad {
        name: "diurnal amplitude above the mean",
        csv: None,
        load: "{diurnal: {mean: 10, amplitude: 20}}",
        expect: &["deployments[0].service.load.diurnal.amplitude"],
    },
];

#[test]
fn bad_traffic_input_exits_2_with_file_line_or_field() {
    for case in BAD {
        let dir = tempfile::tempdir().expect("temp dir");
        if let Some(csv) = case.csv {
            std::fs::write(dir.path().join("t.csv"), csv).expect("write csv");
        }
        let service_time = if case.load.contains("serviceTimeColumn") {
            ""
        } else {
            "      serviceTime: {constant: 10ms}\n"
        };
        std::fs::write(dir.path().join("s.yaml"), format!("{SERVICE}{}\n{service_time}", case.load))
            .expect("write");
        let o = run_in(dir.path(), &["run", "s.yaml", "--out", "out"]);
        assert_eq!(o.code, 2, "{}: exit {}; {}", case.name, o.code, o.stderr);
        assert!(!o.stderr.contains("panicked"), "{}: {}", case.name, o.stderr);
        for e in case.expect {
            assert!(o.stderr.contains(e), "{}: expected {e:?} in:\n{}", case.name, o.stderr);
        }
    }
}

#[test]
fn pod_cpu_usage_follows_the_work_served_like_metrics_server() {
    use clustersim::cluster::PodId;
    use clustersim::engine::{SimDuration, SimTime};
    use clustersim::scenario;
    use clustersim::sim::Simulation;
    // Two workers of 500m each, 20m idle. At 50 requests/s of 10 ms each, the busy-worker
    // average is 0.5, so usage ≈ 0.5 × 500m + 20m = 270m; saturated, 2 × 500m + 20m.
    let yaml = |rate: u32| {
        format!(
            "
duration: 600s
nodePools: [{{name: p, count: 1, allocatable: {{cpu: 4, memory: 8Gi}}}}]
deployments:
  - name: web
    replicas: 1
    template: {{requests: {{cpu: 1}}}}
    service:
      concurrency: 2
      cpuPerWorker: 500m
      idleCpu: 20m
      serviceTime: {{constant: 10ms}}
      load: {{poisson: {{rate: {rate}}}}}
"
        )
    };
    let usage_at = |rate: u32, t: u64| {
        let s = scenario::parse_str(&yaml(rate), Path::new("u.yaml")).expect("parses");
        let mut sim = Simulation::new(&s, 5).expect("builds");
        sim.step_until(SimTime::ZERO + SimDuration::from_secs(t));
        sim.traffic.pod_cpu_usage_milli(PodId(0)).expect("the pod is Ready")
    };
    // metrics-server publishes every 15 s: the value read at 301 s is the 285–300 s average.
    let light = usage_at(50, 301) as f64;
    assert!((light - 270.0).abs() < 30.0, "usage {light}m at 50 requests/s");
    assert_eq!(usage_at(1000, 301), 1020, "saturated: both workers busy the whole period");
    // Before the first scrape after the pod is Ready, only the idle baseline is known.
    assert_eq!(usage_at(1000, 5), 20);
}

#[test]
fn service_times_from_a_csv_column() {
    // The fixture's exec_time_seconds column as an empirical distribution.
    let fixture = repo().join("tests/fixtures/genai-sample.csv");
    let yaml = format!(
        "
duration: 10h
nodePools: [{{name: p, count: 1, allocatable: {{cpu: 64, memory: 64Gi}}}}]
deployments:
  - name: web
    replicas: 1
    template: {{requests: {{cpu: 1}}}}
    service:
      concurrency: 64
      serviceTimeCsv: {{file: {}, column: exec_time_seconds}}
      load: {{poisson: {{rate: 0.5}}}}
",
        fixture.display()
    );
    let (dir, out) = run_yaml(&yaml, &[]);
    let s = summary(&out);
    // 64 workers never saturate, so time in system ≈ the column's mean (27.6 s), up to
    // sampling noise over ≈ 18,000 requests (sd of the mean ≈ 0.2 s).
    let w = num(&s, "svc_web_mean_time_in_system_ms") / 1e3;
    assert!((w - 27.6).abs() < 1.5, "mean time in system {w} s");
    assert_eq!(num(&s, "svc_web_wait_probability"), 0.0);
    // A missing column names the file and the column.
    std::fs::write(
        dir.path().join("bad.yaml"),
        std::fs::read_to_string(dir.path().join("s.yaml"))
            .expect("read")
            .replace("exec_time_seconds", "nope"),
    )
    .expect("write");
    let o = run_in(dir.path(), &["validate", "bad.yaml"]);
    assert_eq!(o.code, 2);
    assert!(o.stderr.contains("genai-sample.csv") && o.stderr.contains("nope"), "{}", o.stderr);
}

#[test]
fn utilisation_and_usage_count_work_in_progress_behind_a_queue() {
    // One worker, 10 s requests, arrivals far faster than service: the worker is busy all
    // the time with a queue behind it. Every interval's utilisation is 1 and the scraped
    // CPU usage is exactly one worker's, not 0 and 2 alternating (a regression: work in
    // progress must count even when later requests are already assigned to the worker).
    let yaml = "
duration: 300s
sampleInterval: 5s
metricsServer: {resolution: 5s}
nodePools: [{name: p, count: 1, allocatable: {cpu: 4, memory: 8Gi}}]
deployments:
  - name: web
    replicas: 1
    template: {requests: {cpu: 1}}
    service:
      cpuPerWorker: 1
      serviceTime: {constant: 10s}
      load: {poisson: {rate: 2}}
";
    let (_dir, out) = run_yaml(yaml, &[]);
    let ts = std::fs::read_to_string(out.join("timeseries.csv")).expect("timeseries");
    let mut lines = ts.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect("column");
    let (u, c) = (col("svc_web_utilisation"), col("svc_web_cpu_usage_cores"));
    for line in lines.skip(3) {
        let f: Vec<&str> = line.split(',').collect();
        assert_eq!(f[u], "1.000000", "utilisation at {}", f[0]);
        assert_eq!(f[c], "1.000000", "cpu usage at {}", f[0]);
    }
}
