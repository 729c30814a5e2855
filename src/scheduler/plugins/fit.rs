//! NodeResourcesFit: the resource filter (does the pod's request fit in what is left of the
//! node's allocatable?) and the resource score with the LeastAllocated and MostAllocated
//! strategies. Sources under `kubernetes/kubernetes:pkg/scheduler/framework/plugins/noderesources/`:
//! `fit.go` (`fitsRequest`), `resource_allocation.go` (`score`,
//! `calculateResourceAllocatableRequest`), `least_allocated.go` and `most_allocated.go`.
//!
//! All functions are allocation-free: the score runs for every feasible node of every pod.

use super::{MAX_NODE_SCORE, is_extended_resource};
use crate::cluster::{ResourceName, Resources};

/// Upstream `fitsRequest` (`kubernetes/kubernetes:pkg/scheduler/framework/plugins/noderesources/fit.go`).
///
/// - `pod`: the pod's actual requests (not the non-zero ones); `pod.pods` is ignored, the pod
///   always counts as one pod.
/// - `node_allocatable`: allocatable resources; `pods` is the node's max pod count.
/// - `node_requested`: sum of the actual requests of the pods already on the node; `pods` is
///   the number of those pods.
///
/// The pod fits when `pods_on_node + 1 <= allowed pods` and, for each of cpu, memory and gpu
/// that the pod requests (a zero request is not checked), `request <= allocatable - requested`.
pub fn fits(pod: &Resources, node_allocatable: &Resources, node_requested: &Resources) -> bool {
    // fit.go: `if len(nodeInfo.GetPods())+1 > allowedPodNumber` → "Too many pods".
    if node_requested.pods + 1 > node_allocatable.pods {
        return false;
    }
    // fit.go: a pod that requests nothing fits once the pod count fits.
    if pod.cpu_milli == 0 && pod.mem_bytes == 0 && pod.gpu_milli == 0 {
        return true;
    }
    // fit.go: `podRequest.X > 0 && podRequest.X > (allocatable.X - requested.X)` → insufficient.
    if pod.cpu_milli > 0 && pod.cpu_milli > node_allocatable.cpu_milli - node_requested.cpu_milli {
        return false;
    }
    if pod.mem_bytes > 0 && pod.mem_bytes > node_allocatable.mem_bytes - node_requested.mem_bytes {
        return false;
    }
    // fit.go, scalar resources: `if rQuant == 0 { continue }`, then the same comparison
    // (a node without the resource has allocatable 0).
    if pod.gpu_milli > 0 && pod.gpu_milli > node_allocatable.gpu_milli - node_requested.gpu_milli {
        return false;
    }
    true
}

/// NodeResourcesFit scoring strategy (`config.ScoringStrategyType`). Upstream's default is
/// LeastAllocated (`kubernetes/kubernetes:pkg/scheduler/apis/config/v1/defaults.go`).
/// RequestedToCapacityRatio is not modelled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ScoringStrategy {
    #[default]
    LeastAllocated,
    MostAllocated,
}

/// One entry of `scoringStrategy.resources` (`config.ResourceSpec`): a resource and its
/// weight in the node score. Upstream validates weights to 1..=100.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceWeight {
    pub name: ResourceName,
    pub weight: i64,
}

/// Upstream default scoring resources: cpu 1, memory 1
/// (`kubernetes/kubernetes:pkg/scheduler/apis/config/v1/defaults.go`, `defaultResourceSpec`).
pub fn default_resource_weights() -> [ResourceWeight; 2] {
    [
        ResourceWeight { name: ResourceName::Cpu, weight: 1 },
        ResourceWeight { name: ResourceName::Memory, weight: 1 },
    ]
}

/// NodeResourcesFit score of one node, 0..=100.
///
/// - `pod_non_zero`: the pod's non-zero requests (`PodRequests::non_zero`: a container that
///   does not specify cpu/memory counts as 100m / 200Mi).
/// - `node_non_zero_requested`: sum of the non-zero requests of the pods already on the node
///   (upstream `NonZeroRequested`; its gpu component equals the actual gpu requests, as
///   upstream uses `Requested` for scalar resources).
/// - `allocatable`: the node's allocatable resources.
/// - `weights`: the configured resources and weights, in order.
///
/// Per resource (`resource_allocation.go` `score` / `calculateResourceAllocatableRequest`):
/// an extended resource (gpu) that the pod does not request is left out, and a resource with
/// allocatable 0 is left out (its weight is not added); otherwise
/// `requested = node + pod` and the strategy's per-resource score is weighted. The node score
/// is `Σ w_i * s_i / Σ w_i` in integer arithmetic, 0 if no resource is scored.
pub fn score(
    strategy: ScoringStrategy,
    pod_non_zero: &Resources,
    node_non_zero_requested: &Resources,
    allocatable: &Resources,
    weights: &[ResourceWeight],
) -> i64 {
    let mut node_score: i64 = 0;
    let mut weight_sum: i64 = 0;
    for w in weights {
        let pod_request = pod_non_zero.get(w.name);
        // resource_allocation.go calculateResourceAllocatableRequest: "If it's an extended
        // resource, and the pod doesn't request it. We return (0, 0) as an implication to
        // bypass scoring on this resource."
        if pod_request == 0 && is_extended_resource(w.name) {
            continue;
        }
        let alloc = allocatable.get(w.name);
        // resource_allocation.go score: "Only fill the extended resource entry when it's
        // non-zero"; least_allocated.go / most_allocated.go: `if allocable[i] == 0 { continue }`.
        if alloc == 0 {
            continue;
        }
        let requested = node_non_zero_requested.get(w.name) + pod_request;
        let resource_score = match strategy {
            ScoringStrategy::LeastAllocated => least_requested_score(requested, alloc),
            ScoringStrategy::MostAllocated => most_requested_score(requested, alloc),
        };
        node_score += resource_score * w.weight;
        weight_sum += w.weight;
    }
    if weight_sum == 0 {
        return 0;
    }
    node_score / weight_sum
}

/// `leastRequestedScore` (`kubernetes/kubernetes:pkg/scheduler/framework/plugins/noderesources/least_allocated.go`):
/// `(capacity - requested) * 100 / capacity`, 0 if capacity is 0 or requested exceeds it.
#[inline]
fn least_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 || requested > capacity {
        return 0;
    }
    (capacity - requested) * MAX_NODE_SCORE / capacity
}

/// `mostRequestedScore` (`kubernetes/kubernetes:pkg/scheduler/framework/plugins/noderesources/most_allocated.go`):
/// `min(requested, capacity) * 100 / capacity`, 0 if capacity is 0 ("requested might be
/// greater than capacity because pods with no requests get minimum values").
#[inline]
fn most_requested_score(requested: i64, capacity: i64) -> i64 {
    if capacity == 0 {
        return 0;
    }
    let requested = if requested > capacity { capacity } else { requested };
    requested * MAX_NODE_SCORE / capacity
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{DEFAULT_MEMORY_REQUEST, PodRequests};

    use crate::scheduler::plugins::test_support::{Container, GPU, Node, node, node_requested};

    const MI: i64 = 1024 * 1024;

    // Pods of the upstream tests. `st.MakePod().Obj()` has *no* containers, so its non-zero
    // requests are 0 as well; `st.MakePod().Container("c")` has one container without
    // requests, which gets the 100m / 200Mi defaults.
    const EMPTY: &[Container] = &[];
    const ONE_BEST_EFFORT_CONTAINER: &[Container] = &[(None, None, 0)];
    /// Pod "A": {1000m, 2000} + {2000m, 3000}.
    const A: &[Container] = &[(Some(1000), Some(2000), 0), (Some(2000), Some(3000), 0)];
    const CPU3000_MEM0: &[Container] = &[(Some(3000), Some(0), 0)];
    const CPU3000_MEM5000: &[Container] = &[(Some(3000), Some(5000), 0)];

    const CPU: ResourceName = ResourceName::Cpu;
    const MEM: ResourceName = ResourceName::Memory;
    const EXT: ResourceName = ResourceName::Gpu;
    const fn w(name: ResourceName, weight: i64) -> ResourceWeight {
        ResourceWeight { name, weight }
    }
    /// `defaultResources`.
    const DEFAULT: &[ResourceWeight] = &[w(CPU, 1), w(MEM, 1)];
    const MEM2_CPU1: &[ResourceWeight] = &[w(MEM, 2), w(CPU, 1)];
    /// `extendedResourceSet`: cpu 1, memory 1, abc.com/xyz 1.
    const EXT_SET: &[ResourceWeight] = &[w(CPU, 1), w(MEM, 1), w(EXT, 1)];
    const EXT2_CPU1_MEM1: &[ResourceWeight] = &[w(EXT, 2), w(CPU, 1), w(MEM, 1)];

    struct Row {
        name: &'static str,
        pod: &'static [Container],
        nodes: [Node; 2],
        weights: &'static [ResourceWeight],
        want: [i64; 2],
    }

    fn run(strategy: ScoringStrategy, rows: &[Row]) {
        for row in rows {
            let pod = PodRequests::from_containers(row.pod);
            for (i, n) in row.nodes.iter().enumerate() {
                let requested = node_requested(n.pods);
                let got = score(strategy, &pod.non_zero, &requested.non_zero, &n.alloc, row.weights);
                assert_eq!(got, row.want[i], "{strategy:?} `{}`: node{}", row.name, i + 1);
            }
        }
    }

    /// Upstream `TestLeastAllocatedScoringStrategy`
    /// (`kubernetes/kubernetes:pkg/scheduler/framework/plugins/noderesources/least_allocated_test.go`).
    /// Upstream gives capacities like `"cpu": "4000"` (cores); they are used here as
    /// millicores, which scales every cpu value by the same factor and changes no result.
    /// The rows that only test argument validation or a nil resource list are left out.
    #[test]
    fn least_allocated_table() {
        let rows = [
            Row {
                name: "nothing scheduled, nothing requested",
                pod: EMPTY,
                nodes: [node(4000, 10000, 0, &[]), node(4000, 10000, 0, &[])],
                weights: DEFAULT,
                want: [100, 100],
            },
            Row {
                name: "nothing scheduled, resources requested, differently sized nodes",
                pod: A,
                nodes: [node(4000, 10000, 0, &[]), node(6000, 10000, 0, &[])],
                weights: DEFAULT,
                want: [37, 50],
            },
            Row {
                name: "no resources requested, pods scheduled",
                pod: EMPTY,
                nodes: [node(4000, 10000, 0, &[EMPTY, EMPTY]), node(4000, 10000, 0, &[EMPTY, EMPTY])],
                weights: DEFAULT,
                want: [100, 100],
            },
            Row {
                name: "no resources requested, pods scheduled with resources",
                pod: EMPTY,
                nodes: [
                    node(10000, 20000, 0, &[CPU3000_MEM0, CPU3000_MEM0]),
                    node(10000, 20000, 0, &[CPU3000_MEM0, CPU3000_MEM5000]),
                ],
                weights: DEFAULT,
                want: [70, 57],
            },
            Row {
                name: "resources requested, pods scheduled with resources",
                pod: A,
                nodes: [node(10000, 20000, 0, &[CPU3000_MEM0]), node(10000, 20000, 0, &[CPU3000_MEM5000])],
                weights: DEFAULT,
                want: [57, 45],
            },
            Row {
                name: "resources requested, pods scheduled with resources, differently sized nodes",
                pod: A,
                nodes: [node(10000, 20000, 0, &[CPU3000_MEM0]), node(10000, 50000, 0, &[CPU3000_MEM5000])],
                weights: DEFAULT,
                want: [57, 60],
            },
            Row {
                name: "requested resources exceed node capacity",
                pod: CPU3000_MEM0,
                nodes: [node(4000, 10000, 0, &[CPU3000_MEM0]), node(4000, 10000, 0, &[CPU3000_MEM5000])],
                weights: DEFAULT,
                want: [50, 25],
            },
            Row {
                name: "zero node resources, pods scheduled with resources",
                pod: EMPTY,
                nodes: [node(0, 0, 0, &[CPU3000_MEM0]), node(0, 0, 0, &[CPU3000_MEM5000])],
                weights: DEFAULT,
                want: [0, 0],
            },
            Row {
                name: "nothing scheduled, different weight on cpu (1) and memory (2), differently sized nodes",
                pod: A,
                nodes: [node(4000, 10000, 0, &[]), node(6000, 10000, 0, &[])],
                weights: MEM2_CPU1,
                want: [41, 50],
            },
            Row {
                name: "bypass extended resource if the pod does not request",
                pod: A,
                nodes: [node(6000, 10000, 0, &[]), node(6000, 10000, 4 * GPU, &[])],
                weights: EXT_SET,
                want: [50, 50],
            },
            Row {
                name: "honor extended resource if the pod requests",
                pod: &[(Some(3000), Some(5000), 2 * GPU)],
                nodes: [node(6000, 10000, 4 * GPU, &[]), node(6000, 10000, 10 * GPU, &[])],
                weights: EXT_SET,
                want: [50, 60],
            },
            Row {
                name: "if the node doesn't have a resource",
                pod: &[(Some(3000), Some(4000), 0)],
                nodes: [node(6000, 10000, 0, &[]), node(6000, 10000, 4 * GPU, &[])],
                weights: EXT2_CPU1_MEM1,
                want: [55, 55],
            },
        ];
        run(ScoringStrategy::LeastAllocated, &rows);
    }

    /// Upstream `TestMostAllocatedScoringStrategy`
    /// (`kubernetes/kubernetes:pkg/scheduler/framework/plugins/noderesources/most_allocated_test.go`).
    #[test]
    fn most_allocated_table() {
        let rows = [
            Row {
                name: "nothing scheduled, nothing requested",
                pod: EMPTY,
                nodes: [node(4000, 10000, 0, &[]), node(4000, 10000, 0, &[])],
                weights: DEFAULT,
                want: [0, 0],
            },
            Row {
                name: "nothing scheduled, resources requested, differently sized nodes",
                pod: A,
                nodes: [node(4000, 10000, 0, &[]), node(6000, 10000, 0, &[])],
                weights: DEFAULT,
                want: [62, 50],
            },
            Row {
                name: "no resources requested, pods scheduled with resources",
                pod: EMPTY,
                nodes: [
                    node(10000, 20000, 0, &[CPU3000_MEM0, CPU3000_MEM0]),
                    node(10000, 20000, 0, &[CPU3000_MEM0, CPU3000_MEM5000]),
                ],
                weights: DEFAULT,
                want: [30, 42],
            },
            Row {
                name: "resources requested, pods scheduled with resources",
                pod: A,
                nodes: [node(10000, 20000, 0, &[CPU3000_MEM0]), node(10000, 20000, 0, &[CPU3000_MEM5000])],
                weights: DEFAULT,
                want: [42, 55],
            },
            Row {
                name: "resources requested equal node capacity",
                pod: &[(Some(2000), Some(4000), 0), (Some(3000), Some(5000), 0)],
                nodes: [node(5000, 10000, 0, &[]), node(10000, 9000, 0, &[])],
                weights: DEFAULT,
                want: [95, 75],
            },
            Row {
                name: "nothing scheduled, different weight on cpu (1) and memory (2), differently sized nodes",
                pod: A,
                nodes: [node(4000, 10000, 0, &[]), node(6000, 10000, 0, &[])],
                weights: MEM2_CPU1,
                want: [58, 50],
            },
            Row {
                // node1: 300m capped to 250m → 100, 600Mi/1000Mi → 60; node2: 100m → 40, 200Mi → 20.
                name: "no resources requested, pods scheduled, nonzero request for resource",
                pod: ONE_BEST_EFFORT_CONTAINER,
                nodes: [
                    node(250, 1000 * MI, 0, &[ONE_BEST_EFFORT_CONTAINER, ONE_BEST_EFFORT_CONTAINER]),
                    node(250, 1000 * MI, 0, &[]),
                ],
                weights: DEFAULT,
                want: [80, 30],
            },
            Row {
                name: "bypass extended resource if the pod does not request",
                pod: A,
                nodes: [node(6000, 10000, 0, &[]), node(6000, 10000, 4 * GPU, &[])],
                weights: EXT_SET,
                want: [50, 50],
            },
            Row {
                name: "honor extended resource if the pod request",
                pod: &[(Some(3000), Some(5000), 2 * GPU)],
                nodes: [node(6000, 10000, 4 * GPU, &[]), node(6000, 10000, 10 * GPU, &[])],
                weights: EXT_SET,
                want: [50, 40],
            },
            Row {
                name: "if the node doesn't have a resource",
                pod: &[(Some(3000), Some(4000), 0)],
                nodes: [node(6000, 10000, 0, &[]), node(6000, 10000, 4 * GPU, &[])],
                weights: EXT2_CPU1_MEM1,
                want: [45, 45],
            },
        ];
        run(ScoringStrategy::MostAllocated, &rows);
    }

    #[test]
    fn non_zero_defaults_apply_per_container() {
        let p = PodRequests::from_containers(ONE_BEST_EFFORT_CONTAINER);
        assert_eq!(p.non_zero.cpu_milli, 100);
        assert_eq!(p.non_zero.mem_bytes, DEFAULT_MEMORY_REQUEST);
        assert_eq!(p.actual.cpu_milli, 0);
        let none = PodRequests::from_containers(EMPTY);
        assert_eq!(none.non_zero.cpu_milli, 0);
        assert_eq!(none.non_zero.mem_bytes, 0);
    }

    #[test]
    fn requested_gpu_on_node_without_gpu_is_skipped_not_zeroed() {
        // Upstream returns (0, 0) for a scalar resource the node does not have; the score
        // then skips it, so only cpu and memory count: cpu 50, memory 50.
        let pod = PodRequests::from_containers(&[(Some(3000), Some(5000), 2 * GPU)]);
        let alloc = Resources::new(6000, 10000, 0, 110);
        for strategy in [ScoringStrategy::LeastAllocated, ScoringStrategy::MostAllocated] {
            assert_eq!(score(strategy, &pod.non_zero, &Resources::ZERO, &alloc, EXT_SET), 50);
        }
    }

    #[test]
    fn default_weights_are_cpu_and_memory_one() {
        assert_eq!(default_resource_weights(), [w(CPU, 1), w(MEM, 1)]);
        assert_eq!(ScoringStrategy::default(), ScoringStrategy::LeastAllocated);
    }

    /// The fit filter, in the spirit of upstream `TestEnoughRequests`
    /// (`kubernetes/kubernetes:pkg/scheduler/framework/plugins/noderesources/fit_test.go`):
    /// pod count, zero-request skip, exact fit, each resource over by one, gpu.
    #[test]
    fn fits_table() {
        struct FitRow {
            name: &'static str,
            pod: Resources,
            alloc: Resources,
            requested: Resources,
            want: bool,
        }
        let r = Resources::new;
        let rows = [
            FitRow {
                name: "no resources requested always fits",
                pod: r(0, 0, 0, 1),
                alloc: r(10, 20, 0, 32),
                requested: r(10, 20, 0, 5),
                want: true,
            },
            FitRow {
                name: "zero cpu request is not checked on an overcommitted node",
                pod: r(0, 1, 0, 1),
                alloc: r(10, 20, 0, 32),
                requested: r(15, 10, 0, 5),
                want: true,
            },
            FitRow {
                name: "too many resources fails (cpu)",
                pod: r(8, 1, 0, 1),
                alloc: r(10, 20, 0, 32),
                requested: r(5, 5, 0, 1),
                want: false,
            },
            FitRow {
                name: "too many resources fails (memory)",
                pod: r(1, 16, 0, 1),
                alloc: r(10, 20, 0, 32),
                requested: r(5, 5, 0, 1),
                want: false,
            },
            FitRow {
                name: "both resources fit exactly",
                pod: r(5, 15, 0, 1),
                alloc: r(10, 20, 0, 32),
                requested: r(5, 5, 0, 1),
                want: true,
            },
            FitRow {
                name: "cpu over by one",
                pod: r(6, 15, 0, 1),
                alloc: r(10, 20, 0, 32),
                requested: r(5, 5, 0, 1),
                want: false,
            },
            FitRow {
                name: "too many pods",
                pod: r(1, 1, 0, 1),
                alloc: r(10, 20, 0, 1),
                requested: r(0, 0, 0, 1),
                want: false,
            },
            FitRow {
                name: "too many pods even for a pod without requests",
                pod: r(0, 0, 0, 1),
                alloc: r(10, 20, 0, 3),
                requested: r(0, 0, 0, 3),
                want: false,
            },
            FitRow {
                name: "last pod slot",
                pod: r(1, 1, 0, 1),
                alloc: r(10, 20, 0, 3),
                requested: r(0, 0, 0, 2),
                want: true,
            },
            FitRow {
                name: "gpu requested on a node without gpu",
                pod: r(1, 1, GPU, 1),
                alloc: r(10, 20, 0, 32),
                requested: r(0, 0, 0, 0),
                want: false,
            },
            FitRow {
                name: "gpu fits exactly",
                pod: r(1, 1, GPU, 1),
                alloc: r(10, 20, 8 * GPU, 32),
                requested: r(0, 0, 7 * GPU, 7),
                want: true,
            },
            FitRow {
                name: "gpu over by one",
                pod: r(1, 1, 2 * GPU, 1),
                alloc: r(10, 20, 8 * GPU, 32),
                requested: r(0, 0, 7 * GPU, 7),
                want: false,
            },
            FitRow {
                name: "zero gpu request on a node without gpu",
                pod: r(1, 1, 0, 1),
                alloc: r(10, 20, 0, 32),
                requested: r(0, 0, 0, 0),
                want: true,
            },
        ];
        for row in &rows {
            assert_eq!(fits(&row.pod, &row.alloc, &row.requested), row.want, "{}", row.name);
        }
    }
}
