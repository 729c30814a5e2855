//! Builders shared by the plugins' table tests, mirroring the upstream test helpers
//! (`st.MakePod()`, `makeNode`, toleration literals).

use crate::cluster::{PodRequests, Resources, TaintEffect, Toleration, TolerationOperator};

/// One container's requests: (cpu milli, memory bytes, gpu milli); `None` = not specified.
pub type Container = (Option<i64>, Option<i64>, i64);

/// One `nvidia.com/gpu` (also the upstream tests' extended resource `abc.com/xyz`).
pub const GPU: i64 = 1000;

/// `makeNode(name, milliCPU, memory, scalar)` plus the pods already bound to it.
pub struct Node {
    pub alloc: Resources,
    pub pods: &'static [&'static [Container]],
}

pub const fn node(cpu: i64, mem: i64, gpu: i64, pods: &'static [&'static [Container]]) -> Node {
    Node { alloc: Resources::new(cpu, mem, gpu, 110), pods }
}

/// Sum of the requests of the pods on a node (`NodeInfo.Requested` / `NonZeroRequested`).
pub fn node_requested(pods: &[&[Container]]) -> PodRequests {
    let mut out = PodRequests::default();
    for p in pods {
        let one = PodRequests::from_containers(p);
        out.actual += one.actual;
        out.non_zero += one.non_zero;
    }
    out
}

pub fn tol(key: &str, op: TolerationOperator, value: &str, effect: Option<TaintEffect>) -> Toleration {
    Toleration {
        key: key.to_string(),
        operator: op,
        value: value.to_string(),
        effect,
        toleration_seconds: None,
    }
}
