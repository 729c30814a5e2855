//! clustersim: a deterministic discrete-event simulator of Kubernetes-style clusters.
//!
//! A run is a pure function of (scenario, seed): [`scenario`] parses and validates the
//! input at the edge, [`sim`] builds the cluster ([`cluster`]) and the models
//! ([`scheduler`], [`kubelet`], [`workload`], [`metrics`]) on the event core ([`engine`]),
//! and [`output`] writes the results. See ARCHITECTURE.md for the map and its invariants.

#![forbid(unsafe_code)]

pub mod cli;
pub mod cluster;
pub mod engine;
pub mod kubelet;
pub mod metrics;
pub mod output;
pub mod scenario;
pub mod scheduler;
pub mod sim;
pub mod workload;

/// The crate version, recorded in `run.json`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
