//! What creates pods: the Deployment (ReplicaSet) controller, which keeps each
//! Deployment's replica count, the DaemonSet controller, which keeps one pod per node,
//! churn generators of short-lived pods (jobs), the bare pods already running on their
//! node when the run starts, and pod-trace replays (`replay.rs`).

pub mod bare;
pub mod churn;
pub mod daemonset;
pub mod deployment;
pub mod inflation;
pub mod replay;
