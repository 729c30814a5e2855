//! Deployments, StatefulSets (as a Deployment of `replicas` pods) and ReplicaSets without
//! ownerReferences into scenario Deployments: replicas, namespace, selector, and the pod
//! template's labels, effective requests ([`super::requests`]), nodeSelector, affinity,
//! tolerations, topologySpreadConstraints, priorityClassName and
//! terminationGracePeriodSeconds. DaemonSets into scenario DaemonSets and bare Pods (no
//! ownerReferences) into initial pods, with the same template fields ([`pod_fields`]).
//! Placement fields go through the scenario's own types (the same shape as the API
//! objects), so what is emitted is what clustersim reads; a value they refuse is left out
//! and reported. Every other field is reported by path.

use super::ImportError;
use super::nodes::{sanitize, unique};
use super::read::Doc;
use super::report::Report;
use super::requests::{Requests, pod_requests};
use crate::cluster::label_selector::LabelSelector;
use crate::cluster::spread::TopologySpreadConstraint;
use crate::cluster::{Affinity, Toleration};
use serde_json::Value;
use std::collections::BTreeMap;

/// One generated scenario Deployment, DaemonSet or initial pod (the template fields are the
/// same; `replicas`, `selector` and the budget are a Deployment's only).
#[derive(Clone, Debug)]
pub struct Dep {
    /// The scenario name (the object's name, made unique over namespaces and kinds).
    pub name: String,
    pub namespace: String,
    /// The source object's kind and `namespace/name`.
    pub kind: String,
    pub source: String,
    /// `file: document N (line L)` of the source object, for error messages.
    pub place: String,
    pub object_name: String,
    pub replicas: u32,
    /// JSON values in the scenario's shape (nulls and empty lists removed).
    pub selector: Option<Value>,
    pub labels: BTreeMap<String, String>,
    pub requests: Requests,
    pub node_selector: BTreeMap<String, String>,
    pub affinity: Option<Value>,
    pub tolerations: Vec<Value>,
    pub spread: Vec<Value>,
    pub priority_class_name: Option<String>,
    /// A priority value instead of a class (for system classes, above the user range).
    pub priority: Option<i32>,
    pub grace: Option<i64>,
    pub min_available: Option<u32>,
    /// The PodDisruptionBudget `minAvailable` comes from.
    pub pdb: Option<String>,
    /// A bare Pod's `spec.nodeName` (the real node's name).
    pub node_name: Option<String>,
}

/// Pod-spec fields the importer maps.
const MAPPED_POD_FIELDS: &[&str] = &[
    "containers",
    "initContainers",
    "nodeSelector",
    "affinity",
    "tolerations",
    "topologySpreadConstraints",
    "priorityClassName",
    "terminationGracePeriodSeconds",
    "overhead",
    // `priority` is set by admission from priorityClassName.
    "priority",
];

pub fn deployments(docs: &[Doc], rep: &mut Report) -> Result<Vec<Dep>, ImportError> {
    let mut out = Vec::new();
    for d in docs {
        out.push(deployment(d, rep)?);
        rep.imported(d.kind());
    }
    name_all(&mut out, rep);
    Ok(out)
}

/// DaemonSets into scenario DaemonSets (`spec.selector` only identifies the pods; the
/// controller keeps one per node, so there is no replica count).
pub fn daemon_sets(docs: &[Doc], rep: &mut Report) -> Result<Vec<Dep>, ImportError> {
    deployments(docs, rep)
}

/// Bare Pods bound to a node (`spec.nodeName`), whose node name is kept in
/// [`Dep::node_name`] for the caller to map.
pub fn bare_pods(docs: &[Doc], rep: &mut Report) -> Result<Vec<Dep>, ImportError> {
    let mut out = Vec::new();
    for d in docs {
        let name = d.short_name();
        if name.is_empty() {
            return Err(d.error("metadata.name", "missing"));
        }
        let mut dep = pod_fields(d, "Pod", &d.value, "", rep)?;
        dep.node_name = d.value.pointer("/spec/nodeName").and_then(Value::as_str).map(str::to_string);
        out.push(dep);
    }
    name_all(&mut out, rep);
    Ok(out)
}

/// Scenario names: the object's name, or `<name>-<namespace>` for a name taken by an
/// earlier object, made unique.
fn name_all(out: &mut [Dep], rep: &mut Report) {
    let mut taken = BTreeMap::new();
    // Plain names first so that a name is changed only when it collides.
    let mut firsts: BTreeMap<String, usize> = BTreeMap::new();
    for (i, dep) in out.iter().enumerate() {
        firsts.entry(dep.object_name.clone()).or_insert(i);
    }
    for (i, dep) in out.iter_mut().enumerate() {
        let wanted = if firsts.get(&dep.object_name) == Some(&i) {
            dep.object_name.clone()
        } else {
            rep.note("name taken by another object: renamed <name>-<namespace>", dep.source.clone());
            format!("{}-{}", dep.object_name, sanitize(&dep.namespace))
        };
        dep.name = unique(&mut taken, wanted);
    }
}

fn deployment(d: &Doc, rep: &mut Report) -> Result<Dep, ImportError> {
    let kind = d.kind().to_string();
    let v = &d.value;
    let object_name = d.short_name();
    if object_name.is_empty() {
        return Err(d.error("metadata.name", "missing"));
    }
    let spec = v.get("spec").ok_or_else(|| d.error("spec", "missing"))?;
    if let Some(obj) = spec.as_object() {
        for k in obj.keys() {
            if !matches!(k.as_str(), "replicas" | "selector" | "template") {
                rep.field(format!("{kind}.spec.{k}"));
            }
        }
    }
    let replicas = match spec.get("replicas") {
        None | Some(Value::Null) => 1,
        Some(r) => r
            .as_u64()
            .and_then(|r| u32::try_from(r).ok())
            .ok_or_else(|| d.error("spec.replicas", format!("{r}; expected a whole number of 0 or more")))?,
    };
    let selector = match spec.get("selector") {
        None | Some(Value::Null) => None,
        Some(s) => Some(typed::<LabelSelector>(s).map_err(|m| d.error("spec.selector", m))?),
    };
    let template = spec.get("template").ok_or_else(|| d.error("spec.template", "missing"))?;
    let mut dep = pod_fields(d, &kind, template, "spec.template", rep)?;
    dep.replicas = replicas;
    dep.selector = selector;
    Ok(dep)
}

/// The pod fields of `template` (a pod template, or a Pod: `metadata` and `spec`) found at
/// `prefix` in the object (`spec.template`, or `""` for a Pod), as a [`Dep`] with one replica
/// and no selector.
pub fn pod_fields(
    d: &Doc,
    kind: &str,
    template: &Value,
    prefix: &str,
    rep: &mut Report,
) -> Result<Dep, ImportError> {
    let path = |rest: &str| if prefix.is_empty() { rest.to_string() } else { format!("{prefix}.{rest}") };
    let object_name = d.short_name();
    let mut labels = BTreeMap::new();
    if let Some(obj) = template.pointer("/metadata/labels").and_then(Value::as_object) {
        for (k, val) in obj {
            let val = val
                .as_str()
                .ok_or_else(|| d.error(&path(&format!("metadata.labels.{k}")), "expected a string"))?;
            labels.insert(k.clone(), val.to_string());
        }
    }
    let empty = Value::Object(Default::default());
    let pod = template.get("spec").unwrap_or(&empty);
    let spec_at = path("spec");
    let at = spec_at.as_str();
    let requests = pod_requests(d, pod, at, rep)?;
    report_pod_fields(kind, at, pod, rep);

    let mut node_selector = BTreeMap::new();
    if let Some(obj) = pod.get("nodeSelector").and_then(Value::as_object) {
        for (k, val) in obj {
            let val = val
                .as_str()
                .ok_or_else(|| d.error(&format!("{at}.nodeSelector.{k}"), "expected a string"))?;
            if k == "kubernetes.io/hostname" {
                // Nodes carry no per-node label in clustersim (a pin to one node).
                rep.field(format!("{kind}.{at}.nodeSelector.kubernetes.io/hostname"));
                continue;
            }
            node_selector.insert(k.clone(), val.to_string());
        }
    }
    let affinity = match pod.get("affinity") {
        None | Some(Value::Null) => None,
        Some(a) => match typed::<Affinity>(a) {
            Ok(mut v) => {
                if let Some(obj) = v.as_object_mut()
                    && obj
                        .get("nodeAffinity")
                        .is_some_and(|n| n.to_string().contains("\"kubernetes.io/hostname\""))
                {
                    obj.remove("nodeAffinity");
                    rep.field(format!("{kind}.{at}.affinity.nodeAffinity (on kubernetes.io/hostname)"));
                }
                Some(v).filter(|v| v.as_object().is_some_and(|o| !o.is_empty()))
            }
            Err(m) => {
                rep.note(format!("{at}.affinity left out ({m})"), d.name());
                None
            }
        },
    };
    let tolerations = list_of::<Toleration>(d, pod, at, "tolerations", rep)?;
    let spread = list_of::<TopologySpreadConstraint>(d, pod, at, "topologySpreadConstraints", rep)?;
    let priority_class_name = pod.get("priorityClassName").and_then(Value::as_str).map(str::to_string);
    let grace = match pod.get("terminationGracePeriodSeconds") {
        None | Some(Value::Null) => None,
        Some(g) => Some(g.as_i64().filter(|g| *g >= 0).ok_or_else(|| {
            d.error(
                &format!("{at}.terminationGracePeriodSeconds"),
                format!("{g}; expected seconds, 0 or more"),
            )
        })?),
    };
    Ok(Dep {
        name: object_name.clone(),
        namespace: d.namespace(),
        kind: kind.to_string(),
        source: format!("{kind} {}/{}", d.namespace(), object_name),
        place: d.place(),
        object_name,
        replicas: 1,
        selector: None,
        labels,
        requests,
        node_selector,
        affinity,
        tolerations,
        spread,
        priority_class_name,
        priority: None,
        grace,
        min_available: None,
        pdb: None,
        node_name: None,
    })
}

/// Reports the pod-spec (at `at`) and container fields that are not mapped (defaults that
/// change nothing, such as `dnsPolicy: ClusterFirst`, are not reported).
fn report_pod_fields(kind: &str, at: &str, pod: &Value, rep: &mut Report) {
    let Some(obj) = pod.as_object() else { return };
    for (k, v) in obj {
        let default = match k.as_str() {
            "restartPolicy" => v == "Always",
            "dnsPolicy" => v == "ClusterFirst",
            "schedulerName" => v == "default-scheduler",
            "securityContext" => v.as_object().is_some_and(|o| o.is_empty()),
            _ => false,
        };
        let node_name = k == "nodeName" && kind == "Pod";
        if !MAPPED_POD_FIELDS.contains(&k.as_str()) && !default && !node_name {
            rep.field(format!("{kind}.{at}.{k}"));
        }
    }
    for list in ["containers", "initContainers"] {
        for c in obj.get(list).and_then(Value::as_array).into_iter().flatten() {
            for (k, v) in c.as_object().into_iter().flatten() {
                let mapped = matches!(k.as_str(), "name" | "resources" | "terminationMessagePath")
                    || (k == "restartPolicy" && list == "initContainers")
                    || (k == "terminationMessagePolicy" && v == "File")
                    || k == "imagePullPolicy";
                if !mapped {
                    rep.field(format!("{kind}.{at}.{list}[].{k}"));
                }
            }
        }
    }
}

/// A list field of the pod spec, each entry through the scenario type `T`; an entry the
/// type refuses is left out and reported.
fn list_of<T: serde::de::DeserializeOwned + serde::Serialize>(
    d: &Doc,
    pod: &Value,
    spec_at: &str,
    field: &str,
    rep: &mut Report,
) -> Result<Vec<Value>, ImportError> {
    let at = format!("{spec_at}.{field}");
    let items = match pod.get(field) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => return Err(d.error(&at, "expected a list")),
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        match typed::<T>(item) {
            Ok(v) => out.push(v),
            Err(m) => rep.note(format!("{at}[{i}] left out ({m})"), d.name()),
        }
    }
    Ok(out)
}

/// `v` read as the scenario type `T` and written back (so only fields clustersim knows
/// remain), without nulls and empty lists.
pub fn typed<T: serde::de::DeserializeOwned + serde::Serialize>(v: &Value) -> Result<Value, String> {
    let t: T = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    let mut out = serde_json::to_value(&t).map_err(|e| e.to_string())?;
    prune(&mut out);
    Ok(out)
}

fn prune(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.retain(|_, x| !(x.is_null() || x.as_array().is_some_and(|a| a.is_empty())));
            o.values_mut().for_each(prune);
        }
        Value::Array(a) => a.iter_mut().for_each(prune),
        _ => {}
    }
}
