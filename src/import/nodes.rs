//! Nodes into node pools. Nodes with the same allocatable (cpu, memory, pods, GPUs), the
//! same labels (leaving out per-node labels and the zone), the same taints and the same
//! `spec.unschedulable` are one shape; a shape becomes one pool, or one pool per zone.
//!
//! Zones: a pool spreads its nodes over its `zones` round-robin, so one pool can only stand
//! for nodes spread evenly over zones. When a shape's nodes are spread evenly (or are in one
//! zone, or carry no zone label) they become one pool with the sorted list of zones;
//! otherwise one pool per (shape, zone), which keeps every zone's node count exact (a
//! zone outage or a zone spread constraint then sees the same capacity per zone as the real
//! cluster) at the cost of at most shapes × zones pools.

use super::ImportError;
use super::prices::Prices;
use super::read::Doc;
use super::report::Report;
use crate::scenario::quantity::{CountQuantity, CpuQuantity, MemQuantity};
use serde_json::Value;
use std::collections::BTreeMap;

pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";
pub const INSTANCE_TYPE_LABEL: &str = "node.kubernetes.io/instance-type";

/// Labels that differ from node to node (or that clustersim sets itself): left out of the
/// pool's labels.
const PER_NODE_LABELS: &[&str] = &[
    "kubernetes.io/hostname",
    ZONE_LABEL,
    "failure-domain.beta.kubernetes.io/zone",
    "clustersim.io/node-pool",
];

/// Taints the node controllers and the cluster autoscaler set for a while: a snapshot's
/// state, not the pool's configuration.
const TRANSIENT_TAINTS: &[&str] = &[
    "node.kubernetes.io/unschedulable",
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/pid-pressure",
    "node.kubernetes.io/network-unavailable",
    "node.cloudprovider.kubernetes.io/uninitialized",
    "ToBeDeletedByClusterAutoscaler",
    "DeletionCandidateOfClusterAutoscaler",
];

/// One generated node pool.
#[derive(Clone, Debug)]
pub struct Pool {
    pub name: String,
    pub count: u32,
    /// Empty: the nodes had no zone label (the scenario's default zone).
    pub zones: Vec<String>,
    pub shape: Shape,
    pub price: f64,
    /// The nodes it stands for.
    pub nodes: Vec<String>,
    /// The same nodes by scenario index: node `i` of the pool (`<pool>-<i>`) is in zone
    /// `zones[i mod len]`, so the nodes of each zone are interleaved.
    pub by_index: Vec<String>,
}

/// What makes nodes interchangeable.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Shape {
    pub cpu_milli: i64,
    pub memory: i64,
    pub pods: i64,
    pub gpu: i64,
    pub labels: BTreeMap<String, String>,
    /// (key, value, effect).
    pub taints: Vec<(String, String, String)>,
    pub unschedulable: bool,
}

impl Shape {
    pub fn cpu(&self) -> String {
        CpuQuantity(self.cpu_milli).to_string()
    }
    pub fn memory(&self) -> String {
        MemQuantity(self.memory).to_string()
    }
}

pub fn pools(nodes: &[Doc], prices: &Prices, rep: &mut Report) -> Result<Vec<Pool>, ImportError> {
    // Shapes in order of first appearance; per shape the nodes by zone.
    let mut order: Vec<Shape> = Vec::new();
    let mut groups: BTreeMap<Shape, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for d in nodes {
        let (shape, zone) = node_shape(d, rep)?;
        rep.imported("Node");
        if !groups.contains_key(&shape) {
            order.push(shape.clone());
        }
        groups.entry(shape).or_default().entry(zone).or_default().push(d.short_name());
    }
    let mut out: Vec<Pool> = Vec::new();
    let mut taken: BTreeMap<String, u32> = BTreeMap::new();
    for shape in order {
        let Some(zones) = groups.remove(&shape) else { continue };
        let ty = shape.labels.get(INSTANCE_TYPE_LABEL).cloned();
        let price = match &ty {
            Some(t) => match prices.0.get(t) {
                Some(p) => *p,
                None => {
                    if !prices.0.is_empty() {
                        rep.note("no price for this instance type in --prices (pricePerHour 0)", t.clone());
                    }
                    0.0
                }
            },
            None => 0.0,
        };
        let base = pool_base_name(ty.as_deref(), shape.unschedulable);
        let counts: Vec<usize> = zones.values().map(Vec::len).collect();
        let even = counts.iter().all(|&c| c == counts[0]) && !zones.contains_key("");
        if zones.len() == 1 || even {
            let names: Vec<String> = zones.values().flatten().cloned().collect();
            let zone_list: Vec<String> = zones.keys().filter(|z| !z.is_empty()).cloned().collect();
            let per_zone = counts[0];
            let by_index: Vec<String> =
                (0..per_zone).flat_map(|j| zones.values().map(move |names| names[j].clone())).collect();
            out.push(Pool {
                name: unique(&mut taken, base),
                count: names.len() as u32,
                zones: zone_list,
                shape: shape.clone(),
                price,
                by_index,
                nodes: names,
            });
        } else {
            for (zone, names) in zones {
                let name = if zone.is_empty() { base.clone() } else { format!("{base}-{}", sanitize(&zone)) };
                rep.note("nodes of one shape spread unevenly over zones: one pool per zone", name.clone());
                out.push(Pool {
                    name: unique(&mut taken, name),
                    count: names.len() as u32,
                    zones: if zone.is_empty() { Vec::new() } else { vec![zone] },
                    shape: shape.clone(),
                    price,
                    by_index: names.clone(),
                    nodes: names,
                });
            }
        }
    }
    Ok(out)
}

/// Where each imported node is in the scenario: real node name → (pool index, node index
/// in the pool). Its scenario name is `<pool>-<index>`.
pub fn node_places(pools: &[Pool]) -> BTreeMap<String, (usize, u32)> {
    let mut out = BTreeMap::new();
    for (p, pool) in pools.iter().enumerate() {
        for (i, n) in pool.by_index.iter().enumerate() {
            out.insert(n.clone(), (p, i as u32));
        }
    }
    out
}

/// A node's shape and zone ("" when it has none).
fn node_shape(d: &Doc, rep: &mut Report) -> Result<(Shape, String), ImportError> {
    let v = &d.value;
    let alloc = match v.pointer("/status/allocatable") {
        Some(a @ Value::Object(_)) => a,
        _ => match v.pointer("/status/capacity") {
            Some(c @ Value::Object(_)) => {
                rep.note("no status.allocatable, status.capacity used", d.name());
                c
            }
            _ => {
                return Err(
                    d.error("status.allocatable", "missing; expected the node's allocatable resources")
                );
            }
        },
    };
    let field = |k: &str| format!("status.allocatable.{k}");
    let text = |k: &str| -> Result<Option<String>, ImportError> {
        match alloc.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(d.error(&field(k), "expected a quantity such as \"4\" or \"16Gi\"")),
        }
    };
    let cpu = text("cpu")?.ok_or_else(|| d.error(&field("cpu"), "missing"))?;
    let cpu_milli = CpuQuantity::parse(&cpu).map_err(|m| d.error(&field("cpu"), m))?;
    let mem = text("memory")?.ok_or_else(|| d.error(&field("memory"), "missing"))?;
    let memory = MemQuantity::parse(&mem).map_err(|m| d.error(&field("memory"), m))?;
    let pods = match text("pods")? {
        Some(p) => CountQuantity::parse(&p).map_err(|m| d.error(&field("pods"), m))?,
        None => 110,
    };
    let gpu = match text("nvidia.com/gpu")? {
        Some(g) => CountQuantity::parse(&g).map_err(|m| d.error(&field("nvidia.com/gpu"), m))?,
        None => 0,
    };
    if let Some(obj) = alloc.as_object() {
        for k in obj.keys() {
            if !matches!(k.as_str(), "cpu" | "memory" | "pods" | "nvidia.com/gpu") {
                let k = if k.starts_with("hugepages-") { "hugepages-*" } else { k.as_str() };
                rep.field(format!("Node.status.allocatable.{k}"));
            }
        }
    }
    let mut labels = BTreeMap::new();
    let mut zone = String::new();
    if let Some(obj) = v.pointer("/metadata/labels").and_then(Value::as_object) {
        zone = obj
            .get(ZONE_LABEL)
            .or_else(|| obj.get("failure-domain.beta.kubernetes.io/zone"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        for (k, val) in obj {
            let Some(val) = val.as_str() else {
                return Err(d.error(&format!("metadata.labels.{k}"), "expected a string"));
            };
            // Labels holding the zone (a CSI driver's topology label) vary like the zone.
            if PER_NODE_LABELS.contains(&k.as_str()) || (!zone.is_empty() && val == zone) {
                continue;
            }
            labels.insert(k.clone(), val.to_string());
        }
    }
    let mut taints = Vec::new();
    if let Some(list) = v.pointer("/spec/taints") {
        let Some(list) = list.as_array() else {
            return Err(d.error("spec.taints", "expected a list"));
        };
        for (i, t) in list.iter().enumerate() {
            let key = t.get("key").and_then(Value::as_str).unwrap_or("");
            let value = t.get("value").and_then(Value::as_str).unwrap_or("");
            let effect = t.get("effect").and_then(Value::as_str).unwrap_or("");
            if key.is_empty() {
                return Err(d.error(&format!("spec.taints[{i}].key"), "missing; expected a taint key"));
            }
            if !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
                return Err(d.error(
                    &format!("spec.taints[{i}].effect"),
                    format!("{effect:?}; expected NoSchedule, PreferNoSchedule or NoExecute"),
                ));
            }
            if TRANSIENT_TAINTS.contains(&key) {
                rep.note(format!("transient taint {key} left out"), d.name());
                continue;
            }
            taints.push((key.to_string(), value.to_string(), effect.to_string()));
        }
    }
    taints.sort();
    let unschedulable = v.pointer("/spec/unschedulable").and_then(Value::as_bool).unwrap_or(false);
    if let Some(spec) = v.get("spec").and_then(Value::as_object) {
        for k in spec.keys() {
            if !matches!(k.as_str(), "taints" | "unschedulable" | "podCIDR" | "podCIDRs" | "providerID") {
                rep.field(format!("Node.spec.{k}"));
            }
        }
    }
    Ok((Shape { cpu_milli, memory, pods, gpu, labels, taints, unschedulable }, zone))
}

/// `m5.xlarge` → `m5-xlarge`; without a type, `pool`.
fn pool_base_name(instance_type: Option<&str>, unschedulable: bool) -> String {
    let mut base =
        instance_type.map(sanitize).filter(|s| !s.is_empty()).unwrap_or_else(|| "pool".to_string());
    if unschedulable {
        base.push_str("-cordoned");
    }
    base
}

/// Lower case letters, digits and `-`, at most 40 characters.
pub fn sanitize(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .to_string();
    out.truncate(40);
    out.trim_end_matches('-').to_string()
}

/// `name`, or `name-2`, `name-3`, … when taken.
pub fn unique(taken: &mut BTreeMap<String, u32>, name: String) -> String {
    let mut candidate = name.clone();
    let mut n = 1;
    while taken.contains_key(&candidate) {
        n += 1;
        candidate = format!("{name}-{n}");
    }
    taken.insert(candidate.clone(), 1);
    candidate
}
