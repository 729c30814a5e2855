//! Bare Pods bound to a node (`--keep-placement`) onto the scenario's nodes: the importer
//! groups nodes into pools, so each real node becomes `<pool>-<index>`
//! ([`super::nodes::node_places`]). A Pod whose node is not in the input, or that the
//! node's kubelet would not admit there with the Pods placed before it
//! ([`crate::workload::bare::admit`], the check scenario validation makes), is left out and
//! named in the summary.

use super::nodes::{Pool, ZONE_LABEL, node_places};
use super::report::Report;
use super::workloads::Dep;
use crate::cluster::{Affinity, Labels, Placement, Resources, Taint, TaintEffect, Toleration};
use std::collections::BTreeMap;

/// The Pods that start on their node, with [`Dep::node_name`] set to the scenario's node
/// name, in input order.
pub fn place_bare_pods(pods: Vec<Dep>, pools: &[Pool], rep: &mut Report) -> Vec<Dep> {
    let places = node_places(pools);
    let mut used: BTreeMap<(usize, u32), Resources> = BTreeMap::new();
    let mut out = Vec::new();
    for mut pod in pods {
        let real = pod.node_name.clone().unwrap_or_default();
        let who = format!("{}/{} (node {real})", pod.namespace, pod.object_name);
        let Some(&(p, index)) = places.get(&real) else {
            rep.note("bare Pods on a node that is not in the input: left out", who);
            continue;
        };
        let pool = &pools[p];
        let sh = &pool.shape;
        let allocatable = Resources::new(sh.cpu_milli, sh.memory, sh.gpu.saturating_mul(1000), sh.pods);
        let r = &pod.requests;
        let requests = Resources::new(
            r.cpu.unwrap_or(0),
            r.memory.unwrap_or(0),
            r.gpu.unwrap_or(0).saturating_mul(1000),
            1,
        );
        let mut labels: Labels = sh.labels.clone();
        if !pool.zones.is_empty() {
            labels.insert(ZONE_LABEL.to_string(), pool.zones[index as usize % pool.zones.len()].clone());
        }
        labels.insert(crate::sim::POOL_LABEL.to_string(), pool.name.clone());
        let taints: Vec<Taint> = sh
            .taints
            .iter()
            .map(|(key, value, effect)| Taint {
                key: key.clone(),
                value: value.clone(),
                effect: match effect.as_str() {
                    "NoSchedule" => TaintEffect::NoSchedule,
                    "NoExecute" => TaintEffect::NoExecute,
                    _ => TaintEffect::PreferNoSchedule,
                },
            })
            .collect();
        let affinity: Affinity =
            pod.affinity.as_ref().and_then(|a| serde_json::from_value(a.clone()).ok()).unwrap_or_default();
        let placement = Placement {
            node_selector: pod.node_selector.clone(),
            node_affinity: affinity.node_affinity.unwrap_or_default(),
            tolerations: pod
                .tolerations
                .iter()
                .filter_map(|t| serde_json::from_value::<Toleration>(t.clone()).ok())
                .collect(),
        };
        let on_node = used.entry((p, index)).or_insert(Resources::ZERO);
        match crate::workload::bare::admit(&requests, &placement, &allocatable, on_node, &labels, &taints) {
            Ok(()) => {
                *on_node += requests;
                let name = format!("{}-{index}", pool.name);
                pod.source = format!("Pod {}/{} on node {real}", pod.namespace, pod.object_name);
                pod.node_name = Some(name);
                rep.imported("Pod");
                out.push(pod);
            }
            Err(why) => rep.note(
                "bare Pods the node's kubelet would not admit with the Pods before them: left out",
                format!("{who}: {why}"),
            ),
        }
    }
    out
}
