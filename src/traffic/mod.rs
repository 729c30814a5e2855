//! Request traffic served by pods. Each Deployment with a `service` is one service: an
//! arrival process, a load balancer over its Ready pods, and per pod `concurrency` workers
//! serving requests first-come first-served with an optional queue limit and client
//! deadline.
//!
//! Requests never become engine events. FCFS with c workers lets a request's start time be
//! computed when it arrives (the earliest time one of the pod's workers is free after all
//! earlier requests took theirs; a request that would wait until its deadline or longer leaves the
//! queue then and never takes a worker), so each request costs one entry in a per-service
//! completion queue, drained in time order. `advance_to(t)` (called by the simulation
//! before every event) generates and serves all arrivals up to `t`; arrivals at the same
//! instant as an event are served before it. Memory does not grow with requests served:
//! latencies go to HDR histograms.

pub mod load;

use crate::cluster::{DeploymentId, PodId};
use crate::engine::{EventQueue, RngStream, SimTime, StreamId, rng};
use crate::metrics::Cell;
use crate::scenario::distribution::Sampler;
use crate::scenario::schema::{LoadBalancingSpec, LoadSpec, Scenario};
use hdrhistogram::Histogram;
use load::ArrivalProcess;
use rand_core::Rng;
use std::sync::Arc;

/// Service i uses streams `TRAFFIC_BASE + 8 i + {0 arrivals, 1 service times, 2 routing}`.
pub const TRAFFIC_BASE: u64 = 10_000;

/// Where a service time comes from.
enum ServiceTime {
    Distribution(Sampler),
    /// Uniform choice among values, nanoseconds.
    Empirical(Arc<Vec<u64>>),
    /// The trace gives it per arrival.
    FromTrace,
}

/// A worker slot: the instant it finishes all the work assigned to it so far.
#[derive(Clone, Copy, Debug, Default)]
struct Worker {
    free_at: u64,
}

struct PodSlot {
    stopped: bool,
    workers: Vec<Worker>,
    /// Requests admitted and not yet finished (waiting + in service).
    outstanding: u32,
    /// Σ arrival times of the outstanding requests (to close their sojourns if the pod
    /// stops).
    arrival_sum: u128,
    /// Service time of every request ever assigned to a worker here, ns (including work
    /// still queued or in progress).
    assigned_busy: u128,
    /// metrics-server state: the busy time and instant of the previous scrape, and the
    /// published usage.
    scrape_cum: u128,
    scrape_at: u64,
    cpu_usage_milli: u64,
    /// Requests routed here, the count at the previous scrape, and the published rate
    /// (milli-requests per second).
    arrivals: u64,
    scrape_arrivals: u64,
    rps_milli: u64,
}

/// What metrics-server (and a custom-metrics adapter for requests per second) last
/// published for a pod.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PodUsage {
    pub cpu_milli: u64,
    pub requests_per_second_milli: u64,
    /// When it was scraped; the values average the period before.
    pub at: SimTime,
}

impl PodSlot {
    /// Busy worker-nanoseconds up to `t`, for `t` at or after every arrival served so far:
    /// all work ever assigned minus what remains after `t`. The remainder on a worker is
    /// exactly `free_at − t`, because work queued behind a busy worker starts the instant
    /// the previous request ends (its arrival was earlier), so a worker has no idle gap
    /// between `t` and `free_at`.
    fn busy_cum(&self, t: u64) -> u128 {
        let remaining: u128 = self.workers.iter().map(|w| w.free_at.saturating_sub(t) as u128).sum();
        self.assigned_busy - remaining
    }
}

/// `n` workers free from `t`, for a new serving pod of `service` (Deployment `deployment`).
/// The budget check (`scenario::budget`) refuses a concurrency this machine cannot hold, so
/// the allocation can only fail under `--no-limits`; it then ends the run with a message
/// naming the field (the caller catches it) instead of aborting the process.
fn idle_workers(n: u32, t: u64, deployment: DeploymentId, service: &str) -> Vec<Worker> {
    let mut workers = Vec::new();
    if workers.try_reserve_exact(n as usize).is_err() {
        panic!(
            "deployments[{}].service.concurrency: out of memory for {n} worker slots of a pod of {service:?} ({} bytes); expected a smaller concurrency",
            deployment.index(),
            u64::from(n) * std::mem::size_of::<Worker>() as u64
        );
    }
    workers.resize(n as usize, Worker { free_at: t });
    workers
}

#[derive(Clone, Copy, Debug)]
enum Outcome {
    /// Served; the latency is arrival → finish.
    Served { latency: u64 },
    /// Left the queue at its deadline.
    Abandoned { waited: u64 },
}

#[derive(Clone, Copy, Debug)]
struct Finish {
    slot: u32,
    outcome: Outcome,
}

/// Request counts, per run and per interval.
#[derive(Clone, Copy, Debug, Default)]
struct Counts {
    arrivals: u64,
    succeeded: u64,
    slo_met: u64,
    rejected_queue_full: u64,
    rejected_no_endpoint: u64,
    timeouts: u64,
    failed: u64,
    /// Admitted requests given a worker, how many of them waited for it, and their total
    /// wait (ns).
    assigned: u64,
    waited: u64,
    wait_sum: u128,
}

fn histogram() -> Histogram<u64> {
    Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant digits is a valid precision"))
}

pub struct Service {
    pub name: String,
    pub deployment: DeploymentId,
    concurrency: u32,
    queue_limit: Option<u32>,
    timeout: Option<u64>,
    slo: u64,
    availability_slo: f64,
    lb: LoadBalancingSpec,
    cpu_per_worker_milli: u64,
    idle_cpu_milli: u64,
    service_time: ServiceTime,
    arrivals: ArrivalProcess,
    next: Option<load::Arrival>,
    arrivals_rng: RngStream,
    service_rng: RngStream,
    route_rng: RngStream,
    slots: Vec<PodSlot>,
    endpoints: Vec<u32>,
    rr: usize,
    finishes: EventQueue<Finish>,
    // Bookkeeping for Little's law and utilisation.
    in_system: u64,
    in_system_integral: u128,
    last_change: u64,
    sojourn_sum: u128,
    /// Busy time of pods that stopped, up to their stop (the rest of their work is lost).
    stopped_busy: u128,
    ready_workers: u64,
    capacity_integral: u128,
    capacity_at: u64,
    /// Time with at least one pod serving, ns.
    available_ns: u128,
    // Results.
    total: Counts,
    interval: Counts,
    latency_total: Histogram<u64>,
    latency_interval: Histogram<u64>,
    interval_busy_start: u128,
    interval_capacity_start: u128,
}

impl Service {
    #[inline]
    fn change_in_system(&mut self, t: u64, delta_up: bool, n: u64) {
        self.in_system_integral += self.in_system as u128 * (t - self.last_change) as u128;
        self.last_change = t;
        if delta_up {
            self.in_system += n;
        } else {
            self.in_system -= n;
        }
    }

    fn advance_capacity(&mut self, t: u64) {
        let dt = t.saturating_sub(self.capacity_at);
        if self.ready_workers > 0 {
            self.available_ns += dt as u128;
        }
        self.capacity_integral += self.ready_workers as u128 * dt as u128;
        self.capacity_at = t.max(self.capacity_at);
    }

    /// Finishes every request that ends at or before `t`, in time order.
    #[inline]
    fn drain(&mut self, t: u64) {
        while let Some(at) = self.finishes.peek_time() {
            if at.0 > t {
                break;
            }
            let Some((at, f)) = self.finishes.pop() else { break };
            let at = at.0;
            let slot = &mut self.slots[f.slot as usize];
            if slot.stopped {
                continue; // already counted as failed when the pod stopped
            }
            slot.outstanding -= 1;
            let sojourn = match f.outcome {
                Outcome::Served { latency } => latency,
                Outcome::Abandoned { waited } => waited,
            };
            slot.arrival_sum -= (at - sojourn) as u128;
            self.sojourn_sum += sojourn as u128;
            self.change_in_system(at, false, 1);
            match f.outcome {
                Outcome::Served { latency, .. } if self.timeout.is_none_or(|to| latency <= to) => {
                    self.total.succeeded += 1;
                    self.interval.succeeded += 1;
                    if latency <= self.slo {
                        self.total.slo_met += 1;
                        self.interval.slo_met += 1;
                    }
                    let us = latency / 1_000;
                    let _ = self.latency_total.record(us);
                    let _ = self.latency_interval.record(us);
                }
                _ => {
                    self.total.timeouts += 1;
                    self.interval.timeouts += 1;
                }
            }
        }
    }

    #[inline]
    fn draw_service(&mut self, from_trace: Option<u64>) -> u64 {
        match &self.service_time {
            ServiceTime::Distribution(s) => s.sample(&mut self.service_rng).as_nanos(),
            ServiceTime::Empirical(values) => {
                let i = ((self.service_rng.next_u64() as u128 * values.len() as u128) >> 64) as usize;
                values[i]
            }
            ServiceTime::FromTrace => from_trace.unwrap_or(0),
        }
    }

    #[inline]
    fn uniform(&mut self, n: usize) -> usize {
        ((self.route_rng.next_u64() as u128 * n as u128) >> 64) as usize
    }

    #[inline]
    fn pick(&mut self) -> u32 {
        let n = self.endpoints.len();
        match self.lb {
            LoadBalancingSpec::Random => {
                let i = self.uniform(n);
                self.endpoints[i]
            }
            LoadBalancingSpec::RoundRobin => {
                self.rr = (self.rr + 1) % n;
                self.endpoints[self.rr]
            }
            LoadBalancingSpec::LeastOutstanding => {
                // Full scan from a rotating start, first minimum wins (two slices, no
                // division in the loop).
                self.rr = if self.rr + 1 >= n { 0 } else { self.rr + 1 };
                let (tail, head) = self.endpoints.split_at(self.rr);
                let mut best = head[0];
                let mut best_n = u32::MAX;
                for &s in head.iter().chain(tail) {
                    let o = self.slots[s as usize].outstanding;
                    if o < best_n {
                        best = s;
                        best_n = o;
                        if o == 0 {
                            break;
                        }
                    }
                }
                best
            }
            LoadBalancingSpec::PowerOfTwoChoices => {
                if n == 1 {
                    return self.endpoints[0];
                }
                let a = self.uniform(n);
                let mut b = self.uniform(n - 1);
                if b >= a {
                    b += 1;
                }
                let (sa, sb) = (self.endpoints[a], self.endpoints[b]);
                if self.slots[sb as usize].outstanding < self.slots[sa as usize].outstanding {
                    sb
                } else {
                    sa
                }
            }
        }
    }

    /// Serves one arrival at `t` (after finishes up to `t` were drained).
    #[inline]
    fn arrive(&mut self, t: u64, trace_service: Option<u64>) {
        self.total.arrivals += 1;
        self.interval.arrivals += 1;
        if self.endpoints.is_empty() {
            self.total.rejected_no_endpoint += 1;
            self.interval.rejected_no_endpoint += 1;
            return;
        }
        let s = self.pick() as usize;
        self.slots[s].arrivals += 1;
        if self.slots[s].stopped {
            // Routed to a pod on a failed node that still looks Ready: the request fails.
            self.total.failed += 1;
            self.interval.failed += 1;
            return;
        }
        let service = self.draw_service(trace_service);
        let slot = &mut self.slots[s];
        // FCFS: the earliest-free worker takes this request.
        let mut wi = 0;
        for (i, w) in slot.workers.iter().enumerate() {
            if w.free_at < slot.workers[wi].free_at {
                wi = i;
            }
        }
        let start = slot.workers[wi].free_at.max(t);
        if start > t
            && let Some(limit) = self.queue_limit
        {
            let busy = slot.workers.iter().filter(|w| w.free_at > t).count() as u32;
            if slot.outstanding - busy >= limit {
                self.total.rejected_queue_full += 1;
                self.interval.rejected_queue_full += 1;
                return;
            }
        }
        let (finish_at, outcome) = match self.timeout {
            Some(to) if start - t >= to => (t + to, Outcome::Abandoned { waited: to }),
            _ => {
                // Saturates: a service time can be a huge draw (a lognormal with a large
                // sigma); the request then never finishes within the run.
                let end = start.saturating_add(service);
                slot.workers[wi] = Worker { free_at: end };
                slot.assigned_busy += service as u128;
                self.total.assigned += 1;
                if start > t {
                    self.total.waited += 1;
                    self.total.wait_sum += (start - t) as u128;
                }
                (end, Outcome::Served { latency: end - t })
            }
        };
        slot.outstanding += 1;
        slot.arrival_sum += t as u128;
        self.change_in_system(t, true, 1);
        self.finishes.push(SimTime(finish_at), Finish { slot: s as u32, outcome });
    }

    /// Generates and serves every arrival at or before `t`, then drains finishes up to `t`.
    pub fn advance_to(&mut self, t: u64) {
        while let Some(a) = self.next {
            if a.at.0 > t {
                break;
            }
            self.drain(a.at.0);
            self.arrive(a.at.0, a.service_ns);
            self.next = self.arrivals.next(&mut self.arrivals_rng);
        }
        self.drain(t);
    }

    fn add_endpoint(&mut self, t: u64) -> u32 {
        self.advance_capacity(t);
        self.ready_workers += self.concurrency as u64;
        self.slots.push(PodSlot {
            stopped: false,
            workers: idle_workers(self.concurrency, t, self.deployment, &self.name),
            outstanding: 0,
            arrival_sum: 0,
            assigned_busy: 0,
            scrape_cum: 0,
            scrape_at: t,
            cpu_usage_milli: self.idle_cpu_milli,
            arrivals: 0,
            scrape_arrivals: 0,
            rps_milli: 0,
        });
        let s = (self.slots.len() - 1) as u32;
        self.endpoints.push(s);
        s
    }

    /// The pod stopped serving: everything it held fails, in-progress work up to `t` counts
    /// as busy time. It stays an endpoint until `remove_endpoint` (requests routed to it
    /// meanwhile fail).
    fn kill(&mut self, s: u32, t: u64) {
        let slot = &mut self.slots[s as usize];
        if slot.stopped {
            return;
        }
        slot.stopped = true;
        let n = slot.outstanding as u64;
        let worked = slot.busy_cum(t);
        let sojourns = n as u128 * t as u128 - slot.arrival_sum;
        // A stopped slot's workers are never looked at again (arrivals routed to it fail,
        // its finishes are skipped): free them, so memory follows the pods still serving.
        slot.workers = Vec::new();
        slot.outstanding = 0;
        slot.arrival_sum = 0;
        self.stopped_busy += worked;
        self.total.failed += n;
        self.interval.failed += n;
        self.sojourn_sum += sojourns;
        self.change_in_system(t, false, n);
        self.advance_capacity(t);
        self.ready_workers -= self.concurrency as u64;
    }

    /// The pod no longer receives traffic.
    fn remove_endpoint(&mut self, s: u32) {
        if let Some(pos) = self.endpoints.iter().position(|&e| e == s) {
            self.endpoints.remove(pos);
            if self.rr >= self.endpoints.len() {
                self.rr = 0;
            }
        }
    }

    /// Busy worker-nanoseconds of the whole service up to `t`.
    fn busy_cum(&self, t: u64) -> u128 {
        self.stopped_busy + self.slots.iter().filter(|s| !s.stopped).map(|s| s.busy_cum(t)).sum::<u128>()
    }

    fn outstanding(&self) -> u64 {
        self.slots.iter().map(|s| s.outstanding as u64).sum()
    }
}

/// All services of a run.
pub struct Traffic {
    pub services: Vec<Service>,
    /// Per sample: its time and whether every service was within its SLO in the interval
    /// it closes (availability at least `availabilitySlo`, p99 within `latencySlo`).
    healthy: Vec<(SimTime, bool)>,
    /// Service index of each Deployment, if it serves traffic.
    by_deployment: Vec<Option<u32>>,
    /// (service, slot) of each pod that ever became an endpoint, indexed by pod.
    slot_of: std::collections::BTreeMap<PodId, (u32, u32)>,
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

impl Traffic {
    /// Builds the services of a validated scenario with resolved inputs.
    pub fn new(s: &Scenario, seed: u64) -> Result<Self, String> {
        let mut services = Vec::new();
        let mut by_deployment = vec![None; s.deployments.len()];
        for (di, d) in s.deployments.iter().enumerate() {
            let Some(svc) = &d.service else { continue };
            let at = |f: &str| format!("deployments[{di}].service.{f}");
            let trace = match &svc.load {
                LoadSpec::Trace(t) => {
                    let key = (t.file.clone(), t.time_column.clone(), t.service_time_column.clone());
                    Some(
                        s.inputs
                            .traces
                            .get(&key)
                            .cloned()
                            .ok_or_else(|| format!("{}: trace not loaded", at("load")))?,
                    )
                }
                _ => None,
            };
            let from_trace = trace.as_ref().is_some_and(|t| t.service_ns.is_some());
            let service_time = if let Some(dist) = &svc.service_time {
                ServiceTime::Distribution(dist.sampler().map_err(|e| format!("{}: {e}", at("serviceTime")))?)
            } else if let Some(col) = &svc.service_time_csv {
                let values = s
                    .inputs
                    .columns
                    .get(&(col.file.clone(), col.column.clone()))
                    .ok_or_else(|| format!("{}: column not loaded", at("serviceTimeCsv")))?;
                ServiceTime::Empirical(Arc::new(values.iter().map(|v| (v * 1e9).round() as u64).collect()))
            } else if from_trace {
                ServiceTime::FromTrace
            } else {
                return Err(format!("{}: no service time", at("serviceTime")));
            };
            let i = services.len() as u64;
            let base = TRAFFIC_BASE + 8 * i;
            let mut arrivals_rng = rng::stream(seed, StreamId(base));
            let mut arrivals =
                ArrivalProcess::new(&svc.load, trace).map_err(|e| format!("{}: {e}", at("load")))?;
            let next = arrivals.next(&mut arrivals_rng);
            by_deployment[di] = Some(services.len() as u32);
            services.push(Service {
                name: d.name.clone(),
                deployment: DeploymentId(di as u32),
                concurrency: svc.concurrency,
                queue_limit: svc.queue_limit,
                timeout: svc.timeout.map(|t| t.0.as_nanos()),
                slo: svc.latency_slo.0.as_nanos(),
                availability_slo: svc.availability_slo,
                lb: svc.load_balancing,
                cpu_per_worker_milli: svc.cpu_per_worker.0 as u64,
                idle_cpu_milli: svc.idle_cpu.0 as u64,
                service_time,
                arrivals,
                next,
                arrivals_rng,
                service_rng: rng::stream(seed, StreamId(base + 1)),
                route_rng: rng::stream(seed, StreamId(base + 2)),
                slots: Vec::new(),
                endpoints: Vec::new(),
                rr: 0,
                finishes: EventQueue::with_capacity(1024),
                in_system: 0,
                in_system_integral: 0,
                last_change: 0,
                sojourn_sum: 0,
                stopped_busy: 0,
                ready_workers: 0,
                capacity_integral: 0,
                capacity_at: 0,
                available_ns: 0,
                total: Counts::default(),
                interval: Counts::default(),
                latency_total: histogram(),
                latency_interval: histogram(),
                interval_busy_start: 0,
                interval_capacity_start: 0,
            });
        }
        Ok(Traffic {
            services,
            by_deployment,
            slot_of: std::collections::BTreeMap::new(),
            healthy: Vec::new(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    /// Serves every arrival at or before `t`.
    #[inline]
    pub fn advance_to(&mut self, t: SimTime) {
        for s in &mut self.services {
            s.advance_to(t.0);
        }
    }

    /// A pod of `deployment` became Ready: it starts receiving traffic.
    pub fn pod_ready(&mut self, deployment: DeploymentId, pod: PodId, t: SimTime) {
        let Some(Some(si)) = self.by_deployment.get(deployment.index()).copied() else { return };
        let slot = self.services[si as usize].add_endpoint(t.0);
        self.slot_of.insert(pod, (si, slot));
    }

    /// Drops the records of a pod whose storage was released.
    pub fn forget(&mut self, pod: PodId) {
        self.slot_of.remove(&pod);
    }

    /// A pod stopped and was removed (deleted, evicted, lost): its queued and in-flight
    /// requests fail and it receives no more traffic.
    pub fn pod_stopped(&mut self, pod: PodId, t: SimTime) {
        if let Some((si, slot)) = self.slot_of.get(&pod).copied() {
            self.services[si as usize].kill(slot, t.0);
            self.services[si as usize].remove_endpoint(slot);
        }
    }

    /// The pod's node failed: its requests fail, and requests still routed to it fail
    /// until `pod_not_ready` removes it from the endpoints.
    pub fn pod_dead(&mut self, pod: PodId, t: SimTime) {
        if let Some((si, slot)) = self.slot_of.get(&pod).copied() {
            self.services[si as usize].kill(slot, t.0);
        }
    }

    /// The pod was marked NotReady (its node was found unreachable): no more traffic.
    pub fn pod_not_ready(&mut self, pod: PodId) {
        if let Some((si, slot)) = self.slot_of.get(&pod).copied() {
            self.services[si as usize].remove_endpoint(slot);
        }
    }

    /// metrics-server scrape at `t`: each Ready pod's CPU usage over the last period.
    pub fn scrape(&mut self, t: SimTime) {
        for s in &mut self.services {
            for slot in s.slots.iter_mut().filter(|p| !p.stopped) {
                let cum = slot.busy_cum(t.0);
                let span = t.0.saturating_sub(slot.scrape_at);
                if span > 0 {
                    let busy = (cum - slot.scrape_cum) as f64 / span as f64;
                    slot.cpu_usage_milli =
                        (busy * s.cpu_per_worker_milli as f64).round() as u64 + s.idle_cpu_milli;
                    slot.rps_milli = ((slot.arrivals - slot.scrape_arrivals) as u128 * 1_000_000_000_000
                        / span as u128) as u64;
                }
                slot.scrape_arrivals = slot.arrivals;
                slot.scrape_cum = cum;
                slot.scrape_at = t.0;
            }
        }
    }

    /// What was last published for a pod (`None` if it has no serving slot).
    pub fn pod_usage(&self, pod: PodId) -> Option<PodUsage> {
        let (si, slot) = self.slot_of.get(&pod).copied()?;
        let p = &self.services[si as usize].slots[slot as usize];
        (!p.stopped).then_some(PodUsage {
            cpu_milli: p.cpu_usage_milli,
            requests_per_second_milli: p.rps_milli,
            at: SimTime(p.scrape_at),
        })
    }

    /// The CPU usage metrics-server last published for a pod, millicores.
    pub fn pod_cpu_usage_milli(&self, pod: PodId) -> Option<u64> {
        let (si, slot) = self.slot_of.get(&pod).copied()?;
        let p = &self.services[si as usize].slots[slot as usize];
        (!p.stopped).then_some(p.cpu_usage_milli)
    }

    /// Names of the per-service time-series columns, in `sample` order.
    pub fn timeseries_columns(&self) -> Vec<String> {
        let mut out = Vec::new();
        for s in &self.services {
            for c in TIMESERIES_COLUMNS {
                out.push(format!("svc_{}_{c}", s.name));
            }
        }
        out
    }

    /// One time-series row's per-service cells at `t`, and the start of a new interval.
    pub fn sample(&mut self, t: SimTime) -> Vec<Cell> {
        let mut out = Vec::new();
        let mut all_healthy = true;
        for s in &mut self.services {
            let i = s.interval;
            let p99_ok =
                s.latency_interval.is_empty() || s.latency_interval.value_at_quantile(0.99) <= s.slo / 1_000;
            let bad = i.failed + i.timeouts + i.rejected_queue_full + i.rejected_no_endpoint;
            let judged = i.succeeded + bad;
            let available = judged == 0 || i.succeeded as f64 >= s.availability_slo * judged as f64;
            all_healthy &= available && p99_ok;
            s.advance_capacity(t.0);
            let busy = s.busy_cum(t.0);
            let capacity = s.capacity_integral;
            let util = if capacity > s.interval_capacity_start {
                (busy - s.interval_busy_start) as f64 / (capacity - s.interval_capacity_start) as f64
            } else {
                0.0
            };
            let q = |h: &Histogram<u64>, p: f64| {
                if h.is_empty() { Cell::Missing } else { Cell::Float(h.value_at_quantile(p) as f64 / 1e3) }
            };
            let i = s.interval;
            let usage: u64 = s.slots.iter().filter(|p| !p.stopped).map(|p| p.cpu_usage_milli).sum();
            out.extend([
                Cell::Int(i.arrivals),
                Cell::Int(i.succeeded),
                Cell::Int(i.rejected_queue_full + i.rejected_no_endpoint),
                Cell::Int(i.timeouts),
                Cell::Int(i.failed),
                q(&s.latency_interval, 0.50),
                q(&s.latency_interval, 0.90),
                q(&s.latency_interval, 0.99),
                if s.latency_interval.is_empty() {
                    Cell::Missing
                } else {
                    Cell::Float(s.latency_interval.max() as f64 / 1e3)
                },
                Cell::Int(s.outstanding()),
                Cell::Float(util),
                Cell::Int(s.endpoints.len() as u64),
                Cell::Float(usage as f64 / 1e3),
            ]);
            s.interval = Counts::default();
            s.latency_interval.reset();
            s.interval_busy_start = busy;
            s.interval_capacity_start = capacity;
        }
        if !self.services.is_empty() {
            self.healthy.push((t, all_healthy));
        }
        out
    }

    /// Time from `last_failure` until every service stays healthy for the rest of the run
    /// (at sample granularity): the end of the last unhealthy interval after the failure,
    /// minus the failure time. Missing when nothing failed, there is no service, or the
    /// last interval is still unhealthy.
    pub fn time_to_recover(&self, last_failure: Option<SimTime>) -> Cell {
        let Some(f) = last_failure else { return Cell::Missing };
        if self.healthy.last().is_none_or(|(_, ok)| !ok) {
            return Cell::Missing;
        }
        let recovered = self.healthy.iter().rev().find(|(_, ok)| !ok).map_or(f, |(t, _)| *t).max(f);
        Cell::Float(recovered.saturating_since(f).as_secs_f64())
    }

    /// Summary columns at the end of the run: all services together, then each service.
    pub fn summary(&mut self, end: SimTime) -> Vec<(String, Cell)> {
        let t = end.0;
        let mut out = Vec::new();
        if self.services.is_empty() {
            return out;
        }
        let mut all = Counts::default();
        let mut hist = histogram();
        let mut known = 0u64;
        for s in &mut self.services {
            s.advance_to(t);
            s.advance_capacity(t);
            let c = s.total;
            all.arrivals += c.arrivals;
            all.succeeded += c.succeeded;
            all.slo_met += c.slo_met;
            all.rejected_queue_full += c.rejected_queue_full;
            all.rejected_no_endpoint += c.rejected_no_endpoint;
            all.timeouts += c.timeouts;
            all.failed += c.failed;
            known += c.arrivals - s.outstanding();
            let _ = hist.add(&s.latency_total);
        }
        let frac =
            |num: u64, den: u64| if den == 0 { Cell::Missing } else { Cell::Float(num as f64 / den as f64) };
        let pct = |h: &Histogram<u64>, p: f64| {
            if h.is_empty() { Cell::Missing } else { Cell::Float(h.value_at_quantile(p) as f64 / 1e3) }
        };
        let max =
            |h: &Histogram<u64>| if h.is_empty() { Cell::Missing } else { Cell::Float(h.max() as f64 / 1e3) };
        out.push(("requests".into(), Cell::Int(all.arrivals)));
        out.push(("requests_succeeded".into(), Cell::Int(all.succeeded)));
        out.push(("requests_rejected".into(), Cell::Int(all.rejected_queue_full + all.rejected_no_endpoint)));
        out.push(("requests_timed_out".into(), Cell::Int(all.timeouts)));
        out.push(("requests_failed".into(), Cell::Int(all.failed)));
        out.push(("availability".into(), frac(all.succeeded, known)));
        out.push(("slo_attainment".into(), frac(all.slo_met, known)));
        out.push(("latency_p50_ms".into(), pct(&hist, 0.50)));
        out.push(("latency_p90_ms".into(), pct(&hist, 0.90)));
        out.push(("latency_p99_ms".into(), pct(&hist, 0.99)));
        out.push(("latency_max_ms".into(), max(&hist)));
        for s in &self.services {
            let c = s.total;
            let known = c.arrivals - s.outstanding();
            let secs = t as f64 / 1e9;
            let n = |k: &str| format!("svc_{}_{k}", s.name);
            out.push((n("requests"), Cell::Int(c.arrivals)));
            out.push((n("succeeded"), Cell::Int(c.succeeded)));
            out.push((n("rejected_queue_full"), Cell::Int(c.rejected_queue_full)));
            out.push((n("rejected_no_endpoint"), Cell::Int(c.rejected_no_endpoint)));
            out.push((n("timed_out"), Cell::Int(c.timeouts)));
            out.push((n("failed"), Cell::Int(c.failed)));
            out.push((n("availability"), frac(c.succeeded, known)));
            out.push((n("slo_attainment"), frac(c.slo_met, known)));
            out.push((n("latency_p50_ms"), pct(&s.latency_total, 0.50)));
            out.push((n("latency_p90_ms"), pct(&s.latency_total, 0.90)));
            out.push((n("latency_p99_ms"), pct(&s.latency_total, 0.99)));
            out.push((n("latency_max_ms"), max(&s.latency_total)));
            out.push((
                n("mean_wait_ms"),
                if c.assigned == 0 {
                    Cell::Missing
                } else {
                    Cell::Float(c.wait_sum as f64 / c.assigned as f64 / 1e6)
                },
            ));
            out.push((n("wait_probability"), frac(c.waited, c.assigned)));
            // Little's law terms: time-average number in system (from the integral of
            // N(t)), arrival rate, and mean time in system over every arrival (sojourns of
            // requests still in the system are cut at the end of the run).
            let open: u128 = s.slots.iter().map(|p| p.outstanding as u128 * t as u128 - p.arrival_sum).sum();
            let integral = s.in_system_integral + s.in_system as u128 * (t - s.last_change.min(t)) as u128;
            out.push((
                n("mean_in_system"),
                Cell::Float(if secs > 0.0 { integral as f64 / t as f64 } else { 0.0 }),
            ));
            out.push((
                n("arrival_rate_per_s"),
                Cell::Float(if secs > 0.0 { c.arrivals as f64 / secs } else { 0.0 }),
            ));
            out.push((
                n("mean_time_in_system_ms"),
                if c.arrivals == 0 {
                    Cell::Missing
                } else {
                    Cell::Float(ms(((s.sojourn_sum + open) / c.arrivals as u128) as u64))
                },
            ));
            let util = if s.capacity_integral == 0 {
                Cell::Missing
            } else {
                Cell::Float(s.busy_cum(t) as f64 / s.capacity_integral as f64)
            };
            out.push((n("utilisation"), util));
            out.push((
                n("time_available"),
                if t == 0 { Cell::Missing } else { Cell::Float(s.available_ns as f64 / t as f64) },
            ));
        }
        out
    }
}

/// Per-service time-series columns (prefixed `svc_<name>_`).
pub const TIMESERIES_COLUMNS: [&str; 13] = [
    "arrivals",
    "succeeded",
    "rejected",
    "timed_out",
    "failed",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p99_ms",
    "latency_max_ms",
    "in_flight",
    "utilisation",
    "ready_pods",
    "cpu_usage_cores",
];
