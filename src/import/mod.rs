//! `clustersim import`: Kubernetes objects (`kubectl get … -o yaml` dumps, manifests, JSON)
//! into a clustersim scenario that validates and runs as is.
//!
//! The pipeline: [`read`] splits the files into documents and flattens `kind: List`;
//! [`objects`] sorts the documents by kind (checking `apiVersion`) and counts the kinds it
//! does not model; [`nodes`] groups Nodes into node pools; [`workloads`] turns
//! Deployments, StatefulSets and owner-less ReplicaSets into scenario Deployments (with the
//! pod's effective requests, [`requests`]); [`policies`] maps PriorityClasses,
//! PodDisruptionBudgets and HorizontalPodAutoscalers; [`prices`] reads `--prices`;
//! [`emit`] writes the scenario YAML by hand (a comment names each entry's source object,
//! the order is deterministic); [`report`] collects what was not modelled for the one
//! summary printed on stderr; [`consistency`] leaves out spread constraints and affinity
//! terms that clustersim's validation would refuse. The scenario is then parsed and validated with the project's
//! own code ([`crate::scenario`]): a scenario that fails is an importer bug.

pub mod consistency;
pub mod emit;
pub mod nodes;
pub mod objects;
pub mod policies;
pub mod prices;
pub mod read;
pub mod report;
pub mod requests;
pub mod workloads;

use std::path::{Path, PathBuf};

/// An import failure: bad input (exit 2) or a scenario that does not validate (a bug, exit 1).
#[derive(Debug)]
pub enum ImportError {
    Input(String),
    Internal(String),
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::Input(m) | ImportError::Internal(m) => f.write_str(m),
        }
    }
}

/// The result of an import: the scenario's text and the summary of what was not modelled.
#[derive(Debug)]
pub struct Imported {
    pub yaml: String,
    pub summary: String,
}

/// Imports the files (a folder: its `*.yaml`, `*.yml` and `*.json` files sorted by name)
/// with an optional price file, and checks the scenario with the project's validation.
pub fn import(inputs: &[PathBuf], prices: Option<&Path>) -> Result<Imported, ImportError> {
    let docs = read::read_inputs(inputs)?;
    let prices = match prices {
        Some(p) => prices::read_prices(p)?,
        None => prices::Prices::default(),
    };
    let mut rep = report::Report::default();
    let objs = objects::classify(docs, &mut rep)?;
    let pools = nodes::pools(&objs.nodes, &prices, &mut rep)?;
    let classes = policies::priority_classes(&objs.priority_classes, &mut rep)?;
    let mut deps = workloads::deployments(&objs.workloads, &mut rep)?;
    let classes = policies::resolve_priorities(&classes, &mut deps, &mut rep);
    policies::apply_pdbs(&objs.pdbs, &mut deps, &mut rep)?;
    consistency::prune(&mut deps, &pools, &mut rep);
    consistency::check_fit(&deps, &pools)?;
    let hpas = policies::hpas(&objs.hpas, &deps, &mut rep)?;
    let yaml = emit::scenario_yaml(inputs, &pools, &deps, &classes, &hpas);
    check(&yaml)?;
    Ok(Imported { yaml, summary: rep.render() })
}

/// Parses and validates the generated scenario as `clustersim run` would.
fn check(yaml: &str) -> Result<(), ImportError> {
    let file = Path::new("<imported scenario>");
    let bug = |m: String| {
        ImportError::Internal(format!("the imported scenario does not validate (an importer bug): {m}"))
    };
    let s = crate::scenario::parse_str(yaml, file).map_err(|e| bug(e.to_string()))?;
    crate::scenario::validate::validate(&s).map_err(|errors| {
        bug(crate::scenario::ScenarioError::Invalid { file: file.to_path_buf(), errors }.to_string())
    })
}
