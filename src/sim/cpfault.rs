//! Routing of control-plane faults and the misbehaving client between the control plane
//! (`controlplane::outage`), the node-lifecycle controller (blind while writes cannot be
//! stored; lease checks after) and the cluster (the informers that relist and their
//! objects).

use super::{Event, Simulation};
use crate::cluster::NodeId;
use crate::controlplane::{Call, Client, CpFault};
use crate::engine::{SimDuration, SimTime};
use crate::scenario::schema::{FaultTarget, Scenario};
use crate::sim::Ctx;

/// Per fault index: the control-plane fault and its duration (`None` for node faults).
pub(super) fn faults_of(s: &Scenario) -> Vec<Option<(CpFault, SimDuration)>> {
    s.faults
        .iter()
        .map(|f| {
            let fault = match &f.fail {
                FaultTarget::Apiserver(a) => CpFault::Apiserver(a.replicas),
                FaultTarget::Etcd(e) => match e.slow {
                    Some(d) => CpFault::EtcdSlow(d.0),
                    None => CpFault::EtcdDown,
                },
                _ => return None,
            };
            Some((fault, f.duration.map_or(SimDuration::ZERO, |d| d.0)))
        })
        .collect()
}

/// The misbehaving client's LIST interval and the end of its flood.
pub(super) fn flood_of(s: &Scenario) -> Option<(SimTime, SimDuration, SimTime)> {
    let m = s.control_plane.as_ref()?.misbehaving_client?;
    let start = SimTime::ZERO + m.start.0;
    let end = m.duration.map_or(SimTime::ZERO + s.duration.0, |d| start + d.0);
    Some((start, SimDuration::from_secs_f64(1.0 / m.lists_per_second), end))
}

impl Simulation {
    /// `Event::ControlPlaneFault`.
    pub(super) fn control_plane_fault(&mut self, fault: u16, begin: bool) {
        let Some(Some((kind, duration))) = self.cp_faults.get(fault as usize).copied() else { return };
        let Some(cp) = self.control_plane.as_mut() else { return };
        let now = self.now;
        if begin {
            if cp.fault_begin(now, now + duration, kind) {
                self.lifecycle.on_api_unavailable(&self.cluster, now);
            }
            return;
        }
        let cluster = &self.cluster;
        let back = cp.fault_end(now, kind, || informers(cluster));
        if back {
            let mut ctx = Ctx::new(now, &mut self.queue);
            self.lifecycle.on_api_available(&mut ctx);
        }
    }

    /// `Event::MisbehavingList`: one LIST of every pod, and the next.
    pub(super) fn misbehaving_list(&mut self) {
        let Some((_, interval, end)) = self.flood else { return };
        let pods = live_pods(&self.cluster);
        if let Some(cp) = self.control_plane.as_mut() {
            cp.list_call(self.now, Client::Misbehaving, Call::ListPods, pods);
        }
        let next = self.now + interval;
        if next < end {
            self.queue.push(next, Event::MisbehavingList);
        }
    }
}

/// Pods the API holds (Pending, Bound, Running, Terminating).
fn live_pods(cluster: &crate::cluster::ClusterState) -> u64 {
    let p = &cluster.totals.pods_in_phase;
    p[0] + p[1] + p[2] + p[6]
}

/// The informers whose watches break when every kube-apiserver is down, with the objects
/// their LIST returns, and the live nodes (their kubelets renew their leases): per node
/// the kubelet's pods (`spec.nodeName`) and its own Node; the scheduler's and the
/// controller manager's pods and nodes.
fn informers(cluster: &crate::cluster::ClusterState) -> (Vec<(Client, Call, u64)>, Vec<NodeId>) {
    let nodes: Vec<NodeId> = (0..cluster.nodes.len() as u32)
        .map(NodeId)
        .filter(|&n| cluster.node(n).removed_at.is_none())
        .collect();
    let pods = live_pods(cluster);
    let mut watches = Vec::with_capacity(2 * nodes.len() + 4);
    for &n in &nodes {
        watches.push((Client::Kubelet(n), Call::ListPods, cluster.pods_on_node(n).len() as u64));
        watches.push((Client::Kubelet(n), Call::ListNodes, 1));
    }
    for c in [Client::Scheduler, Client::ControllerManager] {
        watches.push((c, Call::ListPods, pods));
        watches.push((c, Call::ListNodes, nodes.len() as u64));
    }
    (watches, nodes)
}
