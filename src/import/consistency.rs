//! Rules that hold in a real cluster only by accident of what runs there, and that
//! clustersim's validation insists on because in a scenario they are almost always typos:
//! a topology spread constraint's or pod (anti-)affinity term's `topologyKey` must be a
//! label some node carries, and its `labelSelector` must select the pods of some imported
//! workload. A constraint or term that breaks them (it selects pods the dump does not
//! hold, say a DaemonSet's) is left out and reported, so that the scenario validates.

use super::ImportError;
use super::nodes::Pool;
use super::report::Report;
use super::workloads::Dep;
use crate::cluster::label_selector::LabelSelector;
use serde_json::Value;
use std::collections::BTreeMap;

/// Node labels every node carries in clustersim, besides its pool's labels.
const BUILT_IN_KEYS: &[&str] =
    &["kubernetes.io/hostname", "topology.kubernetes.io/zone", "clustersim.io/node-pool"];

pub fn prune(deps: &mut [Dep], pools: &[Pool], rep: &mut Report) {
    let carried =
        |key: &str| BUILT_IN_KEYS.contains(&key) || pools.iter().any(|p| p.shape.labels.contains_key(key));
    let pods: Vec<(String, BTreeMap<String, String>)> =
        deps.iter().map(|d| (d.namespace.clone(), d.labels.clone())).collect();
    // Does `sel` select some workload's pods in one of `namespaces`?
    let selects = |sel: &Value, namespaces: &[String]| -> bool {
        let Ok(sel) = serde_json::from_value::<LabelSelector>(sel.clone()) else { return false };
        sel.is_empty() || pods.iter().any(|(ns, labels)| namespaces.contains(ns) && sel.matches(labels))
    };
    for d in deps.iter_mut() {
        let own = vec![d.namespace.clone()];
        let before = d.spread.len();
        d.spread.retain(|c| {
            let key = c.get("topologyKey").and_then(Value::as_str).unwrap_or("");
            carried(key) && c.get("labelSelector").is_none_or(|s| selects(s, &own))
        });
        if d.spread.len() < before {
            rep.note(
                "topologySpreadConstraints left out (a topologyKey no node carries, or a labelSelector selecting no imported pods)",
                d.source.clone(),
            );
        }
        let Some(aff) = d.affinity.as_mut().and_then(Value::as_object_mut) else { continue };
        let mut dropped = false;
        for kind in ["podAffinity", "podAntiAffinity"] {
            let Some(obj) = aff.get_mut(kind).and_then(Value::as_object_mut) else { continue };
            for (list, nested) in [
                ("requiredDuringSchedulingIgnoredDuringExecution", false),
                ("preferredDuringSchedulingIgnoredDuringExecution", true),
            ] {
                let Some(terms) = obj.get_mut(list).and_then(Value::as_array_mut) else { continue };
                let n = terms.len();
                terms.retain(|t| {
                    let term = if nested { t.get("podAffinityTerm").unwrap_or(&Value::Null) } else { t };
                    let key = term.get("topologyKey").and_then(Value::as_str).unwrap_or("");
                    if !carried(key) {
                        return false;
                    }
                    if term.get("namespaceSelector").is_some() {
                        // Namespace labels are not imported: the term is kept as is.
                        return true;
                    }
                    let namespaces: Vec<String> = match term.get("namespaces").and_then(Value::as_array) {
                        Some(l) if !l.is_empty() => {
                            l.iter().filter_map(Value::as_str).map(str::to_string).collect()
                        }
                        _ => own.clone(),
                    };
                    term.get("labelSelector").is_some_and(|s| selects(s, &namespaces))
                });
                dropped |= terms.len() < n;
                if terms.is_empty() {
                    obj.remove(list);
                }
            }
            if obj.is_empty() {
                aff.remove(kind);
            }
        }
        if dropped {
            rep.note(
                "pod (anti-)affinity terms left out (a topologyKey no node carries, or a labelSelector selecting no imported pods)",
                d.source.clone(),
            );
        }
        if aff.is_empty() {
            d.affinity = None;
        }
    }
}

/// clustersim refuses a workload whose pods fit no node pool (a unit mistake in a
/// hand-written scenario); in a dump it means the nodes that would run them were not
/// imported, which is the input's problem (exit 2), named with the object.
pub fn check_fit(deps: &[Dep], pools: &[Pool]) -> Result<(), ImportError> {
    if pools.is_empty() {
        return Ok(());
    }
    for d in deps {
        let r = &d.requests;
        let fits = pools.iter().any(|p| {
            r.cpu.unwrap_or(0) <= p.shape.cpu_milli
                && r.memory.unwrap_or(0) <= p.shape.memory
                && r.gpu.unwrap_or(0) <= p.shape.gpu
        });
        if !fits {
            let q = |v: Option<i64>, f: fn(i64) -> String| v.map(f).unwrap_or_else(|| "0".to_string());
            return Err(ImportError::Input(format!(
                "{}: {}: spec.template.spec: the pod's effective requests (cpu {}, memory {}, nvidia.com/gpu {}) \
                 exceed the allocatable of every imported node; expected the nodes that run it in the input",
                d.place,
                d.source,
                q(r.cpu, |c| crate::scenario::quantity::CpuQuantity(c).to_string()),
                q(r.memory, |m| crate::scenario::quantity::MemQuantity(m).to_string()),
                q(r.gpu, |g| g.to_string()),
            )));
        }
    }
    Ok(())
}
