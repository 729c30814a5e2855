//! clustersim: a deterministic discrete-event simulator of Kubernetes-style clusters.
//!
//! A run is a pure function of (scenario, seed): [`scenario`] parses and validates the
//! input at the edge, [`sim`] builds the cluster ([`cluster`]) and the models
//! ([`scheduler`], [`kubelet`], [`workload`], [`metrics`]) on the event core ([`engine`]),
//! and [`output`] writes the results. See ARCHITECTURE.md for the map and its invariants.
//!
//! A run from a scenario in memory:
//!
//! ```
//! use clustersim::{scenario, sim::Simulation};
//! use std::path::Path;
//!
//! let yaml = "
//! duration: 10m
//! nodePools: [{name: p, count: 3, allocatable: {cpu: 4, memory: 16Gi}}]
//! deployments: [{name: web, replicas: 10, template: {requests: {cpu: 500m, memory: 1Gi}}}]
//! ";
//! let s = scenario::parse_str(yaml, Path::new("inline.yaml")).expect("parses");
//! scenario::validate::validate(&s).expect("valid");
//! let out = Simulation::new(&s, s.seed).expect("builds").run();
//! let running = out.summary.iter().find(|(k, _)| *k == "pods_running_end").map(|(_, v)| v.render());
//! assert_eq!(running.as_deref(), Some("10"));
//! ```

#![forbid(unsafe_code)]

pub mod autoscaler;
pub mod charts;
pub mod cli;
pub mod cluster;
pub mod controlplane;
pub mod engine;
pub mod faults;
pub mod hpa;
pub mod import;
pub mod kubelet;
pub mod metrics;
pub mod nodelifecycle;
pub mod output;
pub mod plan;
pub mod runner;
pub mod scenario;
pub mod scheduler;
pub mod sim;
pub mod sweep;
pub mod traffic;
pub mod workload;

/// The crate version, recorded in `run.json`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
