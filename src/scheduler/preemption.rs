//! DefaultPreemption (the PostFilter plugin) as pure functions: which lower-priority pods to
//! evict on a node so that a pending pod fits ([`select_victims_on_node`]), how many nodes to
//! dry-run and in which order ([`num_candidates`], [`dry_run_preemption`]), which candidate
//! node to nominate ([`pick_one_node`]) and whether a pod may preempt at all
//! ([`eligible_to_preempt_others`]). Sources:
//! - `kubernetes/kubernetes:pkg/scheduler/framework/plugins/defaultpreemption/default_preemption.go`
//!   (`SelectVictimsOnNode`, `filterPodsWithPDBViolation`, `PodEligibleToPreemptOthers`,
//!   `calculateNumCandidates`, `GetOffsetAndNumCandidates`),
//! - `kubernetes/kubernetes:pkg/scheduler/framework/preemption/preemption.go`
//!   (`DryRunPreemption`, `pickOneNodeForPreemption`),
//! - `kubernetes/kubernetes:pkg/scheduler/util/utils.go` (`MoreImportantPod`,
//!   `GetEarliestPodStartTime`).
//!
//! Nothing here touches the cluster: the caller snapshots a node into a [`NodeState`], the
//! functions say which pods would go, and the caller evicts them and nominates the node.
//!
//! Simplifications against upstream:
//! - "Fits" is the NodeResourcesFit filter only ([`super::plugins::fit::fits`]). Taints,
//!   node affinity, unschedulable nodes and readiness are the caller's job: a node failing
//!   those filters (upstream: status `UnschedulableAndUnresolvable`) is not passed in.
//! - No inter-pod affinity/anti-affinity and no topology spread, so the PreFilter
//!   `AddPod`/`RemovePod` extensions have nothing to update; no volume filters.
//! - No nominated-pod accounting (`RunFilterPluginsWithNominatedPods` adds the resources of
//!   equal-or-higher-priority pods nominated to the node; here only bound pods count).
//! - No extenders (`callExtenders`), no custom `IsEligiblePod`/`MoreImportantPod` hooks, no
//!   pod-group (workload-aware) preemption, no async preemption API calls.
//! - A pod belongs to at most one PodDisruptionBudget ([`VictimPod::pdb`], an index into the
//!   caller's `disruptions_allowed` slice); upstream matches every PDB of the namespace whose
//!   selector matches. A pod already in a budget's `DisruptedPods` should be passed with
//!   `pdb: None` (upstream does not count it against the budget).
//! - Sorts are stable: pods of equal importance keep the node's pod order (upstream uses the
//!   unstable `sort.Slice`), and candidate ties go to the first candidate in the order given
//!   (upstream builds the candidate list from a map, so its "first" is arbitrary).
//! - Upstream runs the dry run in parallel and may return a few extra candidates; here it is
//!   sequential, which is what upstream's tests pin with `parallelism = 1`.
//! - The random offset of `GetOffsetAndNumCandidates` is the caller's (seeded) choice.
//! - A pod without a start time counts as starting "now" upstream (`GetPodStartTime`); here
//!   the caller supplies a start time for every pod (e.g. its bind time).

use super::plugins::fit::fits;
use crate::cluster::Resources;

/// Upstream default `DefaultPreemptionArgs.MinCandidateNodesPercentage`
/// (`kubernetes/kubernetes:pkg/scheduler/apis/config/v1/defaults.go`).
pub const MIN_CANDIDATE_NODES_PERCENTAGE: usize = 10;
/// Upstream default `DefaultPreemptionArgs.MinCandidateNodesAbsolute`.
pub const MIN_CANDIDATE_NODES_ABSOLUTE: usize = 100;

/// A pod bound to a node, as preemption sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VictimPod {
    pub id: u32,
    pub priority: i32,
    /// Actual requests; the pod always counts as one pod whatever `requests.pods` says.
    pub requests: Resources,
    pub start_time_ns: u64,
    /// Index of the pod's PodDisruptionBudget in the `disruptions_allowed` slice.
    pub pdb: Option<usize>,
}

/// One node's snapshot.
#[derive(Clone, Copy, Debug)]
pub struct NodeState<'a> {
    pub allocatable: Resources,
    /// Sum of the actual requests of all pods bound to the node; `pods` is their count.
    pub requested: Resources,
    /// The pods bound to the node (all of them, whatever their priority).
    pub pods: &'a [VictimPod],
}

/// What preempting on one node costs (upstream `extenderv1.Victims`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Victims {
    /// Ids of the pods to evict, most important first (upstream order).
    pub pods: Vec<u32>,
    /// How many of them violate their PodDisruptionBudget (`NumPDBViolations`).
    pub pdb_violations: usize,
}

/// Upstream `util.MoreImportantPod`: higher priority first, then the earlier start time.
#[inline]
fn more_important_first(a: &VictimPod, b: &VictimPod) -> std::cmp::Ordering {
    b.priority.cmp(&a.priority).then(a.start_time_ns.cmp(&b.start_time_ns))
}

/// The resources a pod frees or takes: its requests, counted as exactly one pod.
#[inline]
fn one_pod(p: &VictimPod) -> Resources {
    Resources { pods: 1, ..p.requests }
}

/// Upstream `SelectVictimsOnNode`: the smallest set of lower-priority pods (by the greedy
/// reprieve order) whose eviction lets `preemptor` (its actual requests) fit on `node`.
///
/// 1. Every pod with a priority strictly lower than `preemptor_priority` is a potential
///    victim; all of them are removed. With no potential victim the node cannot help:
///    `None` (upstream: "No preemption victims found for incoming pod").
/// 2. If the preemptor does not fit even then: `None`.
/// 3. Potential victims are sorted most important first and split into those whose
///    PodDisruptionBudget would be violated and the others (`filterPodsWithPDBViolation`:
///    walking the sorted list, each pod takes one from its budget's `disruptions_allowed`;
///    it violates when the count drops below 0).
/// 4. Reprieve: re-add each violating pod, then each non-violating one, most important
///    first; a pod that keeps the preemptor from fitting is removed again and becomes a
///    victim (counted as a PDB violation if it was in the violating group).
///
/// `Some` with no victims means the preemptor already fits without evicting anything;
/// upstream's dry run does not make such a node a candidate ([`dry_run_preemption`] skips it).
pub fn select_victims_on_node(
    preemptor_priority: i32,
    preemptor: &Resources,
    node: &NodeState,
    disruptions_allowed: &[i64],
) -> Option<Victims> {
    select_victims_on_node_with(preemptor_priority, preemptor, node, disruptions_allowed, None)
}

/// The filters a dry run re-runs besides resource fit: given the indexes (in the node's pod
/// list) of the pods taken off, whether the preemptor passes them.
pub type OtherFilters<'a> = dyn FnMut(&[usize]) -> bool + 'a;

/// [`select_victims_on_node`] with the other filters that depend on the node's pods
/// (PodTopologySpread, InterPodAffinity): `other_filters(removed)` says whether the preemptor
/// passes them with the pods at those indexes of `node.pods` taken off the node, as upstream
/// re-runs every filter after each `RemovePod` / `AddPod` of the dry run.
pub fn select_victims_on_node_with(
    preemptor_priority: i32,
    preemptor: &Resources,
    node: &NodeState,
    disruptions_allowed: &[i64],
    mut other_filters: Option<&mut OtherFilters>,
) -> Option<Victims> {
    let pods = node.pods;
    let mut requested = node.requested;
    let mut potential: Vec<usize> = Vec::new();
    let mut any_pdb = false;
    for (i, p) in pods.iter().enumerate() {
        if p.priority < preemptor_priority {
            potential.push(i);
            requested -= one_pod(p);
            any_pdb |= p.pdb.is_some();
        }
    }
    if potential.is_empty() || !fits(preemptor, &node.allocatable, &requested) {
        return None;
    }
    if let Some(f) = other_filters.as_deref_mut()
        && !f(&potential)
    {
        return None;
    }
    potential.sort_by(|&a, &b| more_important_first(&pods[a], &pods[b]));

    // filterPodsWithPDBViolation, kept in place: `violating[k]` for `potential[k]`.
    let mut violating = vec![false; potential.len()];
    if any_pdb {
        let mut allowed = disruptions_allowed.to_vec();
        for (k, &i) in potential.iter().enumerate() {
            if let Some(b) = pods[i].pdb
                && let Some(a) = allowed.get_mut(b)
            {
                *a -= 1;
                violating[k] = *a < 0;
            }
        }
    }
    let num_violating = violating.iter().filter(|&&v| v).count();

    // Positions in `potential` of the pods that stay evicted.
    let mut victims: Vec<usize> = Vec::new();
    let mut pdb_violations = 0;
    // With other filters: which potential victims are off the node at each step.
    let mut off: Vec<bool> = if other_filters.is_some() { vec![true; potential.len()] } else { Vec::new() };
    for pass_violating in [true, false] {
        for (k, &i) in potential.iter().enumerate() {
            if violating[k] != pass_violating {
                continue;
            }
            let r = one_pod(&pods[i]);
            requested += r;
            if let Some(o) = off.get_mut(k) {
                *o = false;
            }
            let passes_others = match other_filters.as_deref_mut() {
                None => true,
                Some(f) => {
                    let removed: Vec<usize> =
                        potential.iter().zip(&off).filter(|(_, o)| **o).map(|(i, _)| *i).collect();
                    f(&removed)
                }
            };
            if !fits(preemptor, &node.allocatable, &requested) || !passes_others {
                if let Some(o) = off.get_mut(k) {
                    *o = true;
                }
                requested -= r;
                victims.push(k);
                if pass_violating {
                    pdb_violations += 1;
                }
            }
        }
    }
    // "Sort victims after reprieving pods to keep the pods in the victims sorted in order of
    // importance from high to low." `victims` holds positions in the importance-sorted
    // `potential`, so sorting the positions restores that order (equal pods by node order).
    if num_violating != 0 && num_violating != potential.len() {
        victims.sort_unstable();
    }
    Some(Victims { pods: victims.into_iter().map(|k| pods[potential[k]].id).collect(), pdb_violations })
}

/// Upstream `calculateNumCandidates`: how many candidate nodes the dry run should find,
/// `max(num_nodes × min_pct / 100, min_abs)` capped at `num_nodes`.
pub fn num_candidates(num_nodes: usize, min_pct: usize, min_abs: usize) -> usize {
    (num_nodes * min_pct / 100).max(min_abs).min(num_nodes)
}

/// Upstream `DryRunPreemption` with parallelism 1: visit the `num_nodes` potential nodes
/// starting at `offset` (wrapping), ask `victims_on(node)` (normally
/// [`select_victims_on_node`]), and keep nodes that need at least one victim, up to
/// `num_candidates` without PDB violations and `num_candidates` with. Stops once there is at
/// least one non-violating candidate and `num_candidates` in all, so it looks past
/// `num_candidates` while only violating candidates have been found. Returns the
/// non-violating candidates, then the violating ones, each in visit order.
pub fn dry_run_preemption(
    num_nodes: usize,
    offset: usize,
    num_candidates: usize,
    mut victims_on: impl FnMut(usize) -> Option<Victims>,
) -> Vec<(usize, Victims)> {
    let mut non_violating: Vec<(usize, Victims)> = Vec::new();
    let mut violating: Vec<(usize, Victims)> = Vec::new();
    for i in 0..num_nodes {
        let node = (offset + i) % num_nodes;
        let Some(v) = victims_on(node) else { continue };
        if v.pods.is_empty() {
            // Upstream: "expected at least one victim pod on node" (an error status).
            continue;
        }
        // candidateList.add drops entries beyond its capacity.
        let list = if v.pdb_violations == 0 { &mut non_violating } else { &mut violating };
        if list.len() < num_candidates {
            list.push((node, v));
        }
        if !non_violating.is_empty() && non_violating.len() + violating.len() >= num_candidates {
            break;
        }
    }
    non_violating.append(&mut violating);
    non_violating
}

/// `pickOneNodeForPreemption`'s criteria for one candidate as a lexicographic key, smaller
/// is better: fewest PDB violations, lowest highest-priority victim, smallest sum of
/// priorities, fewest victims, latest start among the highest-priority victims.
pub type PickKey = (usize, i32, i64, usize, std::cmp::Reverse<u64>);

/// The [`PickKey`] of a candidate; `pod(id)` gives a victim's priority and start time.
pub fn pick_key(v: &Victims, pod: impl Fn(u32) -> (i32, u64)) -> PickKey {
    let mut highest = i32::MIN;
    let mut sum: i64 = 0;
    for &id in &v.pods {
        let (prio, _) = pod(id);
        highest = highest.max(prio);
        sum += i64::from(prio) + i64::from(i32::MAX) + 1;
    }
    let mut earliest_of_highest = u64::MAX;
    for &id in &v.pods {
        let (prio, start) = pod(id);
        if prio == highest {
            earliest_of_highest = earliest_of_highest.min(start);
        }
    }
    (v.pdb_violations, highest, sum, v.pods.len(), std::cmp::Reverse(earliest_of_highest))
}

/// Upstream `pickOneNodeForPreemption` with the default score functions: the node (first
/// element of the chosen candidate) with
/// 1. the fewest PDB violations, then
/// 2. the lowest highest-priority victim, then
/// 3. the smallest sum of victim priorities, each shifted by `MaxInt32 + 1` so that more
///    negative-priority victims never look cheaper, then
/// 4. the fewest victims, then
/// 5. the latest start time among the highest-priority victims (upstream
///    `GetEarliestPodStartTime`: the earliest start of the victims that have the highest
///    priority; the node where that is latest wins), then
/// 6. the first in `candidates` order.
///
/// `pod(id)` gives a victim's `(priority, start_time_ns)`. A candidate without victims is
/// returned at once (kube-scheduler ≤ v1.18 did so; later releases never produce one).
/// `None` only for an empty slice. Allocation-free.
pub fn pick_one_node(candidates: &[(usize, Victims)], pod: impl Fn(u32) -> (i32, u64)) -> Option<usize> {
    if let Some((node, _)) = candidates.iter().find(|(_, v)| v.pods.is_empty()) {
        return Some(*node);
    }
    // Lexicographic key, smaller is better; `min_by_key` keeps the first of equal keys,
    // which is what applying the criteria one after the other does.
    let key = |v: &Victims| pick_key(v, &pod);
    candidates.iter().min_by_key(|(_, v)| key(v)).map(|(node, _)| *node)
}

/// Upstream `PodEligibleToPreemptOthers`.
/// - `preempt_never`: the pod's `preemptionPolicy` is `Never` → not eligible.
/// - `nominated_node`: `None` when the pod has no nominated node (or it no longer exists);
///   otherwise `Some((unresolvable, pods))` where `unresolvable` is true when the filters
///   found the nominated node `UnschedulableAndUnresolvable` (then the pod may preempt
///   again elsewhere) and `pods` lists `(priority, terminating_by_preemption)` of the pods on
///   it. While a lower-priority pod there is terminating because the scheduler preempted it
///   (deletion timestamp set and condition `DisruptionTarget=True`, reason
///   `PreemptionByScheduler`), the pod waits for it instead of preempting more.
pub fn eligible_to_preempt_others(
    preempt_never: bool,
    priority: i32,
    nominated_node: Option<(bool, &[(i32, bool)])>,
) -> bool {
    if preempt_never {
        return false;
    }
    match nominated_node {
        None | Some((true, _)) => true,
        Some((false, pods)) => !pods.iter().any(|&(p, terminating)| p < priority && terminating),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Upstream `default_preemption_test.go` globals.
    const NEG: i32 = -100;
    const LOW: i32 = 0;
    const MID: i32 = 100;
    const HIGH: i32 = 1000;
    const VERY_HIGH: i32 = 10000;
    /// `smallRes`, `mediumRes`, `largeRes`, `veryLargeRes`: cpu milli and memory bytes.
    const SMALL: Resources = Resources::new(100, 100, 0, 1);
    const MEDIUM: Resources = Resources::new(200, 200, 0, 1);
    const LARGE: Resources = Resources::new(300, 300, 0, 1);
    const VERY_LARGE: Resources = Resources::new(500, 500, 0, 1);
    /// `st.MakeNode().Capacity(veryLargeRes)`: 500m, 500 bytes, 32 pods (the wrapper's default).
    const NODE: Resources = Resources::new(500, 500, 0, 32);

    /// A pod bound to a node (no budget).
    fn p(id: u32, priority: i32, requests: Resources, start: u64) -> VictimPod {
        VictimPod { id, priority, requests, start_time_ns: start, pdb: None }
    }

    fn with_pdb(mut pod: VictimPod, pdb: usize) -> VictimPod {
        pod.pdb = Some(pdb);
        pod
    }

    fn requested(pods: &[VictimPod]) -> Resources {
        pods.iter().fold(Resources::ZERO, |acc, p| acc + one_pod(p))
    }

    fn select(
        prio: i32,
        req: Resources,
        alloc: Resources,
        pods: &[VictimPod],
        pdbs: &[i64],
    ) -> Option<Victims> {
        let node = NodeState { allocatable: alloc, requested: requested(pods), pods };
        select_victims_on_node(prio, &req, &node, pdbs)
    }

    /// Dry run over `nodes` (each a list of pods) with capacity [`NODE`].
    fn dry_run(
        prio: i32,
        req: Resources,
        nodes: &[Vec<VictimPod>],
        pdbs: &[i64],
        offset: usize,
        want: usize,
    ) -> Vec<(usize, Victims)> {
        dry_run_preemption(nodes.len(), offset, want, |n| select(prio, req, NODE, &nodes[n], pdbs))
    }

    fn lookup(nodes: &[Vec<VictimPod>]) -> impl Fn(u32) -> (i32, u64) + '_ {
        move |id| {
            let p = nodes.iter().flatten().find(|p| p.id == id).expect("victim on some node");
            (p.priority, p.start_time_ns)
        }
    }

    fn v(pods: &[u32], pdb_violations: usize) -> Victims {
        Victims { pods: pods.to_vec(), pdb_violations }
    }

    // Pod ids encode upstream names: 11 = "p1.1", 12 = "p1.2", 2 = "p2", ...

    /// Upstream `TestDryRunPreemption` (resource-fit cases), nodes of `veryLargeRes`,
    /// default args (all nodes are candidates). Upstream sorts each node's victims by name
    /// before comparing; the expectations here are in upstream's victim order.
    #[test]
    fn dry_run_preemption_table() {
        struct Row {
            name: &'static str,
            prio: i32,
            req: Resources,
            nodes: Vec<Vec<VictimPod>>,
            pdbs: &'static [i64],
            want: Vec<(usize, Victims)>,
        }
        let rows = [
            Row {
                name: "a pod that fits on both nodes when lower priority pods are preempted",
                prio: HIGH,
                req: LARGE,
                nodes: vec![vec![p(1, MID, LARGE, 0)], vec![p(2, MID, LARGE, 0)]],
                pdbs: &[],
                want: vec![(0, v(&[1], 0)), (1, v(&[2], 0))],
            },
            Row {
                name: "a pod that would fit on the nodes, but other pods running are higher priority, no preemption would happen",
                prio: LOW,
                req: LARGE,
                nodes: vec![vec![p(1, MID, LARGE, 0)], vec![p(2, MID, LARGE, 0)]],
                pdbs: &[],
                want: vec![],
            },
            Row {
                name: "medium priority pod is preempted, but lower priority one stays as it is small",
                prio: HIGH,
                req: LARGE,
                nodes: vec![vec![p(11, LOW, SMALL, 0), p(12, MID, LARGE, 0)], vec![p(2, MID, LARGE, 0)]],
                pdbs: &[],
                want: vec![(0, v(&[12], 0)), (1, v(&[2], 0))],
            },
            Row {
                // Sorted: p1.1 (mid), p1.3 (mid), p1.2 (low); p1.1 is reprieved.
                name: "mixed priority pods are preempted",
                prio: HIGH,
                req: LARGE,
                nodes: vec![
                    vec![
                        p(11, MID, SMALL, 0),
                        p(12, LOW, SMALL, 0),
                        p(13, MID, MEDIUM, 0),
                        p(14, HIGH, SMALL, 0),
                    ],
                    vec![p(2, HIGH, LARGE, 0)],
                ],
                pdbs: &[],
                want: vec![(0, v(&[13, 12], 0))],
            },
            Row {
                // epochTime5..1; of the two low pods the later one (p1.1) goes.
                name: "mixed priority pods are preempted, pick later StartTime one when priorities are equal",
                prio: HIGH,
                req: LARGE,
                nodes: vec![
                    vec![
                        p(11, LOW, SMALL, 5),
                        p(12, LOW, SMALL, 4),
                        p(13, MID, MEDIUM, 3),
                        p(14, HIGH, SMALL, 2),
                    ],
                    vec![p(2, HIGH, LARGE, 1)],
                ],
                pdbs: &[],
                want: vec![(0, v(&[13, 11], 0))],
            },
            Row {
                name: "preemption with violation of same pdb",
                prio: HIGH,
                req: VERY_LARGE,
                nodes: vec![vec![with_pdb(p(11, MID, MEDIUM, 0), 0), with_pdb(p(12, MID, MEDIUM, 0), 0)]],
                pdbs: &[1],
                want: vec![(0, v(&[11, 12], 1))],
            },
            Row {
                // DisruptedPods = {p2}: not on this node, so nothing changes.
                name: "preemption with violation of the pdb with pod whose eviction was processed, the victim doesn't belong to DisruptedPods",
                prio: HIGH,
                req: VERY_LARGE,
                nodes: vec![vec![with_pdb(p(11, MID, MEDIUM, 0), 0), with_pdb(p(12, MID, MEDIUM, 0), 0)]],
                pdbs: &[1],
                want: vec![(0, v(&[11, 12], 1))],
            },
            Row {
                // DisruptedPods = {p1.2}: p1.2 does not count against the budget (pdb: None).
                name: "preemption with violation of the pdb with pod whose eviction was processed, the victim belongs to DisruptedPods",
                prio: HIGH,
                req: VERY_LARGE,
                nodes: vec![vec![with_pdb(p(11, MID, MEDIUM, 0), 0), p(12, MID, MEDIUM, 0)]],
                pdbs: &[1],
                want: vec![(0, v(&[11, 12], 0))],
            },
            Row {
                name: "preemption with violation of the pdb with pod whose eviction was processed, the victim which belongs to DisruptedPods is treated as 'nonViolating'",
                prio: HIGH,
                req: VERY_LARGE,
                nodes: vec![vec![
                    with_pdb(p(11, MID, MEDIUM, 0), 0),
                    with_pdb(p(12, MID, MEDIUM, 0), 0),
                    p(13, MID, MEDIUM, 0),
                ]],
                pdbs: &[1],
                want: vec![(0, v(&[11, 12, 13], 1))],
            },
        ];
        for row in &rows {
            let got = dry_run(row.prio, row.req, &row.nodes, row.pdbs, 0, row.nodes.len());
            assert_eq!(got, row.want, "{}", row.name);
        }
    }

    /// Upstream `TestDryRunPreemption`, the `DefaultPreemptionArgs` cases (parallelism 1).
    /// Upstream draws the offset from `rand.NewSource(4)`; its comments give the values
    /// (4, then 1, then 3), used here directly.
    #[test]
    fn dry_run_preemption_candidate_limits() {
        let five = |prios: [i32; 5]| -> Vec<Vec<VictimPod>> {
            (0..5).map(|i| vec![p(i as u32 + 1, prios[i], LARGE, 0)]).collect()
        };
        let want = num_candidates(5, 40, 1);
        assert_eq!(want, 2);

        // "all nodes are possible candidates, but DefaultPreemptionArgs limits to 2":
        // offset 4 => node5 (yes), node1 (yes).
        let nodes = five([MID; 5]);
        let got = dry_run(HIGH, LARGE, &nodes, &[], 4, want);
        assert_eq!(got, vec![(4, v(&[5], 0)), (0, v(&[1], 0))]);

        // "some nodes are not possible candidates, DefaultPreemptionArgs limits to 2":
        // offset 4 => node5 (no), node1 (yes), node2 (no), node3 (yes).
        let nodes = five([MID, VERY_HIGH, MID, MID, VERY_HIGH]);
        let got = dry_run(HIGH, LARGE, &nodes, &[], 4, want);
        assert_eq!(got, vec![(0, v(&[1], 0)), (2, v(&[3], 0))]);

        // "preemption offset across multiple scheduling cycles and wrap around".
        let nodes = five([MID; 5]);
        for (offset, expect) in [(4, [4, 0]), (1, [1, 2]), (3, [3, 4])] {
            let got: Vec<usize> =
                dry_run(HIGH, LARGE, &nodes, &[], offset, want).iter().map(|c| c.0).collect();
            assert_eq!(got, expect, "offset {offset}");
        }

        // "preemption looks past numCandidates until a non-PDB violating node is found":
        // p1, p2, p5 carry app=foo with DisruptionsAllowed 0; offset 4 => node5 (yes, pdb),
        // node1 (yes, pdb), node2 (dropped: the violating list is full), node3 (yes).
        let want = num_candidates(5, 40, 2);
        let mut nodes = five([MID; 5]);
        for n in [0, 1, 4] {
            nodes[n][0].pdb = Some(0);
        }
        let got = dry_run(HIGH, LARGE, &nodes, &[0], 4, want);
        assert_eq!(got, vec![(2, v(&[3], 0)), (4, v(&[5], 1)), (0, v(&[1], 1))]);
    }

    /// Upstream `TestSelectNodesForPreemption` / `TestDryRunPreemption` "a pod that fits
    /// with no preemption" (upstream forces the filter result with fake plugins; here the
    /// node simply has room): the node needs no victim, so it is not a candidate. A node
    /// with no lower-priority pod, or too small even when emptied, is not one either.
    #[test]
    fn nodes_that_are_not_candidates() {
        let pods = [p(1, MID, SMALL, 0)];
        assert_eq!(select(HIGH, SMALL, NODE, &pods, &[]), Some(Victims::default()));
        assert!(dry_run(HIGH, SMALL, &[pods.to_vec()], &[], 0, 1).is_empty());
        // Upstream TestPostFilter "pod with tied priority is still unschedulable".
        assert_eq!(select(MID, SMALL, NODE, &pods, &[]), None);
        // TestPostFilter "no candidate nodes found, no enough resource after removing low
        // priority pods": 200m/400 nodes, the preemptor asks for largeRes.
        let small_node = Resources::new(200, 400, 0, 32);
        assert_eq!(select(HIGH, LARGE, small_node, &[p(1, LOW, Resources::ZERO, 0)], &[]), None);
        // TestPostFilter "pod with higher priority can be made schedulable": a node that
        // allows one pod, taken by a best-effort pod of priority 0.
        let one_pod_node = Resources::new(0, 0, 0, 1);
        let best_effort = Resources::new(0, 0, 0, 1);
        assert_eq!(
            select(HIGH, best_effort, one_pod_node, &[p(1, LOW, best_effort, 0)], &[]),
            Some(v(&[1], 0))
        );
        // An empty node has nothing to preempt.
        assert_eq!(select(HIGH, VERY_LARGE, NODE, &[], &[]), None);
    }

    /// Upstream `TestSelectBestCandidate` (dry run with the default args, then
    /// `SelectCandidate`), nodes of `veryLargeRes`; start times `epochTime`..`epochTime6`.
    #[test]
    fn select_best_candidate_table() {
        struct Row {
            name: &'static str,
            prio: i32,
            req: Resources,
            nodes: Vec<Vec<VictimPod>>,
            want: &'static [usize],
        }
        let rows = [
            Row {
                name: "a pod that fits on both nodes when lower priority pods are preempted",
                prio: HIGH,
                req: LARGE,
                nodes: vec![vec![p(1, MID, LARGE, 0)], vec![p(2, MID, LARGE, 0)]],
                want: &[0, 1],
            },
            Row {
                name: "node with min highest priority pod is picked",
                prio: HIGH,
                req: VERY_LARGE,
                nodes: vec![
                    vec![p(11, MID, MEDIUM, 0), p(12, MID, LARGE, 0)],
                    vec![p(21, MID, MEDIUM, 0), p(22, LOW, MEDIUM, 0)],
                    vec![p(31, LOW, MEDIUM, 0), p(32, LOW, MEDIUM, 0)],
                ],
                want: &[2],
            },
            Row {
                name: "when highest priorities are the same, minimum sum of priorities is picked",
                prio: HIGH,
                req: VERY_LARGE,
                nodes: vec![
                    vec![p(11, MID, MEDIUM, 0), p(12, MID, LARGE, 0)],
                    vec![p(21, MID, LARGE, 0), p(22, LOW, MEDIUM, 0)],
                    vec![p(31, MID, MEDIUM, 0), p(32, MID, MEDIUM, 0)],
                ],
                want: &[1],
            },
            Row {
                name: "when highest priority and sum are the same, minimum number of pods is picked",
                prio: HIGH,
                req: VERY_LARGE,
                nodes: vec![
                    vec![
                        p(11, MID, SMALL, 0),
                        p(12, NEG, SMALL, 0),
                        p(13, MID, SMALL, 0),
                        p(14, NEG, SMALL, 0),
                    ],
                    vec![p(21, MID, LARGE, 0), p(22, NEG, MEDIUM, 0)],
                    vec![p(31, MID, MEDIUM, 0), p(32, NEG, SMALL, 0), p(33, LOW, SMALL, 0)],
                ],
                want: &[1],
            },
            Row {
                name: "sum of adjusted priorities is considered",
                prio: HIGH,
                req: VERY_LARGE,
                nodes: vec![
                    vec![p(11, MID, SMALL, 0), p(12, NEG, SMALL, 0), p(13, NEG, SMALL, 0)],
                    vec![p(21, MID, LARGE, 0), p(22, NEG, MEDIUM, 0)],
                    vec![p(31, MID, MEDIUM, 0), p(32, NEG, SMALL, 0), p(33, LOW, SMALL, 0)],
                ],
                want: &[1],
            },
            Row {
                name: "non-overlapping lowest high priority, sum priorities, and number of pods",
                prio: VERY_HIGH,
                req: VERY_LARGE,
                nodes: vec![
                    vec![p(11, MID, SMALL, 0), p(12, LOW, SMALL, 0), p(13, LOW, SMALL, 0)],
                    vec![p(21, HIGH, LARGE, 0)],
                    vec![
                        p(31, MID, MEDIUM, 0),
                        p(32, LOW, SMALL, 0),
                        p(33, LOW, SMALL, 0),
                        p(34, LOW, MEDIUM, 0),
                    ],
                    vec![
                        p(41, MID, MEDIUM, 0),
                        p(42, MID, SMALL, 0),
                        p(43, MID, SMALL, 0),
                        p(44, NEG, SMALL, 0),
                    ],
                ],
                want: &[0],
            },
            Row {
                name: "same priority, same number of victims, different start time for each node's pod",
                prio: HIGH,
                req: VERY_LARGE,
                nodes: vec![
                    vec![p(11, MID, MEDIUM, 2), p(12, MID, MEDIUM, 2)],
                    vec![p(21, MID, MEDIUM, 3), p(22, MID, MEDIUM, 3)],
                    vec![p(31, MID, MEDIUM, 1), p(32, MID, MEDIUM, 1)],
                ],
                want: &[1],
            },
            Row {
                name: "same priority, same number of victims, different start time for all pods",
                prio: HIGH,
                req: VERY_LARGE,
                nodes: vec![
                    vec![p(11, MID, MEDIUM, 4), p(12, MID, MEDIUM, 2)],
                    vec![p(21, MID, MEDIUM, 5), p(22, MID, MEDIUM, 1)],
                    vec![p(31, MID, MEDIUM, 3), p(32, MID, MEDIUM, 6)],
                ],
                want: &[2],
            },
            Row {
                name: "different priority, same number of victims, different start time for all pods",
                prio: HIGH,
                req: VERY_LARGE,
                nodes: vec![
                    vec![p(11, LOW, MEDIUM, 4), p(12, MID, MEDIUM, 2)],
                    vec![p(21, MID, MEDIUM, 6), p(22, LOW, MEDIUM, 1)],
                    vec![p(31, LOW, MEDIUM, 3), p(32, MID, MEDIUM, 5)],
                ],
                want: &[1],
            },
        ];
        for row in &rows {
            let n = row.nodes.len();
            let want_candidates =
                num_candidates(n, MIN_CANDIDATE_NODES_PERCENTAGE, MIN_CANDIDATE_NODES_ABSOLUTE);
            let candidates = dry_run(row.prio, row.req, &row.nodes, &[], 0, want_candidates);
            assert_eq!(candidates.len(), n, "{}: every node is a candidate", row.name);
            let got = pick_one_node(&candidates, lookup(&row.nodes));
            assert!(
                got.is_some_and(|g| row.want.contains(&g)),
                "{}: got {got:?}, want one of {:?}",
                row.name,
                row.want
            );
        }
    }

    /// Upstream `TestPickOneNodeForPreemption` (kube-scheduler v1.18,
    /// `pkg/scheduler/core/generic_scheduler_test.go`), the cases where a node needs no
    /// victim: nodes of 500m / 1000 MiB, `smallContainers` = 100m / 200 MiB,
    /// `largeContainers` = 300m / 600 MiB. v1.18's `pickOneNodeForPreemption` returned such a
    /// node at once.
    #[test]
    fn pick_one_node_prefers_a_node_without_victims() {
        const MIB: i64 = 1024 * 1024;
        let node = Resources::new(500, 1000 * MIB, 0, 32);
        let small = Resources::new(100, 200 * MIB, 0, 1);
        let large = Resources::new(300, 600 * MIB, 0, 1);

        // "No node needs preemption": m1.1 (mid, small) leaves room for a large pod.
        let m1 = [p(11, MID, small, 0)];
        let c = select(HIGH, large, node, &m1, &[]).expect("lower-priority pod present");
        assert!(c.pods.is_empty());
        assert_eq!(pick_one_node(&[(0, c)], |_| (MID, 0)), Some(0));

        // "a pod that fits on a machine with no preemption": machine3 is empty.
        let nodes = [vec![p(11, MID, large, 0)], vec![p(21, MID, large, 0)]];
        let mut candidates: Vec<(usize, Victims)> = nodes
            .iter()
            .enumerate()
            .map(|(i, pods)| (i, select(HIGH, large, node, pods, &[]).expect("candidate")))
            .collect();
        candidates.push((2, Victims::default()));
        assert_eq!(pick_one_node(&candidates, lookup(&nodes)), Some(2));
    }

    /// `pickOneNodeForPreemption` criteria one at a time, on hand-made candidates.
    #[test]
    fn pick_one_node_criteria_order() {
        let pods =
            [(1, (MID, 10)), (2, (LOW, 5)), (3, (MID, 20)), (4, (NEG, 1)), (5, (NEG, 2)), (6, (HIGH, 0))];
        let pod = |id: u32| pods.iter().find(|(i, _)| *i == id).unwrap().1;
        assert_eq!(pick_one_node(&[], pod), None);
        // 1. fewest PDB violations beats everything else.
        assert_eq!(pick_one_node(&[(7, v(&[2], 1)), (8, v(&[6, 1, 3], 0))], pod), Some(8));
        // 2. lowest highest-priority victim.
        assert_eq!(pick_one_node(&[(7, v(&[1], 0)), (8, v(&[2, 4, 5], 0))], pod), Some(8));
        // 3. smallest adjusted sum: two NEG victims cost more than one.
        assert_eq!(pick_one_node(&[(7, v(&[4, 5], 0)), (8, v(&[4], 0))], pod), Some(8));
        // 5. same priorities and count: the node whose highest-priority victims started
        //    latest (earliest of {10} vs {20}).
        assert_eq!(pick_one_node(&[(7, v(&[1], 0)), (8, v(&[3], 0))], pod), Some(8));
        // 6. full tie: the first candidate.
        assert_eq!(pick_one_node(&[(7, v(&[4], 0)), (8, v(&[4], 0))], pod), Some(7));
    }

    /// Upstream `calculateNumCandidates` with the default args and the
    /// `DefaultPreemptionArgs` of `TestDryRunPreemption` (kubernetes/kubernetes has no
    /// `TestGetOffsetAndNumCandidates` table).
    #[test]
    fn num_candidates_table() {
        let d = |n| num_candidates(n, MIN_CANDIDATE_NODES_PERCENTAGE, MIN_CANDIDATE_NODES_ABSOLUTE);
        assert_eq!(d(0), 0);
        assert_eq!(d(3), 3);
        assert_eq!(d(100), 100);
        assert_eq!(d(999), 100);
        assert_eq!(d(1000), 100);
        assert_eq!(d(1010), 101);
        assert_eq!(d(5000), 500);
        assert_eq!(num_candidates(5, 40, 1), 2);
        assert_eq!(num_candidates(5, 40, 2), 2);
        assert_eq!(num_candidates(5, 40, 3), 3);
        assert_eq!(num_candidates(5, 100, 0), 5);
        assert_eq!(num_candidates(5, 0, 10), 5);
    }

    /// Upstream `TestPodEligibleToPreemptOthers`.
    #[test]
    fn eligible_to_preempt_others_table() {
        // "Pod with nominated node": its nominated node is UnschedulableAndUnresolvable.
        assert!(eligible_to_preempt_others(false, HIGH, Some((true, &[(LOW, true)]))));
        // "Pod without nominated node".
        assert!(eligible_to_preempt_others(false, HIGH, None));
        // "Pod with 'PreemptNever' preemption policy".
        assert!(!eligible_to_preempt_others(true, HIGH, None));
        // "preemption victim pod terminating, as indicated by the dedicated DisruptionTarget
        // condition".
        assert!(!eligible_to_preempt_others(false, HIGH, Some((false, &[(LOW, true)]))));
        // "non-victim Pods terminating": terminating, but not because of preemption.
        assert!(eligible_to_preempt_others(false, HIGH, Some((false, &[(LOW, false)]))));
        // A terminating pod of equal priority is not one of this pod's victims.
        assert!(eligible_to_preempt_others(false, HIGH, Some((false, &[(HIGH, true)]))));
    }

    /// Victims come back most important first after PDB reprieves mixed the groups, and the
    /// count of violations covers only violating pods that stayed victims.
    #[test]
    fn victims_sorted_after_mixed_reprieve() {
        // Budget 0 → both pdb pods violate; the mid one is reprieved first and fits.
        let pods = [with_pdb(p(1, MID, SMALL, 0), 0), with_pdb(p(2, LOW, SMALL, 0), 0), p(3, MID, LARGE, 0)];
        let got = select(HIGH, LARGE, NODE, &pods, &[0]).unwrap();
        // After removing all: 0 used; reprieve p1 (100) ok, p2 (200) ok, then p3 (500+300) no.
        assert_eq!(got, v(&[3], 0));
        // Bigger preemptor: p1 fits back, p2 does not, p3 does not → victims sorted [3, 2].
        let got = select(HIGH, Resources::new(400, 400, 0, 1), NODE, &pods, &[0]).unwrap();
        assert_eq!(got, v(&[3, 2], 1));
    }
}
