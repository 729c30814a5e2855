//! What a run will cost, before it starts: memory, requests, pods, engine events,
//! time-series rows and wall time, estimated from the scenario alone, and the check that
//! refuses a scenario this machine cannot run (or one whose numbers are clearly a unit
//! mistake) with a [`ScenarioError::Invalid`] naming the field that drives the estimate.
//!
//! # The model
//!
//! [`estimate`] counts what the simulation keeps and does:
//!
//! - **nodes**: every pool's `count`, up to `autoscaling.maxSize` with a cluster autoscaler
//!   (capped by `max-nodes-total`); node objects are never freed, so an autoscaled group is
//!   assumed to grow and shrink over its whole range once per simulated day;
//! - **pods** (counted as if every pod ever created stayed in the cluster's arena, as it
//!   did before a pod's storage was released when it ends: an upper bound, far above the
//!   peak for long churn, where the memory follows the pods alive): each Deployment's
//!   `replicas`, the rises of its `scale` steps, for an HPA `maxReplicas − minReplicas` once
//!   per simulated day, all paced by `createRate`; ×1.5 with preemption (victims are
//!   recreated); churn arrivals over `[startAt, stopAt)` (at most `maxPods`); one pod of
//!   each DaemonSet per node ever created (each of its attempts examines one node); the
//!   initial pods; and the replacements of pods lost to node failures (random, chaos,
//!   scheduled, drains);
//! - **worker slots**: `concurrency` × the most pods of the service that can run at once
//!   (replicas, scale steps, HPA `maxReplicas`, bounded by the nodes' pod capacity);
//! - **requests**: the integral of each load's rate over the run (poisson, steps, ramp,
//!   diurnal, spike), or the trace rows that arrive before the end × `rateMultiplier`;
//! - **requests in the system at once** (each holds an entry in its service's completion
//!   queue until it ends): at most the requests, bounded by `queueLimit`, by the `timeout`,
//!   and by Little's law plus the backlog that grows while the peak rate exceeds the
//!   service's capacity (replicas × concurrency / mean service time);
//! - **time-series rows**: `duration / sampleInterval + 1`, of 10 + 13 per service + the
//!   control-plane, node-group and HPA columns; `autoscaler-events.csv` rows (one per HPA
//!   per 15-s sync, and up to one per cluster-autoscaler scan);
//! - **engine events** (about 6 per pod, plus samples, metrics-server scrapes, HPA syncs,
//!   autoscaler scans, failures and crash loops), control-plane API requests (pods, node
//!   leases), the scheduler's work (attempts × `numFeasibleNodesToFind`), the candidate
//!   arrivals the thinning of a time-varying load draws (its peak rate over every 60-s
//!   window a spike or step touches), and the per-node recounts of node failures and
//!   autoscaled nodes.
//!
//! Memory is a fixed part plus a cost per item, calibrated by measuring the peak resident
//! set size (`/usr/bin/time -v`, "Maximum resident set size") of `clustersim run -q
//! --no-charts` on the shipped scenarios and scaled variants on the development machine
//! (`tests/limits.rs` records the figures and the commands). The costs ([`cost`], bytes):
//! 10 MB fixed, 0.5 MB per service, 360 per node (+48 with a control plane), 240 per pod
//! (+120 with a control plane, +140 per pod of a service), 8 per worker slot, 64 per request
//! in the system, 112 per time-series row + 16 per extra cell + 7 per CSV cell, 1,000 per
//! autoscaler-events row; drawing the charts reads `timeseries.csv` back at about 90 bytes
//! a cell, `pods.csv` costs 100 bytes a pod.
//!
//! **Accuracy: the memory estimate is an upper bound of the measured peak RSS, within a
//! factor of 2**: `0.9 × measured <= estimate <= 2 × measured` (the 0.9 for allocator
//! slack). On the 28 calibration runs (9 MB to 8 GB) the ratio is 1.00 to 1.55;
//! `tests/limits.rs` checks the factor on each. That holds where the pods live to the end;
//! for long churn the pods are over-counted (see **pods** above), e.g. a 30-day churn at
//! 5,000 nodes: 1.1 GB estimated, 17 MB measured. The wall-time estimate ([`speed`]) uses
//! speeds measured on the same machine (about 10 million requests and 10 million engine
//! events a second, 100 million nodes examined a second) and is meant to be right within a
//! factor of 5 (it came out 1 to 3.3 times the measured time): it tells a long run from an
//! absurd one, nothing finer. Not modelled: preemption's victim search (an overfull cluster
//! with preemption runs up to about 5 times longer than estimated) and the work of moving
//! unschedulable pods back to the active queue on every cluster event.
//!
//! The check concerns one run: a sweep running `--jobs N` runs at once should give each a
//! 1/N share of the memory ([`Limits::shared_by`]), and one that writes no charts should
//! use [`check_with`] and [`Outputs::CSV_ONLY`].
//!
//! # The check
//!
//! [`check`] refuses a scenario whose estimated memory exceeds [`Limits::memory_bytes`] or
//! whose work exceeds the limits on requests, engine events, requests in the system at once
//! (the completion queue's capacity) and estimated wall time; each error names the field
//! that contributes most to the exceeded figure and gives the estimate. [`Limits::none`]
//! lifts every limit (the CLI's `--no-limits`).
//!
//! [`check`] also applies [`overflow_errors`] whatever the limits: resource amounts whose
//! sums over the cluster would overflow the simulator's 64-bit arithmetic (a unit mistake
//! such as `pods: 768614336404564651`), which are wrong input rather than a big run.

use super::error::{FieldError, ScenarioError};
use super::schema::{
    DeploymentSpec, FaultTarget, HpaSpec, LoadBalancingSpec, LoadSpec, Scenario, ServiceSpec,
};
use crate::scheduler::sampling::num_feasible_nodes_to_find;
use std::path::Path;

/// Bytes per item (see the module documentation for how they were measured).
pub mod cost {
    /// The binary, the runtime, the fixed tables and histograms of a run.
    pub const FIXED: f64 = 10e6;
    /// A service's latency histograms and completion queue.
    pub const PER_SERVICE: f64 = 0.5e6;
    /// A node object, its indexes, per-node arrays of the scheduler and controllers.
    pub const PER_NODE: f64 = 360.0;
    /// A node's kubelet rate limiter in the control plane.
    pub const PER_NODE_CONTROL_PLANE: f64 = 48.0;
    /// A pod object (never freed), its queue entries, per-pod arrays and pending events.
    pub const PER_POD: f64 = 240.0;
    /// A pod's API requests waiting in the control plane.
    pub const PER_POD_CONTROL_PLANE: f64 = 120.0;
    /// A service pod's serving slot (kept after the pod stops) and index entries.
    pub const PER_SERVICE_POD: f64 = 140.0;
    /// One worker slot of a running service pod.
    pub const PER_WORKER: f64 = 8.0;
    /// One request in the system (an entry in its service's completion queue).
    pub const PER_IN_FLIGHT: f64 = 64.0;
    /// One API request waiting in the control plane.
    pub const PER_API_PENDING: f64 = 120.0;
    /// One time-series row without its extra cells.
    pub const PER_SAMPLE: f64 = 112.0;
    /// One extra (per-service, autoscaler, control-plane) cell of a time-series row.
    pub const PER_EXTRA_CELL: f64 = 16.0;
    /// One cell of `timeseries.csv` as text.
    pub const PER_CSV_CELL: f64 = 7.0;
    /// One cell of `timeseries.csv` read back to draw the charts.
    pub const PER_CHART_CELL: f64 = 90.0;
    /// One row of `autoscaler-events.csv` (the decision, its rendering and the text).
    pub const PER_DECISION: f64 = 1000.0;
    /// One row of `pods.csv`.
    pub const PER_POD_ROW: f64 = 100.0;
    /// One row of a loaded trace or CSV column (the file's values and their copy).
    pub const PER_TRACE_ROW: f64 = 16.0;
}

/// Seconds per item of work on the calibration machine.
pub mod speed {
    /// Creating, scheduling, binding, starting and ending a pod (without the filter work).
    pub const PER_POD: f64 = 1e-6;
    /// Building a node (its object, indexes and per-node state).
    pub const PER_NODE: f64 = 300e-9;
    /// One scheduling attempt besides the nodes it examines.
    pub const PER_ATTEMPT: f64 = 0.5e-6;
    /// One node run through the filters.
    pub const PER_NODE_EXAMINED: f64 = 10e-9;
    /// One engine event (dispatch and queue).
    pub const PER_EVENT: f64 = 100e-9;
    /// One request (arrival, routing, service, completion).
    pub const PER_REQUEST: f64 = 150e-9;
    /// One worker slot or endpoint looked at (FCFS worker choice, LeastOutstanding, scrapes).
    pub const PER_SCAN: f64 = 1e-9;
    /// One candidate arrival of a time-varying load, rejected by thinning.
    pub const PER_CANDIDATE: f64 = 10e-9;
    /// One control-plane API request.
    pub const PER_API_REQUEST: f64 = 300e-9;
    /// One time-series cell (sampling and rendering).
    pub const PER_CELL: f64 = 60e-9;
    /// One node or serving slot summed over by a sample (cost so far, pod usage).
    pub const PER_SAMPLE_ITEM: f64 = 2e-9;
    /// One autoscaler-events row.
    pub const PER_DECISION: f64 = 1e-6;
}

/// A simulated day: autoscaled node groups and HPAs are assumed to go through their whole
/// range once per day (a diurnal load), which is how many node and pod objects they create.
const DAY_SECS: f64 = 86_400.0;
/// A run at least this long is "long": a figure proportional to the run length is then
/// blamed on `duration` rather than on a rate or an interval.
const LONG_RUN_SECS: f64 = 30.0 * DAY_SECS;
/// Shortest CrashLoopBackOff (upstream 10 s): a crashing container restarts at most this often.
const MIN_CRASH_CYCLE_SECS: f64 = 10.0;
/// Period of the scheduler's flush of unschedulable pods.
const FLUSH_PERIOD_SECS: f64 = 30.0;

/// The resource a [`Term`] adds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resource {
    /// Bytes of memory.
    Memory,
    /// Requests arriving at services.
    Requests,
    /// Engine events.
    Events,
    /// Entries one event queue holds at once: requests in the system in a service's
    /// completion queue, or events pending in the engine's queue.
    Pending,
    /// Seconds of wall time.
    RunTime,
}

/// One contribution to an estimate: `amount` of `resource`, caused by the field at `path`
/// (a field path such as `deployments[0].service.concurrency`), described by `what`.
#[derive(Clone, Debug, PartialEq)]
pub struct Term {
    pub resource: Resource,
    pub path: String,
    pub what: String,
    pub amount: f64,
}

/// The estimated cost of a run. Counts are over the whole run unless they say "at once".
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// Peak resident memory of the run and of writing its CSV files, without the charts and
    /// `pods.csv` (see [`Estimate::memory_for`]).
    pub memory_bytes: u64,
    /// More memory when the charts are drawn (the default of `run`).
    pub charts_bytes: u64,
    /// More memory with `--pods`.
    pub pods_csv_bytes: u64,
    /// Most nodes at once.
    pub nodes: u64,
    /// Node objects created over the run (initial and autoscaled).
    pub nodes_created: u64,
    /// Pods created over the run.
    pub pods: u64,
    /// Most worker slots at once.
    pub worker_slots: u64,
    /// Requests arriving at services.
    pub requests: u64,
    /// Most requests in the system (waiting or in service) at once, all services together.
    pub in_flight: u64,
    /// Most events pending at once in the engine's queue (about one per live pod and node).
    pub pending_events: u64,
    /// Engine events.
    pub events: u64,
    /// Control-plane API requests (0 without `controlPlane`).
    pub api_requests: u64,
    /// Rows of `timeseries.csv`.
    pub samples: u64,
    /// Columns of `timeseries.csv`.
    pub columns: u64,
    /// Rows of `autoscaler-events.csv`.
    pub autoscaler_rows: u64,
    /// Nodes run through the scheduler's filters.
    pub nodes_examined: u64,
    /// Wall time on the calibration machine, seconds.
    pub run_seconds: f64,
    /// Every contribution, by resource (what the error messages are made of).
    pub terms: Vec<Term>,
}

/// One line for `clustersim validate`: memory (and what charts and `pods.csv` add), nodes,
/// pods, requests, events, time-series rows and the estimated wall time.
impl std::fmt::Display for Estimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "memory {} (charts +{}, --pods +{}), {} nodes, {} pods, {} requests, {} events, {} time-series rows × {} columns, about {} of wall time",
            bytes(self.memory_bytes as f64),
            bytes(self.charts_bytes as f64),
            bytes(self.pods_csv_bytes as f64),
            count(self.nodes as f64),
            count(self.pods as f64),
            count(self.requests as f64),
            count(self.events as f64),
            count(self.samples as f64),
            count(self.columns as f64),
            seconds(self.run_seconds),
        )
    }
}

/// Which optional outputs a run writes (they are built in memory before being written).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Outputs {
    /// Charts and `index.html` (read `timeseries.csv` back).
    pub charts: bool,
    /// `pods.csv` (`--pods`).
    pub pods_csv: bool,
}

impl Outputs {
    /// What `clustersim run` writes by default: charts, no `pods.csv`.
    pub const RUN_DEFAULT: Outputs = Outputs { charts: true, pods_csv: false };
    /// The CSVs only (`--no-charts`, a run of a sweep).
    pub const CSV_ONLY: Outputs = Outputs { charts: false, pods_csv: false };
}

impl Estimate {
    /// Peak memory with these outputs, bytes.
    pub fn memory_for(&self, outputs: Outputs) -> u64 {
        let mut m = self.memory_bytes;
        if outputs.charts {
            m = m.saturating_add(self.charts_bytes);
        }
        if outputs.pods_csv {
            m = m.saturating_add(self.pods_csv_bytes);
        }
        m
    }

    /// The largest contribution to `resource`, if any.
    pub fn largest(&self, resource: Resource) -> Option<&Term> {
        self.terms.iter().filter(|t| t.resource == resource).max_by(|a, b| a.amount.total_cmp(&b.amount))
    }
}

/// What a run may use. Every figure of an [`Estimate`] above its limit is refused.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Peak memory, bytes.
    pub memory_bytes: u64,
    /// Where `memory_bytes` comes from, for messages (e.g. "80 % of this machine's 24.1 GB").
    pub memory_source: String,
    /// Requests over the run. Default 10¹¹ (about 3 hours at 10 million a second): more is
    /// taken for a unit mistake.
    pub max_requests: u64,
    /// Engine events over the run. Default 10¹¹, below the event queue's capacity
    /// (`engine::queue::MAX_SCHEDULED`).
    pub max_events: u64,
    /// Entries one event queue holds at once (a service's completion queue, the engine's
    /// queue): their capacity, `engine::queue::MAX_PENDING`.
    pub max_pending: u64,
    /// Estimated wall time, seconds. Default one day.
    pub max_run_seconds: f64,
}

/// Fraction of the machine's memory a run may use.
pub const MEMORY_FRACTION: f64 = 0.8;
/// Memory assumed when neither `/proc/meminfo` nor a cgroup limit can be read: 8 GiB.
pub const FALLBACK_MEMORY_BYTES: u64 = 8 << 30;
/// Default [`Limits::max_requests`].
pub const MAX_REQUESTS: u64 = 100_000_000_000;
/// Default [`Limits::max_events`].
pub const MAX_EVENTS: u64 = 100_000_000_000;
/// Default [`Limits::max_run_seconds`]: a day.
pub const MAX_RUN_SECONDS: f64 = DAY_SECS;

impl Limits {
    /// Limits for this machine: memory is [`MEMORY_FRACTION`] (80 %) of the smaller of
    /// `MemTotal` in `/proc/meminfo` and the cgroup's memory limit (`memory.max`, v2, or
    /// `memory.limit_in_bytes`, v1), or of [`FALLBACK_MEMORY_BYTES`] (8 GiB) when neither
    /// can be read (not Linux); the work limits are the defaults [`MAX_REQUESTS`],
    /// [`MAX_EVENTS`], the completion queue's capacity and [`MAX_RUN_SECONDS`].
    pub fn for_this_machine() -> Limits {
        let meminfo = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| parse_meminfo_total(&t));
        let cgroup = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .filter_map(|t| t.trim().parse::<u64>().ok())
            .filter(|&b| b > 0 && b < (1u64 << 60))
            .min();
        let (total, source) = match (meminfo, cgroup) {
            (Some(m), Some(c)) if c < m => (c, format!("its cgroup memory limit of {}", bytes(c as f64))),
            (Some(m), _) => (m, format!("its {} of RAM", bytes(m as f64))),
            (None, Some(c)) => (c, format!("its cgroup memory limit of {}", bytes(c as f64))),
            (None, None) => (
                FALLBACK_MEMORY_BYTES,
                format!(
                    "{} assumed: the machine's memory could not be read",
                    bytes(FALLBACK_MEMORY_BYTES as f64)
                ),
            ),
        };
        let mut l = Limits::with_memory((total as f64 * MEMORY_FRACTION) as u64);
        l.memory_source = format!("{:.0} % of {source}", MEMORY_FRACTION * 100.0);
        l
    }

    /// The default work limits with `memory_bytes` of memory (e.g. to check a scenario for
    /// another machine).
    pub fn with_memory(memory_bytes: u64) -> Limits {
        Limits {
            memory_bytes,
            memory_source: "the limit given".to_string(),
            max_requests: MAX_REQUESTS,
            max_events: MAX_EVENTS,
            max_pending: crate::engine::queue::MAX_PENDING as u64,
            max_run_seconds: MAX_RUN_SECONDS,
        }
    }

    /// These limits for one of `jobs` runs at once (a sweep's `--jobs`): each gets that share
    /// of the memory; the work limits stay per run.
    pub fn shared_by(mut self, jobs: u64) -> Limits {
        if jobs > 1 && self.memory_bytes != u64::MAX {
            self.memory_bytes /= jobs;
            self.memory_source = format!("{}, shared by {jobs} runs at once", self.memory_source);
        }
        self
    }

    /// No limit at all (`--no-limits`).
    pub fn none() -> Limits {
        Limits {
            memory_bytes: u64::MAX,
            memory_source: "no limit".to_string(),
            max_requests: u64::MAX,
            max_events: u64::MAX,
            max_pending: u64::MAX,
            max_run_seconds: f64::INFINITY,
        }
    }
}

/// `MemTotal` of a `/proc/meminfo` text, bytes.
fn parse_meminfo_total(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let mut parts = line["MemTotal:".len()..].split_whitespace();
    let n: u64 = parts.next()?.parse().ok()?;
    let unit = match parts.next() {
        Some("kB") | Some("KB") | Some("kb") => 1024,
        None => 1,
        Some(_) => return None,
    };
    n.checked_mul(unit).filter(|&b| b > 0)
}

/// Checks `s` (read from `file`, used in messages) against `limits`, assuming the outputs
/// of a default `clustersim run` ([`Outputs::RUN_DEFAULT`]: charts, no `pods.csv`). Returns
/// the estimate, or every exceeded limit as a [`ScenarioError::Invalid`] whose errors name
/// the field that contributes most.
pub fn check(s: &Scenario, file: &Path, limits: &Limits) -> Result<Estimate, ScenarioError> {
    check_with(s, file, limits, Outputs::RUN_DEFAULT)
}

/// [`check`] for a run that writes `outputs` (e.g. [`Outputs::CSV_ONLY`] for `--no-charts`
/// or a run of a sweep; a sweep with `--jobs N` should give each run a 1/N share of memory).
pub fn check_with(
    s: &Scenario,
    file: &Path,
    limits: &Limits,
    outputs: Outputs,
) -> Result<Estimate, ScenarioError> {
    let e = estimate(s);
    let mut errors = overflow_errors(s);
    errors.extend(violations(&e, limits, outputs));
    if errors.is_empty() { Ok(e) } else { Err(ScenarioError::Invalid { file: file.to_path_buf(), errors }) }
}

/// Most of one resource the whole cluster may have: the simulator sums node resources over
/// the cluster in 64-bit integers and the scheduler's scorers multiply a node's by 100
/// (`MaxNodeScore`), so the cluster's total times 100 must fit in an `i64`. About 9.2 × 10¹⁶
/// millicores (92 trillion cores), bytes (92 PB), GPU milli-units or pod slots: far above
/// any real cluster, so only a unit mistake reaches it.
pub const MAX_CLUSTER_RESOURCE: i64 = i64::MAX / 100;

/// Resource amounts whose arithmetic would overflow: for each of cpu, memory, GPUs and pod
/// slots, Σ over node pools of (most nodes × allocatable) must be at most
/// [`MAX_CLUSTER_RESOURCE`]. A correctness rule, not a limit: [`check`] applies it whatever
/// the [`Limits`] (even [`Limits::none`]); `validate` may call it too.
pub fn overflow_errors(s: &Scenario) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let has_ca = s.cluster_autoscaler.is_some();
    type Amount = fn(&super::schema::NodeResourcesSpec) -> i128;
    let per_node: [(&str, &str, Amount); 4] = [
        ("cpu", "millicores", |a| i128::from(a.cpu.0)),
        ("memory", "bytes", |a| i128::from(a.memory.0)),
        ("nvidia.com/gpu", "GPU milli-units", |a| i128::from(a.gpu.0) * 1000),
        ("pods", "pod slots", |a| i128::from(a.pods.0)),
    ];
    for (field, unit, get) in per_node {
        let mut total: i128 = 0;
        let mut largest: Option<(usize, i128)> = None;
        for (i, p) in s.node_pools.iter().enumerate() {
            let nodes = match &p.autoscaling {
                Some(g) if has_ca => g.max_size.max(p.count),
                _ => p.count,
            };
            let amount = get(&p.allocatable).max(0) * i128::from(nodes);
            total += amount;
            if largest.is_none_or(|(_, a)| amount > a) {
                largest = Some((i, amount));
            }
        }
        if total > i128::from(MAX_CLUSTER_RESOURCE)
            && let Some((i, _)) = largest
        {
            errors.push(FieldError {
                path: format!("nodePools[{i}].allocatable.{field}"),
                message: format!(
                    "the cluster would have about {total:.3e} {unit} in all (allocatable × the most nodes of each pool), more than the {MAX_CLUSTER_RESOURCE:.3e} the simulator's 64-bit arithmetic allows; this looks like a unit mistake; expected a smaller value",
                    total = total as f64,
                    MAX_CLUSTER_RESOURCE = MAX_CLUSTER_RESOURCE as f64,
                ),
            });
        }
    }
    // A service's CPU usage as metrics-server reports it: busy workers × cpuPerWorker +
    // idleCpu per pod, summed over the pods (by the HPA, and × 100 for a utilisation).
    for (i, d) in s.deployments.iter().enumerate() {
        let Some(svc) = &d.service else { continue };
        let per_pod = i128::from(svc.cpu_per_worker.0.max(0)) * i128::from(svc.concurrency)
            + i128::from(svc.idle_cpu.0.max(0));
        let pods = deployment_pods(s, i, d, f64::INFINITY, 1.0).peak.max(1.0) as i128;
        let total = per_pod * pods;
        if total > i128::from(MAX_CLUSTER_RESOURCE) {
            let field = if svc.idle_cpu.0 > svc.cpu_per_worker.0 { "idleCpu" } else { "cpuPerWorker" };
            errors.push(FieldError {
                path: format!("deployments[{i}].service.{field}"),
                message: format!(
                    "the service's pods would use about {:.3e} millicores in all (cpuPerWorker × concurrency + idleCpu, × {} pods), more than the {:.3e} the simulator's 64-bit arithmetic allows; this looks like a unit mistake; expected a smaller value",
                    total as f64,
                    pods,
                    MAX_CLUSTER_RESOURCE as f64,
                ),
            });
        }
    }
    errors
}

const NO_LIMITS: &str = "or pass --no-limits";

/// The field errors for every limit `e` exceeds.
pub fn violations(e: &Estimate, limits: &Limits, outputs: Outputs) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let memory = e.memory_for(outputs);
    if memory > limits.memory_bytes {
        // Charts and pods.csv are terms of their own, so the largest term may be one of them.
        let mut terms: Vec<&Term> = e.terms.iter().filter(|t| t.resource == Resource::Memory).collect();
        terms.retain(|t| {
            (outputs.charts || !t.what.contains("to draw the charts"))
                && (outputs.pods_csv || !t.what.contains("pods.csv"))
        });
        if let Some(t) = terms.into_iter().max_by(|a, b| a.amount.total_cmp(&b.amount)) {
            let hint = if t.what.contains("to draw the charts") {
                "expected a longer sampleInterval or a shorter run, pass --no-charts, "
            } else if t.what.contains("pods.csv") {
                "expected fewer pods, leave out --pods, "
            } else {
                "expected a smaller value, "
            };
            errors.push(FieldError {
                path: t.path.clone(),
                message: format!(
                    "{} need an estimated {} of memory ({} for the whole run), more than this machine's limit of {} ({}); {hint}{NO_LIMITS}",
                    t.what,
                    bytes(t.amount),
                    bytes(memory as f64),
                    bytes(limits.memory_bytes as f64),
                    limits.memory_source,
                ),
            });
        }
    }
    if e.requests > limits.max_requests
        && let Some(t) = e.largest(Resource::Requests)
    {
        errors.push(FieldError {
            path: t.path.clone(),
            message: format!(
                "{} means about {} requests over the run, more than the limit of {}; this looks like a unit mistake (a rate per millisecond, or a duration in the wrong unit?); expected a smaller value, {NO_LIMITS}",
                t.what,
                count(e.requests as f64),
                count(limits.max_requests as f64),
            ),
        });
    }
    if e.events > limits.max_events
        && let Some(t) = e.largest(Resource::Events)
    {
        errors.push(FieldError {
            path: t.path.clone(),
            message: format!(
                "{} means about {} engine events ({} in all), more than the limit of {}; this looks like a unit mistake (an interval or a duration in the wrong unit?); expected a smaller value, {NO_LIMITS}",
                t.what,
                count(t.amount),
                count(e.events as f64),
                count(limits.max_events as f64),
            ),
        });
    }
    for t in e.terms.iter().filter(|t| t.resource == Resource::Pending) {
        if t.amount > limits.max_pending as f64 {
            errors.push(FieldError {
                path: t.path.clone(),
                message: format!(
                    "{} about {} at once, more than the {} an event queue holds; {}, {NO_LIMITS}",
                    t.what,
                    count(t.amount),
                    count(limits.max_pending as f64),
                    if t.what.contains("request") {
                        "expected a lower rate, a queueLimit or a timeout, or more replicas"
                    } else {
                        "expected fewer pods or nodes"
                    },
                ),
            });
        }
    }
    if e.run_seconds > limits.max_run_seconds
        && let Some(t) = e.largest(Resource::RunTime)
    {
        errors.push(FieldError {
            path: t.path.clone(),
            message: format!(
                "{} take an estimated {} of wall time ({} for the whole run, at the measured ~10 million requests or events per second), more than the limit of {}; this looks like a unit mistake; expected a smaller value, {NO_LIMITS}",
                t.what,
                seconds(t.amount),
                seconds(e.run_seconds),
                seconds(limits.max_run_seconds),
            ),
        });
    }
    errors
}

/// A count for messages: exact below a million, else in millions, billions or as `1.2e15`.
pub fn count(x: f64) -> String {
    if !x.is_finite() {
        "infinitely many".to_string()
    } else if x < 1e6 {
        let n = x.round() as u64;
        let s = n.to_string();
        let mut out = String::new();
        for (i, c) in s.chars().enumerate() {
            if i > 0 && (s.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    } else if x < 1e9 {
        format!("{:.1} million", x / 1e6)
    } else if x < 1e12 {
        format!("{:.1} billion", x / 1e9)
    } else {
        format!("{x:.1e}")
    }
}

/// Bytes for messages, in decimal units: `17.2 GB`.
pub fn bytes(x: f64) -> String {
    if !x.is_finite() {
        return "unbounded".to_string();
    }
    const UNITS: [(f64, &str); 5] = [(1e15, "PB"), (1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")];
    if x >= 1e18 {
        return format!("{x:.1e} bytes");
    }
    for (scale, unit) in UNITS {
        if x >= scale {
            return format!("{:.1} {unit}", x / scale);
        }
    }
    format!("{x:.0} bytes")
}

/// Seconds for messages: `45 s`, `12.5 min`, `3.2 h`, `4.1 days`, `2.3e9 years`.
pub fn seconds(x: f64) -> String {
    if !x.is_finite() {
        "forever".to_string()
    } else if x < 120.0 {
        format!("{x:.0} s")
    } else if x < 7200.0 {
        format!("{:.1} min", x / 60.0)
    } else if x < 2.0 * DAY_SECS {
        format!("{:.1} h", x / 3600.0)
    } else if x < 730.0 * DAY_SECS {
        format!("{:.1} days", x / DAY_SECS)
    } else {
        format!("{:.1e} years", x / (365.25 * DAY_SECS))
    }
}

/// A rate or a count made safe for arithmetic: NaN (only in unvalidated input) counts as
/// infinite, negatives as 0.
fn sane(x: f64) -> f64 {
    if x.is_nan() { f64::INFINITY } else { x.max(0.0) }
}

/// `a / b` for non-negative figures, infinite when `b` is 0 and `a` is not.
fn div(a: f64, b: f64) -> f64 {
    let (a, b) = (sane(a), sane(b));
    if a == 0.0 {
        0.0
    } else if b == 0.0 {
        f64::INFINITY
    } else {
        a / b
    }
}

/// `a × b` with 0 × ∞ = 0 (nothing times anything is nothing).
fn mul(a: f64, b: f64) -> f64 {
    let (a, b) = (sane(a), sane(b));
    if a == 0.0 || b == 0.0 { 0.0 } else { a * b }
}

fn to_u64(x: f64) -> u64 {
    // `as` saturates (and NaN, which `sane` never gives, would be 0).
    sane(x).ceil() as u64
}

/// A duration for messages.
fn dur(secs: f64) -> String {
    if secs.is_finite() && secs < 1.8e10 {
        super::duration::format_duration(crate::engine::SimDuration::from_secs_f64(secs))
    } else {
        seconds(secs)
    }
}

struct Acc {
    terms: Vec<Term>,
}

impl Acc {
    fn add(&mut self, resource: Resource, path: impl Into<String>, what: impl Into<String>, amount: f64) {
        let amount = sane(amount);
        if amount > 0.0 {
            self.terms.push(Term { resource, path: path.into(), what: what.into(), amount });
        }
    }
    fn total(&self, resource: Resource) -> f64 {
        self.terms.iter().filter(|t| t.resource == resource).map(|t| t.amount).sum()
    }
}

/// Most nodes that accept pods of template `t` (tolerated taints, matching node selector and
/// required affinity in some zone, not cordoned, room for the requests).
fn accepting_nodes(s: &Scenario, t: &super::schema::PodTemplateSpec, has_ca: bool) -> f64 {
    use crate::cluster::Placement;
    use crate::scheduler::plugins::{node_affinity, taint_toleration};
    let placement = Placement {
        node_selector: t.node_selector.clone(),
        node_affinity: t.affinity.node_affinity.clone().unwrap_or_default(),
        tolerations: t.tolerations.clone(),
    };
    let (cpu, mem, gpu) = (
        t.requests.cpu.map_or(0, |q| q.0),
        t.requests.memory.map_or(0, |q| q.0),
        t.requests.gpu.map_or(0, |q| q.0),
    );
    let mut n = 0.0;
    for p in &s.node_pools {
        let a = &p.allocatable;
        let fits = cpu <= a.cpu.0 && mem <= a.memory.0 && gpu <= a.gpu.0 && a.pods.0 >= 1;
        if p.unschedulable || !fits || !taint_toleration::filter(&p.taints, &placement.tolerations) {
            continue;
        }
        let zones = p.zones.len().max(1);
        let accepted_zones = p
            .zones
            .iter()
            .filter(|z| {
                if placement.has_no_node_constraints() {
                    return true;
                }
                let mut labels = p.labels.clone();
                labels.insert(crate::sim::ZONE_LABEL.to_string(), (*z).clone());
                labels.insert(crate::sim::POOL_LABEL.to_string(), p.name.clone());
                node_affinity::filter(&labels, &placement)
            })
            .count();
        let nodes = match &p.autoscaling {
            Some(g) if has_ca => g.max_size.max(p.count),
            _ => p.count,
        };
        n += f64::from(nodes) * accepted_zones as f64 / zones as f64;
    }
    n
}

/// The HPA that scales Deployment `i`, and its field path.
fn hpa_of<'a>(s: &'a Scenario, i: usize, d: &'a DeploymentSpec) -> Option<(&'a HpaSpec, String)> {
    if let Some(h) = &d.horizontal_pod_autoscaler {
        return Some((h, format!("deployments[{i}].horizontalPodAutoscaler")));
    }
    s.horizontal_pod_autoscalers.iter().enumerate().find_map(|(k, h)| {
        let r = h.scale_target_ref.as_ref()?;
        (r.name == d.name).then(|| (h, format!("horizontalPodAutoscalers[{k}]")))
    })
}

/// A Deployment's pods: created over the run, most at once, and the field that drives them.
struct DeploymentPods {
    created: f64,
    peak: f64,
    path: String,
}

fn deployment_pods(s: &Scenario, i: usize, d: &DeploymentSpec, run: f64, cycles: f64) -> DeploymentPods {
    let at = |f: &str| format!("deployments[{i}].{f}");
    let start = d.start_at.0.as_secs_f64();
    if start > run {
        return DeploymentPods { created: 0.0, peak: 0.0, path: at("startAt") };
    }
    let initial = f64::from(d.replicas);
    let (mut created, mut peak, mut prev) = (initial, initial, initial);
    let mut path = at("replicas");
    let mut steps: Vec<(usize, &super::schema::ScaleStepSpec)> = d.scale.iter().enumerate().collect();
    steps.sort_by_key(|(_, st)| st.at);
    for (k, st) in steps {
        if st.at.0.as_secs_f64() > run {
            break;
        }
        let r = f64::from(st.replicas);
        created += (r - prev).max(0.0);
        if r > peak {
            peak = r;
            path = at(&format!("scale[{k}].replicas"));
        }
        prev = r;
    }
    // A rolling update replaces every pod, with up to maxSurge extra pods meanwhile.
    for (k, r) in d.rollouts.iter().enumerate() {
        if r.at.0.as_secs_f64() <= run {
            created += peak;
            let surge = f64::from(r.max_surge.scaled(peak.min(f64::from(u32::MAX)) as u32, true));
            if peak + surge > peak {
                path = at(&format!("rollouts[{k}].maxSurge"));
            }
            peak += surge;
        }
    }
    if let Some((h, hp)) = hpa_of(s, i, d) {
        let max = f64::from(h.max_replicas.max(0));
        let min = f64::from(h.min_replicas.max(1)).min(initial);
        created += mul((max - min).max(0.0), cycles);
        if max > peak {
            peak = max;
            path = format!("{hp}.maxReplicas");
        }
    }
    if d.create_rate > 0.0 {
        let paced = mul(d.create_rate, run - start) + 1.0;
        if paced < created {
            created = paced;
            path = at("createRate");
        }
    }
    if s.scheduler.preemption.unwrap_or(!s.priority_classes.is_empty()) {
        created *= 1.5;
    }
    DeploymentPods { created, peak, path }
}

/// A load's requests over `[0, run]`, its peak rate, and the field that sets its level.
fn load_requests(s: &Scenario, load: &LoadSpec, run: f64, at: &str) -> (f64, f64, String) {
    let secs = |d: super::duration::DurationSpec| d.0.as_secs_f64();
    // ∫ of a constant `rate` over [a, b] ∩ [0, run].
    let over = |rate: f64, a: f64, b: f64| mul(rate, (b.min(run) - a.max(0.0)).max(0.0));
    match load {
        LoadSpec::Poisson(p) => (mul(p.rate, run), sane(p.rate), format!("{at}.poisson.rate")),
        LoadSpec::Steps(steps) => {
            let mut sorted: Vec<(usize, f64, f64)> =
                steps.iter().enumerate().map(|(k, st)| (k, secs(st.at), st.rate)).collect();
            sorted.sort_by(|a, b| a.1.total_cmp(&b.1));
            let mut total = 0.0;
            let (mut peak, mut peak_k) = (0.0, 0);
            for (j, &(k, from, rate)) in sorted.iter().enumerate() {
                let to = sorted.get(j + 1).map_or(f64::INFINITY, |n| n.1);
                total += over(rate, from, to);
                if sane(rate) > peak || j == 0 {
                    peak = sane(rate);
                    peak_k = k;
                }
            }
            (total, peak, format!("{at}.steps[{peak_k}].rate"))
        }
        LoadSpec::Ramp(r) => {
            let (a, b) = (secs(r.start), secs(r.end));
            let (from, to) = (sane(r.from), sane(r.to));
            let mut total = over(from, 0.0, a) + over(to, b, f64::INFINITY);
            // The linear part, clipped to the run.
            let (lo, hi) = (a.max(0.0), b.min(run));
            if hi > lo && b > a {
                let rate_at = |t: f64| from + (to - from) * (t - a) / (b - a);
                total += (rate_at(lo) + rate_at(hi)) / 2.0 * (hi - lo);
            }
            let field = if to >= from { "to" } else { "from" };
            (total, from.max(to), format!("{at}.ramp.{field}"))
        }
        LoadSpec::Diurnal(d) => {
            let (mean, amp, period, peak_at) = (sane(d.mean), d.amplitude, secs(d.period), secs(d.peak_at));
            let total = if amp.is_finite() && amp.abs() <= mean && period > 0.0 {
                let w = 2.0 * std::f64::consts::PI / period;
                mean * run + amp / w * (((run - peak_at) * w).sin() - ((-peak_at) * w).sin())
            } else {
                mul(mean + sane(amp.abs()), run)
            };
            (total.max(0.0), mean + sane(amp.abs()), format!("{at}.diurnal.mean"))
        }
        LoadSpec::Spike(sp) => {
            let (a, b) = (secs(sp.at), secs(sp.at) + secs(sp.duration));
            let (base, peak) = (sane(sp.base), sane(sp.peak));
            let total = mul(base, run) + over(peak, a, b) - over(base, a, b).min(mul(base, run));
            let field = if over(peak, a, b) > mul(base, run) { "peak" } else { "base" };
            (total.max(0.0), base.max(peak), format!("{at}.spike.{field}"))
        }
        LoadSpec::Trace(t) => {
            let key = (t.file.clone(), t.time_column.clone(), t.service_time_column.clone());
            let k = sane(t.rate_multiplier);
            let Some(trace) = s.inputs.traces.get(&key) else {
                // Not loaded (the scenario was not read with `scenario::load`): unknown.
                return (0.0, 0.0, format!("{at}.trace.rateMultiplier"));
            };
            let start = t.start_at.0.as_nanos();
            let end = (run * 1e9).min(u64::MAX as f64) as u64;
            let rows = if t.time_scale.is_finite() && t.time_scale > 0.0 {
                // The same arithmetic as the arrival process, so the count is exact.
                trace.arrivals_ns.partition_point(|&a| {
                    start.saturating_add((a as f64 * t.time_scale).round() as u64) <= end
                })
            } else {
                trace.arrivals_ns.len()
            };
            let rows = rows as f64;
            // Peak: the trace's mean rate (a replay has no rate field to blame).
            let span = trace.arrivals_ns.last().map_or(0.0, |&l| l as f64 / 1e9 * t.time_scale.max(0.0));
            let peak = mul(div(trace.arrivals_ns.len() as f64, span.max(1.0)), k);
            (mul(rows, k), peak, format!("{at}.trace.rateMultiplier"))
        }
    }
}

/// Length of the thinning generator's windows (`traffic::load`): it bounds a time-varying
/// rate by its maximum over windows `[60 k, 60 (k + 1))` seconds.
const THINNING_WINDOW_SECS: f64 = 60.0;

/// Candidate arrivals the thinning generator draws over `[0, run]` for a load with
/// `requests` arrivals: a short spike or step costs its peak rate over every window it
/// touches (a 2-second spike to 10⁹ requests a second costs 6 × 10¹⁰ draws).
fn thinning_candidates(load: &LoadSpec, run: f64, requests: f64) -> f64 {
    const W: f64 = THINNING_WINDOW_SECS;
    let secs = |d: super::duration::DurationSpec| d.0.as_secs_f64();
    // Length of the windows touching [a, b), within [0, run].
    let windows = |a: f64, b: f64| {
        let a = a.max(0.0);
        if b <= a { 0.0 } else { (((b / W).ceil() * W).min(run) - (a / W).floor() * W).max(0.0) }
    };
    let total = match load {
        LoadSpec::Poisson(_) | LoadSpec::Trace(_) => requests,
        LoadSpec::Steps(steps) => {
            let mut sorted: Vec<(f64, f64)> = steps.iter().map(|st| (secs(st.at), st.rate)).collect();
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
            (0..sorted.len())
                .map(|j| {
                    let to = sorted.get(j + 1).map_or(f64::INFINITY, |n| n.0);
                    mul(sorted[j].1, windows(sorted[j].0, to))
                })
                .sum()
        }
        LoadSpec::Ramp(r) => {
            let (a, b) = (secs(r.start), secs(r.end));
            mul(r.from, windows(0.0, a))
                + mul(sane(r.from).max(sane(r.to)), windows(a, b))
                + mul(r.to, windows(b, f64::INFINITY))
        }
        LoadSpec::Diurnal(d) => {
            // The window maximum exceeds the rate by at most the slope × the window.
            let period = secs(d.period);
            let amp = sane(d.amplitude.abs());
            if period > 0.0 {
                requests + mul(amp * 2.0 * std::f64::consts::PI * W / period, run)
            } else {
                mul(sane(d.mean) + amp, run)
            }
        }
        LoadSpec::Spike(sp) => {
            let (a, b) = (secs(sp.at), secs(sp.at) + secs(sp.duration));
            mul(sp.base, run) + mul((sane(sp.peak) - sane(sp.base)).max(0.0), windows(a, b))
        }
    };
    sane(total).max(requests)
}

/// The mean service time of a service, seconds (from its distribution, CSV column or trace).
fn mean_service_secs(s: &Scenario, svc: &ServiceSpec) -> f64 {
    if let Some(d) = &svc.service_time {
        return sane(d.mean_secs());
    }
    if let Some(col) = &svc.service_time_csv
        && let Some(v) = s.inputs.columns.get(&(col.file.clone(), col.column.clone()))
        && !v.is_empty()
    {
        return sane(v.iter().sum::<f64>() / v.len() as f64);
    }
    if let LoadSpec::Trace(t) = &svc.load {
        let key = (t.file.clone(), t.time_column.clone(), t.service_time_column.clone());
        if let Some(times) = s.inputs.traces.get(&key).and_then(|tr| tr.service_ns.as_ref())
            && !times.is_empty()
        {
            return times.iter().map(|&n| n as f64).sum::<f64>() / times.len() as f64 / 1e9;
        }
    }
    0.0
}

/// Estimates what running `s` costs. Never panics, whatever the input (unvalidated values
/// give meaningless but finite-or-infinite figures, never NaN).
pub fn estimate(s: &Scenario) -> Estimate {
    use Resource::*;
    let mut acc = Acc { terms: Vec::new() };
    let run = s.duration.0.as_secs_f64();
    let long = run >= LONG_RUN_SECS;
    // A figure proportional to the run length is blamed on `path` unless the run is long.
    let per_time = |path: String| if long { "duration".to_string() } else { path };
    let cycles = (run / DAY_SECS).ceil().max(1.0);
    let has_cp = s.control_plane.is_some();
    let has_ca = s.cluster_autoscaler.is_some();
    acc.add(Memory, "duration", "the simulator itself", cost::FIXED);

    // Nodes.
    let per_node = cost::PER_NODE + if has_cp { cost::PER_NODE_CONTROL_PLANE } else { 0.0 };
    let (mut nodes_initial, mut nodes_max, mut nodes_created, mut pod_capacity) = (0.0, 0.0, 0.0, 0.0);
    let mut ca_nodes = 0.0;
    for (i, p) in s.node_pools.iter().enumerate() {
        let initial = f64::from(p.count);
        let (max, created, path) = match &p.autoscaling {
            Some(g) if has_ca => {
                let max = f64::from(g.max_size).max(initial);
                let range = (f64::from(g.max_size) - f64::from(g.min_size)).max(0.0);
                let path = if max > initial { "autoscaling.maxSize" } else { "count" };
                (max, initial + range * cycles, format!("nodePools[{i}].{path}"))
            }
            _ => (initial, initial, format!("nodePools[{i}].count")),
        };
        nodes_initial += initial;
        nodes_max += max;
        nodes_created += created;
        ca_nodes += created - initial;
        pod_capacity += max * p.allocatable.pods.0.max(0) as f64;
        acc.add(Memory, path.clone(), format!("{} node objects", count(created)), created * per_node);
        acc.add(RunTime, path, format!("{} node objects", count(created)), created * speed::PER_NODE);
    }
    if let Some(ca) = &s.cluster_autoscaler
        && ca.max_nodes_total > 0
    {
        nodes_max = nodes_max.min(f64::from(ca.max_nodes_total).max(nodes_initial));
    }

    // Deployments' pods.
    let mut pods_created = 0.0;
    let mut deployment_peak = 0.0;
    let per_pod = cost::PER_POD + if has_cp { cost::PER_POD_CONTROL_PLANE } else { 0.0 };
    let mut pods_paths: Vec<(String, f64)> = Vec::new();
    let mut dep_pods = Vec::with_capacity(s.deployments.len());
    for (i, d) in s.deployments.iter().enumerate() {
        let dp = deployment_pods(s, i, d, run, cycles);
        pods_created += dp.created;
        deployment_peak += dp.peak;
        pods_paths.push((dp.path.clone(), dp.created));
        dep_pods.push(dp);
    }
    // Churn pods.
    let mut churn_alive = 0.0;
    for (i, c) in s.churn.iter().enumerate() {
        let (gap, path) = match (&c.arrival_rate, &c.inter_arrival) {
            (Some(r), _) => (div(1.0, *r), format!("churn[{i}].arrivalRate")),
            (None, Some(d)) => (sane(d.mean_secs()), format!("churn[{i}].interArrival")),
            (None, None) => (f64::INFINITY, format!("churn[{i}]")),
        };
        let stop = c.stop_at.map_or(run, |t| t.0.as_secs_f64().min(run));
        let window = (stop - c.start_at.0.as_secs_f64()).max(0.0);
        let mut n = div(window, gap);
        let mut path = per_time(path);
        if c.max_pods > 0 && (c.max_pods as f64) < n {
            n = c.max_pods as f64;
            path = format!("churn[{i}].maxPods");
        }
        pods_created += n;
        churn_alive += n.min(div(sane(c.lifetime.mean_secs()), gap) + 1.0);
        pods_paths.push((path, n));
    }
    // Pod traces: the rows checked at load time (at most `maxRows`), × ceil(rateMultiplier).
    for (i, t) in s.pod_traces.iter().enumerate() {
        let Some(index) = s.inputs.pod_trace(s, i) else { continue };
        let mut n = index.rows as f64;
        let mut path = format!("podTraces[{i}].file");
        if t.max_rows > 0 && (t.max_rows as f64) < n {
            n = t.max_rows as f64;
            path = format!("podTraces[{i}].maxRows");
        }
        if t.rate_multiplier > 1.0 {
            path = format!("podTraces[{i}].rateMultiplier");
        }
        n = mul(n, sane(t.rate_multiplier).ceil());
        pods_created += n;
        churn_alive += n;
        pods_paths.push((path.clone(), n));
        // One template per distinct shape; `sorted: false` holds every row in memory.
        acc.add(
            Memory,
            path.clone(),
            format!("{} pod shapes", count(index.shapes.len() as f64)),
            mul(index.shapes.len() as f64, 600.0),
        );
        if !t.sorted {
            acc.add(
                Memory,
                path,
                format!("{} rows sorted in memory", count(index.rows as f64)),
                mul(index.rows as f64, 120.0),
            );
        }
    }
    // DaemonSet pods: at most one per node ever in the cluster; each attempt examines its
    // node only. Initial pods are never scheduled.
    let mut daemon_set_attempts = 0.0;
    for i in 0..s.daemon_sets.len() {
        pods_created += nodes_created;
        daemon_set_attempts += mul(nodes_created, 1.5);
        pods_paths.push((format!("daemonSets[{i}]"), nodes_created));
    }
    if !s.initial_pods.is_empty() {
        let n = s.initial_pods.len() as f64;
        pods_created += n;
        pods_paths.push(("initialPods".to_string(), n));
    }
    // Node failures and the pods they take down (replaced by their owners).
    let pods_per_node = div(deployment_peak, nodes_max.max(1.0))
        .min(s.node_pools.iter().map(|p| p.allocatable.pods.0.max(0) as f64).fold(0.0, f64::max));
    let mut failures: Vec<(String, f64)> = Vec::new();
    for (i, p) in s.node_pools.iter().enumerate() {
        if let Some(f) = &p.failures {
            let cycle = sane(f.time_to_failure.mean_secs()) + sane(f.time_to_repair.mean_secs());
            let pool_nodes = match &p.autoscaling {
                Some(g) if has_ca => f64::from(g.max_size.max(p.count)),
                _ => f64::from(p.count),
            };
            failures.push((
                per_time(format!("nodePools[{i}].failures.timeToFailure")),
                mul(pool_nodes, div(run, cycle)),
            ));
        }
    }
    if let Some(c) = &s.chaos {
        let rounds = div(run, c.interval.0.as_secs_f64()) + 1.0;
        let per_round = mul(sane(c.failure_rate), nodes_max).ceil();
        failures.push((per_time("chaos.interval".to_string()), mul(rounds, per_round)));
    }
    for (i, f) in s.faults.iter().enumerate() {
        let n = match &f.fail {
            FaultTarget::Node(_) => 1.0,
            FaultTarget::Pool(pf) => s
                .node_pools
                .iter()
                .filter(|p| p.name == pf.name)
                .map(|p| mul(f64::from(p.count), sane(pf.fraction).min(1.0)).ceil())
                .sum(),
            FaultTarget::Zone(z) => s
                .node_pools
                .iter()
                .filter(|p| p.zones.contains(z))
                .map(|p| (f64::from(p.count) / p.zones.len().max(1) as f64).ceil())
                .sum(),
            // No node fails; the relists after it are a few requests per node.
            FaultTarget::Apiserver(_) | FaultTarget::Etcd(_) => 0.0,
        };
        failures.push((format!("faults[{i}].fail"), n));
    }
    for (i, _) in s.maintenance.iter().enumerate() {
        failures.push((format!("maintenance[{i}].drain"), 1.0));
    }
    let mut replaced_total = 0.0;
    for (path, n) in &failures {
        let replaced = mul(*n, pods_per_node);
        replaced_total += replaced;
        pods_created += replaced;
        pods_paths.push((path.clone(), replaced));
        acc.add(
            Events,
            path.clone(),
            format!("{} node failures", count(*n)),
            mul(*n, 3.0 + 4.0 * pods_per_node),
        );
        // Each failure's detection and repair recount the zones over every node.
        acc.add(
            RunTime,
            path.clone(),
            format!("{} node failures over {} nodes", count(*n), count(nodes_created)),
            mul(*n, 2.0 * nodes_created * speed::PER_SAMPLE_ITEM + 4.0 * pods_per_node * speed::PER_EVENT),
        );
    }
    for (path, n) in &pods_paths {
        acc.add(Memory, path.clone(), format!("{} pods", count(*n)), mul(*n, per_pod));
        acc.add(Events, path.clone(), format!("{} pods", count(*n)), mul(*n, 6.0));
        acc.add(RunTime, path.clone(), format!("{} pods", count(*n)), mul(*n, speed::PER_POD));
        acc.add(Memory, path.clone(), format!("{} rows of pods.csv", count(*n)), mul(*n, cost::PER_POD_ROW));
    }

    // The scheduler: attempts and nodes examined per pod template, bounded by the scheduler's
    // simulated cost per cycle. A pod that only some nodes accept (taints, node selector,
    // affinity, size) makes the filter look through more nodes to find `numFeasible`
    // feasible ones; a pod no node accepts looks through them all, and again after every
    // `podMaxInUnschedulablePodsDuration`.
    let pct = s.scheduler.percentage_of_nodes_to_score;
    let nodes_usize = if nodes_max.is_finite() && nodes_max < 1e15 { nodes_max as usize } else { usize::MAX };
    let feasible = num_feasible_nodes_to_find(nodes_usize, pct).min(nodes_usize) as f64;
    let retry = s.scheduler.pod_max_in_unschedulable_pods_duration.0.as_secs_f64().max(1.0);
    let mut groups: Vec<(f64, f64)> = Vec::new(); // (attempts, nodes examined per attempt)
    let templates = s.deployments.iter().zip(&dep_pods).map(|(d, dp)| (dp.created, vec![&d.template])).chain(
        s.churn
            .iter()
            .zip(&pods_paths[s.deployments.len()..])
            .map(|(c, (_, n))| (*n, c.templates.iter().map(|w| &w.template).collect::<Vec<_>>())),
    );
    for (pods, tmpls) in templates {
        let share = pods / tmpls.len().max(1) as f64;
        for tmpl in tmpls {
            let reach = accepting_nodes(s, tmpl, has_ca);
            if reach > 0.0 {
                groups.push((mul(share, 1.5), div(mul(feasible, nodes_max), reach).min(nodes_max)));
            } else {
                groups.push((mul(share, 1.0 + div(run, retry)), nodes_max));
            }
        }
    }
    groups.push((mul(replaced_total, 1.5) + div(run, FLUSH_PERIOD_SECS), feasible));
    groups.push((daemon_set_attempts, 1.0));
    let (per_pod_cost, per_node_cost) =
        (s.scheduler.cost.per_pod.0.as_secs_f64(), s.scheduler.cost.per_node_examined.0.as_secs_f64());
    let noise_floor = s.scheduler.cost.noise.map_or(1.0, |n| (-3.0 * sane(n.sigma)).exp());
    let busy: f64 = groups.iter().map(|&(a, e)| mul(a, per_pod_cost + per_node_cost * e) * noise_floor).sum();
    // The scheduler cannot be busy longer than the run.
    let scale = if busy > run { div(run, busy) } else { 1.0 };
    let attempts: f64 = groups.iter().map(|&(a, _)| mul(a, scale)).sum();
    let nodes_examined: f64 = groups.iter().map(|&(a, e)| mul(mul(a, scale), e)).sum();
    let busiest_pods = pods_paths
        .iter()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or_else(|| "deployments".to_string(), |p| p.0.clone());
    acc.add(
        RunTime,
        busiest_pods.clone(),
        format!("{} scheduling attempts over {} nodes", count(attempts), count(nodes_max)),
        mul(attempts, speed::PER_ATTEMPT) + mul(nodes_examined, speed::PER_NODE_EXAMINED),
    );
    acc.add(
        Events,
        busiest_pods.clone(),
        "the scheduler's backoffs and flushes",
        div(run, FLUSH_PERIOD_SECS),
    );

    // Container crash loops.
    for (i, d) in s.deployments.iter().enumerate() {
        if let Some(c) = &d.template.crashes {
            let cycle = sane(c.time_to_crash.mean_secs()) + MIN_CRASH_CYCLE_SECS;
            let n = mul(dep_pods[i].peak, div(run, cycle)) * 2.0;
            acc.add(
                Events,
                format!("deployments[{i}].template.crashes.timeToCrash"),
                "container crash loops",
                n,
            );
        }
    }
    for (i, c) in s.churn.iter().enumerate() {
        if c.templates.iter().any(|w| w.template.crashes.is_some()) {
            let n = pods_paths.iter().find(|p| p.0.starts_with(&format!("churn[{i}]"))).map_or(0.0, |p| p.1);
            acc.add(Events, format!("churn[{i}].templates"), "container crash loops", mul(n, 4.0));
        }
    }

    // Services: requests, in-flight requests, worker slots.
    let (mut requests, mut worker_slots, mut in_flight) = (0.0, 0.0, 0.0);
    let mut services = 0.0;
    let mut service_slots_ever = 0.0;
    for (i, d) in s.deployments.iter().enumerate() {
        let Some(svc) = &d.service else { continue };
        services += 1.0;
        let at = format!("deployments[{i}].service");
        let dp = &dep_pods[i];
        let (n, peak_rate, load_path) = load_requests(s, &svc.load, run, &format!("{at}.load"));
        let (n, peak_rate, load_path) = (sane(n), sane(peak_rate), per_time(load_path));
        requests += n;
        let mean = mean_service_secs(s, svc);
        let conc = f64::from(svc.concurrency.max(1));
        let running = dp.peak.min(pod_capacity);
        let slots = mul(running, conc);
        worker_slots += slots;
        // A serving slot per pod that ever ran (pods that never get a node get none).
        let served = dp.created.min(mul(pod_capacity, 2.0 * cycles) + replaced_total);
        service_slots_ever += served;
        acc.add(
            Memory,
            format!("{at}.concurrency"),
            format!("{} worker slots per pod × {} pods", svc.concurrency, count(running)),
            mul(slots, cost::PER_WORKER),
        );
        acc.add(
            Memory,
            dp.path.clone(),
            format!("{} serving slots", count(served)),
            mul(served, cost::PER_SERVICE_POD),
        );
        acc.add(Memory, at.clone(), "a service's histograms", cost::PER_SERVICE);
        // Work per request: the FCFS choice scans the pod's workers; LeastOutstanding scans
        // the endpoints.
        let mut per_request = speed::PER_REQUEST + conc * speed::PER_SCAN;
        if svc.load_balancing == LoadBalancingSpec::LeastOutstanding {
            per_request += running * speed::PER_SCAN;
        }
        let rate_text = if run > 0.0 { div(n, run) } else { 0.0 };
        acc.add(
            Requests,
            load_path.clone(),
            format!("{} requests per second on average over {}", count(rate_text), dur(run)),
            n,
        );
        let work_path = if conc * speed::PER_SCAN > speed::PER_REQUEST {
            format!("{at}.concurrency")
        } else {
            load_path.clone()
        };
        let what = if conc * speed::PER_SCAN > speed::PER_REQUEST {
            format!("{} requests, each looking through {} worker slots,", count(n), svc.concurrency)
        } else {
            format!("{} requests", count(n))
        };
        acc.add(RunTime, work_path, what, mul(n, per_request));
        let candidates = thinning_candidates(&svc.load, run, n);
        acc.add(
            RunTime,
            load_path.clone(),
            format!("{} candidate arrivals drawn by thinning the load", count(candidates)),
            mul(candidates - n, speed::PER_CANDIDATE),
        );
        // Requests in the system at once.
        let capacity = div(mul(running, conc), mean);
        let little = mul(peak_rate, mean) * 4.0 + slots;
        let backlog = mul((peak_rate - capacity).max(0.0), run);
        let mut bound = n.min(little + backlog);
        if let Some(q) = svc.queue_limit {
            bound = bound.min(mul(running, conc + f64::from(q)));
        }
        if let Some(t) = svc.timeout {
            bound = bound.min(mul(peak_rate, t.0.as_secs_f64() + 8.0 * mean) + slots);
        }
        in_flight += bound;
        acc.add(
            Pending,
            load_path.clone(),
            format!("a peak of {} requests per second keeps requests in the system,", count(peak_rate)),
            bound,
        );
        acc.add(
            Memory,
            load_path.clone(),
            format!("{} requests in the system at once", count(bound)),
            mul(bound, cost::PER_IN_FLIGHT),
        );
        // Files the service reads (already in memory by now).
        if let LoadSpec::Trace(t) = &svc.load {
            let key = (t.file.clone(), t.time_column.clone(), t.service_time_column.clone());
            let rows = s.inputs.traces.get(&key).map_or(0, |tr| tr.arrivals_ns.len()) as f64;
            acc.add(
                Memory,
                format!("{at}.load.trace.file"),
                format!("{} trace rows", count(rows)),
                rows * cost::PER_TRACE_ROW,
            );
        }
        if let Some(col) = &svc.service_time_csv {
            let rows =
                s.inputs.columns.get(&(col.file.clone(), col.column.clone())).map_or(0, |v| v.len()) as f64;
            acc.add(
                Memory,
                format!("{at}.serviceTimeCsv.file"),
                format!("{} values", count(rows)),
                rows * cost::PER_TRACE_ROW,
            );
        }
    }

    // Time series.
    let interval = s.sample_interval.0.as_secs_f64();
    let samples = (div(run, interval)).floor() + 1.0;
    let hpas = s.deployments.iter().enumerate().filter(|(i, d)| hpa_of(s, *i, d).is_some()).count() as f64;
    let groups =
        if has_ca { s.node_pools.iter().filter(|p| p.autoscaling.is_some()).count() as f64 } else { 0.0 };
    let graceful = s
        .deployments
        .iter()
        .map(|d| &d.template)
        .chain(s.churn.iter().flat_map(|c| c.templates.iter().map(|w| &w.template)))
        .any(|t| t.termination_grace_period_seconds > 0 && !t.termination_time.is_zero());
    let extra = 13.0 * services + if has_cp { 7.0 } else { 0.0 } + groups + hpas;
    let columns = 10.0 + f64::from(u8::from(graceful)) + extra;
    let sample_path = per_time("sampleInterval".to_string());
    let row_bytes = cost::PER_SAMPLE
        + cost::PER_EXTRA_CELL * extra
        + if services > 0.0 { 16.0 } else { 0.0 }
        + cost::PER_CSV_CELL * columns;
    acc.add(
        Memory,
        sample_path.clone(),
        format!("{} time-series rows × {} columns", count(samples), count(columns)),
        mul(samples, row_bytes),
    );
    acc.add(
        Memory,
        sample_path.clone(),
        format!(
            "{} time-series rows × {} columns read back to draw the charts",
            count(samples),
            count(columns)
        ),
        mul(mul(samples, columns), cost::PER_CHART_CELL),
    );
    acc.add(Events, sample_path.clone(), format!("{} time-series rows", count(samples)), samples);
    acc.add(
        RunTime,
        sample_path,
        format!("{} time-series rows", count(samples)),
        mul(
            samples,
            columns * speed::PER_CELL
                + (nodes_created + service_slots_ever) * speed::PER_SAMPLE_ITEM
                + worker_slots * speed::PER_SCAN,
        ),
    );
    // metrics-server scrapes (with services).
    if services > 0.0 {
        let scrapes = div(run, s.metrics_server.resolution.0.as_secs_f64());
        let path = per_time("metricsServer.resolution".to_string());
        acc.add(Events, path.clone(), format!("{} metrics-server scrapes", count(scrapes)), scrapes);
        acc.add(
            RunTime,
            path,
            format!("{} metrics-server scrapes", count(scrapes)),
            mul(scrapes, speed::PER_EVENT + (service_slots_ever + worker_slots) * speed::PER_SCAN),
        );
    }
    // HPA syncs and their rows.
    let mut autoscaler_rows = 0.0;
    if hpas > 0.0 {
        let syncs = div(run, crate::hpa::sync_period().as_secs_f64());
        let rows = mul(syncs, hpas);
        autoscaler_rows += rows;
        acc.add(Events, "duration", format!("{} HPA syncs", count(syncs)), syncs);
        acc.add(
            Memory,
            "duration",
            format!("{} HPA rows of autoscaler-events.csv", count(rows)),
            mul(rows, cost::PER_DECISION),
        );
        acc.add(
            RunTime,
            "duration",
            format!("{} HPA syncs", count(syncs)),
            mul(rows, speed::PER_DECISION) + mul(syncs, deployment_peak * speed::PER_SCAN * 20.0),
        );
    }
    // Cluster-autoscaler scans and their rows.
    if let Some(ca) = &s.cluster_autoscaler {
        let scans = div(run, ca.scan_interval.0.as_secs_f64());
        let path = per_time("clusterAutoscaler.scan-interval".to_string());
        let rows = scans * 0.5 + 2.0 * ca_nodes;
        autoscaler_rows += rows;
        acc.add(
            Events,
            path.clone(),
            format!("{} cluster-autoscaler scans", count(scans)),
            scans + 2.0 * ca_nodes,
        );
        acc.add(
            Memory,
            path.clone(),
            format!("{} cluster-autoscaler rows of autoscaler-events.csv", count(rows)),
            mul(rows, cost::PER_DECISION),
        );
        acc.add(
            RunTime,
            path,
            format!("{} cluster-autoscaler scans", count(scans)),
            mul(rows, speed::PER_DECISION)
                + mul(scans, (nodes_max + deployment_peak) * speed::PER_SCAN * 20.0),
        );
        // Each node added or removed recounts the zones over every node.
        acc.add(
            RunTime,
            "nodePools",
            format!("{} nodes added and removed by the cluster autoscaler", count(2.0 * ca_nodes)),
            mul(2.0 * ca_nodes, nodes_created * speed::PER_SAMPLE_ITEM),
        );
    }
    // The control plane: API requests (pods, failed attempts, node leases) and backlogs.
    let mut api_requests = 0.0;
    if let Some(cp) = &s.control_plane {
        let pod_calls = mul(pods_created, 6.0) + mul(attempts, 2.0) + mul(service_slots_ever, 2.0);
        let lease_period = s.node_lifecycle.node_status_update_frequency.0.as_secs_f64().max(1.0);
        let leases = if cp.node_leases { mul(nodes_max, div(run, lease_period)) } else { 0.0 };
        api_requests = pod_calls + leases;
        let lease_path = per_time("nodeLifecycle.nodeStatusUpdateFrequency".to_string());
        acc.add(
            RunTime,
            busiest_pods.clone(),
            format!("{} API requests of pods", count(pod_calls)),
            mul(pod_calls, speed::PER_API_REQUEST),
        );
        acc.add(
            RunTime,
            lease_path.clone(),
            format!("{} node lease renewals", count(leases)),
            mul(leases, speed::PER_API_REQUEST),
        );
        acc.add(Events, busiest_pods.clone(), "API replies", mul(pods_created, 3.0));
        // Writes beyond etcd's rate, or leases beyond the kubelets' client rate, wait.
        let etcd = sane(cp.etcd.max_writes_per_second);
        let backlog = (api_requests - mul(etcd, run)).max(0.0);
        let kubelet_excess =
            mul((div(1.0, lease_period) - sane(cp.clients.kubelet.qps)).max(0.0), mul(nodes_max, run));
        let waiting = backlog.max(if cp.node_leases { kubelet_excess } else { 0.0 });
        let path = if kubelet_excess > backlog {
            "controlPlane.clients.kubelet.qps"
        } else {
            "controlPlane.etcd.maxWritesPerSecond"
        };
        acc.add(
            Memory,
            path,
            format!("{} API requests waiting", count(waiting)),
            mul(waiting.min(api_requests), cost::PER_API_PENDING),
        );
    }
    // The throughput collector (after the run): ticks over 10 phases, and its samples.
    if let Some(tc) = &s.throughput_collector {
        let ticks = div(run, tc.sample_interval.0.as_secs_f64());
        let path = per_time("throughputCollector.sampleInterval".to_string());
        acc.add(
            RunTime,
            path.clone(),
            format!("{} throughput-collector ticks", count(ticks)),
            mul(ticks, 11.0 * 20.0 * speed::PER_SCAN),
        );
        acc.add(
            Memory,
            path,
            format!("{} throughput samples", count(ticks)),
            mul(ticks, 8.0) + mul(pods_created, 16.0),
        );
    }
    // Events pending at once in the engine's queue: about one per live pod and per node.
    let pending_events = deployment_peak + churn_alive + nodes_max;
    acc.add(
        Pending,
        busiest_pods.clone(),
        format!(
            "{} live pods and {} nodes keep events pending,",
            count(deployment_peak + churn_alive),
            count(nodes_max)
        ),
        pending_events,
    );
    let events = acc.total(Events);
    acc.add(RunTime, busiest_pods, format!("{} engine events", count(events)), mul(events, speed::PER_EVENT));

    let memory_all = acc.total(Memory);
    let charts: f64 = acc
        .terms
        .iter()
        .filter(|t| t.resource == Memory && t.what.contains("to draw the charts"))
        .map(|t| t.amount)
        .sum();
    let pods_csv: f64 = acc
        .terms
        .iter()
        .filter(|t| t.resource == Memory && t.what.contains("pods.csv"))
        .map(|t| t.amount)
        .sum();
    Estimate {
        memory_bytes: to_u64(memory_all - charts - pods_csv),
        charts_bytes: to_u64(charts),
        pods_csv_bytes: to_u64(pods_csv),
        nodes: to_u64(nodes_max),
        nodes_created: to_u64(nodes_created),
        pods: to_u64(pods_created),
        worker_slots: to_u64(worker_slots),
        requests: to_u64(requests),
        in_flight: to_u64(in_flight),
        pending_events: to_u64(pending_events),
        events: to_u64(events),
        api_requests: to_u64(api_requests),
        samples: to_u64(samples),
        columns: to_u64(columns),
        autoscaler_rows: to_u64(autoscaler_rows),
        nodes_examined: to_u64(nodes_examined),
        run_seconds: sane(acc.total(RunTime)),
        terms: acc.terms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(yaml: &str) -> Scenario {
        super::super::parse_str(yaml, Path::new("t.yaml")).expect("parses")
    }

    const BASE: &str = "
duration: 1h
nodePools: [{name: p, count: 10, allocatable: {cpu: 4, memory: 16Gi}}]
deployments:
  - name: web
    replicas: 4
    template: {requests: {cpu: 1, memory: 1Gi}}
    service:
      concurrency: 4
      serviceTime: {constant: 10ms}
      load: {poisson: {rate: 100}}
";

    #[test]
    fn meminfo_is_parsed_in_kib() {
        assert_eq!(
            parse_meminfo_total("MemTotal:       24108132 kB\nMemFree: 1 kB\n"),
            Some(24108132 * 1024)
        );
        assert_eq!(parse_meminfo_total("MemFree: 1 kB\n"), None);
        assert_eq!(parse_meminfo_total("MemTotal: lots kB\n"), None);
        assert_eq!(parse_meminfo_total("MemTotal: 0 kB\n"), None);
    }

    #[test]
    fn loads_integrate_their_rates() {
        let s = scenario(BASE);
        let e = estimate(&s);
        assert_eq!(e.requests, 360_000);
        let shapes = [
            ("{steps: [{at: 0s, rate: 10}, {at: 30m, rate: 30}]}", 10.0 * 1800.0 + 30.0 * 1800.0),
            ("{ramp: {from: 0, to: 100, start: 0s, end: 1h}}", 180_000.0),
            (
                "{ramp: {from: 10, to: 20, start: 30m, end: 2h}}",
                10.0 * 1800.0 + (10.0 + 40.0 / 3.0) / 2.0 * 1800.0,
            ),
            ("{diurnal: {mean: 100, amplitude: 50, period: 2h, peakAt: 0s}}", 360_000.0),
            ("{spike: {base: 10, peak: 110, at: 10m, duration: 10m}}", 36_000.0 + 100.0 * 600.0),
            ("{spike: {base: 10, peak: 110, at: 50m, duration: 1h}}", 36_000.0 + 100.0 * 600.0),
        ];
        for (load, want) in shapes {
            let mut s = scenario(BASE);
            let text = format!("load: {load}");
            #[derive(serde::Deserialize)]
            struct L {
                load: LoadSpec,
            }
            let l: L = serde_saphyr::from_str(&text).expect("load");
            s.deployments[0].service.as_mut().expect("service").load = l.load;
            let got = estimate(&s).requests as f64;
            // Diurnal over a whole number of half-periods from the peak: the cosine part is
            // sin(π) − sin(0) = 0.
            assert!((got - want).abs() <= want * 1e-9 + 1.0, "{load}: {got} vs {want}");
        }
    }

    #[test]
    fn the_reported_cases_are_refused_naming_their_field() {
        let limits = Limits::with_memory(16_000_000_000);
        let cases = [
            ("deployments.0.service.concurrency=2147483648", "deployments[0].service.concurrency", "memory"),
            (
                "deployments.0.service.load={poisson: {rate: 1e9}}",
                "deployments[0].service.load.poisson.rate",
                "requests",
            ),
            ("duration=36500d", "duration", "requests"),
        ];
        for (set, path, what) in cases {
            let s = super::super::overrides::apply(&scenario(BASE), &[set.to_string()]).expect("override");
            let err = check(&s, Path::new("t.yaml"), &limits).expect_err(set);
            let ScenarioError::Invalid { errors, .. } = &err else { panic!("{err}") };
            assert!(errors.iter().any(|e| e.path == path && e.message.contains(what)), "{set}: {err}");
            assert!(check(&s, Path::new("t.yaml"), &Limits::none()).is_ok(), "{set}");
        }
        assert!(check(&scenario(BASE), Path::new("t.yaml"), &limits).is_ok());
    }

    #[test]
    fn absurd_input_gives_finite_or_infinite_figures_never_nan() {
        let mut s = scenario(BASE);
        s.deployments[0].service.as_mut().expect("service").load =
            LoadSpec::Poisson(super::super::schema::PoissonLoad { rate: f64::NAN });
        s.sample_interval = super::super::duration::DurationSpec(crate::engine::SimDuration::ZERO);
        s.duration = super::super::duration::DurationSpec(crate::engine::SimDuration(u64::MAX));
        let e = estimate(&s);
        assert_eq!(e.requests, u64::MAX);
        assert_eq!(e.samples, u64::MAX);
        assert!(!e.run_seconds.is_nan());
        assert!(e.terms.iter().all(|t| !t.amount.is_nan()));
        assert!(check(&s, Path::new("t.yaml"), &Limits::with_memory(1 << 30)).is_err());
    }

    #[test]
    fn resource_totals_that_overflow_are_refused_even_without_limits() {
        let set =
            |x: &str| super::super::overrides::apply(&scenario(BASE), &[x.to_string()]).expect("override");
        for (x, path) in [
            ("nodePools.0.allocatable.pods=768614336404564651", "nodePools[0].allocatable.pods"),
            ("nodePools.0.allocatable.memory=4Ei", "nodePools[0].allocatable.memory"),
            ("deployments.0.service.cpuPerWorker=9000000000000", "deployments[0].service.cpuPerWorker"),
        ] {
            let s = set(x);
            assert!(overflow_errors(&s).iter().any(|e| e.path == path), "{x}: {:?}", overflow_errors(&s));
            let err = check(&s, Path::new("t.yaml"), &Limits::none()).expect_err(x);
            assert!(err.to_string().contains(path), "{err}");
        }
        // 10 nodes × 9.2e15 bytes: the largest memory that still fits.
        assert!(overflow_errors(&set("nodePools.0.allocatable.memory=9223372036854775")).is_empty());
        assert!(overflow_errors(&scenario(BASE)).is_empty());
    }

    #[test]
    fn a_short_spike_costs_its_peak_over_whole_thinning_windows() {
        let mut s = scenario(BASE);
        s.duration = super::super::duration::DurationSpec(crate::engine::SimDuration::from_secs(5));
        let load: LoadSpec =
            serde_saphyr::from_str("spike: {base: 10, peak: 1e9, at: 10s, duration: 1s}").expect("load");
        // No spike arrival within 5 s, but the window [0, 60) is bounded by the peak.
        assert_eq!(thinning_candidates(&load, 5.0, 50.0), 50.0 + (1e9 - 10.0) * 5.0);
        s.deployments[0].service.as_mut().expect("service").load = load;
        let e = estimate(&s);
        assert_eq!(e.requests, 50);
        assert!(e.run_seconds > 10.0, "{e}");
    }

    #[test]
    fn parallel_runs_share_the_memory() {
        let l = Limits::with_memory(8_000).shared_by(4);
        assert_eq!(l.memory_bytes, 2_000);
        assert!(l.memory_source.contains("4 runs"));
        assert_eq!(Limits::none().shared_by(4), Limits::none());
    }

    #[test]
    fn formatting() {
        assert_eq!(count(1234.0), "1,234");
        assert_eq!(count(123.0), "123");
        assert_eq!(count(2.5e9), "2.5 billion");
        assert_eq!(bytes(17_179_869_184.0), "17.2 GB");
        assert_eq!(seconds(90.0), "90 s");
        assert_eq!(seconds(3.0 * 86_400.0), "3.0 days");
    }
}
