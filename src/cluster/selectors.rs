//! Labels, taints, tolerations and node selectors with Kubernetes semantics. These types are
//! also the scenario vocabulary (they deserialize from the same YAML shape as the upstream
//! API objects), so the scenario layer does not need a copy of them.
//!
//! Matching semantics follow `kubernetes/kubernetes:staging/src/k8s.io/api/core/v1/toleration.go`
//! (`ToleratesTaint`) and `kubernetes/kubernetes:staging/src/k8s.io/component-helpers/scheduling/corev1/nodeaffinity/nodeaffinity.go`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Node or pod labels. A `BTreeMap` so that iteration (and therefore output) is ordered.
pub type Labels = BTreeMap<String, String>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TaintEffect {
    NoSchedule,
    PreferNoSchedule,
    NoExecute,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Taint {
    pub key: String,
    #[serde(default)]
    pub value: String,
    pub effect: TaintEffect,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TolerationOperator {
    #[default]
    Equal,
    Exists,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Toleration {
    /// Empty key with operator `Exists` tolerates every taint.
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub operator: TolerationOperator,
    #[serde(default)]
    pub value: String,
    /// `None` tolerates every effect.
    #[serde(default)]
    pub effect: Option<TaintEffect>,
    /// For `NoExecute` taints: how long the pod stays bound after the taint appears.
    #[serde(default)]
    pub toleration_seconds: Option<i64>,
}

impl Toleration {
    /// Upstream `Toleration.ToleratesTaint`.
    pub fn tolerates(&self, taint: &Taint) -> bool {
        if let Some(e) = self.effect
            && e != taint.effect
        {
            return false;
        }
        if !self.key.is_empty() && self.key != taint.key {
            return false;
        }
        match self.operator {
            // An empty key with Exists matches all keys (checked above by skipping).
            TolerationOperator::Exists => true,
            TolerationOperator::Equal => self.value == taint.value,
        }
    }
}

/// True when some toleration tolerates the taint.
pub fn tolerated(taint: &Taint, tolerations: &[Toleration]) -> bool {
    tolerations.iter().any(|t| t.tolerates(taint))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    Gt,
    Lt,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeSelectorRequirement {
    pub key: String,
    pub operator: SelectorOperator,
    #[serde(default)]
    pub values: Vec<String>,
}

impl NodeSelectorRequirement {
    /// Upstream `nodeaffinity.nodeSelectorRequirementsAsSelector` semantics for one
    /// requirement against a label set.
    pub fn matches(&self, labels: &Labels) -> bool {
        let v = labels.get(&self.key);
        match self.operator {
            SelectorOperator::In => v.is_some_and(|v| self.values.iter().any(|x| x == v)),
            SelectorOperator::NotIn => v.is_none_or(|v| !self.values.iter().any(|x| x == v)),
            SelectorOperator::Exists => v.is_some(),
            SelectorOperator::DoesNotExist => v.is_none(),
            SelectorOperator::Gt | SelectorOperator::Lt => {
                let (Some(v), Some(bound)) = (v, self.values.first()) else {
                    return false;
                };
                let (Ok(v), Ok(bound)) = (v.parse::<i64>(), bound.parse::<i64>()) else {
                    return false;
                };
                if self.operator == SelectorOperator::Gt { v > bound } else { v < bound }
            }
        }
    }
}

/// A term matches when all its requirements match. An empty term matches nothing
/// (upstream: "a null or empty node selector term matches no objects").
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeSelectorTerm {
    #[serde(default)]
    pub match_expressions: Vec<NodeSelectorRequirement>,
}

impl NodeSelectorTerm {
    pub fn matches(&self, labels: &Labels) -> bool {
        !self.match_expressions.is_empty() && self.match_expressions.iter().all(|r| r.matches(labels))
    }
}

/// `requiredDuringSchedulingIgnoredDuringExecution`: the terms are ORed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeSelector {
    pub node_selector_terms: Vec<NodeSelectorTerm>,
}

impl NodeSelector {
    pub fn matches(&self, labels: &Labels) -> bool {
        self.node_selector_terms.iter().any(|t| t.matches(labels))
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PreferredSchedulingTerm {
    /// 1..=100 upstream.
    pub weight: i64,
    pub preference: NodeSelectorTerm,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NodeAffinity {
    #[serde(default)]
    pub required_during_scheduling_ignored_during_execution: Option<NodeSelector>,
    #[serde(default)]
    pub preferred_during_scheduling_ignored_during_execution: Vec<PreferredSchedulingTerm>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Affinity {
    #[serde(default)]
    pub node_affinity: Option<NodeAffinity>,
    #[serde(default)]
    pub pod_affinity: Option<super::pod_affinity::PodAffinity>,
    #[serde(default)]
    pub pod_anti_affinity: Option<super::pod_affinity::PodAntiAffinity>,
}

/// What a pod asks of a node's labels and taints; shared by all pods of one template so
/// pods only hold an index to it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Placement {
    pub node_selector: Labels,
    pub node_affinity: NodeAffinity,
    pub tolerations: Vec<Toleration>,
}

impl Placement {
    /// True when the pod has no label-based constraints at all (a fast path for the
    /// NodeAffinity filter and score).
    pub fn has_no_node_constraints(&self) -> bool {
        self.node_selector.is_empty()
            && self.node_affinity.required_during_scheduling_ignored_during_execution.is_none()
            && self.node_affinity.preferred_during_scheduling_ignored_during_execution.is_empty()
    }
}
