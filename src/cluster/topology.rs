//! Pods counted by topology domain, kept up to date with every placement, termination and
//! removal: what PodTopologySpread and InterPodAffinity read, upstream's PreFilter state
//! (`podtopologyspread/filtering.go` `calPreFilterState`, `interpodaffinity/filtering.go`
//! `getExistingAntiAffinityCounts` / `getIncomingAffinityAntiAffinityCounts`) kept
//! incrementally instead of recounted by scanning every node's pods for every pod.
//!
//! - A **topology key** ([`KeyId`]) is a node label such as `topology.kubernetes.io/zone`;
//!   its values are the domains, numbered densely per key. `kubernetes.io/hostname` is the
//!   node itself (one domain per node), since the simulator's nodes carry no hostname label.
//! - A **pod set** ([`SetId`]) is the set of templates whose pods a selector selects (a
//!   spread constraint's selector in a namespace, an affinity term, or "the pods of template
//!   T"): pods share templates, so membership is decided once per template when the rules
//!   are built (`scheduler::topology`), never per pod.
//! - For each pod set the index keeps, per node, how many of its pods hold the node (`all`:
//!   Bound, Running or Terminating, what InterPodAffinity counts) and how many of those are
//!   not Terminating (`live`, what PodTopologySpread counts: upstream skips pods with a
//!   deletion timestamp); and for each (set, key) pair a rule uses, the same per domain, with
//!   a histogram of the live counts of the domains that have nodes, so the global minimum is
//!   read without a scan.
//!
//! Invariant (checked by [`TopologyIndex::check`], called from `check_invariants`): every
//! count equals the count over the pods holding nodes, recomputed from scratch.

use super::selectors::Labels;
use std::collections::BTreeMap;

/// A topology key (a node label) of the index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub u32);

/// A set of templates whose pods are counted together.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SetId(pub u32);

/// A node that lacks the key's label.
pub const NO_DOMAIN: u32 = u32::MAX;

/// One topology key: each node's domain.
#[derive(Clone, Debug, Default)]
pub struct TopologyKey {
    pub name: String,
    /// The key is `kubernetes.io/hostname`: a node's domain is its id.
    pub hostname: bool,
    /// Per node: its domain, or [`NO_DOMAIN`].
    pub domain_of_node: Vec<u32>,
    /// Domain names (label values; for the hostname key, empty: the node's name).
    pub domains: Vec<String>,
    /// Per domain: how many live (not removed) nodes it has.
    pub nodes_in_domain: Vec<u32>,
    /// Domains with at least one live node.
    pub live_domains: u32,
    /// Live nodes without the label.
    pub nodes_missing: u32,
    /// Per domain (not for the hostname key): one bit per node, set for its live nodes, so
    /// the scheduler can jump over a domain a spread constraint rules out.
    pub domain_bits: Vec<Vec<u64>>,
}

/// The counts of one pod set for one key.
#[derive(Clone, Debug, Default)]
pub struct DomainCounts {
    /// Per domain: pods of the set holding a node of the domain (Terminating included).
    pub all: Vec<u32>,
    /// The same without Terminating pods.
    pub live: Vec<u32>,
    /// Σ `all` (pods of the set on nodes that have the key).
    pub total_all: u64,
    /// Live count → how many domains with nodes have it, for counts above zero (the domains
    /// at zero are `live_domains` minus the sum).
    hist: BTreeMap<u32, u32>,
    /// Domains with nodes and a live count above zero.
    nonzero_domains: u32,
}

impl DomainCounts {
    /// Pods of the set (Terminating included) in domain `d`.
    #[inline]
    pub fn all_in(&self, d: u32) -> u32 {
        self.all.get(d as usize).copied().unwrap_or(0)
    }

    /// Pods of the set (not Terminating) in domain `d`.
    #[inline]
    pub fn live_in(&self, d: u32) -> u32 {
        self.live.get(d as usize).copied().unwrap_or(0)
    }

    /// The smallest live count over the domains that have nodes (0 when there is none).
    pub fn min_live(&self, key: &TopologyKey) -> u32 {
        if self.nonzero_domains < key.live_domains {
            return 0;
        }
        self.hist.keys().next().copied().unwrap_or(0)
    }

    fn hist_add(&mut self, count: u32, delta: i32) {
        if count == 0 {
            return;
        }
        let e = self.hist.entry(count).or_insert(0);
        if delta > 0 {
            *e += 1;
        } else {
            *e -= 1;
            if *e == 0 {
                self.hist.remove(&count);
            }
        }
    }

    /// Moves domain `d` (with nodes: `has_nodes`) from live count `from` to `to`.
    fn move_live(&mut self, from: u32, to: u32, has_nodes: bool) {
        if !has_nodes {
            return;
        }
        self.hist_add(from, -1);
        self.hist_add(to, 1);
        if from == 0 && to > 0 {
            self.nonzero_domains += 1;
        } else if from > 0 && to == 0 {
            self.nonzero_domains -= 1;
        }
    }

    fn ensure(&mut self, d: u32) {
        let need = d as usize + 1;
        if self.all.len() < need {
            self.all.resize(need, 0);
            self.live.resize(need, 0);
        }
    }
}

/// One pod set.
#[derive(Clone, Debug, Default)]
pub struct PodSet {
    /// Per template: whether its pods belong to the set.
    pub members: Vec<bool>,
    /// The keys this set is counted under, with their counts.
    pub by_key: Vec<(KeyId, DomainCounts)>,
    /// When the set is counted per node (under `kubernetes.io/hostname`): one bit per node,
    /// set while some pod of the set holds the node, so the scheduler can jump over the
    /// nodes a hostname anti-affinity rules out (see [`TopologyIndex::next_free_node`]).
    pub occupied: Option<Vec<u64>>,
}

/// One spread constraint of a template, resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpreadRule {
    pub set: SetId,
    pub key: KeyId,
    pub max_skew: i64,
    /// `minDomains` (1 when unset).
    pub min_domains: u32,
    /// DoNotSchedule (filter) or ScheduleAnyway (score).
    pub hard: bool,
    /// `nodeAffinityPolicy: Honor` (it narrows the counted nodes only for a pod with a node
    /// selector or required node affinity).
    pub honor_affinity: bool,
    /// `nodeTaintsPolicy: Honor`.
    pub honor_taints: bool,
    /// The constraint's selector matches the pod itself (upstream adds 1 in Filter).
    pub self_match: bool,
}

/// One affinity term (or a set of existing pods with a term), resolved: the pods it counts,
/// its key, and for score terms the signed weight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TermRule {
    pub set: SetId,
    pub key: KeyId,
    pub weight: i64,
}

/// Everything PodTopologySpread and InterPodAffinity need about one template's pods.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TemplateRules {
    /// Effective spread constraints (own, or the defaults), in order.
    pub spread: Vec<SpreadRule>,
    /// The constraints are the pod's own or a configured list (upstream
    /// `requireAllTopologies`: scored nodes must carry every key), not the system defaults.
    pub require_all_topologies: bool,
    /// Required pod affinity terms.
    pub affinity: Vec<TermRule>,
    /// The pod matches every one of its required affinity terms (it may be the first of a
    /// group that wants to be together).
    pub matches_own_affinity: bool,
    /// Required pod anti-affinity terms.
    pub anti_affinity: Vec<TermRule>,
    /// Templates whose required anti-affinity terms select this template's pods: the set is
    /// that template's pods (symmetry).
    pub existing_anti_affinity: Vec<TermRule>,
    /// Score terms: the pod's preferred affinity (+weight) and anti-affinity (−weight), the
    /// existing pods' preferred terms and required affinity (× `hardPodAffinityWeight`) that
    /// select it.
    pub affinity_score: Vec<TermRule>,
}

impl TemplateRules {
    /// Whether the two plugins' filters can reject a node for this template.
    pub fn has_filters(&self) -> bool {
        self.spread.iter().any(|r| r.hard)
            || !self.affinity.is_empty()
            || !self.anti_affinity.is_empty()
            || !self.existing_anti_affinity.is_empty()
    }

    /// Whether the two plugins score for this template.
    pub fn has_scores(&self) -> bool {
        self.spread.iter().any(|r| !r.hard) || !self.affinity_score.is_empty()
    }
}

/// The index (see the module documentation).
#[derive(Clone, Debug, Default)]
pub struct TopologyIndex {
    pub keys: Vec<TopologyKey>,
    pub sets: Vec<PodSet>,
    /// Per template: the sets its pods belong to.
    template_sets: Vec<Vec<SetId>>,
    /// Per node: (set, all, live) for every set with pods on the node, sorted by set.
    node_sets: Vec<Vec<(SetId, u32, u32)>>,
}

impl TopologyIndex {
    /// Whether any set is tracked (else every update is a no-op).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.sets.is_empty()
    }

    /// The key named `name`, registered on first use with every existing node's domain.
    /// `nodes` gives, per node, its labels and whether it is live.
    pub fn key(&mut self, name: &str, nodes: &[(&Labels, bool)]) -> KeyId {
        if let Some(i) = self.keys.iter().position(|k| k.name == name) {
            return KeyId(i as u32);
        }
        let mut k = TopologyKey {
            name: name.to_string(),
            hostname: name == super::spread::HOSTNAME_LABEL,
            ..TopologyKey::default()
        };
        for (labels, live) in nodes {
            Self::place_node(&mut k, labels, *live);
        }
        self.keys.push(k);
        KeyId((self.keys.len() - 1) as u32)
    }

    fn place_node(k: &mut TopologyKey, labels: &Labels, live: bool) {
        let node = k.domain_of_node.len();
        let d = if k.hostname {
            k.domains.push(String::new());
            k.nodes_in_domain.push(0);
            node as u32
        } else if let Some(v) = labels.get(&k.name) {
            match k.domains.iter().position(|x| x == v) {
                Some(d) => d as u32,
                None => {
                    k.domains.push(v.clone());
                    k.nodes_in_domain.push(0);
                    k.domain_bits.push(Vec::new());
                    (k.domains.len() - 1) as u32
                }
            }
        } else {
            NO_DOMAIN
        };
        k.domain_of_node.push(d);
        if !k.hostname {
            let words = (node + 1).div_ceil(64);
            for b in &mut k.domain_bits {
                b.resize(words, 0);
            }
            if live && d != NO_DOMAIN {
                k.domain_bits[d as usize][node / 64] |= 1 << (node % 64);
            }
        }
        if !live {
            return;
        }
        if d == NO_DOMAIN {
            k.nodes_missing += 1;
        } else {
            k.nodes_in_domain[d as usize] += 1;
            if k.nodes_in_domain[d as usize] == 1 {
                k.live_domains += 1;
            }
        }
    }

    /// The set of exactly the templates marked in `members`, registered on first use
    /// (`templates` is the number of templates).
    pub fn set(&mut self, members: Vec<bool>) -> SetId {
        if let Some(i) = self.sets.iter().position(|s| s.members == members) {
            return SetId(i as u32);
        }
        if self.template_sets.len() < members.len() {
            self.template_sets.resize(members.len(), Vec::new());
        }
        let id = SetId(self.sets.len() as u32);
        for (t, &m) in members.iter().enumerate() {
            if m {
                self.template_sets[t].push(id);
            }
        }
        self.sets.push(PodSet { members, by_key: Vec::new(), occupied: None });
        id
    }

    /// Counts `set` under `key` from now on. Must be called before any pod is placed.
    pub fn track(&mut self, set: SetId, key: KeyId) {
        let nodes = self.node_sets.len();
        let s = &mut self.sets[set.0 as usize];
        if !s.by_key.iter().any(|(k, _)| *k == key) {
            s.by_key.push((key, DomainCounts::default()));
        }
        if self.keys[key.0 as usize].hostname && s.occupied.is_none() {
            s.occupied = Some(vec![0; nodes.div_ceil(64)]);
        }
    }

    /// The occupancy bits of `set` (one per node: some pod of the set holds it), if the set
    /// is counted per node.
    #[inline]
    pub fn occupied(&self, set: SetId) -> Option<&[u64]> {
        self.sets[set.0 as usize].occupied.as_deref()
    }

    /// The first node in `from..to` that no set of `sets` occupies (every bitset given by
    /// [`Self::occupied`]), or `None`.
    pub fn next_free_node(sets: &[&[u64]], from: usize, to: usize) -> Option<usize> {
        let mut i = from;
        while i < to {
            let w = i / 64;
            let mut word: u64 = 0;
            for b in sets {
                word |= b.get(w).copied().unwrap_or(0);
            }
            // Free nodes from bit i % 64 on.
            let free = !word & (u64::MAX << (i % 64));
            if free != 0 {
                let j = w * 64 + free.trailing_zeros() as usize;
                return (j < to).then_some(j);
            }
            i = (w + 1) * 64;
        }
        None
    }

    /// The counts of `set` under `key` (registered with [`Self::track`]).
    #[inline]
    pub fn counts(&self, set: SetId, key: KeyId) -> &DomainCounts {
        static EMPTY: std::sync::OnceLock<DomainCounts> = std::sync::OnceLock::new();
        self.sets[set.0 as usize]
            .by_key
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, c)| c)
            .unwrap_or_else(|| EMPTY.get_or_init(DomainCounts::default))
    }

    /// Node `node`'s domain under `key` ([`NO_DOMAIN`] when it lacks the label).
    #[inline]
    pub fn domain(&self, key: KeyId, node: usize) -> u32 {
        self.keys[key.0 as usize].domain_of_node.get(node).copied().unwrap_or(NO_DOMAIN)
    }

    /// (all, live) pods of `set` on `node`.
    #[inline]
    pub fn on_node(&self, set: SetId, node: usize) -> (u32, u32) {
        let v = &self.node_sets[node];
        match v.binary_search_by_key(&set, |e| e.0) {
            Ok(i) => (v[i].1, v[i].2),
            Err(_) => (0, 0),
        }
    }

    /// Whether template `t`'s pods belong to `set`.
    #[inline]
    pub fn is_member(&self, set: SetId, t: usize) -> bool {
        self.sets[set.0 as usize].members.get(t).copied().unwrap_or(false)
    }

    /// A node was added (live) with `labels`.
    pub fn add_node(&mut self, labels: &Labels) {
        for k in &mut self.keys {
            Self::place_node(k, labels, true);
        }
        // A new domain joins the minimum at live count 0 (through `live_domains`).
        self.node_sets.push(Vec::new());
        let words = self.node_sets.len().div_ceil(64);
        for s in &mut self.sets {
            if let Some(b) = &mut s.occupied {
                b.resize(words, 0);
            }
        }
    }

    /// Makes room for `n` nodes that were added before any key was registered.
    pub fn ensure_nodes(&mut self, n: usize) {
        if self.node_sets.len() < n {
            self.node_sets.resize(n, Vec::new());
        }
    }

    /// Node `node` was removed from the cluster (it holds no pod).
    pub fn remove_node(&mut self, node: usize) {
        for (ki, k) in self.keys.iter_mut().enumerate() {
            let d = k.domain_of_node[node];
            if d == NO_DOMAIN {
                k.nodes_missing -= 1;
                continue;
            }
            k.nodes_in_domain[d as usize] -= 1;
            if let Some(b) = k.domain_bits.get_mut(d as usize) {
                b[node / 64] &= !(1u64 << (node % 64));
            }
            if k.nodes_in_domain[d as usize] == 0 {
                k.live_domains -= 1;
                // The domain leaves the minimum: its live count (zero for an empty node)
                // leaves the histogram.
                for s in &mut self.sets {
                    for (key, c) in &mut s.by_key {
                        if key.0 as usize == ki {
                            let live = c.live_in(d);
                            if live > 0 {
                                c.hist_add(live, -1);
                                c.nonzero_domains -= 1;
                            }
                        }
                    }
                }
            }
        }
    }

    /// A pod of template `t` started to hold `node` (`delta` +1), stopped (−1); `live` says
    /// whether the live count changes too (not for a pod that was Terminating).
    pub fn pod_moved(&mut self, t: usize, node: usize, delta: i32, live: bool) {
        let Some(sets) = self.template_sets.get(t) else { return };
        for &set in sets {
            // Per node.
            let v = &mut self.node_sets[node];
            let i = match v.binary_search_by_key(&set, |e| e.0) {
                Ok(i) => i,
                Err(i) => {
                    v.insert(i, (set, 0, 0));
                    i
                }
            };
            v[i].1 = v[i].1.wrapping_add_signed(delta);
            if live {
                v[i].2 = v[i].2.wrapping_add_signed(delta);
            }
            let occupied = v[i].1 > 0;
            if v[i].1 == 0 && v[i].2 == 0 {
                v.remove(i);
            }
            if let Some(b) = &mut self.sets[set.0 as usize].occupied {
                let (w, bit) = (node / 64, 1u64 << (node % 64));
                if occupied { b[w] |= bit } else { b[w] &= !bit }
            }
            // Per domain of each key the set is counted under.
            for (key, c) in &mut self.sets[set.0 as usize].by_key {
                let k = &self.keys[key.0 as usize];
                let d = k.domain_of_node[node];
                if d == NO_DOMAIN {
                    continue;
                }
                c.ensure(d);
                let di = d as usize;
                c.all[di] = c.all[di].wrapping_add_signed(delta);
                c.total_all = c.total_all.wrapping_add_signed(i64::from(delta));
                if live {
                    let from = c.live[di];
                    let to = from.wrapping_add_signed(delta);
                    c.live[di] = to;
                    c.move_live(from, to, k.nodes_in_domain[di] > 0);
                }
            }
        }
    }

    /// A pod of template `t` on `node` became Terminating: it leaves the live counts.
    pub fn pod_terminating(&mut self, t: usize, node: usize) {
        let Some(sets) = self.template_sets.get(t) else { return };
        for &set in sets {
            let v = &mut self.node_sets[node];
            if let Ok(i) = v.binary_search_by_key(&set, |e| e.0) {
                v[i].2 -= 1;
            }
            for (key, c) in &mut self.sets[set.0 as usize].by_key {
                let k = &self.keys[key.0 as usize];
                let d = k.domain_of_node[node];
                if d == NO_DOMAIN {
                    continue;
                }
                let di = d as usize;
                let from = c.live[di];
                c.live[di] = from - 1;
                c.move_live(from, from - 1, k.nodes_in_domain[di] > 0);
            }
        }
    }

    /// Recounts everything from `pods`: (template, node, terminating) of every pod holding a
    /// node, and the live nodes; `Err` names the first difference.
    pub fn check(&self, pods: &[(usize, usize, bool)], live_nodes: &[bool]) -> Result<(), String> {
        let mut fresh = TopologyIndex {
            keys: self.keys.clone(),
            sets: self
                .sets
                .iter()
                .map(|s| PodSet {
                    members: s.members.clone(),
                    by_key: s.by_key.iter().map(|(k, _)| (*k, DomainCounts::default())).collect(),
                    occupied: s.occupied.as_ref().map(|b| vec![0; b.len()]),
                })
                .collect(),
            template_sets: self.template_sets.clone(),
            node_sets: vec![Vec::new(); self.node_sets.len()],
        };
        // Domains with nodes, from the live nodes.
        for k in &mut fresh.keys {
            k.nodes_in_domain.iter_mut().for_each(|c| *c = 0);
            k.live_domains = 0;
            k.nodes_missing = 0;
            for (n, &live) in live_nodes.iter().enumerate() {
                if !live {
                    continue;
                }
                let d = k.domain_of_node[n];
                if d == NO_DOMAIN {
                    k.nodes_missing += 1;
                } else {
                    k.nodes_in_domain[d as usize] += 1;
                    if k.nodes_in_domain[d as usize] == 1 {
                        k.live_domains += 1;
                    }
                }
            }
        }
        for &(t, node, terminating) in pods {
            fresh.pod_moved(t, node, 1, true);
            if terminating {
                fresh.pod_terminating(t, node);
            }
        }
        for (a, b) in self.keys.iter().zip(&fresh.keys) {
            if a.nodes_in_domain != b.nodes_in_domain
                || a.live_domains != b.live_domains
                || a.nodes_missing != b.nodes_missing
            {
                return Err(format!("topology key {}: domain node counts differ from a recount", a.name));
            }
        }
        if self.node_sets != fresh.node_sets {
            return Err("topology index: per-node set counts differ from a recount".into());
        }
        for (si, (a, b)) in self.sets.iter().zip(&fresh.sets).enumerate() {
            if a.occupied != b.occupied {
                return Err(format!("topology set {si}: node occupancy bits differ from a recount"));
            }
            for ((k, ca), (_, cb)) in a.by_key.iter().zip(&b.by_key) {
                let key = &self.keys[k.0 as usize];
                let n = ca.all.len().max(cb.all.len());
                for d in 0..n as u32 {
                    if ca.all_in(d) != cb.all_in(d) || ca.live_in(d) != cb.live_in(d) {
                        return Err(format!("topology set {si} key {}: domain {d} counts differ", key.name));
                    }
                }
                if ca.total_all != cb.total_all
                    || ca.hist != cb.hist
                    || ca.nonzero_domains != cb.nonzero_domains
                    || ca.min_live(key) != cb.min_live(key)
                {
                    return Err(format!("topology set {si} key {}: totals or minimum differ", key.name));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(zone: &str) -> Labels {
        [("topology.kubernetes.io/zone".to_string(), zone.to_string())].into_iter().collect()
    }

    #[test]
    fn counts_follow_pods_and_the_minimum_is_exact() {
        let mut ix = TopologyIndex::default();
        let zones = [labels("a"), labels("b"), labels("a"), labels("c")];
        let nodes: Vec<(&Labels, bool)> = zones.iter().map(|l| (l, true)).collect();
        ix.ensure_nodes(nodes.len());
        let zone = ix.key("topology.kubernetes.io/zone", &nodes);
        let host = ix.key("kubernetes.io/hostname", &nodes);
        let set = ix.set(vec![true, false]);
        ix.track(set, zone);
        ix.track(set, host);
        assert_eq!(ix.keys[zone.0 as usize].live_domains, 3);
        assert_eq!(ix.counts(set, zone).min_live(&ix.keys[zone.0 as usize]), 0);
        for node in [0, 1, 3, 2] {
            ix.pod_moved(0, node, 1, true);
        }
        ix.pod_moved(1, 0, 1, true); // not a member
        let c = ix.counts(set, zone);
        assert_eq!((c.live_in(0), c.live_in(1), c.live_in(2)), (2, 1, 1));
        assert_eq!(c.min_live(&ix.keys[zone.0 as usize]), 1);
        assert_eq!(ix.on_node(set, 0), (1, 1));
        ix.pod_terminating(0, 1);
        let c = ix.counts(set, zone);
        assert_eq!((c.all_in(1), c.live_in(1)), (1, 0));
        assert_eq!(c.min_live(&ix.keys[zone.0 as usize]), 0);
        assert_eq!(ix.counts(set, host).min_live(&ix.keys[host.0 as usize]), 0);
        let pods = [(0, 0, false), (0, 1, true), (0, 3, false), (0, 2, false), (1, 0, false)];
        ix.check(&pods, &[true; 4]).expect("consistent");
        let b = ix.occupied(set).expect("counted per node");
        assert_eq!(TopologyIndex::next_free_node(&[b], 0, 4), None, "all four nodes hold a pod");
        // Node 1 empties and is removed: zone b has no node, so it leaves the minimum.
        ix.pod_moved(0, 1, -1, false);
        ix.remove_node(1);
        let c = ix.counts(set, zone);
        assert_eq!(c.min_live(&ix.keys[zone.0 as usize]), 1, "zones a (2) and c (1) remain");
        let pods = [(0, 0, false), (0, 3, false), (0, 2, false), (1, 0, false)];
        ix.check(&pods, &[true, false, true, true]).expect("consistent");
        let b = ix.occupied(set).expect("counted per node");
        assert_eq!(TopologyIndex::next_free_node(&[b], 0, 4), Some(1));
        assert_eq!(TopologyIndex::next_free_node(&[b], 2, 4), None);
        // A node added later joins its zone.
        ix.add_node(&labels("b"));
        assert_eq!(ix.counts(set, zone).min_live(&ix.keys[zone.0 as usize]), 0);
    }
}
