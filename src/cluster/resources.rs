//! Resource vectors in the units Kubernetes accounts in: integer millicores, bytes, GPU
//! milli-units (1 GPU = 1000) and a pod count. Integer arithmetic only, like the scheduler.

use std::ops::{Add, AddAssign, Sub, SubAssign};

/// Upstream `DefaultMilliCPURequest`: a container that does not specify a CPU request
/// counts as 100m for scoring (`kubernetes/kubernetes:pkg/scheduler/util/pod_resources.go`).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Upstream `DefaultMemoryRequest`: 200 MiB for a container without a memory request.
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// A resource vector. `pods` is the pod-count resource (`maxPods` on the node side, 1 per
/// pod on the pod side).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Resources {
    pub cpu_milli: i64,
    pub mem_bytes: i64,
    pub gpu_milli: i64,
    pub pods: i64,
}

/// The resources the scheduler's scorers know by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ResourceName {
    Cpu,
    Memory,
    Gpu,
}

impl Resources {
    pub const ZERO: Resources = Resources { cpu_milli: 0, mem_bytes: 0, gpu_milli: 0, pods: 0 };

    pub const fn new(cpu_milli: i64, mem_bytes: i64, gpu_milli: i64, pods: i64) -> Self {
        Resources { cpu_milli, mem_bytes, gpu_milli, pods }
    }

    /// The amount of one named resource.
    #[inline]
    pub fn get(&self, r: ResourceName) -> i64 {
        match r {
            ResourceName::Cpu => self.cpu_milli,
            ResourceName::Memory => self.mem_bytes,
            ResourceName::Gpu => self.gpu_milli,
        }
    }

    /// True when every component of `self` is at most the one of `other`.
    #[inline]
    pub fn fits_in(&self, other: &Resources) -> bool {
        self.cpu_milli <= other.cpu_milli
            && self.mem_bytes <= other.mem_bytes
            && self.gpu_milli <= other.gpu_milli
            && self.pods <= other.pods
    }
}

impl Add for Resources {
    type Output = Resources;
    #[inline]
    fn add(self, o: Resources) -> Resources {
        Resources {
            cpu_milli: self.cpu_milli + o.cpu_milli,
            mem_bytes: self.mem_bytes + o.mem_bytes,
            gpu_milli: self.gpu_milli + o.gpu_milli,
            pods: self.pods + o.pods,
        }
    }
}

impl Sub for Resources {
    type Output = Resources;
    #[inline]
    fn sub(self, o: Resources) -> Resources {
        Resources {
            cpu_milli: self.cpu_milli - o.cpu_milli,
            mem_bytes: self.mem_bytes - o.mem_bytes,
            gpu_milli: self.gpu_milli - o.gpu_milli,
            pods: self.pods - o.pods,
        }
    }
}

impl AddAssign for Resources {
    #[inline]
    fn add_assign(&mut self, o: Resources) {
        *self = *self + o;
    }
}

impl SubAssign for Resources {
    #[inline]
    fn sub_assign(&mut self, o: Resources) {
        *self = *self - o;
    }
}

/// A pod's requests as the scheduler sees them: the actual requests (used by
/// NodeResourcesFit's filter and by BalancedAllocation) and the "non-zero" requests where a
/// missing cpu or memory request counts as the upstream default (used by the Least/Most
/// allocated scorers). Source: `kubernetes/kubernetes:pkg/scheduler/framework/plugins/noderesources/resource_allocation.go`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PodRequests {
    pub actual: Resources,
    pub non_zero: Resources,
}

impl PodRequests {
    /// Requests of one container; `None` means "not specified" (the non-zero default
    /// applies), `Some(0)` is an explicit zero and stays zero.
    pub fn from_container(cpu_milli: Option<i64>, mem_bytes: Option<i64>, gpu_milli: i64) -> Self {
        let actual = Resources::new(cpu_milli.unwrap_or(0), mem_bytes.unwrap_or(0), gpu_milli, 1);
        let non_zero = Resources::new(
            cpu_milli.unwrap_or(DEFAULT_MILLI_CPU_REQUEST),
            mem_bytes.unwrap_or(DEFAULT_MEMORY_REQUEST),
            gpu_milli,
            1,
        );
        PodRequests { actual, non_zero }
    }

    /// Sum of several containers' requests (pod count stays 1).
    pub fn from_containers(containers: &[(Option<i64>, Option<i64>, i64)]) -> Self {
        let mut out = PodRequests::default();
        for &(c, m, g) in containers {
            let one = PodRequests::from_container(c, m, g);
            out.actual += one.actual;
            out.non_zero += one.non_zero;
        }
        out.actual.pods = 1;
        out.non_zero.pods = 1;
        out
    }

    /// True when the pod requests nothing at all ("best-effort" for BalancedAllocation).
    pub fn is_best_effort(&self) -> bool {
        self.actual.cpu_milli == 0 && self.actual.mem_bytes == 0 && self.actual.gpu_milli == 0
    }
}
