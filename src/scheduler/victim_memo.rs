//! The streamed preemption dry run: upstream `DryRunPreemption` + `pickOneNodeForPreemption`
//! (`pkg/scheduler/framework/preemption/preemption.go`) for the common case without
//! PodDisruptionBudgets, GPU devices or topology filters, done without building the
//! candidate list.
//!
//! Each node's victims are a pure function of its pods, the nominated load it holds and the
//! preemptor's priority and requests, so they are memoised per node ([`VictimCheck`], one
//! cache line a node, and [`VictimCache`] with the victims) until one of its pods changes
//! (`ClusterState::pods_epoch`). The walk goes over the nodes in upstream's rotating order
//! from the drawn offset, counts the candidates (non-violating and violating, each list
//! capped at `numCandidates`), stops where upstream's dry run stops, and keeps the best
//! candidate as it goes: the first of equal [`PickKey`]s, non-violating before violating, as
//! `pick_one_node` picks from the lists.
//!
//! When every node is a candidate the walk takes a block of 64 node ids at a time. A whole
//! block is summarised ([`BlockSummary`]: its candidates of each list and the first best of
//! each) over its nodes without nominated pods, valid while none of their pods changes
//! (`ClusterState::pods_block_epoch`); the block's nodes with nominated pods are read one by
//! one and merged in id order. The summary is taken at once when neither list's cap nor
//! the stop falls inside the block, which is every block but the walk's last; else the
//! block is walked node by node. The decisions are those of the node-by-node walk
//! (`tests/indexes.rs` compares it with the plain dry run).

use super::preemption::{self, NodeState, PickKey, VictimPod};
use super::{Nominated, nominated_load_of};
use crate::cluster::room::{BLOCK, ids_in};
use crate::cluster::{ClusterState, NodeId, PodId, Resources};

/// One node's memoised dry-run result for a preemptor's priority and requests: what the
/// walk reads of every node, packed (one cache line a node: a walk over tens of thousands
/// of nodes streams these, not [`VictimCache`]).
#[derive(Clone, Copy, Debug, Default)]
struct VictimCheck {
    /// The preemptor's requests, interned (`VictimMemo::shapes`); 0: no entry.
    shape: u32,
    epoch: u32,
    priority: i32,
    /// The dry run held no nominated pod's requests (else they are in [`VictimCache`]).
    nominated_zero: bool,
    /// The candidate's pick key; `None` when the node yields no candidate.
    key: Option<PickKey>,
}

/// The rest of a node's memoised dry run, read on a miss, with nominated pods, and for the
/// chosen node.
#[derive(Clone, Debug, Default)]
struct VictimCache {
    /// Requests of the pods nominated to the node that the dry run held there.
    nominated: Resources,
    victims: Vec<u32>,
}

/// A block's candidates: how many in each list (non-violating, violating) and the best of
/// each, the first (lowest id) of equal keys.
#[derive(Clone, Copy, Debug, Default)]
struct BlockSummary {
    /// The block's pod epoch, the preemptor's shape (0: no summary) and priority, and the
    /// nodes summarised (bit j: node `block * 64 + j`), the summary is valid for.
    epoch: u32,
    shape: u32,
    priority: i32,
    nodes: u64,
    counts: [usize; 2],
    best: [Option<(PickKey, u32)>; 2],
}

impl BlockSummary {
    /// Adds a candidate; ids may come in any order.
    fn add(&mut self, key: PickKey, id: u32) {
        let l = usize::from(key.0 != 0);
        self.counts[l] += 1;
        if self.best[l].is_none_or(|b| (key, id) < b) {
            self.best[l] = Some((key, id));
        }
    }
}

/// The walk's candidates so far, as upstream's dry run counts them.
struct Walked {
    k: usize,
    counts: [usize; 2],
    best: [Option<(PickKey, NodeId)>; 2],
}

impl Walked {
    /// One candidate, next in walk order; true when the dry run stops here (upstream stops
    /// once it has a non-violating candidate and `numCandidates` in all).
    fn take(&mut self, key: PickKey, id: NodeId) -> bool {
        let l = usize::from(key.0 != 0);
        if self.counts[l] < self.k {
            self.counts[l] += 1;
            if self.best[l].as_ref().is_none_or(|(b, _)| key < *b) {
                self.best[l] = Some((key, id));
            }
        }
        self.stops()
    }

    fn stops(&self) -> bool {
        self.counts[0] > 0 && self.counts[0] + self.counts[1] >= self.k
    }

    /// A whole block's candidates, next in walk order, when taking them one by one would
    /// neither hit a list's cap nor stop inside the block (then the counts add up and the
    /// first best of the block competes with the best so far); false, changing nothing,
    /// otherwise.
    fn take_block(&mut self, s: &BlockSummary) -> bool {
        let nv = self.counts[0] + s.counts[0];
        let v = self.counts[1] + s.counts[1];
        if nv > self.k || v > self.k || (nv > 0 && nv + v >= self.k) {
            return false;
        }
        self.counts = [nv, v];
        for (best, block) in self.best.iter_mut().zip(s.best) {
            if let Some((key, id)) = block
                && best.as_ref().is_none_or(|(b, _)| key < *b)
            {
                *best = Some((key, NodeId(id)));
            }
        }
        true
    }
}

/// The node ids of the bits of `mask` in the block of ids from `base`, in id order.
#[inline(always)]
fn ids(base: usize, mask: u64) -> impl Iterator<Item = NodeId> {
    ids_in(base, mask).map(|i| NodeId(i as u32))
}

/// The preemptor of a dry run.
pub struct Preemptor<'a> {
    pub pod: PodId,
    pub priority: i32,
    pub requests: Resources,
    /// `numCandidates`.
    pub k: usize,
    /// PodDisruptionBudgets' allowed disruptions (none on this path: all `i64::MAX`).
    pub allowed: &'a [i64],
    /// Pods nominated to each node, and whether any pod is nominated anywhere.
    pub nominated_on: &'a Nominated,
    pub any_nominated: bool,
}

/// The streamed dry run's memo (see the module doc).
#[derive(Clone, Debug, Default)]
pub struct VictimMemo {
    check: Vec<VictimCheck>,
    cache: Vec<VictimCache>,
    /// Preemptors' requests seen, numbered from 1 (looked up, never iterated).
    shapes: std::collections::HashMap<Resources, u32>,
    blocks: Vec<BlockSummary>,
    /// Per block: bit j set when node `block * 64 + j` has pods listed as nominated to it.
    nominated: Vec<u64>,
    /// Scratch: a node's pods as the dry run sees them.
    pods: Vec<VictimPod>,
    /// Blocks taken whole from their summaries (for tests; no output reads it).
    pub blocks_taken: u64,
}

impl VictimMemo {
    /// Node `node` has (`listed`) or no longer has pods listed as nominated to it.
    pub fn set_nominated(&mut self, node: usize, listed: bool) {
        let (b, bit) = (node / BLOCK, 1u64 << (node % BLOCK));
        if self.nominated.len() <= b {
            self.nominated.resize(b + 1, 0);
        }
        if listed {
            self.nominated[b] |= bit;
        } else {
            self.nominated[b] &= !bit;
        }
    }

    /// The dry run over `nodes` (candidates in node order) from `offset`: the chosen node
    /// and its victims, if any node has a candidate. `victim(q)` is pod `q` as a victim.
    pub fn walk(
        &mut self,
        cluster: &ClusterState,
        nodes: &[NodeId],
        offset: usize,
        p: &Preemptor,
        victim: &impl Fn(PodId) -> VictimPod,
    ) -> Option<(NodeId, Vec<u32>)> {
        let n = cluster.nodes.len();
        if self.check.len() < n {
            self.cache.resize_with(n, VictimCache::default);
            self.check.resize(n, VictimCheck::default());
        }
        let blocks = n.div_ceil(BLOCK);
        if self.blocks.len() < blocks {
            self.blocks.resize(blocks, BlockSummary::default());
        }
        if self.nominated.len() < blocks {
            self.nominated.resize(blocks, 0);
        }
        let next_shape = self.shapes.len() as u32 + 1;
        let shape = *self.shapes.entry(p.requests).or_insert(next_shape);
        let min_prio = cluster.min_priorities();
        let mut walked = Walked { k: p.k, counts: [0, 0], best: [None, None] };
        let len = nodes.len();
        // Every node is a candidate (the ids are then 0..len): the walk takes a block of ids
        // at a time and keeps those with a lower-priority pod by a branch-free mask.
        let every_node = len == n;
        let mut i = 0;
        'walk: while i < len {
            let at = if offset + i < len { offset + i } else { offset + i - len };
            if every_node {
                let part_end = if offset + i < len { len } else { offset };
                let base = at / BLOCK * BLOCK;
                let end = part_end.min(base + BLOCK);
                i += end - at;
                let below = min_prio[at..end]
                    .iter()
                    .enumerate()
                    .fold(0u64, |m, (j, &q)| m | u64::from(q < p.priority) << (at - base + j));
                if below == 0 {
                    continue;
                }
                if at == base
                    && end == n.min(base + BLOCK)
                    && self.whole_block(cluster, base, below, shape, p, victim, &mut walked)
                {
                    continue;
                }
                for id in ids(base, below) {
                    if let Some(key) = self.key_of(cluster, id, shape, p, victim)
                        && walked.take(key, id)
                    {
                        break 'walk;
                    }
                }
            } else {
                i += 1;
                let id = nodes[at];
                if min_prio[id.index()] < p.priority
                    && let Some(key) = self.key_of(cluster, id, shape, p, victim)
                    && walked.take(key, id)
                {
                    break 'walk;
                }
            }
        }
        let (_, chosen) = walked.best[0].or(walked.best[1])?;
        // The chosen node's own entry may be older than its block's summary (another
        // preemptor's walk went node by node over the block since): bring it up to date.
        self.key_of(cluster, chosen, shape, p, victim);
        Some((chosen, self.cache[chosen.index()].victims.clone()))
    }

    /// Takes the block of ids from `base` (its nodes `below` holding a lower-priority pod)
    /// whole, from its summary (made anew if stale) and its nodes with nominated pods; false
    /// when it must be walked node by node (see [`Walked::take_block`]).
    #[allow(clippy::too_many_arguments)]
    fn whole_block(
        &mut self,
        cluster: &ClusterState,
        base: usize,
        below: u64,
        shape: u32,
        p: &Preemptor,
        victim: &impl Fn(PodId) -> VictimPod,
        walked: &mut Walked,
    ) -> bool {
        let b = base / BLOCK;
        let listed = self.nominated[b];
        let rest = below & !listed;
        let epoch = cluster.pods_block_epoch(b);
        let s = self.blocks[b];
        let mut sum = if s.shape == shape && s.priority == p.priority && s.epoch == epoch && s.nodes == rest {
            s
        } else {
            let mut s =
                BlockSummary { epoch, shape, priority: p.priority, nodes: rest, ..BlockSummary::default() };
            for id in ids(base, rest) {
                if let Some(key) = self.key_of(cluster, id, shape, p, victim) {
                    s.add(key, id.0);
                }
            }
            self.blocks[b] = s;
            s
        };
        for id in ids(base, below & listed) {
            if let Some(key) = self.key_of(cluster, id, shape, p, victim) {
                sum.add(key, id.0);
            }
        }
        let taken = walked.take_block(&sum);
        self.blocks_taken += u64::from(taken);
        taken
    }

    /// Node `id`'s pick key as a candidate (`None`: no candidate), from the memo or from
    /// upstream's `SelectVictimsOnNode`.
    fn key_of(
        &mut self,
        cluster: &ClusterState,
        id: NodeId,
        shape: u32,
        p: &Preemptor,
        victim: &impl Fn(PodId) -> VictimPod,
    ) -> Option<PickKey> {
        let epoch = cluster.pods_epoch(id.index());
        let nominated = if p.any_nominated {
            nominated_load_of(p.nominated_on, cluster, id.index(), Some(p.pod), p.priority)
        } else {
            Resources::ZERO
        };
        let nominated_zero = nominated == Resources::ZERO;
        let check = &mut self.check[id.index()];
        let entry = &mut self.cache[id.index()];
        if !(check.shape == shape
            && check.epoch == epoch
            && check.priority == p.priority
            && check.nominated_zero == nominated_zero
            && (nominated_zero || entry.nominated == nominated))
        {
            let n = cluster.node(id);
            self.pods.clear();
            self.pods.extend(cluster.pods_on_node_unordered(id).iter().map(|&q| victim(q)));
            let state = NodeState {
                allocatable: n.allocatable,
                requested: n.requested + nominated,
                pods: &self.pods,
            };
            let v = preemption::select_victims_on_node(p.priority, &p.requests, &state, p.allowed)
                .filter(|v| !v.pods.is_empty());
            let info = |q: u32| {
                let v = victim(PodId(q));
                (v.priority, v.start_time_ns)
            };
            *check = VictimCheck {
                shape,
                epoch,
                priority: p.priority,
                nominated_zero,
                key: v.as_ref().map(|v| preemption::pick_key(v, info)),
            };
            *entry = VictimCache { nominated, victims: v.map(|v| v.pods).unwrap_or_default() };
        }
        check.key
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random candidates (keys from a small range, so ties are common, and some violating
    /// ones) in blocks: taking a block whole when [`Walked::take_block`] allows it gives the
    /// counts, the best of each list and the stop that taking its candidates one by one gives.
    #[test]
    fn whole_blocks_walk_as_candidates_one_by_one() {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut draw = |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % n
        };
        let mut taken = 0;
        for _ in 0..3000 {
            let k = 1 + draw(40) as usize;
            let blocks = 1 + draw(12) as usize;
            // 0: no violating candidates; 1: half; 2: nearly all (the lists' caps bind).
            let violating = draw(3);
            // Per block: its candidates in walk (id) order.
            let cands: Vec<Vec<(PickKey, NodeId)>> = (0..blocks)
                .map(|b| {
                    let mut ids: Vec<u32> = (0..64).filter(|_| draw(3) == 0).collect();
                    ids.sort_unstable();
                    ids.into_iter()
                        .map(|j| {
                            let key: PickKey = (
                                usize::from(match violating {
                                    0 => false,
                                    1 => draw(2) == 0,
                                    _ => draw(16) != 0,
                                }),
                                draw(3) as i32,
                                draw(2) as i64,
                                1,
                                std::cmp::Reverse(draw(3)),
                            );
                            (key, NodeId((b * 64) as u32 + j))
                        })
                        .collect()
                })
                .collect();
            let mut one = Walked { k, counts: [0, 0], best: [None, None] };
            let mut stop_one = false;
            'one: for block in &cands {
                for &(key, id) in block {
                    if one.take(key, id) {
                        stop_one = true;
                        break 'one;
                    }
                }
            }
            let mut whole = Walked { k, counts: [0, 0], best: [None, None] };
            let mut stop_whole = false;
            'whole: for block in &cands {
                let mut s = BlockSummary::default();
                // Added in either order: the summary keeps the lowest id of equal keys.
                if draw(2) == 0 {
                    block.iter().for_each(|&(key, id)| s.add(key, id.0));
                } else {
                    block.iter().rev().for_each(|&(key, id)| s.add(key, id.0));
                }
                if whole.take_block(&s) {
                    taken += 1;
                    continue;
                }
                for &(key, id) in block {
                    if whole.take(key, id) {
                        stop_whole = true;
                        break 'whole;
                    }
                }
            }
            assert_eq!(stop_one, stop_whole);
            assert_eq!(one.counts, whole.counts);
            assert_eq!(one.best, whole.best);
        }
        assert!(taken > 500, "blocks taken whole: {taken}");
    }
}
