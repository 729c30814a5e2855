//! The binpacking estimator: how many new nodes of one node group the pending pods need.
//! Port of `kubernetes/autoscaler:cluster-autoscaler/estimator/binpacking_estimator.go` with
//! the pod order of `estimator/decreasing_pod_orderer.go`.
//!
//! Algorithm:
//! 1. Pods that do not pass the filters on an *empty* template node are skipped
//!    (NodeResourcesFit, TaintToleration and NodeAffinity/nodeSelector, via the scheduler
//!    plugins' `filter` functions; with [`estimate_with_topology`], also PodTopologySpread and
//!    InterPodAffinity on the snapshot with one template node added, like the orchestrator's
//!    `SchedulablePodGroups` check in `core/scaleup/orchestrator/orchestrator.go`).
//! 2. The rest are sorted by `cpu request / template cpu + memory request / template memory`,
//!    descending (`DecreasingPodOrderer.calculatePodScore`; a zero allocatable drops its term).
//!    The sort is stable, so equal scores keep input order (upstream's `sort.Slice` is not).
//! 3. Each pod goes first-fit onto the nodes opened so far, in opening order; if none fits,
//!    a new node is opened for it, unless `max_nodes` nodes are already open, in which case
//!    the pod is skipped and the remaining pods are still tried on the open nodes.
//!
//! PodTopologySpread (DoNotSchedule constraints) and InterPodAffinity (required affinity and
//! anti-affinity, the existing pods' anti-affinity included) are modelled by
//! [`estimate_with_topology`], which the controller uses whenever some template has such
//! rules: the new nodes and the pods put on them go into a simulated snapshot
//! ([`crate::scheduler::topology::Overlay`], upstream's `clustersnapshot` with the nodes of
//! `addNewNodeToSnapshot` and the pods of `tryToAddNode`) on top of the existing cluster, so
//! both filters count the pods already placed in this estimate. Each new node is its own
//! `kubernetes.io/hostname` domain and, for any other key, in the template node's domain (its
//! label's value, e.g. the group's zone). A pod rejected by the filters on a fresh node is
//! skipped and the node stays open and empty (upstream keeps it in the snapshot; it is not
//! counted in the estimate but uses up `max_nodes`); while the last opened node is empty, no
//! further node is opened (upstream: "if the last node we've added is empty and the pod
//! couldn't schedule on it, it wouldn't be able to schedule on a new node either").
//!
//! DaemonSet pods: a template node carries the pods of the DaemonSets that should run on it
//! (`cluster-autoscaler/simulator/node_info_utils.go` `TemplateNodeInfoFromExampleNodeInfo`
//! → `podsExpectedOnFreshNode`, with `cluster-autoscaler/utils/daemonset/daemonset.go`
//! `GetDaemonSetPodsForNode`), so every node the estimate opens starts with their requests
//! (and pod count) used, and with the topology filters they are in the snapshot too.
//!
//! GPU devices: the device filter the scheduler runs (`cluster::gpu`: a share of one GPU
//! must fit on one device, whole GPUs need wholly free devices) also runs on every opened
//! node, whose devices start as the template's (`TemplateNode::devices`) and take each pod
//! placed with the default device pick. Upstream's estimator runs the scheduler's filter
//! plugins on its simulated snapshot, so with a device-sharing filter plugin installed it
//! counts devices the same way. On the scalar `nvidia.com/gpu` alone it would put three
//! 0.6-GPU shares on one 2-GPU node (1,800 of 2,000 milli), which no device layout holds.
//!
//! Simplifications: no pod equivalence groups, no static (mirror) pods on the template, no
//! `max-binpacking-time`, and the upstream "try the last node first" heuristic is replaced
//! by plain first-fit in opening order.

use crate::cluster::gpu::{self, GpuDemand};
use crate::cluster::{ClusterState, Labels, Placement, PodRequests, Resources, Taint, TemplateId};
use crate::scheduler::plugins::{fit, node_affinity, taint_toleration};
use crate::scheduler::topology::{Overlay, OverlayCycle, SimNode, TemplateRules};
use std::collections::BTreeMap;

/// The node a node group would add: what the scheduler filters look at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TemplateNode {
    /// Allocatable resources; `pods` is the node's max pod count.
    pub allocatable: Resources,
    pub labels: Labels,
    pub taints: Vec<Taint>,
    /// The templates of the DaemonSet pods a fresh node gets.
    pub daemon_sets: Vec<TemplateId>,
    /// Their requests summed, with their count in `pods`: what a fresh node has in use.
    pub daemon_set_requests: Resources,
    /// Free milli of each GPU device of a fresh node (its DaemonSet pods' devices taken):
    /// `allocatable.gpu_milli / 1000` devices, like `cluster::gpu::GpuDevices::add_node`.
    pub devices: Vec<u16>,
}

impl TemplateNode {
    /// A template node without DaemonSet pods; its GPU devices follow `allocatable`.
    pub fn new(allocatable: Resources, labels: Labels, taints: Vec<Taint>) -> TemplateNode {
        let devices = Self::empty_devices(&allocatable);
        TemplateNode { allocatable, labels, taints, devices, ..TemplateNode::default() }
    }

    fn empty_devices(allocatable: &Resources) -> Vec<u16> {
        let count =
            (allocatable.gpu_milli / i64::from(gpu::GPU_MILLI)).clamp(0, gpu::MAX_GPUS_PER_NODE as i64);
        vec![gpu::GPU_MILLI; count as usize]
    }

    /// Sets the DaemonSet pods a fresh node of this template gets in `cluster`.
    pub fn set_daemon_sets(&mut self, cluster: &ClusterState) {
        self.daemon_sets =
            crate::workload::daemonset::pods_on_fresh_node(cluster, &self.labels, &self.taints);
        self.daemon_set_requests = self
            .daemon_sets
            .iter()
            .fold(Resources::ZERO, |sum, &t| sum + cluster.template(t).requests.actual);
        self.devices = Self::empty_devices(&self.allocatable);
        for &t in &self.daemon_sets {
            // A DaemonSet pod whose GPUs do not fit leaves the devices as they are; its
            // scalar request already makes the template too small for it.
            gpu::take_default(&mut self.devices, cluster.gpu.template(t.index()).demand);
        }
    }
}

/// True when `pod`'s GPU demand fits `devices` (free milli per device): always for a pod
/// without GPUs, never for a demand no device layout holds.
fn devices_fit(devices: &[u16], pod: &PendingPod) -> bool {
    match pod.gpu {
        Some(GpuDemand::None) => true,
        Some(d) => gpu::can_host(devices, d),
        None => false,
    }
}

/// Adds a fresh node of `template` to `overlay`, with its DaemonSet pods.
pub fn add_template_node(overlay: &mut Overlay, cluster: &ClusterState, template: &TemplateNode) -> SimNode {
    let node = overlay.add_node(cluster, &template.labels, &template.taints);
    for &t in &template.daemon_sets {
        overlay.add_pod(cluster, t, node);
    }
    node
}

/// One unschedulable pod.
#[derive(Clone, Copy, Debug)]
pub struct PendingPod<'a> {
    pub requests: PodRequests,
    pub placement: &'a Placement,
    /// Its GPU demand on devices (`cluster::gpu::TemplateGpu::demand`): the device filter
    /// the scheduler runs (a share on one device, whole GPUs on wholly free ones) also
    /// runs on the template nodes.
    pub gpu: Option<GpuDemand>,
}

impl<'a> PendingPod<'a> {
    /// The pending pod of template `t` of `cluster`.
    pub fn of(cluster: &'a ClusterState, t: TemplateId) -> PendingPod<'a> {
        let tmpl = cluster.template(t);
        PendingPod {
            requests: tmpl.requests,
            placement: &tmpl.placement,
            gpu: cluster.gpu.template(t.index()).demand,
        }
    }
}

/// The estimator's answer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Estimate {
    /// Number of new nodes needed.
    pub nodes: u32,
    /// Indices (into the input slice) of the pods placed on those nodes, ascending.
    pub scheduled: Vec<usize>,
}

/// True when the pod passes the filters on a fresh node built from `template` (holding
/// only its DaemonSet pods).
pub fn fits_empty_template(template: &TemplateNode, pod: &PendingPod) -> bool {
    fit::fits(&pod.requests.actual, &template.allocatable, &template.daemon_set_requests)
        && devices_fit(&template.devices, pod)
        && taint_toleration::filter(&template.taints, &pod.placement.tolerations)
        && node_affinity::filter(&template.labels, pod.placement)
}

/// `DecreasingPodOrderer.calculatePodScore`: cpu/allocatable + memory/allocatable.
fn pod_score(template: &TemplateNode, pod: &PendingPod) -> f64 {
    let mut score = 0.0;
    if template.allocatable.cpu_milli > 0 {
        score += pod.requests.actual.cpu_milli as f64 / template.allocatable.cpu_milli as f64;
    }
    if template.allocatable.mem_bytes > 0 {
        score += pod.requests.actual.mem_bytes as f64 / template.allocatable.mem_bytes as f64;
    }
    score
}

/// Number of `template` nodes needed for `pods`, capped at `max_nodes`. See the module doc.
pub fn estimate(template: &TemplateNode, pods: &[PendingPod], max_nodes: u32) -> Estimate {
    let mut order: Vec<(usize, f64)> = pods
        .iter()
        .enumerate()
        .filter(|(_, p)| fits_empty_template(template, p))
        .map(|(i, p)| (i, pod_score(template, p)))
        .collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));

    // Requested resources (actual requests, pods = pod count) and free GPU devices of each
    // opened node.
    let mut opened: Vec<(Resources, Vec<u16>)> = Vec::new();
    let mut scheduled = Vec::new();
    for (i, _) in order {
        let pod = &pods[i];
        let req = pod.requests.actual;
        let slot = opened.iter().position(|(used, devices)| {
            fit::fits(&req, &template.allocatable, used) && devices_fit(devices, pod)
        });
        let slot = match slot {
            Some(s) => s,
            None if (opened.len() as u64) < u64::from(max_nodes) => {
                opened.push((template.daemon_set_requests, template.devices.clone()));
                opened.len() - 1
            }
            None => continue,
        };
        let (used, devices) = &mut opened[slot];
        *used += Resources { pods: 1, ..req };
        gpu::take_default(devices, pod.gpu);
        scheduled.push(i);
    }
    scheduled.sort_unstable();
    Estimate { nodes: opened.len() as u32, scheduled }
}

/// What the estimator needs to run PodTopologySpread and InterPodAffinity: the cluster (its
/// topology index and every template's rules, `ClusterState::topology_rules`) and each
/// pending pod's template.
#[derive(Clone, Copy)]
pub struct Topology<'a> {
    pub cluster: &'a ClusterState,
    /// Per pending pod, in the order of the `pods` slice: its template.
    pub templates: &'a [TemplateId],
}

impl<'a> Topology<'a> {
    /// The rules of pod `i`'s template, when its filters can reject a node.
    fn rules(&self, i: usize) -> Option<&'a TemplateRules> {
        let t = self.templates.get(i)?;
        self.cluster.topology_rules.get(t.index()).filter(|r| r.has_filters())
    }

    /// PreFilter for pod `i` on the cluster plus `overlay` (`None`: no rule can reject).
    pub fn cycle<'o>(&self, overlay: &'o Overlay, i: usize) -> Option<OverlayCycle<'o>>
    where
        'a: 'o,
    {
        OverlayCycle::for_template(self.cluster, *self.templates.get(i)?, overlay)
    }

    /// Whether pod `i` passes both filters on `node` of the cluster plus `overlay`.
    pub fn fits(&self, overlay: &Overlay, i: usize, node: SimNode) -> bool {
        self.cycle(overlay, i).is_none_or(|c| c.filter(node).is_ok())
    }

    /// Records pod `i` on `node` in `overlay`, so that the rules of later pods count it.
    pub fn place(&self, overlay: &mut Overlay, i: usize, node: SimNode) {
        if let Some(&t) = self.templates.get(i) {
            overlay.add_pod(self.cluster, t, node);
        }
    }
}

/// [`estimate`] with PodTopologySpread and InterPodAffinity: the new nodes and the pods the
/// estimate puts on them are added to `overlay` (the caller's fork of the simulated
/// snapshot, which already holds the existing cluster's placements), and every pod with
/// filter rules is placed only where both filters pass on it. `Estimate::nodes` counts the
/// opened nodes that received a pod. See the module doc.
pub fn estimate_with_topology(
    template: &TemplateNode,
    pods: &[PendingPod],
    max_nodes: u32,
    topo: &Topology,
    overlay: &mut Overlay,
) -> Estimate {
    // Step 1 with the two filters: per template, on the snapshot plus one fresh template node.
    let mut fresh: BTreeMap<TemplateId, bool> = BTreeMap::new();
    let mut fits_fresh = |i: usize| -> bool {
        if topo.rules(i).is_none() {
            return true;
        }
        *fresh.entry(topo.templates[i]).or_insert_with(|| {
            let mut fork = overlay.clone();
            let node = add_template_node(&mut fork, topo.cluster, template);
            topo.fits(&fork, i, node)
        })
    };
    let mut order: Vec<(usize, f64)> = pods
        .iter()
        .enumerate()
        .filter(|(i, p)| fits_empty_template(template, p) && fits_fresh(*i))
        .map(|(i, p)| (i, pod_score(template, p)))
        .collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));

    // Per opened node: requested resources (pods = pod count), its snapshot node, whether it
    // holds a pod, its free GPU devices.
    let mut opened: Vec<(Resources, SimNode, bool, Vec<u16>)> = Vec::new();
    let mut scheduled = Vec::new();
    for (i, _) in order {
        let pod = &pods[i];
        let req = pod.requests.actual;
        let slot = {
            let cycle = topo.cycle(overlay, i);
            opened.iter().position(|(used, node, _, devices)| {
                fit::fits(&req, &template.allocatable, used)
                    && devices_fit(devices, pod)
                    && cycle.as_ref().is_none_or(|c| c.filter(*node).is_ok())
            })
        };
        let slot = match slot {
            Some(s) => s,
            None => {
                // The last node added is empty: the pod failed on it, so it would fail on
                // another new one too.
                if opened.last().is_some_and(|o| !o.2) || opened.len() as u64 >= u64::from(max_nodes) {
                    continue;
                }
                let node = add_template_node(overlay, topo.cluster, template);
                opened.push((template.daemon_set_requests, node, false, template.devices.clone()));
                // The pod fits an empty node's resources (step 1), but the filters may still
                // reject it (e.g. a zonal spread constraint): the node stays, empty.
                if !topo.fits(overlay, i, node) {
                    continue;
                }
                opened.len() - 1
            }
        };
        let o = &mut opened[slot];
        o.0 += Resources { pods: 1, ..req };
        o.2 = true;
        gpu::take_default(&mut o.3, pod.gpu);
        topo.place(overlay, i, o.1);
        scheduled.push(i);
    }
    scheduled.sort_unstable();
    Estimate { nodes: opened.iter().filter(|o| o.2).count() as u32, scheduled }
}

/// First-fit of `pods` onto `nodes`, virtual nodes of `template` already in `overlay` (a
/// group's upcoming nodes), in the estimator's pod order, with both filters; the pods placed
/// are recorded in `overlay`. Returns their indices, ascending. No node is added.
pub fn place_on_nodes(
    template: &TemplateNode,
    pods: &[PendingPod],
    nodes: &[SimNode],
    topo: &Topology,
    overlay: &mut Overlay,
) -> Vec<usize> {
    let mut order: Vec<(usize, f64)> = pods
        .iter()
        .enumerate()
        .filter(|(_, p)| fits_empty_template(template, p))
        .map(|(i, p)| (i, pod_score(template, p)))
        .collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1));
    let mut used = vec![template.daemon_set_requests; nodes.len()];
    let mut devices = vec![template.devices.clone(); nodes.len()];
    let mut scheduled = Vec::new();
    for (i, _) in order {
        let pod = &pods[i];
        let req = pod.requests.actual;
        let slot = {
            let cycle = topo.cycle(overlay, i);
            (0..nodes.len()).find(|&s| {
                fit::fits(&req, &template.allocatable, &used[s])
                    && devices_fit(&devices[s], pod)
                    && cycle.as_ref().is_none_or(|c| c.filter(nodes[s]).is_ok())
            })
        };
        let Some(s) = slot else { continue };
        used[s] += Resources { pods: 1, ..req };
        gpu::take_default(&mut devices[s], pod.gpu);
        topo.place(overlay, i, nodes[s]);
        scheduled.push(i);
    }
    scheduled.sort_unstable();
    scheduled
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{TaintEffect, Toleration, TolerationOperator};

    const GIB: i64 = 1 << 30;

    fn template(cpu: i64, mem: i64, max_pods: i64) -> TemplateNode {
        TemplateNode { allocatable: Resources::new(cpu, mem, 0, max_pods), ..Default::default() }
    }

    fn pod(cpu: i64, mem: i64, placement: &Placement) -> PendingPod<'_> {
        PendingPod {
            requests: PodRequests::from_container(Some(cpu), Some(mem), 0),
            placement,
            gpu: Some(GpuDemand::None),
        }
    }

    /// A pod of 1 CPU and 1 GiB asking `gpu` of the devices.
    fn gpu_pod(gpu: GpuDemand, placement: &Placement) -> PendingPod<'_> {
        PendingPod { gpu: Some(gpu), ..pod(1000, GIB, placement) }
    }

    #[test]
    fn gpu_shares_are_packed_by_device_not_by_the_scalar() {
        // Nodes of 2 GPUs (2,000 milli). Three 0.6-GPU shares fit the scalar of one node
        // (1,800 milli) but each device holds one: 2 nodes, 2 + 1. On the scalar alone the
        // estimate would be 1 node.
        let none = Placement::default();
        let t = TemplateNode::new(Resources::new(32_000, 128 * GIB, 2000, 110), Labels::new(), Vec::new());
        assert_eq!(t.devices, [1000, 1000]);
        let pods = vec![gpu_pod(GpuDemand::Share(600), &none); 3];
        assert_eq!(estimate(&t, &pods, 10), Estimate { nodes: 2, scheduled: vec![0, 1, 2] });
        // Six shares of 0.5 GPU: two per device, 4 per node: 2 nodes.
        let pods = vec![gpu_pod(GpuDemand::Share(500), &none); 6];
        assert_eq!(estimate(&t, &pods, 10).nodes, 2);
        // A whole GPU needs a wholly free device: after a 0.3 share on device 0 and one on
        // device 1 (the tightest pick puts the second 0.3 on device 0: 400 left, device 1
        // stays free), a whole GPU still fits; a second one opens a node.
        let pods = vec![
            gpu_pod(GpuDemand::Share(300), &none),
            gpu_pod(GpuDemand::Share(300), &none),
            gpu_pod(GpuDemand::Whole(1), &none),
            gpu_pod(GpuDemand::Whole(1), &none),
        ];
        assert_eq!(estimate(&t, &pods, 10), Estimate { nodes: 2, scheduled: vec![0, 1, 2, 3] });
        // The cap still applies: one node holds the first two shares of 0.6 only.
        let pods = vec![gpu_pod(GpuDemand::Share(600), &none); 3];
        assert_eq!(estimate(&t, &pods, 1), Estimate { nodes: 1, scheduled: vec![0, 1] });
    }

    #[test]
    fn gpu_demands_a_fresh_node_cannot_hold_are_skipped() {
        let none = Placement::default();
        let t = TemplateNode::new(Resources::new(32_000, 128 * GIB, 2000, 110), Labels::new(), Vec::new());
        // Three whole GPUs on a 2-GPU template, an impossible demand (None), and a pod
        // without GPUs.
        let three = gpu_pod(GpuDemand::Whole(3), &none);
        let impossible = PendingPod { gpu: None, ..pod(1000, GIB, &none) };
        let plain = pod(1000, GIB, &none);
        assert!(!fits_empty_template(&t, &three));
        assert!(!fits_empty_template(&t, &impossible));
        assert!(fits_empty_template(&t, &plain));
        assert_eq!(estimate(&t, &[three, impossible, plain], 10), Estimate { nodes: 1, scheduled: vec![2] });
        // A template without GPUs takes no GPU pod, not even a share.
        let cpu_only =
            TemplateNode::new(Resources::new(32_000, 128 * GIB, 0, 110), Labels::new(), Vec::new());
        assert!(cpu_only.devices.is_empty());
        assert!(!fits_empty_template(&cpu_only, &gpu_pod(GpuDemand::Share(100), &none)));
    }

    #[test]
    fn estimate_table() {
        let none = Placement::default();
        struct Row {
            name: &'static str,
            template: TemplateNode,
            pods: Vec<(i64, i64)>,
            max_nodes: u32,
            want_nodes: u32,
            want_scheduled: Vec<usize>,
        }
        let rows = [
            Row {
                name: "10 x 1 CPU on 4-CPU nodes",
                template: template(4000, 16 * GIB, 110),
                pods: vec![(1000, GIB); 10],
                max_nodes: 100,
                want_nodes: 3,
                want_scheduled: (0..10).collect(),
            },
            Row {
                name: "no pods",
                template: template(4000, 16 * GIB, 110),
                pods: vec![],
                max_nodes: 100,
                want_nodes: 0,
                want_scheduled: vec![],
            },
            Row {
                name: "pods too big for the template are skipped",
                template: template(4000, 16 * GIB, 110),
                pods: vec![(1000, GIB), (5000, GIB), (1000, 32 * GIB), (1000, GIB)],
                max_nodes: 100,
                want_nodes: 1,
                want_scheduled: vec![0, 3],
            },
            Row {
                name: "max_nodes caps the count; the rest are unscheduled",
                template: template(4000, 16 * GIB, 110),
                pods: vec![(1000, GIB); 10],
                max_nodes: 2,
                want_nodes: 2,
                want_scheduled: (0..8).collect(),
            },
            Row {
                name: "max_nodes 0 places nothing",
                template: template(4000, 16 * GIB, 110),
                pods: vec![(1000, GIB); 3],
                max_nodes: 0,
                want_nodes: 0,
                want_scheduled: vec![],
            },
            Row {
                name: "capped: a big pod is skipped, smaller later pods still fill open nodes",
                template: template(4000, 16 * GIB, 110),
                // sorted: 3.5, 3, 0.5 → node A gets 3.5; 3 needs a new node (cap 1) → skipped;
                // 0.5 fits A.
                pods: vec![(3000, 0), (500, 0), (3500, 0)],
                max_nodes: 1,
                want_nodes: 1,
                want_scheduled: vec![1, 2],
            },
            Row {
                name: "3.5+3.5+1x4 CPU: 3.5 | 3.5 | 1+1+1+1 = 3 nodes",
                template: template(4000, 16 * GIB, 110),
                pods: vec![(1000, 0), (1000, 0), (1000, 0), (1000, 0), (3500, 0), (3500, 0)],
                max_nodes: 100,
                want_nodes: 3,
                want_scheduled: (0..6).collect(),
            },
            Row {
                name: "max pods per node binds before cpu",
                template: template(4000, 16 * GIB, 2),
                pods: vec![(100, 0); 5],
                max_nodes: 100,
                want_nodes: 3,
                want_scheduled: (0..5).collect(),
            },
            Row {
                name: "memory binds: score mixes cpu and memory",
                template: template(4000, 4 * GIB, 110),
                pods: vec![(100, 3 * GIB), (100, 3 * GIB), (2000, GIB), (2000, GIB)],
                max_nodes: 100,
                want_nodes: 2,
                want_scheduled: (0..4).collect(),
            },
        ];
        for row in &rows {
            let pods: Vec<_> = row.pods.iter().map(|&(c, m)| pod(c, m, &none)).collect();
            let got = estimate(&row.template, &pods, row.max_nodes);
            assert_eq!(got.nodes, row.want_nodes, "{}", row.name);
            assert_eq!(got.scheduled, row.want_scheduled, "{}", row.name);
        }
    }

    /// Largest-first changes the count: 0.6, 0.6, 3.4, 3.4 CPU on 4-CPU nodes. In input order
    /// first-fit gives 0.6+0.6 | 3.4 | 3.4 = 3 nodes; sorted it is 3.4+0.6 | 3.4+0.6 = 2 nodes.
    #[test]
    fn ordering_changes_count() {
        let none = Placement::default();
        let t = template(4000, 16 * GIB, 110);
        let sizes = [600, 600, 3400, 3400];
        let pods: Vec<_> = sizes.iter().map(|&c| pod(c, 0, &none)).collect();
        assert_eq!(estimate(&t, &pods, 100).nodes, 2);
        // Unsorted first-fit of the same pods (what the orderer avoids) needs 3.
        let mut used: Vec<i64> = Vec::new();
        for c in sizes {
            match used.iter().position(|u| u + c <= 4000) {
                Some(i) => used[i] += c,
                None => used.push(c),
            }
        }
        assert_eq!(used.len(), 3);
    }

    /// A template node's DaemonSet pods use part of every node the estimate opens: 8 pods
    /// of 1 CPU on 4-CPU nodes need 2 nodes, but 3 when each node runs a 500m DaemonSet
    /// pod (3 pods a node). A pod that fits an empty node but not beside the DaemonSet pods
    /// fits no fresh node.
    #[test]
    fn daemon_set_pods_on_the_template_node() {
        let none = Placement::default();
        let pods: Vec<_> = (0..8).map(|_| pod(1000, GIB, &none)).collect();
        let bare = template(4000, 16 * GIB, 110);
        assert_eq!(estimate(&bare, &pods, 100).nodes, 2);
        let with_ds =
            TemplateNode { daemon_set_requests: Resources::new(500, GIB / 2, 0, 1), ..bare.clone() };
        let got = estimate(&with_ds, &pods, 100);
        assert_eq!((got.nodes, got.scheduled.len()), (3, 8));
        // The pod count counts them too: 2 pod slots, 1 taken by the DaemonSet pod.
        let slots =
            TemplateNode { daemon_set_requests: Resources::new(0, 0, 0, 1), ..template(4000, 16 * GIB, 2) };
        assert_eq!(estimate(&slots, &pods[..3], 100).nodes, 3);
        let big = [pod(3800, GIB, &none)];
        assert!(fits_empty_template(&bare, &big[0]));
        assert!(!fits_empty_template(&with_ds, &big[0]));
        assert_eq!(estimate(&with_ds, &big, 100), Estimate::default());
    }

    #[test]
    fn node_selector_and_taints() {
        let mut t = template(4000, 16 * GIB, 110);
        t.labels.insert("pool".into(), "gpu".into());
        t.taints.push(Taint {
            key: "dedicated".into(),
            value: "gpu".into(),
            effect: TaintEffect::NoSchedule,
        });
        let tol = Toleration {
            key: "dedicated".into(),
            operator: TolerationOperator::Equal,
            value: "gpu".into(),
            effect: None,
            toleration_seconds: None,
        };
        let sel = |v: &str| -> Labels { [("pool".to_string(), v.to_string())].into_iter().collect() };
        let ok =
            Placement { node_selector: sel("gpu"), tolerations: vec![tol.clone()], ..Default::default() };
        let wrong_selector =
            Placement { node_selector: sel("cpu"), tolerations: vec![tol], ..Default::default() };
        let no_toleration = Placement { node_selector: sel("gpu"), ..Default::default() };
        struct Row<'a> {
            name: &'static str,
            placement: &'a Placement,
            want: bool,
        }
        let rows = [
            Row { name: "selector matches, taint tolerated", placement: &ok, want: true },
            Row { name: "selector mismatch", placement: &wrong_selector, want: false },
            Row { name: "taint not tolerated", placement: &no_toleration, want: false },
        ];
        for row in &rows {
            let pods = [pod(1000, GIB, row.placement), pod(1000, GIB, &ok)];
            let got = estimate(&t, &pods, 10);
            let want = if row.want { vec![0, 1] } else { vec![1] };
            assert_eq!(got.scheduled, want, "{}", row.name);
            assert_eq!(got.nodes, 1, "{}", row.name);
        }
        // PreferNoSchedule taints do not filter.
        let mut soft = template(4000, 16 * GIB, 110);
        soft.taints.push(Taint {
            key: "k".into(),
            value: String::new(),
            effect: TaintEffect::PreferNoSchedule,
        });
        let none = Placement::default();
        assert_eq!(estimate(&soft, &[pod(1000, GIB, &none)], 10).nodes, 1);
    }
}
