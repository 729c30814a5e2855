//! PodTopologySpread: the filter (`whenUnsatisfiable: DoNotSchedule` constraints: placing the
//! pod must not push a domain's matching-pod count more than `maxSkew` above the global
//! minimum) and the score (`whenUnsatisfiable: ScheduleAnyway` constraints: fewer matching pods
//! in the node's domains is better), plus the cluster-level default constraints. Source:
//! `kubernetes/kubernetes:pkg/scheduler/framework/plugins/podtopologyspread/` (`common.go`,
//! `filtering.go`, `scoring.go`, `plugin.go`), v1.33+ semantics with every feature gate of the
//! plugin on (minDomains, nodeAffinityPolicy / nodeTaintsPolicy, matchLabelKeys), and the
//! selector deduction of `kubernetes/kubernetes:pkg/scheduler/framework/plugins/helper/spread.go`.
//!
//! Everything here is a pure function of an explicit snapshot ([`NodeView`]s holding their
//! pods), so it is the reference the simulator's incremental version is checked against:
//! - PreFilter ([`pre_filter`]) counts, per DoNotSchedule constraint, the matching pods of
//!   every eligible domain into a [`PreFilterState`]; Filter ([`filter`]) only reads that
//!   state and the node's labels, so a caller that keeps the counts itself can build the state
//!   with [`PreFilterState::from_counts`] / [`DomainCounts::add`] and reuse [`filter`];
//!   [`PreFilterState::update_with_pod`] is upstream's AddPod / RemovePod (used by preemption).
//! - PreScore ([`pre_score`]) → Score ([`score`]) → NormalizeScore ([`normalize_score`]) for
//!   the ScheduleAnyway constraints; the node's total gets `weight × score` with
//!   [`POD_TOPOLOGY_SPREAD_WEIGHT`].
//! - [`effective_constraints`] applies the default constraints (the system defaults or a
//!   configured list, [`Defaulting`]) to a pod that declares none.
//!
//! Determinism: every map is a `BTreeMap` / `BTreeSet`. The only float is the score's
//! `ln(size + 2)` weight, as upstream (rounded to an integer per node).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use super::{MAX_NODE_SCORE, node_affinity, taint_toleration};
use crate::cluster::label_selector::{LabelSelector, LabelSelectorOperator, LabelSelectorRequirement};
pub use crate::cluster::spread::{
    HOSTNAME_LABEL, NodeInclusionPolicy, TopologySpreadConstraint, WhenUnsatisfiable, ZONE_LABEL,
    check_not_repeated, validate_constraints,
};
use crate::cluster::{Labels, Placement, Taint};

/// Default weight of the PodTopologySpread score (MultiPoint), from
/// `kubernetes/kubernetes:pkg/scheduler/apis/config/v1/default_plugins.go` `getDefaultPlugins`.
pub const POD_TOPOLOGY_SPREAD_WEIGHT: i64 = 2;
/// Upstream `ErrReasonConstraintsNotMatch` (`plugin.go`).
pub const ERR_REASON_CONSTRAINTS_NOT_MATCH: &str = "node(s) didn't match pod topology spread constraints";
/// Upstream `ErrReasonNodeLabelNotMatch` (`plugin.go`).
pub const ERR_REASON_NODE_LABEL_NOT_MATCH: &str =
    "node(s) didn't match pod topology spread constraints (missing required label)";

/// Upstream `config.PodTopologySpreadConstraintsDefaulting` (the plugin argument
/// `defaultingType`). The v1 default is `System`
/// (`kubernetes/kubernetes:pkg/scheduler/apis/config/v1/defaults.go` `SetDefaults_PodTopologySpreadArgs`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DefaultingType {
    /// The built-in [`system_default_constraints`].
    #[default]
    System,
    /// The configured `defaultConstraints` (possibly none).
    List,
}

/// The plugin's arguments (`PodTopologySpreadArgs`), as a scenario would spell them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodTopologySpreadArgs {
    #[serde(default)]
    pub defaulting_type: DefaultingType,
    #[serde(default)]
    pub default_constraints: Vec<TopologySpreadConstraint>,
}

impl PodTopologySpreadArgs {
    /// Upstream `ValidatePodTopologySpreadArgs`
    /// (`kubernetes/kubernetes:pkg/scheduler/apis/config/validation/validation_pluginargs.go`):
    /// `System` takes no list; each default has `maxSkew > 0`, a topology key and no selector
    /// (it is deduced per pod); no `{topologyKey, whenUnsatisfiable}` pair twice.
    pub fn validate(&self) -> Result<(), String> {
        if self.defaulting_type == DefaultingType::System && !self.default_constraints.is_empty() {
            return Err("defaultingType is System but defaultConstraints is set; expected defaultingType: \
                        List to use the listed constraints, or no defaultConstraints"
                .into());
        }
        for (i, c) in self.default_constraints.iter().enumerate() {
            if c.max_skew <= 0 {
                return Err(format!(
                    "defaultConstraints[{i}]: maxSkew is {}; expected an integer greater than zero",
                    c.max_skew
                ));
            }
            if c.topology_key.is_empty() {
                return Err(format!(
                    "defaultConstraints[{i}]: topologyKey is empty; expected a node label key"
                ));
            }
            if c.label_selector.is_some() {
                return Err(format!(
                    "defaultConstraints[{i}]: labelSelector is set; expected none (the selector is deduced \
                    for each pod from its Services and controller)"
                ));
            }
        }
        check_not_repeated(&self.default_constraints, "defaultConstraints")
    }

    /// The defaulting these arguments select.
    pub fn defaulting(&self) -> Defaulting {
        match self.defaulting_type {
            DefaultingType::System => Defaulting::System,
            DefaultingType::List => Defaulting::List(self.default_constraints.clone()),
        }
    }
}

/// Which default constraints apply to pods that declare none (upstream `New` in `plugin.go`:
/// `SystemDefaulting` replaces the list with `systemDefaultConstraints`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Defaulting {
    /// [`system_default_constraints`].
    #[default]
    System,
    /// This list (empty: no default spreading).
    List(Vec<TopologySpreadConstraint>),
}

/// Upstream `systemDefaultConstraints` (`plugin.go`): hostname with `maxSkew: 3` and zone with
/// `maxSkew: 5`, both ScheduleAnyway, in that order.
pub fn system_default_constraints() -> Vec<TopologySpreadConstraint> {
    vec![
        TopologySpreadConstraint::new(3, HOSTNAME_LABEL, WhenUnsatisfiable::ScheduleAnyway),
        TopologySpreadConstraint::new(5, ZONE_LABEL, WhenUnsatisfiable::ScheduleAnyway),
    ]
}

/// Upstream `helper.DefaultSelector`
/// (`kubernetes/kubernetes:pkg/scheduler/framework/plugins/helper/spread.go`):
/// the selector default constraints use for a pod, deduced from
/// - the Services of the pod's namespace whose selector matches the pod's labels
///   (`GetPodServices`; pass only Services that have a selector: a nil selector matches
///   nothing), their selectors merged, and
/// - the selector of the pod's controlling ReplicaSet / StatefulSet / ReplicationController,
///   if it exists (its requirements are ANDed in whether or not they match the pod, as
///   upstream; `None` for no controller, a controller that is not found, or a nil selector).
///
/// An empty result means "no default constraints" ([`effective_constraints`]).
pub fn default_selector(
    pod_labels: &Labels,
    service_selectors: &[&Labels],
    controller_selector: Option<&LabelSelector>,
) -> LabelSelector {
    let mut out = LabelSelector::default();
    for s in service_selectors {
        if s.iter().all(|(k, v)| pod_labels.get(k) == Some(v)) {
            for (k, v) in s.iter() {
                out.match_labels.insert(k.clone(), v.clone());
            }
        }
    }
    if let Some(ctrl) = controller_selector {
        for (k, v) in &ctrl.match_labels {
            out.match_expressions.push(LabelSelectorRequirement {
                key: k.clone(),
                operator: LabelSelectorOperator::In,
                values: vec![v.clone()],
            });
        }
        out.match_expressions.extend(ctrl.match_expressions.iter().cloned());
    }
    out
}

/// The constraints the plugin applies to a pod (upstream `getConstraints` /
/// `initPreScoreState` → `buildDefaultConstraints`, `common.go`):
/// - a pod that declares constraints keeps exactly those (defaults never mix in);
/// - otherwise the defaults of `defaulting` apply, each with `labelSelector` set to
///   `owner_selector` (use [`default_selector`]: the pod's Services and controller) and its
///   `matchLabelKeys` dropped (upstream merges them into the defaults' nil selector, which stays
///   nil, and then replaces the selector);
/// - no defaults apply when `owner_selector` is `None` or empty (a pod no Service, ReplicaSet
///   or StatefulSet selects is not spread by default).
///
/// The result goes into [`IncomingPod::constraints`]; both DoNotSchedule and ScheduleAnyway
/// constraints are kept (PreFilter and PreScore each take theirs).
pub fn effective_constraints(
    pod_constraints: &[TopologySpreadConstraint],
    defaulting: &Defaulting,
    owner_selector: Option<&LabelSelector>,
) -> Vec<TopologySpreadConstraint> {
    if !pod_constraints.is_empty() {
        return pod_constraints.to_vec();
    }
    let Some(selector) = owner_selector.filter(|s| !s.is_empty()) else {
        return Vec::new();
    };
    let defaults = match defaulting {
        Defaulting::System => system_default_constraints(),
        Defaulting::List(list) => list.clone(),
    };
    defaults
        .into_iter()
        .map(|mut c| {
            c.label_selector = Some(selector.clone());
            c.match_label_keys.clear();
            c
        })
        .collect()
}

/// Upstream PreScore's `requireAllTopologies` (`scoring.go`): nodes must carry every topology
/// key to be scored unless the constraints are the system defaults (so nodes without a zone
/// label still get hostname spreading). Pass it to [`pre_score`].
pub fn require_all_topologies(pod_constraints: &[TopologySpreadConstraint], defaulting: &Defaulting) -> bool {
    !pod_constraints.is_empty() || !matches!(defaulting, Defaulting::System)
}

// ---------------------------------------------------------------------------------------------
// Snapshot
// ---------------------------------------------------------------------------------------------

/// A node as the plugin sees it: labels, taints and the pods bound to it.
#[derive(Clone, Debug)]
pub struct NodeView<'a> {
    pub name: &'a str,
    pub labels: &'a Labels,
    pub taints: &'a [Taint],
    /// Read by [`pre_filter`], [`pre_score`] and [`score`] (hostname constraints);
    /// [`filter`] and [`PreFilterState::update_with_pod`] never read it, so it may be left
    /// empty there.
    pub pods: Vec<PodView<'a>>,
}

impl<'a> NodeView<'a> {
    /// The node's value of label `key`; for [`HOSTNAME_LABEL`] the node's name when the labels
    /// lack it (the simulator's nodes carry no hostname label; kubelet sets it to the name).
    pub fn label(&self, key: &str) -> Option<&'a str> {
        match self.labels.get(key) {
            Some(v) => Some(v.as_str()),
            None if key == HOSTNAME_LABEL => Some(self.name),
            None => None,
        }
    }
}

/// A pod bound to a node.
#[derive(Clone, Copy, Debug)]
pub struct PodView<'a> {
    pub namespace: &'a str,
    pub labels: &'a Labels,
    /// Being deleted (upstream `DeletionTimestamp != nil`): never counted by PreFilter / PreScore.
    pub terminating: bool,
}

/// The pod being scheduled.
#[derive(Clone, Copy, Debug)]
pub struct IncomingPod<'a> {
    pub namespace: &'a str,
    pub labels: &'a Labels,
    pub placement: &'a Placement,
    /// The effective constraints ([`effective_constraints`]).
    pub constraints: &'a [TopologySpreadConstraint],
}

// ---------------------------------------------------------------------------------------------
// Resolved constraints (common.go)
// ---------------------------------------------------------------------------------------------

/// Upstream's internal `topologySpreadConstraint` (`common.go`): one constraint with its
/// selector resolved and its defaults applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraint {
    pub max_skew: i32,
    pub topology_key: String,
    /// `None` is upstream's `labels.Nothing()` (no `labelSelector`): it matches no pod. An
    /// empty selector matches every pod's labels, but [`Constraint::count_matching`] counts 0
    /// for it, as upstream `countPodsMatchSelector` does (`selector.Empty()`).
    pub selector: Option<LabelSelector>,
    /// `minDomains`, 1 when unset.
    pub min_domains: i32,
    pub node_affinity_policy: NodeInclusionPolicy,
    pub node_taints_policy: NodeInclusionPolicy,
}

impl Constraint {
    /// Whether the selector matches these labels (upstream `Selector.Matches`).
    pub fn selects(&self, labels: &Labels) -> bool {
        self.selector.as_ref().is_some_and(|s| s.matches(labels))
    }

    /// Upstream `countPodsMatchSelector` (`common.go`): the pods of `namespace` the selector
    /// matches, leaving out terminating pods; 0 for an empty selector.
    pub fn count_matching(&self, pods: &[PodView<'_>], namespace: &str) -> i64 {
        let Some(sel) = &self.selector else {
            return 0;
        };
        if sel.is_empty() {
            return 0;
        }
        let mut n = 0;
        for p in pods {
            if p.terminating || p.namespace != namespace {
                continue;
            }
            if sel.matches(p.labels) {
                n += 1;
            }
        }
        n
    }

    /// Upstream `matchNodeInclusionPolicies` (`common.go`): with `nodeAffinityPolicy: Honor`
    /// the node must match the pod's nodeSelector and required node affinity
    /// ([`node_affinity::filter`]); with `nodeTaintsPolicy: Honor` the pod must tolerate the
    /// node's NoSchedule / NoExecute taints ([`taint_toleration::filter`]).
    pub fn includes_node(&self, pod: &IncomingPod<'_>, node: &NodeView<'_>) -> bool {
        if self.node_affinity_policy == NodeInclusionPolicy::Honor
            && !node_affinity::filter(node.labels, pod.placement)
        {
            return false;
        }
        if self.node_taints_policy == NodeInclusionPolicy::Honor
            && !taint_toleration::filter(node.taints, &pod.placement.tolerations)
        {
            return false;
        }
        true
    }
}

/// Upstream `filterTopologySpreadConstraints` (`common.go`): the constraints with this
/// `whenUnsatisfiable`, the pod's values of `matchLabelKeys` ANDed into the selector (only the
/// keys the pod has; a nil selector stays nil), `minDomains` 1, `nodeAffinityPolicy` Honor and
/// `nodeTaintsPolicy` Ignore when unset.
pub fn resolve_constraints(
    constraints: &[TopologySpreadConstraint],
    pod_labels: &Labels,
    action: WhenUnsatisfiable,
) -> Vec<Constraint> {
    constraints
        .iter()
        .filter(|c| c.when_unsatisfiable == action)
        .map(|c| Constraint {
            max_skew: c.max_skew,
            topology_key: c.topology_key.clone(),
            selector: c.label_selector.as_ref().map(|s| {
                if c.match_label_keys.is_empty() {
                    s.clone()
                } else {
                    s.with_label_keys(&c.match_label_keys, pod_labels)
                }
            }),
            min_domains: c.min_domains.unwrap_or(1),
            node_affinity_policy: c.node_affinity_policy.unwrap_or(NodeInclusionPolicy::Honor),
            node_taints_policy: c.node_taints_policy.unwrap_or(NodeInclusionPolicy::Ignore),
        })
        .collect()
}

/// Upstream `nodeLabelsMatchSpreadConstraints` (`common.go`): the node has every constraint's
/// topology key (with the hostname fallback of [`NodeView::label`]).
pub fn node_has_all_keys(node: &NodeView<'_>, constraints: &[Constraint]) -> bool {
    constraints.iter().all(|c| node.label(&c.topology_key).is_some())
}

// ---------------------------------------------------------------------------------------------
// PreFilter + Filter (filtering.go)
// ---------------------------------------------------------------------------------------------

/// Matching-pod counts per domain of one constraint, with the exact global minimum kept
/// under any update (upstream `TpValueToMatchNum[i]` plus `MinMatchNum` / `DomainsAtCount`,
/// `filtering.go`). A domain, once present, stays (with count 0 if its pods go).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DomainCounts {
    counts: BTreeMap<String, i64>,
    /// count → number of domains with that count; its first key is the minimum.
    domains_at: BTreeMap<i64, usize>,
}

impl DomainCounts {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `delta` to the domain's count, creating the domain (at 0) first if needed; `delta`
    /// 0 just registers the domain (an eligible node without matching pods).
    pub fn add(&mut self, domain: &str, delta: i64) {
        let old = match self.counts.get_mut(domain) {
            Some(c) => {
                let old = *c;
                *c += delta;
                Some(old)
            }
            None => {
                self.counts.insert(domain.to_string(), delta);
                None
            }
        };
        if let Some(old) = old
            && let Some(n) = self.domains_at.get_mut(&old)
        {
            *n -= 1;
            if *n == 0 {
                self.domains_at.remove(&old);
            }
        }
        *self.domains_at.entry(old.unwrap_or(0) + delta).or_insert(0) += 1;
    }

    /// The domain's count (0 for an unknown domain).
    pub fn get(&self, domain: &str) -> i64 {
        self.counts.get(domain).copied().unwrap_or(0)
    }

    /// The number of eligible domains.
    pub fn domains(&self) -> usize {
        self.counts.len()
    }

    /// The smallest count over the domains; `None` without domains.
    pub fn min(&self) -> Option<i64> {
        self.domains_at.first_key_value().map(|(k, _)| *k)
    }

    /// The domains and their counts, in domain order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, i64)> + '_ {
        self.counts.iter().map(|(k, v)| (k.as_str(), *v))
    }
}

/// Upstream `preFilterState` (`filtering.go`): the DoNotSchedule constraints and their
/// per-domain counts. With no constraints the plugin is skipped (every node passes).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PreFilterState {
    constraints: Vec<Constraint>,
    counts: Vec<DomainCounts>,
}

impl PreFilterState {
    /// A state from counts kept elsewhere (one [`DomainCounts`] per constraint, in order;
    /// missing ones are empty, extra ones dropped). The counts must be what [`pre_filter`]
    /// would compute for the same pod and cluster for [`filter`] to be upstream's.
    pub fn from_counts(constraints: Vec<Constraint>, mut counts: Vec<DomainCounts>) -> Self {
        counts.resize(constraints.len(), DomainCounts::default());
        PreFilterState { constraints, counts }
    }

    /// True when the pod has no DoNotSchedule constraint (upstream PreFilter returns Skip).
    pub fn is_skip(&self) -> bool {
        self.constraints.is_empty()
    }

    pub fn constraints(&self) -> &[Constraint] {
        &self.constraints
    }

    /// The counts of constraint `i`.
    pub fn counts(&self, i: usize) -> Option<&DomainCounts> {
        self.counts.get(i)
    }

    /// Upstream `preFilterState.minMatchNum`: the global minimum of constraint `i`, or 0 when
    /// it has fewer eligible domains than `minDomains`. Without domains (and `minDomains` ≤ 0,
    /// which validation rejects) it is `i32::MAX`, as upstream.
    pub fn min_match_num(&self, i: usize) -> i64 {
        let (Some(c), Some(counts)) = (self.constraints.get(i), self.counts.get(i)) else {
            return 0;
        };
        let domains = i64::try_from(counts.domains()).unwrap_or(i64::MAX);
        if domains < i64::from(c.min_domains) {
            return 0;
        }
        counts.min().unwrap_or(i64::from(i32::MAX))
    }

    /// Upstream `updateWithPod` (`filtering.go`, behind PreFilterExtensions AddPod (`delta`
    /// +1) / RemovePod (−1)): `updated`, a pod on `node`, enters or leaves the counts of the
    /// constraints whose selector matches it, if it is in the incoming pod's namespace, the
    /// node has every topology key and the constraint's inclusion policies admit the node.
    /// As upstream this does not look at `updated.terminating`, and uses `Selector.Matches`
    /// (so an empty selector counts here though PreFilter counts 0 for it).
    pub fn update_with_pod(
        &mut self,
        pod: &IncomingPod<'_>,
        node: &NodeView<'_>,
        updated: &PodView<'_>,
        delta: i64,
    ) {
        if updated.namespace != pod.namespace || !node_has_all_keys(node, &self.constraints) {
            return;
        }
        for (c, counts) in self.constraints.iter().zip(self.counts.iter_mut()) {
            if !c.selects(updated.labels) || !c.includes_node(pod, node) {
                continue;
            }
            if let Some(value) = node.label(&c.topology_key) {
                counts.add(value, delta);
            }
        }
    }
}

/// Upstream PreFilter (`calPreFilterState`, `filtering.go`): for each DoNotSchedule constraint
/// of `pod.constraints`, the matching pods per domain over the eligible nodes: a node counts
/// when it has every constraint's topology key ([`node_has_all_keys`]) and the constraint's
/// inclusion policies admit it ([`Constraint::includes_node`]); its domain is registered even
/// with no matching pod. Pods count when in the incoming pod's namespace, not terminating and
/// selected ([`Constraint::count_matching`]).
pub fn pre_filter(pod: &IncomingPod<'_>, nodes: &[NodeView<'_>]) -> PreFilterState {
    let constraints = resolve_constraints(pod.constraints, pod.labels, WhenUnsatisfiable::DoNotSchedule);
    if constraints.is_empty() {
        return PreFilterState::default();
    }
    let mut counts = vec![DomainCounts::new(); constraints.len()];
    for node in nodes {
        if !node_has_all_keys(node, &constraints) {
            continue;
        }
        for (c, domain_counts) in constraints.iter().zip(counts.iter_mut()) {
            if !c.includes_node(pod, node) {
                continue;
            }
            if let Some(value) = node.label(&c.topology_key) {
                domain_counts.add(value, c.count_matching(&node.pods, pod.namespace));
            }
        }
    }
    PreFilterState { constraints, counts }
}

/// Why [`filter`] rejected a node (upstream's two Filter statuses, `filtering.go`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterFailure {
    /// `Unschedulable`: placing the pod would exceed some constraint's `maxSkew`.
    ConstraintsNotMatch,
    /// `UnschedulableAndUnresolvable`: the node lacks a constraint's topology key
    /// (preemption cannot help).
    NodeLabelNotMatch,
}

impl FilterFailure {
    /// Upstream's reason string.
    pub fn reason(self) -> &'static str {
        match self {
            FilterFailure::ConstraintsNotMatch => ERR_REASON_CONSTRAINTS_NOT_MATCH,
            FilterFailure::NodeLabelNotMatch => ERR_REASON_NODE_LABEL_NOT_MATCH,
        }
    }

    /// True for `UnschedulableAndUnresolvable`.
    pub fn is_unresolvable(self) -> bool {
        self == FilterFailure::NodeLabelNotMatch
    }
}

impl fmt::Display for FilterFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// Upstream Filter (`filtering.go`): for each constraint in order, a node without the
/// topology key fails with [`FilterFailure::NodeLabelNotMatch`]; otherwise it fails with
/// [`FilterFailure::ConstraintsNotMatch`] when
/// `count(node's domain) + (1 if the selector matches the pod itself) − min_match_num > maxSkew`.
/// Reads only `state` and the node's labels (not its pods). Allocation-free.
pub fn filter(
    state: &PreFilterState,
    pod: &IncomingPod<'_>,
    node: &NodeView<'_>,
) -> Result<(), FilterFailure> {
    for (i, (c, counts)) in state.constraints.iter().zip(state.counts.iter()).enumerate() {
        let Some(value) = node.label(&c.topology_key) else {
            return Err(FilterFailure::NodeLabelNotMatch);
        };
        let min_match = state.min_match_num(i);
        let self_match = i64::from(c.selects(pod.labels));
        let skew = counts.get(value) + self_match - min_match;
        if skew > i64::from(c.max_skew) {
            return Err(FilterFailure::ConstraintsNotMatch);
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// PreScore + Score + NormalizeScore (scoring.go)
// ---------------------------------------------------------------------------------------------

/// Upstream `preScoreState` (`scoring.go`).
#[derive(Clone, Debug, PartialEq)]
pub struct PreScoreState {
    /// The ScheduleAnyway constraints.
    pub constraints: Vec<Constraint>,
    /// Filtered nodes missing some topology key (when all are required): scored 0.
    pub ignored_nodes: BTreeSet<String>,
    /// Per constraint: matching pods per domain of the filtered nodes (empty for hostname
    /// constraints, counted per node in [`score`]).
    pub topology_value_to_pod_counts: Vec<BTreeMap<String, i64>>,
    /// Per constraint: `ln(domains + 2)` (hostname: the number of scored nodes).
    pub topology_normalizing_weight: Vec<f64>,
}

impl PreScoreState {
    /// Whether `node` is ignored (scored 0, then 0 after normalisation).
    pub fn is_ignored(&self, node: &str) -> bool {
        self.ignored_nodes.contains(node)
    }
}

/// Upstream `topologyNormalizingWeight` (`scoring.go`): `ln(size + 2)`.
pub fn topology_normalizing_weight(size: usize) -> f64 {
    (size as f64 + 2.0).ln()
}

/// Upstream `scoreForCount` (`scoring.go`): `cnt × weight + (maxSkew − 1)`.
pub fn score_for_count(cnt: i64, max_skew: i32, weight: f64) -> f64 {
    cnt as f64 * weight + f64::from(max_skew - 1)
}

/// Upstream PreScore + `initPreScoreState` (`scoring.go`). `nodes` is the whole cluster,
/// `filtered` the indexes in `nodes` of the nodes that passed the filters (out-of-range
/// indexes are skipped), `require_all_topologies` from [`require_all_topologies`].
///
/// Returns `None` (upstream Skip: the plugin adds nothing to any node) when the cluster has no
/// node or the pod has no ScheduleAnyway constraint. Otherwise:
/// - a filtered node missing a topology key is ignored when all are required; the other
///   filtered nodes define each non-hostname constraint's domains (a node without the key, only
///   possible with the system defaults, is in domain `""`);
/// - the weight of a constraint is `ln(domains + 2)`, for hostname `ln(scored nodes + 2)`;
/// - every node of the cluster whose domain is one of those, that has every key (if
///   required) and that the inclusion policies admit adds its matching pods to its domain.
pub fn pre_score(
    pod: &IncomingPod<'_>,
    nodes: &[NodeView<'_>],
    filtered: &[usize],
    require_all_topologies: bool,
) -> Option<PreScoreState> {
    if nodes.is_empty() {
        return None;
    }
    let constraints = resolve_constraints(pod.constraints, pod.labels, WhenUnsatisfiable::ScheduleAnyway);
    if constraints.is_empty() {
        return None;
    }
    let mut ignored_nodes = BTreeSet::new();
    let mut counts: Vec<BTreeMap<String, i64>> = vec![BTreeMap::new(); constraints.len()];
    let mut filtered_nodes = 0usize;
    for node in filtered.iter().filter_map(|&i| nodes.get(i)) {
        filtered_nodes += 1;
        if require_all_topologies && !node_has_all_keys(node, &constraints) {
            ignored_nodes.insert(node.name.to_string());
            continue;
        }
        for (c, domain_counts) in constraints.iter().zip(counts.iter_mut()) {
            if c.topology_key == HOSTNAME_LABEL {
                continue;
            }
            let value = node.label(&c.topology_key).unwrap_or("");
            if !domain_counts.contains_key(value) {
                domain_counts.insert(value.to_string(), 0);
            }
        }
    }
    let topology_normalizing_weight = constraints
        .iter()
        .zip(counts.iter())
        .map(|(c, domain_counts)| {
            let size = if c.topology_key == HOSTNAME_LABEL {
                filtered_nodes.saturating_sub(ignored_nodes.len())
            } else {
                domain_counts.len()
            };
            topology_normalizing_weight(size)
        })
        .collect();

    for node in nodes {
        if require_all_topologies && !node_has_all_keys(node, &constraints) {
            continue;
        }
        for (c, domain_counts) in constraints.iter().zip(counts.iter_mut()) {
            if !c.includes_node(pod, node) {
                continue;
            }
            let value = node.label(&c.topology_key).unwrap_or("");
            if let Some(cnt) = domain_counts.get_mut(value) {
                *cnt += c.count_matching(&node.pods, pod.namespace);
            }
        }
    }
    Some(PreScoreState {
        constraints,
        ignored_nodes,
        topology_value_to_pod_counts: counts,
        topology_normalizing_weight,
    })
}

/// Upstream Score (`scoring.go`): 0 for an ignored node; otherwise, rounded half away from
/// zero, `Σ score_for_count(cnt, maxSkew, weight)` over the constraints whose key the node has,
/// where `cnt` is the node's own matching pods for a hostname constraint and its domain's count
/// from PreScore otherwise (0 if the domain is unknown, i.e. the node was not among the
/// filtered nodes). Lower is better until [`normalize_score`] reverses it.
pub fn score(state: &PreScoreState, pod: &IncomingPod<'_>, node: &NodeView<'_>) -> i64 {
    if state.is_ignored(node.name) {
        return 0;
    }
    let mut total = 0.0f64;
    for (i, c) in state.constraints.iter().enumerate() {
        let Some(value) = node.label(&c.topology_key) else {
            continue;
        };
        let cnt = if c.topology_key == HOSTNAME_LABEL {
            c.count_matching(&node.pods, pod.namespace)
        } else {
            state.topology_value_to_pod_counts.get(i).and_then(|m| m.get(value)).copied().unwrap_or(0)
        };
        let weight = state.topology_normalizing_weight.get(i).copied().unwrap_or(0.0);
        total += score_for_count(cnt, c.max_skew, weight);
    }
    total.round() as i64
}

/// Upstream NormalizeScore (`scoring.go`): over the non-ignored nodes, `min` and `max` of the
/// raw scores (`max` starts at 0); ignored nodes get 0; if `max == 0` every other node gets
/// `MaxNodeScore`; otherwise `s ↦ MaxNodeScore × (max + min − s) / max` (integer division).
/// `scores` holds `(node name, raw score)`.
pub fn normalize_score(state: &PreScoreState, scores: &mut [(&str, i64)]) {
    let mut min_score = i64::MAX;
    let mut max_score = 0i64;
    for (name, s) in scores.iter() {
        if state.is_ignored(name) {
            continue;
        }
        min_score = min_score.min(*s);
        max_score = max_score.max(*s);
    }
    for (name, s) in scores.iter_mut() {
        if state.is_ignored(name) {
            *s = 0;
        } else if max_score == 0 {
            *s = MAX_NODE_SCORE;
        } else {
            *s = MAX_NODE_SCORE * (max_score + min_score - *s) / max_score;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::spread::validate_label_key;
    use crate::cluster::{
        NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, SelectorOperator, TaintEffect,
        TolerationOperator,
    };
    use crate::scheduler::plugins::node_unschedulable::TAINT_NODE_UNSCHEDULABLE;
    use crate::scheduler::plugins::test_support::tol;
    use NodeInclusionPolicy::{Honor, Ignore};
    use WhenUnsatisfiable::{DoNotSchedule, ScheduleAnyway};

    /// Upstream `math.MaxInt32`: the minimum of a constraint without domains (`newCriticalPaths`).
    const MAX_I32: i64 = i32::MAX as i64;

    fn labels(kv: &[(&str, &str)]) -> Labels {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    // Selectors of the upstream tests (`st.MakeLabelSelector()`).

    /// `st.MakeLabelSelector().Exists(key)`.
    fn exists(key: &str) -> Option<LabelSelector> {
        Some(LabelSelector {
            match_labels: BTreeMap::new(),
            match_expressions: vec![LabelSelectorRequirement {
                key: key.into(),
                operator: LabelSelectorOperator::Exists,
                values: vec![],
            }],
        })
    }
    /// `fooSelector`.
    fn foo() -> Option<LabelSelector> {
        exists("foo")
    }
    /// `barSelector`.
    fn bar() -> Option<LabelSelector> {
        exists("bar")
    }
    /// `st.MakeLabelSelector().Label(k, v)...`.
    fn sel(kv: &[(&str, &str)]) -> Option<LabelSelector> {
        Some(LabelSelector::of(&labels(kv)))
    }
    /// `st.MakeLabelSelector().Obj()`: the empty selector.
    fn empty_sel() -> Option<LabelSelector> {
        Some(LabelSelector::default())
    }

    // Nodes (`st.MakeNode()`).

    struct TNode {
        name: String,
        labels: Labels,
        taints: Vec<Taint>,
    }

    fn node(name: &str) -> TNode {
        TNode { name: name.into(), labels: Labels::new(), taints: Vec::new() }
    }

    impl TNode {
        fn label(mut self, k: &str, v: &str) -> Self {
            self.labels.insert(k.into(), v.into());
            self
        }
        /// `.Taints(taints)` with the tests' `node.kubernetes.io/unschedulable:NoSchedule` taint.
        fn tainted(mut self) -> Self {
            self.taints.push(Taint {
                key: TAINT_NODE_UNSCHEDULABLE.into(),
                value: String::new(),
                effect: TaintEffect::NoSchedule,
            });
            self
        }
    }

    /// A node with labels `zone` and `node` (filtering tests).
    fn zn(name: &str, zone: &str) -> TNode {
        node(name).label("zone", zone).label("node", name)
    }
    /// A node with label `node` only.
    fn n(name: &str) -> TNode {
        node(name).label("node", name)
    }
    /// A node with labels `zone` and `kubernetes.io/hostname` (scoring tests).
    fn zh(name: &str, zone: &str) -> TNode {
        node(name).label("zone", zone).label(HOSTNAME_LABEL, name)
    }
    /// A node with label `kubernetes.io/hostname` only.
    fn h(name: &str) -> TNode {
        node(name).label(HOSTNAME_LABEL, name)
    }

    // Pods (`st.MakePod()`).

    #[derive(Clone)]
    struct TPod {
        ns: String,
        labels: Labels,
        node: String,
        terminating: bool,
        constraints: Vec<TopologySpreadConstraint>,
        placement: Placement,
    }

    fn pod() -> TPod {
        TPod {
            ns: "default".into(),
            labels: Labels::new(),
            node: String::new(),
            terminating: false,
            constraints: Vec::new(),
            placement: Placement::default(),
        }
    }
    /// `st.MakePod().Node(node)`.
    fn on(node: &str) -> TPod {
        let mut p = pod();
        p.node = node.into();
        p
    }
    /// `st.MakePod().Node(node).Label("foo", "")`.
    fn fp(node: &str) -> TPod {
        on(node).label("foo", "")
    }

    impl TPod {
        fn ns(mut self, ns: &str) -> Self {
            self.ns = ns.into();
            self
        }
        fn label(mut self, k: &str, v: &str) -> Self {
            self.labels.insert(k.into(), v.into());
            self
        }
        fn terminating(mut self) -> Self {
            self.terminating = true;
            self
        }
        /// `.SpreadConstraint(maxSkew, key, mode, selector, minDomains, nodeAffinityPolicy,
        /// nodeTaintsPolicy, matchLabelKeys)`.
        #[allow(clippy::too_many_arguments)]
        fn spread(
            mut self,
            max_skew: i32,
            key: &str,
            when: WhenUnsatisfiable,
            selector: Option<LabelSelector>,
            min_domains: Option<i32>,
            affinity_policy: Option<NodeInclusionPolicy>,
            taints_policy: Option<NodeInclusionPolicy>,
            keys: &[&str],
        ) -> Self {
            self.constraints.push(TopologySpreadConstraint {
                max_skew,
                topology_key: key.into(),
                when_unsatisfiable: when,
                label_selector: selector,
                min_domains,
                node_affinity_policy: affinity_policy,
                node_taints_policy: taints_policy,
                match_label_keys: keys.iter().map(|k| k.to_string()).collect(),
            });
            self
        }
        /// `.SpreadConstraint(maxSkew, key, mode, selector, nil, nil, nil, nil)`.
        fn sc(
            self,
            max_skew: i32,
            key: &str,
            when: WhenUnsatisfiable,
            selector: Option<LabelSelector>,
        ) -> Self {
            self.spread(max_skew, key, when, selector, None, None, None, &[])
        }
        fn node_selector(mut self, k: &str, v: &str) -> Self {
            self.placement.node_selector.insert(k.into(), v.into());
            self
        }
        fn affinity(mut self, key: &str, operator: SelectorOperator, values: &[&str]) -> Self {
            self.placement.node_affinity = NodeAffinity {
                required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                    node_selector_terms: vec![NodeSelectorTerm {
                        match_expressions: vec![NodeSelectorRequirement {
                            key: key.into(),
                            operator,
                            values: values.iter().map(|v| v.to_string()).collect(),
                        }],
                    }],
                }),
                preferred_during_scheduling_ignored_during_execution: Vec::new(),
            };
            self
        }
        /// `.NodeAffinityIn(key, values, st.NodeSelectorTypeMatchExpressions)`.
        fn affinity_in(self, key: &str, values: &[&str]) -> Self {
            self.affinity(key, SelectorOperator::In, values)
        }
        /// `.NodeAffinityNotIn(key, values)`.
        fn affinity_not_in(self, key: &str, values: &[&str]) -> Self {
            self.affinity(key, SelectorOperator::NotIn, values)
        }
        /// `.Toleration(v1.TaintNodeUnschedulable)`.
        fn tolerate_unschedulable(mut self) -> Self {
            self.placement.tolerations.push(tol(
                TAINT_NODE_UNSCHEDULABLE,
                TolerationOperator::Exists,
                "",
                Some(TaintEffect::NoSchedule),
            ));
            self
        }
        fn view(&self) -> PodView<'_> {
            PodView { namespace: &self.ns, labels: &self.labels, terminating: self.terminating }
        }
        /// The incoming pod with these effective constraints.
        fn incoming<'a>(&'a self, constraints: &'a [TopologySpreadConstraint]) -> IncomingPod<'a> {
            IncomingPod { namespace: &self.ns, labels: &self.labels, placement: &self.placement, constraints }
        }
    }

    /// `cache.NewSnapshot(existingPods, nodes)`.
    fn cluster<'a>(nodes: &'a [TNode], pods: &'a [TPod]) -> Vec<NodeView<'a>> {
        nodes
            .iter()
            .map(|n| NodeView {
                name: &n.name,
                labels: &n.labels,
                taints: &n.taints,
                pods: pods.iter().filter(|p| p.node == n.name).map(TPod::view).collect(),
            })
            .collect()
    }

    /// Nodes a, b in zone1 and x, y in zone2, labelled `zone` and `node`.
    fn four_zn() -> Vec<TNode> {
        vec![zn("node-a", "zone1"), zn("node-b", "zone1"), zn("node-x", "zone2"), zn("node-y", "zone2")]
    }

    /// One constraint of an expected preFilterState: topology key, maxSkew,
    /// `CriticalPaths[i][0].MatchNum` (the global minimum; `MAX_I32` without domains) and
    /// `TpValueToMatchNum[i]`.
    struct WantC {
        key: &'static str,
        max_skew: i32,
        min: i64,
        counts: Vec<(&'static str, i64)>,
    }

    fn wc(key: &'static str, max_skew: i32, min: i64, counts: &[(&'static str, i64)]) -> WantC {
        WantC { key, max_skew, min, counts: counts.to_vec() }
    }

    fn check_state(name: &str, got: &PreFilterState, want: &[WantC]) {
        assert_eq!(got.constraints().len(), want.len(), "{name}: number of constraints");
        for (i, w) in want.iter().enumerate() {
            let c = &got.constraints()[i];
            assert_eq!((c.topology_key.as_str(), c.max_skew), (w.key, w.max_skew), "{name}: constraint {i}");
            let counts = got.counts(i).expect("counts");
            let got_counts: Vec<(&str, i64)> = counts.iter().collect();
            let mut want_counts = w.counts.clone();
            want_counts.sort();
            assert_eq!(got_counts, want_counts, "{name}: TpValueToMatchNum[{i}]");
            assert_eq!(counts.min().unwrap_or(MAX_I32), w.min, "{name}: CriticalPaths[{i}][0].MatchNum");
        }
    }

    struct PfRow {
        name: &'static str,
        pod: TPod,
        nodes: Vec<TNode>,
        existing: Vec<TPod>,
        /// `defaultConstraints` (ListDefaulting) and the Services' selectors.
        defaults: Vec<TopologySpreadConstraint>,
        services: Vec<Labels>,
        /// `None`: PreFilter returns Skip.
        want: Option<Vec<WantC>>,
    }

    fn pf(
        name: &'static str,
        pod: TPod,
        nodes: Vec<TNode>,
        existing: Vec<TPod>,
        want: Option<Vec<WantC>>,
    ) -> PfRow {
        PfRow { name, pod, nodes, existing, defaults: vec![], services: vec![], want }
    }

    fn dc(max_skew: i32, key: &str, when: WhenUnsatisfiable) -> TopologySpreadConstraint {
        TopologySpreadConstraint::new(max_skew, key, when)
    }

    /// Upstream `TestPreFilterState`
    /// (`kubernetes/kubernetes:pkg/scheduler/framework/plugins/podtopologyspread/filtering_test.go`).
    /// Every row but the three that turn a feature gate off ("feature gate disabled with
    /// NodeAffinityPolicy", "feature gate disabled with NodeTaintsPolicy", "matchLabelKeys
    /// ignored when feature gate disabled"): the gates are GA, always on here.
    #[test]
    fn pre_filter_state_table() {
        let rows = vec![
            pf(
                "clean cluster with one spreadConstraint",
                pod().label("foo", "").sc(5, "zone", DoNotSchedule, sel(&[("foo", "bar")])),
                four_zn(),
                vec![],
                Some(vec![wc("zone", 5, 0, &[("zone1", 0), ("zone2", 0)])]),
            ),
            pf(
                "normal case with one spreadConstraint",
                pod().label("foo", "").sc(1, "zone", DoNotSchedule, foo()),
                four_zn(),
                vec![fp("node-a"), fp("node-a"), fp("node-b"), fp("node-y"), fp("node-y")],
                Some(vec![wc("zone", 1, 2, &[("zone1", 3), ("zone2", 2)])]),
            ),
            pf(
                "normal case with null label selector",
                pod().label("foo", "").sc(1, "zone", DoNotSchedule, None),
                four_zn(),
                vec![fp("node-a"), fp("node-a"), fp("node-b"), fp("node-y"), fp("node-y")],
                Some(vec![wc("zone", 1, 0, &[("zone1", 0), ("zone2", 0)])]),
            ),
            pf(
                "normal case with one spreadConstraint, on a 3-zone cluster",
                pod().label("foo", "").sc(1, "zone", DoNotSchedule, foo()),
                {
                    let mut v = four_zn();
                    v.push(zn("node-o", "zone3"));
                    v.push(zn("node-p", "zone3"));
                    v
                },
                vec![fp("node-a"), fp("node-a"), fp("node-b"), fp("node-y"), fp("node-y")],
                Some(vec![wc("zone", 1, 0, &[("zone1", 3), ("zone2", 2), ("zone3", 0)])]),
            ),
            pf(
                "namespace mismatch doesn't count",
                pod().label("foo", "").sc(1, "zone", DoNotSchedule, foo()),
                four_zn(),
                vec![
                    fp("node-a"),
                    fp("node-a").ns("ns1"),
                    fp("node-b"),
                    fp("node-y").ns("ns2"),
                    fp("node-y"),
                ],
                Some(vec![wc("zone", 1, 1, &[("zone1", 2), ("zone2", 1)])]),
            ),
            pf(
                "normal case with two spreadConstraints",
                pod().label("foo", "").sc(1, "zone", DoNotSchedule, foo()).sc(
                    1,
                    "node",
                    DoNotSchedule,
                    foo(),
                ),
                four_zn(),
                vec![
                    fp("node-a"),
                    fp("node-a"),
                    fp("node-b"),
                    fp("node-y"),
                    fp("node-y"),
                    fp("node-y"),
                    fp("node-y"),
                ],
                Some(vec![
                    wc("zone", 1, 3, &[("zone1", 3), ("zone2", 4)]),
                    wc("node", 1, 0, &[("node-a", 2), ("node-b", 1), ("node-x", 0), ("node-y", 4)]),
                ]),
            ),
            pf(
                "soft spreadConstraints should be bypassed",
                pod()
                    .label("foo", "")
                    .sc(1, "zone", ScheduleAnyway, foo())
                    .sc(1, "zone", DoNotSchedule, foo())
                    .sc(1, "node", ScheduleAnyway, foo())
                    .sc(1, "node", DoNotSchedule, foo()),
                vec![zn("node-a", "zone1"), zn("node-b", "zone1"), zn("node-y", "zone2")],
                vec![
                    fp("node-a"),
                    fp("node-a"),
                    fp("node-b"),
                    fp("node-y"),
                    fp("node-y"),
                    fp("node-y"),
                    fp("node-y"),
                ],
                Some(vec![
                    wc("zone", 1, 3, &[("zone1", 3), ("zone2", 4)]),
                    wc("node", 1, 1, &[("node-a", 2), ("node-b", 1), ("node-y", 4)]),
                ]),
            ),
            pf(
                "different labelSelectors - simple version",
                pod().label("foo", "").label("bar", "").sc(1, "zone", DoNotSchedule, foo()).sc(
                    1,
                    "node",
                    DoNotSchedule,
                    bar(),
                ),
                vec![zn("node-a", "zone1"), zn("node-b", "zone1"), zn("node-y", "zone2")],
                vec![fp("node-a"), on("node-b").label("bar", "")],
                Some(vec![
                    wc("zone", 1, 0, &[("zone1", 1), ("zone2", 0)]),
                    wc("node", 1, 0, &[("node-a", 0), ("node-b", 1), ("node-y", 0)]),
                ]),
            ),
            pf(
                "different labelSelectors - complex pods",
                pod().label("foo", "").label("bar", "").sc(1, "zone", DoNotSchedule, foo()).sc(
                    1,
                    "node",
                    DoNotSchedule,
                    bar(),
                ),
                vec![zn("node-a", "zone1"), zn("node-b", "zone1"), zn("node-y", "zone2")],
                vec![
                    fp("node-a"),
                    fp("node-a").label("bar", ""),
                    fp("node-b"),
                    fp("node-y"),
                    fp("node-y").label("bar", ""),
                    fp("node-y"),
                    fp("node-y").label("bar", ""),
                ],
                Some(vec![
                    wc("zone", 1, 3, &[("zone1", 3), ("zone2", 4)]),
                    wc("node", 1, 0, &[("node-a", 1), ("node-b", 0), ("node-y", 2)]),
                ]),
            ),
            pf(
                "two spreadConstraints, and with podAffinity",
                pod()
                    .label("foo", "")
                    .affinity_not_in("node", &["node-x"])
                    .sc(1, "zone", DoNotSchedule, foo())
                    .sc(1, "node", DoNotSchedule, foo()),
                four_zn(),
                vec![
                    fp("node-a"),
                    fp("node-a"),
                    fp("node-b"),
                    fp("node-y"),
                    fp("node-y"),
                    fp("node-y"),
                    fp("node-y"),
                ],
                Some(vec![
                    wc("zone", 1, 3, &[("zone1", 3), ("zone2", 4)]),
                    wc("node", 1, 1, &[("node-a", 2), ("node-b", 1), ("node-y", 4)]),
                ]),
            ),
            PfRow {
                name: "default constraints and a service",
                pod: pod().label("foo", "bar").label("baz", "kar"),
                nodes: vec![],
                existing: vec![],
                defaults: vec![
                    dc(3, "node", DoNotSchedule),
                    dc(2, "node", ScheduleAnyway),
                    dc(5, "rack", DoNotSchedule),
                ],
                services: vec![labels(&[("foo", "bar")])],
                want: Some(vec![wc("node", 3, MAX_I32, &[]), wc("rack", 5, MAX_I32, &[])]),
            },
            PfRow {
                name: "default constraints and a service that doesn't match",
                pod: pod().label("foo", "bar"),
                nodes: vec![],
                existing: vec![],
                defaults: vec![dc(3, "node", DoNotSchedule)],
                services: vec![labels(&[("baz", "kep")])],
                want: None,
            },
            PfRow {
                name: "default constraints and a service, but pod has constraints",
                pod: pod()
                    .label("foo", "bar")
                    .label("baz", "tar")
                    .sc(1, "zone", DoNotSchedule, sel(&[("baz", "tar")]))
                    .sc(2, "planet", ScheduleAnyway, sel(&[("fot", "rok")])),
                nodes: vec![],
                existing: vec![],
                defaults: vec![dc(2, "node", DoNotSchedule)],
                services: vec![labels(&[("foo", "bar")])],
                want: Some(vec![wc("zone", 1, MAX_I32, &[])]),
            },
            PfRow {
                name: "default soft constraints and a service",
                pod: pod().label("foo", "bar"),
                nodes: vec![],
                existing: vec![],
                defaults: vec![dc(2, "node", ScheduleAnyway)],
                services: vec![labels(&[("foo", "bar")])],
                want: None,
            },
            pf(
                "TpKeyToDomainsNum is calculated when MinDomains is enabled",
                pod().label("foo", "").sc(1, "zone", DoNotSchedule, foo()).sc(
                    1,
                    "node",
                    DoNotSchedule,
                    foo(),
                ),
                four_zn(),
                vec![
                    fp("node-a"),
                    fp("node-a"),
                    fp("node-b"),
                    fp("node-y"),
                    fp("node-y"),
                    fp("node-y"),
                    fp("node-y"),
                ],
                Some(vec![
                    wc("zone", 1, 3, &[("zone1", 3), ("zone2", 4)]),
                    wc("node", 1, 0, &[("node-a", 2), ("node-b", 1), ("node-x", 0), ("node-y", 4)]),
                ]),
            ),
            pf(
                "NodeAffinityPolicy honored with labelSelectors",
                pod().label("foo", "").node_selector("foo", "").sc(1, "node", DoNotSchedule, bar()),
                vec![
                    n("node-a").label("foo", ""),
                    n("node-b").label("foo", ""),
                    n("node-c").label("bar", ""),
                ],
                vec![
                    on("node-a").label("bar", ""),
                    on("node-b").label("bar", ""),
                    on("node-b").label("bar", ""),
                    on("node-c"),
                ],
                Some(vec![wc("node", 1, 1, &[("node-a", 1), ("node-b", 2)])]),
            ),
            pf(
                "NodeAffinityPolicy ignored with labelSelectors",
                pod().label("foo", "").node_selector("foo", "").spread(
                    1,
                    "node",
                    DoNotSchedule,
                    bar(),
                    None,
                    Some(Ignore),
                    None,
                    &[],
                ),
                vec![
                    n("node-a").label("foo", ""),
                    n("node-b").label("foo", ""),
                    n("node-c").label("bar", ""),
                ],
                vec![
                    on("node-a").label("bar", ""),
                    on("node-b").label("bar", ""),
                    on("node-b").label("bar", ""),
                    on("node-c"),
                ],
                Some(vec![wc("node", 1, 0, &[("node-a", 1), ("node-b", 2), ("node-c", 0)])]),
            ),
            pf(
                "NodeAffinityPolicy honored with nodeAffinity",
                pod().label("foo", "").affinity_in("foo", &[""]).sc(1, "node", DoNotSchedule, bar()),
                vec![
                    n("node-a").label("foo", ""),
                    n("node-b").label("foo", ""),
                    n("node-c").label("bar", ""),
                ],
                vec![
                    on("node-a").label("bar", ""),
                    on("node-b").label("bar", ""),
                    on("node-b").label("bar", ""),
                    on("node-c"),
                ],
                Some(vec![wc("node", 1, 1, &[("node-a", 1), ("node-b", 2)])]),
            ),
            pf(
                "NodeAffinityPolicy ignored with nodeAffinity",
                pod().label("foo", "").affinity_in("foo", &[""]).spread(
                    1,
                    "node",
                    DoNotSchedule,
                    bar(),
                    None,
                    Some(Ignore),
                    None,
                    &[],
                ),
                vec![
                    n("node-a").label("foo", ""),
                    n("node-b").label("foo", ""),
                    n("node-c").label("bar", ""),
                ],
                vec![
                    on("node-a").label("bar", ""),
                    on("node-b").label("bar", ""),
                    on("node-b").label("bar", ""),
                    on("node-c"),
                ],
                Some(vec![wc("node", 1, 0, &[("node-a", 1), ("node-b", 2), ("node-c", 0)])]),
            ),
            pf(
                "NodeTaintsPolicy ignored",
                pod().label("foo", "").sc(1, "node", DoNotSchedule, bar()),
                vec![n("node-a"), n("node-b"), n("node-c").tainted().label("bar", "")],
                vec![
                    on("node-a").label("bar", ""),
                    on("node-b").label("bar", ""),
                    on("node-b").label("bar", ""),
                    on("node-c"),
                ],
                Some(vec![wc("node", 1, 0, &[("node-a", 1), ("node-b", 2), ("node-c", 0)])]),
            ),
            pf(
                "NodeTaintsPolicy honored",
                pod().label("foo", "").spread(1, "node", DoNotSchedule, bar(), None, None, Some(Honor), &[]),
                vec![n("node-a"), n("node-b"), n("node-c").tainted().label("bar", "")],
                vec![
                    on("node-a").label("bar", ""),
                    on("node-b").label("bar", ""),
                    on("node-b").label("bar", ""),
                    on("node-c"),
                ],
                Some(vec![wc("node", 1, 1, &[("node-a", 1), ("node-b", 2)])]),
            ),
            pf(
                "NodeTaintsPolicy honored with tolerated taints",
                pod().label("foo", "").tolerate_unschedulable().spread(
                    1,
                    "node",
                    DoNotSchedule,
                    bar(),
                    None,
                    None,
                    Some(Honor),
                    &[],
                ),
                vec![n("node-a"), n("node-b"), n("node-c").tainted().label("bar", "")],
                vec![
                    on("node-a").label("bar", ""),
                    on("node-b").label("bar", ""),
                    on("node-b").label("bar", ""),
                    on("node-c"),
                ],
                Some(vec![wc("node", 1, 0, &[("node-a", 1), ("node-b", 2), ("node-c", 0)])]),
            ),
            pf(
                "two node inclusion Constraints, zone: honor/ignore, node: ignore/ignore",
                pod().label("foo", "").node_selector("foo", "").sc(1, "zone", DoNotSchedule, foo()).spread(
                    1,
                    "node",
                    DoNotSchedule,
                    foo(),
                    None,
                    Some(Ignore),
                    None,
                    &[],
                ),
                vec![
                    zn("node-a", "zone1").label("foo", ""),
                    zn("node-b", "zone1"),
                    zn("node-x", "zone2").label("foo", ""),
                ],
                vec![fp("node-b"), fp("node-b"), fp("node-x")],
                Some(vec![
                    wc("zone", 1, 0, &[("zone1", 0), ("zone2", 1)]),
                    wc("node", 1, 0, &[("node-a", 0), ("node-b", 2), ("node-x", 1)]),
                ]),
            ),
            pf(
                "two node inclusion Constraints, zone: honor/honor, node: honor/ignore",
                pod()
                    .label("foo", "")
                    .spread(1, "zone", DoNotSchedule, foo(), None, None, Some(Honor), &[])
                    .sc(1, "node", DoNotSchedule, foo()),
                vec![
                    zn("node-a", "zone1").label("foo", ""),
                    zn("node-b", "zone1").tainted(),
                    zn("node-x", "zone2").label("foo", ""),
                ],
                vec![fp("node-b"), fp("node-b"), fp("node-x")],
                Some(vec![
                    wc("zone", 1, 0, &[("zone1", 0), ("zone2", 1)]),
                    wc("node", 1, 0, &[("node-a", 0), ("node-b", 2), ("node-x", 1)]),
                ]),
            ),
            pf(
                "two node inclusion Constraints, zone: honor/ignore, node: honor/ignore",
                pod().label("foo", "").node_selector("foo", "").sc(1, "zone", DoNotSchedule, foo()).sc(
                    1,
                    "node",
                    DoNotSchedule,
                    foo(),
                ),
                vec![
                    zn("node-a", "zone1"),
                    zn("node-b", "zone1").label("foo", "").tainted(),
                    zn("node-x", "zone2").label("foo", ""),
                    zn("node-y", "zone2"),
                ],
                vec![fp("node-a"), fp("node-a"), fp("node-x"), fp("node-y")],
                Some(vec![
                    wc("zone", 1, 0, &[("zone1", 0), ("zone2", 1)]),
                    wc("node", 1, 0, &[("node-b", 0), ("node-x", 1)]),
                ]),
            ),
            pf(
                "two node inclusion Constraints, zone: ignore/ignore, node: honor/honor",
                pod()
                    .label("foo", "")
                    .node_selector("foo", "")
                    .spread(1, "zone", DoNotSchedule, foo(), None, Some(Ignore), None, &[])
                    .spread(1, "node", DoNotSchedule, foo(), None, None, Some(Honor), &[]),
                vec![
                    zn("node-a", "zone1"),
                    zn("node-b", "zone1").label("foo", "").tainted(),
                    zn("node-x", "zone2").label("foo", ""),
                    zn("node-y", "zone2").label("foo", ""),
                ],
                vec![fp("node-a"), fp("node-a"), fp("node-x"), fp("node-x"), fp("node-y")],
                Some(vec![
                    wc("zone", 1, 2, &[("zone1", 2), ("zone2", 3)]),
                    wc("node", 1, 1, &[("node-x", 2), ("node-y", 1)]),
                ]),
            ),
            pf(
                "matchLabelKeys ANDed with LabelSelector when LabelSelector isn't empty",
                pod().label("foo", "").label("bar", "a").spread(
                    1,
                    "zone",
                    DoNotSchedule,
                    foo(),
                    None,
                    None,
                    None,
                    &["bar"],
                ),
                four_zn(),
                vec![
                    fp("node-a"),
                    fp("node-a").label("bar", "a"),
                    fp("node-b"),
                    fp("node-y").label("bar", "a"),
                    on("node-y").label("bar", ""),
                ],
                Some(vec![wc("zone", 1, 1, &[("zone1", 1), ("zone2", 1)])]),
            ),
            pf(
                "matchLabelKeys ANDed with LabelSelector when LabelSelector is empty",
                pod().label("foo", "a").spread(
                    1,
                    "zone",
                    DoNotSchedule,
                    empty_sel(),
                    None,
                    None,
                    None,
                    &["foo"],
                ),
                four_zn(),
                vec![
                    on("node-a").label("foo", "a"),
                    on("node-a").label("foo", "a"),
                    on("node-b").label("foo", "a"),
                    on("node-y").label("foo", "a"),
                    on("node-y").label("foo", "a"),
                ],
                Some(vec![wc("zone", 1, 2, &[("zone1", 3), ("zone2", 2)])]),
            ),
            pf(
                "key in matchLabelKeys is ignored when LabelSelector is nil when feature gate enabled",
                pod().label("foo", "").spread(1, "zone", DoNotSchedule, None, None, None, None, &["bar"]),
                four_zn(),
                vec![
                    on("node-a").label("foo", "a"),
                    on("node-a").label("foo", "a"),
                    on("node-b").label("foo", "a"),
                    on("node-y").label("foo", "a"),
                    on("node-y").label("foo", "a"),
                ],
                Some(vec![wc("zone", 1, 0, &[("zone1", 0), ("zone2", 0)])]),
            ),
            pf(
                // The gate plays no part here: a nil selector matches no pod either way.
                "no pod is matched when LabelSelector is nil when feature gate disabled",
                pod().label("foo", "").spread(1, "zone", DoNotSchedule, None, None, None, None, &["bar"]),
                four_zn(),
                vec![
                    on("node-a").label("foo", "a"),
                    on("node-a").label("foo", "a"),
                    on("node-b").label("foo", "a"),
                    on("node-y").label("foo", "a"),
                    on("node-y").label("foo", "a"),
                ],
                Some(vec![wc("zone", 1, 0, &[("zone1", 0), ("zone2", 0)])]),
            ),
            pf(
                "key in matchLabelKeys is ignored when it isn't exist in pod.labels",
                pod().label("foo", "").spread(1, "zone", DoNotSchedule, foo(), None, None, None, &["bar"]),
                four_zn(),
                vec![
                    on("node-a").label("foo", "a"),
                    on("node-a").label("foo", "a"),
                    on("node-b").label("foo", "a"),
                    on("node-y").label("foo", "a"),
                    on("node-y").label("foo", "a"),
                ],
                Some(vec![wc("zone", 1, 2, &[("zone1", 3), ("zone2", 2)])]),
            ),
            pf(
                "two spreadConstraints with the same topologyKey",
                pod().label("foo", "").label("bar", "").sc(1, "zone", DoNotSchedule, foo()).sc(
                    1,
                    "zone",
                    DoNotSchedule,
                    bar(),
                ),
                four_zn(),
                vec![
                    fp("node-a").label("bar", ""),
                    fp("node-b"),
                    on("node-x").label("bar", ""),
                    fp("node-y").label("bar", ""),
                    on("node-y").label("bar", ""),
                ],
                Some(vec![
                    wc("zone", 1, 1, &[("zone1", 2), ("zone2", 1)]),
                    wc("zone", 1, 1, &[("zone1", 1), ("zone2", 3)]),
                ]),
            ),
            pf("skip if not specified", pod().label("foo", ""), vec![zn("node-a", "zone1")], vec![], None),
        ];
        assert_eq!(rows.len(), 33);
        for row in &rows {
            let views = cluster(&row.nodes, &row.existing);
            let services: Vec<&Labels> = row.services.iter().collect();
            let owner = default_selector(&row.pod.labels, &services, None);
            let defaulting = Defaulting::List(row.defaults.clone());
            let eff = effective_constraints(&row.pod.constraints, &defaulting, Some(&owner));
            let state = pre_filter(&row.pod.incoming(&eff), &views);
            match &row.want {
                None => assert!(state.is_skip(), "{}: want Skip", row.name),
                Some(want) => check_state(row.name, &state, want),
            }
        }
    }

    /// The resolved constraints of some `TestPreFilterState` rows (upstream compares
    /// `Constraints` too): defaults of `filterTopologySpreadConstraints` and the selectors
    /// `matchLabelKeys` produce.
    #[test]
    fn resolved_constraints_match_upstream() {
        let in_req = |k: &str, v: &str| LabelSelectorRequirement {
            key: k.into(),
            operator: LabelSelectorOperator::In,
            values: vec![v.into()],
        };
        // "clean cluster with one spreadConstraint": MinDomains 1, Honor / Ignore.
        let p = pod().label("foo", "").sc(5, "zone", DoNotSchedule, sel(&[("foo", "bar")]));
        let got = resolve_constraints(&p.constraints, &p.labels, DoNotSchedule);
        assert_eq!(
            got,
            vec![Constraint {
                max_skew: 5,
                topology_key: "zone".into(),
                selector: sel(&[("foo", "bar")]),
                min_domains: 1,
                node_affinity_policy: Honor,
                node_taints_policy: Ignore,
            }]
        );
        // "matchLabelKeys ANDed with LabelSelector when LabelSelector isn't empty":
        // Exists(foo) AND bar=a.
        let p = pod().label("foo", "").label("bar", "a").spread(
            1,
            "zone",
            DoNotSchedule,
            foo(),
            None,
            None,
            None,
            &["bar"],
        );
        let got = resolve_constraints(&p.constraints, &p.labels, DoNotSchedule);
        let mut want = foo().expect("selector");
        want.match_expressions.push(in_req("bar", "a"));
        assert_eq!(got[0].selector, Some(want));
        // "... when LabelSelector is empty": foo=a.
        let p =
            pod().label("foo", "a").spread(1, "zone", DoNotSchedule, empty_sel(), None, None, None, &["foo"]);
        let got = resolve_constraints(&p.constraints, &p.labels, DoNotSchedule);
        let want =
            LabelSelector { match_labels: BTreeMap::new(), match_expressions: vec![in_req("foo", "a")] };
        assert_eq!(got[0].selector, Some(want));
        // "key in matchLabelKeys is ignored when LabelSelector is nil": stays nil.
        let p = pod().label("foo", "").label("bar", "x").spread(
            1,
            "zone",
            DoNotSchedule,
            None,
            None,
            None,
            None,
            &["bar"],
        );
        assert_eq!(resolve_constraints(&p.constraints, &p.labels, DoNotSchedule)[0].selector, None);
        // "key in matchLabelKeys is ignored when it isn't exist in pod.labels": unchanged.
        let p = pod().label("foo", "").spread(1, "zone", DoNotSchedule, foo(), None, None, None, &["bar"]);
        assert_eq!(resolve_constraints(&p.constraints, &p.labels, DoNotSchedule)[0].selector, foo());
        // "default constraints and a service": the Service's selector on both hard defaults.
        let p = pod().label("foo", "bar").label("baz", "kar");
        let owner = default_selector(&p.labels, &[&labels(&[("foo", "bar")])], None);
        let defaulting = Defaulting::List(vec![
            dc(3, "node", DoNotSchedule),
            dc(2, "node", ScheduleAnyway),
            dc(5, "rack", DoNotSchedule),
        ]);
        let eff = effective_constraints(&p.constraints, &defaulting, Some(&owner));
        let got = resolve_constraints(&eff, &p.labels, DoNotSchedule);
        assert_eq!(got.len(), 2);
        assert!(got.iter().all(|c| c.selector == sel(&[("foo", "bar")]) && c.min_domains == 1));
    }

    struct UpdRow {
        name: &'static str,
        preemptor: TPod,
        nodes: Vec<TNode>,
        existing: Vec<TPod>,
        /// The pod added / removed and the index of its node.
        pod: TPod,
        node_idx: usize,
        want: Vec<WantC>,
    }

    fn check_update(rows: &[UpdRow], delta: i64) {
        for row in rows {
            let views = cluster(&row.nodes, &row.existing);
            let incoming = row.preemptor.incoming(&row.preemptor.constraints);
            let mut state = pre_filter(&incoming, &views);
            state.update_with_pod(&incoming, &views[row.node_idx], &row.pod.view(), delta);
            check_state(row.name, &state, &row.want);
        }
    }

    fn zone_foo() -> TPod {
        pod().label("foo", "").sc(1, "zone", DoNotSchedule, foo())
    }
    fn node_foo() -> TPod {
        pod().label("foo", "").sc(1, "node", DoNotSchedule, foo())
    }
    fn zone_node_foo() -> TPod {
        zone_foo().sc(1, "node", DoNotSchedule, foo())
    }

    /// Upstream `TestPreFilterStateAddPod` (`filtering_test.go`), the rows with the
    /// NodeInclusionPolicy gate on (the three "... with NodeInclusionPolicy disabled" rows are
    /// left out).
    #[test]
    fn pre_filter_state_add_pod_table() {
        let za_zb = || vec![zn("node-a", "zone1"), zn("node-b", "zone1")];
        let aff_nodes =
            || vec![zn("node-a", "zone1").label("foo", "bar"), zn("node-b", "zone2").label("foo", "")];
        let rows = vec![
            UpdRow {
                name: "node a and b both impact current min match",
                preemptor: node_foo(),
                nodes: za_zb(),
                existing: vec![],
                pod: fp("node-a"),
                node_idx: 0,
                want: vec![wc("node", 1, 0, &[("node-a", 1), ("node-b", 0)])],
            },
            UpdRow {
                name: "only node a impacts current min match",
                preemptor: node_foo(),
                nodes: za_zb(),
                existing: vec![fp("node-b")],
                pod: fp("node-a"),
                node_idx: 0,
                want: vec![wc("node", 1, 1, &[("node-a", 1), ("node-b", 1)])],
            },
            UpdRow {
                name: "add a pod in a different namespace doesn't change topologyKeyToMinPodsMap",
                preemptor: node_foo(),
                nodes: za_zb(),
                existing: vec![fp("node-b")],
                pod: fp("node-a").ns("ns1"),
                node_idx: 0,
                want: vec![wc("node", 1, 0, &[("node-a", 0), ("node-b", 1)])],
            },
            UpdRow {
                name: "add pod on non-critical node won't trigger re-calculation",
                preemptor: node_foo(),
                nodes: za_zb(),
                existing: vec![fp("node-b")],
                pod: fp("node-b"),
                node_idx: 1,
                want: vec![wc("node", 1, 0, &[("node-a", 0), ("node-b", 2)])],
            },
            UpdRow {
                name: "node a and x both impact topologyKeyToMinPodsMap on zone and node",
                preemptor: zone_node_foo(),
                nodes: vec![zn("node-a", "zone1"), zn("node-x", "zone2")],
                existing: vec![],
                pod: fp("node-a"),
                node_idx: 0,
                want: vec![
                    wc("zone", 1, 0, &[("zone1", 1), ("zone2", 0)]),
                    wc("node", 1, 0, &[("node-a", 1), ("node-x", 0)]),
                ],
            },
            UpdRow {
                name: "only node a impacts topologyKeyToMinPodsMap on zone and node",
                preemptor: zone_node_foo(),
                nodes: vec![zn("node-a", "zone1"), zn("node-x", "zone2")],
                existing: vec![fp("node-x")],
                pod: fp("node-a"),
                node_idx: 0,
                want: vec![
                    wc("zone", 1, 1, &[("zone1", 1), ("zone2", 1)]),
                    wc("node", 1, 1, &[("node-a", 1), ("node-x", 1)]),
                ],
            },
            UpdRow {
                name: "node a impacts topologyKeyToMinPodsMap on node, node x impacts \
                    topologyKeyToMinPodsMap on zone",
                preemptor: zone_node_foo(),
                nodes: vec![zn("node-a", "zone1"), zn("node-b", "zone1"), zn("node-x", "zone2")],
                existing: vec![fp("node-b"), fp("node-b"), fp("node-x")],
                pod: fp("node-a"),
                node_idx: 0,
                want: vec![
                    wc("zone", 1, 1, &[("zone1", 3), ("zone2", 1)]),
                    wc("node", 1, 1, &[("node-a", 1), ("node-b", 2), ("node-x", 1)]),
                ],
            },
            UpdRow {
                name: "Constraints hold different labelSelectors, node a impacts topologyKeyToMinPodsMap \
                    on zone",
                preemptor: pod().label("foo", "").label("bar", "").sc(1, "zone", DoNotSchedule, foo()).sc(
                    1,
                    "node",
                    DoNotSchedule,
                    bar(),
                ),
                nodes: vec![zn("node-a", "zone1"), zn("node-b", "zone1"), zn("node-x", "zone2")],
                existing: vec![
                    fp("node-b").label("bar", ""),
                    fp("node-x").label("bar", ""),
                    on("node-x").label("bar", ""),
                ],
                pod: fp("node-a"),
                node_idx: 0,
                want: vec![
                    wc("zone", 1, 1, &[("zone1", 2), ("zone2", 1)]),
                    wc("node", 1, 0, &[("node-a", 0), ("node-b", 1), ("node-x", 2)]),
                ],
            },
            UpdRow {
                name: "Constraints hold different labelSelectors, node a impacts topologyKeyToMinPodsMap \
                    on both zone and node",
                preemptor: pod().label("foo", "").label("bar", "").sc(1, "zone", DoNotSchedule, foo()).sc(
                    1,
                    "node",
                    DoNotSchedule,
                    bar(),
                ),
                nodes: vec![zn("node-a", "zone1"), zn("node-b", "zone1"), zn("node-x", "zone2")],
                existing: vec![
                    on("node-b").label("bar", ""),
                    fp("node-x").label("bar", ""),
                    on("node-x").label("bar", ""),
                ],
                pod: fp("node-a").label("bar", ""),
                node_idx: 0,
                want: vec![
                    wc("zone", 1, 1, &[("zone1", 1), ("zone2", 1)]),
                    wc("node", 1, 1, &[("node-a", 1), ("node-b", 1), ("node-x", 2)]),
                ],
            },
            UpdRow {
                name: "add a pod when scheduling node affinity unmatched pod with NodeInclusionPolicy \
                    enabled",
                preemptor: zone_foo().affinity_not_in("foo", &["bar"]),
                nodes: aff_nodes(),
                existing: vec![fp("node-a").label("zone", "zone1"), fp("node-b").label("zone", "zone2")],
                pod: fp("node-a").label("zone", "zone1"),
                node_idx: 0,
                want: vec![wc("zone", 1, 1, &[("zone2", 1)])],
            },
            UpdRow {
                name: "add a pod when scheduling node affinity matched pod with NodeInclusionPolicy enabled",
                preemptor: zone_foo(),
                nodes: aff_nodes(),
                existing: vec![fp("node-a").label("zone", "zone1"), fp("node-b").label("zone", "zone2")],
                pod: fp("node-b").label("zone", "zone2"),
                node_idx: 1,
                want: vec![wc("zone", 1, 1, &[("zone1", 1), ("zone2", 2)])],
            },
            UpdRow {
                name: "add a label selector not matched pod when with NodeInclusionPolicy enabled",
                preemptor: zone_foo(),
                nodes: aff_nodes(),
                existing: vec![fp("node-a").label("zone", "zone1"), fp("node-b").label("zone", "zone2")],
                pod: on("node-b").label("zone", "zone2"),
                node_idx: 1,
                want: vec![wc("zone", 1, 1, &[("zone1", 1), ("zone2", 1)])],
            },
            UpdRow {
                name: "add a pod when scheduling taint tolerated pod with NodeInclusionPolicy enabled",
                preemptor: zone_foo().tolerate_unschedulable(),
                nodes: vec![zn("node-a", "zone1").tainted(), zn("node-b", "zone2")],
                existing: vec![fp("node-a").label("zone", "zone1"), fp("node-b").label("zone", "zone2")],
                pod: fp("node-b").label("zone", "zone2"),
                node_idx: 1,
                want: vec![wc("zone", 1, 1, &[("zone1", 1), ("zone2", 2)])],
            },
        ];
        assert_eq!(rows.len(), 13);
        check_update(&rows, 1);
    }

    /// Upstream `TestPreFilterStateRemovePod` (`filtering_test.go`), the rows with the
    /// NodeInclusionPolicy gate on (two "... disabled" rows left out). Removing a pod that is
    /// not in the snapshot is allowed, as upstream.
    #[test]
    fn pre_filter_state_remove_pod_table() {
        let aff_nodes =
            || vec![zn("node-a", "zone1").label("foo", "bar"), zn("node-b", "zone2").label("foo", "")];
        let rows = vec![
            UpdRow {
                name: "one spreadConstraint on zone, topologyKeyToMinPodsMap unchanged",
                preemptor: zone_foo(),
                nodes: vec![zn("node-a", "zone1"), zn("node-b", "zone1"), zn("node-x", "zone2")],
                existing: vec![fp("node-a"), fp("node-b"), fp("node-x")],
                pod: fp("node-a"),
                node_idx: 0,
                want: vec![wc("zone", 1, 1, &[("zone1", 1), ("zone2", 1)])],
            },
            UpdRow {
                name: "one spreadConstraint on node, topologyKeyToMinPodsMap changed",
                preemptor: zone_foo(),
                nodes: four_zn(),
                existing: vec![fp("node-a"), fp("node-b"), fp("node-x"), fp("node-y")],
                pod: fp("node-a"),
                node_idx: 0,
                want: vec![wc("zone", 1, 1, &[("zone1", 1), ("zone2", 2)])],
            },
            UpdRow {
                name: "delete an irrelevant pod won't help",
                preemptor: zone_foo(),
                nodes: four_zn(),
                existing: vec![
                    on("node-a").label("bar", ""),
                    fp("node-a"),
                    fp("node-b"),
                    fp("node-x"),
                    fp("node-y"),
                ],
                pod: on("node-a").label("bar", ""),
                node_idx: 0,
                want: vec![wc("zone", 1, 2, &[("zone1", 2), ("zone2", 2)])],
            },
            UpdRow {
                name: "delete a non-existing pod won't help",
                preemptor: zone_foo(),
                nodes: four_zn(),
                existing: vec![fp("node-a"), fp("node-b"), fp("node-x"), fp("node-y")],
                pod: on("node-a").label("bar", ""),
                node_idx: 0,
                want: vec![wc("zone", 1, 2, &[("zone1", 2), ("zone2", 2)])],
            },
            UpdRow {
                name: "two spreadConstraints",
                preemptor: zone_node_foo(),
                nodes: vec![zn("node-a", "zone1"), zn("node-b", "zone1"), zn("node-x", "zone2")],
                existing: vec![fp("node-a"), fp("node-a"), fp("node-b"), fp("node-x"), fp("node-x")],
                pod: fp("node-x"),
                node_idx: 2,
                want: vec![
                    wc("zone", 1, 1, &[("zone1", 3), ("zone2", 1)]),
                    wc("node", 1, 1, &[("node-a", 2), ("node-b", 1), ("node-x", 1)]),
                ],
            },
            UpdRow {
                name: "remove a pod when scheduling node affinity unmatched pod with NodeInclusionPolicy \
                    enabled",
                preemptor: zone_foo().affinity_not_in("foo", &["bar"]),
                nodes: aff_nodes(),
                existing: vec![fp("node-a").label("zone", "zone1"), fp("node-b").label("zone", "zone2")],
                pod: fp("node-a").label("zone", "zone1"),
                node_idx: 0,
                want: vec![wc("zone", 1, 1, &[("zone2", 1)])],
            },
            UpdRow {
                name: "remove a pod when scheduling node affinity matched pod with NodeInclusionPolicy \
                    enabled",
                preemptor: zone_foo(),
                nodes: aff_nodes(),
                existing: vec![fp("node-a").label("zone", "zone1"), fp("node-b").label("zone", "zone2")],
                pod: fp("node-b").label("zone", "zone2"),
                node_idx: 1,
                want: vec![wc("zone", 1, 0, &[("zone2", 0), ("zone1", 1)])],
            },
        ];
        assert_eq!(rows.len(), 7);
        check_update(&rows, -1);
    }

    /// Expected Filter status codes.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Code {
        Success,
        Unschedulable,
        Unresolvable,
    }
    use Code::{Success, Unresolvable, Unschedulable};

    struct FRow {
        name: &'static str,
        pod: TPod,
        nodes: Vec<TNode>,
        existing: Vec<TPod>,
        want: Vec<Code>,
    }

    fn fr(name: &'static str, pod: TPod, nodes: Vec<TNode>, existing: Vec<TPod>, want: &[Code]) -> FRow {
        FRow { name, pod, nodes, existing, want: want.to_vec() }
    }

    fn check_filter(rows: &[FRow]) {
        for row in rows {
            let views = cluster(&row.nodes, &row.existing);
            let incoming = row.pod.incoming(&row.pod.constraints);
            let state = pre_filter(&incoming, &views);
            assert_eq!(views.len(), row.want.len(), "{}", row.name);
            for (v, want) in views.iter().zip(&row.want) {
                let got = match filter(&state, &incoming, v) {
                    Ok(()) => Success,
                    Err(FilterFailure::ConstraintsNotMatch) => Unschedulable,
                    Err(FilterFailure::NodeLabelNotMatch) => Unresolvable,
                };
                assert_eq!(got, *want, "{}: [{}]", row.name, v.name);
            }
        }
    }

    /// Upstream `TestSingleConstraint` (`filtering_test.go`), every row. As upstream, only this
    /// plugin's Filter runs (nodes NodeAffinity would reject can pass here).
    #[test]
    fn single_constraint_table() {
        let spread_2103 =
            || vec![fp("node-a"), fp("node-a"), fp("node-b"), fp("node-y"), fp("node-y"), fp("node-y")];
        let abc = || vec![n("node-a"), n("node-b"), n("node-c")];
        let two_two_one = || vec![fp("node-a"), fp("node-a"), fp("node-b"), fp("node-b"), fp("node-c")];
        let foo_nodes = || {
            vec![
                n("node-a").label("foo", ""),
                n("node-b").label("foo", ""),
                n("node-x").label("foo", ""),
                n("node-y"),
            ]
        };
        let aby = || vec![fp("node-a"), fp("node-b"), fp("node-y")];
        let rows = vec![
            fr("no existing pods", zone_foo(), four_zn(), vec![], &[Success, Success, Success, Success]),
            fr(
                "no existing pods, incoming pod doesn't match itself",
                pod().label("foo", "").sc(1, "zone", DoNotSchedule, bar()),
                four_zn(),
                vec![],
                &[Success, Success, Success, Success],
            ),
            fr(
                "existing pods in a different namespace do not count",
                zone_foo(),
                four_zn(),
                vec![fp("node-a").ns("ns1"), fp("node-a").ns("ns2"), fp("node-x"), fp("node-y")],
                &[Success, Success, Unschedulable, Unschedulable],
            ),
            fr(
                "existing pods do not match null selector",
                pod().label("foo", "").sc(1, "zone", DoNotSchedule, None),
                four_zn(),
                vec![fp("node-x"), fp("node-y")],
                &[Success, Success, Success, Success],
            ),
            fr(
                "pods spread across zones as 3/3, all nodes fit",
                zone_foo(),
                four_zn(),
                spread_2103(),
                &[Success, Success, Success, Success],
            ),
            fr(
                "pods spread across zones as 1/2 due to absence of label 'zone' on node-b",
                zone_foo(),
                vec![
                    zn("node-a", "zone1"),
                    node("node-b").label("zon", "zone1").label("node", "node-b"),
                    zn("node-x", "zone2"),
                    zn("node-y", "zone2"),
                ],
                vec![fp("node-a"), fp("node-b"), fp("node-x"), fp("node-y")],
                &[Success, Unresolvable, Unschedulable, Unschedulable],
            ),
            fr(
                "pod cannot be scheduled as all nodes don't have label 'rack'",
                pod().label("foo", "").sc(1, "rack", DoNotSchedule, foo()),
                vec![zn("node-a", "zone1"), zn("node-x", "zone2")],
                vec![],
                &[Unresolvable, Unresolvable],
            ),
            fr(
                "pods spread across nodes as 2/1/0/3, only node-x fits",
                node_foo(),
                four_zn(),
                spread_2103(),
                &[Unschedulable, Unschedulable, Success, Unschedulable],
            ),
            fr(
                "pods spread across nodes as 2/1/0/3, maxSkew is 2, node-b and node-x fit",
                pod().label("foo", "").sc(2, "node", DoNotSchedule, foo()),
                four_zn(),
                spread_2103(),
                &[Unschedulable, Success, Success, Unschedulable],
            ),
            fr(
                "pods spread across nodes as 2/1/0/3, but pod doesn't match itself",
                pod().label("bar", "").sc(1, "node", DoNotSchedule, foo()),
                four_zn(),
                spread_2103(),
                &[Unschedulable, Success, Success, Unschedulable],
            ),
            fr(
                "incoming pod has nodeAffinity, pods spread as 2/~1~/~0~/3, hence node-a fits",
                node_foo().affinity_in("node", &["node-a", "node-y"]),
                four_zn(),
                spread_2103(),
                &[Success, Success, Success, Unschedulable],
            ),
            fr(
                "terminating Pods should be excluded",
                node_foo(),
                vec![n("node-a"), n("node-b")],
                vec![fp("node-a").terminating(), fp("node-b")],
                &[Success, Unschedulable],
            ),
            fr(
                "incoming pod has nodeAffinity, pods spread as 0/~2~/0/1, hence node-a fits",
                zone_foo().affinity_not_in("node", &["node-b"]),
                four_zn(),
                vec![fp("node-b"), fp("node-b"), fp("node-y")],
                &[Success, Success, Unschedulable, Unschedulable],
            ),
            fr(
                "pods spread across nodes as 2/2/1, maxSkew is 2, and the number of domains < minDomains, \
                then the third node fits",
                pod().label("foo", "").spread(2, "node", DoNotSchedule, foo(), Some(4), None, None, &[]),
                abc(),
                two_two_one(),
                &[Unschedulable, Unschedulable, Success],
            ),
            fr(
                "pods spread across nodes as 2/2/1, maxSkew is 2, and the number of domains > minDomains, \
                then the all nodes fit",
                pod().label("foo", "").spread(2, "node", DoNotSchedule, foo(), Some(2), None, None, &[]),
                abc(),
                two_two_one(),
                &[Success, Success, Success],
            ),
            fr(
                "pods spread across zone as 2/1, maxSkew is 2 and the number of domains < minDomains, then \
                the third and fourth nodes fit",
                pod().label("foo", "").spread(2, "zone", DoNotSchedule, foo(), Some(3), None, None, &[]),
                four_zn(),
                vec![fp("node-a"), fp("node-b"), fp("node-y")],
                &[Unschedulable, Unschedulable, Success, Success],
            ),
            fr(
                "pods spread across zone as 2/1, maxSkew is 2 and the number of domains > minDomains, then \
                the all nodes fit",
                pod().label("foo", "").spread(2, "zone", DoNotSchedule, foo(), Some(1), None, None, &[]),
                four_zn(),
                vec![fp("node-a"), fp("node-b"), fp("node-y")],
                &[Success, Success, Success, Success],
            ),
            fr(
                "NodeAffinityPolicy honored with labelSelectors",
                node_foo().node_selector("foo", ""),
                foo_nodes(),
                aby(),
                &[Unschedulable, Unschedulable, Success, Success],
            ),
            fr(
                "NodeAffinityPolicy ignored with labelSelectors",
                pod().label("foo", "").node_selector("foo", "").spread(
                    1,
                    "node",
                    DoNotSchedule,
                    foo(),
                    None,
                    Some(Ignore),
                    None,
                    &[],
                ),
                foo_nodes(),
                aby(),
                &[Unschedulable, Unschedulable, Success, Unschedulable],
            ),
            fr(
                "NodeAffinityPolicy honored with nodeAffinity",
                node_foo().affinity_in("foo", &[""]),
                foo_nodes(),
                aby(),
                &[Unschedulable, Unschedulable, Success, Success],
            ),
            fr(
                "NodeAffinityPolicy ignored with nodeAffinity",
                pod().label("foo", "").affinity_in("foo", &[""]).spread(
                    1,
                    "node",
                    DoNotSchedule,
                    foo(),
                    None,
                    Some(Ignore),
                    None,
                    &[],
                ),
                foo_nodes(),
                aby(),
                &[Unschedulable, Unschedulable, Success, Unschedulable],
            ),
            fr(
                "NodeTaintsPolicy honored",
                pod().label("foo", "").spread(1, "node", DoNotSchedule, foo(), None, None, Some(Honor), &[]),
                vec![
                    n("node-a").label("foo", ""),
                    n("node-b").label("foo", ""),
                    n("node-x").label("foo", ""),
                    n("node-y").tainted(),
                ],
                aby(),
                &[Unschedulable, Unschedulable, Success, Success],
            ),
            fr(
                "NodeTaintsPolicy ignored",
                node_foo(),
                vec![
                    n("node-a").label("foo", ""),
                    n("node-b").label("foo", ""),
                    n("node-x").label("foo", ""),
                    n("node-y").tainted(),
                ],
                aby(),
                &[Unschedulable, Unschedulable, Success, Unschedulable],
            ),
        ];
        assert_eq!(rows.len(), 23);
        check_filter(&rows);
    }

    /// Upstream `TestMultipleConstraints` (`filtering_test.go`), every row.
    #[test]
    fn multiple_constraints_table() {
        let foo_bar = || {
            pod().label("foo", "").label("bar", "").sc(1, "zone", DoNotSchedule, foo()).sc(
                1,
                "node",
                DoNotSchedule,
                bar(),
            )
        };
        let inclusion_nodes = || {
            vec![
                zn("node-a", "zone1").label("foo", ""),
                zn("node-b", "zone1"),
                zn("node-x", "zone2").label("foo", ""),
                zn("node-y", "zone2").label("foo", "").tainted(),
            ]
        };
        let aby = || vec![fp("node-a"), fp("node-b"), fp("node-y")];
        let two_zone = |extra: bool| {
            let mut v = vec![
                fp("node-a").label("bar", ""),
                fp("node-a"),
                fp("node-b").label("bar", ""),
                fp("node-y"),
                fp("node-y").label("bar", ""),
                fp("node-y"),
            ];
            if extra {
                v.push(fp("node-y"));
            }
            v
        };
        let rows = vec![
            fr(
                "two Constraints on zone and node, spreads = [3/3, 2/1/0/3]",
                zone_node_foo(),
                four_zn(),
                vec![fp("node-a"), fp("node-a"), fp("node-b"), fp("node-y"), fp("node-y"), fp("node-y")],
                &[Unschedulable, Unschedulable, Success, Unschedulable],
            ),
            fr(
                "two Constraints on zone and node, spreads = [3/4, 2/1/0/4]",
                zone_node_foo(),
                four_zn(),
                vec![
                    fp("node-a"),
                    fp("node-a"),
                    fp("node-b"),
                    fp("node-y"),
                    fp("node-y"),
                    fp("node-y"),
                    fp("node-y"),
                ],
                &[Unschedulable, Unschedulable, Unschedulable, Unschedulable],
            ),
            fr(
                "Constraints hold different labelSelectors, spreads = [1/0, 1/0/0/1]",
                foo_bar(),
                four_zn(),
                vec![fp("node-a"), on("node-y").label("bar", "")],
                &[Unschedulable, Unschedulable, Success, Unschedulable],
            ),
            fr(
                "Constraints hold different labelSelectors, spreads = [1/0, 0/0/1/1]",
                foo_bar(),
                four_zn(),
                vec![fp("node-a"), on("node-x").label("bar", ""), on("node-y").label("bar", "")],
                &[Unschedulable, Unschedulable, Unschedulable, Unschedulable],
            ),
            fr(
                "Constraints hold different labelSelectors, spreads = [2/3, 1/0/0/1]",
                foo_bar(),
                four_zn(),
                vec![
                    fp("node-a"),
                    fp("node-a").label("bar", ""),
                    fp("node-y"),
                    fp("node-y").label("bar", ""),
                    fp("node-y"),
                ],
                &[Unschedulable, Success, Unschedulable, Unschedulable],
            ),
            fr(
                "Constraints hold different labelSelectors but pod doesn't match itself on 'zone' constraint",
                pod().label("bar", "").sc(1, "zone", DoNotSchedule, foo()).sc(
                    1,
                    "node",
                    DoNotSchedule,
                    bar(),
                ),
                four_zn(),
                vec![fp("node-a"), on("node-x").label("bar", ""), on("node-y").label("bar", "")],
                &[Success, Success, Unschedulable, Unschedulable],
            ),
            fr(
                "two Constraints on zone and node, absence of label 'node' on node-x, spreads = [1/1, \
                1/0/0/1]",
                zone_node_foo(),
                vec![
                    zn("node-a", "zone1"),
                    zn("node-b", "zone1"),
                    node("node-x").label("zone", "zone2"),
                    zn("node-y", "zone2"),
                ],
                vec![fp("node-a"), fp("node-y")],
                &[Unschedulable, Success, Unresolvable, Unschedulable],
            ),
            fr(
                "two node inclusion Constraints, zone: honor/ignore, node: ignore/ignore",
                zone_foo().node_selector("foo", "").spread(
                    1,
                    "node",
                    DoNotSchedule,
                    foo(),
                    None,
                    Some(Ignore),
                    None,
                    &[],
                ),
                vec![
                    zn("node-a", "zone1").label("foo", ""),
                    zn("node-b", "zone1").label("foo", ""),
                    zn("node-x", "zone2").label("foo", ""),
                    zn("node-y", "zone2"),
                ],
                aby(),
                &[Unschedulable, Unschedulable, Success, Unschedulable],
            ),
            fr(
                "two node inclusion Constraints, zone: honor/honor, node: honor/ignore",
                pod()
                    .label("foo", "")
                    .spread(1, "zone", DoNotSchedule, foo(), None, None, Some(Honor), &[])
                    .sc(1, "node", DoNotSchedule, foo()),
                vec![
                    zn("node-a", "zone1").label("foo", ""),
                    zn("node-b", "zone1").label("foo", ""),
                    zn("node-x", "zone2").label("foo", ""),
                    zn("node-y", "zone2").tainted(),
                ],
                aby(),
                &[Unschedulable, Unschedulable, Success, Unschedulable],
            ),
            fr(
                "two node inclusion Constraints, zone: honor/ignore, node: honor/ignore",
                zone_node_foo().node_selector("foo", ""),
                inclusion_nodes(),
                aby(),
                &[Unschedulable, Success, Success, Unschedulable],
            ),
            fr(
                "two node inclusion Constraints, zone: honor/honor, node: ignore/ignore",
                pod()
                    .label("foo", "")
                    .node_selector("foo", "")
                    .spread(1, "zone", DoNotSchedule, foo(), None, None, Some(Honor), &[])
                    .spread(1, "node", DoNotSchedule, foo(), None, Some(Ignore), None, &[]),
                inclusion_nodes(),
                aby(),
                &[Unschedulable, Unschedulable, Success, Unschedulable],
            ),
            fr(
                "two Constraints on zone, spreads = [3/3, 2/1]",
                pod().label("foo", "").label("bar", "").sc(1, "zone", DoNotSchedule, bar()).sc(
                    1,
                    "zone",
                    DoNotSchedule,
                    foo(),
                ),
                four_zn(),
                two_zone(false),
                &[Unschedulable, Unschedulable, Success, Success],
            ),
            fr(
                "two Constraints on zone, spreads = [3/4, 2/1]",
                pod().label("foo", "").label("bar", "").sc(1, "zone", DoNotSchedule, bar()).sc(
                    1,
                    "zone",
                    DoNotSchedule,
                    foo(),
                ),
                four_zn(),
                two_zone(true),
                &[Unschedulable, Unschedulable, Unschedulable, Unschedulable],
            ),
        ];
        assert_eq!(rows.len(), 13);
        check_filter(&rows);
    }

    /// Upstream `TestPreScoreSkip` (`scoring_test.go`), both rows: PreScore is skipped.
    #[test]
    fn pre_score_skip_table() {
        // "the pod doesn't have soft topology spread Constraints" (ListDefaulting, no list).
        let p = pod().ns("default");
        let nodes = vec![h("node-a"), h("node-b")];
        let views = cluster(&nodes, &[]);
        let defaulting = Defaulting::List(vec![]);
        let eff = effective_constraints(&p.constraints, &defaulting, None);
        let req = require_all_topologies(&p.constraints, &defaulting);
        assert!(pre_score(&p.incoming(&eff), &views, &[0, 1], req).is_none());
        // "default constraints and a replicaset that doesn't match": the owner rs2 does not
        // exist (only rs1 does), so no controller selector and no Service: no defaults.
        let p = pod().ns("default").label("foo", "bar").label("baz", "sup");
        let nodes = vec![node("node-a").label("planet", "mars")];
        let views = cluster(&nodes, &[]);
        let defaulting = Defaulting::List(vec![dc(2, "planet", ScheduleAnyway)]);
        let owner = default_selector(&p.labels, &[], None);
        let eff = effective_constraints(&p.constraints, &defaulting, Some(&owner));
        let req = require_all_topologies(&p.constraints, &defaulting);
        assert!(pre_score(&p.incoming(&eff), &views, &[0], req).is_none());
        // No node at all.
        let p = pod().label("foo", "").sc(1, "zone", ScheduleAnyway, foo());
        assert!(pre_score(&p.incoming(&p.constraints), &[], &[], true).is_none());
    }

    /// One constraint of an expected preScoreState: topology key, maxSkew,
    /// `TopologyValueToPodCounts[i]` and the size behind `TopologyNormalizingWeight[i]`.
    type WantPs = (&'static str, i32, Vec<(&'static str, i64)>, usize);

    struct PsRow {
        name: &'static str,
        pod: TPod,
        nodes: Vec<TNode>,
        defaulting: Defaulting,
        /// The owning ReplicaSet's selector.
        controller: Option<LabelSelector>,
        /// Per constraint: key, maxSkew, TopologyValueToPodCounts, normalizing-weight size.
        want: Vec<WantPs>,
        ignored: Vec<&'static str>,
    }

    /// Upstream `TestPreScoreStateEmptyNodes` (`scoring_test.go`), every row (the gated rows
    /// expect the gate on). The nodes are both the cluster and the filtered nodes.
    #[test]
    fn pre_score_state_table() {
        let list = || Defaulting::List(vec![]);
        let three = || vec![zh("node-a", "zone1"), zh("node-b", "zone1"), zh("node-x", "zone2")];
        let foo_three = || {
            vec![
                zh("node-a", "zone1").label("foo", ""),
                zh("node-b", "zone1").label("foo", ""),
                zh("node-x", "zone2"),
            ]
        };
        let zones = || vec![("zone1", 0), ("zone2", 0)];
        let rows = vec![
            PsRow {
                name: "normal case",
                pod: pod().label("foo", "").sc(1, "zone", ScheduleAnyway, foo()).sc(
                    1,
                    HOSTNAME_LABEL,
                    ScheduleAnyway,
                    foo(),
                ),
                nodes: three(),
                defaulting: list(),
                controller: None,
                want: vec![("zone", 1, zones(), 2), (HOSTNAME_LABEL, 1, vec![], 3)],
                ignored: vec![],
            },
            PsRow {
                name: "null selector",
                pod: pod().label("foo", "").sc(1, "zone", ScheduleAnyway, None),
                nodes: three(),
                defaulting: list(),
                controller: None,
                want: vec![("zone", 1, zones(), 2)],
                ignored: vec![],
            },
            PsRow {
                name: "node-x doesn't have label zone",
                pod: pod().label("foo", "").sc(1, "zone", ScheduleAnyway, foo()).sc(
                    1,
                    HOSTNAME_LABEL,
                    ScheduleAnyway,
                    bar(),
                ),
                nodes: vec![zh("node-a", "zone1"), zh("node-b", "zone1"), h("node-x")],
                defaulting: list(),
                controller: None,
                want: vec![("zone", 1, vec![("zone1", 0)], 1), (HOSTNAME_LABEL, 1, vec![], 2)],
                ignored: vec!["node-x"],
            },
            PsRow {
                name: "system default constraints and a replicaset",
                pod: pod().ns("default").label("foo", "tar").label("baz", "sup"),
                nodes: vec![
                    h("node-a").label(ZONE_LABEL, "mars"),
                    h("node-b").label(ZONE_LABEL, "mars"),
                    // Nodes with no zone are not excluded. They are considered a separate zone.
                    h("node-c"),
                    h("node-d"),
                ],
                defaulting: Defaulting::System,
                controller: foo(),
                want: vec![(HOSTNAME_LABEL, 3, vec![], 4), (ZONE_LABEL, 5, vec![("mars", 0), ("", 0)], 2)],
                ignored: vec![],
            },
            PsRow {
                name: "default constraints and a replicaset",
                pod: pod().ns("default").label("foo", "tar").label("baz", "sup"),
                nodes: vec![h("node-a").label("rack", "rack1").label("planet", "mars")],
                defaulting: Defaulting::List(vec![
                    dc(1, HOSTNAME_LABEL, ScheduleAnyway),
                    dc(2, "rack", DoNotSchedule),
                    dc(2, "planet", ScheduleAnyway),
                ]),
                controller: foo(),
                want: vec![(HOSTNAME_LABEL, 1, vec![], 1), ("planet", 2, vec![("mars", 0)], 1)],
                ignored: vec![],
            },
            PsRow {
                name: "default constraints and a replicaset, but pod has constraints",
                pod: pod()
                    .ns("default")
                    .label("foo", "bar")
                    .label("baz", "sup")
                    .sc(1, "zone", DoNotSchedule, bar())
                    .sc(2, "planet", ScheduleAnyway, sel(&[("baz", "sup")])),
                nodes: vec![node("node-a").label("planet", "mars").label("galaxy", "andromeda")],
                defaulting: Defaulting::List(vec![dc(2, "galaxy", ScheduleAnyway)]),
                controller: foo(),
                want: vec![("planet", 2, vec![("mars", 0)], 1)],
                ignored: vec![],
            },
            PsRow {
                name: "NodeAffinityPolicy honored with labelSelectors",
                pod: pod().label("foo", "").node_selector("foo", "").sc(1, "zone", ScheduleAnyway, bar()),
                nodes: foo_three(),
                defaulting: list(),
                controller: None,
                want: vec![("zone", 1, zones(), 2)],
                ignored: vec![],
            },
            PsRow {
                name: "NodeAffinityPolicy ignored with labelSelectors",
                pod: pod().label("foo", "").node_selector("foo", "").spread(
                    1,
                    "zone",
                    ScheduleAnyway,
                    bar(),
                    None,
                    Some(Ignore),
                    None,
                    &[],
                ),
                nodes: foo_three(),
                defaulting: list(),
                controller: None,
                want: vec![("zone", 1, zones(), 2)],
                ignored: vec![],
            },
            PsRow {
                name: "NodeAffinityPolicy honored with nodeAffinity",
                pod: pod().label("foo", "").affinity_in("foo", &[""]).sc(1, "zone", ScheduleAnyway, bar()),
                nodes: foo_three(),
                defaulting: list(),
                controller: None,
                want: vec![("zone", 1, zones(), 2)],
                ignored: vec![],
            },
            PsRow {
                name: "NodeAffinityPolicy ignored with nodeAffinity",
                pod: pod().label("foo", "").affinity_in("foo", &[""]).spread(
                    1,
                    "zone",
                    ScheduleAnyway,
                    bar(),
                    None,
                    Some(Ignore),
                    None,
                    &[],
                ),
                nodes: foo_three(),
                defaulting: list(),
                controller: None,
                want: vec![("zone", 1, zones(), 2)],
                ignored: vec![],
            },
            PsRow {
                name: "NodeTaintsPolicy honored",
                pod: pod().label("foo", "").spread(
                    1,
                    "zone",
                    ScheduleAnyway,
                    bar(),
                    None,
                    None,
                    Some(Honor),
                    &[],
                ),
                nodes: vec![
                    zh("node-a", "zone1").label("foo", ""),
                    zh("node-b", "zone1").label("foo", ""),
                    zh("node-x", "zone2").tainted(),
                ],
                defaulting: list(),
                controller: None,
                want: vec![("zone", 1, zones(), 2)],
                ignored: vec![],
            },
            PsRow {
                name: "NodeTaintsPolicy ignored",
                pod: pod().label("foo", "").sc(1, "zone", ScheduleAnyway, bar()),
                nodes: vec![
                    zh("node-a", "zone1").label("foo", ""),
                    zh("node-b", "zone1").label("foo", ""),
                    zh("node-x", "zone2").tainted(),
                ],
                defaulting: list(),
                controller: None,
                want: vec![("zone", 1, zones(), 2)],
                ignored: vec![],
            },
        ];
        assert_eq!(rows.len(), 12);
        for row in &rows {
            let views = cluster(&row.nodes, &[]);
            let owner = default_selector(&row.pod.labels, &[], row.controller.as_ref());
            let eff = effective_constraints(&row.pod.constraints, &row.defaulting, Some(&owner));
            let req = require_all_topologies(&row.pod.constraints, &row.defaulting);
            let all: Vec<usize> = (0..views.len()).collect();
            let state = pre_score(&row.pod.incoming(&eff), &views, &all, req).expect(row.name);
            let got: Vec<(&str, i32)> =
                state.constraints.iter().map(|c| (c.topology_key.as_str(), c.max_skew)).collect();
            let want: Vec<(&str, i32)> = row.want.iter().map(|w| (w.0, w.1)).collect();
            assert_eq!(got, want, "{}: constraints", row.name);
            for (i, w) in row.want.iter().enumerate() {
                let mut want_counts = w.2.clone();
                want_counts.sort();
                let got_counts: Vec<(&str, i64)> =
                    state.topology_value_to_pod_counts[i].iter().map(|(k, v)| (k.as_str(), *v)).collect();
                assert_eq!(got_counts, want_counts, "{}: TopologyValueToPodCounts[{i}]", row.name);
                assert_eq!(
                    state.topology_normalizing_weight[i],
                    topology_normalizing_weight(w.3),
                    "{}: TopologyNormalizingWeight[{i}]",
                    row.name
                );
            }
            let ignored: Vec<&str> = state.ignored_nodes.iter().map(String::as_str).collect();
            assert_eq!(ignored, row.ignored, "{}: IgnoredNodes", row.name);
        }
        // The "system default" row's selector is the ReplicaSet's.
        let p = pod().label("foo", "tar");
        let owner = default_selector(&p.labels, &[], foo().as_ref());
        let eff = effective_constraints(&[], &Defaulting::System, Some(&owner));
        assert!(eff.iter().all(|c| c.label_selector == foo()));
    }

    struct SRow {
        name: &'static str,
        pod: TPod,
        existing: Vec<TPod>,
        /// The filtered nodes (scored), then the nodes that failed the filters.
        nodes: Vec<TNode>,
        failed: Vec<TNode>,
        /// The selectors of the Services in the pod's namespace.
        services: Vec<Labels>,
        want: Vec<i64>,
    }

    fn sr(name: &'static str, pod: TPod, existing: Vec<TPod>, nodes: Vec<TNode>, want: &[i64]) -> SRow {
        SRow { name, pod, existing, nodes, failed: vec![], services: vec![], want: want.to_vec() }
    }

    /// Upstream `TestPodTopologySpreadScore` (`scoring_test.go`): PreScore over the filtered
    /// nodes, Score for each, NormalizeScore; the plugin configured with SystemDefaulting.
    /// Every row but two: "matchLabelKeys ignored when feature gate disabled" (the gate is
    /// always on here) and "one constraint on node, 3 out of 4 nodes are candidates, one node
    /// doesn't match topology key" (node-b lacks `kubernetes.io/hostname`, which a
    /// [`NodeView`] always has, from its name).
    #[test]
    fn pod_topology_spread_score_table() {
        let hn = |names: &[&str]| names.iter().map(|s| h(s)).collect::<Vec<_>>();
        let spread_2103 =
            || vec![fp("node-a"), fp("node-a"), fp("node-b"), fp("node-d"), fp("node-d"), fp("node-d")];
        let spread_4321 = || {
            let mut v = vec![];
            for (node, k) in [("node-a", 4), ("node-b", 3), ("node-c", 2), ("node-d", 1)] {
                for _ in 0..k {
                    v.push(fp(node));
                }
            }
            v
        };
        let spread_4213 = || {
            let mut v = vec![];
            for (node, k) in [("node-a", 4), ("node-b", 2), ("node-x", 1), ("node-y", 3)] {
                for _ in 0..k {
                    v.push(fp(node));
                }
            }
            v
        };
        let host_foo =
            |max_skew: i32| pod().label("foo", "").sc(max_skew, HOSTNAME_LABEL, ScheduleAnyway, foo());
        let zh4 = || {
            vec![zh("node-a", "zone1"), zh("node-b", "zone1"), zh("node-x", "zone2"), zh("node-y", "zone2")]
        };
        let abc_foo = || vec![n("node-a").label("foo", ""), n("node-b").label("foo", ""), n("node-c")];
        let abc_pods = || vec![fp("node-a"), fp("node-a"), fp("node-b"), fp("node-c")];
        let zone_host = || {
            pod().label("foo", "").label("bar", "").sc(1, "zone", ScheduleAnyway, foo()).sc(
                1,
                HOSTNAME_LABEL,
                ScheduleAnyway,
                bar(),
            )
        };
        let zh_abcd = || {
            vec![zh("node-a", "zone1"), zh("node-b", "zone1"), zh("node-c", "zone2"), zh("node-d", "zone2")]
        };
        let rows = vec![
            sr(
                "one constraint on node, no existing pods",
                host_foo(1),
                vec![],
                hn(&["node-a", "node-b"]),
                &[100, 100],
            ),
            SRow {
                failed: hn(&["node-b"]),
                ..sr(
                    "one constraint on node, only one node is candidate",
                    host_foo(1),
                    vec![fp("node-a"), fp("node-a"), fp("node-b")],
                    hn(&["node-a"]),
                    &[100],
                )
            },
            sr(
                "one constraint on node, all nodes have the same number of matching pods",
                host_foo(1),
                vec![fp("node-a"), fp("node-b")],
                hn(&["node-a", "node-b"]),
                &[100, 100],
            ),
            sr(
                "one constraint on node, all 4 nodes are candidates",
                host_foo(1),
                spread_2103(),
                hn(&["node-a", "node-b", "node-c", "node-d"]),
                &[20, 60, 100, 0],
            ),
            sr(
                "one constraint on node, null selector",
                pod().label("foo", "").sc(1, HOSTNAME_LABEL, ScheduleAnyway, None),
                spread_2103(),
                hn(&["node-a", "node-b", "node-c", "node-d"]),
                &[100, 100, 100, 100],
            ),
            sr(
                "one constraint on node, all 4 nodes are candidates, maxSkew=2",
                host_foo(2),
                spread_2103(),
                hn(&["node-a", "node-b", "node-c", "node-d"]),
                &[33, 66, 100, 16],
            ),
            sr(
                "one constraint on node, all 4 nodes are candidates, maxSkew=3",
                host_foo(3),
                spread_4321(),
                hn(&["node-a", "node-b", "node-c", "node-d"]),
                &[44, 66, 77, 100],
            ),
            SRow {
                services: vec![labels(&[("foo", "")])],
                ..sr(
                    "system defaulting, nodes don't have zone, pods match service",
                    pod().label("foo", ""),
                    spread_4321(),
                    hn(&["node-a", "node-b", "node-c", "node-d"]),
                    &[44, 66, 77, 100],
                )
            },
            SRow {
                failed: hn(&["node-y"]),
                ..sr(
                    "one constraint on node, 3 out of 4 nodes are candidates",
                    host_foo(1),
                    spread_4213(),
                    hn(&["node-a", "node-b", "node-x"]),
                    &[33, 83, 100],
                )
            },
            SRow {
                failed: vec![zh("node-y", "zone2")],
                ..sr(
                    "one constraint on zone, 3 out of 4 nodes are candidates",
                    pod().label("foo", "").sc(1, "zone", ScheduleAnyway, foo()),
                    spread_4213(),
                    vec![zh("node-a", "zone1"), zh("node-b", "zone1"), zh("node-x", "zone2")],
                    &[75, 75, 100],
                )
            },
            SRow {
                failed: vec![zh("node-b", "zone1"), zh("node-y", "zone2")],
                ..sr(
                    "two Constraints on zone and node, 2 out of 4 nodes are candidates",
                    pod().label("foo", "").sc(1, "zone", ScheduleAnyway, foo()).sc(
                        1,
                        HOSTNAME_LABEL,
                        ScheduleAnyway,
                        foo(),
                    ),
                    vec![
                        fp("node-a"),
                        fp("node-a"),
                        fp("node-b"),
                        fp("node-x"),
                        fp("node-x"),
                        fp("node-y"),
                        fp("node-y"),
                        fp("node-y"),
                        fp("node-y"),
                    ],
                    vec![zh("node-a", "zone1"), zh("node-x", "zone2")],
                    &[100, 63],
                )
            },
            SRow {
                failed: vec![node("node-b").label("zone", "zone1"), node("node-y").label("zone", "zone2")],
                ..sr(
                    "two Constraints on zone, 2 out of 4 nodes are candidates",
                    pod().label("foo", "").label("bar", "").sc(1, "zone", ScheduleAnyway, foo()).sc(
                        1,
                        "zone",
                        ScheduleAnyway,
                        bar(),
                    ),
                    vec![
                        fp("node-a").label("bar", ""),
                        fp("node-a"),
                        fp("node-b").label("bar", ""),
                        fp("node-y"),
                        fp("node-y").label("bar", ""),
                        fp("node-y"),
                    ],
                    vec![node("node-a").label("zone", "zone1"), node("node-x").label("zone", "zone2")],
                    &[85, 100],
                )
            },
            sr(
                "two Constraints on zone and node, with different labelSelectors",
                zone_host(),
                vec![
                    fp("node-a"),
                    fp("node-b").label("bar", ""),
                    fp("node-y"),
                    on("node-y").label("bar", ""),
                ],
                zh4(),
                &[60, 20, 100, 60],
            ),
            sr(
                "two Constraints on zone and node, with different labelSelectors, some nodes have 0 pods",
                zone_host(),
                vec![on("node-b").label("bar", ""), fp("node-x"), fp("node-y").label("bar", "")],
                zh4(),
                &[100, 60, 40, 0],
            ),
            SRow {
                failed: vec![zh("node-y", "zone2")],
                ..sr(
                    "two Constraints on zone and node, with different labelSelectors, 3 out of 4 nodes are \
                    candidates",
                    zone_host(),
                    vec![
                        fp("node-a"),
                        fp("node-b").label("bar", ""),
                        fp("node-y"),
                        on("node-y").label("bar", ""),
                    ],
                    vec![zh("node-a", "zone1"), zh("node-b", "zone1"), zh("node-x", "zone2")],
                    &[50, 25, 100],
                )
            },
            sr(
                "existing pods in a different namespace do not count",
                host_foo(1),
                vec![fp("node-a").ns("ns1"), fp("node-a"), fp("node-b"), fp("node-b")],
                hn(&["node-a", "node-b"]),
                &[100, 33],
            ),
            sr(
                "terminating Pods should be excluded",
                host_foo(1),
                vec![fp("node-a").terminating(), fp("node-b")],
                hn(&["node-a", "node-b"]),
                &[100, 0],
            ),
            sr(
                "minDomains has no effect when ScheduleAnyway",
                pod().label("foo", "").spread(2, "node", ScheduleAnyway, foo(), Some(10), None, None, &[]),
                vec![fp("node-a"), fp("node-a"), fp("node-b"), fp("node-b"), fp("node-c")],
                vec![n("node-a"), n("node-b"), n("node-c")],
                &[75, 75, 100],
            ),
            sr(
                "NodeAffinityPolicy honoed with labelSelectors",
                pod().label("foo", "").node_selector("foo", "").sc(1, "node", ScheduleAnyway, foo()),
                abc_pods(),
                abc_foo(),
                &[0, 33, 100],
            ),
            sr(
                "NodeAffinityPolicy ignored with labelSelectors",
                pod().label("foo", "").node_selector("foo", "").spread(
                    1,
                    "node",
                    ScheduleAnyway,
                    foo(),
                    None,
                    Some(Ignore),
                    None,
                    &[],
                ),
                abc_pods(),
                abc_foo(),
                &[66, 100, 100],
            ),
            sr(
                "NodeAffinityPolicy honoed with nodeAffinity",
                pod().label("foo", "").affinity_in("foo", &[""]).sc(1, "node", ScheduleAnyway, foo()),
                abc_pods(),
                abc_foo(),
                &[0, 33, 100],
            ),
            sr(
                "NodeAffinityPolicy ignored with nodeAffinity",
                pod().label("foo", "").affinity_in("foo", &[""]).spread(
                    1,
                    "node",
                    ScheduleAnyway,
                    foo(),
                    None,
                    Some(Ignore),
                    None,
                    &[],
                ),
                abc_pods(),
                abc_foo(),
                &[66, 100, 100],
            ),
            sr(
                "NodeTaintsPolicy honored",
                pod().label("foo", "").spread(1, "node", ScheduleAnyway, foo(), None, None, Some(Honor), &[]),
                abc_pods(),
                vec![n("node-a"), n("node-b"), n("node-c").tainted()],
                &[0, 33, 100],
            ),
            sr(
                "NodeTaintsPolicy ignored",
                pod().label("foo", "").sc(1, "node", ScheduleAnyway, foo()),
                abc_pods(),
                vec![n("node-a"), n("node-b"), n("node-c").tainted()],
                &[66, 100, 100],
            ),
            sr(
                "matchLabelKeys ANDed with LabelSelector when LabelSelector is empty",
                pod()
                    .label("foo", "")
                    .label("bar", "")
                    .spread(1, "zone", ScheduleAnyway, empty_sel(), None, None, None, &["foo"])
                    .spread(1, HOSTNAME_LABEL, ScheduleAnyway, empty_sel(), None, None, None, &["bar"]),
                vec![
                    fp("node-a"),
                    fp("node-b").label("bar", ""),
                    fp("node-c"),
                    on("node-c").label("bar", ""),
                ],
                zh_abcd(),
                &[60, 20, 60, 100],
            ),
            sr(
                "matchLabelKeys ANDed with LabelSelector when LabelSelector isn't empty",
                pod()
                    .label("foo", "")
                    .label("bar", "")
                    .label("baz", "")
                    .sc(1, "zone", ScheduleAnyway, foo())
                    .spread(1, HOSTNAME_LABEL, ScheduleAnyway, bar(), None, None, None, &["baz"]),
                vec![
                    fp("node-a"),
                    fp("node-b").label("bar", "").label("baz", ""),
                    fp("node-c"),
                    on("node-c").label("bar", ""),
                    on("node-c").label("bar", "").label("baz", ""),
                ],
                zh_abcd(),
                &[60, 20, 60, 100],
            ),
        ];
        assert_eq!(rows.len(), 26);
        for row in &rows {
            let all_nodes: Vec<TNode> = row
                .nodes
                .iter()
                .chain(row.failed.iter())
                .map(|n| TNode { name: n.name.clone(), labels: n.labels.clone(), taints: n.taints.clone() })
                .collect();
            let views = cluster(&all_nodes, &row.existing);
            let services: Vec<&Labels> = row.services.iter().collect();
            let owner = default_selector(&row.pod.labels, &services, None);
            let eff = effective_constraints(&row.pod.constraints, &Defaulting::System, Some(&owner));
            let req = require_all_topologies(&row.pod.constraints, &Defaulting::System);
            let incoming = row.pod.incoming(&eff);
            let filtered: Vec<usize> = (0..row.nodes.len()).collect();
            let state = pre_score(&incoming, &views, &filtered, req).expect(row.name);
            let mut scores: Vec<(&str, i64)> =
                filtered.iter().map(|&i| (views[i].name, score(&state, &incoming, &views[i]))).collect();
            normalize_score(&state, &mut scores);
            let got: Vec<i64> = scores.iter().map(|s| s.1).collect();
            assert_eq!(got, row.want, "{}", row.name);
        }
    }

    /// The hand computation behind "one constraint on node, all 4 nodes are candidates"
    /// (`scoring_test.go`): raw scores round(2·ln 6), round(ln 6), 0, round(3·ln 6) = 4, 2, 0, 5,
    /// then `100 × (5 + 0 − s) / 5`. Also: an ignored node scores 0 and stays 0.
    #[test]
    fn raw_scores_and_ignored_nodes() {
        let p = pod().label("foo", "").sc(1, HOSTNAME_LABEL, ScheduleAnyway, foo());
        let nodes = vec![h("node-a"), h("node-b"), h("node-c"), h("node-d")];
        let existing =
            vec![fp("node-a"), fp("node-a"), fp("node-b"), fp("node-d"), fp("node-d"), fp("node-d")];
        let views = cluster(&nodes, &existing);
        let incoming = p.incoming(&p.constraints);
        let state = pre_score(&incoming, &views, &[0, 1, 2, 3], true).expect("state");
        let raw: Vec<i64> = views.iter().map(|v| score(&state, &incoming, v)).collect();
        assert_eq!(raw, vec![4, 2, 0, 5]);

        let p = pod().label("foo", "").sc(1, "zone", ScheduleAnyway, foo());
        let nodes = vec![zh("a", "z1"), h("b"), zh("c", "z2")];
        let existing = vec![fp("a"), fp("a"), fp("b")];
        let views = cluster(&nodes, &existing);
        let incoming = p.incoming(&p.constraints);
        let state = pre_score(&incoming, &views, &[0, 1, 2], true).expect("state");
        assert!(state.is_ignored("b"));
        let mut scores: Vec<(&str, i64)> =
            views.iter().map(|v| (v.name, score(&state, &incoming, v))).collect();
        assert_eq!(scores[1].1, 0);
        normalize_score(&state, &mut scores);
        // z1: 2 pods → round(2·ln 4) = 3; z2: 0; b ignored.
        assert_eq!(scores, vec![("a", 0), ("b", 0), ("c", 100)]);
    }

    /// Upstream `TestGetPodServices`
    /// (`kubernetes/kubernetes:pkg/scheduler/framework/plugins/helper/spread_test.go`), through
    /// [`default_selector`]: pod-i is selected by service-i (`app: test-i`) for i < 3 only.
    #[test]
    fn default_selector_uses_the_matching_services() {
        let services: Vec<Labels> = (0..3).map(|i| labels(&[("app", &format!("test-{i}"))])).collect();
        let refs: Vec<&Labels> = services.iter().collect();
        for i in 0..5 {
            let pod_labels = labels(&[("app", &format!("test-{i}")), ("label", &format!("label-{i}"))]);
            let got = default_selector(&pod_labels, &refs, None);
            let want = if i < 3 {
                LabelSelector::of(&labels(&[("app", &format!("test-{i}"))]))
            } else {
                LabelSelector::default()
            };
            assert_eq!(got, want, "pod-{i}");
        }
        // Services merge; the controller's selector is ANDed in even if it does not match.
        let pod_labels = labels(&[("app", "web"), ("tier", "front")]);
        let s1 = labels(&[("app", "web")]);
        let s2 = labels(&[("tier", "front")]);
        let ctrl = LabelSelector::of(&labels(&[("app", "other")]));
        let got = default_selector(&pod_labels, &[&s1, &s2], Some(&ctrl));
        assert_eq!(got.match_labels, pod_labels);
        assert_eq!(got.match_expressions.len(), 1);
        assert!(!got.matches(&pod_labels));
    }

    #[test]
    fn effective_constraints_and_defaulting() {
        let owner = LabelSelector::of(&labels(&[("app", "web")]));
        // A pod with constraints keeps them, whatever the defaults.
        let own = vec![TopologySpreadConstraint::new(1, "zone", DoNotSchedule)];
        assert_eq!(effective_constraints(&own, &Defaulting::System, Some(&owner)), own);
        // System defaults: hostname 3 then zone 5, ScheduleAnyway, with the owner's selector.
        let eff = effective_constraints(&[], &Defaulting::System, Some(&owner));
        let got: Vec<(&str, i32, WhenUnsatisfiable)> =
            eff.iter().map(|c| (c.topology_key.as_str(), c.max_skew, c.when_unsatisfiable)).collect();
        assert_eq!(got, vec![(HOSTNAME_LABEL, 3, ScheduleAnyway), (ZONE_LABEL, 5, ScheduleAnyway)]);
        assert!(eff.iter().all(|c| c.label_selector.as_ref() == Some(&owner)));
        // No owner, or an empty one: nothing.
        assert!(effective_constraints(&[], &Defaulting::System, None).is_empty());
        assert!(effective_constraints(&[], &Defaulting::System, Some(&LabelSelector::default())).is_empty());
        // A List: its constraints, matchLabelKeys dropped; an empty list: nothing.
        let mut listed = TopologySpreadConstraint::new(2, "rack", DoNotSchedule);
        listed.match_label_keys = vec!["pod-template-hash".into()];
        let eff = effective_constraints(&[], &Defaulting::List(vec![listed]), Some(&owner));
        assert_eq!(eff.len(), 1);
        assert!(eff[0].match_label_keys.is_empty());
        assert!(effective_constraints(&[], &Defaulting::List(vec![]), Some(&owner)).is_empty());
        // requireAllTopologies: false only for the system defaults.
        assert!(!require_all_topologies(&[], &Defaulting::System));
        assert!(require_all_topologies(&own, &Defaulting::System));
        assert!(require_all_topologies(&[], &Defaulting::List(vec![])));
        // Plugin args: v1 default System; List with constraints.
        let args = PodTopologySpreadArgs::default();
        assert_eq!(args.defaulting(), Defaulting::System);
        assert_eq!(system_default_constraints().len(), 2);
    }

    #[test]
    fn hostname_label_falls_back_to_the_node_name() {
        let plain = labels(&[("zone", "z1")]);
        let v = NodeView { name: "n1", labels: &plain, taints: &[], pods: vec![] };
        assert_eq!(v.label(HOSTNAME_LABEL), Some("n1"));
        assert_eq!(v.label("zone"), Some("z1"));
        assert_eq!(v.label("rack"), None);
        let with = labels(&[(HOSTNAME_LABEL, "host-1")]);
        let v = NodeView { name: "n1", labels: &with, taints: &[], pods: vec![] };
        assert_eq!(v.label(HOSTNAME_LABEL), Some("host-1"));
    }

    /// The exact minimum of [`DomainCounts`] under arbitrary ±k updates, against a scan.
    #[test]
    fn domain_counts_keep_the_exact_minimum() {
        let mut dc = DomainCounts::new();
        assert_eq!(dc.min(), None);
        let mut shadow: BTreeMap<String, i64> = BTreeMap::new();
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..5000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let domain = format!("d{}", x % 7);
            let delta = (x >> 8) as i64 % 5 - 2;
            dc.add(&domain, delta);
            *shadow.entry(domain).or_insert(0) += delta;
            assert_eq!(dc.min(), shadow.values().min().copied());
            assert_eq!(dc.domains(), shadow.len());
        }
        let got: Vec<(&str, i64)> = dc.iter().collect();
        let want: Vec<(&str, i64)> = shadow.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(got, want);
    }

    /// A state built from counts kept elsewhere filters like the computed one.
    #[test]
    fn filter_reuses_external_counts() {
        let p = zone_node_foo();
        let nodes = four_zn();
        let existing =
            vec![fp("node-a"), fp("node-a"), fp("node-b"), fp("node-y"), fp("node-y"), fp("node-y")];
        let views = cluster(&nodes, &existing);
        let incoming = p.incoming(&p.constraints);
        let computed = pre_filter(&incoming, &views);
        let constraints = resolve_constraints(&p.constraints, &p.labels, DoNotSchedule);
        let mut zone = DomainCounts::new();
        zone.add("zone1", 3);
        zone.add("zone2", 3);
        let mut host = DomainCounts::new();
        for (d, c) in [("node-a", 2), ("node-b", 1), ("node-x", 0), ("node-y", 3)] {
            host.add(d, c);
        }
        let external = PreFilterState::from_counts(constraints, vec![zone, host]);
        assert_eq!(external, computed);
        let bare: Vec<NodeView<'_>> = views.iter().map(|v| NodeView { pods: vec![], ..v.clone() }).collect();
        for v in &bare {
            assert_eq!(filter(&external, &incoming, v), filter(&computed, &incoming, v), "{}", v.name);
        }
        assert_eq!(filter(&external, &incoming, &bare[2]), Ok(()));
        assert_eq!(filter(&external, &incoming, &bare[0]), Err(FilterFailure::ConstraintsNotMatch));
        assert_eq!(FilterFailure::NodeLabelNotMatch.reason(), ERR_REASON_NODE_LABEL_NOT_MATCH);
        assert!(FilterFailure::NodeLabelNotMatch.is_unresolvable());
        assert!(!FilterFailure::ConstraintsNotMatch.is_unresolvable());
    }

    /// Places `replicas` pods one by one on the first node the Filter accepts; returns the
    /// pods per node, and the number of pods that found no node.
    fn place_first_feasible(nodes: &[TNode], template: &TPod, replicas: usize) -> (Vec<usize>, usize) {
        let mut placed: Vec<TPod> = Vec::new();
        let mut infeasible = 0;
        for _ in 0..replicas {
            let views = cluster(nodes, &placed);
            let incoming = template.incoming(&template.constraints);
            let state = pre_filter(&incoming, &views);
            match views.iter().find(|v| filter(&state, &incoming, v).is_ok()) {
                Some(v) => {
                    let mut p = template.clone();
                    p.node = v.name.to_string();
                    p.constraints.clear();
                    placed.push(p);
                }
                None => infeasible += 1,
            }
        }
        let per_node = nodes.iter().map(|n| placed.iter().filter(|p| p.node == n.name).count()).collect();
        (per_node, infeasible)
    }

    /// 3 zones (2 nodes each), zone maxSkew 1: 10 replicas placed first-feasible end 4/3/3.
    #[test]
    fn ten_replicas_over_three_zones_end_four_three_three() {
        let nodes: Vec<TNode> = ["a", "b", "c"]
            .iter()
            .flat_map(|z| {
                (1..=2).map(move |i| node(&format!("{z}{i}")).label(ZONE_LABEL, &format!("zone-{z}")))
            })
            .collect();
        let template = pod().label("app", "web").sc(1, ZONE_LABEL, DoNotSchedule, sel(&[("app", "web")]));
        let (per_node, infeasible) = place_first_feasible(&nodes, &template, 10);
        assert_eq!(infeasible, 0);
        let per_zone: Vec<usize> = per_node.chunks(2).map(|c| c.iter().sum()).collect();
        assert_eq!(per_zone, vec![4, 3, 3]);
    }

    /// Hostname maxSkew 1 on 3 nodes: with `minDomains` above the node count (the global
    /// minimum is then 0) each node takes one replica and the surplus is infeasible; without
    /// it the surplus spreads 2/2/1 (the skew is measured against the least-loaded node).
    #[test]
    fn hostname_spread_surplus_is_infeasible_with_min_domains() {
        let nodes = vec![node("n1"), node("n2"), node("n3")];
        let sel = sel(&[("app", "db")]);
        let strict = pod().label("app", "db").spread(
            1,
            HOSTNAME_LABEL,
            DoNotSchedule,
            sel.clone(),
            Some(5),
            None,
            None,
            &[],
        );
        let (per_node, infeasible) = place_first_feasible(&nodes, &strict, 5);
        assert_eq!((per_node, infeasible), (vec![1, 1, 1], 2));
        let plain = pod().label("app", "db").sc(1, HOSTNAME_LABEL, DoNotSchedule, sel);
        let (per_node, infeasible) = place_first_feasible(&nodes, &plain, 5);
        assert_eq!((per_node, infeasible), (vec![2, 2, 1], 0));
    }

    /// The system defaults prefer the node and zone with fewer replicas of the Service.
    #[test]
    fn system_defaults_prefer_the_emptier_zone() {
        let nodes = vec![
            node("a1").label(ZONE_LABEL, "za"),
            node("a2").label(ZONE_LABEL, "za"),
            node("b1").label(ZONE_LABEL, "zb"),
        ];
        let existing = vec![on("a1").label("app", "web"), on("a2").label("app", "web")];
        let views = cluster(&nodes, &existing);
        let p = pod().label("app", "web");
        let svc = labels(&[("app", "web")]);
        let owner = default_selector(&p.labels, &[&svc], None);
        let eff = effective_constraints(&p.constraints, &Defaulting::System, Some(&owner));
        let incoming = p.incoming(&eff);
        assert!(pre_filter(&incoming, &views).is_skip());
        let req = require_all_topologies(&p.constraints, &Defaulting::System);
        let state = pre_score(&incoming, &views, &[0, 1, 2], req).expect("soft defaults");
        let mut scores: Vec<(&str, i64)> =
            views.iter().map(|v| (v.name, score(&state, &incoming, v))).collect();
        normalize_score(&state, &mut scores);
        assert_eq!(scores[2], ("b1", MAX_NODE_SCORE));
        assert!(scores[0].1 < scores[2].1 && scores[0].1 == scores[1].1);
    }

    #[test]
    fn scenario_yaml_shape() {
        let yaml = "
maxSkew: 1
topologyKey: topology.kubernetes.io/zone
whenUnsatisfiable: DoNotSchedule
labelSelector: {matchLabels: {app: web}}
minDomains: 3
nodeAffinityPolicy: Ignore
nodeTaintsPolicy: Honor
matchLabelKeys: [pod-template-hash]
";
        let c: TopologySpreadConstraint = serde_saphyr::from_str(yaml).expect("parses");
        assert_eq!(c.max_skew, 1);
        assert_eq!(c.min_domains, Some(3));
        assert_eq!(c.node_affinity_policy, Some(Ignore));
        assert_eq!(c.node_taints_policy, Some(Honor));
        assert_eq!(c.match_label_keys, vec!["pod-template-hash".to_string()]);
        assert!(c.validate().is_ok());
        let back = serde_saphyr::to_string(&c).expect("serializes");
        assert_eq!(serde_saphyr::from_str::<TopologySpreadConstraint>(&back).expect("round trip"), c);
        let minimal: TopologySpreadConstraint =
            serde_saphyr::from_str("{maxSkew: 2, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway}")
                .expect("minimal");
        assert_eq!(minimal, TopologySpreadConstraint::new(2, "zone", ScheduleAnyway));
        assert!(
            serde_saphyr::from_str::<TopologySpreadConstraint>(
                "{maxSkew: 1, topologyKey: z, whenUnsatisfiable: DoNotSchedule, maxskew: 2}"
            )
            .is_err()
        );
        assert!(
            serde_saphyr::from_str::<TopologySpreadConstraint>(
                "{maxSkew: 1, topologyKey: z, whenUnsatisfiable: Sometimes}"
            )
            .is_err()
        );
        let args: PodTopologySpreadArgs = serde_saphyr::from_str(
            "{defaultingType: List, defaultConstraints: [{maxSkew: 1, topologyKey: zone, \
            whenUnsatisfiable: ScheduleAnyway}]}",
        )
        .expect("args");
        assert!(args.validate().is_ok());
        assert_eq!(
            args.defaulting(),
            Defaulting::List(vec![TopologySpreadConstraint::new(1, "zone", ScheduleAnyway)])
        );
        let args: PodTopologySpreadArgs = serde_saphyr::from_str("{}").expect("empty args");
        assert_eq!(args.defaulting_type, DefaultingType::System);
    }

    /// Upstream API validation of a constraint and of the plugin args.
    #[test]
    fn validation() {
        let ok = TopologySpreadConstraint {
            label_selector: foo(),
            ..TopologySpreadConstraint::new(1, "zone", DoNotSchedule)
        };
        assert!(ok.validate().is_ok());
        let bad = |f: &dyn Fn(&mut TopologySpreadConstraint), needle: &str| {
            let mut c = ok.clone();
            f(&mut c);
            let err = c.validate().expect_err(needle);
            assert!(err.contains(needle), "{err:?} should mention {needle:?}");
        };
        bad(&|c| c.max_skew = 0, "maxSkew is 0; expected an integer greater than zero");
        bad(&|c| c.max_skew = -1, "maxSkew");
        bad(&|c| c.topology_key.clear(), "topologyKey is empty");
        bad(&|c| c.min_domains = Some(0), "minDomains is 0");
        bad(
            &|c| {
                c.min_domains = Some(2);
                c.when_unsatisfiable = ScheduleAnyway;
            },
            "expected it only with whenUnsatisfiable: DoNotSchedule",
        );
        bad(&|c| c.match_label_keys = vec!["foo".into()], "is also a key of labelSelector");
        bad(&|c| c.match_label_keys = vec!["bad key!".into()], "matchLabelKeys[0]");
        bad(&|c| c.match_label_keys = vec!["".into()], "not a valid label key");
        bad(
            &|c| {
                c.label_selector = None;
                c.match_label_keys = vec!["pod-template-hash".into()];
            },
            "without a labelSelector",
        );
        bad(
            &|c| {
                c.label_selector = Some(LabelSelector {
                    match_labels: BTreeMap::new(),
                    match_expressions: vec![LabelSelectorRequirement {
                        key: "a".into(),
                        operator: LabelSelectorOperator::In,
                        values: vec![],
                    }],
                })
            },
            "labelSelector: matchExpressions[0]",
        );
        let mut keyed = ok.clone();
        keyed.match_label_keys = vec!["pod-template-hash".into(), "example.com/track".into()];
        assert!(keyed.validate().is_ok());
        let mut with_min = ok.clone();
        with_min.min_domains = Some(3);
        assert!(with_min.validate().is_ok());

        // The list: no {topologyKey, whenUnsatisfiable} twice.
        let list = vec![ok.clone(), TopologySpreadConstraint::new(2, "zone", ScheduleAnyway)];
        assert!(validate_constraints(&list).is_ok());
        let dup = vec![ok.clone(), TopologySpreadConstraint::new(2, "zone", DoNotSchedule)];
        let err = validate_constraints(&dup).expect_err("duplicate");
        assert!(err.contains("topologySpreadConstraints[1] repeats"), "{err}");
        let err =
            validate_constraints(&[ok.clone(), TopologySpreadConstraint::new(0, "rack", DoNotSchedule)])
                .expect_err("bad second");
        assert!(err.starts_with("topologySpreadConstraints[1]: maxSkew"), "{err}");

        // Plugin args.
        let sys_with_list = PodTopologySpreadArgs {
            defaulting_type: DefaultingType::System,
            default_constraints: vec![TopologySpreadConstraint::new(1, "zone", ScheduleAnyway)],
        };
        assert!(sys_with_list.validate().expect_err("system + list").contains("defaultingType is System"));
        let with_selector = PodTopologySpreadArgs {
            defaulting_type: DefaultingType::List,
            default_constraints: vec![ok.clone()],
        };
        assert!(with_selector.validate().expect_err("selector").contains("labelSelector is set"));
        let zero = PodTopologySpreadArgs {
            defaulting_type: DefaultingType::List,
            default_constraints: vec![TopologySpreadConstraint::new(0, "zone", ScheduleAnyway)],
        };
        assert!(zero.validate().expect_err("maxSkew").contains("defaultConstraints[0]: maxSkew is 0"));
        let dup = PodTopologySpreadArgs {
            defaulting_type: DefaultingType::List,
            default_constraints: vec![
                TopologySpreadConstraint::new(1, "zone", ScheduleAnyway),
                TopologySpreadConstraint::new(2, "zone", ScheduleAnyway),
            ],
        };
        assert!(dup.validate().expect_err("dup").contains("defaultConstraints[1] repeats"));
        let list_ok =
            PodTopologySpreadArgs { defaulting_type: DefaultingType::List, default_constraints: vec![] };
        assert!(list_ok.validate().is_ok());
    }

    #[test]
    fn label_key_rules() {
        for ok in ["a", "app.kubernetes.io/name", "pod-template-hash", "A_b.c-9", "example.com/x"] {
            assert!(validate_label_key(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "a/b/c", "/a", "Example.com/x", "a b", &"x".repeat(64)] {
            assert!(validate_label_key(bad).is_err(), "{bad}");
        }
    }
}
