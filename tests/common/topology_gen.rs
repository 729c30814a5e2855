//! Random generators (proptest strategies) for the topology tests (`tests/topology.rs`,
//! `tests/autoscaler_topology.rs`): topology keys, the pod label vocabulary, label sets,
//! label selectors, node inclusion policies, and the dedup validation requires of spread
//! constraints. What is specific to one test (its nodes, templates, constraints, terms)
//! stays in that test.

#![allow(dead_code)]

use clustersim::cluster::Labels;
use clustersim::cluster::label_selector::{LabelSelector, LabelSelectorOperator, LabelSelectorRequirement};
use clustersim::cluster::spread::{NodeInclusionPolicy, TopologySpreadConstraint};
use proptest::prelude::*;

pub const ZONE: &str = "topology.kubernetes.io/zone";
pub const HOST: &str = "kubernetes.io/hostname";
pub const RACK: &str = "rack";
pub const KEYS: [&str; 3] = [ZONE, HOST, RACK];
/// Pod label vocabulary: key and its two values.
pub const VOCAB: [(&str, [&str; 2]); 3] =
    [("app", ["web", "db"]), ("tier", ["front", "back"]), ("ver", ["1", "2"])];

pub fn labels(kv: &[(&str, &str)]) -> Labels {
    kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

pub fn sparse_labels() -> impl Strategy<Value = Labels> {
    prop::array::uniform3(0u8..5).prop_map(|a| {
        let mut l = Labels::new();
        for (i, v) in a.iter().enumerate() {
            if *v < 2 {
                l.insert(VOCAB[i].0.to_string(), VOCAB[i].1[*v as usize].to_string());
            }
        }
        l
    })
}

pub fn pod_labels() -> impl Strategy<Value = Labels> {
    prop::array::uniform3(0u8..3).prop_map(|a| {
        let mut l = Labels::new();
        for (i, v) in a.iter().enumerate() {
            if *v > 0 {
                l.insert(VOCAB[i].0.to_string(), VOCAB[i].1[*v as usize - 1].to_string());
            }
        }
        l
    })
}

pub fn expression() -> impl Strategy<Value = LabelSelectorRequirement> {
    (0usize..3, 0u8..4, 0usize..2).prop_map(|(k, op, v)| {
        let (key, values) = VOCAB[k];
        let (operator, values) = match op {
            0 => (LabelSelectorOperator::In, vec![values[v].to_string()]),
            1 => (LabelSelectorOperator::NotIn, vec![values[v].to_string()]),
            2 => (LabelSelectorOperator::Exists, vec![]),
            _ => (LabelSelectorOperator::DoesNotExist, vec![]),
        };
        LabelSelectorRequirement { key: key.to_string(), operator, values }
    })
}

/// No selector (weight 1), the empty selector (weight 1), or labels and at most one
/// expression (weight `labelled`).
pub fn selector(labelled: u32) -> impl Strategy<Value = Option<LabelSelector>> {
    prop_oneof![
        1 => Just(None),
        1 => Just(Some(LabelSelector::default())),
        labelled => (sparse_labels(), prop::option::weighted(0.3, expression())).prop_map(|(m, e)| {
            Some(LabelSelector { match_labels: m, match_expressions: e.into_iter().collect() })
        }),
    ]
}

pub fn uses_key(s: &LabelSelector, key: &str) -> bool {
    s.match_labels.contains_key(key) || s.match_expressions.iter().any(|r| r.key == key)
}

pub fn policy() -> impl Strategy<Value = Option<NodeInclusionPolicy>> {
    prop_oneof![Just(None), Just(Some(NodeInclusionPolicy::Honor)), Just(Some(NodeInclusionPolicy::Ignore))]
}

/// At most one constraint per (topologyKey, whenUnsatisfiable), as validation requires.
pub fn dedup(cs: Vec<TopologySpreadConstraint>) -> Vec<TopologySpreadConstraint> {
    let mut out: Vec<TopologySpreadConstraint> = Vec::new();
    for c in cs {
        if !out
            .iter()
            .any(|o| o.topology_key == c.topology_key && o.when_unsatisfiable == c.when_unsatisfiable)
        {
            out.push(c);
        }
    }
    out
}
