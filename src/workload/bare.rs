//! Bare pods with `spec.nodeName` (`initialPods`): pods that are already Running on their
//! node when the run starts. Upstream the scheduler never sees a pod created with
//! `spec.nodeName` (it only takes pods without one, `pkg/scheduler/eventhandlers.go`
//! `responsibleForPod` / `assignedPod`); the node's kubelet admits it if it passes the
//! admission checks ([`admit`], `pkg/kubelet/lifecycle/predicate.go`
//! `generalFilter`: resources, node affinity, `NoExecute` taints) and runs it.
//! Validation refuses a scenario whose initial pods would not be admitted, so at the start
//! of the run each is simply bound and Running ([`place`]). Nothing recreates a bare pod.

use crate::cluster::{
    ClusterState, Labels, NodeId, Owner, Placement, PodId, Resources, Taint, TaintEffect, TemplateId,
};
use crate::engine::SimTime;
use crate::scenario::schema::{InitialPodSpec, PriorityClassSpec};
use crate::scheduler::plugins::{fit, node_affinity};
use std::collections::BTreeMap;

/// The kubelet's admission of a pod bound to a node by `spec.nodeName`
/// (`pkg/kubelet/lifecycle/predicate.go` `generalFilter`): the pod must fit the
/// node's free resources (`used` are the requests of the pods already there, with their
/// count in `pods`), match its labels (nodeSelector and required node affinity) and
/// tolerate its `NoExecute` taints (the kubelet ignores `NoSchedule`, which only the
/// scheduler honours). The error says what failed, with upstream's reason.
pub fn admit(
    requests: &Resources,
    placement: &Placement,
    allocatable: &Resources,
    used: &Resources,
    labels: &Labels,
    taints: &[Taint],
) -> Result<(), String> {
    if !fit::fits(requests, allocatable, used) {
        let mut short = Vec::new();
        if used.pods + 1 > allocatable.pods {
            short.push(format!("pods: {} already there of {} (OutOfpods)", used.pods, allocatable.pods));
        }
        let mut check = |name: &str, req: i64, used: i64, alloc: i64, unit: fn(i64) -> String| {
            if req > 0 && req > alloc - used {
                short.push(format!(
                    "{name}: requests {}, {} already requested of {} (OutOf{name})",
                    unit(req),
                    unit(used),
                    unit(alloc)
                ));
            }
        };
        let cpu = |v: i64| crate::scenario::quantity::CpuQuantity(v).to_string();
        let mem = |v: i64| crate::scenario::quantity::MemQuantity(v).to_string();
        let gpu = |v: i64| format!("{}", v as f64 / 1000.0);
        check("cpu", requests.cpu_milli, used.cpu_milli, allocatable.cpu_milli, cpu);
        check("memory", requests.mem_bytes, used.mem_bytes, allocatable.mem_bytes, mem);
        check("nvidia.com/gpu", requests.gpu_milli, used.gpu_milli, allocatable.gpu_milli, gpu);
        return Err(format!("does not fit the node: {}", short.join("; ")));
    }
    if !node_affinity::filter(labels, placement) {
        return Err(
            "the node's labels do not match the pod's nodeSelector or required node affinity (NodeAffinity)"
                .to_string(),
        );
    }
    if let Some(t) = taints
        .iter()
        .find(|t| t.effect == TaintEffect::NoExecute && !crate::cluster::tolerated(t, &placement.tolerations))
    {
        return Err(format!(
            "the pod does not tolerate the node's NoExecute taint {}={} (TaintToleration)",
            t.key, t.value
        ));
    }
    Ok(())
}

/// Registers each initial pod's template (named `initial/<name>`) and finds its node;
/// returns them for [`place`]. Validation guarantees the nodes exist.
pub fn add_templates(
    cluster: &mut ClusterState,
    specs: &[InitialPodSpec],
    classes: &[PriorityClassSpec],
) -> Result<Vec<(TemplateId, NodeId)>, String> {
    if specs.is_empty() {
        return Ok(Vec::new());
    }
    let nodes: BTreeMap<String, NodeId> = cluster.live_nodes().map(|n| (cluster.node_name(n), n)).collect();
    let mut out = Vec::with_capacity(specs.len());
    for (i, p) in specs.iter().enumerate() {
        let template = cluster.add_template(crate::sim::template_from_spec(
            format!("initial/{}", p.name),
            &p.template,
            classes,
        ));
        let node = nodes
            .get(&p.node_name)
            .ok_or_else(|| format!("initialPods[{i}].nodeName: no node {:?}", p.node_name))?;
        out.push((template, *node));
    }
    Ok(out)
}

/// Creates the initial pods, each `(template, node)`, bound and Running at `now` (no
/// scheduling attempt, no start-up latency: they were running before the run began).
/// Errors when a pod does not fit its node, which validation rules out.
pub fn place(
    cluster: &mut ClusterState,
    pods: &[(TemplateId, NodeId)],
    now: SimTime,
) -> Result<Vec<PodId>, String> {
    let mut placed = Vec::with_capacity(pods.len());
    for &(template, node) in pods {
        let n = cluster.node(node);
        let requests = cluster.template(template).requests.actual;
        if !fit::fits(&requests, &n.allocatable, &n.requested) {
            return Err(format!(
                "initial pod {} does not fit node {}",
                cluster.template(template).name,
                cluster.node_name(node)
            ));
        }
        let pod = cluster.create_pod(template, Owner::Bare, None, now);
        cluster.place_running(pod, node, now);
        placed.push(pod);
    }
    Ok(placed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{Toleration, TolerationOperator};

    #[test]
    fn admission_names_what_fails() {
        let alloc = Resources::new(4000, 8 << 30, 0, 3);
        let req = Resources::new(1500, 1 << 30, 0, 1);
        let none = Placement::default();
        let labels: Labels = [("disk".to_string(), "ssd".to_string())].into_iter().collect();
        assert!(admit(&req, &none, &alloc, &Resources::ZERO, &labels, &[]).is_ok());
        let used = Resources::new(3000, 0, 0, 1);
        let e = admit(&req, &none, &alloc, &used, &labels, &[]).expect_err("cpu");
        assert!(e.contains("OutOfcpu") && e.contains("1500m"), "{e}");
        let e = admit(&req, &none, &alloc, &Resources::new(0, 0, 0, 3), &labels, &[]).expect_err("pods");
        assert!(e.contains("OutOfpods"), "{e}");
        let hdd = Placement {
            node_selector: [("disk".to_string(), "hdd".to_string())].into_iter().collect(),
            ..Default::default()
        };
        let e = admit(&req, &hdd, &alloc, &Resources::ZERO, &labels, &[]).expect_err("labels");
        assert!(e.contains("NodeAffinity"), "{e}");
        let no_exec = Taint { key: "k".into(), value: "v".into(), effect: TaintEffect::NoExecute };
        let no_sched = Taint { key: "k".into(), value: "v".into(), effect: TaintEffect::NoSchedule };
        // The kubelet ignores NoSchedule taints.
        assert!(
            admit(&req, &none, &alloc, &Resources::ZERO, &labels, std::slice::from_ref(&no_sched)).is_ok()
        );
        let e = admit(&req, &none, &alloc, &Resources::ZERO, &labels, std::slice::from_ref(&no_exec))
            .expect_err("taint");
        assert!(e.contains("NoExecute taint k=v"), "{e}");
        let tolerant = Placement {
            tolerations: vec![Toleration {
                key: "k".into(),
                operator: TolerationOperator::Exists,
                value: String::new(),
                effect: None,
                toleration_seconds: None,
            }],
            ..Default::default()
        };
        assert!(admit(&req, &tolerant, &alloc, &Resources::ZERO, &labels, &[no_exec]).is_ok());
    }
}
