//! InterPodAffinity: the filter (the incoming pod's required pod affinity and anti-affinity,
//! and the required anti-affinity of the pods already placed, "symmetry") and the score (the
//! incoming pod's preferred terms, the placed pods' preferred terms, and the placed pods'
//! required affinity terms weighted by `hardPodAffinityWeight`), as pure functions over an
//! explicit snapshot of nodes and their pods. Sources, under
//! `kubernetes/kubernetes:pkg/scheduler/framework/plugins/interpodaffinity/`: `filtering.go`
//! (PreFilter, AddPod/RemovePod, Filter), `scoring.go` (PreScore, Score, NormalizeScore) and
//! `plugin.go` (namespace selector merge, namespace label snapshot); the term semantics of
//! `kubernetes/kubernetes:pkg/scheduler/framework/types.go` (`AffinityTerm.Matches`,
//! `newAffinityTerm`, `getNamespacesFromPodAffinityTerm`); the `matchLabelKeys` /
//! `mismatchLabelKeys` merge the API server applies at pod creation
//! (`kubernetes/kubernetes:pkg/registry/core/pod/strategy.go`,
//! `applyMatchLabelKeysAndMismatchLabelKeys`); the API validation of
//! `kubernetes/kubernetes:pkg/apis/core/validation/validation.go` (`validatePodAffinityTerm`,
//! `validateWeightedPodAffinityTerms`, `validateMatchLabelKeysAndMismatchLabelKeys`); and the
//! plugin defaults of `kubernetes/kubernetes:pkg/scheduler/apis/config/v1/defaults.go`
//! (`hardPodAffinityWeight: 1`). Recent upstream (v1.30+): terms carry `matchLabelKeys` and
//! `mismatchLabelKeys`, NormalizeScore starts its min/max from the extreme integers.
//!
//! Design:
//! - The counting ([`pre_filter`], [`PreFilterState::update_with_pod`], upstream PreFilter and
//!   AddPod/RemovePod) is separate from the per-node check ([`filter`]), so a caller that keeps
//!   the [`TopologyCounts`] incrementally can reuse [`filter`] as is. Likewise [`pre_score`] is
//!   a fold of [`PreScoreState::add_existing_pod`]. [`filter`] and [`score`] do not allocate.
//! - Terms are matched in their API form ([`PodAffinityTerm::matches`]) with the owning pod's
//!   namespace and labels, instead of building upstream's processed `AffinityTerm`: the
//!   default namespace (the owner's), `matchLabelKeys` (`key In (owner's value)`) and
//!   `mismatchLabelKeys` (`key NotIn (owner's value)`) are applied on the fly, so nothing is
//!   allocated per pod.
//! - Namespace selectors: a term with neither `namespaces` nor `namespaceSelector` selects its
//!   owner's namespace; `namespaceSelector: {}` selects every namespace; otherwise the
//!   selector is matched against the labels of the target pod's namespace, from the caller's
//!   [`NamespaceLabels`]. Like upstream, the incoming pod's own terms only select namespaces
//!   the lookup knows (upstream lists the namespaces matching the selector,
//!   `mergeAffinityTermNamespacesIfNotEmpty`), while the existing pods' terms are matched
//!   against the incoming pod's namespace labels, empty when its namespace is unknown
//!   (`GetNamespaceLabelsSnapshot`).
//! - Nodes: [`NodeView::label`] answers [`HOSTNAME_LABEL`] with the node's name when the
//!   labels lack it (every upstream node carries that label; the simulator's do not). So a
//!   node's label set is never empty and upstream's "node without labels" early return in
//!   PreScore never applies.

use crate::cluster::Labels;
pub use crate::cluster::pod_affinity::{
    PodAffinity, PodAffinityTerm, PodAntiAffinity, WeightedPodAffinityTerm,
};
use std::collections::BTreeMap;
use std::fmt;

/// The well-known node label `kubernetes.io/hostname` (`v1.LabelHostname`).
pub const HOSTNAME_LABEL: &str = "kubernetes.io/hostname";

/// Default `InterPodAffinityArgs.hardPodAffinityWeight`
/// (`kubernetes/kubernetes:pkg/scheduler/apis/config/v1/defaults.go`,
/// `v1.DefaultHardPodAffinitySymmetricWeight`).
pub const DEFAULT_HARD_POD_AFFINITY_WEIGHT: i32 = 1;

/// Default weight of the InterPodAffinity score in the default profile
/// (`kubernetes/kubernetes:pkg/scheduler/apis/config/v1/default_plugins.go`, `getDefaultPlugins`).
pub const INTER_POD_AFFINITY_WEIGHT: i64 = 2;

/// Filter reason when the node fails the incoming pod's required affinity
/// (`filtering.go`, `ErrReasonAffinityRulesNotMatch`).
pub const ERR_REASON_AFFINITY_RULES_NOT_MATCH: &str = "node(s) didn't match pod affinity rules";
/// Filter reason when the node fails the incoming pod's required anti-affinity
/// (`filtering.go`, `ErrReasonAntiAffinityRulesNotMatch`).
pub const ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH: &str = "node(s) didn't match pod anti-affinity rules";
/// Filter reason when placing the pod would break an existing pod's required anti-affinity
/// (`filtering.go`, `ErrReasonExistingAntiAffinityRulesNotMatch`).
pub const ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH: &str =
    "node(s) didn't satisfy existing pods anti-affinity rules";

/// Labels of an unknown namespace, as upstream's namespace label snapshot gives them.
static NO_LABELS: Labels = Labels::new();

// ---------------------------------------------------------------------------------------------
// Snapshot views.
// ---------------------------------------------------------------------------------------------

/// The labels of namespaces, by name (upstream's namespace lister). `None`: unknown namespace.
pub trait NamespaceLabels {
    fn namespace_labels(&self, namespace: &str) -> Option<&Labels>;
}

impl NamespaceLabels for BTreeMap<String, Labels> {
    fn namespace_labels(&self, namespace: &str) -> Option<&Labels> {
        self.get(namespace)
    }
}

/// A pod already placed on a node (bound or assumed).
#[derive(Clone, Copy, Debug)]
pub struct PodView<'a> {
    pub namespace: &'a str,
    pub labels: &'a Labels,
    pub affinity: Option<&'a PodAffinity>,
    pub anti_affinity: Option<&'a PodAntiAffinity>,
}

/// The pod being scheduled.
#[derive(Clone, Copy, Debug)]
pub struct IncomingPod<'a> {
    pub namespace: &'a str,
    pub labels: &'a Labels,
    pub affinity: Option<&'a PodAffinity>,
    pub anti_affinity: Option<&'a PodAntiAffinity>,
}

/// A node with the pods on it.
#[derive(Clone, Debug)]
pub struct NodeView<'a> {
    pub name: &'a str,
    pub labels: &'a Labels,
    pub pods: Vec<PodView<'a>>,
}

impl<'a> NodeView<'a> {
    /// The node's label `key`; for [`HOSTNAME_LABEL`] the node's name when the labels lack it.
    pub fn label(&self, key: &str) -> Option<&'a str> {
        match self.labels.get(key) {
            Some(v) => Some(v.as_str()),
            None if key == HOSTNAME_LABEL => Some(self.name),
            None => None,
        }
    }
}

impl<'a> IncomingPod<'a> {
    fn view(&self) -> PodView<'a> {
        PodView {
            namespace: self.namespace,
            labels: self.labels,
            affinity: self.affinity,
            anti_affinity: self.anti_affinity,
        }
    }
}

impl<'a> PodView<'a> {
    /// `framework.GetPodAffinityTerms` (required terms only).
    fn required_affinity(&self) -> &'a [PodAffinityTerm] {
        match self.affinity {
            Some(a) => &a.required_during_scheduling_ignored_during_execution,
            None => &[],
        }
    }

    /// `framework.GetPodAntiAffinityTerms` (required terms only).
    fn required_anti_affinity(&self) -> &'a [PodAffinityTerm] {
        match self.anti_affinity {
            Some(a) => &a.required_during_scheduling_ignored_during_execution,
            None => &[],
        }
    }

    fn preferred_affinity(&self) -> &'a [WeightedPodAffinityTerm] {
        match self.affinity {
            Some(a) => &a.preferred_during_scheduling_ignored_during_execution,
            None => &[],
        }
    }

    fn preferred_anti_affinity(&self) -> &'a [WeightedPodAffinityTerm] {
        match self.anti_affinity {
            Some(a) => &a.preferred_during_scheduling_ignored_during_execution,
            None => &[],
        }
    }

    /// Upstream `NodeInfo.PodsWithAffinity` membership: any pod affinity or anti-affinity.
    fn has_affinity(&self) -> bool {
        self.affinity.is_some() || self.anti_affinity.is_some()
    }
}

/// `term` (owned by `owner`) selects `target`, whose namespace has `target_ns_labels`.
fn selects(
    term: &PodAffinityTerm,
    owner: &PodView,
    target: &PodView,
    target_ns_labels: Option<&Labels>,
) -> bool {
    term.matches(owner.namespace, owner.labels, target.namespace, target.labels, target_ns_labels)
}

/// Upstream `podMatchesAllAffinityTerms` (`filtering.go`): false for no terms.
fn selects_with_all(
    terms: &[PodAffinityTerm],
    owner: &PodView,
    target: &PodView,
    target_ns_labels: Option<&Labels>,
) -> bool {
    !terms.is_empty() && terms.iter().all(|t| selects(t, owner, target, target_ns_labels))
}

// ---------------------------------------------------------------------------------------------
// Filtering.
// ---------------------------------------------------------------------------------------------

/// Counts per topology pair (topology key, value) (upstream `topologyToMatchedTermCount`).
/// Entries that reach zero are removed, as upstream's `update` does, so [`Self::is_empty`]
/// is upstream's `len(m) == 0`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TopologyCounts {
    by_key: BTreeMap<String, BTreeMap<String, i64>>,
}

impl TopologyCounts {
    /// The count of the pair (`key`, `value`), 0 if absent.
    pub fn get(&self, key: &str, value: &str) -> i64 {
        self.by_key.get(key).and_then(|m| m.get(value)).copied().unwrap_or(0)
    }

    /// Adds `delta` to the pair; removes it when it reaches zero.
    pub fn add(&mut self, key: &str, value: &str, delta: i64) {
        if delta == 0 {
            return;
        }
        if !self.by_key.contains_key(key) {
            self.by_key.insert(key.to_owned(), BTreeMap::new());
        }
        let Some(values) = self.by_key.get_mut(key) else {
            return;
        };
        match values.get_mut(value) {
            Some(c) => {
                *c += delta;
                if *c == 0 {
                    values.remove(value);
                }
            }
            None => {
                values.insert(value.to_owned(), delta);
            }
        }
        if values.is_empty() {
            self.by_key.remove(key);
        }
    }

    /// No pair has a non-zero count.
    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// The number of pairs with a non-zero count.
    pub fn len(&self) -> usize {
        self.by_key.values().map(BTreeMap::len).sum()
    }

    /// The pairs with their counts, by key then value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, i64)> + '_ {
        self.by_key.iter().flat_map(|(k, m)| m.iter().map(move |(v, c)| (k.as_str(), v.as_str(), *c)))
    }

    /// Upstream `topologyToMatchedTermCount.update`: adds `delta` to (`key`, the node's value
    /// of `key`) when the node has the label.
    fn update(&mut self, node: &NodeView, key: &str, delta: i64) {
        if let Some(v) = node.label(key) {
            self.add(key, v, delta);
        }
    }

    /// Some pair the node is in has a positive count.
    fn any_positive_on(&self, node: &NodeView) -> bool {
        self.by_key.iter().any(|(k, m)| node.label(k).is_some_and(|v| m.get(v).is_some_and(|c| *c > 0)))
    }
}

/// Upstream `preFilterState` (`filtering.go`): what Filter needs about the incoming pod and the
/// cluster. The counts can be maintained by the caller (e.g. incrementally) and passed to
/// [`filter`] directly.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PreFilterState {
    /// Per topology pair, the number of (existing pod, required anti-affinity term) pairs
    /// whose term selects the incoming pod.
    pub existing_anti_affinity_counts: TopologyCounts,
    /// Per topology pair, for each existing pod selected by all the incoming pod's required
    /// affinity terms, one count per term.
    pub affinity_counts: TopologyCounts,
    /// Per topology pair, the number of (existing pod, incoming required anti-affinity term)
    /// pairs where the term selects the existing pod.
    pub anti_affinity_counts: TopologyCounts,
    /// The incoming pod is selected by all its own required affinity terms (for the "first
    /// pod of a group with affinity to itself" case of `satisfyPodAffinity`).
    pub pod_matches_own_affinity: bool,
}

impl PreFilterState {
    /// The state with no existing pod counted yet.
    pub fn new(pod: &IncomingPod, namespaces: &dyn NamespaceLabels) -> PreFilterState {
        let p = pod.view();
        let own_ns = namespaces.namespace_labels(p.namespace);
        PreFilterState {
            pod_matches_own_affinity: selects_with_all(p.required_affinity(), &p, &p, own_ns),
            ..PreFilterState::default()
        }
    }

    /// Upstream `preFilterState.updateWithPod` (AddPod with `multiplier = 1`, RemovePod with
    /// `-1`): counts `existing` on `node` into the three maps.
    pub fn update_with_pod(
        &mut self,
        pod: &IncomingPod,
        existing: &PodView,
        node: &NodeView,
        namespaces: &dyn NamespaceLabels,
        multiplier: i64,
    ) {
        let p = pod.view();
        // The existing pod's terms see the incoming pod's namespace labels (empty if unknown).
        let pod_ns = namespaces.namespace_labels(p.namespace).unwrap_or(&NO_LABELS);
        for t in existing.required_anti_affinity() {
            if selects(t, existing, &p, Some(pod_ns)) {
                self.existing_anti_affinity_counts.update(node, &t.topology_key, multiplier);
            }
        }
        let existing_ns = namespaces.namespace_labels(existing.namespace);
        let affinity = p.required_affinity();
        if selects_with_all(affinity, &p, existing, existing_ns) {
            for t in affinity {
                self.affinity_counts.update(node, &t.topology_key, multiplier);
            }
        }
        for t in p.required_anti_affinity() {
            if selects(t, &p, existing, existing_ns) {
                self.anti_affinity_counts.update(node, &t.topology_key, multiplier);
            }
        }
    }

    /// Upstream PreFilter returns `Skip` (Filter is not run, every node passes) when no
    /// existing pod's anti-affinity selects the pod and the pod has no required terms.
    pub fn is_skip(&self, pod: &IncomingPod) -> bool {
        let p = pod.view();
        self.existing_anti_affinity_counts.is_empty()
            && p.required_affinity().is_empty()
            && p.required_anti_affinity().is_empty()
    }
}

/// Upstream PreFilter (`getExistingAntiAffinityCounts`, `getIncomingAffinityAntiAffinityCounts`):
/// the counts over every pod of every node of the snapshot.
pub fn pre_filter(pod: &IncomingPod, nodes: &[NodeView], namespaces: &dyn NamespaceLabels) -> PreFilterState {
    let mut state = PreFilterState::new(pod, namespaces);
    for node in nodes {
        for existing in &node.pods {
            state.update_with_pod(pod, existing, node, namespaces, 1);
        }
    }
    state
}

/// Why [`filter`] rejects a node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterFailure {
    /// The incoming pod's required affinity is not met (status `UnschedulableAndUnresolvable`).
    AffinityRulesNotMatch,
    /// The incoming pod's required anti-affinity is not met (status `Unschedulable`).
    AntiAffinityRulesNotMatch,
    /// An existing pod's required anti-affinity would be broken (status `Unschedulable`).
    ExistingAntiAffinityRulesNotMatch,
}

impl FilterFailure {
    /// The upstream reason string.
    pub fn reason(self) -> &'static str {
        match self {
            FilterFailure::AffinityRulesNotMatch => ERR_REASON_AFFINITY_RULES_NOT_MATCH,
            FilterFailure::AntiAffinityRulesNotMatch => ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH,
            FilterFailure::ExistingAntiAffinityRulesNotMatch => {
                ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH
            }
        }
    }

    /// Upstream status `UnschedulableAndUnresolvable` (preemption cannot help), as opposed to
    /// `Unschedulable`.
    pub fn is_unresolvable(self) -> bool {
        matches!(self, FilterFailure::AffinityRulesNotMatch)
    }
}

impl fmt::Display for FilterFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// Upstream Filter (`filtering.go`): the incoming pod's required affinity
/// (`satisfyPodAffinity`), then its required anti-affinity (`satisfyPodAntiAffinity`), then
/// the existing pods' required anti-affinity (`satisfyExistingPodsAntiAffinity`); the first
/// failure is returned. Allocation-free.
pub fn filter(state: &PreFilterState, pod: &IncomingPod, node: &NodeView) -> Result<(), FilterFailure> {
    let p = pod.view();
    if !satisfy_pod_affinity(state, &p, node) {
        return Err(FilterFailure::AffinityRulesNotMatch);
    }
    if !satisfy_pod_anti_affinity(state, &p, node) {
        return Err(FilterFailure::AntiAffinityRulesNotMatch);
    }
    if state.existing_anti_affinity_counts.any_positive_on(node) {
        return Err(FilterFailure::ExistingAntiAffinityRulesNotMatch);
    }
    Ok(())
}

/// `satisfyPodAffinity`: the node must carry every term's topology key, and each term's pair
/// must have a matching pod; failing the latter, the pod still passes when no pod anywhere
/// matches (the counts are empty) and the pod matches all its own terms.
fn satisfy_pod_affinity(state: &PreFilterState, p: &PodView, node: &NodeView) -> bool {
    let mut pods_exist = true;
    for t in p.required_affinity() {
        match node.label(&t.topology_key) {
            Some(v) => {
                if state.affinity_counts.get(&t.topology_key, v) <= 0 {
                    pods_exist = false;
                }
            }
            None => return false,
        }
    }
    pods_exist || (state.affinity_counts.is_empty() && state.pod_matches_own_affinity)
}

/// `satisfyPodAntiAffinity`: no term's pair on this node has a matching pod.
fn satisfy_pod_anti_affinity(state: &PreFilterState, p: &PodView, node: &NodeView) -> bool {
    if state.anti_affinity_counts.is_empty() {
        return true;
    }
    !p.required_anti_affinity().iter().any(|t| {
        node.label(&t.topology_key).is_some_and(|v| state.anti_affinity_counts.get(&t.topology_key, v) > 0)
    })
}

// ---------------------------------------------------------------------------------------------
// Scoring.
// ---------------------------------------------------------------------------------------------

/// Upstream `config.InterPodAffinityArgs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterPodAffinityArgs {
    /// Weight of an existing pod's required affinity term that selects the incoming pod.
    pub hard_pod_affinity_weight: i32,
    /// Skip scoring when the incoming pod has no preferred terms (existing pods' terms are
    /// then not considered).
    pub ignore_preferred_terms_of_existing_pods: bool,
}

impl Default for InterPodAffinityArgs {
    fn default() -> Self {
        InterPodAffinityArgs {
            hard_pod_affinity_weight: DEFAULT_HARD_POD_AFFINITY_WEIGHT,
            ignore_preferred_terms_of_existing_pods: false,
        }
    }
}

impl InterPodAffinityArgs {
    /// Upstream `ValidateInterPodAffinityArgs`: `hardPodAffinityWeight` in 0..=100.
    pub fn validate(&self) -> Result<(), String> {
        if !(0..=100).contains(&self.hard_pod_affinity_weight) {
            return Err(format!(
                "hardPodAffinityWeight: {} is out of range; expected an integer from 0 to 100",
                self.hard_pod_affinity_weight
            ));
        }
        Ok(())
    }
}

/// Upstream `preScoreState` (`scoring.go`): per topology key and value, the summed weights.
/// Entries are kept when they sum to zero, as upstream does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PreScoreState {
    pub topology_score: BTreeMap<String, BTreeMap<String, i64>>,
}

impl PreScoreState {
    /// Upstream `processExistingPod`: the contributions of `existing` on `node`, times
    /// `multiplier` (1 to add the pod, -1 to take it away again).
    pub fn add_existing_pod(
        &mut self,
        args: &InterPodAffinityArgs,
        pod: &IncomingPod,
        existing: &PodView,
        node: &NodeView,
        namespaces: &dyn NamespaceLabels,
        multiplier: i64,
    ) {
        let p = pod.view();
        let existing_ns = namespaces.namespace_labels(existing.namespace);
        let pod_ns = Some(namespaces.namespace_labels(p.namespace).unwrap_or(&NO_LABELS));
        // The incoming pod's preferred terms selecting the existing pod: +weight / -weight.
        for t in p.preferred_affinity() {
            self.process_term(&t.pod_affinity_term, t.weight, &p, existing, existing_ns, node, multiplier);
        }
        for t in p.preferred_anti_affinity() {
            self.process_term(&t.pod_affinity_term, t.weight, &p, existing, existing_ns, node, -multiplier);
        }
        // The existing pod's required affinity terms selecting the incoming pod.
        if args.hard_pod_affinity_weight > 0 {
            for t in existing.required_affinity() {
                self.process_term(t, args.hard_pod_affinity_weight, existing, &p, pod_ns, node, multiplier);
            }
        }
        // The existing pod's preferred terms selecting the incoming pod.
        for t in existing.preferred_affinity() {
            self.process_term(&t.pod_affinity_term, t.weight, existing, &p, pod_ns, node, multiplier);
        }
        for t in existing.preferred_anti_affinity() {
            self.process_term(&t.pod_affinity_term, t.weight, existing, &p, pod_ns, node, -multiplier);
        }
    }

    /// Upstream `scoreMap.processTerm`: when `term` (owned by `owner`) selects `target`,
    /// `weight × multiplier` goes to (key, the node's value) if the node has the key.
    #[allow(clippy::too_many_arguments)]
    fn process_term(
        &mut self,
        term: &PodAffinityTerm,
        weight: i32,
        owner: &PodView,
        target: &PodView,
        target_ns_labels: Option<&Labels>,
        node: &NodeView,
        multiplier: i64,
    ) {
        if !selects(term, owner, target, target_ns_labels) {
            return;
        }
        let Some(value) = node.label(&term.topology_key) else {
            return;
        };
        let key = term.topology_key.as_str();
        if !self.topology_score.contains_key(key) {
            self.topology_score.insert(key.to_owned(), BTreeMap::new());
        }
        if let Some(values) = self.topology_score.get_mut(key) {
            let delta = i64::from(weight) * multiplier;
            match values.get_mut(value) {
                Some(s) => *s += delta,
                None => {
                    values.insert(value.to_owned(), delta);
                }
            }
        }
    }
}

/// Upstream PreScore (`scoring.go`): `None` is upstream's `Skip` (Score and NormalizeScore
/// are not run; the plugin adds nothing to any node), returned when
/// `ignorePreferredTermsOfExistingPods` is set and the pod has no preferred terms, or when no
/// term of any pod contributed. `nodes` is the whole snapshot (upstream lists all nodes, not
/// only the feasible ones).
pub fn pre_score(
    args: &InterPodAffinityArgs,
    pod: &IncomingPod,
    nodes: &[NodeView],
    namespaces: &dyn NamespaceLabels,
) -> Option<PreScoreState> {
    let p = pod.view();
    let has_constraints = !p.preferred_affinity().is_empty() || !p.preferred_anti_affinity().is_empty();
    if args.ignore_preferred_terms_of_existing_pods && !has_constraints {
        return None;
    }
    let mut state = PreScoreState::default();
    for node in nodes {
        // Without preferred terms of its own, only pods with affinity can contribute
        // (upstream walks `PodsWithAffinity` then).
        for existing in node.pods.iter().filter(|e| has_constraints || e.has_affinity()) {
            state.add_existing_pod(args, pod, existing, node, namespaces, 1);
        }
    }
    if state.topology_score.is_empty() { None } else { Some(state) }
}

/// Upstream Score: Σ over topology keys the node has of the score of the node's value (may be
/// negative). Allocation-free.
pub fn score(state: &PreScoreState, node: &NodeView) -> i64 {
    let mut total = 0;
    for (key, values) in &state.topology_score {
        if let Some(v) = node.label(key) {
            total += values.get(v).copied().unwrap_or(0);
        }
    }
    total
}

/// Upstream NormalizeScore (`scoring.go`), over the scores of the scored nodes: nothing when
/// the state has no entry; otherwise `min`/`max` over the scores and each score becomes
/// `int64(float64(MaxNodeScore) * (float64(s - min) / float64(max - min)))` — in floating
/// point, truncated, exactly as upstream (so 29 of 100 gives 28) — or 0 for every node when
/// `max == min`.
pub fn normalize_score(state: &PreScoreState, scores: &mut [i64]) {
    if state.topology_score.is_empty() || scores.is_empty() {
        return;
    }
    let mut min = i64::MAX;
    let mut max = i64::MIN;
    for &s in scores.iter() {
        max = max.max(s);
        min = min.min(s);
    }
    let diff = max - min;
    for s in scores.iter_mut() {
        let f = if diff > 0 { super::MAX_NODE_SCORE as f64 * ((*s - min) as f64 / diff as f64) } else { 0.0 };
        *s = f as i64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::label_selector::{LabelSelector, LabelSelectorOperator, LabelSelectorRequirement};
    use LabelSelectorOperator::{DoesNotExist, Exists, In, NotIn};

    // ---- builders (mirroring upstream's `st.MakePod()` and term helpers) ----

    fn labels(kv: &[(&str, &str)]) -> Labels {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn r(key: &str, operator: LabelSelectorOperator, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator,
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }

    fn sel(exprs: Vec<LabelSelectorRequirement>) -> LabelSelector {
        LabelSelector { match_labels: BTreeMap::new(), match_expressions: exprs }
    }

    fn term(exprs: Vec<LabelSelectorRequirement>, topology: &str) -> PodAffinityTerm {
        PodAffinityTerm {
            label_selector: Some(sel(exprs)),
            topology_key: topology.into(),
            ..Default::default()
        }
    }

    /// `PodAffinityIn(key, topologyKey, values, ...)`.
    fn t_in(key: &str, topology: &str, values: &[&str]) -> PodAffinityTerm {
        term(vec![r(key, In, values)], topology)
    }

    fn t_not_in(key: &str, topology: &str, values: &[&str]) -> PodAffinityTerm {
        term(vec![r(key, NotIn, values)], topology)
    }

    fn t_exists(key: &str, topology: &str) -> PodAffinityTerm {
        term(vec![r(key, Exists, &[])], topology)
    }

    fn team1_selector() -> Option<LabelSelector> {
        Some(sel(vec![r("team", In, &["team1"])]))
    }

    fn weighted(weight: i32, t: PodAffinityTerm) -> WeightedPodAffinityTerm {
        WeightedPodAffinityTerm { weight, pod_affinity_term: t }
    }

    /// A pod's `affinity.podAffinity` and `affinity.podAntiAffinity`.
    #[derive(Clone, Default)]
    struct Aff {
        affinity: Option<PodAffinity>,
        anti: Option<PodAntiAffinity>,
    }

    fn pref_aff(terms: Vec<WeightedPodAffinityTerm>) -> Aff {
        Aff {
            affinity: Some(PodAffinity {
                preferred_during_scheduling_ignored_during_execution: terms,
                ..Default::default()
            }),
            anti: None,
        }
    }

    fn pref_anti(terms: Vec<WeightedPodAffinityTerm>) -> Aff {
        Aff {
            affinity: None,
            anti: Some(PodAntiAffinity {
                preferred_during_scheduling_ignored_during_execution: terms,
                ..Default::default()
            }),
        }
    }

    fn req_aff(terms: Vec<PodAffinityTerm>) -> Aff {
        Aff {
            affinity: Some(PodAffinity {
                required_during_scheduling_ignored_during_execution: terms,
                ..Default::default()
            }),
            anti: None,
        }
    }

    #[derive(Clone, Default)]
    struct P {
        ns: String,
        labels: Labels,
        node: String,
        affinity: Option<PodAffinity>,
        anti: Option<PodAntiAffinity>,
    }

    fn pod() -> P {
        P::default()
    }

    impl P {
        fn ns(mut self, ns: &str) -> P {
            self.ns = ns.into();
            self
        }
        fn label(mut self, k: &str, v: &str) -> P {
            self.labels.insert(k.into(), v.into());
            self
        }
        fn labels(mut self, kv: &[(&str, &str)]) -> P {
            for (k, v) in kv {
                self.labels.insert(k.to_string(), v.to_string());
            }
            self
        }
        fn node(mut self, n: &str) -> P {
            self.node = n.into();
            self
        }
        /// A required pod affinity term.
        fn aff(mut self, t: PodAffinityTerm) -> P {
            self.affinity
                .get_or_insert_with(Default::default)
                .required_during_scheduling_ignored_during_execution
                .push(t);
            self
        }
        /// A required pod anti-affinity term.
        fn anti(mut self, t: PodAffinityTerm) -> P {
            self.anti
                .get_or_insert_with(Default::default)
                .required_during_scheduling_ignored_during_execution
                .push(t);
            self
        }
        fn with(mut self, a: &Aff) -> P {
            self.affinity = a.affinity.clone();
            self.anti = a.anti.clone();
            self
        }
        fn view(&self) -> PodView<'_> {
            PodView {
                namespace: &self.ns,
                labels: &self.labels,
                affinity: self.affinity.as_ref(),
                anti_affinity: self.anti.as_ref(),
            }
        }
        fn incoming(&self) -> IncomingPod<'_> {
            IncomingPod {
                namespace: &self.ns,
                labels: &self.labels,
                affinity: self.affinity.as_ref(),
                anti_affinity: self.anti.as_ref(),
            }
        }
    }

    struct N {
        name: String,
        labels: Labels,
    }

    fn node(name: &str, kv: &[(&str, &str)]) -> N {
        N { name: name.into(), labels: labels(kv) }
    }

    /// `cache.NewSnapshot(pods, nodes)`: the nodes in order with their pods (pods on other
    /// nodes are left out).
    fn snapshot<'a>(nodes: &'a [N], pods: &'a [P]) -> Vec<NodeView<'a>> {
        nodes
            .iter()
            .map(|n| NodeView {
                name: &n.name,
                labels: &n.labels,
                pods: pods.iter().filter(|p| p.node == n.name).map(P::view).collect(),
            })
            .collect()
    }

    /// The upstream scoring tests' `namespaces` fixture (also used by the filter tests).
    fn team_namespaces() -> BTreeMap<String, Labels> {
        [
            ("subteam1.team1", "team1"),
            ("subteam2.team1", "team1"),
            ("subteam1.team2", "team2"),
            ("subteam2.team2", "team2"),
        ]
        .iter()
        .map(|(n, t)| (n.to_string(), labels(&[("team", t)])))
        .collect()
    }

    // ---- filtering ----

    const OK: Option<FilterFailure> = None;
    const AFF: Option<FilterFailure> = Some(FilterFailure::AffinityRulesNotMatch);
    const ANTI: Option<FilterFailure> = Some(FilterFailure::AntiAffinityRulesNotMatch);
    const EXISTING: Option<FilterFailure> = Some(FilterFailure::ExistingAntiAffinityRulesNotMatch);

    struct FilterRow {
        name: &'static str,
        pod: P,
        pods: Vec<P>,
        nodes: Vec<N>,
        /// Upstream PreFilter returns `Skip`.
        skip: bool,
        want: Vec<Option<FilterFailure>>,
    }

    fn run_filter_rows(rows: &[FilterRow], namespaces: &BTreeMap<String, Labels>) {
        for row in rows {
            let views = snapshot(&row.nodes, &row.pods);
            let incoming = row.pod.incoming();
            let state = pre_filter(&incoming, &views, namespaces);
            assert_eq!(state.is_skip(&incoming), row.skip, "{}: PreFilter skip", row.name);
            let got: Vec<_> = views.iter().map(|n| filter(&state, &incoming, n).err()).collect();
            assert_eq!(got, row.want, "{}", row.name);
        }
    }

    /// Upstream `TestRequiredAffinitySingleNode`
    /// (`kubernetes/kubernetes:pkg/scheduler/framework/plugins/interpodaffinity/filtering_test.go`),
    /// every row but the two whose PreFilter fails on an invalid label value (ported to
    /// [`invalid_label_values_fail_validation`]).
    #[test]
    fn required_affinity_single_node() {
        let pod_label = [("service", "securityscan")];
        let pod_label2 = [("security", "S1")];
        let existing = || pod().labels(&pod_label).node("node1");
        let node1 = || vec![node("node1", &[("region", "r1"), ("zone", "z11")])];
        let svc_in = || t_in("service", "region", &["securityscan", "value2"]);
        let rows = vec![
            FilterRow {
                name: "A pod that has no required pod affinity scheduling rules can schedule onto a node with no existing pods",
                pod: pod(),
                pods: vec![],
                nodes: node1(),
                skip: true,
                want: vec![OK],
            },
            FilterRow {
                name: "satisfies with requiredDuringSchedulingIgnoredDuringExecution in PodAffinity using In operator that matches the existing pod",
                pod: pod().labels(&pod_label2).aff(svc_in()),
                pods: vec![existing()],
                nodes: node1(),
                skip: false,
                want: vec![OK],
            },
            FilterRow {
                name: "satisfies the pod with requiredDuringSchedulingIgnoredDuringExecution in PodAffinity using not in operator in labelSelector that matches the existing pod",
                pod: pod().labels(&pod_label2).aff(t_not_in(
                    "service",
                    "region",
                    &["securityscan3", "value3"],
                )),
                pods: vec![existing()],
                nodes: node1(),
                skip: false,
                want: vec![OK],
            },
            FilterRow {
                name: "Does not satisfy the PodAffinity with labelSelector because of diff Namespace",
                pod: pod().labels(&pod_label2).aff(PodAffinityTerm {
                    namespaces: vec!["DiffNameSpace".into()],
                    ..t_in("service", "", &["securityscan", "value2"])
                }),
                pods: vec![pod().ns("ns").label("service", "securityscan").node("node1")],
                nodes: node1(),
                skip: false,
                want: vec![AFF],
            },
            FilterRow {
                name: "Doesn't satisfy the PodAffinity because of unmatching labelSelector with the existing pod",
                pod: pod().labels(&pod_label).aff(t_in("service", "", &["antivirusscan", "value2"])),
                pods: vec![existing()],
                nodes: node1(),
                skip: false,
                want: vec![AFF],
            },
            FilterRow {
                name: "satisfies the PodAffinity with different label Operators in multiple RequiredDuringSchedulingIgnoredDuringExecution ",
                pod: pod()
                    .labels(&pod_label2)
                    .aff(term(vec![r("service", Exists, &[]), r("wrongkey", DoesNotExist, &[])], "region"))
                    .aff(term(
                        vec![r("service", In, &["securityscan"]), r("service", NotIn, &["WrongValue"])],
                        "region",
                    )),
                pods: vec![existing()],
                nodes: node1(),
                skip: false,
                want: vec![OK],
            },
            FilterRow {
                name: "The labelSelector requirements(items of matchExpressions) are ANDed, the pod cannot schedule onto the node because one of the matchExpression item don't match.",
                pod: pod()
                    .labels(&pod_label2)
                    .aff(term(vec![r("service", Exists, &[]), r("wrongkey", DoesNotExist, &[])], "region"))
                    .aff(term(
                        vec![r("service", In, &["securityscan2"]), r("service", NotIn, &["WrongValue"])],
                        "region",
                    )),
                pods: vec![existing()],
                nodes: node1(),
                skip: false,
                want: vec![AFF],
            },
            FilterRow {
                name: "satisfies the PodAffinity and PodAntiAffinity with the existing pod",
                pod: pod().labels(&pod_label2).aff(svc_in()).anti(t_in(
                    "service",
                    "node",
                    &["antivirusscan", "value2"],
                )),
                pods: vec![existing()],
                nodes: node1(),
                skip: false,
                want: vec![OK],
            },
            FilterRow {
                name: "satisfies the PodAffinity and PodAntiAffinity and PodAntiAffinity symmetry with the existing pod",
                pod: pod().labels(&pod_label2).aff(svc_in()).anti(t_in(
                    "service",
                    "node",
                    &["antivirusscan", "value2"],
                )),
                pods: vec![existing().anti(t_in("service", "node", &["antivirusscan", "value2"]))],
                nodes: node1(),
                skip: false,
                want: vec![OK],
            },
            FilterRow {
                name: "satisfies the PodAffinity but doesn't satisfy the PodAntiAffinity with the existing pod",
                pod: pod().labels(&pod_label2).aff(svc_in()).anti(t_in(
                    "service",
                    "zone",
                    &["securityscan", "value2"],
                )),
                pods: vec![existing()],
                nodes: node1(),
                skip: false,
                want: vec![ANTI],
            },
            FilterRow {
                name: "satisfies the PodAffinity and PodAntiAffinity but doesn't satisfy PodAntiAffinity symmetry with the existing pod",
                pod: pod().labels(&pod_label).aff(svc_in()).anti(t_in(
                    "service",
                    "node",
                    &["antivirusscan", "value2"],
                )),
                pods: vec![existing().anti(t_in("service", "zone", &["securityscan", "value2"]))],
                nodes: node1(),
                skip: false,
                want: vec![EXISTING],
            },
            FilterRow {
                name: "pod matches its own Label in PodAffinity and that matches the existing pod Labels",
                pod: pod().labels(&pod_label).aff(t_not_in("service", "region", &["securityscan", "value2"])),
                pods: vec![pod().label("service", "securityscan").node("node2")],
                nodes: node1(),
                skip: false,
                want: vec![AFF],
            },
            FilterRow {
                name: "verify that PodAntiAffinity from existing pod is respected when pod has no AntiAffinity constraints. doesn't satisfy PodAntiAffinity symmetry with the existing pod",
                pod: pod().labels(&pod_label),
                pods: vec![existing().anti(t_in("service", "zone", &["securityscan", "value2"]))],
                nodes: node1(),
                skip: false,
                want: vec![EXISTING],
            },
            FilterRow {
                name: "verify that PodAntiAffinity from existing pod is respected when pod has no AntiAffinity constraints. satisfy PodAntiAffinity symmetry with the existing pod",
                pod: pod().labels(&pod_label),
                pods: vec![existing().anti(t_not_in("service", "zone", &["securityscan", "value2"]))],
                nodes: node1(),
                skip: true,
                want: vec![OK],
            },
            FilterRow {
                name: "satisfies the PodAntiAffinity with existing pod but doesn't satisfy PodAntiAffinity symmetry with incoming pod",
                pod: pod()
                    .labels(&pod_label)
                    .anti(t_exists("service", "region"))
                    .anti(t_exists("security", "region")),
                pods: vec![pod().labels(&pod_label2).node("node1").anti(t_exists("security", "zone"))],
                nodes: node1(),
                skip: false,
                want: vec![ANTI],
            },
            FilterRow {
                name: "PodAntiAffinity symmetry check a1: incoming pod and existing pod partially match each other on AffinityTerms",
                pod: pod()
                    .labels(&pod_label)
                    .anti(t_exists("service", "zone"))
                    .anti(t_exists("security", "zone")),
                pods: vec![pod().labels(&pod_label2).node("node1").anti(t_exists("security", "zone"))],
                nodes: node1(),
                skip: false,
                want: vec![ANTI],
            },
            FilterRow {
                name: "PodAntiAffinity symmetry check a2: incoming pod and existing pod partially match each other on AffinityTerms",
                pod: pod().labels(&pod_label2).anti(t_exists("security", "zone")),
                pods: vec![
                    pod()
                        .labels(&pod_label)
                        .node("node1")
                        .anti(t_exists("service", "zone"))
                        .anti(t_exists("security", "zone")),
                ],
                nodes: node1(),
                skip: false,
                want: vec![EXISTING],
            },
            FilterRow {
                name: "PodAntiAffinity symmetry check b1: incoming pod and existing pod partially match each other on AffinityTerms",
                pod: pod()
                    .labels(&[("abc", ""), ("xyz", "")])
                    .anti(t_exists("abc", "zone"))
                    .anti(t_exists("def", "zone")),
                pods: vec![
                    pod()
                        .labels(&[("def", ""), ("xyz", "")])
                        .node("node1")
                        .anti(t_exists("abc", "zone"))
                        .anti(t_exists("def", "zone")),
                ],
                nodes: node1(),
                skip: false,
                want: vec![ANTI],
            },
            FilterRow {
                name: "PodAntiAffinity symmetry check b2: incoming pod and existing pod partially match each other on AffinityTerms",
                pod: pod()
                    .labels(&[("def", ""), ("xyz", "")])
                    .anti(t_exists("abc", "zone"))
                    .anti(t_exists("def", "zone")),
                pods: vec![
                    pod()
                        .labels(&[("abc", ""), ("xyz", "")])
                        .node("node1")
                        .anti(t_exists("abc", "zone"))
                        .anti(t_exists("def", "zone")),
                ],
                nodes: node1(),
                skip: false,
                want: vec![ANTI],
            },
            FilterRow {
                name: "affinity with NamespaceSelector",
                pod: pod()
                    .labels(&pod_label2)
                    .aff(PodAffinityTerm { namespace_selector: team1_selector(), ..svc_in() }),
                pods: vec![pod().ns("subteam1.team1").labels(&pod_label).node("node1")],
                nodes: node1(),
                skip: false,
                want: vec![OK],
            },
            FilterRow {
                name: "affinity with non-matching NamespaceSelector",
                pod: pod()
                    .labels(&pod_label2)
                    .aff(PodAffinityTerm { namespace_selector: team1_selector(), ..svc_in() }),
                pods: vec![pod().ns("subteam1.team2").labels(&pod_label).node("node1")],
                nodes: node1(),
                skip: false,
                want: vec![AFF],
            },
            FilterRow {
                name: "anti-affinity with matching NamespaceSelector",
                pod: pod().ns("subteam1.team1").labels(&pod_label2).anti(PodAffinityTerm {
                    namespace_selector: team1_selector(),
                    ..t_in("service", "zone", &["securityscan", "value2"])
                }),
                pods: vec![pod().ns("subteam2.team1").labels(&pod_label).node("node1")],
                nodes: node1(),
                skip: false,
                want: vec![ANTI],
            },
            FilterRow {
                name: "anti-affinity with matching all NamespaceSelector",
                pod: pod().ns("subteam1.team1").labels(&pod_label2).anti(PodAffinityTerm {
                    namespace_selector: Some(LabelSelector::default()),
                    ..t_in("service", "zone", &["securityscan", "value2"])
                }),
                pods: vec![pod().ns("subteam2.team1").labels(&pod_label).node("node1")],
                nodes: node1(),
                skip: false,
                want: vec![ANTI],
            },
            FilterRow {
                name: "anti-affinity with non-matching NamespaceSelector",
                pod: pod().ns("subteam1.team1").labels(&pod_label2).anti(PodAffinityTerm {
                    namespace_selector: team1_selector(),
                    ..t_in("service", "zone", &["securityscan", "value2"])
                }),
                pods: vec![pod().ns("subteam1.team2").labels(&pod_label).node("node1")],
                nodes: node1(),
                skip: false,
                want: vec![OK],
            },
        ];
        assert_eq!(rows.len(), 24);
        run_filter_rows(&rows, &team_namespaces());
    }

    /// Upstream `TestRequiredAffinityMultipleNodes` (`filtering_test.go`), all 18 rows.
    #[test]
    fn required_affinity_multiple_nodes() {
        let rg_china = [("region", "China")];
        let rg_china_az1 = [("region", "China"), ("az", "az1")];
        let rg_india = [("region", "India")];
        let china3 =
            || vec![node("nodeA", &rg_china), node("nodeB", &rg_china_az1), node("nodeC", &rg_india)];
        let two = |zb: &str| {
            vec![
                node("nodeA", &[("region", "r1"), ("zone", "z1"), ("hostname", "nodeA")]),
                node("nodeB", &[("region", "r1"), ("zone", zb), ("hostname", "nodeB")]),
            ]
        };
        let rows = vec![
            FilterRow {
                name: "A pod can be scheduled onto all the nodes that have the same topology key & label value with one of them has an existing pod that matches the affinity rules",
                pod: pod().aff(t_in("foo", "region", &["bar"])),
                pods: vec![pod().node("node1").label("foo", "bar")],
                nodes: vec![node("node1", &rg_china), node("node2", &rg_china_az1), node("node3", &rg_india)],
                skip: false,
                want: vec![OK, OK, AFF],
            },
            FilterRow {
                name: "The affinity rule is to schedule all of the pods of this collection to the same zone. The first pod of the collection should not be blocked from being scheduled onto any node, even there's no existing pod that matches the rule anywhere.",
                pod: pod()
                    .labels(&[("foo", "bar"), ("service", "securityscan")])
                    .aff(t_in("foo", "zone", &["bar"]))
                    .aff(t_in("service", "zone", &["securityscan"])),
                pods: vec![pod().node("nodeA").label("foo", "bar")],
                nodes: vec![
                    node("nodeA", &[("zone", "az1"), ("hostname", "h1")]),
                    node("nodeB", &[("zone", "az2"), ("hostname", "h2")]),
                ],
                skip: false,
                want: vec![OK, OK],
            },
            FilterRow {
                name: "The first pod of the collection can only be scheduled on nodes labelled with the requested topology keys",
                pod: pod()
                    .labels(&[("foo", "bar"), ("service", "securityscan")])
                    .aff(t_in("foo", "zone", &["bar"]))
                    .aff(t_in("service", "zone", &["securityscan"])),
                pods: vec![pod().node("nodeA").label("foo", "bar")],
                nodes: vec![
                    node("nodeA", &[("zoneLabel", "az1"), ("hostname", "h1")]),
                    node("nodeB", &[("zoneLabel", "az2"), ("hostname", "h2")]),
                ],
                skip: false,
                want: vec![AFF, AFF],
            },
            FilterRow {
                name: "NodeA and nodeB have same topologyKey and label value. NodeA has an existing pod that matches the inter pod affinity rule. The pod can not be scheduled onto nodeA and nodeB.",
                pod: pod().anti(t_in("foo", "region", &["abc"])),
                pods: vec![pod().node("nodeA").label("foo", "abc")],
                nodes: vec![
                    node("nodeA", &[("region", "r1"), ("hostname", "nodeA")]),
                    node("nodeB", &[("region", "r1"), ("hostname", "nodeB")]),
                ],
                skip: false,
                want: vec![ANTI, ANTI],
            },
            FilterRow {
                name: "This test ensures that anti-affinity matches a pod when any term of the anti-affinity rule matches a pod.",
                pod: pod().anti(t_in("foo", "region", &["abc"])).anti(t_in(
                    "service",
                    "zone",
                    &["securityscan"],
                )),
                pods: vec![pod().node("nodeA").labels(&[("foo", "abc"), ("service", "securityscan")])],
                nodes: vec![
                    node("nodeA", &[("region", "r1"), ("zone", "z1"), ("hostname", "nodeA")]),
                    node("nodeB", &[("region", "r1"), ("zone", "z2"), ("hostname", "nodeB")]),
                ],
                skip: false,
                want: vec![ANTI, ANTI],
            },
            FilterRow {
                name: "NodeA and nodeB have same topologyKey and label value. NodeA has an existing pod that matches the inter pod affinity rule. The pod can not be scheduled onto nodeA and nodeB but can be scheduled onto nodeC",
                pod: pod().anti(t_in("foo", "region", &["abc"])),
                pods: vec![pod().node("nodeA").label("foo", "abc")],
                nodes: china3(),
                skip: false,
                want: vec![ANTI, ANTI, OK],
            },
            FilterRow {
                name: "NodeA and nodeB have same topologyKey and label value. NodeA has an existing pod that matches the inter pod affinity rule. The pod can not be scheduled onto nodeA, nodeB, but can be scheduled onto nodeC (NodeC has an existing pod that match the inter pod affinity rule but in different namespace)",
                pod: pod().ns("NS1").label("foo", "123").anti(t_in("foo", "region", &["bar"])),
                pods: vec![
                    pod().node("nodeA").ns("NS1").label("foo", "bar"),
                    pod().node("nodeC").ns("NS2").anti(t_in("foo", "region", &["123"])),
                ],
                nodes: china3(),
                skip: false,
                want: vec![ANTI, ANTI, OK],
            },
            FilterRow {
                name: "Test existing pod's anti-affinity: if an existing pod has a term with invalid topologyKey, labelSelector of the term is firstly checked, and then topologyKey of the term is also checked",
                pod: pod().label("foo", ""),
                pods: vec![pod().node("nodeA").anti(t_exists("foo", "invalid-node-label"))],
                nodes: two("z1"),
                skip: true,
                want: vec![OK, OK],
            },
            FilterRow {
                name: "Test incoming pod's anti-affinity: even if labelSelector matches, we still check if topologyKey matches",
                pod: pod().node("nodeA").anti(t_exists("foo", "invalid-node-label")),
                pods: vec![pod().node("nodeA").label("foo", "")],
                nodes: two("z1"),
                skip: false,
                want: vec![OK, OK],
            },
            FilterRow {
                name: "Test existing pod's anti-affinity: incoming pod wouldn't considered as a fit as it violates each existingPod's terms on all nodes",
                pod: pod().label("foo", "").label("bar", ""),
                pods: vec![
                    pod().node("nodeA").anti(t_exists("foo", "zone")),
                    pod().node("nodeA").anti(t_exists("bar", "region")),
                ],
                nodes: two("z2"),
                skip: false,
                want: vec![EXISTING, EXISTING],
            },
            FilterRow {
                name: "Test incoming pod's anti-affinity: incoming pod wouldn't considered as a fit as it at least violates one anti-affinity rule of existingPod",
                pod: pod().anti(t_exists("foo", "zone")).anti(t_exists("bar", "region")),
                pods: vec![pod().node("nodeA").label("foo", ""), pod().node("nodeB").label("bar", "")],
                nodes: two("z2"),
                skip: false,
                want: vec![ANTI, ANTI],
            },
            FilterRow {
                name: "Test existing pod's anti-affinity: only when labelSelector and topologyKey both match, it's counted as a single term match - case when one term has invalid topologyKey",
                pod: pod().label("foo", "").label("bar", ""),
                pods: vec![
                    pod()
                        .node("nodeA")
                        .anti(t_exists("foo", "invalid-node-label"))
                        .anti(t_exists("bar", "zone")),
                ],
                nodes: two("z2"),
                skip: false,
                want: vec![EXISTING, OK],
            },
            FilterRow {
                name: "Test incoming pod's anti-affinity: only when labelSelector and topologyKey both match, it's counted as a single term match - case when one term has invalid topologyKey",
                pod: pod().anti(t_exists("foo", "invalid-node-label")).anti(t_exists("bar", "zone")),
                pods: vec![pod().node("nodeA").labels(&[("foo", ""), ("bar", "")])],
                nodes: two("z2"),
                skip: false,
                want: vec![ANTI, OK],
            },
            FilterRow {
                name: "Test existing pod's anti-affinity: only when labelSelector and topologyKey both match, it's counted as a single term match - case when all terms have valid topologyKey",
                pod: pod().label("foo", "").label("bar", ""),
                pods: vec![pod().node("nodeA").anti(t_exists("foo", "region")).anti(t_exists("bar", "zone"))],
                nodes: two("z2"),
                skip: false,
                want: vec![EXISTING, EXISTING],
            },
            FilterRow {
                name: "Test incoming pod's anti-affinity: only when labelSelector and topologyKey both match, it's counted as a single term match - case when all terms have valid topologyKey",
                pod: pod().anti(t_exists("foo", "region")).anti(t_exists("bar", "zone")),
                pods: vec![pod().node("nodeA").labels(&[("foo", ""), ("bar", "")])],
                nodes: two("z2"),
                skip: false,
                want: vec![ANTI, ANTI],
            },
            FilterRow {
                name: "Test existing pod's anti-affinity: existingPod on nodeA and nodeB has at least one anti-affinity term matches incoming pod, so incoming pod can only be scheduled to nodeC",
                pod: pod().label("foo", "").label("bar", ""),
                pods: vec![
                    pod().node("nodeA").anti(t_exists("foo", "zone")).anti(t_exists("labelA", "zone")),
                    pod().node("nodeB").anti(t_exists("bar", "zone")).anti(t_exists("labelB", "zone")),
                ],
                nodes: vec![
                    node("nodeA", &[("region", "r1"), ("zone", "z1"), ("hostname", "nodeA")]),
                    node("nodeB", &[("region", "r1"), ("zone", "z2"), ("hostname", "nodeB")]),
                    node("nodeC", &[("region", "r1"), ("zone", "z3"), ("hostname", "nodeC")]),
                ],
                skip: false,
                want: vec![EXISTING, EXISTING, OK],
            },
            FilterRow {
                name: "Test incoming pod's affinity: firstly check if all affinityTerms match, and then check if all topologyKeys match",
                pod: pod().aff(t_exists("foo", "region")).aff(t_exists("bar", "zone")),
                pods: vec![pod().labels(&[("foo", ""), ("bar", "")]).node("nodeA")],
                nodes: two("z1"),
                skip: false,
                want: vec![OK, OK],
            },
            FilterRow {
                name: "Test incoming pod's affinity: firstly check if all affinityTerms match, and then check if all topologyKeys match, and the match logic should be satisfied on the same pod",
                pod: pod().aff(t_exists("foo", "region")).aff(t_exists("bar", "zone")),
                pods: vec![pod().node("nodeA").label("foo", ""), pod().node("nodeB").label("bar", "")],
                nodes: two("z2"),
                skip: false,
                want: vec![AFF, AFF],
            },
        ];
        assert_eq!(rows.len(), 18);
        let namespaces: BTreeMap<String, Labels> = [("NS1".to_string(), Labels::new())].into_iter().collect();
        run_filter_rows(&rows, &namespaces);
    }

    /// Upstream `TestPreFilterStateAddRemovePod` (`filtering_test.go`), all 3 rows: PreFilter
    /// over the existing pods then AddPod equals PreFilter over all pods, with the expected
    /// anti-affinity and affinity counts; RemovePod restores the first state.
    #[test]
    fn pre_filter_state_add_remove_pod() {
        let label1 = [("region", "r1"), ("zone", "z11")];
        let label2 = [("region", "r1"), ("zone", "z12")];
        let label3 = [("region", "r2"), ("zone", "z21")];
        let foo_bar = || t_in("foo", "region", &["bar"]);
        let complex = || {
            vec![
                t_in("foo", "region", &["bar", "buzz"]),
                t_not_in("service", "zone", &["bar", "security", "test"]),
            ]
        };
        let with_anti = |p: P, terms: Vec<PodAffinityTerm>| terms.into_iter().fold(p, P::anti);
        let with_aff = |p: P, terms: Vec<PodAffinityTerm>| terms.into_iter().fold(p, P::aff);
        struct Row {
            name: &'static str,
            pending: P,
            added: P,
            existing: Vec<P>,
            want_anti: Vec<(&'static str, &'static str, i64)>,
            want_aff: Vec<(&'static str, &'static str, i64)>,
        }
        let rows = vec![
            Row {
                name: "preFilterState anti-affinity terms are updated correctly after adding and removing a pod",
                pending: pod().label("foo", "bar").anti(foo_bar()),
                existing: vec![pod().label("foo", "bar").node("nodeA"), pod().node("nodeC").anti(foo_bar())],
                added: pod().label("foo", "bar").node("nodeB").anti(foo_bar()),
                want_anti: vec![("region", "r1", 2)],
                want_aff: vec![],
            },
            Row {
                name: "preFilterState anti-affinity terms are updated correctly after adding and removing a pod (complex)",
                pending: with_anti(pod().label("foo", "bar"), complex()),
                existing: vec![pod().label("foo", "bar").node("nodeA"), pod().node("nodeC").anti(foo_bar())],
                added: with_anti(pod().label("foo", "bar").node("nodeA"), complex()),
                want_anti: vec![("region", "r1", 2), ("zone", "z11", 2), ("zone", "z21", 1)],
                want_aff: vec![],
            },
            Row {
                name: "preFilterState matching pod affinity and anti-affinity are updated correctly after adding and removing a pod",
                pending: with_aff(pod().label("foo", "bar"), complex()),
                existing: vec![
                    pod().label("foo", "bar").node("nodeA"),
                    with_aff(pod().node("nodeC").anti(foo_bar()), complex()),
                ],
                added: with_anti(pod().label("foo", "bar").node("nodeA"), complex()),
                want_anti: vec![],
                want_aff: vec![("region", "r1", 2), ("zone", "z11", 2)],
            },
        ];
        let nodes = vec![node("nodeA", &label1), node("nodeB", &label2), node("nodeC", &label3)];
        let ns = BTreeMap::new();
        for row in &rows {
            let mut all = row.existing.clone();
            all.push(row.added.clone());
            let incoming = row.pending.incoming();
            let all_state = pre_filter(&incoming, &snapshot(&nodes, &all), &ns);
            let views = snapshot(&nodes, &row.existing);
            let mut state = pre_filter(&incoming, &views, &ns);
            let original = state.clone();
            let added_node = views.iter().find(|n| n.name == row.added.node).expect("added pod's node");
            state.update_with_pod(&incoming, &row.added.view(), added_node, &ns, 1);
            let got_anti: Vec<_> = state.anti_affinity_counts.iter().collect();
            let got_aff: Vec<_> = state.affinity_counts.iter().collect();
            assert_eq!(got_anti, row.want_anti, "{}: anti-affinity counts", row.name);
            assert_eq!(got_aff, row.want_aff, "{}: affinity counts", row.name);
            assert_eq!(state, all_state, "{}: AddPod vs PreFilter over all pods", row.name);
            state.update_with_pod(&incoming, &row.added.view(), added_node, &ns, -1);
            assert_eq!(state, original, "{}: RemovePod", row.name);
        }
    }

    /// Upstream `TestGetTPMapMatchingIncomingAffinityAntiAffinity` (`filtering_test.go`), all 8
    /// rows: the incoming pod's affinity and anti-affinity counts.
    #[test]
    fn incoming_affinity_anti_affinity_counts() {
        let normal = |ls: &[&str]| ls.iter().fold(pod().node("nodeA"), |p, l| p.label(l, ""));
        let node_a = vec![node("nodeA", &[("hostname", "nodeA")])];
        type Counts = Vec<(&'static str, &'static str, i64)>;
        let one: Counts = vec![("hostname", "nodeA", 1)];
        let rows: Vec<(&str, Vec<P>, P, Counts, Counts)> = vec![
            ("nil test", vec![], pod(), vec![], vec![]),
            (
                "incoming pod without affinity/anti-affinity causes a no-op",
                vec![normal(&["aaa"])],
                pod(),
                vec![],
                vec![],
            ),
            (
                "no pod has label that violates incoming pod's affinity and anti-affinity",
                vec![normal(&["bbb"])],
                pod().aff(t_exists("aaa", "hostname")).anti(t_exists("aaa", "hostname")),
                vec![],
                vec![],
            ),
            (
                "existing pod matches incoming pod's affinity and anti-affinity - single term case",
                vec![normal(&["aaa"])],
                pod().aff(t_exists("aaa", "hostname")).anti(t_exists("aaa", "hostname")),
                one.clone(),
                one.clone(),
            ),
            (
                "existing pod matches incoming pod's affinity and anti-affinity - multiple terms case",
                vec![normal(&["aaa", "bbb"])],
                pod()
                    .aff(t_exists("aaa", "hostname"))
                    .aff(t_exists("bbb", "hostname"))
                    .anti(t_exists("aaa", "hostname")),
                vec![("hostname", "nodeA", 2)],
                one.clone(),
            ),
            (
                "existing pod not match incoming pod's affinity but matches anti-affinity",
                vec![normal(&["aaa"])],
                pod()
                    .aff(t_exists("aaa", "hostname"))
                    .aff(t_exists("bbb", "hostname"))
                    .anti(t_exists("aaa", "hostname"))
                    .anti(t_exists("bbb", "hostname")),
                vec![],
                one.clone(),
            ),
            (
                "incoming pod's anti-affinity has more than one term - existing pod violates partial term - case 1",
                vec![normal(&["aaa", "bbb"])],
                pod()
                    .aff(t_exists("aaa", "hostname"))
                    .aff(t_exists("ccc", "hostname"))
                    .anti(t_exists("aaa", "hostname"))
                    .anti(t_exists("ccc", "hostname")),
                vec![],
                one.clone(),
            ),
            (
                "incoming pod's anti-affinity has more than one term - existing pod violates partial term - case 2",
                vec![normal(&["bbb"])],
                pod()
                    .aff(t_exists("aaa", "hostname"))
                    .aff(t_exists("bbb", "hostname"))
                    .anti(t_exists("aaa", "hostname"))
                    .anti(t_exists("bbb", "hostname")),
                vec![],
                one.clone(),
            ),
        ];
        for (name, existing, incoming, want_aff, want_anti) in &rows {
            let state = pre_filter(&incoming.incoming(), &snapshot(&node_a, existing), &BTreeMap::new());
            assert_eq!(state.affinity_counts.iter().collect::<Vec<_>>(), *want_aff, "{name}: affinity");
            assert_eq!(
                state.anti_affinity_counts.iter().collect::<Vec<_>>(),
                *want_anti,
                "{name}: anti-affinity"
            );
        }
    }

    /// The PreFilter error rows of upstream `TestRequiredAffinitySingleNode` ("PodAffinity fails
    /// PreFilter with an invalid affinity label syntax", "PodAntiAffinity fails PreFilter with an
    /// invalid antiaffinity label syntax") and the PreScore error rows of `TestPreferredAffinity`
    /// ("invalid Affinity fails PreScore", "invalid AntiAffinity fails PreScore"): clustersim
    /// rejects such terms when the scenario is validated, so they never reach the plugin.
    #[test]
    fn invalid_label_values_fail_validation() {
        let bad = "{{.bad-value.}}";
        let a = PodAffinity {
            required_during_scheduling_ignored_during_execution: vec![
                t_in("service", "region", &[bad]),
                t_in("service", "node", &["antivirusscan", "value2"]),
            ],
            ..Default::default()
        };
        let err = a.validate().expect_err("bad value");
        assert!(err.starts_with("requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector."), "{err}");
        assert!(err.contains(bad), "{err}");
        let a = PodAffinity {
            required_during_scheduling_ignored_during_execution: vec![
                t_in("service", "region", &["foo"]),
                t_in("service", "node", &[bad]),
            ],
            ..Default::default()
        };
        assert!(
            a.validate()
                .expect_err("bad value")
                .starts_with("requiredDuringSchedulingIgnoredDuringExecution[1].")
        );
        let a = pref_aff(vec![weighted(8, t_in("security", "region", &[bad]))]).affinity.expect("affinity");
        let err = a.validate().expect_err("bad value");
        assert!(
            err.starts_with(
                "preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.labelSelector"
            ),
            "{err}"
        );
        let a = pref_anti(vec![weighted(5, t_in("security", "az", &[bad]))]).anti.expect("anti-affinity");
        assert!(a.validate().expect_err("bad value").contains(bad));
    }

    // ---- scoring ----

    fn run_score(
        args: &InterPodAffinityArgs,
        incoming: &P,
        pods: &[P],
        nodes: &[N],
        ns: &BTreeMap<String, Labels>,
    ) -> Option<Vec<i64>> {
        let views = snapshot(nodes, pods);
        let inc = incoming.incoming();
        let state = pre_score(args, &inc, &views, ns)?;
        let mut scores: Vec<i64> = views.iter().map(|n| score(&state, n)).collect();
        normalize_score(&state, &mut scores);
        Some(scores)
    }

    /// Upstream `TestPreferredAffinity`
    /// (`kubernetes/kubernetes:pkg/scheduler/framework/plugins/interpodaffinity/scoring_test.go`),
    /// every row but the two invalid-label rows (ported to
    /// [`invalid_label_values_fail_validation`]). `None` is upstream's `Skip`.
    #[test]
    fn preferred_affinity() {
        let rg_china = [("region", "China")];
        let rg_india = [("region", "India")];
        let az1 = [("az", "az1")];
        let az2 = [("az", "az2")];
        let rg_china_az1 = [("region", "China"), ("az", "az1")];
        let s1 = [("security", "S1")];
        let s2 = [("security", "S2")];

        let stay_with_s1_in_region = pref_aff(vec![weighted(5, t_in("security", "region", &["S1"]))]);
        let stay_with_s2_in_region = pref_aff(vec![weighted(6, t_in("security", "region", &["S2"]))]);
        let affinity3 = pref_aff(vec![
            weighted(8, term(vec![r("security", NotIn, &["S1"]), r("security", In, &["S2"])], "region")),
            weighted(2, term(vec![r("security", Exists, &[]), r("wrongkey", DoesNotExist, &[])], "region")),
        ]);
        let hard_affinity = req_aff(vec![
            t_in("security", "region", &["S1", "value2"]),
            term(vec![r("security", Exists, &[]), r("wrongkey", DoesNotExist, &[])], "region"),
        ]);
        let away_from_s1_in_az = pref_anti(vec![weighted(5, t_in("security", "az", &["S1"]))]);
        let away_from_s2_in_az = pref_anti(vec![weighted(5, t_in("security", "az", &["S2"]))]);
        let stay_with_s1_in_region_away_from_s2_in_az = Aff {
            affinity: pref_aff(vec![weighted(8, t_in("security", "region", &["S1"]))]).affinity,
            anti: pref_anti(vec![weighted(5, t_in("security", "az", &["S2"]))]).anti,
        };
        let ns_term = || PodAffinityTerm {
            namespaces: vec!["subteam2.team2".into()],
            namespace_selector: team1_selector(),
            ..t_in("security", "region", &["S1"])
        };
        let affinity_namespace_selector = pref_aff(vec![weighted(5, ns_term())]);
        let anti_affinity_namespace_selector = pref_anti(vec![weighted(5, ns_term())]);

        let three = || vec![node("node1", &rg_china), node("node2", &rg_india), node("node3", &az1)];
        let five = |n1: &[(&str, &str)]| {
            vec![
                node("node1", n1),
                node("node2", &rg_india),
                node("node3", &rg_china),
                node("node4", &rg_china),
                node("node5", &rg_india),
            ]
        };
        let china_india = || vec![node("node1", &rg_china), node("node2", &rg_india)];
        let on = |n: &str, l: &[(&str, &str)]| pod().node(n).labels(l);

        struct Row {
            name: &'static str,
            pod: P,
            pods: Vec<P>,
            nodes: Vec<N>,
            ignore_existing: bool,
            want: Option<Vec<i64>>,
        }
        let rows = vec![
            Row {
                name: "all nodes are same priority as Affinity is nil",
                pod: pod().labels(&s1),
                pods: vec![],
                nodes: three(),
                ignore_existing: false,
                want: None,
            },
            Row {
                name: "Affinity: pod that matches topology key & pods in nodes will get high score comparing to others which doesn't match either pods in nodes or in topology key",
                pod: pod().labels(&s1).with(&stay_with_s1_in_region),
                pods: vec![on("node1", &s1), on("node2", &s2), on("node3", &s1)],
                nodes: three(),
                ignore_existing: false,
                want: Some(vec![100, 0, 0]),
            },
            Row {
                name: "All the nodes that have the same topology key & label value with one of them has an existing pod that match the affinity rules, have the same score",
                pod: pod().with(&stay_with_s1_in_region),
                pods: vec![on("node1", &s1)],
                nodes: vec![node("node1", &rg_china), node("node2", &rg_china_az1), node("node3", &rg_india)],
                ignore_existing: false,
                want: Some(vec![100, 100, 0]),
            },
            Row {
                name: "Affinity: nodes in one region has more matching pods comparing to other region, so the region which has more matches will get high score",
                pod: pod().labels(&s1).with(&stay_with_s2_in_region),
                pods: vec![
                    on("node1", &s2),
                    on("node1", &s2),
                    on("node2", &s2),
                    on("node3", &s2),
                    on("node4", &s2),
                    on("node5", &s2),
                ],
                nodes: five(&rg_china),
                ignore_existing: false,
                want: Some(vec![100, 0, 100, 100, 0]),
            },
            Row {
                name: "Affinity: different Label operators and values for pod affinity scheduling preference, including some match failures ",
                pod: pod().labels(&s1).with(&affinity3),
                pods: vec![on("node1", &s1), on("node2", &s2), on("node3", &s1)],
                nodes: three(),
                ignore_existing: false,
                want: Some(vec![20, 100, 0]),
            },
            Row {
                name: "Affinity symmetry: considered only the preferredDuringSchedulingIgnoredDuringExecution in pod affinity symmetry",
                pod: pod().labels(&s2),
                pods: vec![
                    on("node1", &s1).with(&stay_with_s1_in_region),
                    on("node2", &s2).with(&stay_with_s2_in_region),
                ],
                nodes: three(),
                ignore_existing: false,
                want: Some(vec![0, 100, 0]),
            },
            Row {
                name: "Affinity symmetry with namespace selector",
                pod: pod().ns("subteam1.team1").labels(&s1),
                pods: vec![
                    on("node1", &s1).with(&affinity_namespace_selector),
                    on("node2", &s2).with(&stay_with_s2_in_region),
                ],
                nodes: three(),
                ignore_existing: false,
                want: Some(vec![100, 0, 0]),
            },
            Row {
                name: "AntiAffinity symmetry with namespace selector",
                pod: pod().ns("subteam1.team1").labels(&s1),
                pods: vec![
                    on("node1", &s1).with(&anti_affinity_namespace_selector),
                    on("node2", &s2).with(&stay_with_s2_in_region),
                ],
                nodes: three(),
                ignore_existing: false,
                want: Some(vec![0, 100, 100]),
            },
            Row {
                name: "Affinity symmetry: considered RequiredDuringSchedulingIgnoredDuringExecution in pod affinity symmetry",
                pod: pod().labels(&s1),
                pods: vec![on("node1", &s1).with(&hard_affinity), on("node2", &s2).with(&hard_affinity)],
                nodes: three(),
                ignore_existing: false,
                want: Some(vec![100, 100, 0]),
            },
            Row {
                name: "Anti Affinity: pod that does not match existing pods in node will get high score ",
                pod: pod().labels(&s1).with(&away_from_s1_in_az),
                pods: vec![on("node1", &s1), on("node2", &s2)],
                nodes: vec![node("node1", &az1), node("node2", &rg_china)],
                ignore_existing: false,
                want: Some(vec![0, 100]),
            },
            Row {
                name: "Anti Affinity: pod that does not match topology key & match the pods in nodes will get higher score comparing to others ",
                pod: pod().labels(&s1).with(&away_from_s1_in_az),
                pods: vec![on("node1", &s1), on("node2", &s1)],
                nodes: vec![node("node1", &az1), node("node2", &rg_china)],
                ignore_existing: false,
                want: Some(vec![0, 100]),
            },
            Row {
                name: "Anti Affinity: one node has more matching pods comparing to other node, so the node which has more unmatches will get high score",
                pod: pod().labels(&s1).with(&away_from_s1_in_az),
                pods: vec![on("node1", &s1), on("node1", &s1), on("node2", &s2)],
                nodes: vec![node("node1", &az1), node("node2", &rg_india)],
                ignore_existing: false,
                want: Some(vec![0, 100]),
            },
            Row {
                name: "Anti Affinity symmetry: the existing pods in node which has anti affinity match will get high score",
                pod: pod().labels(&s2),
                pods: vec![
                    on("node1", &s1).with(&away_from_s2_in_az),
                    on("node2", &s2).with(&away_from_s1_in_az),
                ],
                nodes: vec![node("node1", &az1), node("node2", &az2)],
                ignore_existing: false,
                want: Some(vec![0, 100]),
            },
            Row {
                name: "Affinity and Anti Affinity: considered only preferredDuringSchedulingIgnoredDuringExecution in both pod affinity & anti affinity",
                pod: pod().labels(&s1).with(&stay_with_s1_in_region_away_from_s2_in_az),
                pods: vec![on("node1", &s1), on("node2", &s1)],
                nodes: vec![node("node1", &rg_china), node("node2", &az1)],
                ignore_existing: false,
                want: Some(vec![100, 0]),
            },
            Row {
                name: "Affinity and Anti Affinity: considering both affinity and anti-affinity, the pod to schedule and existing pods have the same labels",
                pod: pod().labels(&s1).with(&stay_with_s1_in_region_away_from_s2_in_az),
                pods: vec![
                    on("node1", &s1),
                    on("node1", &s1),
                    on("node2", &s1),
                    on("node3", &s1),
                    on("node3", &s1),
                    on("node4", &s1),
                    on("node5", &s1),
                ],
                nodes: five(&rg_china_az1),
                ignore_existing: false,
                want: Some(vec![100, 0, 100, 100, 0]),
            },
            Row {
                name: "Affinity and Anti Affinity and symmetry: considered only preferredDuringSchedulingIgnoredDuringExecution in both pod affinity & anti affinity & symmetry",
                pod: pod().labels(&s1).with(&stay_with_s1_in_region_away_from_s2_in_az),
                pods: vec![
                    on("node1", &s1),
                    on("node2", &s2),
                    pod().node("node3").with(&stay_with_s1_in_region_away_from_s2_in_az),
                    pod().node("node4").with(&away_from_s1_in_az),
                ],
                nodes: vec![
                    node("node1", &rg_china),
                    node("node2", &az1),
                    node("node3", &rg_india),
                    node("node4", &az2),
                ],
                ignore_existing: false,
                want: Some(vec![100, 0, 100, 0]),
            },
            Row {
                name: "Avoid panic when partial nodes in a topology don't have pods with affinity",
                pod: pod().labels(&s1),
                pods: vec![
                    on("node1", &s1),
                    pod().node("node2").with(&stay_with_s1_in_region_away_from_s2_in_az),
                ],
                nodes: vec![node("node1", &rg_china), node("node2", &rg_china)],
                ignore_existing: false,
                want: Some(vec![0, 0]),
            },
            Row {
                name: "Affinity with pods matching NamespaceSelector",
                pod: pod().ns("subteam1.team1").labels(&s1).with(&affinity_namespace_selector),
                pods: vec![
                    on("node1", &s1).ns("subteam1.team1"),
                    on("node1", &s1).ns("subteam1.team1"),
                    on("node1", &s1).ns("subteam1.team2"),
                    on("node2", &s1).ns("subteam2.team1"),
                ],
                nodes: china_india(),
                ignore_existing: false,
                want: Some(vec![100, 0]),
            },
            Row {
                name: "Affinity with pods matching both NamespaceSelector and Namespaces fields",
                pod: pod().ns("subteam1.team1").labels(&s1).with(&affinity_namespace_selector),
                pods: vec![
                    on("node1", &s1).ns("subteam1.team1"),
                    on("node1", &s1).ns("subteam1.team1"),
                    on("node1", &s1).ns("subteam2.team2"),
                    on("node2", &s1).ns("subteam2.team1"),
                ],
                nodes: china_india(),
                ignore_existing: false,
                want: Some(vec![100, 0]),
            },
            Row {
                name: "Affinity with pods matching NamespaceSelector (anti-affinity)",
                pod: pod().ns("subteam1.team1").labels(&s1).with(&anti_affinity_namespace_selector),
                pods: vec![
                    on("node1", &s1).ns("subteam1.team1"),
                    on("node1", &s1).ns("subteam1.team1"),
                    on("node1", &s1).ns("subteam1.team2"),
                    on("node2", &s1).ns("subteam2.team1"),
                ],
                nodes: china_india(),
                ignore_existing: false,
                want: Some(vec![0, 100]),
            },
            Row {
                name: "Affinity with pods matching both NamespaceSelector and Namespaces fields (anti-affinity)",
                pod: pod().ns("subteam1.team1").labels(&s1).with(&anti_affinity_namespace_selector),
                pods: vec![
                    on("node1", &s1).ns("subteam1.team1"),
                    on("node1", &s1).ns("subteam1.team1"),
                    on("node1", &s1).ns("subteam2.team2"),
                    on("node2", &s1).ns("subteam2.team1"),
                ],
                nodes: china_india(),
                ignore_existing: false,
                want: Some(vec![0, 100]),
            },
            Row {
                name: "Ignore preferred terms of existing pods",
                pod: pod().labels(&s2),
                pods: vec![
                    on("node1", &s1).with(&stay_with_s1_in_region_away_from_s2_in_az),
                    on("node2", &s2).with(&stay_with_s2_in_region),
                ],
                nodes: china_india(),
                ignore_existing: true,
                want: None,
            },
            Row {
                name: "Do not ignore preferred terms of existing pods",
                pod: pod().labels(&s2),
                pods: vec![
                    on("node1", &s1).with(&stay_with_s1_in_region_away_from_s2_in_az),
                    on("node2", &s2).with(&stay_with_s2_in_region),
                ],
                nodes: china_india(),
                ignore_existing: false,
                want: Some(vec![0, 100]),
            },
            Row {
                name: "No nodes to score",
                pod: pod().labels(&s2),
                pods: vec![],
                nodes: vec![],
                ignore_existing: false,
                want: None,
            },
        ];
        assert_eq!(rows.len(), 24);
        let ns = team_namespaces();
        for row in &rows {
            let args = InterPodAffinityArgs {
                hard_pod_affinity_weight: 1,
                ignore_preferred_terms_of_existing_pods: row.ignore_existing,
            };
            assert_eq!(run_score(&args, &row.pod, &row.pods, &row.nodes, &ns), row.want, "{}", row.name);
        }
    }

    /// Upstream `TestPreferredAffinityWithHardPodAffinitySymmetricWeight` (`scoring_test.go`),
    /// all 5 rows.
    #[test]
    fn preferred_affinity_with_hard_pod_affinity_symmetric_weight() {
        let hard = req_aff(vec![PodAffinityTerm {
            namespaces: vec!["".into(), "subteam2.team2".into()],
            namespace_selector: team1_selector(),
            ..t_in("service", "region", &["S1"])
        }]);
        let nodes = vec![
            node("node1", &[("region", "China")]),
            node("node2", &[("region", "India")]),
            node("node3", &[("az", "az1")]),
        ];
        let pods = vec![pod().node("node1").with(&hard), pod().node("node2").with(&hard)];
        let s1 = [("service", "S1")];
        let rows: Vec<(&str, P, i32, Option<Vec<i64>>)> = vec![
            (
                "with default weight",
                pod().labels(&s1),
                DEFAULT_HARD_POD_AFFINITY_WEIGHT,
                Some(vec![100, 100, 0]),
            ),
            ("with zero weight", pod().labels(&s1), 0, None),
            ("with no matching namespace", pod().ns("subteam1.team2").labels(&s1), 1, None),
            (
                "with matching NamespaceSelector",
                pod().ns("subteam1.team1").labels(&s1),
                1,
                Some(vec![100, 100, 0]),
            ),
            ("with matching Namespaces", pod().ns("subteam2.team2").labels(&s1), 1, Some(vec![100, 100, 0])),
        ];
        let ns = team_namespaces();
        for (name, incoming, weight, want) in &rows {
            let args = InterPodAffinityArgs { hard_pod_affinity_weight: *weight, ..Default::default() };
            assert_eq!(run_score(&args, incoming, &pods, &nodes, &ns), *want, "{name}");
        }
    }

    /// NormalizeScore in floating point, as `scoring.go` computes it: 29 of 100 is
    /// 100 × 0.29 = 28.999999999999996, truncated to 28 (integer arithmetic would give 29).
    #[test]
    fn normalize_score_is_upstream_float_arithmetic() {
        let mut state = PreScoreState::default();
        state.topology_score.entry("zone".into()).or_default().insert("a".into(), 1);
        let mut s = vec![0, 29, 100];
        normalize_score(&state, &mut s);
        assert_eq!(s, [0, 28, 100]);
        let mut s = vec![-10, -5, 0, 20];
        normalize_score(&state, &mut s);
        assert_eq!(s, [0, 16, 33, 100]);
        let mut s = vec![7, 7, 7];
        normalize_score(&state, &mut s);
        assert_eq!(s, [0, 0, 0], "max == min: every node 0");
        let mut s: Vec<i64> = vec![];
        normalize_score(&state, &mut s);
        let mut s = vec![3, 9];
        normalize_score(&PreScoreState::default(), &mut s);
        assert_eq!(s, [3, 9], "no topology score: scores left as they are");
    }

    // ---- black-box checks ----

    const ZONE: &str = "topology.kubernetes.io/zone";

    /// Replicas with required hostname anti-affinity to each other, scheduled one by one onto
    /// the first feasible node: one per node, then every node fails with the pod's own
    /// anti-affinity (status `Unschedulable`).
    #[test]
    fn hostname_anti_affinity_leaves_surplus_replicas_infeasible() {
        let nodes = vec![node("n1", &[(ZONE, "a")]), node("n2", &[(ZONE, "a")]), node("n3", &[(ZONE, "b")])];
        let replica = pod().ns("default").label("app", "web").anti(t_in("app", HOSTNAME_LABEL, &["web"]));
        let ns = BTreeMap::new();
        let mut placed: Vec<P> = Vec::new();
        let mut unschedulable = 0;
        for _ in 0..5 {
            let chosen = {
                let views = snapshot(&nodes, &placed);
                let incoming = replica.incoming();
                let state = pre_filter(&incoming, &views, &ns);
                let results: Vec<_> = views.iter().map(|n| filter(&state, &incoming, n)).collect();
                match results.iter().position(Result::is_ok) {
                    Some(i) => Some(nodes[i].name.clone()),
                    None => {
                        for r in &results {
                            let e = r.expect_err("infeasible");
                            assert_eq!(e, FilterFailure::AntiAffinityRulesNotMatch);
                            assert_eq!(e.to_string(), "node(s) didn't match pod anti-affinity rules");
                            assert!(!e.is_unresolvable());
                        }
                        None
                    }
                }
            };
            match chosen {
                Some(n) => placed.push(replica.clone().node(&n)),
                None => unschedulable += 1,
            }
        }
        let on: Vec<&str> = placed.iter().map(|p| p.node.as_str()).collect();
        assert_eq!(on, ["n1", "n2", "n3"]);
        assert_eq!(unschedulable, 2);

        // A pod without affinity of its own but matching the replicas' selector is kept off
        // every node by their anti-affinity (symmetry).
        let views = snapshot(&nodes, &placed);
        let other = pod().ns("default").label("app", "web");
        let state = pre_filter(&other.incoming(), &views, &ns);
        for n in &views {
            let e = filter(&state, &other.incoming(), n).expect_err("symmetry");
            assert_eq!(e.reason(), "node(s) didn't satisfy existing pods anti-affinity rules");
        }
    }

    /// Required zone affinity to an existing pod: only nodes of that pod's zone pass, others
    /// fail with the affinity reason (status `UnschedulableAndUnresolvable`), and so do nodes
    /// without the zone label.
    #[test]
    fn zone_affinity_to_an_existing_pod() {
        let nodes = vec![
            node("a1", &[(ZONE, "a")]),
            node("a2", &[(ZONE, "a")]),
            node("b1", &[(ZONE, "b")]),
            node("b2", &[(ZONE, "b")]),
            node("nolabel", &[]),
        ];
        let pods = vec![pod().ns("prod").label("app", "db").node("b1")];
        let web = pod().ns("prod").label("app", "web").aff(t_in("app", ZONE, &["db"]));
        let views = snapshot(&nodes, &pods);
        let ns = BTreeMap::new();
        let state = pre_filter(&web.incoming(), &views, &ns);
        let got: Vec<_> = views.iter().map(|n| filter(&state, &web.incoming(), n).err()).collect();
        assert_eq!(got, [AFF, AFF, OK, OK, AFF]);
        let e = FilterFailure::AffinityRulesNotMatch;
        assert_eq!(e.reason(), "node(s) didn't match pod affinity rules");
        assert!(e.is_unresolvable());
        // The same pod in another namespace is not selected (the term's default namespace is
        // the incoming pod's own), and web does not select itself: nothing is feasible.
        let web_other_ns = pod().ns("dev").label("app", "web").aff(t_in("app", ZONE, &["db"]));
        let state = pre_filter(&web_other_ns.incoming(), &views, &ns);
        assert!(views.iter().all(|n| filter(&state, &web_other_ns.incoming(), n) == Err(e)));
        // Preferred zone affinity scores the db's zone 100 and the rest 0.
        let pref = pod().ns("prod").with(&pref_aff(vec![weighted(10, t_in("app", ZONE, &["db"]))]));
        assert_eq!(
            run_score(&InterPodAffinityArgs::default(), &pref, &pods, &nodes, &ns),
            Some(vec![0, 0, 100, 100, 0])
        );
    }

    /// `matchLabelKeys`: the term only selects pods with the owner's value of the key (here a
    /// rollout's pod-template-hash), both for the incoming pod's term and for an existing
    /// pod's term; `mismatchLabelKeys`: only pods with another value.
    #[test]
    fn match_and_mismatch_label_keys() {
        let nodes = vec![node("n1", &[]), node("n2", &[])];
        let ns = BTreeMap::new();
        let spread = |hash: &str| {
            pod().labels(&[("app", "web"), ("hash", hash)]).anti(PodAffinityTerm {
                match_label_keys: vec!["hash".into()],
                ..t_in("app", HOSTNAME_LABEL, &["web"])
            })
        };
        let pods = vec![spread("v1").node("n1")];
        let views = snapshot(&nodes, &pods);
        let old = spread("v1");
        let state = pre_filter(&old.incoming(), &views, &ns);
        assert_eq!(filter(&state, &old.incoming(), &views[0]), Err(FilterFailure::AntiAffinityRulesNotMatch));
        assert_eq!(filter(&state, &old.incoming(), &views[1]), Ok(()));
        let new = spread("v2");
        let state = pre_filter(&new.incoming(), &views, &ns);
        assert!(state.is_skip(&new.incoming()) || state.anti_affinity_counts.is_empty());
        assert_eq!(filter(&state, &new.incoming(), &views[0]), Ok(()), "other revision: not selected");

        // Tenants keep away from other tenants: anti-affinity to pods with another tenant.
        let tenant = |t: &str| {
            pod().label("tenant", t).anti(PodAffinityTerm {
                mismatch_label_keys: vec!["tenant".into()],
                ..t_exists("tenant", HOSTNAME_LABEL)
            })
        };
        let pods = vec![tenant("a").node("n1")];
        let views = snapshot(&nodes, &pods);
        let b = tenant("b");
        let state = pre_filter(&b.incoming(), &views, &ns);
        assert_eq!(filter(&state, &b.incoming(), &views[0]), Err(FilterFailure::AntiAffinityRulesNotMatch));
        let a = tenant("a");
        let state = pre_filter(&a.incoming(), &views, &ns);
        assert_eq!(filter(&state, &a.incoming(), &views[0]), Ok(()), "same tenant");
        // A pod without the key: nothing is added to the selector.
        let none = pod().anti(PodAffinityTerm {
            mismatch_label_keys: vec!["tenant".into()],
            ..t_exists("tenant", HOSTNAME_LABEL)
        });
        let state = pre_filter(&none.incoming(), &views, &ns);
        assert_eq!(
            filter(&state, &none.incoming(), &views[0]),
            Err(FilterFailure::AntiAffinityRulesNotMatch)
        );
    }

    /// Unknown namespaces, as upstream: the incoming pod's namespace selector only selects
    /// namespaces the lookup knows (it is unrolled into the known namespaces), while an
    /// existing pod's selector sees an unknown incoming namespace as one without labels.
    #[test]
    fn unknown_namespaces() {
        let nodes = vec![node("n1", &[])];
        let not_team1 = || PodAffinityTerm {
            namespace_selector: Some(sel(vec![r("team", NotIn, &["team1"])])),
            ..t_exists("app", HOSTNAME_LABEL)
        };
        let ns = team_namespaces();
        // Incoming term vs an existing pod in an unknown namespace: not selected.
        let pods = vec![pod().ns("ghost").label("app", "x").node("n1")];
        let views = snapshot(&nodes, &pods);
        let incoming = pod().ns("subteam1.team2").anti(not_team1());
        let state = pre_filter(&incoming.incoming(), &views, &ns);
        assert_eq!(filter(&state, &incoming.incoming(), &views[0]), Ok(()));
        // Existing term vs an incoming pod in an unknown namespace: empty labels, selected.
        let pods = vec![pod().ns("subteam1.team2").node("n1").anti(not_team1())];
        let views = snapshot(&nodes, &pods);
        let incoming = pod().ns("ghost").label("app", "x");
        let state = pre_filter(&incoming.incoming(), &views, &ns);
        assert_eq!(
            filter(&state, &incoming.incoming(), &views[0]),
            Err(FilterFailure::ExistingAntiAffinityRulesNotMatch)
        );
    }

    #[test]
    fn hostname_label_falls_back_to_the_node_name() {
        let plain = node("n1", &[(ZONE, "a")]);
        let v = NodeView { name: &plain.name, labels: &plain.labels, pods: vec![] };
        assert_eq!(v.label(HOSTNAME_LABEL), Some("n1"));
        assert_eq!(v.label(ZONE), Some("a"));
        assert_eq!(v.label("missing"), None);
        let own = node("n2", &[(HOSTNAME_LABEL, "host-2")]);
        let v = NodeView { name: &own.name, labels: &own.labels, pods: vec![] };
        assert_eq!(v.label(HOSTNAME_LABEL), Some("host-2"));
    }

    #[test]
    fn topology_counts_drop_zero_entries() {
        let mut c = TopologyCounts::default();
        c.add("zone", "a", 2);
        c.add("zone", "b", 1);
        assert_eq!(c.len(), 2);
        c.add("zone", "a", -2);
        c.add("zone", "b", 0);
        assert_eq!(c.iter().collect::<Vec<_>>(), [("zone", "b", 1)]);
        c.add("zone", "b", -1);
        assert!(c.is_empty());
        assert_eq!(c, TopologyCounts::default());
    }

    #[test]
    fn defaults_and_args_validation() {
        assert_eq!(InterPodAffinityArgs::default().hard_pod_affinity_weight, 1);
        assert!(!InterPodAffinityArgs::default().ignore_preferred_terms_of_existing_pods);
        assert_eq!(INTER_POD_AFFINITY_WEIGHT, 2);
        assert!(
            InterPodAffinityArgs { hard_pod_affinity_weight: 0, ..Default::default() }.validate().is_ok()
        );
        assert!(
            InterPodAffinityArgs { hard_pod_affinity_weight: 100, ..Default::default() }.validate().is_ok()
        );
        let err = InterPodAffinityArgs { hard_pod_affinity_weight: 101, ..Default::default() }
            .validate()
            .unwrap_err();
        assert!(err.contains("from 0 to 100"), "{err}");
        assert!(
            InterPodAffinityArgs { hard_pod_affinity_weight: -1, ..Default::default() }.validate().is_err()
        );
    }

    #[test]
    fn term_validation() {
        let ok = t_in("app", HOSTNAME_LABEL, &["web"]);
        assert_eq!(ok.validate(), Ok(()));
        let cases: Vec<(PodAffinityTerm, &str)> = vec![
            (t_in("app", "", &["web"]), "topologyKey: is empty"),
            (t_in("app", "bad key!", &["web"]), "topologyKey: `bad key!`"),
            (t_in("app", "Example.com/zone", &["web"]), "invalid prefix"),
            (term(vec![r("app", In, &[])], "zone"), "labelSelector.matchExpressions[0]"),
            (term(vec![r("-app", Exists, &[])], "zone"), "labelSelector.matchExpressions[0].key"),
            (PodAffinityTerm { namespaces: vec!["Prod".into()], ..ok.clone() }, "namespaces[0]"),
            (
                PodAffinityTerm { namespace_selector: Some(sel(vec![r("team", NotIn, &[])])), ..ok.clone() },
                "namespaceSelector.matchExpressions[0]",
            ),
            (
                PodAffinityTerm { label_selector: None, match_label_keys: vec!["hash".into()], ..ok.clone() },
                "matchLabelKeys: set without a labelSelector",
            ),
            (
                PodAffinityTerm { label_selector: None, mismatch_label_keys: vec!["t".into()], ..ok.clone() },
                "mismatchLabelKeys: set without a labelSelector",
            ),
            (
                PodAffinityTerm { match_label_keys: vec!["app".into()], ..ok.clone() },
                "also a key of labelSelector",
            ),
            (
                PodAffinityTerm {
                    match_label_keys: vec!["hash".into()],
                    mismatch_label_keys: vec!["hash".into()],
                    ..ok.clone()
                },
                "also in mismatchLabelKeys",
            ),
            (PodAffinityTerm { match_label_keys: vec!["a/b/c".into()], ..ok.clone() }, "matchLabelKeys[0]"),
        ];
        for (t, want) in &cases {
            let err = t.validate().expect_err(want);
            assert!(err.contains(want), "got {err:?}, want it to contain {want:?}");
        }
        // A mismatchLabelKeys key may also be in labelSelector (upstream allows it).
        assert_eq!(
            PodAffinityTerm { mismatch_label_keys: vec!["app".into()], ..ok.clone() }.validate(),
            Ok(())
        );
        let w = WeightedPodAffinityTerm { weight: 0, pod_affinity_term: ok.clone() };
        assert!(w.validate().expect_err("weight").starts_with("weight: 0 is out of range"));
        let w = WeightedPodAffinityTerm { weight: 101, pod_affinity_term: ok.clone() };
        assert!(w.validate().is_err());
        let anti = PodAntiAffinity {
            preferred_during_scheduling_ignored_during_execution: vec![weighted(
                100,
                t_in("app", "", &["x"]),
            )],
            ..Default::default()
        };
        assert_eq!(
            anti.validate().expect_err("empty topologyKey").split(':').next(),
            Some("preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey")
        );
    }

    #[test]
    fn yaml_shape_is_the_kubernetes_api() {
        let yaml = "
requiredDuringSchedulingIgnoredDuringExecution:
  - labelSelector:
      matchLabels: {app: web}
    topologyKey: kubernetes.io/hostname
    matchLabelKeys: [pod-template-hash]
preferredDuringSchedulingIgnoredDuringExecution:
  - weight: 50
    podAffinityTerm:
      labelSelector:
        matchExpressions:
          - {key: tier, operator: In, values: [db]}
      namespaces: [prod]
      namespaceSelector: {}
      topologyKey: topology.kubernetes.io/zone
";
        let a: PodAntiAffinity = serde_saphyr::from_str(yaml).expect("parses");
        assert_eq!(a.validate(), Ok(()));
        let req = &a.required_during_scheduling_ignored_during_execution[0];
        assert_eq!(req.topology_key, HOSTNAME_LABEL);
        assert_eq!(req.match_label_keys, ["pod-template-hash"]);
        let pref = &a.preferred_during_scheduling_ignored_during_execution[0];
        assert_eq!(pref.weight, 50);
        assert_eq!(pref.pod_affinity_term.namespace_selector, Some(LabelSelector::default()));
        let back: PodAntiAffinity =
            serde_saphyr::from_str(&serde_saphyr::to_string(&a).expect("writes")).expect("reparses");
        assert_eq!(back, a);
        let unknown = "requiredDuringSchedulingIgnoredDuringExecution:\n  - topologyKey: zone\n    labelSelectors: {}\n";
        assert!(serde_saphyr::from_str::<PodAffinity>(unknown).is_err(), "unknown fields are rejected");
    }
}
