//! The Deployment/ReplicaSet controller: creates pods until a Deployment has `replicas`
//! live (non-terminal, not deleted) pods, either all at once or paced at `createRate` pods
//! per second, and replaces pods that end. Upstream:
//! `kubernetes/kubernetes:pkg/controller/replicaset/replica_set.go` (`manageReplicas`).

use crate::cluster::{ClusterState, DeploymentId, Owner, PodId};
use crate::engine::SimDuration;
use crate::sim::{Ctx, Event};

pub struct DeploymentController {
    /// Interval between paced creations per Deployment; `None` = all at once.
    pace: Vec<Option<SimDuration>>,
    /// A paced creation chain is running for this Deployment.
    pacing: Vec<bool>,
    started: Vec<bool>,
}

impl DeploymentController {
    pub fn new(create_rates: &[f64]) -> Self {
        let pace = create_rates
            .iter()
            .map(|&r| {
                if r > 0.0 {
                    Some(SimDuration::from_secs_f64(1.0 / r))
                } else {
                    None
                }
            })
            .collect();
        DeploymentController {
            pace,
            pacing: vec![false; create_rates.len()],
            started: vec![false; create_rates.len()],
        }
    }

    /// `Event::DeploymentStart`.
    pub fn on_start(&mut self, cluster: &mut ClusterState, d: DeploymentId, ctx: &mut Ctx) -> Vec<PodId> {
        self.started[d.index()] = true;
        self.reconcile(cluster, d, ctx)
    }

    /// Creates what is missing now (or starts the paced chain). Returns the new pods.
    pub fn reconcile(&mut self, cluster: &mut ClusterState, d: DeploymentId, ctx: &mut Ctx) -> Vec<PodId> {
        if !self.started[d.index()] {
            return Vec::new();
        }
        let dep = &cluster.deployments[d.index()];
        let missing = dep.replicas.saturating_sub(dep.live_pods);
        if missing == 0 {
            return Vec::new();
        }
        match self.pace[d.index()] {
            None => {
                let template = dep.template;
                (0..missing)
                    .map(|_| cluster.create_pod(template, Owner::Deployment(d), None, ctx.now))
                    .collect()
            }
            Some(_) if self.pacing[d.index()] => Vec::new(),
            Some(_) => self.on_paced_create(cluster, d, ctx),
        }
    }

    /// `Event::DeploymentCreatePod`: one paced creation, then the next one if still short.
    pub fn on_paced_create(
        &mut self,
        cluster: &mut ClusterState,
        d: DeploymentId,
        ctx: &mut Ctx,
    ) -> Vec<PodId> {
        let dep = &cluster.deployments[d.index()];
        if dep.live_pods >= dep.replicas {
            self.pacing[d.index()] = false;
            return Vec::new();
        }
        let template = dep.template;
        let pod = cluster.create_pod(template, Owner::Deployment(d), None, ctx.now);
        let dep = &cluster.deployments[d.index()];
        if dep.live_pods < dep.replicas
            && let Some(interval) = self.pace[d.index()]
        {
            self.pacing[d.index()] = true;
            ctx.after(interval, Event::DeploymentCreatePod(d));
        } else {
            self.pacing[d.index()] = false;
        }
        vec![pod]
    }
}
