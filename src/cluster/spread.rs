//! Topology spread constraints (`v1.TopologySpreadConstraint`): the scenario vocabulary and
//! the API server's validation (`kubernetes/kubernetes:pkg/apis/core/validation/validation.go`
//! `validateTopologySpreadConstraints`). The scheduler's use of them is
//! `scheduler::plugins::topology_spread`.

use super::label_selector::LabelSelector;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Upstream `v1.LabelHostname`. Constraints on this key are scored per node; the simulator's
/// nodes answer it with their name.
pub const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";
/// Upstream `v1.LabelTopologyZone`.
pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

// ---------------------------------------------------------------------------------------------
// Scenario vocabulary
// ---------------------------------------------------------------------------------------------

/// `v1.UnsatisfiableConstraintAction`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WhenUnsatisfiable {
    /// A hard constraint: the Filter rejects nodes that would violate it.
    DoNotSchedule,
    /// A soft constraint: only the Score prefers nodes that reduce the skew.
    ScheduleAnyway,
}

impl fmt::Display for WhenUnsatisfiable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WhenUnsatisfiable::DoNotSchedule => "DoNotSchedule",
            WhenUnsatisfiable::ScheduleAnyway => "ScheduleAnyway",
        })
    }
}

/// `v1.NodeInclusionPolicy`: whether the pod's node affinity / its tolerations decide which
/// nodes' pods count towards the skew.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum NodeInclusionPolicy {
    Honor,
    Ignore,
}

/// `v1.TopologySpreadConstraint` (the YAML shape of the API object).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TopologySpreadConstraint {
    /// The largest allowed difference between a domain's matching pods and the global minimum.
    pub max_skew: i32,
    /// The node label whose values are the domains.
    pub topology_key: String,
    pub when_unsatisfiable: WhenUnsatisfiable,
    /// The pods that count; absent matches no pod, `{}` every pod (but see [`Constraint`]).
    #[serde(default)]
    pub label_selector: Option<LabelSelector>,
    /// DoNotSchedule only: with fewer eligible domains than this, the global minimum is 0.
    #[serde(default)]
    pub min_domains: Option<i32>,
    /// Default `Honor`: only nodes matching the pod's nodeSelector / required affinity count.
    #[serde(default)]
    pub node_affinity_policy: Option<NodeInclusionPolicy>,
    /// Default `Ignore`: tainted nodes count even if the pod does not tolerate the taints.
    #[serde(default)]
    pub node_taints_policy: Option<NodeInclusionPolicy>,
    /// Pod label keys whose values (taken from the incoming pod) are ANDed into the selector.
    #[serde(default)]
    pub match_label_keys: Vec<String>,
}

impl TopologySpreadConstraint {
    /// A constraint with only the required fields set.
    pub fn new(max_skew: i32, topology_key: &str, when_unsatisfiable: WhenUnsatisfiable) -> Self {
        TopologySpreadConstraint {
            max_skew,
            topology_key: topology_key.to_string(),
            when_unsatisfiable,
            label_selector: None,
            min_domains: None,
            node_affinity_policy: None,
            node_taints_policy: None,
            match_label_keys: Vec::new(),
        }
    }

    /// The API server's checks of one constraint
    /// (`kubernetes/kubernetes:pkg/apis/core/validation/validation.go`
    /// `validateTopologySpreadConstraints`: `ValidateMaxSkew`, `ValidateTopologyKey`,
    /// `validateMinDomains`, `validateMatchLabelKeysInTopologySpread`, `ValidateLabelSelector`;
    /// the enums are checked by deserialization). Duplicate `{topologyKey,
    /// whenUnsatisfiable}` pairs are a property of the list: [`validate_constraints`].
    pub fn validate(&self) -> Result<(), String> {
        if self.max_skew <= 0 {
            return Err(format!("maxSkew is {}; expected an integer greater than zero", self.max_skew));
        }
        if self.topology_key.is_empty() {
            return Err(format!(
                "topologyKey is empty; expected a node label key such as {ZONE_LABEL} or {HOSTNAME_LABEL}"
            ));
        }
        if let Some(m) = self.min_domains {
            if m <= 0 {
                return Err(format!("minDomains is {m}; expected an integer greater than zero"));
            }
            if self.when_unsatisfiable != WhenUnsatisfiable::DoNotSchedule {
                return Err(format!(
                    "minDomains is set with whenUnsatisfiable: {}; expected it only with \
                     whenUnsatisfiable: DoNotSchedule",
                    self.when_unsatisfiable
                ));
            }
        }
        if !self.match_label_keys.is_empty() {
            let Some(sel) = &self.label_selector else {
                return Err(
                    "matchLabelKeys is set without a labelSelector; expected a labelSelector too".into()
                );
            };
            for (i, key) in self.match_label_keys.iter().enumerate() {
                validate_label_key(key).map_err(|m| format!("matchLabelKeys[{i}]: {m}"))?;
                let in_selector =
                    sel.match_labels.contains_key(key) || sel.match_expressions.iter().any(|r| &r.key == key);
                if in_selector {
                    return Err(format!(
                        "matchLabelKeys[{i}] `{key}` is also a key of labelSelector; expected each key in \
                         only one of them"
                    ));
                }
            }
        }
        if let Some(sel) = &self.label_selector {
            super::label_selector::validate_full(sel).map_err(|m| format!("labelSelector: {m}"))?;
        }
        Ok(())
    }
}

/// Validates a pod's (or a template's) list of constraints: each one
/// ([`TopologySpreadConstraint::validate`]) and no `{topologyKey, whenUnsatisfiable}` pair twice
/// (upstream `ValidateSpreadConstraintNotRepeat`). The error names the index.
pub fn validate_constraints(constraints: &[TopologySpreadConstraint]) -> Result<(), String> {
    for (i, c) in constraints.iter().enumerate() {
        c.validate().map_err(|m| format!("topologySpreadConstraints[{i}]: {m}"))?;
    }
    check_not_repeated(constraints, "topologySpreadConstraints")
}

pub fn check_not_repeated(constraints: &[TopologySpreadConstraint], field: &str) -> Result<(), String> {
    for (i, c) in constraints.iter().enumerate() {
        for (j, other) in constraints.iter().enumerate().skip(i + 1) {
            if c.topology_key == other.topology_key && c.when_unsatisfiable == other.when_unsatisfiable {
                return Err(format!(
                    "{field}[{j}] repeats {{topologyKey: {}, whenUnsatisfiable: {}}} of {field}[{i}]; \
                    expected each pair at most once",
                    c.topology_key, c.when_unsatisfiable
                ));
            }
        }
    }
    Ok(())
}

/// A label key (upstream `validation.IsQualifiedName`).
pub fn validate_label_key(key: &str) -> Result<(), String> {
    super::label_selector::validate_qualified_name(key)
}
