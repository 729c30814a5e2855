//! Pod affinity and anti-affinity terms (`v1.PodAffinity`, `v1.PodAntiAffinity`,
//! `v1.PodAffinityTerm`, `v1.WeightedPodAffinityTerm`): the scenario vocabulary, the API
//! server's validation (`kubernetes/kubernetes:pkg/apis/core/validation/validation.go`
//! `validatePodAffinityTerm`, `validateWeightedPodAffinityTerms`,
//! `validateMatchLabelKeysAndMismatchLabelKeys`) and how a term selects pods
//! (`kubernetes/kubernetes:pkg/scheduler/framework/types.go` `AffinityTerm.Matches`, with the
//! `matchLabelKeys`/`mismatchLabelKeys` merge of
//! `kubernetes/kubernetes:pkg/registry/core/pod/strategy.go`). The scheduler's use of them is
//! `scheduler::plugins::inter_pod_affinity`.

use super::Labels;
use super::label_selector::{LabelSelector, is_dns1123_label, validate_qualified_name};
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------------------------------------
// Scenario vocabulary (the Kubernetes API shapes).
// ---------------------------------------------------------------------------------------------

/// `v1.PodAffinityTerm`: the pods (label selector, namespaces) this term selects, and the
/// node label whose value defines "the same place".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodAffinityTerm {
    /// Absent selects no pod; `{}` selects every pod.
    #[serde(default)]
    pub label_selector: Option<LabelSelector>,
    /// Namespaces the term selects pods in (ORed with `namespaceSelector`).
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// The node label key; nodes with the same value are in the same topology domain.
    #[serde(default)]
    pub topology_key: String,
    /// Selects namespaces by their labels; `{}` selects every namespace.
    #[serde(default)]
    pub namespace_selector: Option<LabelSelector>,
    /// Keys whose values in the owning pod's labels are added to the selector as `key In (value)`.
    #[serde(default)]
    pub match_label_keys: Vec<String>,
    /// Keys whose values in the owning pod's labels are added to the selector as `key NotIn (value)`.
    #[serde(default)]
    pub mismatch_label_keys: Vec<String>,
}

/// `v1.WeightedPodAffinityTerm`: a preferred term and its weight (1..=100).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct WeightedPodAffinityTerm {
    pub weight: i32,
    pub pod_affinity_term: PodAffinityTerm,
}

/// `v1.PodAffinity`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodAffinity {
    #[serde(default)]
    pub required_during_scheduling_ignored_during_execution: Vec<PodAffinityTerm>,
    #[serde(default)]
    pub preferred_during_scheduling_ignored_during_execution: Vec<WeightedPodAffinityTerm>,
}

/// `v1.PodAntiAffinity` (the same shape as [`PodAffinity`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodAntiAffinity {
    #[serde(default)]
    pub required_during_scheduling_ignored_during_execution: Vec<PodAffinityTerm>,
    #[serde(default)]
    pub preferred_during_scheduling_ignored_during_execution: Vec<WeightedPodAffinityTerm>,
}

impl PodAffinity {
    /// Upstream API validation (`validatePodAffinity`); the error names the field path.
    pub fn validate(&self) -> Result<(), String> {
        validate_terms(
            &self.required_during_scheduling_ignored_during_execution,
            &self.preferred_during_scheduling_ignored_during_execution,
        )
    }
}

impl PodAntiAffinity {
    /// Upstream API validation (`validatePodAntiAffinity`); the error names the field path.
    pub fn validate(&self) -> Result<(), String> {
        validate_terms(
            &self.required_during_scheduling_ignored_during_execution,
            &self.preferred_during_scheduling_ignored_during_execution,
        )
    }
}

fn validate_terms(required: &[PodAffinityTerm], preferred: &[WeightedPodAffinityTerm]) -> Result<(), String> {
    for (i, t) in required.iter().enumerate() {
        t.validate().map_err(|m| format!("requiredDuringSchedulingIgnoredDuringExecution[{i}].{m}"))?;
    }
    for (i, t) in preferred.iter().enumerate() {
        t.validate().map_err(|m| format!("preferredDuringSchedulingIgnoredDuringExecution[{i}].{m}"))?;
    }
    Ok(())
}

impl WeightedPodAffinityTerm {
    /// Upstream `validateWeightedPodAffinityTerms`: weight in 1..=100, then the term.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=100).contains(&self.weight) {
            return Err(format!(
                "weight: {} is out of range; expected an integer from 1 to 100",
                self.weight
            ));
        }
        self.pod_affinity_term.validate().map_err(|m| format!("podAffinityTerm.{m}"))
    }
}

impl PodAffinityTerm {
    /// Upstream `validatePodAffinityTerm`: valid selectors, DNS-label namespace names,
    /// `matchLabelKeys`/`mismatchLabelKeys` rules (valid label keys, only with a
    /// `labelSelector`, a `matchLabelKeys` key neither in `labelSelector` nor in
    /// `mismatchLabelKeys`), and a non-empty, valid `topologyKey`. The error starts with the
    /// field name and says what was expected.
    pub fn validate(&self) -> Result<(), String> {
        if let Some(s) = &self.label_selector {
            super::label_selector::validate_full(s).map_err(|m| format!("labelSelector.{m}"))?;
        }
        if let Some(s) = &self.namespace_selector {
            super::label_selector::validate_full(s).map_err(|m| format!("namespaceSelector.{m}"))?;
        }
        for (i, n) in self.namespaces.iter().enumerate() {
            if !is_dns1123_label(n) {
                return Err(format!(
                    "namespaces[{i}]: `{n}` is not a namespace name; expected a DNS-1123 label (at most 63 \
                     lowercase letters, digits or '-', starting and ending with a letter or digit)"
                ));
            }
        }
        for (field, keys) in
            [("matchLabelKeys", &self.match_label_keys), ("mismatchLabelKeys", &self.mismatch_label_keys)]
        {
            if keys.is_empty() {
                continue;
            }
            if self.label_selector.is_none() {
                return Err(format!(
                    "{field}: set without a labelSelector; expected a labelSelector for the keys to extend"
                ));
            }
            for (i, k) in keys.iter().enumerate() {
                validate_qualified_name(k).map_err(|m| format!("{field}[{i}]: {m}"))?;
            }
        }
        if let Some(s) = &self.label_selector {
            for (i, k) in self.match_label_keys.iter().enumerate() {
                if s.match_labels.contains_key(k) || s.match_expressions.iter().any(|r| &r.key == k) {
                    return Err(format!(
                        "matchLabelKeys[{i}]: `{k}` is also a key of labelSelector; expected each key in \
                         only one of them"
                    ));
                }
            }
        }
        for (i, k) in self.match_label_keys.iter().enumerate() {
            if self.mismatch_label_keys.contains(k) {
                return Err(format!(
                    "matchLabelKeys[{i}]: `{k}` is also in mismatchLabelKeys; expected each key in only one \
                     of them"
                ));
            }
        }
        if self.topology_key.is_empty() {
            return Err("topologyKey: is empty; expected a node label key such as `kubernetes.io/hostname` \
                        or `topology.kubernetes.io/zone`"
                .into());
        }
        validate_qualified_name(&self.topology_key).map_err(|m| format!("topologyKey: {m}"))
    }

    /// Whether this term, owned by a pod in `owner_namespace` with `owner_labels`, selects the
    /// pod in `namespace` with `labels`, whose namespace has `namespace_labels` (`None`: the
    /// namespace is unknown). Upstream `AffinityTerm.Matches` (`framework/types.go`) on the
    /// term `newAffinityTerm` builds: the namespace part first (`namespaces`, or the owner's
    /// namespace when both `namespaces` and `namespaceSelector` are unset, ORed with the
    /// namespace selector), then the label selector extended by `matchLabelKeys` /
    /// `mismatchLabelKeys` with the owner's values (absent keys are skipped; an absent
    /// `labelSelector` selects nothing and is not extended).
    pub fn matches(
        &self,
        owner_namespace: &str,
        owner_labels: &Labels,
        namespace: &str,
        labels: &Labels,
        namespace_labels: Option<&Labels>,
    ) -> bool {
        self.namespace_matches(owner_namespace, namespace, namespace_labels)
            && self.selector_matches(owner_labels, labels)
    }

    /// `getNamespacesFromPodAffinityTerm` + `NamespaceSelector.Matches` (`framework/types.go`).
    fn namespace_matches(
        &self,
        owner_namespace: &str,
        namespace: &str,
        namespace_labels: Option<&Labels>,
    ) -> bool {
        if self.namespaces.is_empty() && self.namespace_selector.is_none() {
            return namespace == owner_namespace;
        }
        if self.namespaces.iter().any(|n| n == namespace) {
            return true;
        }
        match &self.namespace_selector {
            None => false,
            Some(s) if s.is_empty() => true,
            Some(s) => namespace_labels.is_some_and(|l| s.matches(l)),
        }
    }

    /// The label selector after the API server's `applyMatchLabelKeysAndMismatchLabelKeys`
    /// (`pkg/registry/core/pod/strategy.go`), evaluated without building it.
    fn selector_matches(&self, owner_labels: &Labels, labels: &Labels) -> bool {
        let Some(selector) = &self.label_selector else {
            return false;
        };
        selector.matches(labels)
            && self
                .match_label_keys
                .iter()
                .all(|k| owner_labels.get(k).is_none_or(|v| labels.get(k) == Some(v)))
            && self
                .mismatch_label_keys
                .iter()
                .all(|k| owner_labels.get(k).is_none_or(|v| labels.get(k) != Some(v)))
    }
}
