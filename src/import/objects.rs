//! Sorting the objects by kind: the kinds the importer models (with the `apiVersion`s it
//! knows for each; another version of a known kind is an error), the objects it skips
//! because another object stands for them (ReplicaSets and Pods owned by a controller),
//! and everything else, counted by kind for the summary.

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
}

/// Known kinds and the apiVersions accepted for each.
const KNOWN: &[(&str, &[&str])] = &[
    ("Node", &["v1"]),
    ("Deployment", &["apps/v1"]),
    ("StatefulSet", &["apps/v1"]),
    ("ReplicaSet", &["apps/v1"]),
    ("HorizontalPodAutoscaler", &["autoscaling/v2", "autoscaling/v1"]),
    ("PriorityClass", &["scheduling.k8s.io/v1"]),
    ("PodDisruptionBudget", &["policy/v1"]),
];

pub fn classify(docs: Vec<Doc>, rep: &mut Report) -> Result<Objects, ImportError> {
    let mut o = Objects::default();
    for d in docs {
        let kind = d.kind().to_string();
        let Some((_, versions)) = KNOWN.iter().find(|(k, _)| *k == kind) else {
            let owned = d
                .value
                .pointer("/metadata/ownerReferences")
                .and_then(|v| v.as_array())
                .is_some_and(|a| !a.is_empty());
            match kind.as_str() {
                "Pod" if owned => rep.skip_kind("Pod (owned by a controller)"),
                "Pod" => rep.skip_kind("Pod (bare)"),
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
