//! Sorting the objects by kind: the kinds the importer models (with the `apiVersion`s it
//! knows for each; another version of a known kind is an error), the objects it skips
//! because another object stands for them (ReplicaSets and Pods owned by a controller),
//! and everything else, counted by kind for the summary. Bare Pods (no ownerReferences)
//! bound to a node are imported only with `--keep-placement`.

use super::ImportError;
use super::read::Doc;
use super::report::Report;

/// The modelled objects, in input order.
#[derive(Debug, Default)]
pub struct Objects {
    pub nodes: Vec<Doc>,
    /// Deployments, StatefulSets and ReplicaSets without ownerReferences.
    pub workloads: Vec<Doc>,
    pub hpas: Vec<Doc>,
    pub pdbs: Vec<Doc>,
    pub priority_classes: Vec<Doc>,
    pub daemon_sets: Vec<Doc>,
    /// Bare Pods with `spec.nodeName` that hold their node (with `--keep-placement`).
    pub bare_pods: Vec<Doc>,
}

/// Known kinds and the apiVersions accepted for each.
const KNOWN: &[(&str, &[&str])] = &[
    ("Node", &["v1"]),
    ("Deployment", &["apps/v1"]),
    ("DaemonSet", &["apps/v1"]),
    ("StatefulSet", &["apps/v1"]),
    ("ReplicaSet", &["apps/v1"]),
    ("HorizontalPodAutoscaler", &["autoscaling/v2", "autoscaling/v1"]),
    ("PriorityClass", &["scheduling.k8s.io/v1"]),
    ("PodDisruptionBudget", &["policy/v1"]),
];

/// The note that says how to import bare Pods bound to a node.
pub const KEEP_PLACEMENT_HINT: &str = "bare Pods with spec.nodeName left out (counted as Pod (bare)); pass --keep-placement to start them on their nodes (initialPods)";

pub fn classify(docs: Vec<Doc>, keep_placement: bool, rep: &mut Report) -> Result<Objects, ImportError> {
    let mut o = Objects::default();
    for d in docs {
        let kind = d.kind().to_string();
        let Some((_, versions)) = KNOWN.iter().find(|(k, _)| *k == kind) else {
            let owned = d
                .value
                .pointer("/metadata/ownerReferences")
                .and_then(|v| v.as_array())
                .is_some_and(|a| !a.is_empty());
            let bound =
                d.value.pointer("/spec/nodeName").and_then(|v| v.as_str()).is_some_and(|n| !n.is_empty());
            let ended = matches!(
                d.value.pointer("/status/phase").and_then(|v| v.as_str()),
                Some("Succeeded" | "Failed")
            );
            match kind.as_str() {
                "Pod" if owned => rep.skip_kind("Pod (owned by a controller)"),
                "Pod" if !keep_placement => {
                    rep.skip_kind("Pod (bare)");
                    if bound && !ended {
                        rep.note(KEEP_PLACEMENT_HINT, d.name());
                    }
                }
                // A pod whose containers ended holds no resources.
                "Pod" if ended => rep.skip_kind("Pod (bare, Succeeded or Failed)"),
                "Pod" if !bound => rep.skip_kind("Pod (bare, not scheduled)"),
                "Pod" if d.api_version() != "v1" => {
                    return Err(d.error(
                        "apiVersion",
                        format!("unknown apiVersion {:?} for kind Pod; expected v1", d.api_version()),
                    ));
                }
                "Pod" => o.bare_pods.push(d),
                _ => rep.skip_kind(&kind),
            }
            continue;
        };
        if !versions.contains(&d.api_version()) {
            return Err(d.error(
                "apiVersion",
                format!(
                    "unknown apiVersion {:?} for kind {kind}; expected {}",
                    d.api_version(),
                    versions.join(" or ")
                ),
            ));
        }
        match kind.as_str() {
            "Node" => o.nodes.push(d),
            "Deployment" | "StatefulSet" => o.workloads.push(d),
            "DaemonSet" => o.daemon_sets.push(d),
            "ReplicaSet" => {
                let owned = d
                    .value
                    .pointer("/metadata/ownerReferences")
                    .and_then(|v| v.as_array())
                    .is_some_and(|a| !a.is_empty());
                if owned {
                    // Its Deployment stands for it.
                    rep.skip_kind("ReplicaSet (owned by a Deployment)");
                } else {
                    o.workloads.push(d);
                }
            }
            "HorizontalPodAutoscaler" => o.hpas.push(d),
            "PodDisruptionBudget" => o.pdbs.push(d),
            _ => o.priority_classes.push(d),
        }
    }
    Ok(o)
}
