//! TaintToleration: the filter (every NoSchedule / NoExecute taint of the node must be
//! tolerated) and the score (number of PreferNoSchedule taints the pod does not tolerate,
//! normalised later with `reverse = true`). Source:
//! `kubernetes/kubernetes:pkg/scheduler/framework/plugins/tainttoleration/taint_toleration.go`.
//!
//! Allocation-free.

use crate::cluster::{Taint, TaintEffect, Toleration, tolerated};

/// Filter: true when the pod tolerates every NoSchedule and NoExecute taint of the node.
/// PreferNoSchedule taints are ignored (`taint_toleration.go` `Filter`: the filter predicate
/// keeps only `TaintEffectNoSchedule` / `TaintEffectNoExecute`, then
/// `v1helper.FindMatchingUntoleratedTaint`).
pub fn filter(node_taints: &[Taint], tolerations: &[Toleration]) -> bool {
    node_taints
        .iter()
        .filter(|t| matches!(t.effect, TaintEffect::NoSchedule | TaintEffect::NoExecute))
        .all(|t| tolerated(t, tolerations))
}

/// Raw score: the number of the node's PreferNoSchedule taints that are not tolerated by the
/// pod's tolerations whose effect is empty or PreferNoSchedule (`taint_toleration.go`
/// `getAllTolerationPreferNoSchedule` + `countIntolerableTaintsPreferNoSchedule`). More
/// intolerable taints is worse: `NormalizeScore` is `DefaultNormalizeScore(MaxNodeScore,
/// reverse = true)`, i.e. [`super::default_normalize_score`] with `reverse = true`.
pub fn score(node_taints: &[Taint], tolerations: &[Toleration]) -> i64 {
    let mut intolerable: i64 = 0;
    for taint in node_taints {
        // countIntolerableTaintsPreferNoSchedule: "check only on taints that have effect
        // PreferNoSchedule".
        if taint.effect != TaintEffect::PreferNoSchedule {
            continue;
        }
        // getAllTolerationPreferNoSchedule: "Empty effect means all effects which includes
        // PreferNoSchedule, so we need to collect it as well."
        let ok = tolerations.iter().any(|tol| {
            matches!(tol.effect, None | Some(TaintEffect::PreferNoSchedule)) && tol.tolerates(taint)
        });
        if !ok {
            intolerable += 1;
        }
    }
    intolerable
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::TolerationOperator;
    use crate::scheduler::plugins::default_normalize_score;
    use TaintEffect::{NoExecute, NoSchedule, PreferNoSchedule};
    use TolerationOperator::{Equal, Exists};

    fn taint(key: &str, value: &str, effect: TaintEffect) -> Taint {
        Taint { key: key.to_string(), value: value.to_string(), effect }
    }

    use crate::scheduler::plugins::test_support::tol;

    /// Upstream `TestTaintTolerationScore`
    /// (`kubernetes/kubernetes:pkg/scheduler/framework/plugins/tainttoleration/taint_toleration_test.go`),
    /// raw scores followed by NormalizeScore. The three rows with the `Gt` / `Lt` toleration
    /// operators (alpha feature gate TaintTolerationComparisonOperators) are left out: the
    /// cluster types only have `Equal` and `Exists`.
    #[test]
    fn taint_toleration_score_table() {
        struct Row {
            name: &'static str,
            tolerations: Vec<Toleration>,
            nodes: Vec<Vec<Taint>>,
            want: Vec<i64>,
        }
        let rows = vec![
            Row {
                name: "node with taints tolerated by the pod gets a higher score than those with intolerable taints",
                tolerations: vec![tol("foo", Equal, "bar", Some(PreferNoSchedule))],
                nodes: vec![
                    vec![taint("foo", "bar", PreferNoSchedule)],
                    vec![taint("foo", "blah", PreferNoSchedule)],
                ],
                want: vec![100, 0],
            },
            Row {
                name: "all taints tolerated: same score whatever the number of tolerable taints",
                tolerations: vec![
                    tol("cpu-type", Equal, "arm64", Some(PreferNoSchedule)),
                    tol("disk-type", Equal, "ssd", Some(PreferNoSchedule)),
                ],
                nodes: vec![
                    vec![],
                    vec![taint("cpu-type", "arm64", PreferNoSchedule)],
                    vec![
                        taint("cpu-type", "arm64", PreferNoSchedule),
                        taint("disk-type", "ssd", PreferNoSchedule),
                    ],
                ],
                want: vec![100, 100, 100],
            },
            Row {
                name: "the more intolerable taints a node has, the lower score it gets",
                tolerations: vec![tol("foo", Equal, "bar", Some(PreferNoSchedule))],
                nodes: vec![
                    vec![],
                    vec![taint("cpu-type", "arm64", PreferNoSchedule)],
                    vec![
                        taint("cpu-type", "arm64", PreferNoSchedule),
                        taint("disk-type", "ssd", PreferNoSchedule),
                    ],
                ],
                want: vec![100, 50, 0],
            },
            Row {
                name: "only taints and tolerations with effect PreferNoSchedule are checked",
                tolerations: vec![
                    tol("cpu-type", Equal, "arm64", Some(NoSchedule)),
                    tol("disk-type", Equal, "ssd", Some(NoSchedule)),
                ],
                nodes: vec![
                    vec![],
                    vec![taint("cpu-type", "arm64", NoSchedule)],
                    vec![
                        taint("cpu-type", "arm64", PreferNoSchedule),
                        taint("disk-type", "ssd", PreferNoSchedule),
                    ],
                ],
                want: vec![100, 100, 0],
            },
            Row {
                name: "default behaviour: no taints and tolerations, lands on node with no taints",
                tolerations: vec![],
                nodes: vec![vec![], vec![taint("cpu-type", "arm64", PreferNoSchedule)]],
                want: vec![100, 0],
            },
            // Extra: a toleration with empty effect counts for PreferNoSchedule taints.
            Row {
                name: "empty-effect toleration tolerates PreferNoSchedule",
                tolerations: vec![tol("foo", Exists, "", None)],
                nodes: vec![
                    vec![taint("foo", "x", PreferNoSchedule)],
                    vec![taint("bar", "x", PreferNoSchedule)],
                ],
                want: vec![100, 0],
            },
        ];
        for row in &rows {
            let mut got: Vec<i64> = row.nodes.iter().map(|taints| score(taints, &row.tolerations)).collect();
            default_normalize_score(&mut got, true);
            assert_eq!(got, row.want, "{}", row.name);
        }
    }

    #[test]
    fn raw_score_counts_intolerable_prefer_no_schedule_taints() {
        let taints = [
            taint("a", "1", PreferNoSchedule),
            taint("b", "1", PreferNoSchedule),
            taint("c", "1", NoSchedule),
            taint("d", "1", NoExecute),
        ];
        assert_eq!(score(&taints, &[]), 2);
        assert_eq!(score(&taints, &[tol("a", Exists, "", Some(PreferNoSchedule))]), 1);
        // A NoSchedule toleration does not count for the score even with a matching key.
        assert_eq!(score(&taints, &[tol("a", Exists, "", Some(NoSchedule))]), 2);
        // Empty key + Exists tolerates everything.
        assert_eq!(score(&taints, &[tol("", Exists, "", None)]), 0);
    }

    /// Upstream `TestTaintTolerationFilter` (same file). The `Gt` / `Lt` rows are left out
    /// (see above).
    #[test]
    fn taint_toleration_filter_table() {
        struct Row {
            name: &'static str,
            tolerations: Vec<Toleration>,
            taints: Vec<Taint>,
            want: bool,
        }
        let rows = vec![
            Row {
                name: "a pod having no tolerations can't be scheduled onto a node with nonempty taints",
                tolerations: vec![],
                taints: vec![taint("dedicated", "user1", NoSchedule)],
                want: false,
            },
            Row {
                name: "a pod which can be scheduled on a dedicated node assigned to user1 with effect NoSchedule",
                tolerations: vec![tol("dedicated", Equal, "user1", Some(NoSchedule))],
                taints: vec![taint("dedicated", "user1", NoSchedule)],
                want: true,
            },
            Row {
                name: "a pod which can't be scheduled on a dedicated node assigned to user2 with effect NoSchedule",
                tolerations: vec![tol("dedicated", Equal, "user2", Some(NoSchedule))],
                taints: vec![taint("dedicated", "user1", NoSchedule)],
                want: false,
            },
            Row {
                name: "a toleration with operator Exists tolerates the taints on the node",
                tolerations: vec![tol("foo", Exists, "", Some(NoSchedule))],
                taints: vec![taint("foo", "bar", NoSchedule)],
                want: true,
            },
            Row {
                name: "multiple tolerations, multiple taints, all tolerated",
                tolerations: vec![
                    tol("dedicated", Equal, "user2", Some(NoSchedule)),
                    tol("foo", Exists, "", Some(NoSchedule)),
                ],
                taints: vec![taint("dedicated", "user2", NoSchedule), taint("foo", "bar", NoSchedule)],
                want: true,
            },
            Row {
                name: "key and value match but the (non-empty) effect doesn't",
                tolerations: vec![tol("foo", Equal, "bar", Some(PreferNoSchedule))],
                taints: vec![taint("foo", "bar", NoSchedule)],
                want: false,
            },
            Row {
                name: "key and value match, toleration effect empty, taint effect NoSchedule",
                tolerations: vec![tol("foo", Equal, "bar", None)],
                taints: vec![taint("foo", "bar", NoSchedule)],
                want: true,
            },
            Row {
                name: "toleration doesn't match but the taint is PreferNoSchedule",
                tolerations: vec![tol("dedicated", Equal, "user2", Some(NoSchedule))],
                taints: vec![taint("dedicated", "user1", PreferNoSchedule)],
                want: true,
            },
            Row {
                name: "no toleration, taint is PreferNoSchedule",
                tolerations: vec![],
                taints: vec![taint("dedicated", "user1", PreferNoSchedule)],
                want: true,
            },
            // Extra rows for NoExecute and the untainted node.
            Row {
                name: "untolerated NoExecute taint",
                tolerations: vec![tol("foo", Exists, "", Some(NoSchedule))],
                taints: vec![taint("foo", "bar", NoExecute)],
                want: false,
            },
            Row {
                name: "tolerated NoExecute taint",
                tolerations: vec![tol("foo", Exists, "", Some(NoExecute))],
                taints: vec![taint("foo", "bar", NoExecute)],
                want: true,
            },
            Row { name: "node without taints", tolerations: vec![], taints: vec![], want: true },
        ];
        for row in &rows {
            assert_eq!(filter(&row.taints, &row.tolerations), row.want, "{}", row.name);
        }
    }
}
