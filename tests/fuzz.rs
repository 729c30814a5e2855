//! A fuzz-style property: random mutations of the shipped scenarios (numbers replaced by
//! extreme or random values, keys deleted, list entries duplicated, strings and numbers
//! swapped, units of durations and quantities changed, optional sections switched on) go
//! through the library as the CLI takes them: `scenario::parse_str`, `validate`, the input
//! files, `budget::check` with this machine's limits, and, when accepted, a short run (the
//! duration cut to at most 10 simulated minutes and only when the budget estimates well
//! under a second). Nothing may panic, and every case must end within a bounded wall time.
//!
//! Deterministic by default (a fixed seed, so CI is stable); `CLUSTERSIM_FUZZ_CASES=N` runs
//! more cases and `CLUSTERSIM_FUZZ_SEED=N` explores another sequence.

use clustersim::engine::SimDuration;
use clustersim::scenario::budget::{self, Limits};
use clustersim::scenario::{self, Scenario};
use clustersim::sim::{RunError, Simulation};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{Map, Value};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A string with this prefix is written into the YAML text as is (for `.nan`, `.inf`, and
/// numbers JSON cannot hold).
const RAW: &str = "\u{1}raw:";

/// Extreme values a number may become.
const EXTREMES: &[&str] = &[
    "0",
    "-1",
    "1e308",
    "-1e308",
    "2147483648",
    "4294967295",
    "4294967296",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "1e-9",
    "0.5",
    "1e-300",
    "1e9",
    "1e15",
    ".nan",
    ".inf",
    "-.inf",
    "100000000",
    "0.001",
];

/// Units a duration or quantity string may be given instead of its own.
const UNITS: &[&str] =
    &["ns", "us", "ms", "s", "m", "h", "d", "Ki", "Mi", "Gi", "Ti", "Ei", "k", "M", "G", "E", "", "y"];

/// Optional sections switched on at the top level.
const SECTIONS: &[&str] = &[
    "controlPlane: {}",
    "clusterAutoscaler: {}",
    "chaos: {failureRate: 0.2, interval: 1m, jitterFactor: 1, simulatedDowntime: 2m}",
    "scheduler: {preemption: true}",
    "priorityClasses: [{name: hi, value: 1000}, {name: lo, value: -5, preemptionPolicy: Never}]",
    "nodeLifecycle: {nodeMonitorGracePeriod: 1s, nodeEvictionRate: 100}",
    "metricsServer: {resolution: 1s}",
    "faults: [{at: 5s, duration: 30s, fail: {zone: zone-a}}]",
];

/// Features merged into the first Deployment, its template, or the first node pool (where
/// the scenario has one): (path, YAML mapping).
const FEATURES: &[(&[&str], &str)] = &[
    (&["deployments", "0", "template"], "crashes: {timeToCrash: {exponential: {mean: 20s}}}"),
    (&["deployments", "0", "template"], "terminationTime: {uniform: {min: 1s, max: 20s}}"),
    (&["deployments", "0", "template"], "terminationGracePeriodSeconds: 5"),
    (&["deployments", "0", "template"], "priorityClassName: hi"),
    (&["deployments", "0"], "minAvailable: 1"),
    (&["deployments", "0"], "createRate: 1000"),
    (&["deployments", "0"], "scale: [{at: 5s, replicas: 0}, {at: 20s, replicas: 50}, {at: 1m, replicas: 3}]"),
    (
        &["deployments", "0"],
        "service: {concurrency: 2, queueLimit: 3, timeout: 1s, serviceTime: {exponential: {mean: 50ms}}, loadBalancing: LeastOutstanding, load: {spike: {base: 10, peak: 1000, at: 10s, duration: 30s}}}",
    ),
    (
        &["deployments", "0"],
        "horizontalPodAutoscaler: {minReplicas: 1, maxReplicas: 20, targetRequestsPerSecond: 5, behavior: {scaleDown: {stabilizationWindowSeconds: 0, policies: [{type: Percent, value: 50, periodSeconds: 15}]}}}",
    ),
    (&["deployments", "0", "service"], "loadBalancing: PowerOfTwoChoices"),
    (&["deployments", "0", "service"], "load: {ramp: {from: 0, to: 500, start: 0s, end: 1m}}"),
    (
        &["deployments", "0", "service"],
        "load: {steps: [{at: 0s, rate: 5}, {at: 30s, rate: 0}, {at: 1m, rate: 200}]}",
    ),
    (
        &["nodePools", "0"],
        "failures: {timeToFailure: {exponential: {mean: 2m}}, timeToRepair: {constant: 30s}}",
    ),
    (&["nodePools", "0"], "autoscaling: {minSize: 1, maxSize: 8}"),
    (&["nodePools", "0"], "unschedulable: true"),
    (&["nodePools", "0"], "taints: [{key: k, value: v, effect: NoExecute}]"),
];

#[derive(Clone, Debug)]
enum Op {
    /// A number (or, if there is none, any scalar) becomes `EXTREMES[k]`.
    Extreme(u64, usize),
    /// A number becomes a random float or integer.
    Random(u64, f64, i64, bool),
    /// A map entry disappears.
    Delete(u64),
    /// A list gets a copy of one of its entries (or of all of them).
    Duplicate(u64, u64, bool),
    /// A string becomes a number.
    StringToNumber(u64, usize),
    /// A number becomes a string.
    NumberToString(u64, u64),
    /// A duration or quantity string gets another unit, or a number a unit.
    Unit(u64, usize),
    /// A number is multiplied by 10^k.
    Scale(u64, i32),
    /// An optional section is added at the top level.
    Section(usize),
    /// A feature is merged into a Deployment or a node pool.
    Feature(usize),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => (any::<u64>(), 0..EXTREMES.len()).prop_map(|(t, k)| Op::Extreme(t, k)),
        1 => (any::<u64>(), any::<f64>(), any::<i64>(), any::<bool>()).prop_map(|(t, f, i, b)| Op::Random(t, f, i, b)),
        1 => any::<u64>().prop_map(Op::Delete),
        2 => (any::<u64>(), any::<u64>(), any::<bool>()).prop_map(|(t, k, all)| Op::Duplicate(t, k, all)),
        1 => (any::<u64>(), 0..EXTREMES.len()).prop_map(|(t, k)| Op::StringToNumber(t, k)),
        1 => (any::<u64>(), any::<u64>()).prop_map(|(t, k)| Op::NumberToString(t, k)),
        2 => (any::<u64>(), 0..UNITS.len()).prop_map(|(t, k)| Op::Unit(t, k)),
        4 => (any::<u64>(), -12i32..=12).prop_map(|(t, k)| Op::Scale(t, k)),
        3 => (0..SECTIONS.len()).prop_map(Op::Section),
        3 => (0..FEATURES.len()).prop_map(Op::Feature),
    ]
}

/// A path in a JSON value: map keys and list indices.
#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

fn paths(v: &Value, at: &mut Vec<Seg>, out: &mut Vec<(Vec<Seg>, Kind)>) {
    let kind = match v {
        Value::Number(_) => Kind::Number,
        Value::String(_) => Kind::String,
        Value::Array(_) => Kind::List,
        Value::Object(_) => Kind::Map,
        _ => Kind::Other,
    };
    out.push((at.clone(), kind));
    match v {
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                at.push(Seg::Index(i));
                paths(x, at, out);
                at.pop();
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                at.push(Seg::Key(k.clone()));
                paths(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Number,
    String,
    List,
    Map,
    Other,
}

fn get_mut<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let mut cur = v;
    for s in path {
        cur = match (s, cur) {
            (Seg::Key(k), Value::Object(m)) => m.get_mut(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// The `t`-th (mod count) node of kind `want` (any node if there is none of that kind).
fn pick(v: &Value, t: u64, want: &[Kind]) -> Option<Vec<Seg>> {
    let mut all = Vec::new();
    paths(v, &mut Vec::new(), &mut all);
    let of_kind: Vec<&(Vec<Seg>, Kind)> =
        all.iter().filter(|(p, k)| want.contains(k) && !p.is_empty()).collect();
    if of_kind.is_empty() {
        return None;
    }
    Some(of_kind[(t % of_kind.len() as u64) as usize].0.clone())
}

fn raw(s: &str) -> Value {
    Value::String(format!("{RAW}{s}"))
}

fn apply(v: &mut Value, op: &Op) {
    match *op {
        Op::Extreme(t, k) => {
            if let Some(p) = pick(v, t, &[Kind::Number]).or_else(|| pick(v, t, &[Kind::String]))
                && let Some(x) = get_mut(v, &p)
            {
                *x = raw(EXTREMES[k]);
            }
        }
        Op::Random(t, f, i, as_float) => {
            if let Some(p) = pick(v, t, &[Kind::Number])
                && let Some(x) = get_mut(v, &p)
            {
                *x = if as_float {
                    if f.is_finite() { Value::from(f) } else { raw(if f.is_nan() { ".nan" } else { ".inf" }) }
                } else {
                    Value::from(i)
                };
            }
        }
        Op::Delete(t) => {
            let mut all = Vec::new();
            paths(v, &mut Vec::new(), &mut all);
            let keys: Vec<&Vec<Seg>> =
                all.iter().filter(|(p, _)| matches!(p.last(), Some(Seg::Key(_)))).map(|(p, _)| p).collect();
            if keys.is_empty() {
                return;
            }
            let p = keys[(t % keys.len() as u64) as usize].clone();
            let (last, parent) = p.split_last().expect("non-empty");
            if let (Seg::Key(k), Some(Value::Object(m))) = (last, get_mut(v, parent)) {
                m.remove(k);
            }
        }
        Op::Duplicate(t, k, all) => {
            if let Some(p) = pick(v, t, &[Kind::List])
                && let Some(Value::Array(a)) = get_mut(v, &p)
                && !a.is_empty()
            {
                if all {
                    let copy = a.clone();
                    a.extend(copy);
                } else {
                    let x = a[(k % a.len() as u64) as usize].clone();
                    a.push(x);
                }
            }
        }
        Op::StringToNumber(t, k) => {
            if let Some(p) = pick(v, t, &[Kind::String])
                && let Some(x) = get_mut(v, &p)
            {
                *x = raw(EXTREMES[k]);
            }
        }
        Op::NumberToString(t, k) => {
            if let Some(p) = pick(v, t, &[Kind::Number])
                && let Some(x) = get_mut(v, &p)
            {
                let texts = ["abc", "", "10s", "1Gi", "-5", " 3 ", "1e3", "0x10", "NaN", "1_000"];
                *x = Value::String(texts[(k % texts.len() as u64) as usize].to_string());
            }
        }
        Op::Unit(t, k) => {
            if let Some(p) = pick(v, t, &[Kind::String, Kind::Number])
                && let Some(x) = get_mut(v, &p)
            {
                let text = match x {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    _ => return,
                };
                let digits: String =
                    text.chars().take_while(|c| c.is_ascii_digit() || *c == '.' || *c == '-').collect();
                if !digits.is_empty() {
                    *x = Value::String(format!("{digits}{}", UNITS[k]));
                }
            }
        }
        Op::Scale(t, k) => {
            if let Some(p) = pick(v, t, &[Kind::Number])
                && let Some(x) = get_mut(v, &p)
                && let Some(f) = x.as_f64()
            {
                let scaled = f * 10f64.powi(k);
                *x = if !scaled.is_finite() {
                    raw(".inf")
                } else if scaled.fract() == 0.0 && scaled.abs() < 9e15 {
                    Value::from(scaled as i64)
                } else {
                    Value::from(scaled)
                };
            }
        }
        Op::Feature(k) => {
            let (at, yaml) = FEATURES[k];
            let path: Vec<Seg> = at
                .iter()
                .map(|s| s.parse::<usize>().map_or_else(|_| Seg::Key(s.to_string()), Seg::Index))
                .collect();
            let add: Value = serde_saphyr::from_str(yaml).expect("a feature parses");
            if let (Some(Value::Object(m)), Value::Object(add)) = (get_mut(v, &path), add) {
                for (key, val) in add {
                    m.insert(key, val);
                }
            }
        }
        Op::Section(k) => {
            let section: Value = serde_saphyr::from_str(SECTIONS[k]).expect("a section parses");
            if let (Value::Object(top), Value::Object(add)) = (v, section) {
                for (key, val) in add {
                    top.insert(key, val);
                }
            }
        }
    }
}

/// Writes a JSON value as YAML flow text (JSON is YAML), with the raw scalars unquoted.
fn emit(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => match s.strip_prefix(RAW) {
            Some(r) => out.push_str(r),
            None => out.push_str(&serde_json::to_string(s).expect("a string serializes")),
        },
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                emit(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&serde_json::to_string(k).expect("a key serializes"));
                out.push_str(": ");
                emit(x, out);
            }
            out.push('}');
        }
    }
}

struct Base {
    name: String,
    dir: PathBuf,
    value: Value,
}

fn bases() -> Vec<Base> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo.join("scenarios"))
        .expect("scenarios/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.push(repo.join("tests/fixtures/trace-replay.yaml"));
    files.sort();
    let shared = repo.join("../shared/data");
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).expect("a scenario reads");
        if text.contains("../shared/data") && !shared.exists() {
            eprintln!("skipping {}: ../shared/data is missing", f.display());
            continue;
        }
        let value: Value = serde_saphyr::from_str(&text).expect("a shipped scenario parses as YAML");
        assert!(value.is_object(), "{}", f.display());
        out.push(Base {
            name: f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            dir: f.parent().expect("a folder").to_path_buf(),
            value,
        });
    }
    out
}

/// What a case came to.
#[derive(Debug, PartialEq, Eq)]
enum Fate {
    ParseError,
    Invalid,
    InputFile,
    Refused,
    TooBigToRunHere,
    Ran,
}

/// Longest simulated run of a case.
const MAX_SIM: SimDuration = SimDuration::from_secs(600);
/// A case runs only when the budget estimates at most this much wall time (of a release
/// build; a debug build is 10 to 20 times slower).
const MAX_ESTIMATED_RUN_S: f64 = if cfg!(debug_assertions) { 0.05 } else { 0.25 };
/// Every case must end within this (a guard against a run that never ends, not a benchmark).
const MAX_CASE_WALL: Duration = Duration::from_secs(10);
/// A case still running after this is taken for a hang: the test fails at once.
const HANG_WALL: Duration = Duration::from_secs(60);

fn case(text: &str, dir: &Path, caps: u8) -> Result<Fate, String> {
    let file = dir.join("fuzz.yaml");
    let mut s = match scenario::parse_str(text, &file) {
        Ok(s) => s,
        Err(e) => {
            if std::env::var("CLUSTERSIM_FUZZ_VERBOSE").is_ok() {
                eprintln!("parse: {e}");
            }
            return Ok(Fate::ParseError);
        }
    };
    if s.name.is_none() {
        s.name = Some("fuzz".to_string());
    }
    if scenario::validate::validate(&s).is_err() {
        return Ok(Fate::Invalid);
    }
    if scenario::inputs::resolve(&mut s, dir).is_err() {
        return Ok(Fate::InputFile);
    }
    let limits = Limits::for_this_machine();
    let e = match budget::check(&s, &file, &limits) {
        Ok(e) => e,
        Err(err) => {
            // Every refusal names a field and gives an estimate.
            let msg = err.to_string();
            if !msg.contains(": ") || !msg.contains("estimate") && !msg.contains("about") {
                return Err(format!("a refusal without a field or an estimate: {msg}"));
            }
            return Ok(Fate::Refused);
        }
    };
    if e.memory_bytes > limits.memory_bytes {
        return Err("check accepted an estimate above the limit".to_string());
    }
    // A short run: cut the duration, check again, and run only what is cheap here.
    let cap = [SimDuration::from_secs(5), SimDuration::from_secs(60), MAX_SIM][usize::from(caps % 3)];
    let mut short: Scenario = s.clone();
    short.duration.0 = short.duration.0.min(cap);
    if scenario::validate::validate(&short).is_err() {
        return Ok(Fate::Invalid);
    }
    let Ok(e) = budget::check_with(&short, &file, &limits, budget::Outputs::CSV_ONLY) else {
        return Ok(Fate::Refused);
    };
    if e.run_seconds > MAX_ESTIMATED_RUN_S || e.memory_bytes > 2_000_000_000 {
        return Ok(Fate::TooBigToRunHere);
    }
    let started = Instant::now();
    // Bad input that depends on the seed (a pod trace's inflation: a cut duration or a
    // mutated node set) is refused when the run is built, as an input error.
    let sim = match Simulation::new(&short, short.seed) {
        Err(RunError::Input { .. }) => return Ok(Fate::Refused),
        other => other.map_err(|e| format!("a valid scenario did not build: {e}"))?,
    };
    let out = sim.run();
    let took = started.elapsed().as_secs_f64();
    if std::env::var("CLUSTERSIM_FUZZ_VERBOSE").is_ok() && took > 0.05 && took > 4.0 * e.run_seconds {
        eprintln!("slow: ran {took:.3} s, estimated {:.3} s: {e}\n{text}", e.run_seconds);
    }
    clustersim::output::summary_csv(&out.summary).map_err(|e| e.to_string())?;
    clustersim::output::timeseries_csv(&out.metrics, &out.timeseries_columns).map_err(|e| e.to_string())?;
    Ok(Fate::Ran)
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[test]
fn mutated_scenarios_never_panic_and_end_in_bounded_time() {
    let bases = bases();
    assert!(!bases.is_empty());
    let default_cases = if cfg!(debug_assertions) { 40 } else { 300 };
    let cases = env_u64("CLUSTERSIM_FUZZ_CASES").map_or(default_cases, |n| n as u32);
    let config = Config { cases, failure_persistence: None, max_shrink_iters: 200, ..Config::default() };
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&env_u64("CLUSTERSIM_FUZZ_SEED").unwrap_or(20_240_601).to_le_bytes());
    let mut runner = TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
    let strategy = (0..bases.len(), prop::collection::vec(op(), 1..4), any::<u8>());
    let fates = std::cell::RefCell::new(std::collections::BTreeMap::<String, u32>::new());
    let slowest = std::cell::RefCell::new((Duration::ZERO, String::new()));
    // Silence the default hook: panics are caught and reported with their input.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    // A watchdog for a case that never ends (it cannot be interrupted): after
    // HANG_WALL it prints the case and ends the process with a failure.
    let current: Arc<Mutex<Option<(Instant, String)>>> = Arc::new(Mutex::new(None));
    let watched = Arc::clone(&current);
    std::thread::spawn(move || {
        loop {
            std::thread::sleep(Duration::from_millis(500));
            let hung = watched
                .lock()
                .ok()
                .and_then(|c| c.as_ref().filter(|(at, _)| at.elapsed() > HANG_WALL).map(|(_, t)| t.clone()));
            if let Some(text) = hung {
                eprintln!("fuzz: a case ran for more than {HANG_WALL:?}; giving up:\n{text}");
                std::process::exit(1);
            }
        }
    });
    let result = runner.run(&strategy, |(b, ops, caps)| {
        let base = &bases[b];
        let mut v = base.value.clone();
        for o in &ops {
            apply(&mut v, o);
        }
        let mut text = String::new();
        emit(&v, &mut text);
        let started = Instant::now();
        if let Ok(mut c) = current.lock() {
            *c = Some((started, format!("{}: {text}", base.name)));
        }
        let fate = catch_unwind(AssertUnwindSafe(|| case(&text, &base.dir, caps)));
        let took = started.elapsed();
        if let Ok(mut c) = current.lock() {
            *c = None;
        }
        match fate {
            Err(p) => {
                let msg = clustersim::runner::panic_message(&p);
                Err(TestCaseError::fail(format!("panic on a mutation of {}: {msg}\n{text}", base.name)))
            }
            Ok(Err(m)) => Err(TestCaseError::fail(format!("{} mutated: {m}\n{text}", base.name))),
            Ok(Ok(f)) => {
                *fates.borrow_mut().entry(format!("{f:?}")).or_default() += 1;
                let mut s = slowest.borrow_mut();
                if took > s.0 {
                    *s = (took, format!("{} ({f:?})", base.name));
                }
                if took > MAX_CASE_WALL {
                    return Err(TestCaseError::fail(format!(
                        "{} mutated took {took:?} ({f:?}), more than {MAX_CASE_WALL:?}\n{text}",
                        base.name
                    )));
                }
                Ok(())
            }
        }
    });
    std::panic::set_hook(hook);
    let fates = fates.into_inner();
    let (took, which) = slowest.into_inner();
    eprintln!("fuzz: {cases} cases: {fates:?}; slowest {took:?}: {which}");
    if let Err(e) = result {
        panic!("{e}");
    }
    // The property is only worth something if cases get through every stage.
    if cases >= 100 {
        assert!(fates.get("Ran").copied().unwrap_or(0) >= cases / 10, "too few cases ran: {fates:?}");
    }
}

#[test]
fn the_emitter_round_trips_the_shipped_scenarios() {
    for b in bases() {
        let mut text = String::new();
        emit(&b.value, &mut text);
        let back: Value = serde_saphyr::from_str(&text).expect("emitted YAML parses");
        assert_eq!(back, b.value, "{}", b.name);
        let s = scenario::parse_str(&text, &b.dir.join(&b.name)).expect("the scenario parses");
        assert!(scenario::validate::validate(&s).is_ok(), "{}", b.name);
    }
}

#[test]
fn extremes_are_yaml_scalars() {
    let mut m = Map::new();
    for (i, x) in EXTREMES.iter().enumerate() {
        m.insert(format!("k{i}"), raw(x));
    }
    let mut text = String::new();
    emit(&Value::Object(m), &mut text);
    // serde_json's Value cannot hold NaN or infinities, so read them as YAML floats.
    let parsed: std::collections::BTreeMap<String, f64> =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
    assert_eq!(parsed.len(), EXTREMES.len());
    assert!(parsed["k15"].is_nan() && parsed["k16"] == f64::INFINITY);
}
