//! The control plane as a capacity: every state change upstream makes through the API
//! becomes a request that waits for its client's rate limiter, for a seat in the API
//! server's in-flight limit, for its processing and, when it writes, for etcd; watch
//! fan-out costs the server time per watcher. Off unless the scenario has `controlPlane:`,
//! and then nothing here runs, so earlier results stay byte-identical.
//!
//! - Client side: one token bucket per component (`golang.org/x/time/rate` as used by
//!   client-go's `flowcontrol.NewTokenBucketRateLimiter`: `qps` tokens per second up to
//!   `burst`; a request reserves a token and waits until it exists): the scheduler, the
//!   controller manager, and each node's kubelet.
//! - Server side (`kube-apiserver` `--max-requests-inflight` 400,
//!   `--max-mutating-requests-inflight` 200, `staging/src/k8s.io/apiserver/pkg/server/options/server_run_options.go`):
//!   read-only and mutating requests each hold one seat of their class while they are
//!   processed; requests beyond the limit wait in FIFO order (upstream's API Priority and
//!   Fairness queues and its 429s are not modelled).
//! - A mutating request is processed (`serviceTime.write`, plus the watch fan-out cost),
//!   then written to etcd: one FIFO log with `etcd.maxWritesPerSecond` and
//!   `etcd.writeLatency` (raft + fsync) after it.
//! - Watch fan-out: an Endpoints object goes whole to every kube-proxy (one watcher per
//!   node), so one change of a service with E endpoints costs nodes × E × the per-item cost
//!   (O(N²) for node-wide services); an EndpointSlice holds at most 100 endpoints, so the
//!   cost is nodes × min(E, 100).
//!
//! Requests are not engine events: the control plane keeps its own queue of arrivals and
//! completions and the simulation advances it before each event (like request traffic);
//! only a completion that someone waits for (a created pod the scheduler must see, a
//! binding, a status the SLI observes) becomes an [`crate::sim::Event::ApiDone`].

pub mod bucket;

use crate::cluster::{NodeId, PodId};
use crate::engine::{EventQueue, SimDuration, SimTime};
use crate::metrics::Cell;
use crate::scenario::schema::{ControlPlaneSpec, EndpointsModeSpec};
use crate::sim::Event;
use bucket::TokenBucket;
use hdrhistogram::Histogram;
use std::collections::{BTreeMap, VecDeque};

/// Who sends a request (each has its own rate limiter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Client {
    Scheduler,
    ControllerManager,
    Kubelet(NodeId),
    /// The event broadcaster of a component: Event objects load the server but are not
    /// throttled by the component's client (the broadcaster has its own spam filter).
    Events,
}

/// The API calls modelled, named `<verb>_<resource>` as in the SLI columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Call {
    /// ReplicaSet / Job controller creates a pod (`POST pods`).
    CreatePod,
    /// The scheduler binds a pod (`POST pods/binding`).
    CreateBinding,
    /// The scheduler or the kubelet records an Event object (`POST events`).
    CreateEvent,
    /// The kubelet reports a pod's status (`PATCH pods/status`).
    PatchPodStatus,
    /// A controller deletes a pod (scale-down, eviction: `DELETE pods`).
    DeletePod,
    /// A kubelet renews its node lease (`PUT leases`).
    UpdateLease,
    /// The endpoints controller updates a service's Endpoints or EndpointSlice.
    UpdateEndpoints,
    /// The HPA or a user changes a Deployment's scale (`PUT deployments/scale`).
    UpdateScale,
    /// The HPA lists the pods of its target (`LIST pods`, namespace scope).
    ListPods,
}

impl Call {
    pub fn name(self) -> &'static str {
        match self {
            Call::CreatePod => "post_pods",
            Call::CreateBinding => "post_bindings",
            Call::CreateEvent => "post_events",
            Call::PatchPodStatus => "patch_pods_status",
            Call::DeletePod => "delete_pods",
            Call::UpdateLease => "put_leases",
            Call::UpdateEndpoints => "put_endpoints",
            Call::UpdateScale => "put_deployments_scale",
            Call::ListPods => "list_pods",
        }
    }
    pub fn mutating(self) -> bool {
        !matches!(self, Call::ListPods)
    }
}

/// What happens in the simulation when a request completes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Then {
    Nothing,
    /// The created pod is visible to the scheduler.
    Enqueue(PodId),
    /// The binding is stored: the kubelet sees the pod.
    Bind {
        pod: PodId,
        node: NodeId,
    },
    /// The pod's Running status is stored and observed (the start-up SLI ends).
    Observed(PodId),
}

struct Request {
    call: Call,
    then: Then,
    /// When it reached the server (after client-side throttling).
    arrived: SimTime,
    /// Extra processing time (watch fan-out).
    extra: SimDuration,
    /// Objects returned (LIST).
    objects: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Internal {
    Arrive(u32),
    Done(u32),
    /// Every node renews its lease once per period; one tick per second spreads them.
    LeaseTick,
}

/// Upstream SLO windows: p99 over 5 minutes (`sig-scalability/slos/api_call_latency.md`).
const SLO_WINDOW: SimDuration = SimDuration::from_secs(300);

pub struct ControlPlane {
    cfg: ControlPlaneSpec,
    lease_period: SimDuration,
    scheduler: TokenBucket,
    controller_manager: TokenBucket,
    kubelets: Vec<TokenBucket>,
    queue: EventQueue<Internal>,
    requests: Vec<Option<Request>>,
    free_ids: Vec<u32>,
    /// Seats in use, read-only [0] and mutating [1].
    inflight: [u32; 2],
    waiting: [VecDeque<u32>; 2],
    etcd_free_at: SimTime,
    /// Live nodes (lease renewals and watchers).
    pub nodes: u64,
    /// Next node index whose lease is renewed (round-robin over the period).
    lease_cursor: u64,
    latency_us: BTreeMap<Call, Histogram<u64>>,
    class_us: [Histogram<u64>; 2],
    window_us: [Histogram<u64>; 2],
    window_end: SimTime,
    worst_window_p99_us: [u64; 2],
    interval_us: [Histogram<u64>; 2],
    pub requests_total: u64,
    pub watch_items_sent: u64,
    interval_watch_items: u64,
    interval_requests: u64,
}

fn histogram() -> Histogram<u64> {
    Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant digits is a valid precision"))
}

impl ControlPlane {
    pub fn new(cfg: ControlPlaneSpec, lease_period: SimDuration, nodes: u64) -> Self {
        let bucket = |c: &crate::scenario::schema::ClientSpec| TokenBucket::new(c.qps, c.burst);
        let mut queue = EventQueue::with_capacity(1024);
        if cfg.node_leases && nodes > 0 {
            queue.push(SimTime::ZERO + SimDuration::from_secs(1), Internal::LeaseTick);
        }
        ControlPlane {
            scheduler: bucket(&cfg.clients.scheduler),
            controller_manager: bucket(&cfg.clients.controller_manager),
            kubelets: (0..nodes).map(|_| bucket(&cfg.clients.kubelet)).collect(),
            cfg,
            lease_period,
            queue,
            requests: Vec::new(),
            free_ids: Vec::new(),
            inflight: [0, 0],
            waiting: [VecDeque::new(), VecDeque::new()],
            etcd_free_at: SimTime::ZERO,
            nodes,
            lease_cursor: 0,
            latency_us: BTreeMap::new(),
            class_us: [histogram(), histogram()],
            window_us: [histogram(), histogram()],
            window_end: SimTime::ZERO + SLO_WINDOW,
            worst_window_p99_us: [0, 0],
            interval_us: [histogram(), histogram()],
            requests_total: 0,
            watch_items_sent: 0,
            interval_watch_items: 0,
            interval_requests: 0,
        }
    }

    /// A node joined (its kubelet gets a rate limiter).
    pub fn on_node_added(&mut self, node: NodeId) {
        while self.kubelets.len() <= node.index() {
            self.kubelets
                .push(TokenBucket::new(self.cfg.clients.kubelet.qps, self.cfg.clients.kubelet.burst));
        }
        self.nodes += 1;
    }

    pub fn on_node_removed(&mut self) {
        self.nodes = self.nodes.saturating_sub(1);
    }

    /// Sends a request at `now`; `then` runs when it completes.
    pub fn submit(&mut self, now: SimTime, client: Client, call: Call, then: Then) {
        self.submit_with(now, client, call, then, SimDuration::ZERO, 0);
    }

    /// An Endpoints/EndpointSlice update for a service that now has `endpoints` endpoints:
    /// fan-out to one kube-proxy watcher per node.
    pub fn endpoints_changed(&mut self, now: SimTime, endpoints: u64) {
        let per_watcher = match self.cfg.watch.endpoints {
            EndpointsModeSpec::Endpoints => endpoints.max(1),
            EndpointsModeSpec::EndpointSlice => endpoints.clamp(1, self.cfg.watch.max_endpoints_per_slice),
        };
        let items = per_watcher.saturating_mul(self.nodes);
        self.watch_items_sent += items;
        self.interval_watch_items += items;
        let extra = SimDuration::from_nanos(self.cfg.watch.cost_per_item.0.as_nanos().saturating_mul(items));
        self.submit_with(now, Client::ControllerManager, Call::UpdateEndpoints, Then::Nothing, extra, 0);
    }

    /// `LIST` of `objects` objects.
    pub fn list(&mut self, now: SimTime, client: Client, objects: u64) {
        self.submit_with(now, client, Call::ListPods, Then::Nothing, SimDuration::ZERO, objects);
    }

    fn submit_with(
        &mut self,
        now: SimTime,
        client: Client,
        call: Call,
        then: Then,
        extra: SimDuration,
        objects: u64,
    ) {
        let bucket = match client {
            Client::Events => None,
            Client::Scheduler => Some(&mut self.scheduler),
            Client::ControllerManager => Some(&mut self.controller_manager),
            Client::Kubelet(n) => {
                if self.kubelets.len() <= n.index() {
                    self.kubelets.resize(
                        n.index() + 1,
                        TokenBucket::new(self.cfg.clients.kubelet.qps, self.cfg.clients.kubelet.burst),
                    );
                }
                Some(&mut self.kubelets[n.index()])
            }
        };
        let at = match bucket {
            Some(b) => b.reserve(now),
            None => now,
        };
        let req = Request { call, then, arrived: at, extra, objects };
        let id = match self.free_ids.pop() {
            Some(id) => {
                self.requests[id as usize] = Some(req);
                id
            }
            None => {
                self.requests.push(Some(req));
                (self.requests.len() - 1) as u32
            }
        };
        self.queue.push(at, Internal::Arrive(id));
    }

    /// Processes the control plane's own events up to `t`. Returns true as soon as one
    /// pushed an [`Event::ApiDone`] into `main` (the caller must look at the queue again).
    pub fn advance_to(&mut self, t: SimTime, main: &mut EventQueue<Event>) -> bool {
        while let Some(at) = self.queue.peek_time() {
            if at > t {
                break;
            }
            let Some((at, ev)) = self.queue.pop() else { break };
            match ev {
                Internal::Arrive(id) => self.arrive(id, at),
                Internal::Done(id) => {
                    if let Some(then) = self.done(id, at) {
                        main.push(at, Event::ApiDone(then));
                        return true;
                    }
                }
                Internal::LeaseTick => self.lease_tick(at),
            }
        }
        false
    }

    /// One second's share of the lease renewals (nodes / period per second, spread evenly).
    fn lease_tick(&mut self, now: SimTime) {
        let period_s = self.lease_period.as_secs_f64().max(1.0);
        let per_tick = (self.nodes as f64 / period_s).ceil() as u64;
        let spacing = SimDuration::from_nanos(1_000_000_000 / per_tick.max(1));
        for k in 0..per_tick {
            if self.nodes == 0 {
                break;
            }
            let node = NodeId((self.lease_cursor % self.nodes) as u32);
            self.lease_cursor = (self.lease_cursor + 1) % self.nodes.max(1);
            let at = now + SimDuration::from_nanos(spacing.as_nanos() * k);
            self.submit(at, Client::Kubelet(node), Call::UpdateLease, Then::Nothing);
        }
        self.queue.push(now + SimDuration::from_secs(1), Internal::LeaseTick);
    }

    fn class(call: Call) -> usize {
        usize::from(call.mutating())
    }

    fn limit(&self, class: usize) -> u32 {
        let l =
            if class == 1 { self.cfg.max_mutating_requests_inflight } else { self.cfg.max_requests_inflight };
        if l == 0 { u32::MAX } else { l } // upstream: 0 = no limit
    }

    fn arrive(&mut self, id: u32, now: SimTime) {
        let Some(req) = &self.requests[id as usize] else { return };
        let class = Self::class(req.call);
        self.requests_total += 1;
        self.interval_requests += 1;
        if self.inflight[class] < self.limit(class) {
            self.start(id, now);
        } else {
            self.waiting[class].push_back(id);
        }
    }

    fn start(&mut self, id: u32, now: SimTime) {
        let Some(req) = &self.requests[id as usize] else { return };
        let class = Self::class(req.call);
        self.inflight[class] += 1;
        let st = &self.cfg.service_time;
        let done = if req.call.mutating() {
            let processed = now + st.write.0 + req.extra;
            // etcd: one write log at maxWritesPerSecond, then the commit latency.
            let slot = SimDuration::from_secs_f64(1.0 / self.cfg.etcd.max_writes_per_second);
            let begin = processed.max(self.etcd_free_at);
            self.etcd_free_at = begin + slot;
            begin + slot + self.cfg.etcd.write_latency.0
        } else {
            now + st.read.0
                + SimDuration::from_nanos(st.list_per_object.0.as_nanos().saturating_mul(req.objects))
        };
        self.queue.push(done, Internal::Done(id));
    }

    fn done(&mut self, id: u32, now: SimTime) -> Option<Then> {
        let req = self.requests[id as usize].take()?;
        self.free_ids.push(id);
        let class = Self::class(req.call);
        self.inflight[class] -= 1;
        if let Some(next) = self.waiting[class].pop_front() {
            self.start(next, now);
        }
        self.record(req.call, now.saturating_since(req.arrived), now);
        (req.then != Then::Nothing).then_some(req.then)
    }

    fn record(&mut self, call: Call, latency: SimDuration, now: SimTime) {
        let us = latency.as_nanos() / 1_000;
        let class = Self::class(call);
        let _ = self.latency_us.entry(call).or_insert_with(histogram).record(us);
        let _ = self.class_us[class].record(us);
        let _ = self.interval_us[class].record(us);
        while now >= self.window_end {
            self.close_window();
        }
        let _ = self.window_us[class].record(us);
    }

    fn close_window(&mut self) {
        for c in 0..2 {
            if !self.window_us[c].is_empty() {
                let p99 = self.window_us[c].value_at_quantile(0.99);
                self.worst_window_p99_us[c] = self.worst_window_p99_us[c].max(p99);
                self.window_us[c].reset();
            }
        }
        self.window_end += SLO_WINDOW;
    }

    /// Names of the control-plane cells of a `timeseries.csv` row.
    pub fn timeseries_columns() -> Vec<String> {
        [
            "api_requests",
            "api_inflight_readonly",
            "api_inflight_mutating",
            "api_waiting",
            "api_readonly_p99_ms",
            "api_mutating_p99_ms",
            "watch_items_per_s",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    /// The cells named by [`Self::timeseries_columns`] for the interval just ended.
    pub fn sample(&mut self, interval: SimDuration) -> Vec<Cell> {
        let p99 = |h: &Histogram<u64>| {
            if h.is_empty() { Cell::Missing } else { Cell::Float(h.value_at_quantile(0.99) as f64 / 1e3) }
        };
        let secs = interval.as_secs_f64();
        let cells = vec![
            Cell::Int(self.interval_requests),
            Cell::Int(u64::from(self.inflight[0])),
            Cell::Int(u64::from(self.inflight[1])),
            Cell::Int((self.waiting[0].len() + self.waiting[1].len()) as u64),
            p99(&self.interval_us[0]),
            p99(&self.interval_us[1]),
            Cell::Float(if secs > 0.0 { self.interval_watch_items as f64 / secs } else { 0.0 }),
        ];
        self.interval_us[0].reset();
        self.interval_us[1].reset();
        self.interval_requests = 0;
        self.interval_watch_items = 0;
        cells
    }

    /// Summary columns: API latency p99 per call, per class over the run and the worst
    /// 5-minute window, and the SLO verdicts (mutating ≤ 1 s; the only read modelled is a
    /// namespace-scoped LIST, SLO ≤ 30 s).
    pub fn summary(&mut self) -> Vec<(String, Cell)> {
        self.close_window();
        let ms = |us: u64| Cell::Float(us as f64 / 1e3);
        let q = |h: &Histogram<u64>, p: f64| {
            if h.is_empty() { Cell::Missing } else { ms(h.value_at_quantile(p)) }
        };
        let mut out = vec![
            ("api_requests".to_string(), Cell::Int(self.requests_total)),
            ("api_mutating_p50_ms".to_string(), q(&self.class_us[1], 0.5)),
            ("api_mutating_p99_ms".to_string(), q(&self.class_us[1], 0.99)),
            ("api_readonly_p99_ms".to_string(), q(&self.class_us[0], 0.99)),
            ("api_mutating_worst_5m_p99_ms".to_string(), ms(self.worst_window_p99_us[1])),
            ("api_readonly_worst_5m_p99_ms".to_string(), ms(self.worst_window_p99_us[0])),
            (
                "slo_api_mutating_ok".to_string(),
                Cell::Int(u64::from(self.worst_window_p99_us[1] <= 1_000_000)),
            ),
            (
                "slo_api_readonly_ok".to_string(),
                Cell::Int(u64::from(self.worst_window_p99_us[0] <= 30_000_000)),
            ),
            ("watch_items_sent".to_string(), Cell::Int(self.watch_items_sent)),
        ];
        for (call, h) in &self.latency_us {
            out.push((format!("api_{}_p99_ms", call.name()), q(h, 0.99)));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> ControlPlaneSpec {
        serde_saphyr::from_str(yaml).expect("spec")
    }

    fn run(cp: &mut ControlPlane, until: SimTime) -> Vec<(SimTime, Then)> {
        let mut main: EventQueue<Event> = EventQueue::with_capacity(16);
        let mut out = Vec::new();
        loop {
            let more = cp.advance_to(until, &mut main);
            while let Some((t, ev)) = main.pop() {
                if let Event::ApiDone(then) = ev {
                    out.push((t, then));
                }
            }
            if !more {
                return out;
            }
        }
    }

    #[test]
    fn a_full_mutating_class_queues_fifo_by_hand() {
        // One mutating seat, 10 ms processing, etcd 1,000 writes/s (1 ms a slot) + 5 ms
        // commit: a request holds its seat 10 + 1 + 5 = 16 ms. Three at t = 0 finish at
        // 16, 32 and 48 ms (each starts when the previous frees the seat).
        let cfg = spec(
            "{maxMutatingRequestsInflight: 1, nodeLeases: false, serviceTime: {write: 10ms},
              etcd: {writeLatency: 5ms, maxWritesPerSecond: 1000},
              clients: {controllerManager: {qps: 1000, burst: 1000}}}",
        );
        let mut cp = ControlPlane::new(cfg, SimDuration::from_secs(10), 0);
        for p in 0..3 {
            cp.submit(SimTime::ZERO, Client::ControllerManager, Call::CreatePod, Then::Enqueue(PodId(p)));
        }
        let done = run(&mut cp, SimTime::ZERO + SimDuration::from_secs(1));
        let ms: Vec<u64> = done.iter().map(|(t, _)| t.as_nanos() / 1_000_000).collect();
        assert_eq!(ms, vec![16, 32, 48]);
        assert_eq!(done[2].1, Then::Enqueue(PodId(2)));
        let s = cp.summary();
        let get = |k: &str| s.iter().find(|(n, _)| n == k).map(|(_, v)| v.render()).expect(k);
        assert_eq!(get("api_requests"), "3");
        // HDR histograms keep 3 significant digits: within 0.1 %.
        let p99: f64 = get("api_post_pods_p99_ms").parse().expect("number");
        assert!((p99 - 48.0).abs() < 0.05, "{p99}");
    }

    #[test]
    fn etcd_throughput_serialises_writes_across_seats() {
        // Plenty of seats, 1 ms processing, etcd 100 writes/s (10 ms a slot), 0 commit
        // latency: four writes at t = 0 end at 11, 21, 31, 41 ms.
        let cfg = spec(
            "{nodeLeases: false, serviceTime: {write: 1ms}, etcd: {writeLatency: 0s, maxWritesPerSecond: 100},
              clients: {scheduler: {qps: 1000, burst: 1000}}}",
        );
        let mut cp = ControlPlane::new(cfg, SimDuration::from_secs(10), 0);
        for p in 0..4 {
            cp.submit(SimTime::ZERO, Client::Scheduler, Call::CreateBinding, Then::Observed(PodId(p)));
        }
        let ms: Vec<u64> = run(&mut cp, SimTime::ZERO + SimDuration::from_secs(1))
            .iter()
            .map(|(t, _)| t.as_nanos() / 1_000_000)
            .collect();
        assert_eq!(ms, vec![11, 21, 31, 41]);
    }

    #[test]
    fn client_qps_spaces_requests_after_the_burst() {
        // qps 10, burst 2: requests at t = 0 reach the server at 0, 0, 100, 200, 300 ms.
        let cfg = spec(
            "{nodeLeases: false, serviceTime: {write: 0s}, etcd: {writeLatency: 0s, maxWritesPerSecond: 1000000000},
              clients: {controllerManager: {qps: 10, burst: 2}}}",
        );
        let mut cp = ControlPlane::new(cfg, SimDuration::from_secs(10), 0);
        for p in 0..5 {
            cp.submit(SimTime::ZERO, Client::ControllerManager, Call::CreatePod, Then::Enqueue(PodId(p)));
        }
        let ms: Vec<u64> = run(&mut cp, SimTime::ZERO + SimDuration::from_secs(1))
            .iter()
            .map(|(t, _)| t.as_nanos() / 1_000_000)
            .collect();
        assert_eq!(ms, vec![0, 0, 100, 200, 300]);
    }

    #[test]
    fn endpoints_fan_out_grows_with_nodes_times_endpoints_and_slices_cap_it() {
        for (mode, want) in [("Endpoints", 1000 * 500), ("EndpointSlice", 1000 * 100)] {
            let cfg = spec(&format!("{{nodeLeases: false, watch: {{endpoints: {mode}}}}}"));
            let mut cp = ControlPlane::new(cfg, SimDuration::from_secs(10), 1000);
            cp.endpoints_changed(SimTime::ZERO, 500);
            assert_eq!(cp.watch_items_sent, want, "{mode}");
        }
    }

    #[test]
    fn leases_renew_nodes_over_period_per_second() {
        // 100 nodes, a 10 s period: 10 lease updates a second.
        let cfg = spec("{}");
        let mut cp = ControlPlane::new(cfg, SimDuration::from_secs(10), 100);
        run(&mut cp, SimTime::ZERO + SimDuration::from_secs(60));
        // Ticks at 1..=60 s, each 10 requests spread over the following second; those of
        // the tick at 60 s arrive in (60, 61) s except the first.
        assert_eq!(cp.requests_total, 591);
    }
}
