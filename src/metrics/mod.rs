//! What a run measures: pod start-up and scheduling latency (hdrhistogram, exact
//! integer microseconds in, percentiles out), time-weighted and peak allocation (integrals
//! of integer requests over integer time), and one time-series row per sampling interval.
//! No floats are accumulated: every float in the output is computed once, at the end, from
//! integers.

pub mod gpufrag;
pub mod throughput;

use crate::cluster::{ClusterState, PodPhase, Resources};
use crate::engine::{SimDuration, SimTime};
use crate::scheduler::SchedulerStats;
use hdrhistogram::Histogram;

/// A value in `summary.csv`.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Int(u64),
    Float(f64),
    /// No value (e.g. a percentile of an empty set); written as an empty field.
    Missing,
}

impl Cell {
    /// The CSV text: integers as is, floats with 6 decimals (fixed, so identical runs give
    /// identical bytes and diffs stay readable).
    pub fn render(&self) -> String {
        match self {
            Cell::Int(v) => v.to_string(),
            Cell::Float(v) => format!("{v:.6}"),
            Cell::Missing => String::new(),
        }
    }
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Cell::Int(v) => Some(*v as f64),
            Cell::Float(v) => Some(*v),
            Cell::Missing => None,
        }
    }
}

/// One row of `timeseries.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub time: SimTime,
    pub nodes_ready: u32,
    pub pods_running: u64,
    pub pods_pending: u64,
    pub pods_starting: u64,
    /// Terminating pods; `Some` only in runs with graceful termination (the column
    /// `pods_terminating` follows `pods_starting` only then).
    pub pods_terminating: Option<u64>,
    pub nodes_down: u32,
    /// Cost of the nodes so far.
    pub cost: f64,
    pub cpu_allocation: f64,
    pub memory_allocation: f64,
    /// GPU milli requested / allocatable on Ready nodes; `Some` only in clusters with GPUs
    /// (the column `gpu_allocation` follows `memory_allocation` only then).
    pub gpu_allocation: Option<f64>,
    pub scheduling_throughput: f64,
    /// Per-service columns (see `traffic::TIMESERIES_COLUMNS`).
    pub extra: Vec<Cell>,
}

pub const TIMESERIES_COLUMNS: [&str; 10] = [
    "time_s",
    "nodes_ready",
    "nodes_down",
    "pods_running",
    "pods_pending",
    "pods_starting",
    "cpu_allocation",
    "memory_allocation",
    "scheduling_throughput_pods_per_s",
    "cost",
];

impl Sample {
    pub fn render(&self) -> Vec<String> {
        let mut row = vec![
            format!("{:.3}", self.time.as_secs_f64()),
            self.nodes_ready.to_string(),
            self.nodes_down.to_string(),
            self.pods_running.to_string(),
            self.pods_pending.to_string(),
            self.pods_starting.to_string(),
        ];
        if let Some(t) = self.pods_terminating {
            row.push(t.to_string());
        }
        row.extend([format!("{:.6}", self.cpu_allocation), format!("{:.6}", self.memory_allocation)]);
        if let Some(g) = self.gpu_allocation {
            row.push(format!("{g:.6}"));
        }
        row.extend([format!("{:.3}", self.scheduling_throughput), format!("{:.6}", self.cost)]);
        row.extend(self.extra.iter().map(Cell::render));
        row
    }
}

fn ratio(num: i64, den: i64) -> f64 {
    if den <= 0 { 0.0 } else { num as f64 / den as f64 }
}

/// A fraction num/den kept as integers so peaks compare exactly.
#[derive(Clone, Copy, Debug, Default)]
struct Frac {
    num: i64,
    den: i64,
}

impl Frac {
    fn greater_than(self, o: Frac) -> bool {
        if self.den <= 0 {
            return false;
        }
        if o.den <= 0 {
            return self.num > 0;
        }
        (self.num as i128) * (o.den as i128) > (o.num as i128) * (self.den as i128)
    }
}

pub struct Metrics {
    startup_us: Histogram<u64>,
    scheduling_us: Histogram<u64>,
    last_change: SimTime,
    /// cpu, memory, GPU.
    requested_integral: [u128; 3],
    allocatable_integral: [u128; 3],
    peak: [Frac; 3],
    bound_since_sample: u64,
    replacement_us: Histogram<u64>,
    /// ∫ nodes down dt, node-nanoseconds.
    down_integral: u128,
    nodes_down: u32,
    last_sample: SimTime,
    pub samples: Vec<Sample>,
    /// Some pod template has graceful termination: `timeseries.csv` gets a
    /// `pods_terminating` column and `summary.csv` a `pods_terminating_end` column.
    pub track_terminating: bool,
    /// Some node pool has GPUs: `timeseries.csv` gets a `gpu_allocation` column and
    /// `summary.csv` the GPU allocation, GPU-hours and cost per allocated GPU-hour.
    pub track_gpu: bool,
}

fn histogram() -> Histogram<u64> {
    // 3 significant digits, auto-resizing: percentiles within 0.1 %.
    Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant digits is a valid precision"))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        Metrics {
            startup_us: histogram(),
            scheduling_us: histogram(),
            last_change: SimTime::ZERO,
            requested_integral: [0; 3],
            allocatable_integral: [0; 3],
            peak: [Frac::default(); 3],
            bound_since_sample: 0,
            replacement_us: histogram(),
            down_integral: 0,
            nodes_down: 0,
            last_sample: SimTime::ZERO,
            samples: Vec::new(),
            track_terminating: false,
            track_gpu: false,
        }
    }

    /// Integrates the allocation held since the last call up to `now`. Called before every
    /// event, so the integral is exact.
    #[inline]
    pub fn advance(&mut self, now: SimTime, totals: &Resources, allocatable: &Resources) {
        let dt = now.saturating_since(self.last_change).as_nanos() as u128;
        if dt > 0 {
            self.requested_integral[0] += totals.cpu_milli.max(0) as u128 * dt;
            self.requested_integral[1] += totals.mem_bytes.max(0) as u128 * dt;
            self.allocatable_integral[0] += allocatable.cpu_milli.max(0) as u128 * dt;
            self.allocatable_integral[1] += allocatable.mem_bytes.max(0) as u128 * dt;
            self.requested_integral[2] += totals.gpu_milli.max(0) as u128 * dt;
            self.allocatable_integral[2] += allocatable.gpu_milli.max(0) as u128 * dt;
            self.down_integral += self.nodes_down as u128 * dt;
            self.last_change = now;
        }
    }

    /// Records the number of failed nodes after a change (for node availability).
    #[inline]
    pub fn observe_nodes_down(&mut self, down: u32) {
        self.nodes_down = down;
    }

    /// A pod replacing one lost to a node failure at `failed_at` is Running.
    pub fn on_replacement_running(&mut self, failed_at: SimTime, now: SimTime) {
        let _ = self.replacement_us.record(now.saturating_since(failed_at).as_nanos() / 1_000);
    }

    /// Failure columns of `summary.csv`.
    pub fn failure_summary(
        &self,
        cluster: &ClusterState,
        end: SimTime,
        failures: u64,
        evicted: u64,
    ) -> Vec<(String, Cell)> {
        let node_ns: u128 = cluster.nodes.iter().map(|n| node_lifetime(n, end).as_nanos() as u128).sum();
        let availability = if node_ns == 0 {
            Cell::Missing
        } else {
            Cell::Float(1.0 - self.down_integral as f64 / node_ns as f64)
        };
        vec![
            ("node_failures".to_string(), Cell::Int(failures)),
            ("node_availability".to_string(), availability),
            ("pods_evicted".to_string(), Cell::Int(evicted)),
            ("replacement_latency_p50_s".to_string(), Self::quantile_s(&self.replacement_us, 0.5)),
            ("replacement_latency_max_s".to_string(), Self::max_s(&self.replacement_us)),
        ]
    }

    /// Updates the peak allocation after a change.
    #[inline]
    pub fn observe_peak(&mut self, totals: &Resources, allocatable: &Resources) {
        let cpu = Frac { num: totals.cpu_milli, den: allocatable.cpu_milli };
        let mem = Frac { num: totals.mem_bytes, den: allocatable.mem_bytes };
        if cpu.greater_than(self.peak[0]) {
            self.peak[0] = cpu;
        }
        if mem.greater_than(self.peak[1]) {
            self.peak[1] = mem;
        }
        let gpu = Frac { num: totals.gpu_milli, den: allocatable.gpu_milli };
        if gpu.greater_than(self.peak[2]) {
            self.peak[2] = gpu;
        }
    }

    pub fn on_bound(&mut self, created: SimTime, now: SimTime) {
        self.bound_since_sample += 1;
        let _ = self.scheduling_us.record(now.saturating_since(created).as_nanos() / 1_000);
    }

    pub fn on_running(&mut self, created: SimTime, now: SimTime) {
        let _ = self.startup_us.record(now.saturating_since(created).as_nanos() / 1_000);
    }

    /// Appends a time-series row for `now`.
    pub fn sample(&mut self, cluster: &ClusterState, now: SimTime, extra: Vec<Cell>) {
        let t = &cluster.totals;
        let span = now.saturating_since(self.last_sample);
        let throughput =
            if span > SimDuration::ZERO { self.bound_since_sample as f64 / span.as_secs_f64() } else { 0.0 };
        self.samples.push(Sample {
            time: now,
            nodes_ready: t.nodes_ready,
            nodes_down: t.nodes_down,
            pods_running: cluster.pods_in(PodPhase::Running),
            pods_pending: cluster.pods_in(PodPhase::Pending),
            pods_starting: cluster.pods_in(PodPhase::Bound),
            pods_terminating: self.track_terminating.then(|| cluster.pods_in(PodPhase::Terminating)),
            cpu_allocation: ratio(t.requested.cpu_milli, t.allocatable_ready.cpu_milli),
            memory_allocation: ratio(t.requested.mem_bytes, t.allocatable_ready.mem_bytes),
            gpu_allocation: self
                .track_gpu
                .then(|| ratio(t.requested.gpu_milli, t.allocatable_ready.gpu_milli)),
            scheduling_throughput: throughput,
            cost: Self::cost_until(cluster, now),
            extra,
        });
        self.bound_since_sample = 0;
        self.last_sample = now;
    }

    fn quantile_s(h: &Histogram<u64>, q: f64) -> Cell {
        if h.is_empty() { Cell::Missing } else { Cell::Float(h.value_at_quantile(q) as f64 / 1e6) }
    }

    /// Pod start-up latency (created → Running) at the quantiles 0.00, 0.01, …, 1.00, in
    /// seconds (upper edges of the histogram's buckets); empty if no pod started.
    pub fn startup_quantiles_s(&self) -> Vec<(f64, f64)> {
        if self.startup_us.is_empty() {
            return Vec::new();
        }
        (0..=100)
            .map(|i| {
                let q = i as f64 / 100.0;
                (q, self.startup_us.value_at_quantile(q) as f64 / 1e6)
            })
            .collect()
    }

    fn max_s(h: &Histogram<u64>) -> Cell {
        if h.is_empty() { Cell::Missing } else { Cell::Float(h.max() as f64 / 1e6) }
    }

    /// The summary columns, in output order. `end` is the end of the run.
    pub fn summary(
        &self,
        cluster: &ClusterState,
        sched: &SchedulerStats,
        seed: u64,
        end: SimTime,
        events: u64,
    ) -> Vec<(String, Cell)> {
        let mean = |i: usize| {
            if self.allocatable_integral[i] == 0 {
                Cell::Float(0.0)
            } else {
                Cell::Float(self.requested_integral[i] as f64 / self.allocatable_integral[i] as f64)
            }
        };
        let peak = |i: usize| Cell::Float(ratio(self.peak[i].num, self.peak[i].den));
        // Node-hours, GPU-hours and cost from each node's lifetime within the run.
        let mut node_ns: u128 = 0;
        let mut gpu_milli_ns: u128 = 0;
        let mut cost_ns: f64 = 0.0;
        let mut per_pool_ns = vec![0u128; cluster.pools.len()];
        for n in &cluster.nodes {
            let ns = node_lifetime(n, end).as_nanos() as u128;
            node_ns += ns;
            gpu_milli_ns += n.allocatable.gpu_milli.max(0) as u128 * ns;
            per_pool_ns[n.pool.index()] += ns;
        }
        for (pool, ns) in cluster.pools.iter().zip(&per_pool_ns) {
            cost_ns += pool.price_per_hour * (*ns as f64 / 3.6e12);
        }
        let c = |p: PodPhase| Cell::Int(cluster.pods_in(p));
        let per_pool: Vec<(String, Cell)> = cluster
            .pools
            .iter()
            .zip(&per_pool_ns)
            .map(|(pool, ns)| {
                (format!("cost_pool_{}", pool.name), Cell::Float(pool.price_per_hour * (*ns as f64 / 3.6e12)))
            })
            .collect();
        let mut columns: Vec<(&str, Cell)> = vec![
            ("seed", Cell::Int(seed)),
            ("simulated_s", Cell::Float(end.as_secs_f64())),
            ("events_processed", Cell::Int(events)),
            ("nodes", Cell::Int(cluster.nodes.len() as u64 - u64::from(cluster.totals.nodes_removed))),
            ("pods_created", Cell::Int(cluster.totals.pods_created)),
            ("pods_scheduled", Cell::Int(sched.scheduled)),
            ("pods_running_end", c(PodPhase::Running)),
            ("pods_starting_end", c(PodPhase::Bound)),
            ("pods_pending_end", c(PodPhase::Pending)),
            ("pods_succeeded", c(PodPhase::Succeeded)),
            ("pods_failed", c(PodPhase::Failed)),
            ("pods_deleted", c(PodPhase::Deleted)),
            ("scheduling_attempts", Cell::Int(sched.attempts)),
            ("unschedulable_attempts", Cell::Int(sched.unschedulable_attempts)),
            ("nodes_examined", Cell::Int(sched.nodes_examined)),
            ("pod_startup_p50_s", Self::quantile_s(&self.startup_us, 0.50)),
            ("pod_startup_p90_s", Self::quantile_s(&self.startup_us, 0.90)),
            ("pod_startup_p99_s", Self::quantile_s(&self.startup_us, 0.99)),
            ("pod_startup_max_s", Self::max_s(&self.startup_us)),
            ("scheduling_latency_p50_s", Self::quantile_s(&self.scheduling_us, 0.50)),
            ("scheduling_latency_p99_s", Self::quantile_s(&self.scheduling_us, 0.99)),
            ("cpu_allocation_mean", mean(0)),
            ("cpu_allocation_peak", peak(0)),
            ("memory_allocation_mean", mean(1)),
            ("memory_allocation_peak", peak(1)),
            ("node_hours", Cell::Float(node_ns as f64 / 3.6e12)),
            ("cost", Cell::Float(cost_ns)),
        ];
        if self.track_terminating {
            let at = columns.iter().position(|(k, _)| *k == "pods_deleted").map_or(columns.len(), |i| i + 1);
            columns.insert(at, ("pods_terminating_end", c(PodPhase::Terminating)));
        }
        let mut after_cost = Vec::new();
        // GPU allocation (GPU milli-units requested / allocatable on Ready nodes), GPU-hours
        // and the cost per allocated GPU-hour in clusters that have GPUs.
        if self.track_gpu {
            let at = columns
                .iter()
                .position(|(k, _)| *k == "memory_allocation_peak")
                .map_or(columns.len(), |i| i + 1);
            columns.insert(at, ("gpu_allocation_peak", peak(2)));
            columns.insert(at, ("gpu_allocation_mean", mean(2)));
            // GPU milli × ns → GPU-hours. The requested GPU milli integrates every bound
            // pod's GPUs (shares as their milli) from its placement to its release.
            let gpu_hours = |milli_ns: u128| milli_ns as f64 / (1000.0 * 3.6e12);
            let allocated = gpu_hours(self.requested_integral[2]);
            let at = columns.iter().position(|(k, _)| *k == "cost").unwrap_or(columns.len());
            columns.insert(at, ("gpu_hours_allocated", Cell::Float(allocated)));
            columns.insert(at, ("gpu_hours", Cell::Float(gpu_hours(gpu_milli_ns))));
            let per_gpu_hour =
                if self.requested_integral[2] > 0 { Cell::Float(cost_ns / allocated) } else { Cell::Missing };
            after_cost.push(("cost_per_allocated_gpu_hour".to_string(), per_gpu_hour));
        }
        columns.into_iter().map(|(k, v)| (k.to_string(), v)).chain(per_pool).chain(after_cost).collect()
    }

    /// Cost of the nodes up to `t` (each node from its creation), in the pools' currency.
    pub fn cost_until(cluster: &ClusterState, t: SimTime) -> f64 {
        cluster
            .nodes
            .iter()
            .map(|n| {
                cluster.pools[n.pool.index()].price_per_hour * (node_lifetime(n, t).as_secs_f64() / 3600.0)
            })
            .sum()
    }
}

/// How long `n` existed up to `t` (from its creation to its removal, if removed before).
fn node_lifetime(n: &crate::cluster::Node, t: SimTime) -> SimDuration {
    n.removed_at.map_or(t, |r| r.min(t)).saturating_since(n.created_at)
}
