//! NodeAffinity: the filter (the pod's `nodeSelector` and required node affinity must both
//! match the node's labels) and the score (sum of the weights of the matching preferred
//! terms, normalised later with `reverse = false`). Source:
//! `kubernetes/kubernetes:pkg/scheduler/framework/plugins/nodeaffinity/node_affinity.go`,
//! with the matching rules of
//! `kubernetes/kubernetes:staging/src/k8s.io/component-helpers/scheduling/corev1/nodeaffinity/nodeaffinity.go`
//! (implemented by the selector types in `crate::cluster`).
//!
//! `matchFields` (node name) terms and the plugin's `addedAffinity` argument are not
//! modelled. Allocation-free.

use crate::cluster::{Labels, Placement};

/// Filter: true when every `nodeSelector` entry equals the node's label of that key and,
/// if the pod has `requiredDuringSchedulingIgnoredDuringExecution`, at least one of its terms
/// matches (terms ORed, expressions ANDed; an empty term, or an empty term list, matches
/// nothing). Upstream: `node_affinity.go` `Filter` → `nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)`,
/// which combines `labels.SelectorFromSet(pod.Spec.NodeSelector)` and the required terms.
pub fn filter(labels: &Labels, placement: &Placement) -> bool {
    // RequiredNodeAffinity.Match: `if r.labelSelector != nil && !r.labelSelector.Matches(...)`.
    for (key, value) in &placement.node_selector {
        if labels.get(key) != Some(value) {
            return false;
        }
    }
    // `if r.nodeSelector != nil { return r.nodeSelector.Match(node) }`.
    match &placement.node_affinity.required_during_scheduling_ignored_during_execution {
        Some(required) => required.matches(labels),
        None => true,
    }
}

/// Raw score: Σ weight of the preferred terms that match the node's labels (`node_affinity.go`
/// `Score` → `PreferredSchedulingTerms.Score`; terms with weight 0 or no expressions are
/// dropped by `NewPreferredSchedulingTerms`). `NormalizeScore` is
/// `DefaultNormalizeScore(MaxNodeScore, reverse = false)`, i.e.
/// [`super::default_normalize_score`] with `reverse = false`.
pub fn score(labels: &Labels, placement: &Placement) -> i64 {
    let mut total: i64 = 0;
    for term in &placement.node_affinity.preferred_during_scheduling_ignored_during_execution {
        if term.weight == 0 {
            continue;
        }
        if term.preference.matches(labels) {
            total += term.weight;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::{
        NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, PreferredSchedulingTerm,
        SelectorOperator,
    };
    use crate::scheduler::plugins::default_normalize_score;
    use SelectorOperator::{DoesNotExist, Exists, Gt, In, Lt, NotIn};

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn req(key: &str, operator: SelectorOperator, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.to_string(),
            operator,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn term(exprs: Vec<NodeSelectorRequirement>) -> NodeSelectorTerm {
        NodeSelectorTerm { match_expressions: exprs }
    }

    /// A pod with a nodeSelector and optionally required terms.
    fn pod(node_selector: &[(&str, &str)], required: Option<Vec<NodeSelectorTerm>>) -> Placement {
        Placement {
            node_selector: labels(node_selector),
            node_affinity: NodeAffinity {
                required_during_scheduling_ignored_during_execution: required
                    .map(|terms| NodeSelector { node_selector_terms: terms }),
                preferred_during_scheduling_ignored_during_execution: Vec::new(),
            },
            tolerations: Vec::new(),
        }
    }

    fn preferred(terms: Vec<(i64, NodeSelectorTerm)>) -> Placement {
        Placement {
            node_affinity: NodeAffinity {
                required_during_scheduling_ignored_during_execution: None,
                preferred_during_scheduling_ignored_during_execution: terms
                    .into_iter()
                    .map(|(weight, preference)| PreferredSchedulingTerm { weight, preference })
                    .collect(),
            },
            ..Placement::default()
        }
    }

    /// Upstream `TestNodeAffinity`
    /// (`kubernetes/kubernetes:pkg/scheduler/framework/plugins/nodeaffinity/node_affinity_test.go`),
    /// the rows that only use labels. Left out: the `matchFields` (node name) rows, the
    /// `addedAffinity` rows, and "Pod with an invalid value in Affinity term" (upstream rejects
    /// the label value `invalid value: ___@#$%^` when building the selector so the term
    /// matches nothing; the cluster selector types do not validate values, see the report).
    #[test]
    fn node_affinity_filter_table() {
        struct Row {
            name: &'static str,
            pod: Placement,
            labels: Labels,
            want: bool,
        }
        let rows = vec![
            Row {
                name: "missing labels",
                pod: pod(&[("foo", "bar")], None),
                labels: labels(&[]),
                want: false,
            },
            Row {
                name: "same labels",
                pod: pod(&[("foo", "bar")], None),
                labels: labels(&[("foo", "bar")]),
                want: true,
            },
            Row {
                name: "node labels are superset",
                pod: pod(&[("foo", "bar")], None),
                labels: labels(&[("foo", "bar"), ("baz", "blah")]),
                want: true,
            },
            Row {
                name: "node labels are subset",
                pod: pod(&[("foo", "bar"), ("baz", "blah")], None),
                labels: labels(&[("foo", "bar")]),
                want: false,
            },
            Row {
                name: "matchExpressions using In operator that matches the existing node",
                pod: pod(&[], Some(vec![term(vec![req("foo", In, &["bar", "value2"])])])),
                labels: labels(&[("foo", "bar")]),
                want: true,
            },
            Row {
                name: "matchExpressions using Gt operator that matches the existing node",
                pod: pod(&[], Some(vec![term(vec![req("kernel-version", Gt, &["0204"])])])),
                labels: labels(&[("kernel-version", "0206")]),
                want: true,
            },
            Row {
                name: "matchExpressions using NotIn operator that matches the existing node",
                pod: pod(&[], Some(vec![term(vec![req("mem-type", NotIn, &["DDR", "DDR2"])])])),
                labels: labels(&[("mem-type", "DDR3")]),
                want: true,
            },
            Row {
                name: "matchExpressions using Exists operator that matches the existing node",
                pod: pod(&[], Some(vec![term(vec![req("GPU", Exists, &[])])])),
                labels: labels(&[("GPU", "NVIDIA-GRID-K1")]),
                want: true,
            },
            Row {
                name: "affinity that doesn't match node's labels won't schedule onto the node",
                pod: pod(&[], Some(vec![term(vec![req("foo", In, &["value1", "value2"])])])),
                labels: labels(&[("foo", "bar")]),
                want: false,
            },
            Row {
                name: "empty MatchExpressions matches no objects",
                pod: pod(&[], Some(vec![term(vec![])])),
                labels: labels(&[("foo", "bar")]),
                want: false,
            },
            Row { name: "no Affinity", pod: pod(&[], None), labels: labels(&[("foo", "bar")]), want: true },
            Row {
                name: "multiple matchExpressions ANDed that matches the existing node",
                pod: pod(
                    &[],
                    Some(vec![term(vec![req("GPU", Exists, &[]), req("GPU", NotIn, &["AMD", "INTER"])])]),
                ),
                labels: labels(&[("GPU", "NVIDIA-GRID-K1")]),
                want: true,
            },
            Row {
                name: "multiple matchExpressions ANDed that doesn't match the existing node",
                pod: pod(
                    &[],
                    Some(vec![term(vec![req("GPU", Exists, &[]), req("GPU", In, &["AMD", "INTER"])])]),
                ),
                labels: labels(&[("GPU", "NVIDIA-GRID-K1")]),
                want: false,
            },
            Row {
                name: "multiple NodeSelectorTerms ORed, matches the node's labels",
                pod: pod(
                    &[],
                    Some(vec![
                        term(vec![req("foo", In, &["bar", "value2"])]),
                        term(vec![req("diffkey", In, &["wrong", "value2"])]),
                    ]),
                ),
                labels: labels(&[("foo", "bar")]),
                want: true,
            },
            Row {
                name: "Affinity and PodSpec.NodeSelector both satisfied",
                pod: pod(&[("foo", "bar")], Some(vec![term(vec![req("foo", Exists, &[])])])),
                labels: labels(&[("foo", "bar")]),
                want: true,
            },
            Row {
                name: "Affinity matches but PodSpec.NodeSelector is not satisfied",
                pod: pod(&[("foo", "bar")], Some(vec![term(vec![req("foo", Exists, &[])])])),
                labels: labels(&[("foo", "barrrrrr")]),
                want: false,
            },
            // Extra rows: the remaining operators and an empty required term list.
            Row {
                name: "DoesNotExist on a missing key",
                pod: pod(&[], Some(vec![term(vec![req("spot", DoesNotExist, &[])])])),
                labels: labels(&[("foo", "bar")]),
                want: true,
            },
            Row {
                name: "Lt that does not match",
                pod: pod(&[], Some(vec![term(vec![req("gen", Lt, &["3"])])])),
                labels: labels(&[("gen", "5")]),
                want: false,
            },
            Row {
                name: "required affinity with no terms matches nothing",
                pod: pod(&[], Some(vec![])),
                labels: labels(&[("foo", "bar")]),
                want: false,
            },
        ];
        for row in &rows {
            assert_eq!(filter(&row.labels, &row.pod), row.want, "{}", row.name);
        }
    }

    /// Upstream `TestNodeAffinityPriority` (same file): raw scores followed by NormalizeScore
    /// (`reverse = false`). The `addedAffinity` rows are left out.
    #[test]
    fn node_affinity_priority_table() {
        let label1 = labels(&[("foo", "bar")]);
        let label2 = labels(&[("key", "value")]);
        let label3 = labels(&[("az", "az1")]);
        let label4 = labels(&[("abc", "az11"), ("def", "az22")]);
        let label5 = labels(&[("foo", "bar"), ("key", "value"), ("az", "az1")]);

        let affinity1 = preferred(vec![(2, term(vec![req("foo", In, &["bar"])]))]);
        let affinity2 = preferred(vec![
            (2, term(vec![req("foo", In, &["bar"])])),
            (4, term(vec![req("key", In, &["value"])])),
            (5, term(vec![req("foo", In, &["bar"]), req("key", In, &["value"]), req("az", In, &["az1"])])),
        ]);

        struct Row<'a> {
            name: &'static str,
            pod: &'a Placement,
            nodes: Vec<&'a Labels>,
            raw: Vec<i64>,
            want: Vec<i64>,
        }
        let no_affinity = Placement::default();
        let rows = vec![
            Row {
                name: "all nodes are same priority as NodeAffinity is nil",
                pod: &no_affinity,
                nodes: vec![&label1, &label2, &label3],
                raw: vec![0, 0, 0],
                want: vec![0, 0, 0],
            },
            Row {
                name: "no node matches preferred scheduling requirements so all nodes' priority is zero",
                pod: &affinity1,
                nodes: vec![&label4, &label2, &label3],
                raw: vec![0, 0, 0],
                want: vec![0, 0, 0],
            },
            Row {
                name: "only node1 matches the preferred scheduling requirements of pod",
                pod: &affinity1,
                nodes: vec![&label1, &label2, &label3],
                raw: vec![2, 0, 0],
                want: vec![100, 0, 0],
            },
            Row {
                name: "all nodes match the preferred scheduling requirements of pod but with different priorities",
                pod: &affinity2,
                nodes: vec![&label1, &label5, &label2],
                raw: vec![2, 11, 4],
                want: vec![18, 100, 36],
            },
        ];
        for row in &rows {
            let mut got: Vec<i64> = row.nodes.iter().map(|l| score(l, row.pod)).collect();
            assert_eq!(got, row.raw, "{} (raw)", row.name);
            default_normalize_score(&mut got, false);
            assert_eq!(got, row.want, "{}", row.name);
        }
    }

    #[test]
    fn zero_weight_and_empty_preferred_terms_do_not_score() {
        let p = preferred(vec![(0, term(vec![req("foo", In, &["bar"])])), (7, term(vec![]))]);
        assert_eq!(score(&labels(&[("foo", "bar")]), &p), 0);
    }
}
