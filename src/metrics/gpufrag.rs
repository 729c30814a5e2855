//! GPU fragmentation as the FGD paper defines it (§3; upstream `ClusterGpuFragReport`,
//! `pkg/simulator/analysis.go` of `hkust-adsl/kubernetes-scheduler-simulator`): each node's
//! free GPU milli that the target workload's pod types cannot use, weighted by their
//! popularity (`scheduler::plugins::gpushare::node_frag_amount`), summed over the live
//! nodes. Kept up to date per node by its generation, so a measurement after one placement
//! recomputes one node.
//!
//! Reported as the fragmented GPU milli, the fragmentation ratio of the free GPU milli (the
//! paper's "frag ratio") and of all GPU milli (its fragmentation-rate figures), in the time
//! series and the summary of runs whose nodes have GPUs.

use crate::cluster::ClusterState;
use crate::metrics::Cell;
use crate::scheduler::plugins::gpushare::{self, ClusterFragmentation, TargetWorkload};

/// One node's last measurement.
#[derive(Clone, Copy, Default)]
struct NodeFrag {
    generation: u32,
    valid: bool,
    live: bool,
    weighted: [u64; 7],
    idle_milli: i64,
    total_milli: i64,
}

/// The cluster's fragmentation under a target workload, maintained per node.
pub struct FragTracker {
    workload: TargetWorkload,
    nodes: Vec<NodeFrag>,
    sum: ClusterFragmentation,
}

impl FragTracker {
    pub fn new(workload: TargetWorkload) -> Self {
        let sum = ClusterFragmentation { total_weight: workload.total_weight(), ..Default::default() };
        FragTracker { workload, nodes: Vec::new(), sum }
    }

    pub fn workload(&self) -> &TargetWorkload {
        &self.workload
    }

    /// The fragmentation now (nodes changed since the last call are measured again).
    pub fn measure(&mut self, cluster: &ClusterState) -> ClusterFragmentation {
        if self.nodes.len() < cluster.nodes.len() {
            self.nodes.resize(cluster.nodes.len(), NodeFrag::default());
        }
        for (i, node) in cluster.nodes.iter().enumerate() {
            let generation = cluster.node_generation(i);
            let old = self.nodes[i];
            let live = node.removed_at.is_none();
            if old.valid && old.generation == generation && old.live == live {
                continue;
            }
            let mut new = NodeFrag { generation, valid: true, live, ..NodeFrag::default() };
            if live && cluster.gpu.node_gpus(i) > 0 {
                let view = crate::scheduler::gpu::node_view(cluster, i, false);
                new.weighted = gpushare::node_frag_amount(&view, &self.workload).weighted_milli;
                new.idle_milli = view.gpu_free_total();
                new.total_milli = cluster.gpu.node_gpus(i) as i64 * i64::from(gpushare::GPU_MILLI);
            }
            for k in 0..7 {
                self.sum.weighted_milli[k] =
                    self.sum.weighted_milli[k] - u128::from(old.weighted[k]) + u128::from(new.weighted[k]);
            }
            self.sum.idle_milli += new.idle_milli - old.idle_milli;
            self.sum.total_milli += new.total_milli - old.total_milli;
            self.nodes[i] = new;
        }
        self.sum
    }

    /// The time-series columns.
    pub fn timeseries_columns() -> Vec<String> {
        ["gpu_frag_milli", "gpu_frag_ratio_of_free", "gpu_frag_ratio_of_total"].map(String::from).to_vec()
    }

    /// The cells of [`Self::timeseries_columns`] now.
    pub fn sample(&mut self, cluster: &ClusterState) -> Vec<Cell> {
        cells(&self.measure(cluster))
    }

    /// The summary columns: the fragmentation at the end of the run.
    pub fn summary(&mut self, cluster: &ClusterState) -> Vec<(String, Cell)> {
        let f = self.measure(cluster);
        ["gpu_frag_milli_end", "gpu_frag_ratio_of_free_end", "gpu_frag_ratio_of_total_end"]
            .into_iter()
            .map(String::from)
            .zip(cells(&f))
            .chain([("gpu_target_workload_types".to_string(), Cell::Int(self.workload.types().len() as u64))])
            .collect()
    }
}

fn cells(f: &ClusterFragmentation) -> Vec<Cell> {
    vec![Cell::Float(f.fragmented_milli()), Cell::Float(f.ratio_of_idle()), Cell::Float(f.ratio_of_total())]
}
