//! The kube-scheduler filter and score plugins that clustersim models, as pure functions over
//! the cluster types, plus the shared score scale, the default score-plugin weights and the
//! default score normaliser.
//!
//! Each plugin module mirrors one upstream plugin under
//! `kubernetes/kubernetes:pkg/scheduler/framework/plugins/`:
//! - [`fit`]: NodeResourcesFit (filter + LeastAllocated/MostAllocated score),
//! - [`balanced`]: NodeResourcesBalancedAllocation (score, ≤ v1.35 formula),
//! - [`taint_toleration`]: TaintToleration (filter + score),
//! - [`node_affinity`]: NodeAffinity (filter + score),
//! - [`node_unschedulable`]: NodeUnschedulable (filter).
//!
//! Score functions return the raw per-node score; plugins with a NormalizeScore extension
//! (TaintToleration, NodeAffinity) are normalised over all scored nodes with
//! [`default_normalize_score`]. A node's total is Σ over plugins of `weight × score`.

pub mod balanced;
pub mod fit;
pub mod gpushare;
pub mod inter_pod_affinity;
pub mod node_affinity;
pub mod node_unschedulable;
pub mod taint_toleration;
#[cfg(test)]
mod test_support;
pub mod topology_spread;

/// Upstream `framework.MaxNodeScore` (`kubernetes/kubernetes:pkg/scheduler/framework/interface.go`;
/// newer releases keep it in the `k8s.io/kube-scheduler/framework` staging module).
pub const MAX_NODE_SCORE: i64 = 100;
/// Upstream `framework.MinNodeScore`.
pub const MIN_NODE_SCORE: i64 = 0;

// Default score-plugin weights (MultiPoint), from
// `kubernetes/kubernetes:pkg/scheduler/apis/config/v1/default_plugins.go` `getDefaultPlugins`.
/// Default weight of the TaintToleration score.
pub const TAINT_TOLERATION_WEIGHT: i64 = 3;
/// Default weight of the NodeAffinity score.
pub const NODE_AFFINITY_WEIGHT: i64 = 2;
/// Default weight of the NodeResourcesFit score.
pub const NODE_RESOURCES_FIT_WEIGHT: i64 = 1;
/// Default weight of the NodeResourcesBalancedAllocation score.
pub const NODE_RESOURCES_BALANCED_ALLOCATION_WEIGHT: i64 = 1;

/// True for the resources upstream treats as scalar (extended) resources, i.e. everything
/// but cpu, memory and ephemeral-storage (`schedutil.IsScalarResourceName`,
/// `kubernetes/kubernetes:pkg/scheduler/util/utils.go`). In clustersim that is the GPU.
/// The resource scorers leave such a resource out of a node's score when the pod does not
/// request it (`kubernetes/kubernetes:pkg/scheduler/framework/plugins/noderesources/resource_allocation.go`).
#[inline]
pub fn is_extended_resource(r: crate::cluster::ResourceName) -> bool {
    matches!(r, crate::cluster::ResourceName::Gpu)
}

/// Upstream `DefaultNormalizeScore(MaxNodeScore, reverse, scores)`
/// (`kubernetes/kubernetes:pkg/scheduler/framework/plugins/helper/normalize_score.go`):
/// scales `[0, max]` to `[0, 100]` with integer arithmetic (`100 * s / max`), then, if
/// `reverse`, maps `s` to `100 - s`. When every score is 0 (max == 0) the scores are left
/// unchanged, or all set to 100 if `reverse`. Scores are assumed non-negative.
pub fn default_normalize_score(scores: &mut [i64], reverse: bool) {
    let mut max_count: i64 = 0;
    for &s in scores.iter() {
        if s > max_count {
            max_count = s;
        }
    }
    if max_count == 0 {
        if reverse {
            for s in scores.iter_mut() {
                *s = MAX_NODE_SCORE;
            }
        }
        return;
    }
    for s in scores.iter_mut() {
        let mut score = MAX_NODE_SCORE * *s / max_count;
        if reverse {
            score = MAX_NODE_SCORE - score;
        }
        *s = score;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Upstream `TestDefaultNormalizeScore`
    /// (`kubernetes/kubernetes:pkg/scheduler/framework/plugins/helper/normalize_score_test.go`),
    /// plus the all-zero cases.
    #[test]
    fn default_normalize_score_table() {
        struct Row {
            reverse: bool,
            scores: &'static [i64],
            want: &'static [i64],
        }
        let rows = [
            Row { reverse: false, scores: &[1, 2, 3, 4], want: &[25, 50, 75, 100] },
            Row { reverse: true, scores: &[1, 2, 3, 4], want: &[75, 50, 25, 0] },
            Row { reverse: false, scores: &[1000, 10, 20, 30], want: &[100, 1, 2, 3] },
            Row { reverse: true, scores: &[1000, 10, 20, 30], want: &[0, 99, 98, 97] },
            Row { reverse: false, scores: &[1, 1, 1, 1], want: &[100, 100, 100, 100] },
            Row { reverse: false, scores: &[1000, 1, 1, 1], want: &[100, 0, 0, 0] },
            Row { reverse: true, scores: &[0, 1, 1, 1], want: &[100, 0, 0, 0] },
            // max == 0: unchanged, or all MaxNodeScore when reversed.
            Row { reverse: false, scores: &[0, 0, 0], want: &[0, 0, 0] },
            Row { reverse: true, scores: &[0, 0, 0], want: &[100, 100, 100] },
            Row { reverse: false, scores: &[], want: &[] },
        ];
        for (i, row) in rows.iter().enumerate() {
            let mut got = row.scores.to_vec();
            default_normalize_score(&mut got, row.reverse);
            assert_eq!(got, row.want, "row {i}: scores {:?} reverse {}", row.scores, row.reverse);
        }
    }

    #[test]
    fn default_weights_match_default_plugins_go() {
        assert_eq!(TAINT_TOLERATION_WEIGHT, 3);
        assert_eq!(NODE_AFFINITY_WEIGHT, 2);
        assert_eq!(NODE_RESOURCES_FIT_WEIGHT, 1);
        assert_eq!(NODE_RESOURCES_BALANCED_ALLOCATION_WEIGHT, 1);
        assert_eq!(MAX_NODE_SCORE, 100);
        assert_eq!(MIN_NODE_SCORE, 0);
    }
}
