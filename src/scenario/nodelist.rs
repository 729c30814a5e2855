//! Node lists: CSV files with one row per node (name, CPU, memory, GPUs, GPU model, max
//! pods, zone, labels), read when the scenario is loaded and grouped into pools of
//! identical nodes: nodes with the same allocatable, labels and zone become one pool
//! `<list>-<k>` (k from 0, in order of first appearance), so 5,000 nodes of a few shapes
//! stay a few pools. The nodes keep their names from the file. The pools are written into
//! `nodePools` with `fromNodeList` set ([`expand`]), so everything downstream (validation,
//! limits, the simulation) sees ordinary pools.

use std::collections::BTreeMap;
use std::path::Path;

use super::columns::{self, CpuUnit, CsvStream, MemUnit, show};
use super::error::FieldError;
use super::podtrace::GPU_MODEL_LABEL;
use super::quantity::{CountQuantity, CpuQuantity, MemQuantity};
use super::schema::{
    NodeListColumns, NodeListSpec, NodePoolSpec, NodeResourcesSpec, TracePreset, UnitColumn,
};
use super::trace::TraceError;
use crate::cluster::Labels;

/// The columns of a preset.
pub fn preset_columns(p: TracePreset) -> Option<NodeListColumns> {
    match p {
        TracePreset::AlibabaGpuV2023 => Some(NodeListColumns {
            name: Some("sn".into()),
            cpu: Some(UnitColumn { column: "cpu_milli".into(), unit: Some("millicores".into()) }),
            memory: Some(UnitColumn { column: "memory_mib".into(), unit: Some("MiB".into()) }),
            gpu: Some("gpu".into()),
            gpu_model: Some("model".into()),
            pods: None,
            zone: None,
            labels: None,
        }),
        TracePreset::Plain => None,
    }
}

/// The mapping in effect: the list's columns, and the preset's for those it leaves out.
pub fn columns_of(spec: &NodeListSpec) -> NodeListColumns {
    let c = spec.columns.clone();
    let Some(p) = spec.preset.and_then(preset_columns) else { return c };
    NodeListColumns {
        name: c.name.or(p.name),
        cpu: c.cpu.or(p.cpu),
        memory: c.memory.or(p.memory),
        gpu: c.gpu.or(p.gpu),
        gpu_model: c.gpu_model.or(p.gpu_model),
        pods: c.pods.or(p.pods),
        zone: c.zone.or(p.zone),
        labels: c.labels.or(p.labels),
    }
}

/// Checks of `nodeLists[i]` that need no file.
pub fn validate(spec: &NodeListSpec, at: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut push = |f: &str, m: String| errs.push(FieldError { path: format!("{at}.{f}"), message: m });
    if spec.preset == Some(TracePreset::Plain) {
        push("preset", "`plain` is a pod-trace layout; expected `alibaba-gpu-v2023` or no preset".into());
    }
    let c = columns_of(spec);
    match &c.cpu {
        None => push("columns.cpu", "no CPU column; expected `cpu: {column: NAME, unit: cores}`".into()),
        Some(u) => {
            if u.unit.as_deref().and_then(CpuUnit::parse).is_none() {
                push("columns.cpu.unit", format!("expected {}", columns::CPU_UNITS));
            }
        }
    }
    match &c.memory {
        None => {
            push("columns.memory", "no memory column; expected `memory: {column: NAME, unit: GiB}`".into())
        }
        Some(u) => {
            if u.unit.as_deref().and_then(MemUnit::parse).is_none() {
                push("columns.memory.unit", format!("expected {}", columns::MEM_UNITS));
            }
        }
    }
    if spec.file.trim().is_empty() {
        push("file", "expected the path of a CSV file".into());
    }
    if !(spec.price_per_hour.is_finite() && spec.price_per_hour >= 0.0) {
        push("pricePerHour", "expected a number >= 0".into());
    }
    if !(spec.price_per_gpu_hour.is_finite() && spec.price_per_gpu_hour >= 0.0) {
        push("pricePerGpuHour", "expected a number >= 0".into());
    }
    for (model, price) in &spec.gpu_prices_per_hour {
        if !(price.is_finite() && *price >= 0.0) {
            push(&format!("gpuPricesPerHour.{model}"), "expected a number >= 0".into());
        }
    }
    if spec.zone.trim().is_empty() {
        push("zone", "expected a zone name".into());
    }
    errs
}

/// One pool made from a list.
#[derive(Clone, Debug, PartialEq)]
pub struct ListPool {
    pub cpu_milli: i64,
    pub mem_bytes: i64,
    pub gpus: i64,
    pub max_pods: i64,
    pub zone: String,
    /// Labels from the row (and the GPU model), without the list's own labels.
    pub labels: Labels,
    pub count: u32,
    /// The nodes' names, in file order (empty: the list maps no name column, and the nodes
    /// are named like other pools' nodes, `<pool>-<index>`).
    pub names: Vec<String>,
}

/// A node list read and grouped.
#[derive(Clone, Debug, Default)]
pub struct NodeListData {
    pub pools: Vec<ListPool>,
    pub nodes: u64,
}

/// What makes two nodes one pool: (cpu, memory, GPUs, max pods, zone, labels).
type PoolKey = (i64, i64, i64, i64, String, Vec<(String, String)>);

/// Reads `path` with the mapping of `spec` and groups the nodes.
pub fn read(path: &Path, spec: &NodeListSpec) -> Result<NodeListData, TraceError> {
    let mut csv = CsvStream::open(path)?;
    let c = columns_of(spec);
    let unit_col =
        |u: &Option<UnitColumn>, role: &str| -> Result<Option<(usize, String, Option<String>)>, TraceError> {
            u.as_ref()
                .map(|u| {
                    csv.column(&u.column, &format!("columns.{role}"))
                        .map(|i| (i, u.column.clone(), u.unit.clone()))
                })
                .transpose()
        };
    let plain_col = |n: &Option<String>, role: &str| -> Result<Option<(usize, String)>, TraceError> {
        n.as_ref().map(|n| csv.column(n, &format!("columns.{role}")).map(|i| (i, n.clone()))).transpose()
    };
    let cpu = unit_col(&c.cpu, "cpu")?;
    let mem = unit_col(&c.memory, "memory")?;
    let name = plain_col(&c.name, "name")?;
    let gpu = plain_col(&c.gpu, "gpu")?;
    let model = plain_col(&c.gpu_model, "gpuModel")?;
    let pods = plain_col(&c.pods, "pods")?;
    let zone = plain_col(&c.zone, "zone")?;
    let labels = plain_col(&c.labels, "labels")?;
    let (Some((ci, cn, cu)), Some((mi, mn, mu))) = (cpu, mem) else {
        return Err(TraceError::new(path, None, "the node list maps no CPU or memory column".into()));
    };
    let cpu_f = cu.as_deref().and_then(CpuUnit::parse).map_or(1, |u| u.0);
    let mem_f = mu.as_deref().and_then(MemUnit::parse).map_or(1, |u| u.0);
    let mut out = NodeListData::default();
    let mut by_key: BTreeMap<PoolKey, usize> = BTreeMap::new();
    let mut seen_names: BTreeMap<String, u64> = BTreeMap::new();
    while let Some(byte) = csv.next_row()? {
        let fail = |column: &str, m: String| csv.error_at(byte, format!("column `{column}`: {m}"));
        let cpu_milli = columns::parse_amount(csv.cell(ci), cpu_f, "CPU").map_err(|m| fail(&cn, m))?;
        let mem_bytes = columns::parse_amount(csv.cell(mi), mem_f, "memory").map_err(|m| fail(&mn, m))?;
        if cpu_milli == 0 || mem_bytes == 0 {
            return Err(fail(
                if cpu_milli == 0 { &cn } else { &mn },
                "a node with no CPU or no memory; expected more than 0".into(),
            ));
        }
        let whole = |col: &Option<(usize, String)>, what: &str, default: i64| -> Result<i64, TraceError> {
            match col {
                Some((i, n)) if !csv.cell(*i).is_empty() => {
                    let v = columns::parse_amount(csv.cell(*i), 1000, what).map_err(|m| fail(n, m))?;
                    if v % 1000 != 0 {
                        return Err(fail(
                            n,
                            format!("`{}` is not a whole number of {what}", show(csv.cell(*i))),
                        ));
                    }
                    Ok(v / 1000)
                }
                _ => Ok(default),
            }
        };
        let gpus = whole(&gpu, "GPUs", 0)?;
        if spec.only_gpu_nodes && gpus == 0 {
            continue;
        }
        let max_pods = whole(&pods, "pods", spec.max_pods.0)?;
        let text = |col: &Option<(usize, String)>| {
            col.as_ref().map(|(i, _)| String::from_utf8_lossy(csv.cell(*i)).into_owned())
        };
        let zone_name = text(&zone).filter(|z| !z.is_empty()).unwrap_or_else(|| spec.zone.clone());
        let mut row_labels: Vec<(String, String)> = match &labels {
            Some((i, n)) => columns::parse_labels(csv.cell(*i)).map_err(|m| fail(n, m))?,
            None => Vec::new(),
        };
        if let Some(m) = text(&model).filter(|m| !m.is_empty()) {
            if gpus == 0 {
                let n = model.as_ref().map_or("", |x| x.1.as_str());
                return Err(fail(n, format!("GPU model `{}` on a node with no GPUs", show(m.as_bytes()))));
            }
            row_labels.retain(|(k, _)| k != GPU_MODEL_LABEL);
            row_labels.push((GPU_MODEL_LABEL.to_string(), m));
            row_labels.sort();
        }
        let node_name = match &name {
            Some((i, n)) => {
                let v = String::from_utf8_lossy(csv.cell(*i)).into_owned();
                if v.is_empty() {
                    return Err(fail(n, "empty node name".into()));
                }
                if let Some(prev) = seen_names.insert(v.clone(), byte) {
                    let l = columns::line_of_byte(&csv.file, prev)
                        .map_or(String::new(), |l| format!(" (line {l})"));
                    return Err(fail(
                        n,
                        format!("node `{}` is listed twice{l}; expected unique names", show(v.as_bytes())),
                    ));
                }
                v
            }
            None => String::new(),
        };
        let key = (cpu_milli, mem_bytes, gpus, max_pods, zone_name.clone(), row_labels.clone());
        let next = out.pools.len();
        let k = *by_key.entry(key).or_insert(next);
        if k == next {
            out.pools.push(ListPool {
                cpu_milli,
                mem_bytes,
                gpus,
                max_pods,
                zone: zone_name,
                labels: row_labels.into_iter().collect(),
                count: 0,
                names: Vec::new(),
            });
        }
        out.pools[k].count += 1;
        if name.is_some() {
            out.pools[k].names.push(node_name);
        }
        out.nodes += 1;
        if out.nodes > super::MAX_TOTAL_NODES {
            return Err(
                csv.error_at(byte, format!("more than {} nodes; expected fewer", super::MAX_TOTAL_NODES))
            );
        }
    }
    if out.nodes == 0 {
        return Err(csv.no_data_rows());
    }
    Ok(out)
}

/// The GPU model of a list's pool: the `nvidia.com/gpu.product` label its nodes get (from
/// the row, else the list's labels), for pools with GPUs.
fn pool_model<'a>(spec: &'a NodeListSpec, p: &'a ListPool) -> Option<&'a str> {
    if p.gpus == 0 {
        return None;
    }
    p.labels.get(GPU_MODEL_LABEL).or_else(|| spec.labels.get(GPU_MODEL_LABEL)).map(String::as_str)
}

/// The price of one GPU for one hour on the nodes of `p`: the list's price for its model,
/// else `pricePerGpuHour`.
fn gpu_price(spec: &NodeListSpec, p: &ListPool) -> f64 {
    pool_model(spec, p)
        .and_then(|m| spec.gpu_prices_per_hour.get(m))
        .copied()
        .unwrap_or(spec.price_per_gpu_hour)
}

/// Checks of `nodeLists[i]` against its nodes: every model of `gpuPricesPerHour` is the GPU
/// model of some node.
pub fn validate_read(spec: &NodeListSpec, data: &NodeListData, at: &str) -> Vec<FieldError> {
    let models: std::collections::BTreeSet<&str> =
        data.pools.iter().filter_map(|p| pool_model(spec, p)).collect();
    spec.gpu_prices_per_hour
        .keys()
        .filter(|m| !models.contains(m.as_str()))
        .map(|m| {
            let known = if models.is_empty() {
                "no node of the list has a GPU model".to_string()
            } else {
                format!("its models: {}", models.iter().copied().collect::<Vec<_>>().join(", "))
            };
            FieldError {
                path: format!("{at}.gpuPricesPerHour.{m}"),
                message: format!(
                    "no node of {} has GPU model `{}` ({known}); expected a model of the list's nodes",
                    spec.file,
                    show(m.as_bytes())
                ),
            }
        })
        .collect()
}

/// Replaces the pools made from node lists in `s.node_pools` by those of `lists` (one
/// `NodeListData` per `s.node_lists` entry, in order).
pub fn expand(s: &mut super::Scenario, lists: &[std::sync::Arc<NodeListData>]) {
    s.node_pools.retain(|p| p.from_node_list.is_none());
    for (spec, data) in s.node_lists.iter().zip(lists) {
        for (k, p) in data.pools.iter().enumerate() {
            let mut labels = spec.labels.clone();
            labels.extend(p.labels.iter().map(|(a, b)| (a.clone(), b.clone())));
            s.node_pools.push(NodePoolSpec {
                name: format!("{}-{k}", spec.name),
                count: p.count,
                zones: vec![p.zone.clone()],
                allocatable: NodeResourcesSpec {
                    cpu: CpuQuantity(p.cpu_milli),
                    memory: MemQuantity(p.mem_bytes),
                    pods: CountQuantity(p.max_pods),
                    gpu: CountQuantity(p.gpus),
                },
                labels,
                taints: spec.taints.clone(),
                unschedulable: false,
                price_per_hour: spec.price_per_hour,
                price_per_gpu_hour: gpu_price(spec, p),
                kubelet: spec.kubelet.clone(),
                failures: None,
                autoscaling: None,
                from_node_list: Some(spec.name.clone()),
            });
        }
    }
}

/// The node names of `s.node_pools[pool]` when it was made from a node list that names its
/// nodes (empty otherwise).
pub fn node_names(s: &super::Scenario, pool: usize) -> std::sync::Arc<[String]> {
    let empty: std::sync::Arc<[String]> = std::sync::Arc::from(Vec::new());
    let Some(p) = s.node_pools.get(pool) else { return empty };
    let Some(list) = &p.from_node_list else { return empty };
    let Some(li) = s.node_lists.iter().position(|l| &l.name == list) else { return empty };
    // The list's pools are consecutive in `node_pools`, in order.
    let first = s.node_pools.iter().position(|q| q.from_node_list.as_ref() == Some(list)).unwrap_or(pool);
    let k = pool - first;
    let key = node_list_key(&s.node_lists[li]);
    s.inputs
        .node_lists
        .get(&key)
        .and_then(|d| d.pools.get(k))
        .map_or(empty, |lp| std::sync::Arc::from(lp.names.clone()))
}

/// The key under which a node list's data is kept in `Inputs`.
pub fn node_list_key(spec: &NodeListSpec) -> String {
    format!("{}\u{1f}{:?}\u{1f}{}\u{1f}{}", spec.file, columns_of(spec), spec.zone, spec.max_pods.0)
}
