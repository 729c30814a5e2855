//! The kubelet: between binding and Running, a pod waits for its image pull and its
//! container start, each drawn from the node pool's distributions. A pod with a run time
//! completes (Succeeded) that long after it started. One random stream serves every node;
//! the order of draws is fixed by the event order, so runs stay deterministic.

use crate::cluster::{ClusterState, PodId, PodPhase};
use crate::engine::RngStream;
use crate::scenario::distribution::Sampler;
use crate::sim::{Ctx, Event};

/// Start-up delay samplers of one node pool.
pub struct PoolStartup {
    pub image_pull: Sampler,
    pub container_start: Sampler,
}

pub struct Kubelet {
    pools: Vec<PoolStartup>,
    rng: RngStream,
}

impl Kubelet {
    pub fn new(pools: Vec<PoolStartup>, rng: RngStream) -> Self {
        Kubelet { pools, rng }
    }

    /// `Event::Bind` completed: the kubelet sees the pod and starts it.
    pub fn on_bound(&mut self, cluster: &mut ClusterState, pod: PodId, ctx: &mut Ctx) {
        cluster.mark_bound(pod, ctx.now);
        let Some(node) = cluster.pod(pod).node else { return };
        let pool = &self.pools[cluster.node(node).pool.index()];
        let delay = pool.image_pull.sample(&mut self.rng) + pool.container_start.sample(&mut self.rng);
        ctx.after(delay, Event::ContainersStarted(pod));
    }

    /// `Event::ContainersStarted`: returns true when the pod became Running.
    pub fn on_containers_started(&mut self, cluster: &mut ClusterState, pod: PodId, ctx: &mut Ctx) -> bool {
        let p = cluster.pod(pod);
        // A pod bound to a node that has since failed never starts.
        if p.phase != PodPhase::Bound || p.node.is_some_and(|n| !cluster.node(n).up) {
            return false;
        }
        cluster.mark_running(pod, ctx.now);
        if let Some(d) = cluster.pod(pod).run_for {
            ctx.after(d, Event::PodCompleted(pod));
        }
        true
    }

    /// `Event::PodCompleted`: returns true when the pod Succeeded (it may have been
    /// deleted meanwhile).
    pub fn on_completed(&mut self, cluster: &mut ClusterState, pod: PodId, ctx: &mut Ctx) -> bool {
        let p = cluster.pod(pod);
        if p.phase != PodPhase::Running || p.node.is_some_and(|n| !cluster.node(n).up) {
            return false;
        }
        cluster.finish_pod(pod, PodPhase::Succeeded, ctx.now);
        true
    }
}
