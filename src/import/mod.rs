//! `clustersim import`: Kubernetes objects (`kubectl get … -o yaml` dumps, manifests, JSON)
//! into a clustersim scenario that validates and runs as is.
//!
//! The pipeline: [`read`] splits the files into documents and flattens `kind: List`;
//! [`objects`] sorts the documents by kind (checking `apiVersion`) and counts the kinds it
//! does not model; [`nodes`] groups Nodes into node pools; [`workloads`] turns
//! Deployments, StatefulSets and owner-less ReplicaSets into scenario Deployments, DaemonSets
//! into scenario DaemonSets and, with `--keep-placement`, bare Pods bound to a node into
//! initial pods (with the pod's effective requests, [`requests`]; [`placement`] maps each
//! Pod's node to the scenario's `<pool>-<index>`); [`policies`] maps PriorityClasses,
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
pub mod placement;
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

/// How to import.
#[derive(Clone, Copy, Debug, Default)]
pub struct Options<'a> {
    /// Prices per node hour by instance type (`--prices`).
    pub prices: Option<&'a Path>,
    /// Bare Pods bound to a node become initial pods on that node (`--keep-placement`).
    pub keep_placement: bool,
}

/// Imports the files (a folder: its `*.yaml`, `*.yml` and `*.json` files sorted by name)
/// and checks the scenario with the project's validation.
pub fn import(inputs: &[PathBuf], opts: &Options) -> Result<Imported, ImportError> {
    let docs = read::read_inputs(inputs)?;
    let prices = match opts.prices {
        Some(p) => prices::read_prices(p)?,
        None => prices::Prices::default(),
    };
    let mut rep = report::Report::default();
    let objs = objects::classify(docs, opts.keep_placement, &mut rep)?;
    let pools = nodes::pools(&objs.nodes, &prices, &mut rep)?;
    let classes = policies::priority_classes(&objs.priority_classes, &mut rep)?;
    let deps = workloads::deployments(&objs.workloads, &mut rep)?;
    let daemon_sets = workloads::daemon_sets(&objs.daemon_sets, &mut rep)?;
    let bare = workloads::bare_pods(&objs.bare_pods, &mut rep)?;
    let bare = placement::place_bare_pods(bare, &pools, &mut rep);
    // Priorities and the topology rules' selectors over every pod template at once.
    let (n_deps, n_daemon_sets) = (deps.len(), daemon_sets.len());
    let mut all: Vec<workloads::Dep> = deps.into_iter().chain(daemon_sets).chain(bare).collect();
    let classes = policies::resolve_priorities(&classes, &mut all, &mut rep);
    consistency::prune(&mut all, &pools, &mut rep);
    let initial_pods = all.split_off(n_deps + n_daemon_sets);
    let daemon_sets = all.split_off(n_deps);
    let mut deps = all;
    policies::apply_pdbs(&objs.pdbs, &mut deps, &mut rep)?;
    consistency::check_fit(&deps, &pools)?;
    consistency::check_fit(&daemon_sets, &pools)?;
    let hpas = policies::hpas(&objs.hpas, &deps, &mut rep)?;
    let yaml = emit::scenario_yaml(&emit::Parts {
        inputs,
        keep_placement: opts.keep_placement,
        pools: &pools,
        deps: &deps,
        daemon_sets: &daemon_sets,
        initial_pods: &initial_pods,
        classes: &classes,
        hpas: &hpas,
    });
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
