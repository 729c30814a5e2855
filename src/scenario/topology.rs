//! Validation of what PodTopologySpread and InterPodAffinity read: pod labels, namespaces,
//! Deployment selectors, topology spread constraints, pod (anti-)affinity terms and the two
//! plugins' arguments. The API server's rules come with the types
//! (`cluster::spread::TopologySpreadConstraint::validate`, `cluster::pod_affinity`,
//! `cluster::label_selector::validate_full`); this adds what only the whole scenario shows:
//! a Deployment's selector must select its own pods, and a selector that selects no pod of
//! any template (in the namespaces it looks at) is refused, since it can never match and is
//! almost always a typo in a label.

use super::error::FieldError;
use super::schema::{PodTemplateSpec, Scenario};
use crate::cluster::Labels;
use crate::cluster::label_selector::{is_dns1123_label, validate_full, validate_label_value};
use crate::cluster::pod_affinity::PodAffinityTerm;
use crate::cluster::spread::{validate_constraints, validate_label_key};
use crate::scheduler::topology::deployment_labels;

/// A template with where it is and what its pods are.
struct Pod<'a> {
    at: String,
    template: &'a PodTemplateSpec,
    namespace: &'a str,
    labels: Labels,
}

/// Every error of the topology fields of `s`, with its field path.
pub fn validate(s: &Scenario) -> Vec<FieldError> {
    let mut e: Vec<FieldError> = Vec::new();
    let mut push = |path: String, message: String| e.push(FieldError { path, message });
    let empty = Labels::new();
    // Namespaces.
    let mut seen = std::collections::BTreeSet::new();
    for (i, n) in s.namespaces.iter().enumerate() {
        if !is_dns1123_label(&n.name) {
            push(
                format!("namespaces[{i}].name"),
                format!(
                    "{:?} is not a valid namespace name; expected at most 63 lowercase letters, digits or '-', \
                     starting and ending with a letter or digit",
                    n.name
                ),
            );
        }
        if !seen.insert(n.name.as_str()) {
            push(format!("namespaces[{i}].name"), format!("namespace {:?} is listed twice", n.name));
        }
        check_labels(&mut push, &format!("namespaces[{i}].labels"), &n.labels);
    }
    let ns_labels =
        |ns: &str| s.namespaces.iter().find(|n| n.name == ns).map(|n| &n.labels).unwrap_or(&empty);
    // The pods of every template.
    let mut pods: Vec<Pod> = Vec::new();
    for (i, d) in s.deployments.iter().enumerate() {
        let at = format!("deployments[{i}]");
        if !is_dns1123_label(&d.namespace) {
            push(format!("{at}.namespace"), format!("{:?} is not a valid namespace name", d.namespace));
        }
        let labels = deployment_labels(d);
        if let Some(sel) = &d.selector {
            if let Err(m) = validate_full(sel) {
                push(format!("{at}.selector"), format!("{m}; expected a label selector"));
            } else if sel.is_empty() {
                push(
                    format!("{at}.selector"),
                    "an empty selector selects every pod; expected the labels of the Deployment's pods"
                        .into(),
                );
            } else if !sel.matches(&labels) {
                push(
                    format!("{at}.selector"),
                    format!(
                        "the selector does not select the Deployment's own pods (labels {}); expected a selector \
                         that matches template.labels",
                        show(&labels)
                    ),
                );
            }
        }
        pods.push(Pod {
            at: format!("{at}.template"),
            template: &d.template,
            namespace: &d.namespace,
            labels,
        });
    }
    for (i, c) in s.churn.iter().enumerate() {
        if !is_dns1123_label(&c.namespace) {
            push(format!("churn[{i}].namespace"), format!("{:?} is not a valid namespace name", c.namespace));
        }
        for (t, w) in c.templates.iter().enumerate() {
            pods.push(Pod {
                at: format!("churn[{i}].templates[{t}].template"),
                template: &w.template,
                namespace: &c.namespace,
                labels: w.template.labels.clone(),
            });
        }
    }
    for (i, d) in s.daemon_sets.iter().enumerate() {
        if !is_dns1123_label(&d.namespace) {
            push(
                format!("daemonSets[{i}].namespace"),
                format!("{:?} is not a valid namespace name", d.namespace),
            );
        }
        pods.push(Pod {
            at: format!("daemonSets[{i}].template"),
            template: &d.template,
            namespace: &d.namespace,
            labels: d.template.labels.clone(),
        });
    }
    for (i, p) in s.initial_pods.iter().enumerate() {
        if !is_dns1123_label(&p.namespace) {
            push(
                format!("initialPods[{i}].namespace"),
                format!("{:?} is not a valid namespace name", p.namespace),
            );
        }
        pods.push(Pod {
            at: format!("initialPods[{i}].template"),
            template: &p.template,
            namespace: &p.namespace,
            labels: p.template.labels.clone(),
        });
    }
    // The node labels a topology key may name: each pool's labels, the zone, the pool, the
    // hostname.
    let mut node_keys: std::collections::BTreeSet<&str> =
        [crate::cluster::spread::HOSTNAME_LABEL, crate::cluster::spread::ZONE_LABEL, crate::sim::POOL_LABEL]
            .into_iter()
            .collect();
    for np in &s.node_pools {
        node_keys.extend(np.labels.keys().map(String::as_str));
    }
    let keys_hint = node_keys.iter().copied().collect::<Vec<_>>().join(", ");
    // The error for a topology key no node carries (`what`: "constraint" or "term"), if so.
    let unknown_key = |key: &str, what: &str| -> Option<String> {
        (!key.is_empty() && !node_keys.contains(key)).then(|| {
            format!(
                "no node carries the label {key:?}, so the {what} can never be met or has no effect; expected one of {keys_hint}"
            )
        })
    };
    for p in &pods {
        let t = p.template;
        for (i, c) in t.topology_spread_constraints.iter().enumerate() {
            if let Some(m) = unknown_key(&c.topology_key, "constraint") {
                push(format!("{}.topologySpreadConstraints[{i}].topologyKey", p.at), m);
            }
        }
        check_labels(&mut push, &format!("{}.labels", p.at), &t.labels);
        // Topology spread constraints.
        match validate_constraints(&t.topology_spread_constraints) {
            Err(m) => push(format!("{}.{m}", p.at), String::new()),
            Ok(()) => {
                for (i, c) in t.topology_spread_constraints.iter().enumerate() {
                    let Some(sel) = c.label_selector.as_ref().filter(|s| !s.is_empty()) else { continue };
                    let sel = sel.with_label_keys(&c.match_label_keys, &p.labels);
                    let any = pods.iter().any(|q| q.namespace == p.namespace && sel.matches(&q.labels));
                    if !any {
                        push(
                            format!("{}.topologySpreadConstraints[{i}].labelSelector", p.at),
                            format!(
                                "selects no pod of any template in namespace {:?} (this pod's labels: {}); expected \
                                 a selector that matches the pods to spread, usually this pod's own labels",
                                p.namespace,
                                show(&p.labels)
                            ),
                        );
                    }
                }
            }
        }
        // Pod affinity and anti-affinity.
        let mut terms: Vec<(String, &PodAffinityTerm)> = Vec::new();
        if let Some(a) = &t.affinity.pod_affinity {
            let at = format!("{}.affinity.podAffinity", p.at);
            match a.validate() {
                Err(m) => push(format!("{at}.{m}"), String::new()),
                Ok(()) => collect_terms(&mut terms, &at, a),
            }
        }
        if let Some(a) = &t.affinity.pod_anti_affinity {
            let at = format!("{}.affinity.podAntiAffinity", p.at);
            match a.validate() {
                Err(m) => push(format!("{at}.{m}"), String::new()),
                Ok(()) => collect_terms_anti(&mut terms, &at, a),
            }
        }
        for (at, term) in terms {
            if let Some(m) = unknown_key(&term.topology_key, "term") {
                push(format!("{at}.topologyKey"), m);
            }
            if term.label_selector.is_none() {
                push(
                    format!("{at}.labelSelector"),
                    "absent: the term selects no pod; expected a label selector, e.g. the labels of the pods to \
                     be near or away from"
                        .into(),
                );
                continue;
            }
            let any = pods.iter().any(|q| {
                term.matches(p.namespace, &p.labels, q.namespace, &q.labels, Some(ns_labels(q.namespace)))
            });
            if !any {
                push(
                    format!("{at}.labelSelector"),
                    "selects no pod of any template in the namespaces the term looks at; expected a selector that \
                     matches some pods (check the labels and the namespaces)"
                        .into(),
                );
            }
        }
    }
    // The plugins' arguments.
    let sc = &s.scheduler;
    if let Err(m) = sc.pod_topology_spread.validate() {
        // "defaultConstraints[i]: <what>" names the constraint: put it in the path.
        match m.split_once("]: ").filter(|(p, _)| p.starts_with("defaultConstraints[")) {
            Some((at, rest)) => push(format!("scheduler.podTopologySpread.{at}]"), rest.to_string()),
            None => push("scheduler.podTopologySpread".into(), m),
        }
    }
    for (i, c) in sc.pod_topology_spread.default_constraints.iter().enumerate() {
        let at = format!("scheduler.podTopologySpread.defaultConstraints[{i}]");
        if let Some(m) = unknown_key(&c.topology_key, "constraint") {
            push(format!("{at}.topologyKey"), m);
        }
        if !c.match_label_keys.is_empty() {
            push(
                format!("{at}.matchLabelKeys"),
                "is not supported in default constraints (their selector is the owner's); expected none"
                    .into(),
            );
        }
    }
    let w = sc.inter_pod_affinity.hard_pod_affinity_weight;
    if !(0..=100).contains(&w) {
        push(
            "scheduler.interPodAffinity.hardPodAffinityWeight".into(),
            format!("expected a weight from 0 to 100 (upstream validation), got {w}"),
        );
    }
    for (name, v) in [
        ("PodTopologySpread", sc.plugin_weights.pod_topology_spread),
        ("InterPodAffinity", sc.plugin_weights.inter_pod_affinity),
    ] {
        if !(0..=100).contains(&v) {
            push(
                format!("scheduler.pluginWeights.{name}"),
                "expected a weight from 0 (disabled) to 100".into(),
            );
        }
    }
    // Messages of the types' own validation already name the field inside the path.
    for f in &mut e {
        if f.message.is_empty()
            && let Some((path, message)) = split_message(&f.path)
        {
            f.path = path;
            f.message = message;
        }
    }
    e
}

/// `"a.b.c[0].maxSkew is 0; expected …"` → (`a.b.c[0].maxSkew`, `is 0; expected …`).
fn split_message(s: &str) -> Option<(String, String)> {
    let i = s.find(' ')?;
    let (path, rest) = s.split_at(i);
    let path = path.trim_end_matches(':');
    Some((path.to_string(), rest.trim_start().to_string()))
}

fn collect_terms<'a>(
    out: &mut Vec<(String, &'a PodAffinityTerm)>,
    at: &str,
    a: &'a crate::cluster::pod_affinity::PodAffinity,
) {
    for (i, t) in a.required_during_scheduling_ignored_during_execution.iter().enumerate() {
        out.push((format!("{at}.requiredDuringSchedulingIgnoredDuringExecution[{i}]"), t));
    }
    for (i, w) in a.preferred_during_scheduling_ignored_during_execution.iter().enumerate() {
        out.push((
            format!("{at}.preferredDuringSchedulingIgnoredDuringExecution[{i}].podAffinityTerm"),
            &w.pod_affinity_term,
        ));
    }
}

fn collect_terms_anti<'a>(
    out: &mut Vec<(String, &'a PodAffinityTerm)>,
    at: &str,
    a: &'a crate::cluster::pod_affinity::PodAntiAffinity,
) {
    for (i, t) in a.required_during_scheduling_ignored_during_execution.iter().enumerate() {
        out.push((format!("{at}.requiredDuringSchedulingIgnoredDuringExecution[{i}]"), t));
    }
    for (i, w) in a.preferred_during_scheduling_ignored_during_execution.iter().enumerate() {
        out.push((
            format!("{at}.preferredDuringSchedulingIgnoredDuringExecution[{i}].podAffinityTerm"),
            &w.pod_affinity_term,
        ));
    }
}

fn check_labels(push: &mut impl FnMut(String, String), at: &str, labels: &Labels) {
    for (k, v) in labels {
        if let Err(m) = validate_label_key(k) {
            push(at.to_string(), m);
        } else if let Err(m) = validate_label_value(v) {
            push(format!("{at}.{k}"), m);
        }
    }
}

fn show(labels: &Labels) -> String {
    if labels.is_empty() {
        return "none".into();
    }
    let v: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    v.join(", ")
}
