//! Cluster state: plain data with invariants. Nodes, pods, pod templates, Deployments and
//! node pools live in dense arenas (`Vec`s) indexed by typed ids, never by strings. All
//! changes go through the methods of [`ClusterState`], which keep the per-node and
//! cluster-wide resource sums equal to the sums over bound pods.

pub mod gpu;
pub mod label_selector;
pub mod pod_affinity;
pub mod pods;
pub mod resources;
pub mod room;
pub mod selectors;
pub mod spread;
pub mod state;
pub mod topology;

pub use resources::*;
pub use selectors::*;
pub use state::*;
