//! PodTopologySpread and InterPodAffinity in the scheduling cycle, on the counts of
//! [`crate::cluster::topology::TopologyIndex`] instead of upstream's per-pod PreFilter scan.
//!
//! - [`build`] resolves every template's rules once, when the simulation is built: its
//!   effective spread constraints (its own, or the defaults for a Deployment's pods,
//!   `plugins::topology_spread::effective_constraints`), its required and preferred pod
//!   (anti-)affinity terms, and the terms of other templates that select its pods (the
//!   existing pods' required anti-affinity, "symmetry", and their score terms). Each rule
//!   names a pod set (which templates' pods it counts) and a topology key, registered in the
//!   index. Templates never change after that, so no rule is recomputed during a run.
//! - [`Cycle`] is one scheduling attempt's view: [`Cycle::filter`] is the two plugins'
//!   Filter for one node (upstream order: PodTopologySpread, then InterPodAffinity), and
//!   [`Cycle::scores`] their Score + NormalizeScore over the feasible nodes.
//!
//! Fast and slow paths: a DoNotSchedule constraint whose counts are over every node (no
//! `nodeAffinityPolicy: Honor` restriction because the pod has no node selector or required
//! node affinity, `nodeTaintsPolicy: Ignore`, every node carrying the key) reads the index's
//! per-domain counts and global minimum directly; otherwise the counts over the eligible
//! nodes are summed once per attempt (upstream's PreFilter, O(nodes)). The pure reference
//! implementations are `plugins::topology_spread` and `plugins::inter_pod_affinity`
//! (snapshot based, with the upstream test tables); `tests/topology.rs` checks that both
//! give the same filter results and scores.

use crate::cluster::label_selector::LabelSelector;
use crate::cluster::pod_affinity::{PodAffinity, PodAntiAffinity};
use crate::cluster::spread::{NodeInclusionPolicy, TopologySpreadConstraint, WhenUnsatisfiable};
use crate::cluster::topology::{KeyId, NO_DOMAIN, SetId, TopologyIndex};
pub use crate::cluster::topology::{SpreadRule, TemplateRules, TermRule};
use crate::cluster::{ClusterState, Labels, NodeId, Placement, TemplateId};
use crate::scheduler::parallel::Workers;
use crate::scheduler::plugins::{self, MAX_NODE_SCORE};
use std::collections::BTreeMap;

/// What a template's pods are, for the rules.
#[derive(Clone, Debug)]
pub struct TemplateSource {
    pub namespace: String,
    pub labels: Labels,
    pub constraints: Vec<TopologySpreadConstraint>,
    pub pod_affinity: Option<PodAffinity>,
    pub pod_anti_affinity: Option<PodAntiAffinity>,
    /// The selector of the pod's owner (a Deployment's ReplicaSet, and its Service): the
    /// default constraints' selector. `None` for pods without a controller (churn).
    pub owner_selector: Option<LabelSelector>,
}

/// The two plugins' configuration.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub defaulting: plugins::topology_spread::Defaulting,
    pub hard_pod_affinity_weight: i64,
    pub ignore_preferred_terms_of_existing_pods: bool,
    /// Namespace labels (for `namespaceSelector`).
    pub namespaces: BTreeMap<String, Labels>,
}

/// Resolves every template's rules (`sources[t]` describes template `t`) and registers their
/// pod sets and keys in `cluster.topology`. Called once, before any pod is placed.
pub fn build(cluster: &mut ClusterState, sources: &[TemplateSource], cfg: &Config) -> Vec<TemplateRules> {
    let n = sources.len();
    let node_labels: Vec<(Labels, bool)> = cluster
        .nodes
        .iter()
        .map(|nd| (cluster.label_sets[nd.labels.index()].clone(), nd.removed_at.is_none()))
        .collect();
    let nodes: Vec<(&Labels, bool)> = node_labels.iter().map(|(l, live)| (l, *live)).collect();
    let ix = &mut cluster.topology;
    ix.ensure_nodes(nodes.len());
    let mut set_ids: BTreeMap<Vec<bool>, SetId> = BTreeMap::new();
    let mut set_of = |ix: &mut TopologyIndex, members: Vec<bool>| -> SetId {
        *set_ids.entry(members.clone()).or_insert_with(|| ix.set(members))
    };
    // Every namespace a pod is in exists; one not listed in `namespaces` has no labels
    // (upstream `GetNamespaceLabelsSnapshot` gives empty labels).
    static NO_LABELS: Labels = Labels::new();
    let ns_labels = |ns: &str| Some(cfg.namespaces.get(ns).unwrap_or(&NO_LABELS));
    let mut rules: Vec<TemplateRules> = vec![TemplateRules::default(); n];
    // The pods of each template, as a set (for symmetry), made on demand.
    let only = |t: usize| -> Vec<bool> { (0..n).map(|u| u == t).collect() };
    for (p, src) in sources.iter().enumerate() {
        let r = &mut rules[p];
        // PodTopologySpread.
        let constraints = plugins::topology_spread::effective_constraints(
            &src.constraints,
            &cfg.defaulting,
            src.owner_selector.as_ref(),
        );
        r.require_all_topologies =
            plugins::topology_spread::require_all_topologies(&src.constraints, &cfg.defaulting);
        for c in &constraints {
            let selector = c.label_selector.as_ref().map(|s| {
                if c.match_label_keys.is_empty() {
                    s.clone()
                } else {
                    s.with_label_keys(&c.match_label_keys, &src.labels)
                }
            });
            // Upstream `countPodsMatchSelector`: a nil or empty selector counts no pod; the
            // Filter's self-match uses `Selector.Matches` (empty matches everything).
            let counting = selector.as_ref().filter(|s| !s.is_empty());
            let members: Vec<bool> = sources
                .iter()
                .map(|q| q.namespace == src.namespace && counting.is_some_and(|s| s.matches(&q.labels)))
                .collect();
            let set = set_of(ix, members);
            let key = ix.key(&c.topology_key, &nodes);
            ix.track(set, key);
            r.spread.push(SpreadRule {
                set,
                key,
                max_skew: i64::from(c.max_skew),
                min_domains: c.min_domains.map_or(1, |m| m.max(1) as u32),
                hard: c.when_unsatisfiable == WhenUnsatisfiable::DoNotSchedule,
                honor_affinity: c.node_affinity_policy.unwrap_or(NodeInclusionPolicy::Honor)
                    == NodeInclusionPolicy::Honor,
                honor_taints: c.node_taints_policy.unwrap_or(NodeInclusionPolicy::Ignore)
                    == NodeInclusionPolicy::Honor,
                self_match: selector.as_ref().is_some_and(|s| s.matches(&src.labels)),
            });
        }
        // InterPodAffinity: the pod's own terms.
        let term_set = |ix: &mut TopologyIndex,
                        set_of: &mut dyn FnMut(&mut TopologyIndex, Vec<bool>) -> SetId,
                        t: &crate::cluster::pod_affinity::PodAffinityTerm|
         -> (SetId, KeyId) {
            let members = sources
                .iter()
                .map(|q| {
                    t.matches(&src.namespace, &src.labels, &q.namespace, &q.labels, ns_labels(&q.namespace))
                })
                .collect();
            let set = set_of(ix, members);
            let key = ix.key(&t.topology_key, &nodes);
            ix.track(set, key);
            (set, key)
        };
        if let Some(a) = &src.pod_affinity {
            // Upstream counts an existing pod for the required affinity only when it matches
            // every term (`podMatchesAllAffinityTerms`): one set for all the terms.
            let required = &a.required_during_scheduling_ignored_during_execution;
            if !required.is_empty() {
                let members: Vec<bool> = sources
                    .iter()
                    .map(|q| {
                        required.iter().all(|t| {
                            t.matches(
                                &src.namespace,
                                &src.labels,
                                &q.namespace,
                                &q.labels,
                                ns_labels(&q.namespace),
                            )
                        })
                    })
                    .collect();
                let set = set_of(ix, members);
                for t in required {
                    let key = ix.key(&t.topology_key, &nodes);
                    ix.track(set, key);
                    r.affinity.push(TermRule { set, key, weight: 0 });
                }
            }
            for w in &a.preferred_during_scheduling_ignored_during_execution {
                let (set, key) = term_set(ix, &mut set_of, &w.pod_affinity_term);
                r.affinity_score.push(TermRule { set, key, weight: i64::from(w.weight) });
            }
            r.matches_own_affinity = a.required_during_scheduling_ignored_during_execution.iter().all(|t| {
                t.matches(&src.namespace, &src.labels, &src.namespace, &src.labels, ns_labels(&src.namespace))
            });
        }
        if let Some(a) = &src.pod_anti_affinity {
            for t in &a.required_during_scheduling_ignored_during_execution {
                let (set, key) = term_set(ix, &mut set_of, t);
                r.anti_affinity.push(TermRule { set, key, weight: 0 });
            }
            for w in &a.preferred_during_scheduling_ignored_during_execution {
                let (set, key) = term_set(ix, &mut set_of, &w.pod_affinity_term);
                r.affinity_score.push(TermRule { set, key, weight: -i64::from(w.weight) });
            }
        }
    }
    // Symmetry: the terms of template `e`'s pods that select template `p`'s pods.
    let has_preferred = |s: &TemplateSource| {
        s.pod_affinity
            .as_ref()
            .is_some_and(|a| !a.preferred_during_scheduling_ignored_during_execution.is_empty())
            || s.pod_anti_affinity
                .as_ref()
                .is_some_and(|a| !a.preferred_during_scheduling_ignored_during_execution.is_empty())
    };
    for (e, es) in sources.iter().enumerate() {
        // The set of template `e`'s own pods, made at its first use.
        let mut own_set: Option<SetId> = None;
        let mut own = |ix: &mut TopologyIndex,
                       set_of: &mut dyn FnMut(&mut TopologyIndex, Vec<bool>) -> SetId| {
            *own_set.get_or_insert_with(|| set_of(ix, only(e)))
        };
        let selects = |t: &crate::cluster::pod_affinity::PodAffinityTerm, p: &TemplateSource| {
            t.matches(&es.namespace, &es.labels, &p.namespace, &p.labels, ns_labels(&p.namespace))
        };
        for (p, ps) in sources.iter().enumerate() {
            // Upstream skips the whole score when the incoming pod has no preferred term and
            // the existing pods' preferred terms are ignored; otherwise the existing pods'
            // terms all count (`processExistingPod`).
            let scored = !cfg.ignore_preferred_terms_of_existing_pods || has_preferred(ps);
            if let Some(a) = &es.pod_anti_affinity {
                for t in &a.required_during_scheduling_ignored_during_execution {
                    if selects(t, ps) {
                        let set = own(ix, &mut set_of);
                        let key = ix.key(&t.topology_key, &nodes);
                        ix.track(set, key);
                        rules[p].existing_anti_affinity.push(TermRule { set, key, weight: 0 });
                    }
                }
                if scored {
                    for w in &a.preferred_during_scheduling_ignored_during_execution {
                        if selects(&w.pod_affinity_term, ps) {
                            let set = own(ix, &mut set_of);
                            let key = ix.key(&w.pod_affinity_term.topology_key, &nodes);
                            ix.track(set, key);
                            rules[p].affinity_score.push(TermRule { set, key, weight: -i64::from(w.weight) });
                        }
                    }
                }
            }
            if let Some(a) = &es.pod_affinity
                && scored
            {
                if cfg.hard_pod_affinity_weight > 0 {
                    for t in &a.required_during_scheduling_ignored_during_execution {
                        if selects(t, ps) {
                            let set = own(ix, &mut set_of);
                            let key = ix.key(&t.topology_key, &nodes);
                            ix.track(set, key);
                            rules[p].affinity_score.push(TermRule {
                                set,
                                key,
                                weight: cfg.hard_pod_affinity_weight,
                            });
                        }
                    }
                }
                for w in &a.preferred_during_scheduling_ignored_during_execution {
                    if selects(&w.pod_affinity_term, ps) {
                        let set = own(ix, &mut set_of);
                        let key = ix.key(&w.pod_affinity_term.topology_key, &nodes);
                        ix.track(set, key);
                        rules[p].affinity_score.push(TermRule { set, key, weight: i64::from(w.weight) });
                    }
                }
            }
        }
    }
    rules
}

/// Why the two plugins reject a node (upstream's reasons).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rejection {
    SpreadNodeLabel,
    SpreadSkew,
    Affinity,
    AntiAffinity,
    ExistingAntiAffinity,
}

impl Rejection {
    /// Upstream's message.
    pub fn reason(self) -> &'static str {
        use plugins::inter_pod_affinity as ipa;
        use plugins::topology_spread as pts;
        match self {
            Rejection::SpreadNodeLabel => pts::ERR_REASON_NODE_LABEL_NOT_MATCH,
            Rejection::SpreadSkew => pts::ERR_REASON_CONSTRAINTS_NOT_MATCH,
            Rejection::Affinity => ipa::ERR_REASON_AFFINITY_RULES_NOT_MATCH,
            Rejection::AntiAffinity => ipa::ERR_REASON_ANTI_AFFINITY_RULES_NOT_MATCH,
            Rejection::ExistingAntiAffinity => ipa::ERR_REASON_EXISTING_ANTI_AFFINITY_RULES_NOT_MATCH,
        }
    }

    /// `UnschedulableAndUnresolvable`: preemption cannot help on such a node.
    pub fn is_unresolvable(self) -> bool {
        matches!(self, Rejection::SpreadNodeLabel | Rejection::Affinity)
    }
}

/// The counts of one DoNotSchedule constraint over its eligible nodes (slow path).
#[derive(Clone, Debug, Default)]
struct Eligible {
    /// Per domain: live matching pods on eligible nodes.
    count: Vec<i64>,
    min: i64,
    domains: u32,
}

/// Pods taken out of the counts for a preemption dry run: (template, node, terminating).
pub type Removed<'a> = &'a [(usize, usize, bool)];

/// One scheduling attempt's view of the two plugins for the pod of `template`.
pub struct Cycle<'a> {
    cluster: &'a ClusterState,
    rules: &'a TemplateRules,
    placement: &'a Placement,
    /// Per spread rule: `Some` when its counts are over a subset of the nodes.
    eligible: Vec<Option<Eligible>>,
    /// Every required affinity term has no matching pod anywhere.
    no_affinity_pods: bool,
}

impl<'a> Cycle<'a> {
    /// PreFilter for the pod of `template` (with `rules`).
    pub fn new(cluster: &'a ClusterState, template: TemplateId, rules: &'a TemplateRules) -> Cycle<'a> {
        let placement = &cluster.template(template).placement;
        let ix = &cluster.topology;
        let hard_keys: Vec<KeyId> = rules.spread.iter().filter(|r| r.hard).map(|r| r.key).collect();
        let has_node_constraints = !placement.has_no_node_constraints();
        let eligible = rules
            .spread
            .iter()
            .map(|r| {
                if !r.hard {
                    return None;
                }
                let all_keys = hard_keys.iter().all(|k| ix.keys[k.0 as usize].nodes_missing == 0);
                let narrowed = (r.honor_affinity && has_node_constraints) || r.honor_taints || !all_keys;
                narrowed.then(|| eligible_counts(cluster, r, &hard_keys, placement))
            })
            .collect();
        let no_affinity_pods = rules.affinity.iter().all(|t| ix.counts(t.set, t.key).total_all == 0);
        Cycle { cluster, rules, placement, eligible, no_affinity_pods }
    }

    /// The node bitsets (`TopologyKey::domain_bits`) of the domains a DoNotSchedule
    /// constraint rules out for every node in them (the skew test depends only on the
    /// node's domain), for the scheduler to jump over.
    pub fn blocked_domains(&self) -> Vec<&'a [u64]> {
        let ix = &self.cluster.topology;
        let mut out = Vec::new();
        for (r, el) in self.rules.spread.iter().zip(&self.eligible) {
            let key = &ix.keys[r.key.0 as usize];
            if !r.hard || key.hostname {
                continue;
            }
            let c = ix.counts(r.set, r.key);
            let (mut min, domains) = match el {
                None => (i64::from(c.min_live(key)), key.live_domains),
                Some(e) => (e.min, e.domains),
            };
            if domains < r.min_domains {
                min = 0;
            }
            for (d, bits) in key.domain_bits.iter().enumerate() {
                let matched = match el {
                    None => i64::from(c.live_in(d as u32)),
                    Some(e) => e.count.get(d).copied().unwrap_or(0),
                };
                if matched + i64::from(r.self_match) - min > r.max_skew {
                    out.push(bits.as_slice());
                }
            }
        }
        out
    }

    /// Whether the jumps of [`Self::blocked_domains`] and the hostname occupancy bits of the
    /// anti-affinity terms decide the whole filter: every DoNotSchedule constraint is on a
    /// key every node carries, other than the hostname, with its counts over every node; no
    /// required affinity; every anti-affinity term (own or existing) is per node. Then a
    /// node the walk lands on passes, and the filter need not run.
    pub fn decided_by_jumps(&self) -> bool {
        let ix = &self.cluster.topology;
        let host = |k: KeyId| ix.keys[k.0 as usize].hostname;
        self.rules.spread.iter().zip(&self.eligible).all(|(r, el)| {
            !r.hard || (el.is_none() && !host(r.key) && ix.keys[r.key.0 as usize].nodes_missing == 0)
        }) && self.rules.affinity.is_empty()
            && self.rules.anti_affinity.iter().chain(&self.rules.existing_anti_affinity).all(|t| host(t.key))
    }

    /// Filter: PodTopologySpread then InterPodAffinity, the first failure.
    pub fn filter(&self, node: NodeId) -> Result<(), Rejection> {
        self.filter_with(node, &[])
    }

    /// Filter with some pods taken out of the counts (a preemption dry run's victims, all on
    /// `node`).
    pub fn filter_with(&self, node: NodeId, removed: Removed) -> Result<(), Rejection> {
        let ix = &self.cluster.topology;
        let i = node.index();
        // Pods of `set` among the removed ones: (all, live).
        let minus = |set: SetId| -> (i64, i64) {
            let mut a = 0;
            let mut l = 0;
            for &(t, _, term) in removed {
                if ix.is_member(set, t) {
                    a += 1;
                    l += i64::from(!term);
                }
            }
            (a, l)
        };
        for (r, el) in self.rules.spread.iter().zip(&self.eligible) {
            if !r.hard {
                continue;
            }
            let d = ix.domain(r.key, i);
            if d == NO_DOMAIN {
                return Err(Rejection::SpreadNodeLabel);
            }
            let (mut matched, mut min, domains) = match el {
                None => {
                    let c = ix.counts(r.set, r.key);
                    let key = &ix.keys[r.key.0 as usize];
                    (i64::from(c.live_in(d)), i64::from(c.min_live(key)), key.live_domains)
                }
                Some(e) => (e.count.get(d as usize).copied().unwrap_or(0), e.min, e.domains),
            };
            // Upstream RemovePod updates the counts only for a node they count (it carries
            // every key and passes the inclusion policies).
            if !removed.is_empty() && (el.is_none() || self.counts_node(r, i)) {
                let (_, l) = minus(r.set);
                matched -= l;
                // The node's domain only loses pods: the minimum can only fall to it.
                min = min.min(matched);
            }
            if domains < r.min_domains {
                min = 0;
            }
            if matched + i64::from(r.self_match) - min > r.max_skew {
                return Err(Rejection::SpreadSkew);
            }
        }
        // InterPodAffinity (`filtering.go` Filter: affinity, anti-affinity, existing pods').
        if !self.rules.affinity.is_empty() {
            let mut pods_exist = true;
            for t in &self.rules.affinity {
                let d = ix.domain(t.key, i);
                if d == NO_DOMAIN {
                    return Err(Rejection::Affinity);
                }
                if i64::from(ix.counts(t.set, t.key).all_in(d)) - minus(t.set).0 <= 0 {
                    pods_exist = false;
                }
            }
            let none_anywhere = if removed.is_empty() {
                self.no_affinity_pods
            } else {
                self.rules
                    .affinity
                    .iter()
                    .all(|u| ix.counts(u.set, u.key).total_all as i64 - minus(u.set).0 <= 0)
            };
            // The pod may be the first of a group that wants to be together.
            let first_of_group = none_anywhere && self.rules.matches_own_affinity;
            if !(pods_exist || first_of_group) {
                return Err(Rejection::Affinity);
            }
        }
        for t in &self.rules.anti_affinity {
            let d = ix.domain(t.key, i);
            if d != NO_DOMAIN {
                let c = i64::from(ix.counts(t.set, t.key).all_in(d)) - minus(t.set).0;
                if c > 0 {
                    return Err(Rejection::AntiAffinity);
                }
            }
        }
        for t in &self.rules.existing_anti_affinity {
            let d = ix.domain(t.key, i);
            if d != NO_DOMAIN {
                let c = i64::from(ix.counts(t.set, t.key).all_in(d)) - minus(t.set).0;
                if c > 0 {
                    return Err(Rejection::ExistingAntiAffinity);
                }
            }
        }
        Ok(())
    }

    /// Whether the counts of the DoNotSchedule constraint `r` include node `node`: it carries
    /// every DoNotSchedule key and passes the inclusion policies.
    fn counts_node(&self, r: &SpreadRule, node: usize) -> bool {
        let ix = &self.cluster.topology;
        self.rules.spread.iter().filter(|q| q.hard).all(|q| ix.domain(q.key, node) != NO_DOMAIN)
            && includes(self.cluster, r, self.placement, node)
    }

    /// Score + NormalizeScore of both plugins for the feasible `nodes`, unweighted:
    /// `(spread[i], affinity[i])` in 0..=100 (all 0 for a plugin that skips).
    pub fn scores(&self, nodes: &[NodeId], spread: &mut Vec<i64>, affinity: &mut Vec<i64>) {
        self.scores_on(nodes, spread, affinity, &Workers::sequential());
    }

    /// [`Self::scores`], PodTopologySpread's per-node raw scores computed on `workers` when
    /// there are many nodes (each node's score is its own; the extremes are exact integer
    /// reductions, so the result does not depend on the threads).
    pub fn scores_on(
        &self,
        nodes: &[NodeId],
        spread: &mut Vec<i64>,
        affinity: &mut Vec<i64>,
        workers: &Workers,
    ) {
        spread.clear();
        affinity.clear();
        spread.resize(nodes.len(), 0);
        affinity.resize(nodes.len(), 0);
        self.spread_scores(nodes, spread, workers);
        self.affinity_scores(nodes, affinity);
    }

    /// PodTopologySpread PreScore (`scoring.go` `PreScore`) for the ScheduleAnyway
    /// constraints, over the feasible `nodes`: each constraint's weight and the counts its
    /// Score reads. `None` when the plugin skips (no ScheduleAnyway constraint, or no node).
    /// `nodes()` gives the `len` feasible nodes' ids in order (read from the start, often
    /// only its first few: the domains are all seen early).
    pub fn spread_terms<I: Iterator<Item = usize>>(
        &self,
        len: usize,
        nodes: impl Fn() -> I,
    ) -> Option<SpreadTerms<'a>> {
        if len == 0 || self.rules.spread.iter().all(|r| r.hard) {
            return None;
        }
        let ix = &self.cluster.topology;
        let cluster = self.cluster;
        let soft = || self.rules.spread.iter().filter(|r| !r.hard);
        // Ignored: a scored node missing a key when every key is required.
        let require = self.rules.require_all_topologies;
        let ignored = |n: usize| require && soft().any(|r| ix.domain(r.key, n) == NO_DOMAIN);
        let scored = if require { nodes().filter(|&n| !ignored(n)).count() } else { len };
        let any_missing = soft().any(|r| ix.keys[r.key.0 as usize].nodes_missing > 0);
        // Per constraint: the weight ln(domains + 2) over the scored nodes' domains (hostname:
        // the scored nodes), and the counts of those domains over the nodes that match the
        // inclusion policies (and carry every key when required).
        let mut per_rule: Vec<(f64, Vec<i64>)> = Vec::new();
        for r in soft() {
            let key = &ix.keys[r.key.0 as usize];
            if key.hostname {
                per_rule.push((plugins::topology_spread::topology_normalizing_weight(scored), Vec::new()));
                continue;
            }
            // Domains seen among the scored nodes; the last slot is domain "" (no key).
            let nd = key.domains.len();
            let mut seen = vec![false; nd + 1];
            // Every slot that can be seen: once all are, the rest of the nodes add none.
            let possible = nd + usize::from(key.nodes_missing > 0);
            let mut size = 0;
            for n in nodes() {
                if !ignored(n) {
                    let d = ix.domain(r.key, n);
                    let slot = &mut seen[if d == NO_DOMAIN { nd } else { d as usize }];
                    size += usize::from(!*slot);
                    *slot = true;
                    if size >= possible {
                        break;
                    }
                }
            }
            let mut counts = vec![0i64; nd];
            let fast = !((r.honor_affinity && !self.placement.has_no_node_constraints())
                || r.honor_taints
                || (require && any_missing));
            if fast {
                let c = ix.counts(r.set, r.key);
                for (d, v) in counts.iter_mut().enumerate() {
                    if seen[d] {
                        *v = i64::from(c.live_in(d as u32));
                    }
                }
            } else {
                for (id, node) in cluster.nodes.iter().enumerate() {
                    if node.removed_at.is_some() || !includes(cluster, r, self.placement, id) {
                        continue;
                    }
                    if require && soft().any(|k| ix.domain(k.key, id) == NO_DOMAIN) {
                        continue;
                    }
                    let d = ix.domain(r.key, id);
                    if d != NO_DOMAIN && seen[d as usize] {
                        counts[d as usize] += i64::from(ix.on_node(r.set, id).1);
                    }
                }
            }
            per_rule.push((plugins::topology_spread::topology_normalizing_weight(size), counts));
        }
        let terms = soft()
            .zip(&per_rule)
            .map(|(r, (weight, counts))| {
                let key = &ix.keys[r.key.0 as usize];
                let offset = (r.max_skew - 1) as f64;
                SpreadTerm {
                    domain_of_node: &key.domain_of_node,
                    hostname: key.hostname,
                    ident: (r.set.0, r.key.0),
                    host_live: if key.hostname { &ix.counts(r.set, r.key).live } else { &[] },
                    offset,
                    weight: *weight,
                    per_domain: counts.iter().map(|&c| c as f64 * *weight + offset).collect(),
                }
            })
            .collect();
        Some(SpreadTerms { terms, may_ignore: require && any_missing })
    }

    /// PodTopologySpread PreScore/Score/NormalizeScore (`scoring.go`) for the ScheduleAnyway
    /// constraints.
    fn spread_scores(&self, nodes: &[NodeId], out: &mut [i64], workers: &Workers) {
        let Some(terms) = self.spread_terms(nodes.len(), || nodes.iter().map(|n| n.index())) else {
            return;
        };
        let ix = &self.cluster.topology;
        let soft = || self.rules.spread.iter().filter(|r| !r.hard);
        let ignored =
            |n: NodeId| terms.may_ignore && soft().any(|r| ix.domain(r.key, n.index()) == NO_DOMAIN);
        // Score, then NormalizeScore: reversed against the extremes of the non-ignored nodes.
        // Each node's raw score (-1: ignored) and the chunk's extremes.
        let raw = |offset: usize, out: &mut [i64]| {
            let mut min = i64::MAX;
            let mut max = i64::MIN;
            for (o, &n) in out.iter_mut().zip(&nodes[offset..]) {
                if ignored(n) {
                    *o = -1;
                    continue;
                }
                let s = terms.raw(n.index());
                *o = s;
                min = min.min(s);
                max = max.max(s);
            }
            (min, max)
        };
        let (min, max) = workers
            .map_chunks(out, raw)
            .into_iter()
            .fold((i64::MAX, i64::MIN), |(a, b), (c, d)| (a.min(c), b.max(d)));
        if min > max {
            // Every node ignored.
            out.iter_mut().for_each(|o| *o = 0);
            return;
        }
        let normalized = |o: i64| spread_normalized(o, min, max);
        // The raw scores are few distinct small integers (pod counts): one division per
        // distinct value instead of one per node.
        let range = (max - min) as usize;
        if range < out.len() && range < 4096 {
            let table: Vec<i64> = (min..=max).map(normalized).collect();
            for o in out.iter_mut() {
                *o = if *o < 0 { 0 } else { table[(*o - min) as usize] };
            }
        } else {
            for o in out.iter_mut() {
                *o = if *o < 0 { 0 } else { normalized(*o) };
            }
        }
    }

    /// PodTopologySpread's Score may ignore a node (every key is required and some node
    /// lacks a ScheduleAnyway constraint's key): [`SpreadTerms::may_ignore`].
    pub fn spread_may_ignore(&self) -> bool {
        let ix = &self.cluster.topology;
        self.rules.require_all_topologies
            && self.rules.spread.iter().any(|r| !r.hard && ix.keys[r.key.0 as usize].nodes_missing > 0)
    }

    /// InterPodAffinity's Score skips (every node scores 0): no score term, or no existing
    /// pod matches any.
    pub fn affinity_skips(&self) -> bool {
        let ix = &self.cluster.topology;
        self.rules.affinity_score.iter().all(|t| ix.counts(t.set, t.key).total_all == 0)
    }

    /// InterPodAffinity Score + NormalizeScore (`scoring.go`).
    fn affinity_scores(&self, nodes: &[NodeId], out: &mut [i64]) {
        let terms = &self.rules.affinity_score;
        if terms.is_empty() || nodes.is_empty() {
            return;
        }
        let ix = &self.cluster.topology;
        // Upstream Skip when no existing pod matched any term (topologyScore is empty).
        if terms.iter().all(|t| ix.counts(t.set, t.key).total_all == 0) {
            return;
        }
        let mut min = i64::MAX;
        let mut max = i64::MIN;
        for (k, n) in nodes.iter().enumerate() {
            let mut s = 0i64;
            for t in terms {
                let d = ix.domain(t.key, n.index());
                if d != NO_DOMAIN {
                    s += t.weight * i64::from(ix.counts(t.set, t.key).all_in(d));
                }
            }
            out[k] = s;
            min = min.min(s);
            max = max.max(s);
        }
        let diff = max - min;
        for o in out.iter_mut() {
            let f = if diff > 0 { MAX_NODE_SCORE as f64 * ((*o - min) as f64 / diff as f64) } else { 0.0 };
            *o = f as i64;
        }
    }
}

/// PodTopologySpread NormalizeScore (`scoring.go`) of raw score `o` given the extremes of
/// the scored nodes: reversed, `MaxNodeScore × (max + min − o) / max`.
#[inline]
pub fn spread_normalized(o: i64, min: i64, max: i64) -> i64 {
    if max == 0 { MAX_NODE_SCORE } else { MAX_NODE_SCORE * (max + min - o) / max }
}

/// One ScheduleAnyway constraint as the per-node Score reads it.
struct SpreadTerm<'k> {
    domain_of_node: &'k [u32],
    hostname: bool,
    /// The constraint's (set, key).
    ident: (u32, u32),
    /// Hostname key: the set's live pods per node (the key's domain of a node is the node
    /// itself, so its per-domain counts are dense per-node counts).
    host_live: &'k [u32],
    offset: f64,
    weight: f64,
    /// Other keys: `scoreForCount` of each domain's count, computed once per attempt by the
    /// same operations as per node (so the same `f64`).
    per_domain: Vec<f64>,
}

/// PodTopologySpread's PreScore state for one attempt ([`Cycle::spread_terms`]).
pub struct SpreadTerms<'k> {
    terms: Vec<SpreadTerm<'k>>,
    /// Some node may be ignored (every key is required and some node lacks one): only then
    /// must a caller test each node before [`SpreadTerms::raw`].
    pub may_ignore: bool,
}

impl SpreadTerms<'_> {
    /// Node `i`'s raw Score (`scoring.go` `Score`: Σ `scoreForCount` over the constraints
    /// whose key the node has, rounded), for a node that is not ignored. A constraint whose
    /// key the node lacks adds `+0.0`, which leaves the sum unchanged (every term is ≥ 0).
    #[inline(always)]
    pub fn raw(&self, i: usize) -> i64 {
        let score = match self.terms.as_slice() {
            [] => 0.0,
            [a] => 0.0 + a.score(i),
            [a, b] => 0.0 + a.score(i) + b.score(i),
            ts => ts.iter().fold(0.0, |s, t| s + t.score(i)),
        };
        round_non_negative(score)
    }

    /// [`SpreadTerms::raw`] of every node of `nodes` into `out` (none ignored), and their
    /// extremes: by [`SpreadSlots`] when the terms allow (each (pod count, domain) pair
    /// computed once, from the first node that has it; `memo` is scratch), else node by
    /// node. Same values either way.
    pub fn raw_into(&self, nodes: &[u32], out: &mut Vec<i64>, memo: &mut Vec<i64>) -> (i64, i64) {
        out.clear();
        let Some(slots) = self.slots(nodes.len()) else {
            out.extend(nodes.iter().map(|&i| self.raw(i as usize)));
            return extremes(out);
        };
        memo.clear();
        memo.resize(slots.memo_len(), -1);
        out.extend(nodes.iter().map(|&i| {
            let i = i as usize;
            match slots.slot(i) {
                Some(slot) => {
                    let slot = &mut memo[slot];
                    if *slot < 0 {
                        *slot = self.raw(i);
                    }
                    *slot
                }
                None => self.raw(i),
            }
        }));
        extremes(out)
    }

    /// How a node's raw score can be memoised for an attempt over `candidates` nodes: with
    /// at most one hostname constraint and one other, it depends only on (the node's pod
    /// count, its domain of the other key). `None` when the terms have another shape or the
    /// pairs would outnumber four per candidate.
    pub fn slots(&self, candidates: usize) -> Option<SpreadSlots<'_>> {
        let host = self.terms.iter().position(|t| t.hostname);
        let other = self.terms.iter().position(|t| !t.hostname);
        let shape_ok = self.terms.len() == usize::from(host.is_some()) + usize::from(other.is_some());
        let zones = other.map_or(1, |o| self.terms[o].per_domain.len() + 1);
        let slots = if host.is_some() { HOST_CAP + 1 } else { 1 } * zones;
        if !shape_ok || slots > 4 * candidates.max(1) {
            return None;
        }
        let empty: &[u32] = &[];
        let (host_dom, host_live) =
            host.map_or((empty, empty), |h| (self.terms[h].domain_of_node, self.terms[h].host_live));
        Some(SpreadSlots {
            host_dom,
            host_live,
            zone_dom: other.map_or(empty, |o| self.terms[o].domain_of_node),
            has_host: host.is_some(),
            has_zone: other.is_some(),
            zones,
            ident: [
                host.map_or(u32::MAX, |h| self.terms[h].ident.0),
                host.map_or(u32::MAX, |h| self.terms[h].ident.1),
                other.map_or(u32::MAX, |o| self.terms[o].ident.1),
            ],
        })
    }
}

/// Pod counts from this one on are not memoised (the node's raw score is computed).
const HOST_CAP: usize = 128;

/// The memo of raw spread scores by (pod count, domain) ([`SpreadTerms::slots`]).
#[derive(Clone, Copy)]
pub struct SpreadSlots<'k> {
    host_dom: &'k [u32],
    host_live: &'k [u32],
    zone_dom: &'k [u32],
    has_host: bool,
    has_zone: bool,
    zones: usize,
    /// The hostname constraint's (set, key) and the other constraint's key (`u32::MAX`:
    /// none): two attempts with the same identity read the same per-node counts and
    /// domains, so a node's [`SpreadSlots::slot`] changes only with its pods.
    pub ident: [u32; 3],
}

impl SpreadSlots<'_> {
    /// Slots of the memo.
    pub fn memo_len(&self) -> usize {
        (if self.has_host { HOST_CAP + 1 } else { 1 }) * self.zones
    }

    /// Node `i`'s memo slot: its pair (its live pod count + 1, or 0 without the hostname
    /// key; its domain of the other key, the last slot for none or a domain past the
    /// attempt's last). `None` when the count is too large to memoise.
    #[inline(always)]
    pub fn slot(&self, i: usize) -> Option<usize> {
        let h = if self.has_host {
            let d = self.host_dom.get(i).copied().unwrap_or(NO_DOMAIN);
            if d == NO_DOMAIN {
                0
            } else {
                let c = self.host_live.get(d as usize).copied().unwrap_or(0) as usize;
                if c >= HOST_CAP {
                    return None;
                }
                c + 1
            }
        } else {
            0
        };
        let z = if self.has_zone {
            let d = self.zone_dom.get(i).copied().unwrap_or(NO_DOMAIN);
            if d == NO_DOMAIN { self.zones - 1 } else { (d as usize).min(self.zones - 1) }
        } else {
            0
        };
        Some(h * self.zones + z)
    }
}

impl SpreadTerm<'_> {
    /// `scoreForCount` (cnt × weight + (maxSkew − 1)) of node `i`'s domain; `0.0` when the
    /// node lacks the key (upstream Score skips the constraint).
    #[inline(always)]
    fn score(&self, i: usize) -> f64 {
        let d = self.domain_of_node.get(i).copied().unwrap_or(NO_DOMAIN);
        if d == NO_DOMAIN {
            0.0
        } else if self.hostname {
            self.host_live.get(d as usize).copied().unwrap_or(0) as f64 * self.weight + self.offset
        } else {
            self.per_domain[d as usize]
        }
    }
}

/// (min, max) of `v` ((`i64::MAX`, `i64::MIN`) when empty).
fn extremes(v: &[i64]) -> (i64, i64) {
    v.iter().fold((i64::MAX, i64::MIN), |(a, b), &x| (a.min(x), b.max(x)))
}

/// Go's `math.Round` (half away from zero) for a score, which is never negative: the
/// conversion truncates, and the remainder is exact below 2⁵² (scores are far smaller).
/// Same value as `f64::round`, without its library call on every node.
#[inline]
fn round_non_negative(x: f64) -> i64 {
    let t = x as i64;
    t + i64::from(x - t as f64 >= 0.5)
}

/// Upstream `matchNodeInclusionPolicies` (`podtopologyspread/common.go`).
fn includes(cluster: &ClusterState, r: &SpreadRule, placement: &Placement, node: usize) -> bool {
    let id = NodeId(node as u32);
    if r.honor_affinity
        && !placement.has_no_node_constraints()
        && !plugins::node_affinity::filter(cluster.node_labels(id), placement)
    {
        return false;
    }
    if r.honor_taints {
        if !plugins::taint_toleration::filter(cluster.node_taints(id), &placement.tolerations) {
            return false;
        }
        // The taints the node-lifecycle controller keeps in step with the node's state
        // (`TaintNodesByCondition`, `pkg/controller/nodelifecycle/node_lifecycle_controller.go`):
        // a NotReady node has `node.kubernetes.io/unreachable:NoSchedule`, a cordoned one
        // `node.kubernetes.io/unschedulable:NoSchedule`. With `nodeTaintsPolicy: Honor` a node
        // whose taint the pod does not tolerate is not a domain of the constraint.
        let n = cluster.node(id);
        let condition_taint = |key: &str| {
            let taint = crate::cluster::Taint {
                key: key.to_string(),
                value: String::new(),
                effect: crate::cluster::TaintEffect::NoSchedule,
            };
            crate::cluster::tolerated(&taint, &placement.tolerations)
        };
        if !n.ready && !condition_taint(crate::nodelifecycle::UNREACHABLE_TAINT_KEY) {
            return false;
        }
        if n.unschedulable && !condition_taint("node.kubernetes.io/unschedulable") {
            return false;
        }
    }
    true
}

/// Upstream PreFilter (`calPreFilterState`) for one DoNotSchedule constraint over the
/// eligible nodes: those that pass the inclusion policies and carry every hard key.
fn eligible_counts(
    cluster: &ClusterState,
    r: &SpreadRule,
    hard_keys: &[KeyId],
    placement: &Placement,
) -> Eligible {
    let ix = &cluster.topology;
    let key = &ix.keys[r.key.0 as usize];
    let mut count = vec![0i64; key.domains.len()];
    let mut seen = vec![false; key.domains.len()];
    for (id, nd) in cluster.nodes.iter().enumerate() {
        if nd.removed_at.is_some() || hard_keys.iter().any(|k| ix.domain(*k, id) == NO_DOMAIN) {
            continue;
        }
        if !includes(cluster, r, placement, id) {
            continue;
        }
        let d = ix.domain(r.key, id) as usize;
        seen[d] = true;
        count[d] += i64::from(ix.on_node(r.set, id).1);
    }
    let domains = seen.iter().filter(|&&s| s).count() as u32;
    let min = count.iter().zip(&seen).filter(|(_, s)| **s).map(|(c, _)| *c).min().unwrap_or(0);
    Eligible { count, min, domains }
}

/// The label a Deployment's pods get when its template has none (the scenario's
/// Deployments need not spell labels; upstream requires them, and its default topology
/// spreading is keyed on them).
pub const DEFAULT_APP_LABEL: &str = "app";

/// The labels of a Deployment's pods: the template's, or `app: <name>` when it has none.
pub fn deployment_labels(d: &crate::scenario::schema::DeploymentSpec) -> Labels {
    if d.template.labels.is_empty() {
        [(DEFAULT_APP_LABEL.to_string(), d.name.clone())].into_iter().collect()
    } else {
        d.template.labels.clone()
    }
}

/// The selector of a Deployment (its `selector`, or its pods' labels).
pub fn deployment_selector(d: &crate::scenario::schema::DeploymentSpec) -> LabelSelector {
    d.selector.clone().unwrap_or_else(|| LabelSelector::of(&deployment_labels(d)))
}

/// What [`build`] needs from a scenario: one source per template, in the order the
/// simulation creates templates (each Deployment's, then each churn generator's templates),
/// and the plugins' configuration.
pub fn from_scenario(s: &crate::scenario::Scenario) -> (Vec<TemplateSource>, Config) {
    let source = |t: &crate::scenario::schema::PodTemplateSpec,
                  namespace: &str,
                  labels: Labels,
                  owner_selector: Option<LabelSelector>| TemplateSource {
        namespace: namespace.to_string(),
        labels,
        constraints: t.topology_spread_constraints.clone(),
        pod_affinity: t.affinity.pod_affinity.clone(),
        pod_anti_affinity: t.affinity.pod_anti_affinity.clone(),
        owner_selector,
    };
    let mut sources = Vec::new();
    for d in &s.deployments {
        sources.push(source(&d.template, &d.namespace, deployment_labels(d), Some(deployment_selector(d))));
    }
    for c in &s.churn {
        for w in &c.templates {
            sources.push(source(&w.template, &c.namespace, w.template.labels.clone(), None));
        }
    }
    // DaemonSet pods get no system default constraints: upstream's `DefaultSelector` looks
    // at Services, ReplicationControllers, ReplicaSets and StatefulSets only.
    for d in &s.daemon_sets {
        sources.push(source(&d.template, &d.namespace, d.template.labels.clone(), None));
    }
    for p in &s.initial_pods {
        sources.push(source(&p.template, &p.namespace, p.template.labels.clone(), None));
    }
    // Pod traces: one template per shape, with the row's labels over the template's.
    for (i, t) in s.pod_traces.iter().enumerate() {
        let Some(index) = s.inputs.pod_trace(s, i) else { continue };
        for shape in &index.shapes {
            let mut labels = t.template.labels.clone();
            labels.extend(shape.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
            sources.push(source(&t.template, "default", labels, None));
        }
    }
    let sc = &s.scheduler;
    let cfg = Config {
        defaulting: sc.pod_topology_spread.defaulting(),
        hard_pod_affinity_weight: i64::from(sc.inter_pod_affinity.hard_pod_affinity_weight),
        ignore_preferred_terms_of_existing_pods: sc
            .inter_pod_affinity
            .ignore_preferred_terms_of_existing_pods,
        namespaces: s.namespaces.iter().map(|n| (n.name.clone(), n.labels.clone())).collect(),
    };
    (sources, cfg)
}

// =============================================================================================
// The cluster autoscaler's simulations: the same two filters on a simulated snapshot.
// =============================================================================================

/// A node of the cluster autoscaler's simulated snapshot ([`Overlay`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SimNode {
    /// A live node of the cluster.
    Real(NodeId),
    /// The overlay's `i`-th virtual node (a node group's template node, upcoming or being
    /// estimated).
    Virtual(u32),
}

/// A virtual node: its labels and taints, and its domain under each key of the index.
#[derive(Clone, Debug)]
struct VirtualNode {
    labels: Labels,
    taints: Vec<crate::cluster::Taint>,
    /// Per key (by `KeyId`): an index domain, a new one (numbered from the key's
    /// `domains.len()`), or [`NO_DOMAIN`].
    domains: Vec<u32>,
}

/// The cluster autoscaler's simulated snapshot (`cluster-autoscaler/simulator/clustersnapshot`)
/// as PodTopologySpread and InterPodAffinity see it: the cluster's [`TopologyIndex`] plus
/// changes kept beside it, so the index is never touched and a fork is a clone.
///
/// - **Virtual nodes** ([`Overlay::add_node`]): nodes built from a node group's template
///   (`FreshNodeInfoFromTemplateNodeInfo`). Each is its own `kubernetes.io/hostname` domain;
///   under another key it joins the domain of its label's value (a new domain when no node of
///   the cluster has that value), or none when it lacks the label.
/// - **Pods added** to a real or virtual node ([`Overlay::add_pod`]: the estimator's
///   placements, `FilterOutSchedulable`'s, a scale-down simulation's moves), counted like
///   Running pods.
/// - **Pods taken off** a real node ([`Overlay::remove_pod`]: the pods of a node whose
///   removal is simulated, `simulator/cluster.go` `findPlaceFor` `UnschedulePod`). The node
///   itself stays, so its domains keep counting (upstream keeps it in the snapshot, as a
///   tainted ghost node during the simulation).
///
/// Counts are kept as sparse changes per (set, key, domain) and per (set, node); the minimum
/// over the domains combines the index's exact minimum with the changed domains
/// ([`OverlayCycle`]).
#[derive(Clone, Debug, Default)]
pub struct Overlay {
    nodes: Vec<VirtualNode>,
    /// Per key: the label values of virtual nodes that no node of the cluster has (domain
    /// `key.domains.len() + i`).
    new_values: Vec<Vec<String>>,
    /// (key, domain) → virtual nodes in the domain.
    node_count: BTreeMap<(KeyId, u32), u32>,
    /// (set, key, domain) → change of the (all, live) counts.
    domain_delta: BTreeMap<(SetId, KeyId, u32), (i64, i64)>,
    /// (set, key) → change of `total_all`.
    total_delta: BTreeMap<(SetId, KeyId), i64>,
    /// (set, node) → change of the (all, live) counts on the node.
    node_delta: BTreeMap<(SetId, SimNode), (i64, i64)>,
}

impl Overlay {
    /// Adds a virtual node with `labels` and `taints` (the cluster's index has every key it
    /// will ever have: keys are registered by [`build`]).
    pub fn add_node(
        &mut self,
        cluster: &ClusterState,
        labels: &Labels,
        taints: &[crate::cluster::Taint],
    ) -> SimNode {
        let ix = &cluster.topology;
        let i = self.nodes.len() as u32;
        if self.new_values.len() < ix.keys.len() {
            self.new_values.resize(ix.keys.len(), Vec::new());
        }
        let mut domains = Vec::with_capacity(ix.keys.len());
        for (k, key) in ix.keys.iter().enumerate() {
            let d = if key.hostname {
                key.domains.len() as u32 + i
            } else if let Some(v) = labels.get(&key.name) {
                match key.domains.iter().position(|x| x == v) {
                    Some(d) => d as u32,
                    None => {
                        let values = &mut self.new_values[k];
                        let j = match values.iter().position(|x| x == v) {
                            Some(j) => j,
                            None => {
                                values.push(v.clone());
                                values.len() - 1
                            }
                        };
                        (key.domains.len() + j) as u32
                    }
                }
            } else {
                NO_DOMAIN
            };
            if d != NO_DOMAIN {
                *self.node_count.entry((KeyId(k as u32), d)).or_insert(0) += 1;
            }
            domains.push(d);
        }
        self.nodes.push(VirtualNode { labels: labels.clone(), taints: taints.to_vec(), domains });
        SimNode::Virtual(i)
    }

    /// Number of virtual nodes.
    pub fn virtual_nodes(&self) -> usize {
        self.nodes.len()
    }

    /// A pod of `template` placed on `node` (counted like a Running pod).
    pub fn add_pod(&mut self, cluster: &ClusterState, template: TemplateId, node: SimNode) {
        self.change(cluster, template, node, 1, 1);
    }

    /// A pod of `template` taken off real node `node` (`terminating`: it was Terminating, so
    /// only its `all` counts change).
    pub fn remove_pod(
        &mut self,
        cluster: &ClusterState,
        template: TemplateId,
        node: NodeId,
        terminating: bool,
    ) {
        self.change(cluster, template, SimNode::Real(node), -1, if terminating { 0 } else { -1 });
    }

    fn change(&mut self, cluster: &ClusterState, template: TemplateId, node: SimNode, all: i64, live: i64) {
        let ix = &cluster.topology;
        for si in 0..ix.sets.len() {
            let set = SetId(si as u32);
            if !ix.is_member(set, template.index()) {
                continue;
            }
            let e = self.node_delta.entry((set, node)).or_insert((0, 0));
            e.0 += all;
            e.1 += live;
            for (key, _) in &ix.sets[si].by_key {
                let d = self.domain(ix, *key, node);
                if d == NO_DOMAIN {
                    continue;
                }
                let e = self.domain_delta.entry((set, *key, d)).or_insert((0, 0));
                e.0 += all;
                e.1 += live;
                *self.total_delta.entry((set, *key)).or_insert(0) += all;
            }
        }
    }

    /// `node`'s domain under `key` ([`NO_DOMAIN`] when it lacks the label).
    fn domain(&self, ix: &TopologyIndex, key: KeyId, node: SimNode) -> u32 {
        match node {
            SimNode::Real(n) => ix.domain(key, n.index()),
            SimNode::Virtual(i) => self
                .nodes
                .get(i as usize)
                .and_then(|v| v.domains.get(key.0 as usize).copied())
                .unwrap_or(NO_DOMAIN),
        }
    }

    fn delta(&self, set: SetId, key: KeyId, d: u32) -> (i64, i64) {
        self.domain_delta.get(&(set, key, d)).copied().unwrap_or((0, 0))
    }

    /// Pods of `set` (Terminating included) in domain `d` of `key`.
    fn all_in(&self, ix: &TopologyIndex, set: SetId, key: KeyId, d: u32) -> i64 {
        i64::from(ix.counts(set, key).all_in(d)) + self.delta(set, key, d).0
    }

    /// Pods of `set` (not Terminating) in domain `d` of `key`.
    fn live_in(&self, ix: &TopologyIndex, set: SetId, key: KeyId, d: u32) -> i64 {
        i64::from(ix.counts(set, key).live_in(d)) + self.delta(set, key, d).1
    }

    /// Pods of `set` on nodes that carry `key`.
    fn total_all(&self, ix: &TopologyIndex, set: SetId, key: KeyId) -> i64 {
        ix.counts(set, key).total_all as i64 + self.total_delta.get(&(set, key)).copied().unwrap_or(0)
    }

    /// Whether domain `d` of `key` has a live node of the cluster.
    fn has_cluster_nodes(ix: &TopologyIndex, key: KeyId, d: u32) -> bool {
        ix.keys[key.0 as usize].nodes_in_domain.get(d as usize).is_some_and(|&n| n > 0)
    }

    /// Whether some node (of the cluster, or virtual) lacks `key`.
    fn missing(&self, ix: &TopologyIndex, key: KeyId) -> bool {
        ix.keys[key.0 as usize].nodes_missing > 0
            || self.nodes.iter().any(|v| v.domains.get(key.0 as usize).is_none_or(|&d| d == NO_DOMAIN))
    }

    /// Domains of `key` with a node, and the smallest live count of `set` over them
    /// (0 when there is none), over every node: the index's exact minimum over the domains
    /// the overlay leaves alone, combined with the domains it changes (pods, virtual nodes).
    fn min_live(&self, ix: &TopologyIndex, set: SetId, key: KeyId) -> (i64, u32) {
        let k = &ix.keys[key.0 as usize];
        let c = ix.counts(set, key);
        // The domains the overlay changes: a live count of `set`, or virtual nodes.
        let mut changed: Vec<u32> = self
            .domain_delta
            .range((set, key, 0)..=(set, key, u32::MAX))
            .filter(|(_, v)| v.1 != 0)
            .map(|((_, _, d), _)| *d)
            .collect();
        changed.extend(self.node_count.range((key, 0)..=(key, u32::MAX)).map(|((_, d), _)| *d));
        changed.sort_unstable();
        changed.dedup();
        let mut min = i64::MAX;
        let mut domains = k.live_domains;
        let mut base_min_hit = false;
        let base_min = i64::from(c.min_live(k));
        for &d in &changed {
            let cluster_nodes = Self::has_cluster_nodes(ix, key, d);
            if !cluster_nodes {
                if !self.node_count.contains_key(&(key, d)) {
                    continue; // no node at all
                }
                domains += 1;
            } else if i64::from(c.live_in(d)) == base_min {
                base_min_hit = true;
            }
            min = min.min(self.live_in(ix, set, key, d));
        }
        // The unchanged domains with nodes of the cluster: their minimum is the index's
        // unless a changed domain was (one of) those at it; then they are scanned.
        if k.live_domains > 0 {
            if !base_min_hit {
                min = min.min(base_min);
            } else {
                for d in 0..k.domains.len() as u32 {
                    if min <= base_min {
                        break;
                    }
                    if Self::has_cluster_nodes(ix, key, d) && changed.binary_search(&d).is_err() {
                        min = min.min(i64::from(c.live_in(d)));
                    }
                }
            }
        }
        (if min == i64::MAX { 0 } else { min }, domains)
    }
}

/// The counts one DoNotSchedule constraint's Filter reads in an [`OverlayCycle`].
#[derive(Clone, Debug)]
enum OverlaySpread {
    /// Over every node: the minimum and the number of domains (the counts are read per
    /// domain from the index and the overlay).
    All { min: i64, domains: u32 },
    /// Over the eligible nodes only (upstream PreFilter), recounted.
    Eligible(Eligible),
}

/// [`Cycle`]'s Filter on the cluster autoscaler's simulated snapshot (the cluster plus an
/// [`Overlay`]): PreFilter for the pod of one template when made, then
/// [`OverlayCycle::filter`] for any real or virtual node. Same semantics as [`Cycle::filter`]
/// on a cluster that really had the overlay's nodes and pods (`tests/autoscaler_topology.rs`
/// checks exactly that); the overlay must not change while the cycle lives (upstream runs
/// PreFilter again for every pod).
pub struct OverlayCycle<'a> {
    cluster: &'a ClusterState,
    overlay: &'a Overlay,
    rules: &'a TemplateRules,
    /// Per spread rule: `Some` for a DoNotSchedule one.
    spread: Vec<Option<OverlaySpread>>,
    /// Every required affinity term has no matching pod anywhere.
    no_affinity_pods: bool,
}

impl<'a> OverlayCycle<'a> {
    /// PreFilter for the pod of `template` (with `rules`) on the cluster plus `overlay`.
    pub fn new(
        cluster: &'a ClusterState,
        template: TemplateId,
        rules: &'a TemplateRules,
        overlay: &'a Overlay,
    ) -> OverlayCycle<'a> {
        let placement = &cluster.template(template).placement;
        let ix = &cluster.topology;
        let hard_keys: Vec<KeyId> = rules.spread.iter().filter(|r| r.hard).map(|r| r.key).collect();
        let all_keys = hard_keys.iter().all(|&k| !overlay.missing(ix, k));
        let has_node_constraints = !placement.has_no_node_constraints();
        let spread = rules
            .spread
            .iter()
            .map(|r| {
                if !r.hard {
                    return None;
                }
                let narrowed = (r.honor_affinity && has_node_constraints) || r.honor_taints || !all_keys;
                Some(if narrowed {
                    OverlaySpread::Eligible(overlay_eligible_counts(
                        cluster, overlay, r, &hard_keys, placement,
                    ))
                } else {
                    let (min, domains) = overlay.min_live(ix, r.set, r.key);
                    OverlaySpread::All { min, domains }
                })
            })
            .collect();
        let no_affinity_pods = rules.affinity.iter().all(|t| overlay.total_all(ix, t.set, t.key) <= 0);
        OverlayCycle { cluster, overlay, rules, spread, no_affinity_pods }
    }

    /// PreFilter for a pod of `template` when its rules can reject a node; `None` when they
    /// cannot (every node passes both filters).
    pub fn for_template(
        cluster: &'a ClusterState,
        template: TemplateId,
        overlay: &'a Overlay,
    ) -> Option<OverlayCycle<'a>> {
        let rules = cluster.topology_rules.get(template.index()).filter(|r| r.has_filters())?;
        Some(OverlayCycle::new(cluster, template, rules, overlay))
    }

    /// Filter: PodTopologySpread then InterPodAffinity on `node`, the first failure.
    pub fn filter(&self, node: SimNode) -> Result<(), Rejection> {
        let ix = &self.cluster.topology;
        let ov = self.overlay;
        // PodTopologySpread (`filtering.go` Filter).
        for (r, st) in self.rules.spread.iter().zip(&self.spread) {
            let Some(st) = st else { continue };
            let d = ov.domain(ix, r.key, node);
            if d == NO_DOMAIN {
                return Err(Rejection::SpreadNodeLabel);
            }
            let (matched, mut min, domains) = match st {
                OverlaySpread::All { min, domains } => (ov.live_in(ix, r.set, r.key, d), *min, *domains),
                OverlaySpread::Eligible(e) => {
                    (e.count.get(d as usize).copied().unwrap_or(0), e.min, e.domains)
                }
            };
            if domains < r.min_domains {
                min = 0;
            }
            if matched + i64::from(r.self_match) - min > r.max_skew {
                return Err(Rejection::SpreadSkew);
            }
        }
        // InterPodAffinity (`filtering.go` Filter: affinity, anti-affinity, existing pods').
        if !self.rules.affinity.is_empty() {
            let mut pods_exist = true;
            for t in &self.rules.affinity {
                let d = ov.domain(ix, t.key, node);
                if d == NO_DOMAIN {
                    return Err(Rejection::Affinity);
                }
                if ov.all_in(ix, t.set, t.key, d) <= 0 {
                    pods_exist = false;
                }
            }
            // The pod may be the first of a group that wants to be together.
            let first_of_group = self.no_affinity_pods && self.rules.matches_own_affinity;
            if !(pods_exist || first_of_group) {
                return Err(Rejection::Affinity);
            }
        }
        for t in &self.rules.anti_affinity {
            let d = ov.domain(ix, t.key, node);
            if d != NO_DOMAIN && ov.all_in(ix, t.set, t.key, d) > 0 {
                return Err(Rejection::AntiAffinity);
            }
        }
        for t in &self.rules.existing_anti_affinity {
            let d = ov.domain(ix, t.key, node);
            if d != NO_DOMAIN && ov.all_in(ix, t.set, t.key, d) > 0 {
                return Err(Rejection::ExistingAntiAffinity);
            }
        }
        Ok(())
    }
}

/// Upstream `matchNodeInclusionPolicies` for a virtual node.
fn includes_virtual(r: &SpreadRule, placement: &Placement, v: &VirtualNode) -> bool {
    if r.honor_affinity
        && !placement.has_no_node_constraints()
        && !plugins::node_affinity::filter(&v.labels, placement)
    {
        return false;
    }
    !r.honor_taints || plugins::taint_toleration::filter(&v.taints, &placement.tolerations)
}

/// [`eligible_counts`] on the cluster plus `overlay`: the live nodes of the cluster and the
/// virtual nodes that carry every hard key and pass the inclusion policies, with the
/// overlay's pods.
fn overlay_eligible_counts(
    cluster: &ClusterState,
    overlay: &Overlay,
    r: &SpreadRule,
    hard_keys: &[KeyId],
    placement: &Placement,
) -> Eligible {
    let ix = &cluster.topology;
    let key = &ix.keys[r.key.0 as usize];
    let extra = if key.hostname {
        overlay.nodes.len()
    } else {
        overlay.new_values.get(r.key.0 as usize).map_or(0, Vec::len)
    };
    let n = key.domains.len() + extra;
    let mut count = vec![0i64; n];
    let mut seen = vec![false; n];
    let mut eligible = vec![false; cluster.nodes.len()];
    for (id, nd) in cluster.nodes.iter().enumerate() {
        if nd.removed_at.is_some() || hard_keys.iter().any(|k| ix.domain(*k, id) == NO_DOMAIN) {
            continue;
        }
        if !includes(cluster, r, placement, id) {
            continue;
        }
        eligible[id] = true;
        let d = ix.domain(r.key, id) as usize;
        seen[d] = true;
        count[d] += i64::from(ix.on_node(r.set, id).1);
    }
    for (i, v) in overlay.nodes.iter().enumerate() {
        let dom = |k: KeyId| v.domains.get(k.0 as usize).copied().unwrap_or(NO_DOMAIN);
        if hard_keys.iter().any(|&k| dom(k) == NO_DOMAIN) || !includes_virtual(r, placement, v) {
            continue;
        }
        let d = dom(r.key) as usize;
        seen[d] = true;
        count[d] += overlay.node_delta.get(&(r.set, SimNode::Virtual(i as u32))).map_or(0, |e| e.1);
    }
    // The overlay's pods on eligible nodes of the cluster.
    for (&(set, node), &(_, live)) in overlay.node_delta.range((r.set, SimNode::Real(NodeId(0)))..) {
        let SimNode::Real(id) = node else { break };
        if set != r.set {
            break;
        }
        if eligible.get(id.index()).copied().unwrap_or(false) {
            count[ix.domain(r.key, id.index()) as usize] += live;
        }
    }
    let domains = seen.iter().filter(|&&s| s).count() as u32;
    let min = count.iter().zip(&seen).filter(|(_, s)| **s).map(|(c, _)| *c).min().unwrap_or(0);
    Eligible { count, min, domains }
}
