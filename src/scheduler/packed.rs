//! The packed scheduling cycle: the filter walk, the scores and `selectHost` of an attempt
//! whose only filters are NodeResourcesFit, NodeUnschedulable and TaintToleration, over
//! the cluster's packed per-node arrays instead of one node at a time.
//!
//! Most attempts of a large cluster are of that kind (pods without node selectors,
//! affinities, hard spread constraints, GPUs or nominations; PodTopologySpread's system
//! default constraints only score). For them the generic cycle in `mod.rs` spends its time
//! on per-node bookkeeping: one index search per feasible node, a 40-byte candidate record,
//! a closure per plugin. Here each step is one loop over dense arrays:
//!
//! - **filter**: the free-capacity leaves (`room.rs`, one `[i64; 4]` per node) are scanned in
//!   blocks of 64 node ids: a block whose minimum (kept by the index) covers the need and
//!   has no cordoned or tainted node is taken whole; another is compacted branch-free
//!   (every node's index is written, the count advances by the fit test); stretches without
//!   room are jumped through the index; the rare cordoned or tainted node is checked by the
//!   same plugin functions as in the generic cycle;
//! - **score**: the memoised NodeResourcesFit + BalancedAllocation score by node generation
//!   (the memo of `mod.rs`), PodTopologySpread's raw score from `topology::SpreadTerms`, each
//!   into its own array;
//! - **selectHost**: the weighted totals and the reservoir draws in candidate order.
//!
//! The decisions are those of the generic cycle by construction: the same candidates in the
//! same rotating order, the same early stop at `numFeasibleNodesToFind` and
//! `nextStartNodeIndex`, the same integer and `f64` operations per score, the same draws.
//! `tests/parallel.rs` compares the two paths (`Scheduler::packed_path` off) decision for
//! decision on generated clusters and on every shipped scenario.

use super::{Decision, Scheduler, normalize, plugins, uniform_below};
use crate::cluster::room::{BLOCK, Room, covers_all};
use crate::cluster::{ClusterState, NODE_CORDONED, NODE_TAINTED, NodeId, Placement, PodRequests};

/// Scratch arrays of the packed cycle (kept across attempts: no allocation per attempt).
#[derive(Debug, Default)]
pub struct Packed {
    /// The feasible nodes found, in rotating order.
    nodes: Vec<u32>,
    /// Per candidate: the weighted NodeResourcesFit + BalancedAllocation score.
    base: Vec<i64>,
    /// Per candidate: PodTopologySpread's raw score.
    spread: Vec<i64>,
    /// Scratch of `SpreadTerms::raw_into`.
    spread_memo: Vec<i64>,
    /// PodTopologySpread's weighted normalised score of each raw score from the minimum.
    spread_table: Vec<i64>,
    /// Candidates on tainted nodes, with their raw TaintToleration score.
    tainted: Vec<(u32, i64)>,
}

/// What the generic cycle has worked out before the walk.
pub(super) struct Attempt<'c> {
    pub template_id: u32,
    pub req: PodRequests,
    pub placement: &'c Placement,
    pub need: Room,
    pub start: usize,
    pub want: usize,
    pub cycle: Option<&'c super::topology::Cycle<'c>>,
}

impl Scheduler {
    /// The attempt on the packed path (the caller, `find_node`, has checked that it
    /// qualifies).
    pub(super) fn find_node_packed(&mut self, cluster: &ClusterState, a: &Attempt<'_>) -> Decision {
        let n = cluster.nodes.len();
        let (start, want) = (a.start, a.want);
        let room = cluster.room_index_held();
        let leaves = room.leaves();
        let flags = cluster.all_node_flags();
        let p = &mut self.packed;
        p.nodes.clear();
        // Filter (schedule_one.go findNodesThatPassFilters), in rotating order from `start`:
        // `processed` nodes looked at when `want` are found (all of them otherwise).
        let mut processed = n;
        // Some node with room is tainted (its TaintToleration score is read below).
        let mut any_tainted = false;
        let tolerations = &a.placement.tolerations;
        let passes_flags = |i: usize| {
            let f = flags[i];
            (f & NODE_CORDONED == 0 || plugins::node_unschedulable::filter(true, tolerations))
                && (f & NODE_TAINTED == 0
                    || plugins::taint_toleration::filter(cluster.node_taints(NodeId(i as u32)), tolerations))
        };
        // The nodes of `i..end` with room, compacted branch-free, then those of them that a
        // cordon or a taint rules out dropped.
        let mut compact = |nodes: &mut Vec<u32>, i: usize, end: usize| {
            let before = nodes.len();
            nodes.resize(before + (end - i), 0);
            let out = &mut nodes[before..];
            let mut m = 0;
            // The union of the flags of the nodes with room.
            let mut flagged = 0u8;
            for ((j, leaf), &f) in leaves[i..end].iter().enumerate().zip(&flags[i..end]) {
                out[m] = (i + j) as u32;
                let fit = covers_all(leaf, &a.need);
                m += usize::from(fit);
                flagged |= f & 0u8.wrapping_sub(u8::from(fit));
            }
            nodes.truncate(before + m);
            any_tainted |= flagged & NODE_TAINTED != 0;
            if flagged != 0 {
                let mut w = before;
                for r in before..nodes.len() {
                    let j = nodes[r];
                    if passes_flags(j as usize) {
                        nodes[w] = j;
                        w += 1;
                    }
                }
                nodes.truncate(w);
            }
        };
        'walk: for (lo, hi) in [(start, n), (0, start)] {
            let mut i = lo;
            while i < hi {
                if !covers_all(&leaves[i], &a.need) {
                    match room.first_fit(i, hi, &a.need) {
                        Some(j) => i = j,
                        None => break,
                    }
                }
                // Blocks end at multiples of BLOCK, so a whole block can be answered by the
                // index's block minimum.
                let end = ((i / BLOCK + 1) * BLOCK).min(hi);
                if end - i == BLOCK
                    && room.block_fits(i / BLOCK, &a.need)
                    && flags[i..end].iter().all(|&f| f == 0)
                {
                    // Every node of the block fits and none is cordoned or tainted.
                    p.nodes.extend(i as u32..end as u32);
                } else {
                    compact(&mut p.nodes, i, end);
                }
                if p.nodes.len() >= want {
                    p.nodes.truncate(want);
                    let last = p.nodes[want - 1] as usize;
                    processed = if last >= start { last - start } else { last + n - start } + 1;
                    break 'walk;
                }
                i = end;
            }
        }
        let examined = super::examined(cluster, start, processed);
        self.next_start_node_index = (start + processed) % n;
        match self.packed.nodes.len() {
            0 => return Decision { node: None, examined },
            // schedule_one.go: "When only one node after predicate, just use it."
            1 => return Decision { node: Some(NodeId(self.packed.nodes[0])), examined },
            _ => {}
        }

        // Score: the memoised resource scores, then the raw TaintToleration scores of the
        // tainted candidates (every other candidate's is 0).
        let (class, row) = self.score_row(cluster, a.template_id, n);
        let cache = &mut self.score_cache[row..row + n];
        let cfg = &self.cfg;
        let p = &mut self.packed;
        let skip_balanced = plugins::balanced::skip_for(&a.req, &cfg.balanced_resources);
        let generations = cluster.node_generations();
        // PodTopologySpread's PreScore over the candidates (`None`: it skips).
        let terms = a.cycle.and_then(|c| c.spread_terms(&p.nodes, |i| i as usize));
        let mut base_of = |i: usize| {
            let generation = generations[i];
            let cached = &mut cache[i];
            if cached.template == class && cached.generation == generation {
                cached.base
            } else {
                let base = resource_score(cfg, cluster, i, &a.req, skip_balanced);
                *cached = super::CachedScore { template: class, generation, base };
                base
            }
        };
        if terms.is_none() && !any_tainted {
            // Only the resource scores differ between candidates: scored and selected in one
            // pass (TaintToleration's normalised score is the maximum for all, NodeAffinity's 0).
            let constant = cfg.weight_taint_toleration * normalize(0, 0, true)
                + cfg.weight_node_affinity * normalize(0, 0, false);
            let best =
                select_host(&mut self.tie_rng, p.nodes.iter().map(|&i| base_of(i as usize) + constant));
            return Decision { node: Some(NodeId(p.nodes[best])), examined };
        }
        p.base.clear();
        p.base.extend(p.nodes.iter().map(|&i| base_of(i as usize)));
        p.tainted.clear();
        let mut max_taint = 0;
        if any_tainted {
            for (k, &i) in p.nodes.iter().enumerate() {
                if flags[i as usize] & NODE_TAINTED != 0 {
                    let raw = plugins::taint_toleration::score(cluster.node_taints(NodeId(i)), tolerations);
                    max_taint = max_taint.max(raw);
                    p.tainted.push((k as u32, raw));
                }
            }
        }
        // Totals: the base, TaintToleration normalised (every untainted candidate scores the
        // maximum: the tainted ones get the difference), NodeAffinity 0 (no preferred terms:
        // `normalize(0, 0)`), InterPodAffinity 0 (it skips), PodTopologySpread weighted.
        let w_taint = cfg.weight_taint_toleration;
        let untainted =
            w_taint * normalize(0, max_taint, true) + cfg.weight_node_affinity * normalize(0, 0, false);
        for &(k, raw) in &p.tainted {
            p.base[k as usize] +=
                w_taint * normalize(raw, max_taint, true) - w_taint * normalize(0, max_taint, true);
        }
        let rng = &mut self.tie_rng;
        let best = match &terms {
            None => select_host(rng, p.base.iter().map(|b| b + untainted)),
            Some(t) => {
                // Raw scores and their extremes, then NormalizeScore by a table of the few
                // distinct values (one division per value, not per node).
                let (min, max) = t.raw_into(&p.nodes, &mut p.spread, &mut p.spread_memo);
                let w = cfg.weight_topology_spread;
                let spread = |s: i64| w * super::topology::spread_normalized(s, min, max);
                if ((max - min) as usize) < 4096 {
                    p.spread_table.clear();
                    p.spread_table.extend((min..=max).map(spread));
                    let table = &p.spread_table;
                    select_host(
                        rng,
                        p.base.iter().zip(&p.spread).map(|(b, s)| b + untainted + table[(s - min) as usize]),
                    )
                } else {
                    select_host(rng, p.base.iter().zip(&p.spread).map(|(b, &s)| b + untainted + spread(s)))
                }
            }
        };
        Decision { node: Some(NodeId(p.nodes[best])), examined }
    }
}

/// NodeResourcesFit + BalancedAllocation, weighted, of node `i` for a pod requesting `req`
/// (a memo miss: kept out of the loops so that they keep their registers).
#[cold]
#[inline(never)]
pub(super) fn resource_score(
    cfg: &super::SchedulerConfig,
    cluster: &ClusterState,
    i: usize,
    req: &PodRequests,
    skip_balanced: bool,
) -> i64 {
    let node = &cluster.nodes[i];
    let fit = plugins::fit::score(
        cfg.strategy,
        &req.non_zero,
        &node.non_zero_requested,
        &node.allocatable,
        &cfg.fit_resources,
    );
    let balanced = if skip_balanced {
        0
    } else {
        plugins::balanced::score(&req.actual, &node.requested, &node.allocatable, &cfg.balanced_resources)
    };
    cfg.weight_fit * fit + cfg.weight_balanced * balanced
}

/// selectHost (`schedule_one.go`): the position of the highest of `totals`, ties broken
/// uniformly at random by reservoir sampling (a draw for every total equal to the best so
/// far, in order).
#[inline(always)]
fn select_host(rng: &mut crate::engine::RngStream, totals: impl Iterator<Item = i64>) -> usize {
    let mut best = 0;
    let mut best_score = i64::MIN;
    let mut ties: u64 = 0;
    for (k, total) in totals.enumerate() {
        if total > best_score {
            best_score = total;
            best = k;
            ties = 1;
        } else if total == best_score {
            ties += 1;
            if uniform_below(rng, ties) == 0 {
                best = k;
            }
        }
    }
    best
}
