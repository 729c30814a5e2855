//! NodeUnschedulable: the filter that keeps pods off cordoned nodes
//! (`node.spec.unschedulable`) unless they tolerate the `node.kubernetes.io/unschedulable`
//! NoSchedule taint. Source:
//! `kubernetes/kubernetes:pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable.go`.

use std::sync::LazyLock;

use crate::cluster::{Taint, TaintEffect, Toleration, tolerated};

/// Upstream `v1.TaintNodeUnschedulable`.
pub const TAINT_NODE_UNSCHEDULABLE: &str = "node.kubernetes.io/unschedulable";

/// The taint an unschedulable node is checked against: key
/// `node.kubernetes.io/unschedulable`, empty value, effect NoSchedule. Built once.
static UNSCHEDULABLE_TAINT: LazyLock<Taint> = LazyLock::new(|| Taint {
    key: TAINT_NODE_UNSCHEDULABLE.to_string(),
    value: String::new(),
    effect: TaintEffect::NoSchedule,
});

/// Filter: a schedulable node is always feasible; an unschedulable node is feasible only if
/// the pod tolerates `{key: node.kubernetes.io/unschedulable, effect: NoSchedule}`
/// (`node_unschedulable.go` `Filter`: "If pod tolerate unschedulable taint, it's also
/// tolerate `node.Spec.Unschedulable`"). Allocation-free after the first call.
#[inline]
pub fn filter(node_unschedulable: bool, tolerations: &[Toleration]) -> bool {
    if !node_unschedulable {
        return true;
    }
    tolerated(&UNSCHEDULABLE_TAINT, tolerations)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::TolerationOperator::{Equal, Exists};

    use crate::scheduler::plugins::test_support::tol;

    /// Upstream `TestNodeUnschedulable`
    /// (`kubernetes/kubernetes:pkg/scheduler/framework/plugins/nodeunschedulable/node_unschedulable_test.go`)
    /// plus rows for the other toleration shapes.
    #[test]
    fn node_unschedulable_table() {
        struct Row {
            name: &'static str,
            unschedulable: bool,
            tolerations: Vec<Toleration>,
            want: bool,
        }
        let rows = vec![
            Row {
                name: "does not schedule pod to unschedulable node",
                unschedulable: true,
                tolerations: vec![],
                want: false,
            },
            Row {
                name: "schedule pod to normal node",
                unschedulable: false,
                tolerations: vec![],
                want: true,
            },
            Row {
                name: "schedule pod with toleration to unschedulable node",
                unschedulable: true,
                tolerations: vec![tol(TAINT_NODE_UNSCHEDULABLE, Equal, "", Some(TaintEffect::NoSchedule))],
                want: true,
            },
            Row {
                name: "Exists toleration on the key, any effect",
                unschedulable: true,
                tolerations: vec![tol(TAINT_NODE_UNSCHEDULABLE, Exists, "", None)],
                want: true,
            },
            Row {
                name: "tolerate-everything toleration",
                unschedulable: true,
                tolerations: vec![tol("", Exists, "", None)],
                want: true,
            },
            Row {
                name: "right key, wrong effect",
                unschedulable: true,
                tolerations: vec![tol(TAINT_NODE_UNSCHEDULABLE, Exists, "", Some(TaintEffect::NoExecute))],
                want: false,
            },
            Row {
                name: "right key, Equal with a non-empty value",
                unschedulable: true,
                tolerations: vec![tol(
                    TAINT_NODE_UNSCHEDULABLE,
                    Equal,
                    "true",
                    Some(TaintEffect::NoSchedule),
                )],
                want: false,
            },
            Row {
                name: "other key",
                unschedulable: true,
                tolerations: vec![tol("node.kubernetes.io/not-ready", Exists, "", None)],
                want: false,
            },
        ];
        for row in &rows {
            assert_eq!(filter(row.unschedulable, &row.tolerations), row.want, "{}", row.name);
        }
    }
}
