//! What creates pods: the Deployment (ReplicaSet) controller, which keeps each
//! Deployment's replica count, churn generators of short-lived pods (jobs), and pod-trace
//! replays (`replay.rs`).

pub mod churn;
pub mod deployment;
pub mod replay;
