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
//! - With `apiserver:` (the resource model, [`ps`]): requests are spread round-robin over
//!   the kube-apiserver replicas; each replica has the in-flight seats above (the flags are
//!   per instance) and `cores` shared by its requests in service (egalitarian processor
//!   sharing: m requests on c cores each progress at min(1, c/m)). A request's CPU demand is
//!   its verb's cost + `perObject` × objects returned + `perKiB` × KiB serialised (+ the
//!   watch fan-out); latency grows with load before any seat limit. Writes then wait for the
//!   etcd log, whose commit latency grows with the database size:
//!   `writeLatency × (1 + dbBytes / quotaBackendBytes)` (calibration, docs/scenario.md).
//!
//! - LISTs cost in proportion to the objects returned; served from the watch cache (the
//!   default) they take API server CPU only, served from etcd (`controlPlane.lists`, a
//!   quorum read) the range also takes `etcdRangePerObject` per object on etcd's log, ahead
//!   of writes. A misbehaving client (`controlPlane.misbehavingClient`) LISTs every pod at a
//!   fixed rate. Control-plane faults and the relists that follow them: [`outage`].
//!
//! Requests are not engine events: the control plane keeps its own queue of arrivals and
//! completions and the simulation advances it before each event (like request traffic);
//! only a completion that someone waits for (a created pod the scheduler must see, a
//! binding, a status the SLI observes) becomes an [`crate::sim::Event::ApiDone`].

pub mod apf;
pub mod bucket;
pub mod outage;
pub mod ps;

use crate::cluster::{NodeId, PodId};
use crate::engine::{EventId, EventQueue, SimDuration, SimTime};
use crate::metrics::Cell;
use crate::scenario::schema::{ApiServerSpec, ControlPlaneSpec, EndpointsModeSpec};
use crate::sim::Event;
use bucket::TokenBucket;
use hdrhistogram::Histogram;
use ps::PsServer;
use std::collections::{BTreeMap, VecDeque};

/// Who sends a request (each has its own rate limiter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Client {
    Scheduler,
    ControllerManager,
    Kubelet(NodeId),
    /// The event broadcaster of the scheduler, or of a node's kubelet: Event objects load
    /// the server but are not throttled by the component's client (the broadcaster has its
    /// own spam filter); they are classified as the component's own requests.
    SchedulerEvents,
    KubeletEvents(NodeId),
    /// `controlPlane.misbehavingClient`: a service account with no client-side limit.
    Misbehaving,
}

impl Client {
    /// The identity the API server authenticates (user, groups) and the flow-control memo
    /// key of its kind.
    fn identity(self) -> (u8, &'static str, &'static [&'static str]) {
        const AUTHENTICATED: &[&str] = &["system:authenticated"];
        const NODES: &[&str] = &["system:nodes", "system:authenticated"];
        match self {
            Client::Scheduler | Client::SchedulerEvents => (0, apf::KUBE_SCHEDULER, AUTHENTICATED),
            Client::ControllerManager => (1, apf::KUBE_CONTROLLER_MANAGER, AUTHENTICATED),
            Client::Kubelet(_) | Client::KubeletEvents(_) => (2, "system:node", NODES),
            Client::Misbehaving => (
                3,
                "system:serviceaccount:default:flood",
                &["system:serviceaccounts", "system:serviceaccounts:default", "system:authenticated"],
            ),
        }
    }

    /// The node of a kubelet's request (its user is `system:node:<name>`).
    fn node(self) -> Option<NodeId> {
        match self {
            Client::Kubelet(n) | Client::KubeletEvents(n) => Some(n),
            _ => None,
        }
    }
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
    /// The HPA lists the pods of its target (`LIST pods`, namespace scope); an informer
    /// relists pods; the misbehaving client lists every pod.
    ListPods,
    /// An informer relists nodes (`LIST nodes`).
    ListNodes,
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
            Call::ListNodes => "list_nodes",
        }
    }
    pub fn mutating(self) -> bool {
        !matches!(self, Call::ListPods | Call::ListNodes)
    }

    /// (verb, resource, namespace) as the API server's request info has them.
    fn request_info(self, endpoints: EndpointsModeSpec) -> (&'static str, &'static str, &'static str) {
        match self {
            Call::CreatePod => ("create", "pods", "default"),
            Call::CreateBinding => ("create", "pods/binding", "default"),
            Call::CreateEvent => ("create", "events", "default"),
            Call::PatchPodStatus => ("patch", "pods/status", "default"),
            Call::DeletePod => ("delete", "pods", "default"),
            Call::UpdateLease => ("update", "leases", "kube-node-lease"),
            Call::UpdateEndpoints => match endpoints {
                EndpointsModeSpec::Endpoints => ("update", "endpoints", "default"),
                EndpointsModeSpec::EndpointSlice => ("update", "endpointslices", "default"),
            },
            Call::UpdateScale => ("update", "deployments/scale", "default"),
            Call::ListPods => ("list", "pods", "default"),
            Call::ListNodes => ("list", "nodes", ""),
        }
    }

    /// Bytes the server serialises for one call of this kind (to etcd and in the response),
    /// `objects` being the objects a LIST returns or the endpoints in an Endpoints object or
    /// slice. Calibration (docs/scenario.md): a pod of the size CL2 creates in protobuf,
    /// small objects for the rest, 300 bytes an endpoint (the Kubernetes blog's 5,000-pod
    /// Endpoints object of about 1.5 MB).
    pub fn bytes(self, objects: u64) -> u64 {
        match self {
            Call::CreatePod | Call::PatchPodStatus | Call::DeletePod => POD_BYTES,
            Call::CreateBinding | Call::UpdateLease | Call::UpdateScale => SMALL_OBJECT_BYTES,
            Call::CreateEvent => EVENT_BYTES,
            Call::UpdateEndpoints => objects.saturating_mul(ENDPOINT_BYTES),
            Call::ListPods => objects.saturating_mul(POD_BYTES),
            Call::ListNodes => objects.saturating_mul(NODE_BYTES),
        }
    }
}

/// Serialised size of a pod (calibration).
pub const POD_BYTES: u64 = 2048;
/// Serialised size of a node with its status (calibration).
pub const NODE_BYTES: u64 = 4096;
/// A Binding, a Lease, a Scale (calibration).
pub const SMALL_OBJECT_BYTES: u64 = 256;
/// An Event object (calibration).
pub const EVENT_BYTES: u64 = 512;
/// One endpoint in an Endpoints object or EndpointSlice: 1.5 MB / 5,000 endpoints
/// (Kubernetes blog, "Scaling Kubernetes Networking With EndpointSlices", 2020).
pub const ENDPOINT_BYTES: u64 = 300;

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
    /// A node's first lease renewal after a control-plane fault is stored.
    LeaseRenewed(NodeId),
}

/// A control-plane fault (`faults[].fail`) as the control plane applies it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CpFault {
    /// kube-apiserver replicas down (`None`: all).
    Apiserver(Option<u32>),
    EtcdDown,
    EtcdSlow(SimDuration),
}

struct Request {
    call: Call,
    then: Then,
    /// When it reached the server (after client-side throttling).
    arrived: SimTime,
    /// Extra processing time (watch fan-out).
    extra: SimDuration,
    /// Objects returned (LIST), or endpoints per object (Endpoints update).
    objects: u64,
    /// The kube-apiserver replica serving it (resource model and APF).
    replica: u32,
    client: Client,
    /// Its APF priority level (APF only).
    level: u8,
    /// A LIST served from etcd (quorum read).
    from_etcd: bool,
}

/// API Priority and Fairness state (`controlPlane.apf`).
struct Apf {
    levels: Vec<apf::PriorityLevel>,
    schemas: Vec<apf::FlowSchema>,
    /// Queue sets per replica, per level (flow control is per kube-apiserver instance).
    sets: Vec<Vec<apf::QueueSet>>,
    /// The Retry-After tracker per replica, per level.
    dropped: Vec<Vec<apf::DroppedRequests>>,
    /// (client kind, call) → (level, schema) memo.
    classes: BTreeMap<(u8, Call), (u8, usize)>,
    /// (schema, node or u32::MAX) → flow hash memo.
    hashes: BTreeMap<(usize, u32), u64>,
    /// 429 responses per level.
    rejected: Vec<u64>,
}

impl Apf {
    fn new(cfg: &ControlPlaneSpec, replicas: usize) -> Option<Apf> {
        let spec = cfg.apf.as_ref()?;
        let levels = apf::configure(spec).ok()?;
        let server = cfg.max_requests_inflight.saturating_add(cfg.max_mutating_requests_inflight);
        let limits = apf::concurrency_limits(server, &levels);
        // Validation refused any level a queue set cannot be built from.
        let sets = (0..replicas)
            .map(|_| levels.iter().zip(&limits).map(|(l, &c)| apf::QueueSet::new(l, c)).collect())
            .collect::<Result<Vec<Vec<apf::QueueSet>>, String>>()
            .ok()?;
        Some(Apf {
            dropped: (0..replicas).map(|_| vec![apf::DroppedRequests::default(); levels.len()]).collect(),
            rejected: vec![0; levels.len()],
            sets,
            schemas: apf::default_flow_schemas(),
            levels,
            classes: BTreeMap::new(),
            hashes: BTreeMap::new(),
        })
    }

    /// The request's priority level and flow hash (upstream's filter: the first matching
    /// schema by precedence, its distinguisher, `hashFlowID`). Nothing the simulation sends
    /// is unauthenticated, so catch-all always matches at worst.
    fn classify(&mut self, client: Client, call: Call, endpoints: EndpointsModeSpec) -> (u8, u64) {
        let (kind, user, groups) = client.identity();
        let (verb, resource, namespace) = call.request_info(endpoints);
        let levels = &self.levels;
        let schemas = &self.schemas;
        let &mut (level, schema) = self.classes.entry((kind, call)).or_insert_with(|| {
            let d = apf::Digest { user, groups, verb, resource, namespace };
            let s = apf::classify(schemas, &d).unwrap_or(schemas.len() - 1);
            let pl = schemas[s].priority_level;
            (levels.iter().position(|l| l.name == pl).unwrap_or(1) as u8, s)
        });
        let fs = &self.schemas[schema];
        let node = match fs.distinguisher {
            apf::Distinguisher::ByUser => client.node().map_or(u32::MAX, |n| n.0),
            _ => u32::MAX,
        };
        let hash = *self.hashes.entry((schema, node)).or_insert_with(|| {
            let user = client.node().map_or(user.to_string(), |n| format!("{user}:{}", n.0));
            let d = apf::Digest { user: &user, groups, verb, resource, namespace };
            apf::hash_flow_id(fs.name, fs.flow_distinguisher(&d))
        });
        (level, hash)
    }

    fn waiting(&self) -> usize {
        self.sets.iter().flatten().map(apf::QueueSet::waiting).sum()
    }
}

/// One kube-apiserver replica of the resource model.
struct Replica {
    cpu: PsServer,
    /// Seats in use, read-only [0] and mutating [1] (the flags are per instance).
    inflight: [u32; 2],
    waiting: [VecDeque<u32>; 2],
    /// The scheduled completion of its CPU (rescheduled when the sharing rate changes).
    next: Option<EventId>,
}

/// The resource model (`controlPlane.apiserver`).
struct Resources {
    spec: ApiServerSpec,
    replicas: Vec<Replica>,
    /// Next replica of the round-robin.
    cursor: usize,
    /// etcd database size now (bytes).
    db_bytes: i64,
    /// Busy core-seconds over the run.
    busy_secs: f64,
    /// Bytes sent to watchers over the run, and in the current sampling interval.
    watch_bytes: u64,
    interval_watch_bytes: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Internal {
    Arrive(u32),
    /// Informer `i` of the last relist storm LISTs.
    Relist(u32),
    Done(u32),
    /// Every node renews its lease once per period; one tick per second spreads them.
    LeaseTick,
    /// A replica's CPU finishes its next request (resource model).
    CpuDone(u32),
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
    res: Option<Resources>,
    apf: Option<Apf>,
    /// The time of the last [`Self::advance_to`].
    clock: SimTime,
    /// kube-apiserver replicas down (the last ones of the round-robin).
    down: u32,
    /// When every replica went down (the informers' watches broke).
    all_down_since: Option<SimTime>,
    /// etcd-unavailable faults in progress.
    etcd_down: u32,
    /// Commit latency added by slow-etcd faults in progress.
    etcd_slow: SimDuration,
    /// Requests that reached no server while every replica was down (sent again on return).
    parked: Vec<u32>,
    /// The informers of the current relist storm: (client, call, objects).
    relists: Vec<(Client, Call, u64)>,
    /// Reflector back-off jitter.
    relist_rng: crate::engine::RngStream,
    /// Availability and recovery (`Some` only when the scenario has control-plane faults).
    pub outages: Option<outage::Record>,
    /// With a misbehaving client: its LISTs' latency, and everyone else's per class.
    flood: Option<FloodStats>,
}

/// Latency of the misbehaving client's LISTs and of the other clients' requests (µs).
struct FloodStats {
    lists: Histogram<u64>,
    others: [Histogram<u64>; 2],
}

/// The reflectors' back-off jitter stream.
pub const RELIST_STREAM: crate::engine::StreamId = crate::engine::StreamId(13);

fn histogram() -> Histogram<u64> {
    Histogram::new(3).unwrap_or_else(|_| unreachable!("3 significant digits is a valid precision"))
}

impl ControlPlane {
    pub fn new(cfg: ControlPlaneSpec, lease_period: SimDuration, nodes: u64) -> Self {
        Self::with_faults(cfg, lease_period, nodes, false, 0)
    }

    /// `faults`: the scenario has control-plane faults (their columns are reported);
    /// `seed`: the run's, for the reflectors' back-off jitter.
    pub fn with_faults(
        cfg: ControlPlaneSpec,
        lease_period: SimDuration,
        nodes: u64,
        faults: bool,
        seed: u64,
    ) -> Self {
        let bucket = |c: &crate::scenario::schema::ClientSpec| TokenBucket::new(c.qps, c.burst);
        let cfg_has_flood = cfg.misbehaving_client.is_some();
        let mut queue = EventQueue::with_capacity(1024);
        if cfg.node_leases && nodes > 0 {
            queue.push(SimTime::ZERO + SimDuration::from_secs(1), Internal::LeaseTick);
        }
        let res = cfg.apiserver.clone().map(|spec| Resources {
            replicas: (0..spec.replicas.max(1))
                .map(|_| Replica {
                    cpu: PsServer::new(spec.cores),
                    inflight: [0, 0],
                    waiting: [VecDeque::new(), VecDeque::new()],
                    next: None,
                })
                .collect(),
            spec,
            cursor: 0,
            db_bytes: cfg.etcd.db_size_bytes(),
            busy_secs: 0.0,
            watch_bytes: 0,
            interval_watch_bytes: 0,
        });
        let replicas = res.as_ref().map_or(1, |r| r.replicas.len());
        ControlPlane {
            apf: Apf::new(&cfg, replicas),
            res,
            clock: SimTime::ZERO,
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
            down: 0,
            all_down_since: None,
            etcd_down: 0,
            etcd_slow: SimDuration::ZERO,
            parked: Vec::new(),
            relists: Vec::new(),
            relist_rng: crate::engine::rng::stream(seed, RELIST_STREAM),
            flood: cfg_has_flood
                .then(|| FloodStats { lists: histogram(), others: [histogram(), histogram()] }),
            outages: faults.then(outage::Record::default),
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

    /// Every replica is down: nothing reaches a server.
    fn all_down(&self) -> bool {
        let replicas = self.res.as_ref().map_or(1, |r| r.replicas.len() as u32);
        self.down >= replicas
    }

    /// Replicas serving now.
    fn up_replicas(&self) -> usize {
        let replicas = self.res.as_ref().map_or(1, |r| r.replicas.len());
        replicas.saturating_sub(self.down as usize).max(1)
    }

    /// Writes cannot be stored now (every replica down or etcd unavailable).
    pub fn unavailable(&self) -> bool {
        self.all_down() || self.etcd_down > 0
    }

    /// A control-plane fault begins at `now` and lasts until `end`. Returns true when the
    /// API became unable to store writes (the node-lifecycle controller goes blind).
    pub fn fault_begin(&mut self, now: SimTime, end: SimTime, fault: CpFault) -> bool {
        let was = self.unavailable();
        let replicas = self.res.as_ref().map_or(1, |r| r.replicas.len() as u32);
        match fault {
            CpFault::Apiserver(n) => {
                self.down = self.down.saturating_add(n.unwrap_or(replicas)).min(replicas);
                if self.all_down() && self.all_down_since.is_none() {
                    self.all_down_since = Some(now);
                }
            }
            CpFault::EtcdDown => {
                self.etcd_down += 1;
                // Nothing commits (and no quorum read is answered) before etcd is back.
                self.etcd_free_at = self.etcd_free_at.max(end);
            }
            CpFault::EtcdSlow(d) => self.etcd_slow = self.etcd_slow + d,
        }
        self.clock = self.clock.max(now);
        let unavailable = self.all_down() || matches!(fault, CpFault::EtcdDown);
        if let Some(o) = self.outages.as_mut() {
            o.windows.push(outage::Window { start: now, end, unavailable, last_slow_arrival: None });
        }
        !was && unavailable
    }

    /// A control-plane fault ends at `now`. `informers` are the watches that relist if every
    /// replica was down (client, call, objects), `nodes` the live nodes whose kubelets renew
    /// their leases if writes were impossible. Returns true when the API can store writes
    /// again.
    pub fn fault_end(
        &mut self,
        now: SimTime,
        fault: CpFault,
        informers: impl FnOnce() -> (Vec<(Client, Call, u64)>, Vec<NodeId>),
    ) -> bool {
        self.clock = self.clock.max(now);
        let was = self.unavailable();
        let was_all_down = self.all_down();
        let replicas = self.res.as_ref().map_or(1, |r| r.replicas.len() as u32);
        match fault {
            CpFault::Apiserver(n) => self.down = self.down.saturating_sub(n.unwrap_or(replicas)),
            CpFault::EtcdDown => self.etcd_down = self.etcd_down.saturating_sub(1),
            CpFault::EtcdSlow(d) => {
                self.etcd_slow =
                    SimDuration::from_nanos(self.etcd_slow.as_nanos().saturating_sub(d.as_nanos()))
            }
        }
        let replicas_back = was_all_down && !self.all_down();
        let writes_back = was && !self.unavailable();
        if !replicas_back && !writes_back {
            return false;
        }
        let (watches, nodes) = informers();
        if replicas_back {
            // Clients send again what reached no server, in order.
            for id in std::mem::take(&mut self.parked) {
                self.queue.push(now, Internal::Arrive(id));
            }
            // Every informer relists at its reflector's first attempt after the return.
            let since = self.all_down_since.take().unwrap_or(now);
            self.relists = watches;
            for i in 0..self.relists.len() {
                let at = outage::relist_time(since, now, &mut self.relist_rng);
                self.queue.push(at, Internal::Relist(i as u32));
            }
        }
        if !writes_back {
            return false;
        }
        // Every kubelet renews its lease within the lease controller's retry cap.
        let n = nodes.len().max(1) as u64;
        for (k, node) in nodes.into_iter().enumerate() {
            let at = now + SimDuration::from_nanos(outage::LEASE_RETRY_CAP.as_nanos() / n * k as u64);
            self.submit(at, Client::Kubelet(node), Call::UpdateLease, Then::LeaseRenewed(node));
        }
        true
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
        if let Some(res) = self.res.as_mut() {
            let bytes = Call::UpdateEndpoints.bytes(per_watcher).saturating_mul(self.nodes);
            res.watch_bytes = res.watch_bytes.saturating_add(bytes);
            res.interval_watch_bytes = res.interval_watch_bytes.saturating_add(bytes);
        }
        let extra = SimDuration::from_nanos(self.cfg.watch.cost_per_item.0.as_nanos().saturating_mul(items));
        self.submit_with(
            now,
            Client::ControllerManager,
            Call::UpdateEndpoints,
            Then::Nothing,
            extra,
            per_watcher,
        );
    }

    /// `LIST` of `objects` pods, served where `controlPlane.lists` says for the client.
    pub fn list(&mut self, now: SimTime, client: Client, objects: u64) {
        self.list_call(now, client, Call::ListPods, objects);
    }

    /// A LIST (`ListPods` or `ListNodes`) of `objects` objects.
    pub fn list_call(&mut self, now: SimTime, client: Client, call: Call, objects: u64) {
        use crate::scenario::schema::ListSourceSpec::Etcd;
        let lists = self.cfg.lists.unwrap_or_default();
        let from_etcd = match client {
            Client::Scheduler | Client::SchedulerEvents => lists.scheduler == Etcd,
            Client::ControllerManager => lists.controller_manager == Etcd,
            Client::Kubelet(_) | Client::KubeletEvents(_) => lists.kubelet == Etcd,
            Client::Misbehaving => self.cfg.misbehaving_client.is_some_and(|m| m.from == Etcd),
        };
        let id = self.submit_with(now, client, call, Then::Nothing, SimDuration::ZERO, objects);
        if let Some(r) = self.requests[id as usize].as_mut() {
            r.from_etcd = from_etcd;
        }
    }

    fn submit_with(
        &mut self,
        now: SimTime,
        client: Client,
        call: Call,
        then: Then,
        extra: SimDuration,
        objects: u64,
    ) -> u32 {
        let bucket = match client {
            Client::SchedulerEvents | Client::KubeletEvents(_) | Client::Misbehaving => None,
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
        let req = Request {
            call,
            then,
            arrived: at,
            extra,
            objects,
            replica: 0,
            client,
            level: 0,
            from_etcd: false,
        };
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
        id
    }

    /// Processes the control plane's own events up to `t`. Returns true as soon as one
    /// pushed an [`Event::ApiDone`] into `main` (the caller must look at the queue again).
    pub fn advance_to(&mut self, t: SimTime, main: &mut EventQueue<Event>) -> bool {
        self.clock = self.clock.max(t);
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
                Internal::Relist(i) => {
                    if let Some(&(client, call, objects)) = self.relists.get(i as usize) {
                        if let Some(o) = self.outages.as_mut() {
                            o.relists += 1;
                        }
                        self.list_call(at, client, call, objects);
                    }
                }
                Internal::CpuDone(r) => self.cpu_done(r, at),
            }
        }
        false
    }

    /// One second's share of the lease renewals (nodes / period per second, spread evenly).
    fn lease_tick(&mut self, now: SimTime) {
        let period_s = self.lease_period.as_secs_f64().max(1.0);
        let per_tick = (self.nodes as f64 / period_s).ceil() as u64;
        let spacing = SimDuration::from_nanos(1_000_000_000 / per_tick.max(1));
        // While writes cannot be stored the kubelets' renewals fail (they retry at the
        // return, [`Self::fault_end`]).
        let blocked = self.unavailable();
        for k in 0..per_tick {
            if self.nodes == 0 || blocked {
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
        if self.down > 0 && self.all_down() {
            self.parked.push(id);
            return;
        }
        self.requests_total += 1;
        self.interval_requests += 1;
        if self.apf.is_some() {
            self.arrive_apf(id, now);
        } else if self.res.is_some() {
            self.arrive_at_replica(id, class, now);
        } else if self.inflight[class] < self.limit(class) {
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
            begin + slot + self.cfg.etcd.write_latency.0 + self.etcd_slow
        } else {
            let (objects, from_etcd) = (req.objects, req.from_etcd);
            let served = now
                + st.read.0
                + SimDuration::from_nanos(st.list_per_object.0.as_nanos().saturating_mul(objects));
            if from_etcd { self.etcd_range(objects, served) } else { served }
        };
        self.queue.push(done, Internal::Done(id));
    }

    fn done(&mut self, id: u32, now: SimTime) -> Option<Then> {
        let req = self.requests[id as usize].take()?;
        self.free_ids.push(id);
        let class = Self::class(req.call);
        if let Some(res) = self.res.as_mut() {
            let r = &mut res.replicas[req.replica as usize];
            r.inflight[class] -= 1;
            if let Some(next) = r.waiting[class].pop_front() {
                self.start_on_replica(next, now);
            }
        } else {
            self.inflight[class] -= 1;
            if let Some(next) = self.waiting[class].pop_front() {
                self.start(next, now);
            }
        }
        let width = apf::width(req.call.mutating(), req.objects);
        let next = self
            .apf
            .as_mut()
            .map(|a| a.sets[req.replica as usize][usize::from(req.level)].finish_wide(width))
            .unwrap_or_default();
        for id in next {
            self.begin(id, now);
        }
        let latency = now.saturating_since(req.arrived);
        if let Some(f) = self.flood.as_mut() {
            let us = latency.as_nanos() / 1_000;
            let _ = match req.client {
                Client::Misbehaving => f.lists.record(us),
                _ => f.others[Self::class(req.call)].record(us),
            };
        }
        self.record(req.call, latency, now);
        (req.then != Then::Nothing).then_some(req.then)
    }

    /// A request that holds a seat starts being processed.
    fn begin(&mut self, id: u32, now: SimTime) {
        if self.res.is_some() { self.start_on_replica(id, now) } else { self.start(id, now) }
    }

    /// API Priority and Fairness: the request is classified, goes to a replica (the next
    /// of the round-robin with the resource model), and its level's queue set runs it,
    /// queues it, or rejects it with 429; the client (client-go) then sends it again after
    /// the response's Retry-After (`rest/request.go` honours Retry-After on 429; after its
    /// 10 retries the controller's work queue requeues the item, here simply more retries).
    fn arrive_apf(&mut self, id: u32, now: SimTime) {
        let endpoints = self.cfg.watch.endpoints;
        let up = self.up_replicas();
        let Some(req) = self.requests[id as usize].as_mut() else { return };
        let r = match self.res.as_mut() {
            Some(res) => {
                let r = res.cursor % up;
                res.cursor = (r + 1) % up;
                r
            }
            None => 0,
        };
        let Some(apf) = self.apf.as_mut() else { return };
        let (level, hash) = apf.classify(req.client, req.call, endpoints);
        req.replica = r as u32;
        req.level = level;
        let l = usize::from(level);
        let width = apf::width(req.call.mutating(), req.objects);
        match apf.sets[r][l].admit_wide(id, hash, width) {
            apf::Admit::Execute => self.begin(id, now),
            apf::Admit::Queued(_) => {}
            apf::Admit::Reject => {
                apf.rejected[l] += 1;
                let dropped = &mut apf.dropped[r][l];
                dropped.record((now.as_nanos() / 1_000_000_000) as i64);
                let after = SimDuration::from_secs(dropped.retry_after() as u64);
                self.queue.push(now + after, Internal::Arrive(id));
            }
        }
    }

    /// Resource model: the request goes to the next replica of the round-robin and takes a
    /// seat there, or waits FIFO for one.
    fn arrive_at_replica(&mut self, id: u32, class: usize, now: SimTime) {
        let limit = self.limit(class);
        let up = self.up_replicas();
        let Some(res) = self.res.as_mut() else { return };
        let r = res.cursor % up;
        res.cursor = (r + 1) % up;
        if let Some(req) = self.requests[id as usize].as_mut() {
            req.replica = r as u32;
        }
        let replica = &mut res.replicas[r];
        if replica.inflight[class] < limit {
            self.start_on_replica(id, now);
        } else {
            replica.waiting[class].push_back(id);
        }
    }

    /// The CPU time a request needs: its verb's cost, per object returned (LIST), per KiB
    /// serialised, plus the watch fan-out.
    fn cpu_demand(spec: &ApiServerSpec, req: &Request) -> SimDuration {
        let c = &spec.cost;
        let base = match req.call {
            Call::CreatePod | Call::CreateBinding | Call::CreateEvent => c.create.0,
            Call::PatchPodStatus => c.patch.0,
            Call::DeletePod => c.delete.0,
            Call::UpdateLease | Call::UpdateEndpoints | Call::UpdateScale => c.update.0,
            Call::ListPods | Call::ListNodes => c.list.0,
        };
        let per_object = if req.call.mutating() { 0 } else { req.objects };
        let bytes = req.call.bytes(req.objects);
        let ns = base
            .as_nanos()
            .saturating_add(c.per_object.0.as_nanos().saturating_mul(per_object))
            .saturating_add(c.per_ki_b.0.as_nanos().saturating_mul(bytes) / 1024)
            .saturating_add(req.extra.as_nanos());
        SimDuration::from_nanos(ns)
    }

    /// Takes a seat on the request's replica and starts its CPU work.
    fn start_on_replica(&mut self, id: u32, now: SimTime) {
        let Some(req) = &self.requests[id as usize] else { return };
        let Some(res) = self.res.as_mut() else { return };
        let demand = Self::cpu_demand(&res.spec, req);
        let r = req.replica;
        let replica = &mut res.replicas[r as usize];
        replica.inflight[Self::class(req.call)] += 1;
        replica.cpu.add(now, id, demand);
        self.reschedule_cpu(r);
    }

    /// (Re)schedules replica `r`'s next CPU completion: the sharing rate changed.
    fn reschedule_cpu(&mut self, r: u32) {
        let Some(res) = self.res.as_mut() else { return };
        let replica = &mut res.replicas[r as usize];
        if let Some(ev) = replica.next.take() {
            self.queue.cancel(ev);
        }
        if let Some(t) = replica.cpu.next_completion() {
            replica.next = Some(self.queue.push(t, Internal::CpuDone(r)));
        }
    }

    /// Replica `r`'s CPU finished a request: a read is answered; a write goes to etcd.
    fn cpu_done(&mut self, r: u32, now: SimTime) {
        let Some(res) = self.res.as_mut() else { return };
        let replica = &mut res.replicas[r as usize];
        replica.next = None;
        let Some(id) = replica.cpu.complete(now) else { return };
        self.reschedule_cpu(r);
        let Some((call, objects, from_etcd)) =
            self.requests[id as usize].as_ref().map(|q| (q.call, q.objects, q.from_etcd))
        else {
            return;
        };
        let done = if call.mutating() {
            self.etcd_commit(call, objects, now)
        } else if from_etcd {
            self.etcd_range(objects, now)
        } else {
            now
        };
        self.queue.push(done, Internal::Done(id));
    }

    /// A quorum LIST reaches etcd at `now`: its range of `objects` objects takes
    /// `etcdRangePerObject` each on etcd's log (after what is ahead of it). Returns when the
    /// objects are read.
    fn etcd_range(&mut self, objects: u64, now: SimTime) -> SimTime {
        let per = self.cfg.lists.unwrap_or_default().etcd_range_per_object.0;
        let begin = now.max(self.etcd_free_at);
        self.etcd_free_at = begin + SimDuration::from_nanos(per.as_nanos().saturating_mul(objects));
        self.etcd_free_at
    }

    /// A write reaches etcd at `now`: it takes the next slot of the log
    /// (`maxWritesPerSecond`), then commits in `writeLatency × (1 + dbBytes /
    /// quotaBackendBytes)`; the database grows by the objects created and shrinks by those
    /// deleted. Returns when the write is durable.
    fn etcd_commit(&mut self, call: Call, objects: u64, now: SimTime) -> SimTime {
        let etcd = &self.cfg.etcd;
        let slot = SimDuration::from_secs_f64(1.0 / etcd.max_writes_per_second);
        let begin = now.max(self.etcd_free_at);
        self.etcd_free_at = begin + slot;
        let slow = self.etcd_slow;
        let Some(res) = self.res.as_mut() else { return begin + slot + etcd.write_latency.0 + slow };
        let growth = 1.0 + res.db_bytes.max(0) as f64 / etcd.quota_backend_bytes().max(1) as f64;
        let commit =
            SimDuration::from_nanos((etcd.write_latency.0.as_nanos() as f64 * growth).round() as u64);
        let size = call.bytes(objects) as i64;
        match call {
            Call::CreatePod | Call::CreateEvent => res.db_bytes += size,
            Call::DeletePod => res.db_bytes -= size,
            _ => {}
        }
        begin + slot + commit + slow
    }

    fn record(&mut self, call: Call, latency: SimDuration, now: SimTime) {
        let us = latency.as_nanos() / 1_000;
        let class = Self::class(call);
        if call.mutating()
            && let Some(o) = self.outages.as_mut()
        {
            o.observe(SimTime(now.0.saturating_sub(latency.as_nanos())), latency);
        }
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
    pub fn timeseries_columns(&self) -> Vec<String> {
        let mut cols: Vec<String> = [
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
        .collect();
        if self.res.is_some() {
            cols.push("apiserver_cpu_utilization".to_string());
            cols.push("etcd_db_bytes".to_string());
            cols.push("watch_bytes_per_s".to_string());
        }
        cols
    }

    /// Seats in use and requests waiting, over the replicas in the resource model.
    fn occupancy(&self) -> ([u32; 2], usize) {
        let (inflight, waiting) = self.seat_occupancy();
        (inflight, waiting + self.apf.as_ref().map_or(0, Apf::waiting))
    }

    fn seat_occupancy(&self) -> ([u32; 2], usize) {
        match &self.res {
            None => (self.inflight, self.waiting[0].len() + self.waiting[1].len()),
            Some(res) => res.replicas.iter().fold(([0, 0], 0), |(i, w), r| {
                ([i[0] + r.inflight[0], i[1] + r.inflight[1]], w + r.waiting[0].len() + r.waiting[1].len())
            }),
        }
    }

    /// The cells named by [`Self::timeseries_columns`] for the interval just ended.
    pub fn sample(&mut self, interval: SimDuration) -> Vec<Cell> {
        let p99 = |h: &Histogram<u64>| {
            if h.is_empty() { Cell::Missing } else { Cell::Float(h.value_at_quantile(0.99) as f64 / 1e3) }
        };
        let secs = interval.as_secs_f64();
        let (inflight, waiting) = self.occupancy();
        let mut cells = vec![
            Cell::Int(self.interval_requests),
            Cell::Int(u64::from(inflight[0])),
            Cell::Int(u64::from(inflight[1])),
            Cell::Int(waiting as u64),
            p99(&self.interval_us[0]),
            p99(&self.interval_us[1]),
            Cell::Float(if secs > 0.0 { self.interval_watch_items as f64 / secs } else { 0.0 }),
        ];
        let now = self.clock;
        if let Some(res) = self.res.as_mut() {
            let busy: f64 = res.replicas.iter_mut().map(|r| r.cpu.take_busy_secs(now)).sum();
            res.busy_secs += busy;
            let capacity = secs * f64::from(res.spec.cores) * res.replicas.len() as f64;
            cells.push(Cell::Float(if capacity > 0.0 { busy / capacity } else { 0.0 }));
            cells.push(Cell::Int(res.db_bytes.max(0) as u64));
            cells.push(Cell::Float(if secs > 0.0 { res.interval_watch_bytes as f64 / secs } else { 0.0 }));
            res.interval_watch_bytes = 0;
        }
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
        let now = self.clock;
        if let Some(res) = self.res.as_mut() {
            let busy: f64 = res.replicas.iter_mut().map(|r| r.cpu.take_busy_secs(now)).sum();
            res.busy_secs += busy;
            let capacity =
                now.as_nanos() as f64 / 1e9 * f64::from(res.spec.cores) * res.replicas.len() as f64;
            out.push((
                "apiserver_cpu_utilization_mean".to_string(),
                Cell::Float(if capacity > 0.0 { res.busy_secs / capacity } else { 0.0 }),
            ));
            out.push(("etcd_db_bytes_end".to_string(), Cell::Int(res.db_bytes.max(0) as u64)));
            out.push(("watch_bytes_sent".to_string(), Cell::Int(res.watch_bytes)));
        }
        if let Some(f) = &self.flood {
            out.push(("api_misbehaving_lists".to_string(), Cell::Int(f.lists.len())));
            out.push(("api_misbehaving_list_p99_ms".to_string(), q(&f.lists, 0.99)));
            out.push(("api_others_mutating_p99_ms".to_string(), q(&f.others[1], 0.99)));
            out.push(("api_others_readonly_p99_ms".to_string(), q(&f.others[0], 0.99)));
            let ok = f.others[1].is_empty() || f.others[1].value_at_quantile(0.99) <= 1_000_000;
            out.push(("slo_others_mutating_ok".to_string(), Cell::Int(u64::from(ok))));
        }
        if let Some(o) = &self.outages {
            let run = now.as_nanos() as f64 / 1e9;
            let away = o.unavailable(now).as_secs_f64();
            out.push((
                "api_availability".to_string(),
                Cell::Float(if run > 0.0 { 1.0 - away / run } else { 1.0 }),
            ));
            out.push(("api_unavailable_s".to_string(), Cell::Float(away)));
            out.push(("api_recovery_s".to_string(), Cell::Float(o.recovery_secs(now))));
            out.push(("relist_lists".to_string(), Cell::Int(o.relists)));
        }
        if let Some(apf) = &self.apf {
            out.push(("api_rejected_429".to_string(), Cell::Int(apf.rejected.iter().sum())));
            for (l, n) in apf.levels.iter().zip(&apf.rejected) {
                out.push((format!("apf_{}_rejected", l.name.replace('-', "_")), Cell::Int(*n)));
            }
        }
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

    /// The resource model with one replica: costs zero, so a request's CPU demand is its
    /// `extra` alone.
    fn ps_spec(replicas: u32, cores: u32, extra: &str) -> ControlPlaneSpec {
        spec(&format!(
            "{{nodeLeases: false, maxRequestsInflight: 0, maxMutatingRequestsInflight: 0,
              etcd: {{writeLatency: 0s, maxWritesPerSecond: 1000000000}},
              apiserver: {{replicas: {replicas}, cores: {cores},
                cost: {{create: 0s, update: 0s, patch: 0s, delete: 0s, list: 0s, perObject: 0s, perKiB: 0s}}}}
              {extra}}}"
        ))
    }

    fn cpu_request(cp: &mut ControlPlane, at: SimTime, id: u32, demand: SimDuration) {
        cp.submit_with(at, Client::SchedulerEvents, Call::ListPods, Then::Observed(PodId(id)), demand, 0);
    }

    #[test]
    fn requests_share_a_replicas_cores_by_hand() {
        // One replica, one core: 10 ms and 30 ms of CPU at t = 0 end at 20 and 40 ms (both
        // at half speed until the first is done). With two one-core replicas the round-robin
        // puts them on different replicas: 10 and 30 ms.
        for (replicas, want) in [(1, vec![20, 40]), (2, vec![10, 30])] {
            let mut cp = ControlPlane::new(ps_spec(replicas, 1, ""), SimDuration::from_secs(10), 0);
            cpu_request(&mut cp, SimTime::ZERO, 0, SimDuration::from_millis(10));
            cpu_request(&mut cp, SimTime::ZERO, 1, SimDuration::from_millis(30));
            let ms: Vec<u64> = run(&mut cp, SimTime::ZERO + SimDuration::from_secs(1))
                .iter()
                .map(|(t, _)| t.as_nanos() / 1_000_000)
                .collect();
            assert_eq!(ms, want, "{replicas} replicas");
        }
    }

    #[test]
    fn seats_per_replica_queue_fifo_before_the_cpu() {
        // One read seat on one core: three 10-ms reads at t = 0 run one after another
        // (10, 20, 30 ms) instead of sharing the core (which would end all at 30 ms).
        let cfg = ps_spec(1, 1, "").clone();
        let cfg = ControlPlaneSpec { max_requests_inflight: 1, ..cfg };
        let mut cp = ControlPlane::new(cfg, SimDuration::from_secs(10), 0);
        for id in 0..3 {
            cpu_request(&mut cp, SimTime::ZERO, id, SimDuration::from_millis(10));
        }
        let ms: Vec<u64> = run(&mut cp, SimTime::ZERO + SimDuration::from_secs(1))
            .iter()
            .map(|(t, _)| t.as_nanos() / 1_000_000)
            .collect();
        assert_eq!(ms, vec![10, 20, 30]);
    }

    #[test]
    fn verb_costs_objects_and_bytes_make_the_cpu_demand() {
        // Defaults: LIST 1 ms + 10 µs × 100 pods + 5 µs per KiB × 100 × 2 KiB = 1 + 1 + 1 =
        // 3 ms; a pod create 2 ms + 5 µs × 2 KiB = 2.01 ms.
        let cfg = spec("{apiserver: {}}");
        let spec = cfg.apiserver.clone().expect("apiserver");
        let req = |call, objects| Request {
            call,
            then: Then::Nothing,
            arrived: SimTime::ZERO,
            extra: SimDuration::ZERO,
            objects,
            replica: 0,
            client: Client::Scheduler,
            level: 0,
            from_etcd: false,
        };
        assert_eq!(ControlPlane::cpu_demand(&spec, &req(Call::ListPods, 100)), SimDuration::from_millis(3));
        assert_eq!(ControlPlane::cpu_demand(&spec, &req(Call::CreatePod, 0)), SimDuration::from_micros(2010));
    }

    #[test]
    fn etcd_commit_latency_grows_with_the_database_by_hand() {
        // writeLatency 10 ms, a 1-ns log slot, quota 1 GiB, database 512 MiB at the start: a
        // lease update commits in 1 ns + 10 × (1 + 0.5) = 15 ms. Each pod create adds 2 KiB,
        // so after 2^17 of them (256 MiB) a lease update takes 10 × 1.75 = 17.5 ms.
        let cfg = spec(
            "{nodeLeases: false, etcd: {writeLatency: 10ms, maxWritesPerSecond: 1000000000,
               dbSize: 512Mi, quotaBackendBytes: 1Gi}, apiserver: {}}",
        );
        let mut cp = ControlPlane::new(cfg, SimDuration::from_secs(10), 0);
        let t0 = SimTime::ZERO;
        let first = cp.etcd_commit(Call::UpdateLease, 0, t0).saturating_since(t0);
        assert_eq!(first.as_nanos(), 1 + 15_000_000);
        for _ in 0..(1 << 17) {
            cp.etcd_commit(Call::CreatePod, 0, t0);
        }
        let t1 = SimTime::ZERO + SimDuration::from_secs(1);
        let later = cp.etcd_commit(Call::UpdateLease, 0, t1).saturating_since(t1);
        assert_eq!(later.as_nanos(), 1 + 17_500_000);
        // A delete gives its pod's bytes back.
        cp.etcd_commit(Call::DeletePod, 0, t1);
        assert_eq!(cp.res.as_ref().map(|r| r.db_bytes), Some((768 << 20) - 2048));
    }

    /// M/M/1-PS: Poisson arrivals at `lambda`/s, exponential CPU demand of mean `s` seconds,
    /// one replica with one core. Returns the mean response time (s) of one replication.
    fn mm1_ps_mean_response(lambda: f64, s: f64, n: u32, seed: u64) -> f64 {
        use crate::engine::rng::{StreamId, stream, unit};
        let mut rng = stream(seed, StreamId(1));
        let mut cp = ControlPlane::new(ps_spec(1, 1, ""), SimDuration::from_secs(10), 0);
        let mut t = 0.0f64;
        let mut arrivals = Vec::with_capacity(n as usize);
        for id in 0..n {
            t += -(1.0 - unit(&mut rng)).ln() / lambda;
            let at = SimTime::ZERO + SimDuration::from_secs_f64(t);
            let demand = SimDuration::from_secs_f64(-(1.0 - unit(&mut rng)).ln() * s);
            arrivals.push(at);
            cpu_request(&mut cp, at, id, demand);
        }
        let done = run(&mut cp, SimTime::ZERO + SimDuration::from_secs_f64(t * 2.0 + 3600.0));
        assert_eq!(done.len(), n as usize);
        let total: f64 = done
            .iter()
            .map(|(at, then)| {
                let Then::Observed(PodId(id)) = then else { unreachable!("only reads with Observed") };
                at.saturating_since(arrivals[*id as usize]).as_secs_f64()
            })
            .sum();
        total / f64::from(n)
    }

    #[test]
    fn mm1_processor_sharing_mean_response_is_s_over_one_minus_rho() {
        // Kleinrock (1976) §4.4: E[T] = S / (1 − ρ) for M/G/1-PS. As in tests/queueing.rs:
        // R = 8 replications (seeds 1..=8), accepted when the mean lies within 4 standard
        // errors (the spread across replications) plus a 1 % floor for the start-up bias of
        // runs that begin empty. 200,000 requests a replication.
        const R: u64 = 8;
        let s = 0.010;
        for rho in [0.5, 0.8] {
            let lambda = rho / s;
            let xs: Vec<f64> = (1..=R).map(|seed| mm1_ps_mean_response(lambda, s, 200_000, seed)).collect();
            let mean = xs.iter().sum::<f64>() / R as f64;
            let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (R - 1) as f64;
            let se = (var / R as f64).sqrt();
            let exact = s / (1.0 - rho);
            let tol = 4.0 * se + 0.01 * exact;
            assert!(
                (mean - exact).abs() <= tol,
                "rho {rho}: simulated {mean:.6} ± {se:.6} (SE), theory {exact:.6}, tolerance {tol:.6}"
            );
        }
    }

    /// Fixed 10-ms writes, an instant etcd, one seat in each APF level (serverCL 1 gives
    /// every level ceil(1 × shares / 245) = 1).
    fn apf_spec(apf: &str) -> ControlPlaneSpec {
        spec(&format!(
            "{{nodeLeases: false, maxRequestsInflight: 1, maxMutatingRequestsInflight: 0, serviceTime: {{write: 10ms}},
              etcd: {{writeLatency: 0s, maxWritesPerSecond: 1000000000}},
              clients: {{scheduler: {{qps: 1000, burst: 1000}}, kubelet: {{qps: 1000, burst: 1000}}}},
              apf: {apf}}}"
        ))
    }

    fn done_ms(cp: &mut ControlPlane) -> Vec<(u64, Then)> {
        run(cp, SimTime::ZERO + SimDuration::from_secs(10))
            .into_iter()
            .map(|(t, then)| ((t.as_nanos() + 500_000) / 1_000_000, then))
            .collect()
    }

    #[test]
    fn apf_levels_isolate_node_leases_from_scheduler_writes_by_hand() {
        // Three bindings (workload-high) and a lease renewal (node-high) at t = 0, one seat
        // per level: the bindings run one after another (10, 20, 30 ms) while the lease has
        // its own seat (10 ms). Without APF, one mutating seat: the lease, last in FIFO
        // order, ends at 40 ms.
        let submit = |cp: &mut ControlPlane| {
            for p in 0..3 {
                cp.submit(SimTime::ZERO, Client::Scheduler, Call::CreateBinding, Then::Observed(PodId(p)));
            }
            cp.submit(SimTime::ZERO, Client::Kubelet(NodeId(0)), Call::UpdateLease, Then::Observed(PodId(9)));
        };
        let mut cp = ControlPlane::new(apf_spec("{}"), SimDuration::from_secs(10), 1);
        submit(&mut cp);
        let got = done_ms(&mut cp);
        let lease = got.iter().find(|(_, t)| *t == Then::Observed(PodId(9))).map(|(ms, _)| *ms);
        assert_eq!(lease, Some(10));
        let bindings: Vec<u64> =
            got.iter().filter(|(_, t)| *t != Then::Observed(PodId(9))).map(|(ms, _)| *ms).collect();
        assert_eq!(bindings, vec![10, 20, 30]);

        let fifo = ControlPlaneSpec { apf: None, max_mutating_requests_inflight: 1, ..apf_spec("{}") };
        let mut cp = ControlPlane::new(fifo, SimDuration::from_secs(10), 1);
        submit(&mut cp);
        let got = done_ms(&mut cp);
        assert_eq!(got.last(), Some(&(40, Then::Observed(PodId(9)))));
    }

    #[test]
    fn a_full_queue_answers_429_and_the_client_retries_after_retry_after() {
        // workload-high with one queue of length 1 and one seat: of three bindings at t = 0
        // the first runs (10 ms), the second waits (20 ms), the third gets 429 with
        // Retry-After 1 s and is sent again at 1 s: done at 1,010 ms. Its latency counts
        // from the first attempt.
        let cfg = apf_spec(
            "{priorityLevels: [{name: workload-high, queues: 1, handSize: 1, queueLengthLimit: 1}]}",
        );
        let mut cp = ControlPlane::new(cfg, SimDuration::from_secs(10), 0);
        for p in 0..3 {
            cp.submit(SimTime::ZERO, Client::Scheduler, Call::CreateBinding, Then::Observed(PodId(p)));
        }
        let ms: Vec<u64> = done_ms(&mut cp).into_iter().map(|(ms, _)| ms).collect();
        assert_eq!(ms, vec![10, 20, 1010]);
        let s = cp.summary();
        let get = |k: &str| s.iter().find(|(n, _)| n == k).map(|(_, v)| v.render()).expect(k);
        assert_eq!(get("api_rejected_429"), "1");
        assert_eq!(get("apf_workload_high_rejected"), "1");
        assert_eq!(get("apf_node_high_rejected"), "0");
        // Every attempt is a request the server saw.
        assert_eq!(get("api_requests"), "4");
        let p99: f64 = get("api_post_bindings_p99_ms").parse().expect("number");
        assert!((p99 - 1010.0).abs() < 1.0, "{p99}");
    }

    #[test]
    fn endpoints_bytes_reproduce_the_endpointslice_blog_arithmetic() {
        // Kubernetes blog "Scaling Kubernetes Networking With EndpointSlices" (2020): a
        // Service of 5,000 pods has an Endpoints object of about 1.5 MB; one change sent to
        // the kube-proxy of each of 3,000 nodes is about 4.5 GB; a rolling update, one
        // change per pod, about 22 TB. With EndpointSlices of 100 the changed slice is 30 kB,
        // 90 MB a change and 450 GB for the rolling update: 50 times less.
        assert_eq!(Call::UpdateEndpoints.bytes(5_000), 1_500_000);
        for (mode, per_change) in [("Endpoints", 4_500_000_000u64), ("EndpointSlice", 90_000_000)] {
            let cfg = spec(&format!("{{nodeLeases: false, watch: {{endpoints: {mode}}}, apiserver: {{}}}}"));
            let mut cp = ControlPlane::new(cfg.clone(), SimDuration::from_secs(10), 3_000);
            cp.endpoints_changed(SimTime::ZERO, 5_000);
            let s = cp.summary();
            let get = |k: &str| s.iter().find(|(n, _)| n == k).map(|(_, v)| v.render()).expect(k);
            assert_eq!(get("watch_bytes_sent"), per_change.to_string(), "{mode}");
            // The rolling update: 5,000 changes (22.5 TB with Endpoints, 450 GB with slices).
            let mut cp = ControlPlane::new(cfg, SimDuration::from_secs(10), 3_000);
            for _ in 0..5_000 {
                cp.endpoints_changed(SimTime::ZERO, 5_000);
            }
            let want: u64 = if mode == "Endpoints" { 22_500_000_000_000 } else { 450_000_000_000 };
            assert_eq!(cp.res.as_ref().map(|r| r.watch_bytes), Some(want), "{mode}");
        }
        // Without the resource model there is no bytes column (earlier outputs unchanged).
        let mut cp = ControlPlane::new(spec("{nodeLeases: false}"), SimDuration::from_secs(10), 3_000);
        cp.endpoints_changed(SimTime::ZERO, 5_000);
        assert!(cp.summary().iter().all(|(n, _)| n != "watch_bytes_sent"));
    }

    #[test]
    fn new_fields_absent_serialise_as_before() {
        // run.json records the resolved scenario: without the new blocks and fields it keeps
        // its earlier keys.
        let v = serde_json::to_value(spec("{}")).expect("serialises");
        let keys: Vec<&str> = v.as_object().expect("object").keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            [
                "clients",
                "etcd",
                "maxMutatingRequestsInflight",
                "maxRequestsInflight",
                "nodeLeases",
                "serviceTime",
                "watch"
            ]
        );
        let etcd: Vec<String> = v["etcd"].as_object().expect("object").keys().cloned().collect();
        assert_eq!(etcd, ["maxWritesPerSecond", "writeLatency"]);
    }

    /// Two one-core replicas; a LIST costs 10 µs of CPU per object and nothing else; etcd
    /// reads 10 µs per object and writes instantly.
    fn list_spec() -> ControlPlaneSpec {
        spec(
            "{nodeLeases: false, maxRequestsInflight: 0, maxMutatingRequestsInflight: 0,
              etcd: {writeLatency: 0s, maxWritesPerSecond: 1000000000},
              apiserver: {replicas: 2, cores: 1,
                cost: {create: 0s, update: 0s, patch: 0s, delete: 0s, list: 0s, perObject: 10us, perKiB: 0s}},
              lists: {scheduler: etcd, etcdRangePerObject: 10us},
              clients: {scheduler: {qps: 1000, burst: 1000}, controllerManager: {qps: 1000, burst: 1000}}}",
        )
    }

    fn p99_ms(cp: &mut ControlPlane, column: &str) -> f64 {
        let s = cp.summary();
        s.iter().find(|(n, _)| n == column).and_then(|(_, v)| v.render().parse().ok()).expect(column)
    }

    #[test]
    fn list_cost_is_proportional_to_the_objects_and_etcd_lists_read_the_range_by_hand() {
        // From the watch cache (the controller manager): 1,000 pods take 10 ms of CPU,
        // 2,000 take 20 ms (each alone on its replica).
        for (objects, want) in [(1_000u64, 10.0), (2_000, 20.0), (4_000, 40.0)] {
            let mut cp = ControlPlane::new(list_spec(), SimDuration::from_secs(10), 0);
            cp.list(SimTime::ZERO, Client::ControllerManager, objects);
            run(&mut cp, SimTime::ZERO + SimDuration::from_secs(10));
            let got = p99_ms(&mut cp, "api_list_pods_p99_ms");
            assert!((got - want).abs() < want * 1e-3, "{objects}: {got}");
        }
        // From etcd (the scheduler): 10 ms of CPU, then the 1,000-object range holds etcd's
        // log for 10 ms: 20 ms. A binding reaching etcd at 15 ms (0 CPU) waits behind it.
        let mut cp = ControlPlane::new(list_spec(), SimDuration::from_secs(10), 0);
        cp.list(SimTime::ZERO, Client::Scheduler, 1_000);
        let t15 = SimTime::ZERO + SimDuration::from_millis(15);
        cp.submit(t15, Client::ControllerManager, Call::CreateBinding, Then::Observed(PodId(0)));
        let done = run(&mut cp, SimTime::ZERO + SimDuration::from_secs(10));
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].0.as_nanos(), 20_000_001, "stored after the range, one 1-ns slot");
        let got = p99_ms(&mut cp, "api_list_pods_p99_ms");
        assert!((got - 20.0).abs() < 0.02, "{got}");
    }

    #[test]
    fn every_informer_relists_once_after_all_replicas_were_down() {
        // One replica down from 10 s to 70 s; three informers. Their LISTs come after the
        // return (reflector back-off), one each; the requests sent meanwhile reach the server
        // at the return; lease renewals of the two nodes are stored within 7 s of it.
        let cfg = spec("{nodeLeases: false, apiserver: {replicas: 1}}");
        let mut cp = ControlPlane::with_faults(cfg, SimDuration::from_secs(10), 2, true, 1);
        let s = |x: u64| SimTime::ZERO + SimDuration::from_secs(x);
        assert!(cp.fault_begin(s(10), s(70), CpFault::Apiserver(None)));
        cp.submit(s(20), Client::Scheduler, Call::CreateBinding, Then::Observed(PodId(7)));
        run(&mut cp, s(69));
        assert_eq!(cp.requests_total, 0, "nothing reaches a server while all are down");
        let informers = vec![
            (Client::Kubelet(NodeId(0)), Call::ListPods, 3),
            (Client::Kubelet(NodeId(1)), Call::ListPods, 5),
            (Client::Scheduler, Call::ListNodes, 2),
        ];
        assert!(cp.fault_end(s(70), CpFault::Apiserver(None), || (informers, vec![NodeId(0), NodeId(1)])));
        let done = run(&mut cp, s(300));
        let renewed: Vec<SimTime> =
            done.iter().filter(|(_, t)| matches!(t, Then::LeaseRenewed(_))).map(|(at, _)| *at).collect();
        assert_eq!(renewed.len(), 2);
        assert!(renewed.iter().all(|&t| t >= s(70) && t < s(77)));
        let bind = done.iter().find(|(_, t)| *t == Then::Observed(PodId(7))).map(|(at, _)| *at);
        assert!(bind.is_some_and(|t| t >= s(70) && t < s(71)), "{bind:?}");
        // 3 LISTs + the binding + 2 lease renewals.
        assert_eq!(cp.requests_total, 6);
        let sm = cp.summary();
        let get = |k: &str| sm.iter().find(|(n, _)| n == k).map(|(_, v)| v.render()).expect(k);
        assert_eq!(get("relist_lists"), "3");
        assert_eq!(get("api_unavailable_s"), "60.000000");
        // The binding sent at 20 s took 50 s: the API became healthy for requests sent after
        // the return, so the recovery time is 0.
        assert_eq!(get("api_recovery_s"), "0.000000");
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
