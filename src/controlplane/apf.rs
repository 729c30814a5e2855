//! API Priority and Fairness (kube-apiserver's default flow control since 1.20), as pure
//! functions and one small queue set per priority level. Ported from upstream:
//!
//! - the default PriorityLevelConfigurations and FlowSchemas:
//!   `staging/src/k8s.io/apiserver/pkg/apis/flowcontrol/bootstrap/default.go`;
//! - a level's concurrency limit, `ceil(serverCL × shares / Σ shares)` over the non-exempt
//!   levels, with serverCL = `--max-requests-inflight` + `--max-mutating-requests-inflight`:
//!   `staging/src/k8s.io/apiserver/pkg/util/flowcontrol/apf_controller.go`;
//! - the flow hash (SHA-256 of `flowSchema \0 distinguisher`, first 8 bytes little-endian,
//!   `hashFlowID` in the same file) and the distinguisher (`ByUser`: the user name;
//!   `ByNamespace`: the namespace);
//! - the shuffle-sharding dealer: `staging/src/k8s.io/apiserver/pkg/util/shufflesharding/shufflesharding.go`;
//! - the queue set: `staging/src/k8s.io/apiserver/pkg/util/flowcontrol/fairqueuing/queueset/queueset.go`
//!   (`shuffleShardLocked`: the hand is visited from offset `enqueues % handSize` and the
//!   queue with the least waiting work wins, first on ties; `rejectOrEnqueueToBoundLocked`:
//!   a request finding its queue at `queueLengthLimit` is rejected, which the filter turns
//!   into HTTP 429; a level whose limit response is `Reject` rejects whatever cannot run at
//!   once).
//!
//! - a LIST's width in seats (`request/list_work_estimator.go`: ceil(objects / 100
//!   `objectsPerSeat`), at least 1 `minimumSeats`, at most 10 `maximumSeats`; every other
//!   request 1 seat): a request runs when its seats fit, or when nothing of its level runs.
//!
//! Simplifications, all of them in docs/scenario.md: every request of a width has the same
//! work estimate, so upstream's virtual-time fair queuing (dispatch from the queue whose head
//! has the smallest virtual finish time) reduces to serving the non-empty queues in turn;
//! levels do not borrow or lend seats (upstream's `lendablePercent`/`borrowingLimitPercent`,
//! 1.26+); the queue-wait timeout is not modelled.

use crate::scenario::schema::ApfSpec;
use std::collections::VecDeque;

/// What a priority level does with a request it cannot run at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LimitResponse {
    Queue { queues: u32, hand_size: u32, queue_length_limit: u32 },
    Reject,
}

/// A PriorityLevelConfiguration (`Limited` unless `exempt`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriorityLevel {
    pub name: String,
    pub exempt: bool,
    /// `nominalConcurrencyShares` (called `assuredConcurrencyShares` before v1beta3).
    pub shares: u32,
    pub limit_response: LimitResponse,
}

/// How a FlowSchema splits its requests into flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distinguisher {
    None,
    ByUser,
    ByNamespace,
}

/// Who a FlowSchema matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    User(&'static str),
    Group(&'static str),
}

/// A resource policy rule; `None` in a field matches everything (upstream's `*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceRule {
    pub verbs: Option<Vec<&'static str>>,
    pub resources: Option<Vec<&'static str>>,
    pub namespaces: Option<Vec<&'static str>>,
}

impl ResourceRule {
    fn matches(&self, d: &Digest) -> bool {
        let has = |set: &Option<Vec<&'static str>>, x: &str| set.as_ref().is_none_or(|v| v.contains(&x));
        has(&self.verbs, d.verb) && has(&self.resources, d.resource) && has(&self.namespaces, d.namespace)
    }
}

/// A FlowSchema restricted to what the simulation's requests carry (resource requests of
/// known subjects); API groups are implied by the resource names, which are distinct here.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowSchema {
    pub name: &'static str,
    pub priority_level: &'static str,
    pub matching_precedence: u32,
    pub distinguisher: Distinguisher,
    pub subjects: Vec<Subject>,
    pub rules: Vec<ResourceRule>,
}

/// The request as the flow-control filter sees it (upstream `RequestDigest`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Digest<'a> {
    pub user: &'a str,
    pub groups: &'a [&'a str],
    pub verb: &'a str,
    pub resource: &'a str,
    pub namespace: &'a str,
}

const NODES: &str = "system:nodes";
const MASTERS: &str = "system:masters";
const AUTHENTICATED: &str = "system:authenticated";
const UNAUTHENTICATED: &str = "system:unauthenticated";
const SERVICE_ACCOUNTS: &str = "system:serviceaccounts";
pub const KUBE_SCHEDULER: &str = "system:kube-scheduler";
pub const KUBE_CONTROLLER_MANAGER: &str = "system:kube-controller-manager";
/// The group of the kube-system namespace's service accounts (upstream matches them as
/// `ServiceAccount{namespace: kube-system, name: *}`).
const KUBE_SYSTEM_SERVICE_ACCOUNTS: &str = "system:serviceaccounts:kube-system";

fn queued(shares: u32, queues: u32, hand_size: u32, name: &str) -> PriorityLevel {
    PriorityLevel {
        name: name.to_string(),
        exempt: false,
        shares,
        limit_response: LimitResponse::Queue { queues, hand_size, queue_length_limit: 50 },
    }
}

/// Upstream's mandatory and suggested PriorityLevelConfigurations (`default.go`), in its
/// order: exempt, catch-all, then system, node-high, leader-election, workload-high,
/// workload-low, global-default.
pub fn default_priority_levels() -> Vec<PriorityLevel> {
    vec![
        PriorityLevel {
            name: "exempt".to_string(),
            exempt: true,
            shares: 0,
            limit_response: LimitResponse::Reject,
        },
        PriorityLevel {
            name: "catch-all".to_string(),
            exempt: false,
            shares: 5,
            limit_response: LimitResponse::Reject,
        },
        queued(30, 64, 6, "system"),
        queued(40, 64, 6, "node-high"),
        queued(10, 16, 4, "leader-election"),
        queued(40, 128, 6, "workload-high"),
        queued(100, 128, 6, "workload-low"),
        queued(20, 128, 6, "global-default"),
    ]
}

/// The default levels with the scenario's changes (`controlPlane.apf.priorityLevels`), or
/// every problem as (path below `controlPlane.apf`, reason).
pub fn configure(spec: &ApfSpec) -> Result<Vec<PriorityLevel>, Vec<(String, String)>> {
    let mut levels = default_priority_levels();
    let mut errors = Vec::new();
    for (i, c) in spec.priority_levels.iter().enumerate() {
        let at = |f: &str| format!("priorityLevels[{i}].{f}");
        let Some(l) = levels.iter_mut().find(|l| l.name == c.name && !l.exempt) else {
            let names: Vec<String> =
                default_priority_levels().into_iter().filter(|l| !l.exempt).map(|l| l.name).collect();
            errors.push((
                at("name"),
                format!(
                    "{:?} is not a default limited priority level; expected one of {}",
                    c.name,
                    names.join(", ")
                ),
            ));
            continue;
        };
        if let Some(n) = c.nominal_concurrency_shares {
            if n == 0 {
                errors.push((
                    at("nominalConcurrencyShares"),
                    "a priority level with no shares would get no seats; expected at least 1".to_string(),
                ));
            }
            l.shares = n;
        }
        match &mut l.limit_response {
            LimitResponse::Reject => {
                for (f, v) in [
                    ("queues", c.queues),
                    ("handSize", c.hand_size),
                    ("queueLengthLimit", c.queue_length_limit),
                ] {
                    if v.is_some() {
                        errors.push((
                            at(f),
                            format!(
                                "{} rejects what it cannot run (limitResponse Reject): it has no queues",
                                c.name
                            ),
                        ));
                    }
                }
            }
            LimitResponse::Queue { queues, hand_size, queue_length_limit } => {
                *queues = c.queues.unwrap_or(*queues);
                *hand_size = c.hand_size.unwrap_or(*hand_size);
                *queue_length_limit = c.queue_length_limit.unwrap_or(*queue_length_limit);
                if let Err(e) = Dealer::new(i64::from(*queues), i64::from(*hand_size)) {
                    let f = if c.hand_size.is_some() { "handSize" } else { "queues" };
                    errors.push((at(f), format!("{e} (upstream shuffle-sharding limits)")));
                }
                if *queue_length_limit == 0 {
                    errors.push((at("queueLengthLimit"), "expected at least 1".to_string()));
                }
            }
        }
    }
    if errors.is_empty() { Ok(levels) } else { Err(errors) }
}

/// Upstream's mandatory and suggested FlowSchemas (`default.go`), sorted by matching
/// precedence (ties by name, as upstream sorts them). `probes` (non-resource `/healthz`
/// etc.) is left out: the simulation sends no non-resource requests.
pub fn default_flow_schemas() -> Vec<FlowSchema> {
    let everything = || vec![ResourceRule { verbs: None, resources: None, namespaces: None }];
    let all = |name, pl, prec, d, subjects: Vec<Subject>| FlowSchema {
        name,
        priority_level: pl,
        matching_precedence: prec,
        distinguisher: d,
        subjects,
        rules: everything(),
    };
    let get_create_update = || Some(vec!["get", "create", "update"]);
    let leader_election = |name, prec, subjects, ns: Option<Vec<&'static str>>| FlowSchema {
        name,
        priority_level: "leader-election",
        matching_precedence: prec,
        distinguisher: Distinguisher::ByUser,
        subjects,
        rules: vec![
            ResourceRule {
                verbs: get_create_update(),
                resources: Some(vec!["endpoints", "configmaps"]),
                namespaces: ns,
            },
            ResourceRule { verbs: get_create_update(), resources: Some(vec!["leases"]), namespaces: None },
        ],
    };
    use Distinguisher::{ByNamespace, ByUser};
    use Subject::{Group, User};
    let mut v = vec![
        all("exempt", "exempt", 1, Distinguisher::None, vec![Group(MASTERS)]),
        leader_election(
            "system-leader-election",
            100,
            vec![User(KUBE_CONTROLLER_MANAGER), User(KUBE_SCHEDULER), Group(KUBE_SYSTEM_SERVICE_ACCOUNTS)],
            Some(vec!["kube-system"]),
        ),
        leader_election("workload-leader-election", 200, vec![Group(KUBE_SYSTEM_SERVICE_ACCOUNTS)], None),
        FlowSchema {
            name: "system-node-high",
            priority_level: "node-high",
            matching_precedence: 400,
            distinguisher: ByUser,
            subjects: vec![Group(NODES)],
            rules: vec![ResourceRule {
                verbs: None,
                resources: Some(vec!["nodes", "nodes/status", "leases"]),
                namespaces: None,
            }],
        },
        all("system-nodes", "system", 500, ByUser, vec![Group(NODES)]),
        all(
            "kube-controller-manager",
            "workload-high",
            800,
            ByNamespace,
            vec![User(KUBE_CONTROLLER_MANAGER)],
        ),
        all("kube-scheduler", "workload-high", 800, ByNamespace, vec![User(KUBE_SCHEDULER)]),
        all(
            "kube-system-service-accounts",
            "workload-high",
            900,
            ByNamespace,
            vec![Group(KUBE_SYSTEM_SERVICE_ACCOUNTS)],
        ),
        all("service-accounts", "workload-low", 9000, ByUser, vec![Group(SERVICE_ACCOUNTS)]),
        all(
            "global-default",
            "global-default",
            9900,
            ByUser,
            vec![Group(UNAUTHENTICATED), Group(AUTHENTICATED)],
        ),
        all("catch-all", "catch-all", 10000, ByUser, vec![Group(UNAUTHENTICATED), Group(AUTHENTICATED)]),
    ];
    v.sort_by(|a, b| a.matching_precedence.cmp(&b.matching_precedence).then(a.name.cmp(b.name)));
    v
}

impl FlowSchema {
    pub fn matches(&self, d: &Digest) -> bool {
        let subject = self.subjects.iter().any(|s| match s {
            Subject::User(u) => *u == d.user,
            Subject::Group(g) => d.groups.contains(g),
        });
        subject && self.rules.iter().any(|r| r.matches(d))
    }

    pub fn flow_distinguisher<'a>(&self, d: &Digest<'a>) -> &'a str {
        match self.distinguisher {
            Distinguisher::None => "",
            Distinguisher::ByUser => d.user,
            Distinguisher::ByNamespace => d.namespace,
        }
    }
}

/// The index of the first schema (in precedence order) that matches, as upstream's filter
/// picks it.
pub fn classify(schemas: &[FlowSchema], d: &Digest) -> Option<usize> {
    schemas.iter().position(|s| s.matches(d))
}

/// Each level's concurrency limit (seats): `ceil(server_limit × shares / Σ shares)` over
/// the non-exempt levels; exempt levels get `None` (no limit). `apf_controller.go`.
pub fn concurrency_limits(server_limit: u32, levels: &[PriorityLevel]) -> Vec<Option<u32>> {
    let sum: f64 = levels.iter().filter(|l| !l.exempt).map(|l| f64::from(l.shares)).sum();
    levels
        .iter()
        .map(|l| (!l.exempt).then(|| (f64::from(server_limit) * f64::from(l.shares) / sum).ceil() as u32))
        .collect()
}

/// `shufflesharding.MaxHashBits`.
pub const MAX_HASH_BITS: u32 = 60;

/// `shufflesharding.RequiredEntropyBits`: `ceil(log2(deckSize) × handSize)`.
pub fn required_entropy_bits(deck_size: u32, hand_size: u32) -> u32 {
    (f64::from(deck_size).log2() * f64::from(hand_size)).ceil() as u32
}

/// The shuffle-sharding dealer (`shufflesharding.Dealer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dealer {
    deck_size: u32,
    hand_size: u32,
}

impl Dealer {
    /// `NewDealer`, with upstream's error messages.
    pub fn new(deck_size: i64, hand_size: i64) -> Result<Dealer, String> {
        if deck_size <= 0 || hand_size <= 0 {
            return Err(format!("deckSize {deck_size} or handSize {hand_size} is not positive"));
        }
        if hand_size > deck_size {
            return Err(format!("handSize {hand_size} is greater than deckSize {deck_size}"));
        }
        if deck_size > 1 << 26 {
            return Err(format!("deckSize {deck_size} is impractically large"));
        }
        let (deck, hand) = (deck_size as u32, hand_size as u32);
        if required_entropy_bits(deck, hand) > MAX_HASH_BITS {
            return Err(format!(
                "required entropy bits of deckSize {deck_size} and handSize {hand_size} is greater than {MAX_HASH_BITS}"
            ));
        }
        Ok(Dealer { deck_size: deck, hand_size: hand })
    }

    pub fn hand_size(&self) -> u32 {
        self.hand_size
    }

    /// `Deal`: the hand's cards in dealing order, each in `[0, deckSize)`, all distinct.
    pub fn deal(&self, mut hash: u64) -> Vec<u32> {
        let h = self.hand_size as usize;
        let mut rem = Vec::with_capacity(h);
        for i in 0..h {
            let base = u64::from(self.deck_size) - i as u64;
            let next = hash / base;
            rem.push((hash - base * next) as u32);
            hash = next;
        }
        (0..h)
            .map(|i| {
                let mut card = rem[i];
                for j in (1..=i).rev() {
                    if card >= rem[j - 1] {
                        card += 1;
                    }
                }
                card
            })
            .collect()
    }
}

/// `hashFlowID`: SHA-256 of `schema ‖ 0x00 ‖ distinguisher`, first 8 bytes little-endian.
pub fn hash_flow_id(schema: &str, distinguisher: &str) -> u64 {
    let mut msg = Vec::with_capacity(schema.len() + 1 + distinguisher.len());
    msg.extend_from_slice(schema.as_bytes());
    msg.push(0);
    msg.extend_from_slice(distinguisher.as_bytes());
    let d = sha256(&msg);
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    u64::from_le_bytes(first)
}

/// SHA-256 (the `sha2` crate).
pub fn sha256(msg: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    sha2::Sha256::digest(msg).into()
}

/// The Retry-After a priority level's 429s carry (`dropped_requests_tracker.go`): it starts
/// at 1 s; when a second starts, if at least 3 × retryAfter requests were dropped in the last
/// retryAfter seconds (and retryAfter seconds have passed since the last increase) it
/// doubles, up to 32 s; if fewer than retryAfter were dropped it decreases by 1.
#[derive(Clone, Debug)]
pub struct DroppedRequests {
    history: Vec<(i64, i64)>,
    current_unix: i64,
    current_count: i64,
    retry_after: i64,
    retry_after_update_unix: i64,
}

/// `maxRetryAfter`.
pub const MAX_RETRY_AFTER: i64 = 32;

impl Default for DroppedRequests {
    fn default() -> Self {
        DroppedRequests {
            history: Vec::new(),
            current_unix: 0,
            current_count: 0,
            retry_after: 1,
            retry_after_update_unix: 0,
        }
    }
}

impl DroppedRequests {
    /// `recordDroppedRequest` at whole second `unix`.
    pub fn record(&mut self, unix: i64) {
        if self.current_unix == unix {
            self.current_count += 1;
            return;
        }
        self.history.push((self.current_unix, self.current_count));
        let start = self.history.iter().take_while(|h| self.current_unix - h.0 > MAX_RETRY_AFTER).count();
        self.history.drain(..start);
        self.current_unix = unix;
        self.current_count = 1;
        self.update_retry_after(unix);
    }

    fn update_retry_after(&mut self, unix: i64) {
        let mut dropped = 0;
        for h in self.history.iter().rev() {
            if unix - h.0 > self.retry_after {
                break;
            }
            if h.0 < unix {
                dropped += h.1;
            }
        }
        if unix - self.retry_after_update_unix >= self.retry_after && dropped >= 3 * self.retry_after {
            self.retry_after = (self.retry_after * 2).min(MAX_RETRY_AFTER);
            self.retry_after_update_unix = unix;
        } else if dropped < self.retry_after && self.retry_after > 1 {
            self.retry_after -= 1;
        }
    }

    /// `GetRetryAfter`, in seconds.
    pub fn retry_after(&self) -> i64 {
        self.retry_after
    }
}

/// What the queue set did with a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// A seat was free: it runs now.
    Execute,
    /// It waits in this queue.
    Queued(u32),
    /// Queue full (or a `Reject` level with no free seat): HTTP 429.
    Reject,
}

/// Seats a request occupies (`request/list_work_estimator.go`, `objectsPerSeat` 100,
/// `minimumSeats` 1, `maximumSeats` 10; mutating requests 1, their watch fan-out's extra
/// latency is not modelled): a LIST of `objects` objects takes ceil(objects / 100) seats
/// within [1, 10].
pub fn width(mutating: bool, objects: u64) -> u32 {
    if mutating { 1 } else { objects.div_ceil(100).clamp(1, 10) as u32 }
}

/// One priority level's seats and queues.
#[derive(Clone, Debug)]
pub struct QueueSet {
    /// Seats (None: exempt, no limit).
    limit: Option<u32>,
    executing: u32,
    dealer: Option<Dealer>,
    queue_length_limit: u32,
    /// Waiting requests: (id, seats).
    queues: Vec<VecDeque<(u32, u32)>>,
    /// Requests enqueued so far (upstream `enqueues`: the offset into the hand).
    enqueues: u64,
    /// Next queue the round-robin dispatch looks at.
    cursor: usize,
    waiting: usize,
}

impl QueueSet {
    pub fn new(level: &PriorityLevel, limit: Option<u32>) -> Result<QueueSet, String> {
        let (dealer, qll, n) = match level.limit_response {
            LimitResponse::Queue { queues, hand_size, queue_length_limit } => (
                Some(Dealer::new(i64::from(queues), i64::from(hand_size))?),
                queue_length_limit,
                queues as usize,
            ),
            LimitResponse::Reject => (None, 0, 0),
        };
        Ok(QueueSet {
            limit,
            executing: 0,
            dealer,
            queue_length_limit: qll,
            queues: vec![VecDeque::new(); n],
            enqueues: 0,
            cursor: 0,
            waiting: 0,
        })
    }

    pub fn executing(&self) -> u32 {
        self.executing
    }

    pub fn waiting(&self) -> usize {
        self.waiting
    }

    /// A request `id` of one seat of the flow hashed to `hash` arrives.
    pub fn admit(&mut self, id: u32, hash: u64) -> Admit {
        self.admit_wide(id, hash, 1)
    }

    /// Seats of `width` fit now (or nothing runs: upstream lets a request wider than the
    /// limit run alone).
    fn fits(&self, width: u32) -> bool {
        self.executing == 0 || self.limit.is_none_or(|l| self.executing + width <= l)
    }

    /// A request `id` taking `width` seats of the flow hashed to `hash` arrives.
    pub fn admit_wide(&mut self, id: u32, hash: u64, width: u32) -> Admit {
        if self.waiting == 0 && self.fits(width) {
            self.executing += width;
            return Admit::Execute;
        }
        let Some(dealer) = self.dealer else { return Admit::Reject };
        let hand = dealer.deal(hash);
        let h = hand.len();
        let offset = (self.enqueues % h as u64) as usize;
        self.enqueues += 1;
        let mut best = hand[offset];
        for i in 1..h {
            let q = hand[(offset + i) % h];
            if self.queues[q as usize].len() < self.queues[best as usize].len() {
                best = q;
            }
        }
        let queue = &mut self.queues[best as usize];
        if queue.len() >= self.queue_length_limit as usize {
            return Admit::Reject;
        }
        queue.push_back((id, width));
        self.waiting += 1;
        Admit::Queued(best)
    }

    /// A request of this level finished: frees its seat and returns the request that takes
    /// it, if one waits (the next non-empty queue in turn).
    pub fn finish(&mut self) -> Option<u32> {
        self.finish_wide(1).pop()
    }

    /// A request of `width` seats finished: frees them and returns the requests that now
    /// run, in turn from the non-empty queues while the next one's seats fit.
    pub fn finish_wide(&mut self, width: u32) -> Vec<u32> {
        self.executing = self.executing.saturating_sub(width);
        let mut out = Vec::new();
        let n = self.queues.len();
        while self.waiting > 0 {
            let Some(q) = (0..n).map(|k| (self.cursor + k) % n).find(|&q| !self.queues[q].is_empty()) else {
                break;
            };
            let Some(&(id, w)) = self.queues[q].front() else { break };
            if !self.fits(w) {
                break;
            }
            self.queues[q].pop_front();
            self.cursor = (q + 1) % n;
            self.waiting -= 1;
            self.executing += w;
            out.push(id);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_width_is_objects_over_100_within_1_to_10_seats_by_hand() {
        assert_eq!(width(false, 0), 1);
        assert_eq!(width(false, 100), 1);
        assert_eq!(width(false, 101), 2);
        assert_eq!(width(false, 250), 3);
        assert_eq!(width(false, 20_000), 10);
        assert_eq!(width(true, 20_000), 1);
        // 12 seats, one queue: a 10-seat LIST runs; a second one waits (10 + 10 > 12) and
        // so does a 1-seat write behind it (FIFO in its queue); when the first LIST ends the
        // second runs (10 seats), then the write fits (11 ≤ 12).
        let level = PriorityLevel {
            name: "l".into(),
            exempt: false,
            shares: 1,
            limit_response: LimitResponse::Queue { queues: 1, hand_size: 1, queue_length_limit: 10 },
        };
        let mut qs = QueueSet::new(&level, Some(12)).expect("queue set");
        assert_eq!(qs.admit_wide(0, 7, 10), Admit::Execute);
        assert_eq!(qs.admit_wide(1, 7, 10), Admit::Queued(0));
        assert_eq!(qs.admit_wide(2, 7, 1), Admit::Queued(0));
        assert_eq!(qs.executing(), 10);
        assert_eq!(qs.finish_wide(10), vec![1, 2]);
        assert_eq!(qs.executing(), 11);
        // A request wider than the limit runs when nothing else does.
        let mut qs = QueueSet::new(&level, Some(5)).expect("queue set");
        assert_eq!(qs.admit_wide(0, 7, 10), Admit::Execute);
    }

    #[test]
    fn nominal_concurrency_limits_of_the_defaults_by_hand() {
        // serverCL = 400 + 200 = 600; Σ shares over non-exempt levels = 5 + 30 + 40 + 10 +
        // 40 + 100 + 20 = 245. system: ceil(600 × 30 / 245) = ceil(73.47) = 74;
        // node-high and workload-high: ceil(97.96) = 98; leader-election ceil(24.49) = 25;
        // workload-low ceil(244.9) = 245; global-default ceil(48.98) = 49; catch-all
        // ceil(12.24) = 13; exempt: no limit.
        let levels = default_priority_levels();
        let got: Vec<(String, Option<u32>)> =
            levels.iter().map(|l| l.name.clone()).zip(concurrency_limits(600, &levels)).collect();
        let want = [
            ("exempt", None),
            ("catch-all", Some(13)),
            ("system", Some(74)),
            ("node-high", Some(98)),
            ("leader-election", Some(25)),
            ("workload-high", Some(98)),
            ("workload-low", Some(245)),
            ("global-default", Some(49)),
        ];
        let want: Vec<(String, Option<u32>)> = want.iter().map(|(n, l)| (n.to_string(), *l)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn concurrency_limit_of_two_levels_by_hand() {
        // Shares 1 and 3 of 10 seats: ceil(2.5) = 3 and ceil(7.5) = 8 (ceil can
        // over-allocate, as upstream).
        let a = queued(1, 8, 2, "a");
        let b = queued(3, 8, 2, "b");
        assert_eq!(concurrency_limits(10, &[a, b]), vec![Some(3), Some(8)]);
    }

    #[test]
    fn required_entropy_bits_upstream_table() {
        // shufflesharding_test.go TestRequiredEntropyBits.
        assert_eq!(required_entropy_bits(1024, 6), 60);
        assert_eq!(required_entropy_bits(512, 8), 72);
    }

    #[test]
    fn new_dealer_upstream_table() {
        // shufflesharding_test.go TestNewDealer.
        let cases: [(i64, i64, Option<&str>); 6] = [
            (-100, 8, Some("deckSize -100 or handSize 8 is not positive")),
            (100, 0, Some("deckSize 100 or handSize 0 is not positive")),
            (100, 101, Some("handSize 101 is greater than deckSize 100")),
            (1 << 27, 2, Some("deckSize 134217728 is impractically large")),
            (512, 8, Some("required entropy bits of deckSize 512 and handSize 8 is greater than 60")),
            (1024, 6, None),
        ];
        for (deck, hand, err) in cases {
            assert_eq!(Dealer::new(deck, hand).err().as_deref(), err, "{deck} {hand}");
        }
    }

    #[test]
    fn deal_by_hand_and_card_duplication_upstream_table() {
        // Deck 8, hand 3, hash 100: remainders 100 % 8 = 4 (→ 12), 12 % 7 = 5 (→ 1),
        // 1 % 6 = 1. Cards: 4; 5 ≥ 4 → 6; 1 < 5, 1 < 4 → 1.
        assert_eq!(Dealer::new(8, 3).expect("dealer").deal(100), vec![4, 6, 1]);
        // TestCardDuplication: every hand has handSize distinct cards in range.
        for (deck, hand) in [(4, 4), (8, 8), (10, 10), (12, 12), (128, 8), (256, 7), (512, 6)] {
            let d = Dealer::new(deck, hand).expect("dealer");
            for hash in [0u64, 1, 0xdead_beef, u64::MAX, 0x0123_4567_89ab_cdef] {
                let mut cards = d.deal(hash);
                assert_eq!(cards.len(), hand as usize);
                assert!(cards.iter().all(|&c| i64::from(c) < deck));
                cards.sort_unstable();
                cards.dedup();
                assert_eq!(cards.len(), hand as usize, "deck {deck} hand {hand} hash {hash}");
            }
        }
    }

    #[test]
    fn deal_is_uniform_over_hands_upstream_table() {
        // TestUniformDistribution: dealing hashes 0..ff(deck, hand) gives every hand (as a
        // set) exactly hand! times.
        for (deck, hand) in [(128u32, 3u32), (50, 4)] {
            let d = Dealer::new(i64::from(deck), i64::from(hand)).expect("dealer");
            let ff: u64 = (0..hand).map(|i| u64::from(deck - i)).product();
            let mut counts = std::collections::BTreeMap::new();
            for hash in 0..ff {
                let mut cards = d.deal(hash);
                cards.sort_unstable();
                *counts.entry(cards).or_insert(0u64) += 1;
            }
            let perms: u64 = (1..=u64::from(hand)).product();
            assert_eq!(counts.len() as u64, ff / perms);
            assert!(counts.values().all(|&c| c == perms));
        }
    }

    #[test]
    fn sha256_known_answers() {
        // FIPS 180-4 examples.
        let hex = |d: [u8; 32]| d.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(hex(sha256(b"abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(hex(sha256(b"")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(
            hex(sha256(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        // hashFlowID is the first 8 bytes little-endian of SHA-256("a\0b").
        let d = sha256(b"a\0b");
        let mut first = [0u8; 8];
        first.copy_from_slice(&d[..8]);
        assert_eq!(hash_flow_id("a", "b"), u64::from_le_bytes(first));
    }

    #[test]
    fn default_schemas_classify_the_simulated_clients() {
        let schemas = default_flow_schemas();
        let kubelet = Digest {
            user: "system:node:n1",
            groups: &["system:nodes", "system:authenticated"],
            verb: "update",
            resource: "leases",
            namespace: "kube-node-lease",
        };
        let pick = |d: &Digest| classify(&schemas, d).map(|i| (schemas[i].name, schemas[i].priority_level));
        assert_eq!(pick(&kubelet), Some(("system-node-high", "node-high")));
        let status = Digest { verb: "patch", resource: "pods/status", namespace: "default", ..kubelet };
        assert_eq!(pick(&status), Some(("system-nodes", "system")));
        let sched = Digest {
            user: KUBE_SCHEDULER,
            groups: &["system:authenticated"],
            verb: "create",
            resource: "pods/binding",
            namespace: "default",
        };
        assert_eq!(pick(&sched), Some(("kube-scheduler", "workload-high")));
        let sched_lease = Digest { verb: "update", resource: "leases", namespace: "kube-system", ..sched };
        assert_eq!(pick(&sched_lease), Some(("system-leader-election", "leader-election")));
        // The controller manager's Endpoints writes outside kube-system are not leader
        // election (that rule is for kube-system only).
        let cm = Digest { user: KUBE_CONTROLLER_MANAGER, verb: "update", resource: "endpoints", ..sched };
        assert_eq!(pick(&cm), Some(("kube-controller-manager", "workload-high")));
        let cm_lock = Digest { namespace: "kube-system", ..cm };
        assert_eq!(pick(&cm_lock), Some(("system-leader-election", "leader-election")));
        let user = Digest { user: "alice", groups: &["system:authenticated"], ..sched };
        assert_eq!(pick(&user), Some(("global-default", "global-default")));
        let admin = Digest { groups: &["system:masters", "system:authenticated"], ..user };
        assert_eq!(pick(&admin), Some(("exempt", "exempt")));
        let nobody = Digest { groups: &[], ..user };
        assert_eq!(pick(&nobody), None);
        // ByNamespace flows of the scheduler differ by namespace only.
        let s = classify(&schemas, &sched).expect("schema");
        assert_eq!(schemas[s].flow_distinguisher(&sched), "default");
    }

    fn level(queues: u32, hand: u32, qll: u32) -> PriorityLevel {
        PriorityLevel {
            name: "l".to_string(),
            exempt: false,
            shares: 1,
            limit_response: LimitResponse::Queue { queues, hand_size: hand, queue_length_limit: qll },
        }
    }

    #[test]
    fn queue_set_seats_queue_length_limit_and_429_by_hand() {
        // 2 seats, 4 queues, hand 2, 2 per queue. Deck 4 hand 2, hash 5: remainders
        // 5 % 4 = 1 (→ 1), 1 % 3 = 1 → cards [1, 2]. Two run, then the waiting ones go to
        // the shorter queue of the hand visited from offset enqueues % 2: q1 (offset 0),
        // q2 (offset 1, q1 longer), then q1 and q2 again (ties: the first visited), then
        // both full: 429.
        let mut qs = QueueSet::new(&level(4, 2, 2), Some(2)).expect("queue set");
        assert_eq!(Dealer::new(4, 2).expect("dealer").deal(5), vec![1, 2]);
        let got: Vec<Admit> = (0..7).map(|id| qs.admit(id, 5)).collect();
        use Admit::*;
        assert_eq!(got, vec![Execute, Execute, Queued(1), Queued(2), Queued(1), Queued(2), Reject]);
        assert_eq!((qs.executing(), qs.waiting()), (2, 4));
        // A seat frees: queues are served in turn (q1's head, then q2's head).
        assert_eq!(qs.finish(), Some(2));
        assert_eq!(qs.finish(), Some(3));
        assert_eq!((qs.executing(), qs.waiting()), (2, 2));
    }

    #[test]
    fn shuffle_sharding_isolates_a_heavy_flow() {
        // 8 queues, hand 2, 1 seat, 10 per queue. An elephant flow fills its two queues
        // (and is then rejected); a mouse whose hand differs in at least one queue still
        // gets in and is served within two turns of the round-robin.
        let d = Dealer::new(8, 2).expect("dealer");
        let (elephant, mouse) = (0u64, 3u64);
        let (he, hm) = (d.deal(elephant), d.deal(mouse));
        assert!(hm.iter().any(|q| !he.contains(q)), "{he:?} {hm:?}");
        let mut qs = QueueSet::new(&level(8, 2, 10), Some(1)).expect("queue set");
        let mut rejected = 0;
        for id in 0..30 {
            if qs.admit(id, elephant) == Admit::Reject {
                rejected += 1;
            }
        }
        assert_eq!(rejected, 30 - 1 - 20);
        assert!(matches!(qs.admit(100, mouse), Admit::Queued(_)));
        let served: Vec<u32> = (0..3).filter_map(|_| qs.finish()).collect();
        assert!(served.contains(&100), "{served:?}");
    }

    #[test]
    fn retry_after_doubles_under_drops_and_decays_by_hand() {
        // 3 drops in second 1, then one in second 2: in [1, 2) there were 3 ≥ 3 × 1 drops
        // and 2 − 0 ≥ 1 s since the last increase, so Retry-After becomes 2. One drop in
        // second 5: [3, 5) holds none (< 2), so it goes back to 1.
        let mut d = DroppedRequests::default();
        assert_eq!(d.retry_after(), 1);
        for _ in 0..3 {
            d.record(1);
        }
        assert_eq!(d.retry_after(), 1);
        d.record(2);
        assert_eq!(d.retry_after(), 2);
        d.record(5);
        assert_eq!(d.retry_after(), 1);
        // A sustained flood doubles it every retryAfter seconds up to 32.
        let mut d = DroppedRequests::default();
        for t in 1..200 {
            for _ in 0..100 {
                d.record(t);
            }
        }
        assert_eq!(d.retry_after(), MAX_RETRY_AFTER);
    }

    #[test]
    fn configure_changes_levels_and_names_bad_fields() {
        let spec: ApfSpec = serde_saphyr::from_str(
            "{priorityLevels: [{name: workload-low, nominalConcurrencyShares: 10, queues: 16, handSize: 4}]}",
        )
        .expect("spec");
        let levels = configure(&spec).expect("valid");
        let low = levels.iter().find(|l| l.name == "workload-low").expect("level");
        assert_eq!(low.shares, 10);
        assert_eq!(
            low.limit_response,
            LimitResponse::Queue { queues: 16, hand_size: 4, queue_length_limit: 50 }
        );
        let bad: ApfSpec = serde_saphyr::from_str(
            "{priorityLevels: [{name: system, nominalConcurrencyShares: 0}, {name: exempt},
              {name: catch-all, queues: 4}, {name: node-high, handSize: 65}, {name: system, queueLengthLimit: 0}]}",
        )
        .expect("spec");
        let errs: Vec<String> = configure(&bad).expect_err("invalid").into_iter().map(|(p, _)| p).collect();
        assert_eq!(
            errs,
            vec![
                "priorityLevels[0].nominalConcurrencyShares",
                "priorityLevels[1].name",
                "priorityLevels[2].queues",
                "priorityLevels[3].handSize",
                "priorityLevels[4].queueLengthLimit",
            ]
        );
    }

    #[test]
    fn a_reject_level_429s_what_cannot_run() {
        let catch_all = &default_priority_levels()[1];
        let mut qs = QueueSet::new(catch_all, Some(1)).expect("queue set");
        assert_eq!(qs.admit(0, 1), Admit::Execute);
        assert_eq!(qs.admit(1, 1), Admit::Reject);
        assert_eq!(qs.finish(), None);
        assert_eq!(qs.admit(2, 1), Admit::Execute);
    }
}
