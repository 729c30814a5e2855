//! GPU devices of real nodes in the cluster autoscaler's simulations: the pods that
//! `FilterOutSchedulable` (scale-up) or a removal simulation (scale-down) puts on existing
//! nodes take devices there, so a later pod of the same simulation sees what is left.
//!
//! Upstream runs the scheduler's filter plugins on a cluster snapshot with the simulated
//! pods added (`cluster-autoscaler/simulator/clustersnapshot`); here the scalar requests
//! are tracked by the callers and the devices by [`SimDevices`]: a copy of a node's free
//! milli per device (`cluster::gpu::GpuDevices::node_free`) taken on first use, with the
//! simulated pods applied by the default device pick (`cluster::gpu::default_pick`).

use crate::cluster::gpu::{self, GpuDemand};
use crate::cluster::{ClusterState, NodeId, TemplateId};
use std::collections::BTreeMap;

/// The simulated devices of the real nodes a simulation touched (the others are as in the
/// cluster).
#[derive(Clone, Debug, Default)]
pub struct SimDevices {
    nodes: BTreeMap<NodeId, Vec<u16>>,
}

impl SimDevices {
    /// The free milli per device of `node` in this simulation.
    fn free<'a>(&'a self, cluster: &'a ClusterState, node: NodeId) -> &'a [u16] {
        self.nodes.get(&node).map_or_else(|| cluster.gpu.node_free(node.index()), Vec::as_slice)
    }

    /// True when a pod of `template` fits the devices `node` has left in this simulation
    /// (always for a pod without GPUs).
    pub fn fits(&self, cluster: &ClusterState, node: NodeId, template: TemplateId) -> bool {
        match cluster.gpu.template(template.index()).demand {
            Some(GpuDemand::None) => true,
            Some(d) => gpu::can_host(self.free(cluster, node), d),
            None => false,
        }
    }

    /// A pod of `template` goes to `node` in this simulation: it takes its devices there.
    pub fn place(&mut self, cluster: &ClusterState, node: NodeId, template: TemplateId) {
        let demand = cluster.gpu.template(template.index()).demand;
        if demand == Some(GpuDemand::None) {
            return;
        }
        let free = self.nodes.entry(node).or_insert_with(|| cluster.gpu.node_free(node.index()).to_vec());
        gpu::take_default(free, demand);
    }
}
