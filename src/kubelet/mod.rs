//! The kubelet: between binding and Running, a pod waits for its image pull and its
//! container start, each drawn from the node pool's distributions. A pod with a run time
//! completes (Succeeded) that long after it started. Containers may crash and restart with
//! CrashLoopBackOff. One random stream serves every node (another every crash); the order
//! of draws is fixed by the event order, so runs stay deterministic.

use crate::cluster::{ClusterState, PodId, PodPhase};
use crate::engine::{RngStream, SimDuration, SimTime};
use crate::scenario::distribution::Sampler;
use crate::sim::{Ctx, Event};

/// Start-up delay samplers of one node pool.
pub struct PoolStartup {
    pub image_pull: Sampler,
    pub container_start: Sampler,
}

pub struct Kubelet {
    pools: Vec<PoolStartup>,
    rng: RngStream,
    /// Time-to-crash of each pod template (`None`: never crashes).
    crash_samplers: Vec<Option<Sampler>>,
    crash_rng: RngStream,
    crash: std::collections::BTreeMap<PodId, CrashState>,
    /// Container restarts so far.
    pub restarts: u64,
    /// Per pod template: how long its containers take to exit after SIGTERM and its grace
    /// period (`None`: they exit at once). Set with [`Kubelet::with_termination`].
    termination: Vec<Option<(Sampler, SimDuration)>>,
    termination_rng: Option<RngStream>,
}

impl Kubelet {
    pub fn new(
        pools: Vec<PoolStartup>,
        rng: RngStream,
        crash_samplers: Vec<Option<Sampler>>,
        crash_rng: RngStream,
    ) -> Self {
        Kubelet {
            pools,
            rng,
            crash_samplers,
            crash_rng,
            crash: std::collections::BTreeMap::new(),
            restarts: 0,
            termination: Vec::new(),
            termination_rng: None,
        }
    }

    /// Graceful termination: per template, the time its containers take to exit after
    /// SIGTERM and its `terminationGracePeriodSeconds` (`None`: exits at once), drawn from
    /// their own stream so that other draws do not move.
    pub fn with_termination(
        mut self,
        termination: Vec<Option<(Sampler, SimDuration)>>,
        rng: RngStream,
    ) -> Self {
        self.termination = termination;
        self.termination_rng = Some(rng);
        self
    }

    /// How long a Running pod deleted now stays Terminating: its containers' exit time
    /// after SIGTERM, capped by its grace period (after which the kubelet kills them,
    /// upstream `pkg/kubelet/kuberuntime/kuberuntime_container.go` `killContainer`) and by
    /// `max_grace` if given (the cluster autoscaler's cap). `None` when it exits at once.
    pub fn termination_time(
        &mut self,
        cluster: &ClusterState,
        pod: PodId,
        max_grace: Option<SimDuration>,
    ) -> Option<SimDuration> {
        let t = cluster.pod(pod).template.index();
        let (sampler, grace) = self.termination.get(t)?.as_ref()?;
        let rng = self.termination_rng.as_mut()?;
        let mut d = sampler.sample(rng).min(*grace);
        if let Some(m) = max_grace {
            d = d.min(m);
        }
        (d > SimDuration::ZERO).then_some(d)
    }

    /// `Event::Bind` completed: the kubelet sees the pod and starts it.
    pub fn on_bound(&mut self, cluster: &mut ClusterState, pod: PodId, ctx: &mut Ctx) {
        cluster.mark_bound(pod, ctx.now);
        let Some(node) = cluster.pod(pod).node else { return };
        let pool = &self.pools[cluster.node(node).pool.index()];
        let pull = pool.image_pull.sample(&mut self.rng);
        let delay = pull + pool.container_start.sample(&mut self.rng);
        cluster.set_image_pull(pod, pull);
        ctx.after(delay, Event::ContainersStarted(pod));
    }

    /// `Event::ContainersStarted`: returns true when the pod became Running.
    pub fn on_containers_started(&mut self, cluster: &mut ClusterState, pod: PodId, ctx: &mut Ctx) -> bool {
        let p = cluster.pod(pod);
        // A pod bound to a node that has since failed never starts.
        if p.phase != PodPhase::Bound || p.node.is_some_and(|n| !cluster.node(n).up) {
            return false;
        }
        cluster.mark_running(pod, ctx.now);
        if let Some(d) = cluster.pod(pod).run_for {
            ctx.after(d, Event::PodCompleted(pod));
        }
        self.arm_crash(cluster, pod, ctx);
        true
    }

    /// A pod that was already Running when the run began (an initial bare pod): its
    /// container crashes, if its template has them, start from now.
    pub fn adopt_running(&mut self, cluster: &ClusterState, pod: PodId, ctx: &mut Ctx) {
        self.arm_crash(cluster, pod, ctx);
    }

    /// `Event::PodCompleted`: returns true when the pod Succeeded (it may have been
    /// deleted meanwhile).
    pub fn on_completed(&mut self, cluster: &mut ClusterState, pod: PodId, ctx: &mut Ctx) -> bool {
        let p = cluster.pod(pod);
        if p.phase != PodPhase::Running || p.node.is_some_and(|n| !cluster.node(n).up) {
            return false;
        }
        cluster.finish_pod(pod, PodPhase::Succeeded, ctx.now);
        true
    }
}

/// CrashLoopBackOff, upstream kubelet: the restart delay starts at 10 s and doubles up to
/// 5 min (`pkg/kubelet/kubelet.go`: `backOffPeriod`, `MaxContainerBackOff`), and is reset
/// once a container has run for 10 minutes.
pub const CRASH_BACKOFF_INITIAL: SimDuration = SimDuration::from_secs(10);
pub const CRASH_BACKOFF_MAX: SimDuration = SimDuration::from_secs(300);
pub const CRASH_BACKOFF_RESET_AFTER: SimDuration = SimDuration::from_secs(600);

/// Crash state of one pod's container.
#[derive(Clone, Copy, Debug, Default)]
struct CrashState {
    /// Starts of the container so far (events carry it; stale ones are ignored).
    run: u32,
    restarts: u32,
    backoff: SimDuration,
    started_at: SimTime,
    /// In CrashLoopBackOff (not Ready).
    down: bool,
}

impl Kubelet {
    fn crash_state(&mut self, pod: PodId) -> &mut CrashState {
        self.crash.entry(pod).or_default()
    }

    /// Drops the records of a pod whose storage was released.
    pub fn forget(&mut self, pod: PodId) {
        self.crash.remove(&pod);
    }

    /// Schedules the next crash of a pod whose container just (re)started.
    fn arm_crash(&mut self, cluster: &ClusterState, pod: PodId, ctx: &mut Ctx) {
        let t = cluster.pod(pod).template.index();
        let Some(Some(sampler)) = self.crash_samplers.get(t) else { return };
        let after = sampler.sample(&mut self.crash_rng);
        let now = ctx.now;
        let st = self.crash_state(pod);
        st.run += 1;
        st.started_at = now;
        st.down = false;
        let run = st.run;
        ctx.after(after, Event::ContainerCrash { pod, run });
    }

    /// `Event::ContainerCrash`: returns true when the container crashed (the pod is no
    /// longer Ready until its restart).
    pub fn on_crash(&mut self, cluster: &ClusterState, pod: PodId, run: u32, ctx: &mut Ctx) -> bool {
        let p = cluster.pod(pod);
        let alive = p.phase == PodPhase::Running && p.node.is_some_and(|n| cluster.node(n).up);
        let now = ctx.now;
        if !alive {
            return false;
        }
        let st = self.crash_state(pod);
        if st.run != run || st.down {
            return false;
        }
        st.down = true;
        st.restarts += 1;
        st.backoff = if st.backoff == SimDuration::ZERO
            || now.saturating_since(st.started_at) >= CRASH_BACKOFF_RESET_AFTER
        {
            CRASH_BACKOFF_INITIAL
        } else {
            (st.backoff.saturating_mul(2)).min(CRASH_BACKOFF_MAX)
        };
        let delay = st.backoff;
        self.restarts += 1;
        ctx.after(delay, Event::ContainerRestart { pod, run });
        true
    }

    /// `Event::ContainerRestart`: returns true when the container is running (and the pod
    /// Ready) again.
    pub fn on_restart(&mut self, cluster: &ClusterState, pod: PodId, run: u32, ctx: &mut Ctx) -> bool {
        let p = cluster.pod(pod);
        let alive = p.phase == PodPhase::Running && p.node.is_some_and(|n| cluster.node(n).up);
        if !alive {
            return false;
        }
        let st = self.crash_state(pod);
        if st.run != run || !st.down {
            return false;
        }
        self.arm_crash(cluster, pod, ctx);
        true
    }

    /// True while the pod's container is in CrashLoopBackOff.
    pub fn is_crashed(&self, pod: PodId) -> bool {
        self.crash.get(&pod).is_some_and(|s| s.down)
    }
}
