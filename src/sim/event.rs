//! Everything that can happen in a run: one closed enum. Each variant names the model
//! that owns it; `Simulation::dispatch` (in `mod.rs`) routes it there.

use crate::cluster::{ChurnId, DeploymentId, NodeId, PodId, TraceId};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// workload: a Deployment is created and its controller starts reconciling.
    DeploymentStart(DeploymentId),
    /// workload: the paced creation of a Deployment's next pod (`createRate`).
    DeploymentCreatePod(DeploymentId),
    /// workload: a Deployment's replica count changes (`deployments[].scale`).
    DeploymentScale { deployment: DeploymentId, replicas: u32 },
    /// workload: rolling update number `index` of a Deployment begins (`deployments[].rollouts`).
    DeploymentRollout { deployment: DeploymentId, index: u32 },
    /// workload: the DaemonSets exist (start of the run): a pod for every node that should
    /// run one.
    DaemonSetsStart,
    /// workload: the next pod of a churn generator arrives.
    ChurnArrival(ChurnId),
    /// workload: the next rows of a pod trace arrive (`workload::replay`).
    TraceArrival(TraceId),
    /// scheduler: the scheduler is free and takes the next pod from its queue.
    ScheduleNext,
    /// scheduler: a pod's backoff expires.
    BackoffExpired,
    /// scheduler: the periodic flush of pods that stayed unschedulable too long.
    FlushUnschedulable,
    /// scheduler: the binding of a pod to a node completes.
    Bind { pod: PodId, node: NodeId },
    /// kubelet: image pulled and containers started; the pod is Running.
    ContainersStarted(PodId),
    /// kubelet: the pod's containers exited successfully.
    PodCompleted(PodId),
    /// kubelet: a Terminating pod's containers exited (or its grace period ran out and they
    /// were killed): the pod object is deleted and its node's resources are freed.
    PodTerminated(PodId),
    /// kubelet: the container of a running pod crashes (`run` counts its starts).
    ContainerCrash { pod: PodId, run: u32 },
    /// kubelet: CrashLoopBackOff is over; the container starts again.
    ContainerRestart { pod: PodId, run: u32 },
    /// metrics: a row of `timeseries.csv`.
    Sample,
    /// traffic: metrics-server scrapes pod CPU usage.
    MetricsScrape,
    /// hpa: every HorizontalPodAutoscaler syncs (every 15 s).
    HpaSync,
    /// faults: a node fails (`random`: from its pool's failure process).
    NodeFail { node: NodeId, random: bool },
    /// faults: a node is repaired (`random`: from its pool's failure process).
    NodeRepair { node: NodeId, random: bool },
    /// node lifecycle: the controller notices failure number `epoch` of a node.
    NodeDetected { node: NodeId, epoch: u32 },
    /// node lifecycle: a zone's rate-limited NoExecute taint queue may proceed.
    ZoneTaintPass { zone: u16 },
    /// maintenance: `kubectl drain` of a node begins (cordon).
    DrainStart { node: NodeId },
    /// maintenance: the drain tries to evict the node's remaining pods (retried every 5 s).
    DrainStep { node: NodeId },
    /// maintenance: the node is uncordoned.
    Uncordon { node: NodeId },
    /// control plane: an API request someone waits for completed.
    ApiDone(crate::controlplane::Then),
    /// cluster autoscaler: one loop (every `scan-interval`).
    CaScan,
    /// cluster autoscaler: a requested node of node group `group` registers, Ready.
    CaNodeRegistered { group: u32 },
    /// cluster autoscaler: a requested node of `group` did not come up in time.
    CaProvisionTimeout { group: u32 },
    /// cluster autoscaler: evict what can be evicted from a node being deleted (every 5 s).
    CaDrainStep { node: NodeId },
    /// node lifecycle: a pod's toleration of the unreachable taint ran out.
    EvictPod { pod: PodId, node: NodeId, epoch: u32 },
    /// faults: control-plane fault `fault` (index in `faults`) begins or ends.
    ControlPlaneFault { fault: u16, begin: bool },
    /// node lifecycle: the first monitor pass after a control-plane fault looks at leases.
    LeaseCheck,
    /// control plane: the misbehaving client sends its next LIST of every pod.
    MisbehavingList,
}
