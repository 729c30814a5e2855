//! The budget check (`scenario::budget`): the reported inputs that aborted or ran for hours
//! are refused before anything runs, naming their field and an estimate (and accepted with
//! `Limits::none()`; none of them is run here), every shipped scenario passes, and the
//! memory estimate is within the stated factor of peak RSS measured on the development
//! machine (the figures and the commands that measured them are below).

use clustersim::scenario::budget::{self, Estimate, Limits, Outputs};
use clustersim::scenario::{self, Scenario, ScenarioError};
use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped scenarios read `../shared/data` beside the project.
fn shared_data() -> bool {
    repo().join("../shared/data").exists()
}

/// A scenario file with `--set` overrides, parsed but not validated (some cases are beyond
/// what validation allows too; the budget must refuse them on its own).
fn unvalidated(file: &str, sets: &[&str]) -> (Scenario, PathBuf) {
    let path = repo().join(file);
    let text = std::fs::read_to_string(&path).expect("the scenario reads");
    let mut s = scenario::parse_str(&text, &path).expect("the scenario parses");
    let sets: Vec<String> = sets.iter().map(|x| x.to_string()).collect();
    if !sets.is_empty() {
        s = scenario::overrides::apply(&s, &sets).expect("the overrides apply");
    }
    (s, path)
}

fn errors(r: Result<Estimate, ScenarioError>) -> Vec<scenario::FieldError> {
    match r {
        Err(ScenarioError::Invalid { errors, .. }) => errors,
        Err(e) => panic!("not a field error: {e}"),
        Ok(e) => panic!("accepted: {e}"),
    }
}

/// Asserts that `limits` refuse `s` with an error at `path` whose message gives an
/// estimate, and that `Limits::none()` accepts it.
fn refused(s: &Scenario, file: &Path, limits: &Limits, path: &str) -> String {
    let errs = errors(budget::check(s, file, limits));
    let e = errs.iter().find(|e| e.path == path).unwrap_or_else(|| panic!("no error at {path}: {errs:?}"));
    assert!(
        e.message.contains("estimate") || e.message.contains("about"),
        "{path}: the message gives no estimate: {}",
        e.message
    );
    assert!(e.message.contains("--no-limits"), "{}", e.message);
    budget::check(s, file, &Limits::none()).expect("--no-limits accepts it");
    let text = ScenarioError::Invalid { file: file.to_path_buf(), errors: errs }.to_string();
    assert!(text.contains(&format!("{}: {path}: ", file.display())), "{text}");
    text
}

#[test]
fn concurrency_2147483648_is_refused_for_its_worker_slots() {
    let (s, f) = unvalidated("scenarios/web-service.yaml", &["deployments.0.service.concurrency=2147483648"]);
    let msg = refused(&s, &f, &Limits::for_this_machine(), "deployments[0].service.concurrency");
    assert!(msg.contains("worker slots") && msg.contains("GB"), "{msg}");
}

#[test]
fn fifty_million_replicas_are_refused_where_they_do_not_fit() {
    // 50,000,000 pending pods need 8.3 GB (measured: 8,064,928 KiB, below), estimated at
    // 12 GB: refused on an 8-GB laptop. This machine may have the room (it has on the
    // 25-GB development machine, where the run takes 15 s).
    let (s, f) = unvalidated(
        "scenarios/quickstart.yaml",
        &["deployments.0.replicas=50000000", "deployments.0.createRate=0"],
    );
    let e = budget::estimate(&s);
    assert!(e.memory_bytes > 8_300_000_000, "{e}");
    let laptop = Limits::with_memory(8_000_000_000 * 8 / 10);
    let msg = refused(&s, &f, &laptop, "deployments[0].replicas");
    assert!(msg.contains("50.0 million pods"), "{msg}");
    let here = Limits::for_this_machine();
    match budget::check(&s, &f, &here) {
        Ok(_) => assert!(e.memory_for(Outputs::RUN_DEFAULT) <= here.memory_bytes),
        Err(_) => {
            refused(&s, &f, &here, "deployments[0].replicas");
        }
    }
}

#[test]
fn a_rate_of_1e9_requests_per_second_is_a_unit_mistake() {
    let (s, f) =
        unvalidated("scenarios/web-service.yaml", &["deployments.0.service.load={poisson: {rate: 1e9}}"]);
    let msg = refused(&s, &f, &Limits::for_this_machine(), "deployments[0].service.load.poisson.rate");
    assert!(msg.contains("unit mistake") && msg.contains("requests"), "{msg}");
}

#[test]
fn a_century_of_service_traffic_is_refused_naming_the_duration() {
    // Durations have no year unit: a century is 36500d.
    let (s, f) = unvalidated("scenarios/web-service.yaml", &["duration=36500d"]);
    let msg = refused(&s, &f, &Limits::for_this_machine(), "duration");
    assert!(msg.contains("unit mistake"), "{msg}");
}

#[test]
fn a_1ns_sample_interval_is_refused_naming_it() {
    let (s, f) = unvalidated("scenarios/quickstart.yaml", &["sampleInterval=1ns", "duration=24h"]);
    let msg = refused(&s, &f, &Limits::for_this_machine(), "sampleInterval");
    assert!(msg.contains("time-series rows"), "{msg}");
}

#[test]
fn a_huge_churn_arrival_rate_is_refused_naming_it() {
    let (s, f) = unvalidated("scenarios/churn-1day.yaml", &["churn.0.arrivalRate=1e9"]);
    let msg = refused(&s, &f, &Limits::for_this_machine(), "churn[0].arrivalRate");
    assert!(msg.contains("pods"), "{msg}");
}

#[test]
fn an_hpa_max_of_a_million_pods_with_large_concurrency_is_refused() {
    let (s, f) = unvalidated(
        "scenarios/hpa-spike.yaml",
        &[
            "nodePools.0.autoscaling.maxSize=100000",
            "deployments.0.horizontalPodAutoscaler.maxReplicas=1000000",
            "deployments.0.service.concurrency=100000",
        ],
    );
    refused(&s, &f, &Limits::for_this_machine(), "deployments[0].service.concurrency");
}

#[test]
fn resource_totals_beyond_64_bit_arithmetic_are_refused_even_with_no_limits() {
    // Found by tests/fuzz.rs: the cluster's summed allocatable overflowed (a panic in debug
    // builds, wrapped totals in release ones).
    let (s, f) =
        unvalidated("scenarios/quickstart.yaml", &["nodePools.0.allocatable.pods=768614336404564651"]);
    // Validation refuses it (it calls budget::overflow_errors), and so does the budget
    // check itself, whatever the limits.
    let invalid = scenario::validate::validate(&s).expect_err("validation refuses it");
    assert!(invalid.iter().any(|e| e.path == "nodePools[0].allocatable.pods"), "{invalid:?}");
    let errs = errors(budget::check(&s, &f, &Limits::none()));
    assert!(
        errs.iter().any(|e| e.path == "nodePools[0].allocatable.pods" && e.message.contains("64-bit")),
        "{errs:?}"
    );
}

#[test]
fn every_shipped_scenario_passes_the_check() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("scenarios"))
        .expect("scenarios/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 15);
    let limits = Limits::for_this_machine();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("reads");
        if text.contains("../shared/data") && !shared_data() {
            eprintln!("skipping {}: ../shared/data is missing", f.display());
            continue;
        }
        let s = scenario::load(&f, &[]).unwrap_or_else(|e| panic!("{e}"));
        let e = budget::check(&s, &f, &limits).unwrap_or_else(|e| panic!("{e}"));
        assert!(e.run_seconds < 3600.0, "{}: {e}", f.display());
    }
}

/// The stated accuracy of the memory estimate (module documentation of `scenario::budget`):
/// `LOW × measured <= estimate <= HIGH × measured` (an upper bound but for allocator slack).
const LOW: f64 = 0.9;
const HIGH: f64 = 2.0;

/// A scenario for calibration runs: one node, nothing else.
const BASE: &str = "
name: base
duration: 10s
nodePools: [{name: p, count: 1, allocatable: {cpu: 4, memory: 16Gi}}]
";

/// Many pods on nodes with room for all of them, scheduled at a negligible cost.
const PODS: &str = "
name: pods
duration: 1h
sampleInterval: 10m
scheduler: {cost: {perPod: 1us, perNodeExamined: 0s}}
nodePools: [{name: p, count: 10000, allocatable: {cpu: 400, memory: 1600Gi, pods: 1000}}]
deployments: [{name: d, replicas: 100000, template: {requests: {cpu: 1m, memory: 1Mi}}}]
";

/// One pod serving almost no traffic.
const SVC: &str = "
name: svc
duration: 10s
nodePools: [{name: p, count: 1, allocatable: {cpu: 4, memory: 16Gi}}]
deployments:
  - name: web
    replicas: 1
    template: {requests: {cpu: 1, memory: 1Gi}}
    service:
      concurrency: 1
      serviceTime: {constant: 1ms}
      load: {poisson: {rate: 0.001}}
";

/// The same with an HPA (one autoscaler-events row every 15 s).
const HPA: &str = "
name: hpa
duration: 10s
sampleInterval: 1h
nodePools: [{name: p, count: 1, allocatable: {cpu: 4, memory: 16Gi}}]
deployments:
  - name: web
    replicas: 1
    template: {requests: {cpu: 1, memory: 1Gi}}
    horizontalPodAutoscaler: {minReplicas: 1, maxReplicas: 3, targetCpuUtilization: 60}
    service:
      concurrency: 1
      serviceTime: {constant: 1ms}
      load: {poisson: {rate: 0.001}}
";

/// Where a calibration scenario comes from.
enum Source {
    File(&'static str),
    Inline(&'static str),
}

/// One measurement: the scenario, its overrides, whether charts were drawn, and the
/// "Maximum resident set size" (KiB) of
/// `/usr/bin/time -v target/release/clustersim run SCENARIO [--set ...] -q --no-charts --out /tmp/x`
/// (without `--no-charts` where `charts` is true, with `--pods` in `PODS_CSV`; inline
/// scenarios were written to a file first), on the development machine (2 cores, 24 GB, Linux), at the commit that added
/// this test.
struct Measured {
    source: Source,
    sets: &'static [&'static str],
    charts: bool,
    max_rss_kib: u64,
}

/// With `--pods` (on top of `charts: false`).
const PODS_CSV: &[(&str, &[&str], u64)] = &[
    // pods.csv of 1,000,000 rows (80 MB): written after the simulation's peak has passed.
    (PODS, &["deployments.0.replicas=1000000"], 254_956),
];

const MEASURED: &[Measured] = &[
    Measured {
        source: Source::File("scenarios/quickstart.yaml"),
        sets: &[],
        charts: false,
        max_rss_kib: 9_060,
    },
    Measured {
        source: Source::File("scenarios/web-service.yaml"),
        sets: &[],
        charts: false,
        max_rss_kib: 9_192,
    },
    Measured {
        source: Source::File("scenarios/churn-1day.yaml"),
        sets: &[],
        charts: false,
        max_rss_kib: 23_156,
    },
    Measured {
        source: Source::File("scenarios/hpa-spike.yaml"),
        sets: &[],
        charts: false,
        max_rss_kib: 9_600,
    },
    Measured {
        source: Source::File("scenarios/node-failure.yaml"),
        sets: &[],
        charts: false,
        max_rss_kib: 9_384,
    },
    Measured {
        source: Source::File("scenarios/autoscale-diurnal.yaml"),
        sets: &[],
        charts: false,
        max_rss_kib: 16_056,
    },
    Measured {
        source: Source::File("scenarios/zone-outage.yaml"),
        sets: &[],
        charts: false,
        max_rss_kib: 9_608,
    },
    Measured {
        source: Source::File("scenarios/trace-replay-genai.yaml"),
        sets: &[],
        charts: false,
        max_rss_kib: 10_320,
    },
    Measured {
        source: Source::File("scenarios/density-5k.yaml"),
        sets: &[],
        charts: false,
        max_rss_kib: 32_720,
    },
    Measured {
        source: Source::File("scenarios/cl2-density.yaml"),
        sets: &[],
        charts: false,
        max_rss_kib: 9_728,
    },
    Measured {
        source: Source::File("scenarios/scheduler-perf-basic-50k.yaml"),
        sets: &[],
        charts: false,
        max_rss_kib: 26_884,
    },
    Measured {
        source: Source::File("scenarios/scheduler-perf-unschedulable-10k.yaml"),
        sets: &[],
        charts: false,
        max_rss_kib: 14_908,
    },
    Measured {
        source: Source::File("scenarios/sweep-capacity.yaml"),
        sets: &[],
        charts: false,
        max_rss_kib: 14_244,
    },
    // 82 s wall on the shared machine.
    Measured {
        source: Source::File("scenarios/gke-65k.yaml"),
        sets: &[],
        charts: false,
        max_rss_kib: 122_032,
    },
    // 409 s wall on the shared machine.
    Measured {
        source: Source::File("scenarios/density-100k.yaml"),
        sets: &[],
        charts: false,
        max_rss_kib: 483_400,
    },
    // 50,000,000 pods created at once (the cap on replicas), nearly all pending: 15.4 s.
    Measured {
        source: Source::File("scenarios/quickstart.yaml"),
        sets: &["deployments.0.replicas=50000000", "deployments.0.createRate=0"],
        charts: false,
        max_rss_kib: 8_064_928,
    },
    // 5,000,000 pods created at once, nearly all pending: 6.45 s.
    Measured {
        source: Source::File("scenarios/quickstart.yaml"),
        sets: &["deployments.0.replicas=5000000", "deployments.0.createRate=0"],
        charts: false,
        max_rss_kib: 931_860,
    },
    Measured {
        source: Source::Inline(BASE),
        sets: &["nodePools.0.count=1000000"],
        charts: false,
        max_rss_kib: 310_176,
    },
    Measured {
        source: Source::Inline(PODS),
        sets: &["deployments.0.replicas=1000000"],
        charts: false,
        max_rss_kib: 247_196,
    },
    Measured {
        source: Source::Inline(PODS),
        sets: &["deployments.0.replicas=3000000"],
        charts: false,
        max_rss_kib: 612_256,
    },
    Measured {
        source: Source::Inline(BASE),
        sets: &["duration=3000000s", "sampleInterval=1s"],
        charts: false,
        max_rss_kib: 496_236,
    },
    Measured {
        source: Source::Inline(BASE),
        sets: &["duration=1000000s", "sampleInterval=1s"],
        charts: true,
        max_rss_kib: 973_332,
    },
    Measured {
        source: Source::Inline(SVC),
        sets: &["duration=3000000s", "sampleInterval=1s"],
        charts: false,
        max_rss_kib: 1_258_672,
    },
    Measured {
        source: Source::Inline(SVC),
        sets: &["duration=1000000s", "sampleInterval=1s"],
        charts: true,
        max_rss_kib: 1_911_612,
    },
    // 2 pods × 10,000,000 worker slots.
    Measured {
        source: Source::Inline(SVC),
        sets: &["deployments.0.replicas=2", "deployments.0.service.concurrency=10000000", "duration=60s"],
        charts: false,
        max_rss_kib: 164_812,
    },
    // 10,000,000 requests all waiting (100,000/s for 100 s on one worker, 1 s each).
    Measured {
        source: Source::Inline(SVC),
        sets: &[
            "deployments.0.service.load={poisson: {rate: 100000}}",
            "deployments.0.service.serviceTime={constant: 1s}",
            "duration=100s",
        ],
        charts: false,
        max_rss_kib: 473_312,
    },
    // 2,000,000 HPA rows of autoscaler-events.csv.
    Measured {
        source: Source::Inline(HPA),
        sets: &["duration=30000000s"],
        charts: false,
        max_rss_kib: 1_747_224,
    },
];

fn load_measured(m: &Measured) -> Option<(String, Scenario)> {
    let sets: Vec<String> = m.sets.iter().map(|x| x.to_string()).collect();
    match m.source {
        Source::File(f) => {
            let path = repo().join(f);
            let text = std::fs::read_to_string(&path).expect("reads");
            if text.contains("../shared/data") && !shared_data() {
                return None;
            }
            Some((
                format!("{f} {}", m.sets.join(" ")),
                scenario::load(&path, &sets).unwrap_or_else(|e| panic!("{e}")),
            ))
        }
        Source::Inline(text) => {
            let path = Path::new("calibration.yaml");
            let mut s = scenario::parse_str(text, path).expect("parses");
            if !sets.is_empty() {
                s = scenario::overrides::apply(&s, &sets).expect("overrides");
            }
            scenario::validate::validate(&s).expect("valid");
            Some((format!("{} {}", s.name.clone().unwrap_or_default(), m.sets.join(" ")), s))
        }
    }
}

#[test]
fn memory_estimates_are_within_the_stated_factor_of_measured_peak_rss() {
    let mut worst: f64 = 1.0;
    for m in MEASURED {
        let Some((name, s)) = load_measured(m) else { continue };
        let e = budget::estimate(&s);
        let outputs = if m.charts { Outputs::RUN_DEFAULT } else { Outputs::CSV_ONLY };
        let est = e.memory_for(outputs) as f64;
        let measured = m.max_rss_kib as f64 * 1024.0;
        let ratio = est / measured;
        eprintln!(
            "{name:<90} estimate {:>10} measured {:>10} ratio {ratio:.2}",
            budget::bytes(est),
            budget::bytes(measured)
        );
        assert!(
            (LOW..=HIGH).contains(&ratio),
            "{name}: estimate {est} vs measured {measured}: ratio {ratio:.2} is outside [{LOW}, {HIGH}]"
        );
        worst = worst.max(ratio);
    }
    for (text, sets, kib) in PODS_CSV {
        let sets: Vec<String> = sets.iter().map(|x| x.to_string()).collect();
        let s = scenario::overrides::apply(
            &scenario::parse_str(text, Path::new("pods.yaml")).expect("parses"),
            &sets,
        )
        .expect("overrides");
        let est = budget::estimate(&s).memory_for(Outputs { charts: false, pods_csv: true }) as f64;
        let ratio = est / (*kib as f64 * 1024.0);
        eprintln!("pods --pods {sets:?}: ratio {ratio:.2}");
        assert!((LOW..=HIGH).contains(&ratio), "--pods {sets:?}: ratio {ratio:.2}");
        worst = worst.max(ratio);
    }
    eprintln!("worst ratio {worst:.2}");
}

#[test]
fn large_runs_are_estimated_as_such() {
    // Wall time (and events, nodes examined) grow with the scenario: density-100k took
    // minutes, quickstart milliseconds.
    let q = budget::estimate(&scenario::load(&repo().join("scenarios/quickstart.yaml"), &[]).expect("loads"));
    let d =
        budget::estimate(&scenario::load(&repo().join("scenarios/density-100k.yaml"), &[]).expect("loads"));
    assert!(q.run_seconds < 1.0, "{q}");
    assert!((30.0..3000.0).contains(&d.run_seconds), "{d}");
    assert_eq!(d.nodes, 100_000);
    assert_eq!(d.pods, 3_000_000);
    assert!(d.events > 10_000_000 && d.nodes_examined > 1_000_000_000, "{d}");
}
