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
//!   has no cordoned or tainted node is taken whole; in another, the nodes with room are a
//!   bit mask memoised per block ([`FitMask`], valid while the block's epoch,
//!   `ClusterState::block_epochs`, and the need stay); stretches without room are jumped
//!   through the index; a cordoned or tainted node with room is checked by the same plugin
//!   functions as in the generic cycle.
//!   Every candidate ends in a [`Seg`]: its block and the bits of its candidates;
//! - **score** (no tainted candidate): a candidate's total depends only on its weighted
//!   NodeResourcesFit + BalancedAllocation score (the memo of `mod.rs`, by node generation)
//!   and PodTopologySpread's memo slot (its (pod count, domain) pair, `topology::SpreadSlots`).
//!   Each block keeps its nodes grouped by those two ([`BlockStates`], at most 16 states,
//!   rebuilt when the block's epoch, the request class or the spread identity changes), so
//!   the raw spread scores, their extremes and the totals are worked out per state, not per
//!   node. Blocks with the same set of states (most of them, in a cluster of alike nodes)
//!   share one entry of [`StateSets`], and what an attempt works out from a block's states
//!   (the memo slots met and their best resource scores; which states reach the attempt's
//!   highest total) is worked out once per set;
//! - **selectHost**: the reservoir draws in candidate order. A block whose best state is
//!   below the best total so far is skipped whole (its nodes would draw nothing); in
//!   another only the nodes of the states at or above it are offered, one draw per tie.
//!   Once the best so far is the highest total of any state, a block's ties are the nodes
//!   of its set's states at that total.
//!   With tainted candidates the scores are per node over dense arrays; so are those of
//!   a block with more than 16 states or with a node past the spread memo's pod counts.
//!
//! The decisions are those of the generic cycle by construction: the same candidates in the
//! same rotating order, the same early stop at `numFeasibleNodesToFind` and
//! `nextStartNodeIndex`, the same integer and `f64` operations per score, the same draws.
//! `tests/parallel.rs` compares the two paths (`Scheduler::packed_path` off) decision for
//! decision on every shipped scenario and on generated clusters, among them clusters of a
//! few hundred nodes with churn, scale-downs and terminating pods, so that block states go
//! stale (and it checks that blocks were scored by their states).

use super::draws::TieDraws;
use super::topology::{SpreadSlots, SpreadTerms};
use super::{Decision, Scheduler, normalize, plugins};
use crate::cluster::room::{BLOCK, Room, covers_all, ids_in};
use crate::cluster::{ClusterState, NODE_CORDONED, NODE_TAINTED, NodeId, Placement, PodRequests};

/// Scratch arrays of the packed cycle (kept across attempts: no allocation per attempt).
#[derive(Debug, Default)]
pub struct Packed {
    /// The feasible nodes found, in rotating order: written from `segs` only when an
    /// attempt reads them by position (not on the [`ByBlocks`] path).
    nodes: Vec<u32>,
    /// How many feasible nodes `segs` holds.
    found: usize,
    /// Per candidate: the weighted NodeResourcesFit + BalancedAllocation score.
    base: Vec<i64>,
    /// Per candidate: PodTopologySpread's raw score.
    spread: Vec<i64>,
    /// Scratch of `SpreadTerms::raw_into`.
    spread_memo: Vec<i64>,
    /// PodTopologySpread's weighted normalised score of each raw score from the minimum.
    spread_table: Vec<i64>,
    /// The raw spread score of each memo slot met in a [`ByBlocks`] attempt (-1: none).
    block_memo: Vec<i64>,
    /// The spread memo slots met in an attempt.
    slots_met: Vec<u32>,
    /// Per spread memo slot: what a candidate in it adds to its resource score.
    slot_score: Vec<i64>,
    /// Per spread memo slot: the highest resource score of a block state with candidates
    /// in it (`i64::MIN` between attempts).
    slot_top: Vec<i64>,
    /// Per spread memo slot met: the resource score a state in it needs for the attempt's
    /// highest total of a block state.
    slot_need: Vec<i64>,
    /// The storage of the run of ties drawn for together ([`Reservoir::defer_ties`]).
    tie_run: Vec<(u64, Seg, u64)>,
    /// Candidates on tainted nodes, with their raw TaintToleration score.
    tainted: Vec<(u32, i64)>,
    /// `nodes` by block of ids, in order (every candidate is in one).
    segs: Vec<Seg>,
    /// Per block of node ids: its nodes with room for the last need asked.
    fits: Vec<FitMask>,
    /// Per block of node ids: its nodes grouped by what their scores depend on, kept
    /// across attempts while the block's epoch stays.
    blocks: Vec<BlockStates>,
    /// The distinct sets of block states, shared by the blocks that have them.
    sets: StateSets,
    /// [`ByBlocks`] attempts so far (stamps `sets`' per-attempt work).
    attempts: u64,
    /// Whole blocks scored by their states so far (for tests; no output reads it).
    pub by_state: u64,
}

impl Packed {
    /// The id of the candidate at position `k` (< `found`) of the attempt's rotating order.
    fn node_at(&self, k: usize) -> u32 {
        let s = &self.segs[self.segs.partition_point(|s| s.pos as usize <= k) - 1];
        s.ids().nth(k - s.pos as usize).expect("a position below the candidates found") as u32
    }
}

/// The candidates of one block of ids: the nodes of the block whose bits `mask` has, in
/// order, at positions `pos..` of the attempt's rotating order.
#[derive(Clone, Copy, Debug)]
struct Seg {
    block: u32,
    pos: u32,
    mask: u64,
}

impl Seg {
    fn len(&self) -> usize {
        self.mask.count_ones() as usize
    }

    /// The node ids of the segment, in order.
    #[inline(always)]
    fn ids(&self) -> impl Iterator<Item = usize> + use<> {
        ids_in(self.block as usize * BLOCK, self.mask)
    }

    /// The position in the attempt's rotating order of the block's node `j` (a bit of
    /// `mask`).
    #[inline(always)]
    fn at(&self, j: usize) -> usize {
        self.pos as usize + (self.mask & ((1u64 << j) - 1)).count_ones() as usize
    }
}

/// What a block's [`fit_mask`] was computed for: the pod's need, the block's epoch, and
/// whether the nominated loads were held.
#[derive(Clone, Copy, Debug, PartialEq)]
struct FitStamp {
    need: Room,
    epoch: u32,
    held: bool,
}

/// The nodes of a block with room for a need (bits), kept while the block's epoch stays.
#[derive(Clone, Copy, Debug)]
struct FitMask {
    stamp: FitStamp,
    fit: u64,
}

/// The bits `lo..hi` of a block (`hi` ≤ 64).
#[inline(always)]
fn bits(lo: usize, hi: usize) -> u64 {
    let below_hi = if hi >= BLOCK { !0 } else { (1u64 << hi) - 1 };
    below_hi & !((1u64 << lo) - 1)
}

/// The nodes of block `b` whose free capacity (`leaves`, the block's) covers the stamp's
/// need: NodeResourcesFit on each, memoised in `fits`.
#[inline]
fn fit_mask(fits: &mut Vec<FitMask>, b: usize, stamp: FitStamp, leaves: &[Room]) -> u64 {
    if fits.len() <= b {
        fits.resize(
            b + 1,
            FitMask { stamp: FitStamp { need: [i64::MAX; 4], epoch: 0, held: false }, fit: 0 },
        );
    }
    let f = &mut fits[b];
    if f.stamp != stamp {
        f.stamp = stamp;
        f.fit = leaves
            .iter()
            .enumerate()
            .fold(0, |m, (j, leaf)| m | u64::from(covers_all(leaf, &stamp.need)) << j);
    }
    f.fit
}

/// Distinct node states a block summary keeps; a block with more is scored node by node.
const STATES: usize = 16;

// A block's nodes are the bits of one `u64`, a set's states those of one `u16`.
const _: () = assert!(BLOCK == 64 && STATES <= 16);

/// The nodes of one block of ids grouped by state: the weighted NodeResourcesFit +
/// BalancedAllocation score and PodTopologySpread's memo slot (the node's (pod count,
/// domain) pair), which is all a candidate's total depends on when no candidate is
/// tainted. Valid for one request class and spread identity while the block's epoch
/// (`ClusterState::block_epochs`) stays.
///
/// Laid out in field order from a cache line's start: an attempt reads the stamp, the set
/// and `len` of every block, and mostly only the masks of the states at the best total
/// (the first four share the stamp's line).
#[derive(Clone, Debug)]
#[repr(C, align(64))]
struct BlockStates {
    class: u32,
    ident: [u32; 4],
    epoch: u32,
    /// The generation of [`StateSets`] that `set` is from.
    generation: u32,
    /// The block's set of states in [`StateSets`] (with `len` > 0).
    set: u32,
    /// States (0: the block is scored node by node), in the order of their (spread memo
    /// slot, resource score).
    len: u8,
    /// Per state: the nodes (bits of the block), the resource score, the spread memo slot.
    mask: [u64; STATES],
    base: [i64; STATES],
    slot: [u32; STATES],
    /// Per node of the block: its state.
    of: [u8; BLOCK],
}

impl Default for BlockStates {
    fn default() -> Self {
        BlockStates {
            class: u32::MAX,
            ident: [u32::MAX; 4],
            epoch: 0,
            generation: u32::MAX,
            set: 0,
            len: 0,
            of: [0; BLOCK],
            base: [0; STATES],
            slot: [0; STATES],
            mask: [0; STATES],
        }
    }
}

impl BlockStates {
    /// Groups the nodes of block `b` (candidates or not; the first `nodes` ids exist) by
    /// state; leaves `len` 0 when a node's pair is not memoised or there are more than
    /// [`STATES`] states.
    fn rebuild(
        &mut self,
        b: usize,
        nodes: usize,
        stamp: (u32, [u32; 4], u32, u32),
        base_of: &mut impl FnMut(usize) -> i64,
        slot_of: &impl Fn(usize) -> Option<u32>,
        sets: &mut StateSets,
    ) {
        (self.class, self.ident, self.epoch, self.generation) = stamp;
        self.len = 0;
        let mut len = 0;
        let existing = BLOCK.min(nodes - b * BLOCK);
        for j in 0..existing {
            let i = b * BLOCK + j;
            let base = base_of(i);
            let Some(slot) = slot_of(i) else { return };
            let k = match (0..len).find(|&k| self.base[k] == base && self.slot[k] == slot) {
                Some(k) => k,
                None if len < STATES => {
                    (self.base[len], self.slot[len], self.mask[len]) = (base, slot, 0);
                    len += 1;
                    len - 1
                }
                None => return,
            };
            self.mask[k] |= 1 << j;
            self.of[j] = k as u8;
        }
        // The states in (slot, resource score) order, so that blocks with the same states
        // have them at the same positions and share one entry of `sets`.
        let mut order: [u8; STATES] = std::array::from_fn(|k| k as u8);
        order[..len].sort_unstable_by_key(|&k| (self.slot[k as usize], self.base[k as usize]));
        let (base, slot, mask) = (self.base, self.slot, self.mask);
        let mut moved = [0u8; STATES];
        for (to, &from) in order[..len].iter().enumerate() {
            let from = from as usize;
            (self.base[to], self.slot[to], self.mask[to]) = (base[from], slot[from], mask[from]);
            moved[from] = to as u8;
        }
        for of in &mut self.of[..existing] {
            *of = moved[*of as usize];
        }
        let pairs: [(u32, i64); STATES] = std::array::from_fn(|k| (self.slot[k], self.base[k]));
        self.set = sets.intern(&pairs[..len]);
        self.len = len as u8;
    }
}

/// Sets of block states (their (spread memo slot, resource score) pairs in order), each
/// numbered once: in a cluster of alike nodes most blocks hold the same few states, so an
/// attempt's work per set (its slots met, its states at the best total) is done once for
/// all the blocks that share it.
#[derive(Debug, Default)]
struct StateSets {
    ids: super::key_hash::KeyMap<Box<[(u32, i64)]>, u32>,
    /// Bumped when `ids` is cleared: block states of an older generation are rebuilt.
    generation: u32,
    /// Per set: the attempt in which a block holding every state of the set with
    /// candidates was taken into the slots met (pass 1).
    met_in: Vec<u64>,
    /// Per set: the attempt `at_top` is for, and the states (bits of positions) at the
    /// attempt's highest total of a block state.
    top_in: Vec<u64>,
    at_top: Vec<u16>,
}

impl StateSets {
    /// More sets than this are forgotten (between two attempts), so that memory stays
    /// bounded when the states drift over a long run.
    const MAX: usize = 1 << 14;

    fn intern(&mut self, pairs: &[(u32, i64)]) -> u32 {
        if let Some(&id) = self.ids.get(pairs) {
            return id;
        }
        let id = self.ids.len() as u32;
        self.ids.insert(pairs.into(), id);
        if self.met_in.len() <= id as usize {
            self.met_in.push(0);
            self.top_in.push(0);
            self.at_top.push(0);
        }
        self.met_in[id as usize] = 0;
        self.top_in[id as usize] = 0;
        id
    }

    /// Before an attempt that may add `blocks` sets: forgets every set if they could pass
    /// [`StateSets::MAX`].
    fn make_room(&mut self, blocks: usize) {
        if self.ids.len() + blocks > Self::MAX {
            self.ids.clear();
            self.generation = self.generation.wrapping_add(1);
        }
    }
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
        p.segs.clear();
        p.found = 0;
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
        let epochs = cluster.block_epochs();
        let held = cluster.holds_nominated_loads();
        'walk: for (lo, hi) in [(start, n), (0, start)] {
            let mut i = lo;
            while i < hi {
                // Blocks end at multiples of BLOCK, so a whole block can be answered by the
                // index's block minimum (without reading its nodes' room).
                let end = ((i / BLOCK + 1) * BLOCK).min(hi);
                if end - i == BLOCK && room.block_fits(i / BLOCK, &a.need) && unflagged(&flags[i..end]) {
                    // Every node of the block fits and none is cordoned or tainted.
                    p.segs.push(Seg { block: (i / BLOCK) as u32, pos: p.found as u32, mask: !0 });
                    p.found += BLOCK;
                } else {
                    // The block's nodes with room (memoised while the block's epoch stays),
                    // those of `i..end` kept.
                    let b = i / BLOCK;
                    let stamp = FitStamp { need: a.need, epoch: epochs[b], held };
                    let fit = fit_mask(&mut p.fits, b, stamp, &leaves[b * BLOCK..n.min(b * BLOCK + BLOCK)])
                        & bits(i - b * BLOCK, end - b * BLOCK);
                    if fit == 0 {
                        // None: on to the next node with room.
                        match room.first_fit(end, hi, &a.need) {
                            Some(j) => {
                                i = j;
                                continue;
                            }
                            None => break,
                        }
                    } else {
                        // Those a cordon or a taint rules out dropped (the rare flagged node
                        // checked by the plugin functions).
                        let clean = unflagged(&flags[i..end]);
                        let (mut m, mut kept) = (fit, 0u64);
                        while m != 0 {
                            let j = m.trailing_zeros();
                            m &= m - 1;
                            let id = b * BLOCK + j as usize;
                            if !clean && flags[id] != 0 {
                                any_tainted |= flags[id] & NODE_TAINTED != 0;
                                if !passes_flags(id) {
                                    continue;
                                }
                            }
                            kept |= 1 << j;
                        }
                        if kept != 0 {
                            p.segs.push(Seg { block: b as u32, pos: p.found as u32, mask: kept });
                            p.found += kept.count_ones() as usize;
                        }
                    }
                }
                if p.found >= want {
                    p.found = want;
                    // The last segment keeps its first nodes up to `want`.
                    let mut last = 0;
                    if let Some(seg) = p.segs.last_mut() {
                        while seg.pos as usize + seg.len() > want {
                            seg.mask &= !(1u64 << (63 - seg.mask.leading_zeros()));
                        }
                        last = seg.block as usize * BLOCK + 63 - seg.mask.leading_zeros() as usize;
                    }
                    processed = if last >= start { last - start } else { last + n - start } + 1;
                    break 'walk;
                }
                i = end;
            }
        }
        let examined = super::examined(cluster, start, processed);
        self.next_start_node_index = (start + processed) % n;
        match self.packed.found {
            0 => return Decision { node: None, examined },
            // schedule_one.go: "When only one node after predicate, just use it."
            1 => return Decision { node: Some(NodeId(self.packed.node_at(0))), examined },
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
        let segs = &p.segs;
        let terms = a.cycle.and_then(|c| c.spread_terms(p.found, || segs.iter().flat_map(Seg::ids)));
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
        if !any_tainted {
            // Every candidate's TaintToleration normalised score is the maximum, its
            // NodeAffinity score 0 (no preferred terms): a candidate's total depends only on
            // its resource score and spread pair, which whole blocks keep by state.
            let slots = match &terms {
                None => Some(None),
                Some(t) => t.slots(p.found).map(Some),
            };
            if let Some(slots) = slots {
                let untainted = cfg.weight_taint_toleration * normalize(0, 0, true)
                    + cfg.weight_node_affinity * normalize(0, 0, false);
                let scoring = ByBlocks {
                    stamp: (
                        class,
                        slots.map_or([u32::MAX; 4], |s| {
                            [s.ident[0], s.ident[1], s.ident[2], s.memo_len() as u32]
                        }),
                    ),
                    epochs,
                    nodes: n,
                    terms: terms.as_ref().zip(slots),
                    untainted,
                    weight: cfg.weight_topology_spread,
                };
                let best = scoring.select(p, &mut self.tie_rng, &mut base_of);
                return Decision { node: Some(NodeId(p.node_at(best))), examined };
            }
        }
        // The candidates by position from here on.
        p.nodes.extend(p.segs.iter().flat_map(Seg::ids).map(|i| i as u32));
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

/// selectHost (`schedule_one.go`) as it goes: the position of the highest total offered,
/// ties broken uniformly at random by reservoir sampling (a draw for every total equal to
/// the best so far, in order). A total below the best so far changes nothing.
struct Reservoir {
    best: usize,
    best_score: i64,
    /// Ties drawn for.
    ties: u64,
    /// Ties offered by [`Reservoir::defer_ties`] and not drawn for yet, and their blocks:
    /// (the tie count after the block's, its segment, the mask of its ties).
    pending: u64,
    run: Vec<(u64, Seg, u64)>,
}

impl Reservoir {
    fn new(run: Vec<(u64, Seg, u64)>) -> Reservoir {
        Reservoir { best: 0, best_score: i64::MIN, ties: 0, pending: 0, run }
    }

    #[inline(always)]
    fn offer(&mut self, rng: &mut TieDraws, k: usize, total: i64) {
        if self.pending != 0 {
            self.draw_pending(rng);
        }
        if total > self.best_score {
            self.best_score = total;
            self.best = k;
            self.ties = 1;
        } else if total == self.best_score {
            self.ties += 1;
            if rng.uniform_below(self.ties) == 0 {
                self.best = k;
            }
        }
    }

    /// [`Reservoir::offer`] of a total equal to the best so far for the candidate of every
    /// bit `j` of `mask` (a subset of `seg`'s), in order (one draw each).
    ///
    /// The draws only give the tie count of the last that chose
    /// ([`TieDraws::last_zero`]); its candidate is looked up once, after.
    #[inline(always)]
    fn ties_at(&mut self, rng: &mut TieDraws, seg: &Seg, mask: u64) {
        if self.pending != 0 {
            self.draw_pending(rng);
        }
        let first = self.ties;
        let end = first + u64::from(mask.count_ones());
        let chose = rng.last_zero(first, end);
        self.ties = end;
        if chose != 0 {
            self.best = tie_at(seg, mask, chose - first);
        }
    }

    /// [`Reservoir::ties_at`], its draws made later together with those of the next blocks
    /// (by [`Reservoir::draw_pending`], before anything else is offered): one long run of
    /// ties, which the draws generated ahead screen a word at a time.
    #[inline(always)]
    fn defer_ties(&mut self, seg: &Seg, mask: u64) {
        if mask != 0 {
            self.pending += u64::from(mask.count_ones());
            self.run.push((self.ties + self.pending, *seg, mask));
        }
    }

    /// The draws of the ties deferred, in order; the candidate of the last that chose, if
    /// one did, is the best.
    fn draw_pending(&mut self, rng: &mut TieDraws) {
        let first = self.ties;
        let end = first + self.pending;
        let chose = rng.last_zero(first, end);
        if chose != 0 {
            // The block whose ties hold count `chose`, and its candidate.
            let b = self.run.partition_point(|&(after, _, _)| after < chose);
            let (after, seg, mask) = self.run[b];
            self.best = tie_at(&seg, mask, chose - (after - u64::from(mask.count_ones())));
        }
        self.ties = end;
        self.pending = 0;
        self.run.clear();
    }

    /// The position chosen, once every tie is drawn for; and the run's storage back.
    fn finish(mut self, rng: &mut TieDraws) -> (usize, Vec<(u64, Seg, u64)>) {
        if self.pending != 0 {
            self.draw_pending(rng);
        }
        (self.best, self.run)
    }
}

/// The position of the `rank`-th (from 1) candidate of `mask` (a subset of `seg`'s): the
/// tie whose draw chose, in a run of ties offered for `mask`'s candidates in order.
#[inline]
fn tie_at(seg: &Seg, mask: u64, rank: u64) -> usize {
    let j = ids_in(0, mask).nth((rank - 1) as usize);
    seg.at(j.expect("a draw for each candidate of the mask"))
}

/// The raw spread score of memo slot `slot`, computed from node `i` (which has it) the
/// first time the attempt meets the slot (then recorded in `met`).
#[inline(always)]
fn memo_raw(memo: &mut [i64], met: &mut Vec<u32>, terms: &SpreadTerms<'_>, slot: u32, i: usize) -> i64 {
    let m = &mut memo[slot as usize];
    if *m < 0 {
        *m = terms.raw(i);
        met.push(slot);
    }
    *m
}

/// Whether none of `flags` is set: their union (no early exit, so the loop is one of a
/// few vector instructions, not one comparison and branch per node).
#[inline(always)]
fn unflagged(flags: &[u8]) -> bool {
    flags.iter().fold(0, |all, &f| all | f) == 0
}

/// The nodes (bits) of the states whose total passes `keep`.
#[inline(always)]
fn mask_of(totals: &[i64], masks: &[u64; STATES], keep: impl Fn(i64) -> bool) -> u64 {
    totals.iter().zip(masks).fold(0, |m, (&t, &bits)| if keep(t) { m | bits } else { m })
}

/// selectHost over `totals` in candidate order: the position chosen.
#[inline(always)]
fn select_host(rng: &mut TieDraws, totals: impl Iterator<Item = i64>) -> usize {
    let mut r = Reservoir::new(Vec::new());
    for (k, total) in totals.enumerate() {
        r.offer(rng, k, total);
    }
    r.best
}

/// The scores and selectHost of an attempt without tainted candidates, whole blocks by
/// their states ([`BlockStates`]), the other candidates node by node.
struct ByBlocks<'s, 'k> {
    /// The request class and the spread identity (with the memo's size) the block states
    /// must be for.
    stamp: (u32, [u32; 4]),
    epochs: &'s [u32],
    /// Nodes in the cluster.
    nodes: usize,
    /// PodTopologySpread's PreScore and its memo (`None`: it skips).
    terms: Option<(&'s SpreadTerms<'k>, SpreadSlots<'s>)>,
    /// Every candidate's TaintToleration and NodeAffinity weighted scores.
    untainted: i64,
    weight: i64,
}

impl ByBlocks<'_, '_> {
    fn select(&self, p: &mut Packed, rng: &mut TieDraws, base_of: &mut impl FnMut(usize) -> i64) -> usize {
        let len = p.found;
        // Only the positions scored node by node are written (in pass 1) and read (in pass
        // 2): the arrays are grown, never cleared.
        if p.base.len() < len {
            p.base.resize(len, 0);
        }
        if p.spread.len() < len {
            p.spread.resize(len, 0);
        }
        // The raw spread score of each memo slot met (-1: none), filled from the first node
        // that has it; without spread terms every node is in slot 0.
        let memo_len = self.terms.as_ref().map_or(1, |(_, s)| s.memo_len());
        // (Every slot is -1 between attempts: those met are reset at the end.)
        if p.block_memo.len() != memo_len {
            p.block_memo.clear();
            p.block_memo.resize(memo_len, -1);
            p.slot_top.clear();
            p.slot_top.resize(memo_len, i64::MIN);
        }
        p.slots_met.clear();
        p.attempts += 1;
        let attempt = p.attempts;
        p.sets.make_room(p.segs.len());
        let generation = p.sets.generation;
        let slot_of = |i: usize| self.terms.as_ref().map_or(Some(0), |(_, s)| s.slot(i).map(|k| k as u32));
        // Pass 1: the block states (rebuilt where stale) and the memo slots of their
        // candidates; the candidates of blocks without states scored node by node into
        // `base` and `spread`, with their extremes.
        let (mut min, mut max) = (i64::MAX, i64::MIN);
        for seg in &p.segs {
            let b = seg.block as usize;
            if p.blocks.len() <= b {
                p.blocks.resize(b + 1, BlockStates::default());
            }
            let bs = &mut p.blocks[b];
            let stamp = (self.stamp.0, self.stamp.1, self.epochs[b], generation);
            if (bs.class, bs.ident, bs.epoch, bs.generation) != stamp {
                bs.rebuild(b, self.nodes, stamp, base_of, &slot_of, &mut p.sets);
            }
            if bs.len > 0 {
                p.by_state += 1;
                // Once a block with candidates in every state of its set has been taken in,
                // a block with the same set adds nothing (its states with candidates are
                // some of those).
                let set = bs.set as usize;
                if p.sets.met_in[set] == attempt {
                    continue;
                }
                let whole = seg.mask == bits(0, BLOCK.min(self.nodes - b * BLOCK));
                // Each state with candidates: its slot met, and the slot's highest resource
                // score of a state.
                for k in 0..bs.len as usize {
                    let here = bs.mask[k] & seg.mask;
                    if here != 0 {
                        let slot = bs.slot[k];
                        let top = &mut p.slot_top[slot as usize];
                        *top = (*top).max(bs.base[k]);
                        if let Some((t, _)) = &self.terms {
                            let i = b * BLOCK + here.trailing_zeros() as usize;
                            memo_raw(&mut p.block_memo, &mut p.slots_met, t, slot, i);
                        }
                    }
                }
                if whole {
                    p.sets.met_in[set] = attempt;
                }
                continue;
            }
            for (k, i) in (seg.pos as usize..).zip(seg.ids()) {
                p.base[k] = base_of(i);
                let r = match &self.terms {
                    None => 0,
                    Some((t, _)) => match slot_of(i) {
                        Some(slot) => memo_raw(&mut p.block_memo, &mut p.slots_met, t, slot, i),
                        None => t.raw(i),
                    },
                };
                p.spread[k] = r;
                min = min.min(r);
                max = max.max(r);
            }
        }
        // The extremes over every candidate: those scored node by node and every slot met.
        for &slot in &p.slots_met {
            let m = p.block_memo[slot as usize];
            min = min.min(m);
            max = max.max(m);
        }
        // NormalizeScore by a table of the few distinct values (one division per value).
        let spread_of = |s: i64| self.weight * super::topology::spread_normalized(s, min, max);
        let table = self.terms.is_some() && ((max - min) as usize) < 4096;
        p.spread_table.clear();
        if table {
            p.spread_table.extend((min..=max).map(spread_of));
        }
        let spread_score = |s: i64| match (&self.terms, table) {
            (None, _) => 0,
            (Some(_), true) => p.spread_table[(s - min) as usize],
            (Some(_), false) => spread_of(s),
        };
        // Per memo slot met: the scores every candidate in it adds to its resource score.
        // (Written at the slots met only; without spread terms, slot 0.)
        if p.slot_score.len() < memo_len {
            p.slot_score.resize(memo_len, 0);
        }
        if self.terms.is_none() {
            p.slot_score[0] = self.untainted;
        }
        for &slot in &p.slots_met {
            p.slot_score[slot as usize] = self.untainted + spread_score(p.block_memo[slot as usize]);
        }
        // The highest total of a block state with candidates (`i64::MIN`: none), and per slot
        // met the resource score a state in it needs for that total. (Without spread terms
        // every state is in slot 0, which `slots_met` does not list.)
        let mut top_total = i64::MIN;
        let only = [0u32];
        let met: &[u32] = if self.terms.is_some() { &p.slots_met } else { &only };
        for &slot in met {
            let top = p.slot_top[slot as usize];
            if top != i64::MIN {
                top_total = top_total.max(top + p.slot_score[slot as usize]);
            }
        }
        if p.slot_need.len() < memo_len {
            p.slot_need.resize(memo_len, 0);
        }
        for &slot in met {
            p.slot_need[slot as usize] = top_total.wrapping_sub(p.slot_score[slot as usize]);
            p.slot_top[slot as usize] = i64::MIN;
        }
        let (slot_score, slot_need, sets) = (&p.slot_score, &p.slot_need, &mut p.sets);
        // Pass 2: selectHost in candidate order. A block whose best state (among its
        // candidates) is below the best so far is skipped (none of its nodes would change
        // anything); in another, the candidates of the states at or above it are offered in
        // order.
        let mut sel = Reservoir::new(std::mem::take(&mut p.tie_run));
        // The ties at the attempt's highest total are drawn for block after block; with the
        // draws generated ahead they are drawn for together.
        let defer = rng.is_ahead();
        for seg in &p.segs {
            let bs = &p.blocks[seg.block as usize];
            let states = bs.len as usize;
            if states > 0 {
                if sel.best_score == top_total {
                    // The best so far is the highest total of any state: the block's
                    // candidates in the states at that total tie with it, a draw each; the
                    // others are below it. Which states those are is worked out once per
                    // set of states. (A state without candidates in the attempt may meet a
                    // stale need: `seg.mask` drops its nodes, here and in every block.)
                    let set = bs.set as usize;
                    if sets.top_in[set] != attempt {
                        sets.top_in[set] = attempt;
                        sets.at_top[set] = (0..states)
                            .fold(0, |m, k| m | u16::from(bs.base[k] == slot_need[bs.slot[k] as usize]) << k);
                    }
                    let (mut top, mut mask) = (sets.at_top[set], 0);
                    while top != 0 {
                        mask |= bs.mask[top.trailing_zeros() as usize];
                        top &= top - 1;
                    }
                    if defer {
                        sel.defer_ties(seg, mask & seg.mask);
                    } else {
                        sel.ties_at(rng, seg, mask & seg.mask);
                    }
                    continue;
                }
                if sel.best_score > top_total {
                    // A candidate scored node by node is above every state.
                    continue;
                }
                let mut totals = [i64::MIN; STATES];
                let mut block_max = i64::MIN;
                for k in 0..states {
                    if bs.mask[k] & seg.mask != 0 {
                        totals[k] = bs.base[k] + slot_score[bs.slot[k] as usize];
                        block_max = block_max.max(totals[k]);
                    }
                }
                if block_max == sel.best_score {
                    // Every candidate offered ties with the best so far: a draw each.
                    let mask = mask_of(&totals[..states], &bs.mask, |t| t == block_max) & seg.mask;
                    sel.ties_at(rng, seg, mask);
                } else if block_max > sel.best_score {
                    let best = sel.best_score;
                    let mut mask = mask_of(&totals[..states], &bs.mask, |t| t >= best) & seg.mask;
                    while mask != 0 {
                        let j = mask.trailing_zeros() as usize;
                        mask &= mask - 1;
                        sel.offer(rng, seg.at(j), totals[bs.of[j] as usize]);
                    }
                }
                continue;
            }
            let pos = seg.pos as usize;
            for k in pos..pos + seg.len() {
                sel.offer(rng, k, p.base[k] + self.untainted + spread_score(p.spread[k]));
            }
        }
        for &slot in &p.slots_met {
            p.block_memo[slot as usize] = -1;
        }
        let (best, run) = sel.finish(rng);
        p.tie_run = run;
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::rng::{StreamId, stream};
    use rand_core::Rng;

    /// selectHost over blocks of candidates, three ways: every candidate offered one at a
    /// time; the blocks at the best so far offered whole (`ties_at`); and those blocks
    /// deferred and drawn for together, with the draws generated ahead, between candidates
    /// offered one at a time that tie with, beat or fall below the best. The same position
    /// is chosen and the same number of draws taken.
    #[test]
    fn deferred_ties_choose_what_offers_choose() {
        let mut pick = stream(5, StreamId(9));
        let mut ended_deferred = 0;
        for case in 0..200 {
            let rng = stream(case, StreamId(2));
            let (mut one, mut whole) = (TieDraws::here(rng.clone()), TieDraws::here(rng.clone()));
            let mut ahead = TieDraws::ahead(rng).expect("thread");
            let (mut a, mut b, mut c) =
                (Reservoir::new(Vec::new()), Reservoir::new(Vec::new()), Reservoir::new(Vec::new()));
            let mut pos = 0;
            for block in 0..24 {
                let mask = pick.next_u64() & pick.next_u64();
                let seg = Seg { block, pos, mask };
                pos += mask.count_ones();
                if a.best_score != i64::MIN && !pick.next_u64().is_multiple_of(3) {
                    // A block whose candidates all tie with the best so far.
                    let best = a.best_score;
                    for j in ids_in(0, mask) {
                        a.offer(&mut one, seg.at(j), best);
                    }
                    b.ties_at(&mut whole, &seg, mask);
                    c.defer_ties(&seg, mask);
                } else {
                    // Candidates offered one at a time, around the best so far.
                    let base = if a.best_score == i64::MIN { 10 } else { a.best_score };
                    for j in ids_in(0, mask) {
                        let total = base - 1 + (pick.next_u64() % 3) as i64;
                        a.offer(&mut one, seg.at(j), total);
                        b.offer(&mut whole, seg.at(j), total);
                        c.offer(&mut ahead, seg.at(j), total);
                    }
                }
            }
            let deferred = c.pending != 0;
            let (best, _) = c.finish(&mut ahead);
            assert_eq!((a.best, b.best), (best, best), "case {case}");
            ended_deferred += usize::from(deferred);
            let next = one.next_u64();
            assert_eq!((whole.next_u64(), ahead.next_u64()), (next, next), "case {case}: draws taken");
        }
        assert!(ended_deferred > 50, "the cases end with deferred ties ({ended_deferred})");
    }

    #[test]
    fn state_sets_number_each_set_once_and_forget_them_together() {
        let mut sets = StateSets::default();
        let a = sets.intern(&[(0, 90), (1, 90)]);
        let b = sets.intern(&[(0, 90), (1, 80)]);
        assert_ne!(a, b);
        assert_eq!(sets.intern(&[(0, 90), (1, 90)]), a, "the same pairs, the same set");
        assert_eq!(sets.intern(&[]), 2, "no states is a set too");
        // Per-attempt marks of a set start clear.
        sets.met_in[a as usize] = 7;
        sets.make_room(StateSets::MAX - 3);
        assert_eq!(sets.generation, 0, "room for 3 more: nothing forgotten");
        sets.make_room(StateSets::MAX - 2);
        assert_eq!(sets.generation, 1, "no room: every set forgotten, a new generation");
        let c = sets.intern(&[(5, 1)]);
        assert_eq!(c, 0, "numbers are reused after forgetting");
        assert_eq!(sets.met_in[c as usize], 0, "a reused number starts without marks");
    }

    #[test]
    fn block_states_are_in_slot_then_score_order_whatever_the_node_order() {
        // Two blocks of 64 nodes with the same states met in opposite orders.
        let mut sets = StateSets::default();
        let states = |j: usize| if j < 20 { (2u32, 70i64) } else { (1u32, 95i64) };
        let build = |b: usize, state: &dyn Fn(usize) -> (u32, i64), sets: &mut StateSets| {
            let mut bs = BlockStates::default();
            let (base, slot) = (|i: usize| state(i % BLOCK).1, |i: usize| Some(state(i % BLOCK).0));
            bs.rebuild(b, 128, (0, [0; 4], 1, 0), &mut { base }, &slot, sets);
            bs
        };
        let first = build(0, &states, &mut sets);
        let second = build(1, &|j| states(63 - j), &mut sets);
        for bs in [&first, &second] {
            assert_eq!(bs.len, 2);
            assert_eq!((bs.slot[0], bs.base[0]), (1, 95));
            assert_eq!((bs.slot[1], bs.base[1]), (2, 70));
            // Every node's state and the states' masks agree.
            for j in 0..BLOCK {
                let k = bs.of[j] as usize;
                assert!(bs.mask[k] & (1 << j) != 0, "node {j} in its state's mask");
            }
            assert_eq!(bs.mask[0] | bs.mask[1], !0);
            assert_eq!(bs.mask[0] & bs.mask[1], 0);
        }
        assert_eq!(first.set, second.set, "the same states, one set");
        assert_ne!(first.mask[0], second.mask[0]);
    }
}
