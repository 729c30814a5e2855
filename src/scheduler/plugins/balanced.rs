//! NodeResourcesBalancedAllocation (the ≤ v1.35 formula): favours nodes whose requested
//! fractions of the scored resources are close to each other after placing the pod, and
//! skips best-effort pods at PreScore. Sources under
//! `kubernetes/kubernetes:pkg/scheduler/framework/plugins/noderesources/`:
//! `balanced_allocation.go` (`PreScore`, `balancedResourceScorer`) and
//! `resource_allocation.go` (`score`, `calculateResourceAllocatableRequest`,
//! `isBestEffortPod`).
//!
//! Allocation-free: the fractions are computed on the fly, twice when more than two
//! resources are scored.

use super::{MAX_NODE_SCORE, is_extended_resource};
use crate::cluster::{PodRequests, ResourceName, Resources};

/// Upstream default `NodeResourcesBalancedAllocationArgs.Resources`: cpu and memory
/// (`kubernetes/kubernetes:pkg/scheduler/apis/config/v1/defaults.go`).
pub const DEFAULT_RESOURCES: [ResourceName; 2] = [ResourceName::Cpu, ResourceName::Memory];

/// PreScore returns Skip for a best-effort pod, so the plugin does not score it
/// (`balanced_allocation.go` `PreScore`, issue kubernetes/kubernetes#129138), with the default
/// resources (cpu, memory). Same as [`skip_for`] with [`DEFAULT_RESOURCES`].
pub fn skip(pod: &PodRequests) -> bool {
    skip_for(pod, &DEFAULT_RESOURCES)
}

/// Upstream `isBestEffortPod` over `calculatePodResourceRequestList(pod, resources)`
/// (`resource_allocation.go`): true when the pod's actual request of every *configured*
/// resource is 0. With the default resources a pod that only requests gpu is best-effort.
pub fn skip_for(pod: &PodRequests, resources: &[ResourceName]) -> bool {
    resources.iter().all(|&r| pod.actual.get(r) == 0)
}

/// Requested fraction of one resource, or `None` when the resource is not scored on this
/// node. `resource_allocation.go` `calculateResourceAllocatableRequest` returns (0, 0) for
/// an extended resource the pod does not request, `score` leaves entries with allocatable 0
/// empty, and `balancedResourceScorer` skips them; the fraction is capped at 1.
#[inline]
fn fraction(
    r: ResourceName,
    pod_actual: &Resources,
    node_requested: &Resources,
    allocatable: &Resources,
) -> Option<f64> {
    let pod_request = pod_actual.get(r);
    if pod_request == 0 && is_extended_resource(r) {
        return None;
    }
    let alloc = allocatable.get(r);
    if alloc == 0 {
        return None;
    }
    let requested = node_requested.get(r) + pod_request;
    let f = requested as f64 / alloc as f64;
    Some(if f > 1.0 { 1.0 } else { f })
}

/// NodeResourcesBalancedAllocation score of one node, 0..=100 (`balancedResourceScorer`,
/// `kubernetes/kubernetes:pkg/scheduler/framework/plugins/noderesources/balanced_allocation.go`,
/// ≤ v1.35).
///
/// - `pod_actual`: the pod's actual requests (`useRequested = true`, no non-zero defaults).
/// - `node_requested`: sum of the actual requests of the pods already on the node.
/// - `allocatable`: the node's allocatable resources.
/// - `resources`: the configured resources, in order ([`DEFAULT_RESOURCES`] by default).
///
/// `f_i = min((node_i + pod_i) / alloc_i, 1)` over the scored resources;
/// `std = |f_1 - f_2| / 2` for two, `sqrt(Σ (f_i - mean)^2 / n)` for more, 0 for one or none;
/// score = `int64((1 - std) * 100)` (truncation).
pub fn score(
    pod_actual: &Resources,
    node_requested: &Resources,
    allocatable: &Resources,
    resources: &[ResourceName],
) -> i64 {
    let mut n: usize = 0;
    let mut total_fraction = 0.0_f64;
    let mut first = 0.0_f64;
    let mut second = 0.0_f64;
    for &r in resources {
        if let Some(f) = fraction(r, pod_actual, node_requested, allocatable) {
            match n {
                0 => first = f,
                1 => second = f,
                _ => {}
            }
            total_fraction += f;
            n += 1;
        }
    }

    // balanced_allocation.go: "For most cases, resources are limited to cpu and memory, the
    // std could be simplified to std := (fraction1-fraction2)/2; len(fractions) > 2:
    // calculate std based on the well-known formula - root square of
    // Σ((fraction(i)-mean)^2)/len(fractions). Otherwise, set the std to zero is enough."
    let std = if n == 2 {
        ((first - second) / 2.0).abs()
    } else if n > 2 {
        let mean = total_fraction / n as f64;
        let mut sum = 0.0_f64;
        for &r in resources {
            if let Some(f) = fraction(r, pod_actual, node_requested, allocatable) {
                sum += (f - mean) * (f - mean);
            }
        }
        (sum / n as f64).sqrt()
    } else {
        0.0
    };

    // `int64((1 - std) * float64(MaxNodeScore))`: Go's conversion truncates toward zero.
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::scheduler::plugins::test_support::{Container, GPU, Node, node};

    /// `st.MakePod().Obj()`: no containers.
    const EMPTY: &[Container] = &[];
    /// `cpuAndMemory` ("pod A"): {1000m, 2000} + {2000m, 3000}.
    const CPU_AND_MEMORY: &[Container] = &[(Some(1000), Some(2000), 0), (Some(2000), Some(3000), 0)];
    /// `cpuOnly`: {1000m, 0} + {2000m, 0}.
    const CPU_ONLY: &[Container] = &[(Some(1000), Some(0), 0), (Some(2000), Some(0), 0)];
    /// `cpuAndMemoryAndGPU`: {1000m, 2000} + {2000m, 3000, 3 nvidia.com/gpu}.
    const CPU_AND_MEMORY_AND_GPU: &[Container] =
        &[(Some(1000), Some(2000), 0), (Some(2000), Some(3000), 3 * GPU)];

    const CPU_MEM_GPU: &[ResourceName] = &[ResourceName::Cpu, ResourceName::Memory, ResourceName::Gpu];

    fn node_requested(pods: &[&[Container]]) -> Resources {
        crate::scheduler::plugins::test_support::node_requested(pods).actual
    }

    /// Upstream `TestNodeResourcesBalancedAllocation`
    /// (`kubernetes/kubernetes:pkg/scheduler/framework/plugins/noderesources/balanced_allocation_test.go`,
    /// ≤ v1.35 expectations). The "if PreScore not called" duplicates and the DRA rows are
    /// left out (DRA is not modelled).
    #[test]
    fn balanced_allocation_table() {
        struct Row {
            name: &'static str,
            pod: &'static [Container],
            nodes: [Node; 2],
            resources: &'static [ResourceName],
            want: [i64; 2],
        }
        let rows = [
            Row {
                // node1 .75/.5 → std .125 → 87; node2 .5/.5 → 100.
                name: "nothing scheduled, resources requested, differently sized nodes",
                pod: CPU_AND_MEMORY,
                nodes: [node(4000, 10000, 0, &[]), node(6000, 10000, 0, &[])],
                resources: &DEFAULT_RESOURCES,
                want: [87, 100],
            },
            Row {
                // node1 .6/.25 → 82; node2 .6/.5 → 95.
                name: "resources requested, pods scheduled with resources",
                pod: CPU_AND_MEMORY,
                nodes: [node(10000, 20000, 0, &[CPU_ONLY]), node(10000, 20000, 0, &[CPU_AND_MEMORY])],
                resources: &DEFAULT_RESOURCES,
                want: [82, 95],
            },
            Row {
                // node2 .6/.2 → 80.
                name: "resources requested, pods scheduled with resources, differently sized nodes",
                pod: CPU_AND_MEMORY,
                nodes: [node(10000, 20000, 0, &[CPU_ONLY]), node(10000, 50000, 0, &[CPU_AND_MEMORY])],
                resources: &DEFAULT_RESOURCES,
                want: [82, 80],
            },
            Row {
                // node1 1/0 → 50; node2 1/.5 → 75.
                name: "requested resources at node capacity",
                pod: CPU_ONLY,
                nodes: [node(6000, 10000, 0, &[CPU_ONLY]), node(6000, 10000, 0, &[CPU_AND_MEMORY])],
                resources: &DEFAULT_RESOURCES,
                want: [50, 75],
            },
            Row {
                // node1 .857/.125/.5 → std .2989 → 70; node2 .857/.125/.125 → std .3451 → 65.
                name: "include scalar resource on a node for balanced resource allocation",
                pod: &[(None, Some(0), GPU)],
                nodes: [
                    node(3500, 40000, 8 * GPU, &[CPU_AND_MEMORY_AND_GPU]),
                    node(3500, 40000, 8 * GPU, &[CPU_AND_MEMORY]),
                ],
                resources: CPU_MEM_GPU,
                want: [70, 65],
            },
            Row {
                // gpu not requested → skipped on both: .857/.125 → 63.
                name: "node without the scalar resource should skip the scalar resource",
                pod: CPU_AND_MEMORY,
                nodes: [node(3500, 40000, 8 * GPU, &[]), node(3500, 40000, 0, &[])],
                resources: CPU_MEM_GPU,
                want: [63, 63],
            },
        ];
        for row in &rows {
            let pod = PodRequests::from_containers(row.pod);
            assert!(!skip_for(&pod, row.resources), "{}: must not be skipped", row.name);
            for (i, n) in row.nodes.iter().enumerate() {
                let got = score(&pod.actual, &node_requested(n.pods), &n.alloc, row.resources);
                assert_eq!(got, row.want[i], "`{}`: node{}", row.name, i + 1);
            }
        }
    }

    /// "nothing scheduled, nothing requested, skip in PreScore" and `isBestEffortPod` over
    /// the configured resources.
    #[test]
    fn skip_table() {
        struct Row {
            name: &'static str,
            pod: &'static [Container],
            resources: &'static [ResourceName],
            want: bool,
        }
        let rows = [
            Row { name: "no containers", pod: EMPTY, resources: &DEFAULT_RESOURCES, want: true },
            Row {
                name: "containers without requests (non-zero defaults do not count)",
                pod: &[(None, None, 0), (None, None, 0)],
                resources: &DEFAULT_RESOURCES,
                want: true,
            },
            Row {
                name: "explicit zeros",
                pod: &[(Some(0), Some(0), 0)],
                resources: &DEFAULT_RESOURCES,
                want: true,
            },
            Row {
                name: "cpu only",
                pod: &[(Some(100), None, 0)],
                resources: &DEFAULT_RESOURCES,
                want: false,
            },
            Row {
                name: "memory only",
                pod: &[(None, Some(1), 0)],
                resources: &DEFAULT_RESOURCES,
                want: false,
            },
            Row {
                name: "gpu only, gpu not a configured resource",
                pod: &[(None, None, GPU)],
                resources: &DEFAULT_RESOURCES,
                want: true,
            },
            Row {
                name: "gpu only, gpu configured",
                pod: &[(None, None, GPU)],
                resources: CPU_MEM_GPU,
                want: false,
            },
        ];
        for row in &rows {
            let pod = PodRequests::from_containers(row.pod);
            assert_eq!(skip_for(&pod, row.resources), row.want, "{}", row.name);
            if row.resources == DEFAULT_RESOURCES.as_slice() {
                assert_eq!(skip(&pod), row.want, "{} (skip)", row.name);
            }
        }
    }

    #[test]
    fn one_or_no_scored_resource_gives_max() {
        let pod = Resources::new(3000, 0, 0, 1);
        // Only cpu has allocatable: one fraction → std 0 → 100.
        assert_eq!(score(&pod, &Resources::ZERO, &Resources::new(4000, 0, 0, 110), &DEFAULT_RESOURCES), 100);
        // Nothing allocatable.
        assert_eq!(score(&pod, &Resources::ZERO, &Resources::ZERO, &DEFAULT_RESOURCES), 100);
    }

    #[test]
    fn fraction_is_capped_at_one() {
        // cpu 1500/1000 → 1 (not 1.5), memory 500/1000 → .5: std .25 → 75 (uncapped: 50).
        let pod = Resources::new(500, 500, 0, 1);
        let node = Resources::new(1000, 0, 0, 1);
        let alloc = Resources::new(1000, 1000, 0, 110);
        assert_eq!(score(&pod, &node, &alloc, &DEFAULT_RESOURCES), 75);
    }
}
