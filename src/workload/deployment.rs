//! The Deployment/ReplicaSet controller: keeps each Deployment at `replicas` live
//! (non-terminal) pods. It creates what is missing, all at once or paced at `createRate`
//! pods per second, replaces pods that end, follows replica-count changes
//! (`deployments[].scale`), and on a scale-down deletes the surplus in the upstream order.
//! Upstream: `kubernetes/kubernetes:pkg/controller/replicaset/replica_set.go`
//! (`manageReplicas`, `getPodsToDelete`) and `pkg/controller/controller_utils.go`
//! (`ActivePodsWithRanks.Less`).

use crate::cluster::{ClusterState, DeploymentId, Owner, PodId, PodPhase};
use crate::engine::{SimDuration, SimTime, rng::splitmix64};
use crate::scenario::schema::IntOrPercent;
use crate::sim::{Ctx, Event};

/// What a reconciliation changed.
#[derive(Debug, Default)]
pub struct Change {
    pub created: Vec<PodId>,
    /// The surplus pods to delete, in deletion order. The controller only chooses them;
    /// the caller deletes them (gracefully, see `Simulation::delete_gracefully`), which is
    /// when the owner stops counting them.
    pub deleted: Vec<PodId>,
}

/// A rolling update in progress (`deployments[].rollouts`).
#[derive(Clone, Copy, Debug)]
struct Rollout {
    /// Pods with a smaller id are the old ReplicaSet's (ids are never reused).
    boundary: u32,
    /// `maxSurge` and `maxUnavailable` resolved against `replicas` when the update began.
    surge: u32,
    unavailable: u32,
}

pub struct DeploymentController {
    /// Each Deployment's rolling updates in order, as (maxSurge, maxUnavailable).
    rollout_specs: Vec<Vec<(IntOrPercent, IntOrPercent)>>,
    rollouts: Vec<Option<Rollout>>,
    /// Interval between paced creations per Deployment; `None` = all at once.
    pace: Vec<Option<SimDuration>>,
    /// A paced creation chain is running for this Deployment.
    pacing: Vec<bool>,
    started: Vec<bool>,
}

impl DeploymentController {
    pub fn new(create_rates: &[f64]) -> Self {
        let pace = create_rates
            .iter()
            .map(|&r| if r > 0.0 { Some(SimDuration::from_secs_f64(1.0 / r)) } else { None })
            .collect();
        DeploymentController {
            rollout_specs: vec![Vec::new(); create_rates.len()],
            rollouts: vec![None; create_rates.len()],
            pace,
            pacing: vec![false; create_rates.len()],
            started: vec![false; create_rates.len()],
        }
    }

    /// Each Deployment's rolling updates, as (maxSurge, maxUnavailable), in the order of
    /// their `Event::DeploymentRollout` indexes.
    pub fn with_rollouts(mut self, specs: Vec<Vec<(IntOrPercent, IntOrPercent)>>) -> Self {
        self.rollout_specs = specs;
        self
    }

    /// Whether a rolling update of `d` is in progress.
    pub fn rolling(&self, d: DeploymentId) -> bool {
        self.rollouts[d.index()].is_some()
    }

    /// `Event::DeploymentRollout`: rolling update `index` of `d` begins; every pod that
    /// exists now is old. Upstream resolves the fenceposts (`deploymentutil.ResolveFenceposts`):
    /// maxSurge rounded up, maxUnavailable rounded down, and 1 unavailable if both are 0. A
    /// Deployment not started yet has nothing to replace.
    pub fn on_rollout(
        &mut self,
        cluster: &mut ClusterState,
        d: DeploymentId,
        index: usize,
        ctx: &mut Ctx,
    ) -> Change {
        let Some((surge, unavailable)) = self.rollout_specs[d.index()].get(index) else {
            return Change::default();
        };
        if !self.started[d.index()] {
            return Change::default();
        }
        let replicas = cluster.deployments[d.index()].replicas;
        let surge = surge.scaled(replicas, true);
        let mut unavailable = unavailable.scaled(replicas, false);
        if surge == 0 && unavailable == 0 {
            unavailable = 1;
        }
        self.rollouts[d.index()] = Some(Rollout { boundary: cluster.pods.len() as u32, surge, unavailable });
        self.reconcile(cluster, d, ctx)
    }

    /// One pass of upstream `rolloutRolling` (`pkg/controller/deployment/rolling.go`): scale
    /// the new ReplicaSet up to at most `replicas + maxSurge` pods in all
    /// (`NewRSNewReplicas`), then the old one down by `all - minAvailable - newUnavailable`
    /// (`reconcileOldReplicaSets`, minAvailable = replicas - maxUnavailable; an old pod not
    /// Running goes first, in the ReplicaSet's deletion order), then the new one up again
    /// for the room the deletions made (upstream's next sync, at the same instant). Pods
    /// being deleted do not count (`FilterActivePods`); a pod is available once Running
    /// (`minReadySeconds` 0). Created pods are not paced by `createRate`. When no old pod
    /// is left and the new ones number `replicas`, the update is complete.
    fn reconcile_rolling(
        &mut self,
        cluster: &mut ClusterState,
        d: DeploymentId,
        ro: Rollout,
        ctx: &mut Ctx,
    ) -> Change {
        let replicas = cluster.deployments[d.index()].replicas;
        let (mut old, mut new, mut new_running) = (0u32, 0u32, 0u32);
        for (p, pod) in cluster.pods.iter() {
            if pod.owner != Owner::Deployment(d) || !pod.phase.is_active() {
                continue;
            }
            if p.0 < ro.boundary {
                old += 1;
            } else {
                new += 1;
                new_running += u32::from(pod.phase == PodPhase::Running);
            }
        }
        let template = cluster.deployments[d.index()].template;
        let now = ctx.now;
        let max_total = replicas.saturating_add(ro.surge);
        let mut created = Vec::new();
        let scale_up = |cluster: &mut ClusterState, old: u32, new: &mut u32, created: &mut Vec<PodId>| {
            let up = max_total.saturating_sub(old + *new).min(replicas.saturating_sub(*new));
            for _ in 0..up {
                created.push(cluster.create_pod(template, Owner::Deployment(d), None, now));
            }
            *new += up;
        };
        scale_up(cluster, old, &mut new, &mut created);
        let new_unavailable = new - new_running;
        let min_available = replicas.saturating_sub(ro.unavailable);
        let down = (old + new).saturating_sub(min_available).saturating_sub(new_unavailable).min(old);
        let deleted = if down > 0 {
            pods_to_delete_where(cluster, d, down as usize, now, |p| p.0 < ro.boundary)
        } else {
            Vec::new()
        };
        let old = old - deleted.len() as u32;
        scale_up(cluster, old, &mut new, &mut created);
        if old == 0 && new >= replicas {
            self.rollouts[d.index()] = None;
        }
        Change { created, deleted }
    }

    /// `Event::DeploymentStart`.
    pub fn on_start(&mut self, cluster: &mut ClusterState, d: DeploymentId, ctx: &mut Ctx) -> Vec<PodId> {
        self.started[d.index()] = true;
        self.reconcile(cluster, d, ctx).created
    }

    /// `Event::DeploymentScale`: a new replica count. Before the Deployment starts it only
    /// changes the count it will start with.
    pub fn on_scale(
        &mut self,
        cluster: &mut ClusterState,
        d: DeploymentId,
        replicas: u32,
        ctx: &mut Ctx,
    ) -> Change {
        cluster.deployments[d.index()].replicas = replicas;
        self.reconcile(cluster, d, ctx)
    }

    /// Creates what is missing now (or starts the paced chain), or deletes the surplus.
    pub fn reconcile(&mut self, cluster: &mut ClusterState, d: DeploymentId, ctx: &mut Ctx) -> Change {
        if !self.started[d.index()] {
            return Change::default();
        }
        if let Some(ro) = self.rollouts[d.index()] {
            return self.reconcile_rolling(cluster, d, ro, ctx);
        }
        let dep = &cluster.deployments[d.index()];
        let (replicas, live) = (dep.replicas, dep.live_pods);
        if live > replicas {
            let victims = pods_to_delete(cluster, d, (live - replicas) as usize, ctx.now);
            return Change { created: Vec::new(), deleted: victims };
        }
        let missing = replicas - live;
        if missing == 0 {
            return Change::default();
        }
        let created = match self.pace[d.index()] {
            None => {
                let template = dep.template;
                (0..missing)
                    .map(|_| cluster.create_pod(template, Owner::Deployment(d), None, ctx.now))
                    .collect()
            }
            Some(_) if self.pacing[d.index()] => Vec::new(),
            Some(_) => self.on_paced_create(cluster, d, ctx),
        };
        Change { created, deleted: Vec::new() }
    }

    /// `Event::DeploymentCreatePod`: one paced creation, then the next one if still short.
    pub fn on_paced_create(
        &mut self,
        cluster: &mut ClusterState,
        d: DeploymentId,
        ctx: &mut Ctx,
    ) -> Vec<PodId> {
        let dep = &cluster.deployments[d.index()];
        if dep.live_pods >= dep.replicas {
            self.pacing[d.index()] = false;
            return Vec::new();
        }
        let template = dep.template;
        let pod = cluster.create_pod(template, Owner::Deployment(d), None, ctx.now);
        let dep = &cluster.deployments[d.index()];
        if dep.live_pods < dep.replicas
            && let Some(interval) = self.pace[d.index()]
        {
            self.pacing[d.index()] = true;
            ctx.after(interval, Event::DeploymentCreatePod(d));
        } else {
            self.pacing[d.index()] = false;
        }
        vec![pod]
    }
}

/// The facts `ActivePodsWithRanks.Less` compares, for one pod.
struct Candidate {
    pod: PodId,
    assigned: bool,
    /// podPhaseToOrdinal: Pending (our Pending and Bound) 0, Running 2.
    phase_ordinal: u8,
    ready: bool,
    /// Active pods of the same Deployment on the same node ("doubled up").
    colocated: u32,
    ready_at: Option<SimTime>,
    created_at: SimTime,
    /// Stands in for the pod UID, which upstream uses as a pseudo-random tie-break.
    uid: u64,
}

/// Upstream `logarithmicRankDiff` (LogarithmicScaleDown, on by default): compares
/// floor(log2(now − t)) of two instants, in nanoseconds; −1 for a non-positive age.
fn log_rank(t: SimTime, now: SimTime) -> i64 {
    let d = now.saturating_since(t).as_nanos();
    if d == 0 { -1 } else { 63 - d.leading_zeros() as i64 }
}

/// Sort key after `ActivePodsWithRanks.Less` (smaller = delete first): unassigned first;
/// then Pending before Running; not ready before ready; more pods of the same Deployment on
/// the node first; ready for less time first and newer first, both on upstream's log2 time
/// scale (LogarithmicScaleDown); then the pseudo-random UID. Upstream's comparator breaks a
/// tie of log ranks by UID at once, which is not transitive (Go's sort tolerates that,
/// Rust's does not), so here the UID comes after both ranks: a total order that agrees with
/// upstream whenever ranks differ. Pod-deletion cost and container restart counts are
/// not considered (every pod has cost 0), and a Running pod counts as ready even while its
/// container is in CrashLoopBackOff or its node has failed unnoticed.
fn deletion_key(
    c: &Candidate,
    now: SimTime,
) -> (bool, u8, bool, std::cmp::Reverse<u32>, i64, i64, u64, PodId) {
    let ready_rank = match (c.ready, c.ready_at) {
        (true, Some(t)) => log_rank(t, now),
        _ => i64::MIN,
    };
    (
        c.assigned,
        c.phase_ordinal,
        c.ready,
        std::cmp::Reverse(c.colocated),
        ready_rank,
        log_rank(c.created_at, now),
        c.uid,
        c.pod,
    )
}

/// The `count` pods of Deployment `d` that the ReplicaSet controller deletes first.
pub fn pods_to_delete(cluster: &ClusterState, d: DeploymentId, count: usize, now: SimTime) -> Vec<PodId> {
    pods_to_delete_where(cluster, d, count, now, |_| true)
}

/// The `count` pods of Deployment `d` among those `keep` accepts (a ReplicaSet's own pods)
/// that the ReplicaSet controller deletes first.
fn pods_to_delete_where(
    cluster: &ClusterState,
    d: DeploymentId,
    count: usize,
    now: SimTime,
    keep: impl Fn(PodId) -> bool,
) -> Vec<PodId> {
    // The stored pods in id order (an ended pod is not active, stored or not).
    let active: Vec<PodId> = cluster
        .pods
        .iter()
        .filter(|(p, pod)| pod.owner == Owner::Deployment(d) && pod.phase.is_active() && keep(*p))
        .map(|(p, _)| p)
        .collect();
    // getPodsRankedByRelatedPodsOnSameNode: active pods of the same owner per node.
    let mut per_node: std::collections::BTreeMap<Option<u32>, u32> = std::collections::BTreeMap::new();
    for &p in &active {
        *per_node.entry(cluster.pod(p).node.map(|n| n.0)).or_insert(0) += 1;
    }
    let mut candidates: Vec<Candidate> = active
        .iter()
        .map(|&p| {
            let pod = cluster.pod(p);
            let running = pod.phase == PodPhase::Running;
            Candidate {
                pod: p,
                assigned: pod.node.is_some(),
                phase_ordinal: if running { 2 } else { 0 },
                ready: running,
                colocated: per_node.get(&pod.node.map(|n| n.0)).copied().unwrap_or(0),
                ready_at: if running { pod.running_at } else { None },
                created_at: pod.created_at,
                uid: splitmix64(p.0 as u64),
            }
        })
        .collect();
    candidates.sort_by_key(|c| deletion_key(c, now));
    candidates.into_iter().take(count).map(|c| c.pod).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Less` of the deletion order: `Ordering::Less` means "delete `a` first".
    fn delete_first(a: &Candidate, b: &Candidate, now: SimTime) -> std::cmp::Ordering {
        deletion_key(a, now).cmp(&deletion_key(b, now))
    }

    fn cand(
        pod: u32,
        assigned: bool,
        running: bool,
        colocated: u32,
        ready_s: u64,
        created_s: u64,
    ) -> Candidate {
        Candidate {
            pod: PodId(pod),
            assigned,
            phase_ordinal: if running { 2 } else { 0 },
            ready: running,
            colocated,
            ready_at: running.then(|| SimTime(ready_s * 1_000_000_000)),
            created_at: SimTime(created_s * 1_000_000_000),
            uid: splitmix64(pod as u64),
        }
    }

    /// Cases after upstream `TestSortingActivePodsWithRanks`
    /// (`pkg/controller/controller_utils_test.go`): each pair (a, b) with a deleted first.
    #[test]
    fn deletion_order_follows_active_pods_with_ranks() {
        let now = SimTime(10_000 * 1_000_000_000);
        let rows = [
            ("unassigned before assigned", cand(1, false, false, 1, 0, 50), cand(2, true, false, 1, 0, 10)),
            ("pending before running", cand(1, true, false, 1, 0, 10), cand(2, true, true, 1, 20, 50)),
            ("doubled up before alone", cand(1, true, true, 3, 100, 10), cand(2, true, true, 1, 9000, 9000)),
            ("ready for less time first", cand(1, true, true, 1, 9000, 10), cand(2, true, true, 1, 100, 50)),
            ("newer before older", cand(1, true, false, 1, 0, 9000), cand(2, true, false, 1, 0, 10)),
        ];
        for (name, a, b) in rows {
            assert_eq!(delete_first(&a, &b, now), std::cmp::Ordering::Less, "{name}");
            assert_eq!(delete_first(&b, &a, now), std::cmp::Ordering::Greater, "{name} (reversed)");
        }
    }

    #[test]
    fn equal_log_ranks_fall_back_to_uid() {
        // Ready 9,990 s and 9,995 s ago and created at the same time: both
        // floor(log2(age ns)) = 43, so the UID decides.
        let now = SimTime(10_000 * 1_000_000_000);
        let a = cand(1, true, true, 1, 10, 0);
        let b = cand(2, true, true, 1, 5, 0);
        assert_eq!(
            log_rank(a.ready_at.unwrap_or_default(), now),
            log_rank(b.ready_at.unwrap_or_default(), now)
        );
        assert_eq!(delete_first(&a, &b, now), a.uid.cmp(&b.uid));
        assert_eq!(log_rank(now, now), -1);
    }
}
