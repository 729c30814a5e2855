//! What breaks: per-pool alternating failure/repair processes (time to failure, time to
//! repair) and failures at given times (one node, a random fraction of a pool, a zone).
//! This module only decides *when* nodes fail and come back; `nodelifecycle` models how
//! Kubernetes notices and recovers.

use crate::cluster::{ClusterState, NodeId, PoolId};
use crate::engine::{RngStream, SimDuration, SimTime, StreamId, rng};
use crate::scenario::distribution::Sampler;
use crate::scenario::schema::{FaultTarget, Scenario};
use crate::sim::{Ctx, Event};
use rand_core::Rng;

/// Pool i's failure process uses stream `FAULTS_BASE + 2 i` (+1 for repairs); scheduled
/// fault j picks its nodes with `FAULTS_BASE + 1_000 + j`.
pub const FAULTS_BASE: u64 = 20_000;

struct PoolProcess {
    time_to_failure: Sampler,
    time_to_repair: Sampler,
    failure_rng: RngStream,
    repair_rng: RngStream,
}

pub struct Faults {
    pools: Vec<Option<PoolProcess>>,
}

impl Faults {
    /// Builds the processes and schedules the first failure of every node and every
    /// scheduled fault.
    pub fn new(s: &Scenario, cluster: &ClusterState, seed: u64, ctx: &mut Ctx) -> Result<Self, String> {
        let mut pools = Vec::with_capacity(s.node_pools.len());
        for (pi, p) in s.node_pools.iter().enumerate() {
            let Some(f) = &p.failures else {
                pools.push(None);
                continue;
            };
            let base = FAULTS_BASE + 2 * pi as u64;
            pools.push(Some(PoolProcess {
                time_to_failure: f
                    .time_to_failure
                    .sampler()
                    .map_err(|e| format!("nodePools[{pi}].failures: {e}"))?,
                time_to_repair: f
                    .time_to_repair
                    .sampler()
                    .map_err(|e| format!("nodePools[{pi}].failures: {e}"))?,
                failure_rng: rng::stream(seed, StreamId(base)),
                repair_rng: rng::stream(seed, StreamId(base + 1)),
            }));
        }
        let mut faults = Faults { pools };
        for (i, n) in cluster.nodes.iter().enumerate() {
            faults.schedule_failure(NodeId(i as u32), n.pool, ctx);
        }
        if let Some(c) = &s.chaos {
            let end = SimTime::ZERO + s.duration.0;
            let mut r = rng::stream(seed, StreamId(FAULTS_BASE + 500));
            let n = cluster.nodes.len();
            let k = ((c.failure_rate * n as f64).ceil() as usize).min(n);
            let interval = c.interval.0.as_secs_f64();
            let mut t = SimTime::ZERO;
            while t < end && k > 0 {
                let mut nodes: Vec<NodeId> = (0..n).map(|i| NodeId(i as u32)).collect();
                for i in 0..k {
                    let j = i + ((r.next_u64() as u128 * (n - i) as u128) >> 64) as usize;
                    nodes.swap(i, j);
                }
                for &node in &nodes[..k] {
                    ctx.at(t, Event::NodeFail { node, random: false });
                    ctx.at(t + c.simulated_downtime.0, Event::NodeRepair { node, random: false });
                }
                let u = crate::engine::rng::unit(&mut r);
                t += SimDuration::from_secs_f64(interval * (1.0 + u * c.jitter_factor));
            }
        }
        for m in &s.maintenance {
            let at = SimTime::ZERO + m.at.0;
            for node in (0..cluster.nodes.len())
                .map(|i| NodeId(i as u32))
                .filter(|&n| cluster.node_name(n) == m.drain)
            {
                ctx.at(at, Event::DrainStart { node });
                if let Some(d) = m.duration {
                    ctx.at(at + d.0, Event::Uncordon { node });
                }
            }
        }
        for (j, f) in s.faults.iter().enumerate() {
            let at = SimTime::ZERO + f.at.0;
            if f.fail.is_control_plane() {
                // Validation requires a duration for these.
                ctx.at(at, Event::ControlPlaneFault { fault: j as u16, begin: true });
                if let Some(d) = f.duration {
                    ctx.at(at + d.0, Event::ControlPlaneFault { fault: j as u16, begin: false });
                }
                continue;
            }
            let mut pick = rng::stream(seed, StreamId(FAULTS_BASE + 1_000 + j as u64));
            for node in targets(&f.fail, cluster, &mut pick) {
                ctx.at(at, Event::NodeFail { node, random: false });
                if let Some(d) = f.duration {
                    ctx.at(at + d.0, Event::NodeRepair { node, random: false });
                }
            }
        }
        Ok(faults)
    }

    /// The next random failure of `node` (if its pool fails at random), from now.
    pub fn schedule_failure(&mut self, node: NodeId, pool: PoolId, ctx: &mut Ctx) {
        if let Some(Some(p)) = self.pools.get_mut(pool.index()) {
            let d = p.time_to_failure.sample(&mut p.failure_rng);
            ctx.after(d, Event::NodeFail { node, random: true });
        }
    }

    /// The repair of a node that failed at random.
    pub fn schedule_repair(&mut self, node: NodeId, pool: PoolId, ctx: &mut Ctx) {
        if let Some(Some(p)) = self.pools.get_mut(pool.index()) {
            let d: SimDuration = p.time_to_repair.sample(&mut p.repair_rng);
            ctx.after(d, Event::NodeRepair { node, random: true });
        }
    }
}

/// The nodes a scheduled fault hits, in node order.
fn targets(t: &FaultTarget, cluster: &ClusterState, pick: &mut RngStream) -> Vec<NodeId> {
    let all = (0..cluster.nodes.len()).map(|i| NodeId(i as u32));
    match t {
        FaultTarget::Node(name) => all.filter(|&n| cluster.node_name(n) == *name).collect(),
        FaultTarget::Zone(z) => all.filter(|&n| cluster.zones[cluster.node(n).zone as usize] == *z).collect(),
        FaultTarget::Pool(pf) => {
            let mut nodes: Vec<NodeId> =
                all.filter(|&n| cluster.pools[cluster.node(n).pool.index()].name == pf.name).collect();
            let k = (pf.fraction * nodes.len() as f64).round() as usize;
            // A seeded partial Fisher–Yates shuffle picks k distinct nodes.
            for i in 0..k.min(nodes.len()) {
                let j = i + ((pick.next_u64() as u128 * (nodes.len() - i) as u128) >> 64) as usize;
                nodes.swap(i, j);
            }
            nodes.truncate(k);
            nodes.sort();
            nodes
        }
        // Control-plane faults take no node down (`Faults::new` schedules them apart).
        FaultTarget::Apiserver(_) | FaultTarget::Etcd(_) => Vec::new(),
    }
}
