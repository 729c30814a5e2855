//! Churn generators: short-lived pods arriving by a Poisson process (or any inter-arrival
//! distribution), each with a lifetime and a template drawn from a weighted mix. Each
//! generator has three random streams (arrivals, lifetimes, mix), so changing the
//! lifetime distribution does not move the arrival times: comparisons stay paired.

use crate::cluster::{ChurnId, ClusterState, Owner, PodId, TemplateId};
use crate::engine::{RngStream, SimTime};
use crate::scenario::distribution::Sampler;
use crate::sim::{Ctx, Event};

pub struct ChurnGenerator {
    pub inter_arrival: Sampler,
    pub lifetime: Sampler,
    /// Templates with cumulative weights (the last one is the total).
    pub mix: Vec<(f64, TemplateId)>,
    pub stop_at: SimTime,
    pub max_pods: u64,
    pub created: u64,
    pub arrivals_rng: RngStream,
    pub lifetime_rng: RngStream,
    pub mix_rng: RngStream,
}

impl ChurnGenerator {
    fn pick_template(&mut self) -> TemplateId {
        let total = self.mix.last().map_or(0.0, |m| m.0);
        if self.mix.len() == 1 || total <= 0.0 {
            return self.mix[0].1;
        }
        // 53 random bits → [0, 1).
        let u = crate::engine::rng::unit(&mut self.mix_rng) * total;
        self.mix.iter().find(|(cum, _)| u < *cum).map_or(self.mix[self.mix.len() - 1].1, |m| m.1)
    }

    /// Schedules the first arrival at `start` + one inter-arrival time.
    pub fn arm(&mut self, id: ChurnId, start: SimTime, ctx: &mut Ctx) {
        let first = start + self.inter_arrival.sample(&mut self.arrivals_rng);
        if first < self.stop_at {
            ctx.at(first, Event::ChurnArrival(id));
        }
    }

    /// `Event::ChurnArrival`: creates one pod and schedules the next arrival.
    pub fn on_arrival(&mut self, cluster: &mut ClusterState, id: ChurnId, ctx: &mut Ctx) -> Option<PodId> {
        if self.max_pods > 0 && self.created >= self.max_pods {
            return None;
        }
        let template = self.pick_template();
        let lifetime = self.lifetime.sample(&mut self.lifetime_rng);
        let pod = cluster.create_pod(template, Owner::Churn(id), Some(lifetime), ctx.now);
        self.created += 1;
        let next = ctx.now + self.inter_arrival.sample(&mut self.arrivals_rng);
        if next < self.stop_at && (self.max_pods == 0 || self.created < self.max_pods) {
            ctx.at(next, Event::ChurnArrival(id));
        }
        Some(pod)
    }
}
