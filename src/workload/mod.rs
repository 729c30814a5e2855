//! What creates pods: the Deployment (ReplicaSet) controller, which keeps each
//! Deployment's replica count, and churn generators of short-lived pods (jobs).

pub mod churn;
pub mod deployment;
