//! Checks that need more than one field, or a range the types cannot express. Every
//! problem is reported (not just the first), each with its field path.

use super::error::FieldError;
use super::schema::*;
use super::{MAX_TOTAL_NODES, MAX_TOTAL_REPLICAS};
use crate::cluster::{Affinity, SelectorOperator, Toleration, TolerationOperator};
use std::collections::BTreeSet;

struct Errors(Vec<FieldError>);

impl Errors {
    fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError { path: path.into(), message: message.into() });
    }
    fn check(&mut self, ok: bool, path: impl Into<String>, message: impl Into<String>) {
        if !ok {
            self.push(path, message);
        }
    }
    fn result(&mut self, path: impl Into<String>, r: Result<(), String>) {
        if let Err(m) = r {
            self.push(path, m);
        }
    }
}

fn finite_non_negative(x: f64) -> bool {
    x.is_finite() && x >= 0.0
}

fn unique_names<'a>(errs: &mut Errors, list: &str, names: impl Iterator<Item = &'a str>) {
    let mut seen = BTreeSet::new();
    for (i, n) in names.enumerate() {
        let path = format!("{list}[{i}].name");
        if n.trim().is_empty() {
            errs.push(path, "expected a non-empty name");
        } else if !seen.insert(n) {
            errs.push(path, format!("duplicate name {n:?}: names in {list} must be unique"));
        }
    }
}

/// The longest scenario name.
pub const MAX_NAME_LEN: usize = 100;

/// A scenario name names the default output folder (`results/<name>/`), so it must be one
/// plain folder name: 1 to [`MAX_NAME_LEN`] ASCII letters, digits, `.`, `_` or `-`, not
/// starting with `.` (so neither `..` nor a hidden folder, and no `/`).
pub fn check_name(name: &str) -> Result<(), String> {
    const ALLOWED: &str = "expected 1 to 100 ASCII letters, digits, '.', '_' or '-', not starting with '.' \
                           (it names the output folder results/<name>/), e.g. web-service_v2";
    if name.is_empty() {
        return Err(format!("the name is empty; {ALLOWED}"));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(format!("the name has {} characters; {ALLOWED}", name.chars().count()));
    }
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))) {
        return Err(format!("{name:?} contains {c:?}; {ALLOWED}"));
    }
    if name.starts_with('.') {
        return Err(format!("{name:?} starts with '.'; {ALLOWED}"));
    }
    Ok(())
}

/// Validates a whole scenario.
pub fn validate(s: &Scenario) -> Result<(), Vec<FieldError>> {
    let mut e = Errors(Vec::new());
    if let Some(name) = &s.name {
        e.result("name", check_name(name));
    }
    e.check(s.duration.0.as_nanos() > 0, "duration", "expected a run length greater than 0, e.g. 10m");
    e.check(
        s.sample_interval.0.as_nanos() > 0,
        "sampleInterval",
        "expected an interval greater than 0, e.g. 10s",
    );
    if s.sample_interval.0.as_nanos() > 0
        && s.duration.0.as_nanos() / s.sample_interval.0.as_nanos() > 10_000_000
    {
        e.push("sampleInterval", "expected at most 10,000,000 samples per run; use a longer interval");
    }
    validate_scheduler(&mut e, &s.scheduler);
    e.check(
        s.metrics_server.resolution.0.as_nanos() > 0,
        "metricsServer.resolution",
        "expected a scrape period greater than 0, e.g. 15s",
    );

    unique_names(&mut e, "nodePools", s.node_pools.iter().map(|p| p.name.as_str()));
    let mut total_nodes: u64 = 0;
    for (i, p) in s.node_pools.iter().enumerate() {
        let at = |f: &str| format!("nodePools[{i}].{f}");
        total_nodes += p.count as u64;
        e.check(!p.zones.is_empty(), at("zones"), "expected at least one zone");
        let mut zones = BTreeSet::new();
        for (z, name) in p.zones.iter().enumerate() {
            if name.trim().is_empty() {
                e.push(at(&format!("zones[{z}]")), "expected a non-empty zone name");
            } else if !zones.insert(name) {
                e.push(at(&format!("zones[{z}]")), format!("duplicate zone {name:?}"));
            }
        }
        e.check(p.allocatable.cpu.0 > 0, at("allocatable.cpu"), "expected more than 0 CPU, e.g. 4 or 3500m");
        e.check(
            p.allocatable.memory.0 > 0,
            at("allocatable.memory"),
            "expected more than 0 bytes, e.g. 16Gi",
        );
        e.check(
            p.allocatable.pods.0 > 0,
            at("allocatable.pods"),
            "expected at least 1 pod (upstream default 110)",
        );
        e.check(
            p.allocatable.gpu.0 <= crate::cluster::gpu::MAX_GPUS_PER_NODE as i64,
            at("allocatable.nvidia.com/gpu"),
            format!(
                "{} GPUs; expected at most {} per node (each GPU is a device that pods share)",
                p.allocatable.gpu.0,
                crate::cluster::gpu::MAX_GPUS_PER_NODE
            ),
        );
        e.check(
            finite_non_negative(p.price_per_hour),
            at("pricePerHour"),
            "expected a finite price of 0 or more",
        );
        e.check(
            finite_non_negative(p.price_per_gpu_hour),
            at("pricePerGpuHour"),
            "expected a finite price of 0 or more",
        );
        for (t, taint) in p.taints.iter().enumerate() {
            e.check(!taint.key.is_empty(), at(&format!("taints[{t}].key")), "expected a non-empty taint key");
        }
        for k in p.labels.keys() {
            e.check(!k.is_empty(), at("labels"), "expected non-empty label keys");
            e.check(k != HOSTNAME_LABEL, at("labels"), HOSTNAME_UNLABELLED);
        }
        e.result(at("kubelet.imagePull"), p.kubelet.image_pull.validate());
        e.result(at("kubelet.containerStart"), p.kubelet.container_start.validate());
        if let Some(g) = &p.autoscaling {
            total_nodes += g.max_size.saturating_sub(p.count) as u64;
            e.check(
                g.min_size <= g.max_size,
                at("autoscaling.minSize"),
                format!(
                    "minSize {} is greater than maxSize {}; expected minSize <= maxSize",
                    g.min_size, g.max_size
                ),
            );
            e.check(g.max_size >= 1, at("autoscaling.maxSize"), "expected a maxSize of at least 1");
            e.check(
                g.min_size > g.max_size || (g.min_size..=g.max_size).contains(&p.count),
                at("count"),
                format!(
                    "initial count {} is outside the node group's [minSize, maxSize] = [{}, {}]",
                    p.count, g.min_size, g.max_size
                ),
            );
            e.result(at("autoscaling.provisioningDelay"), g.provisioning_delay.validate());
            e.check(
                s.cluster_autoscaler.is_some(),
                at("autoscaling"),
                "a node group needs a `clusterAutoscaler:` section (use `clusterAutoscaler: {}` for the upstream defaults)",
            );
        }
    }
    if let Some(ca) = &s.cluster_autoscaler {
        validate_cluster_autoscaler(&mut e, ca, s);
    }
    if let Some(cp) = &s.control_plane {
        validate_control_plane(&mut e, cp);
    }
    if let Some(tc) = &s.throughput_collector {
        validate_throughput_collector(&mut e, tc, s);
    }
    unique_names(&mut e, "priorityClasses", s.priority_classes.iter().map(|c| c.name.as_str()));
    for (i, c) in s.priority_classes.iter().enumerate() {
        // Upstream: user-defined classes have values up to 1,000,000,000 (HighestUserDefinablePriority).
        e.check(
            c.value <= 1_000_000_000,
            format!("priorityClasses[{i}].value"),
            format!(
                "got {}; expected at most 1000000000 (values above are reserved for system classes)",
                c.value
            ),
        );
    }
    if total_nodes > MAX_TOTAL_NODES {
        e.push("nodePools", format!("{total_nodes} nodes in all; expected at most {MAX_TOTAL_NODES}"));
    }

    validate_failures(&mut e, s);
    unique_names(&mut e, "deployments", s.deployments.iter().map(|d| d.name.as_str()));
    let mut total_replicas: u64 = 0;
    for (i, d) in s.deployments.iter().enumerate() {
        let at = |f: &str| format!("deployments[{i}].{f}");
        let peak = d.scale.iter().map(|s| s.replicas).max().unwrap_or(0).max(d.replicas);
        total_replicas += peak as u64;
        e.check(
            finite_non_negative(d.create_rate),
            at("createRate"),
            "expected a finite rate of 0 (all at once) or more pods per second",
        );
        validate_template(&mut e, &at("template"), &d.template, s);
        for (k, r) in d.rollouts.iter().enumerate() {
            validate_rollout(&mut e, &at(&format!("rollouts[{k}]")), r);
        }
        if let Some(svc) = &d.service {
            validate_service(&mut e, &at("service"), svc);
        }
        if let Some(h) = &d.horizontal_pod_autoscaler {
            let hp = at("horizontalPodAutoscaler");
            e.check(
                h.scale_target_ref.is_none(),
                format!("{hp}.scaleTargetRef"),
                "an HPA inside a Deployment targets that Deployment; scaleTargetRef belongs to horizontalPodAutoscalers[] entries",
            );
            validate_hpa(&mut e, &hp, h, d);
        }
    }
    let mut hpa_targets: BTreeSet<&str> = s
        .deployments
        .iter()
        .filter(|d| d.horizontal_pod_autoscaler.is_some())
        .map(|d| d.name.as_str())
        .collect();
    for (i, h) in s.horizontal_pod_autoscalers.iter().enumerate() {
        let hp = format!("horizontalPodAutoscalers[{i}]");
        let Some(r) = &h.scale_target_ref else {
            e.push(
                format!("{hp}.scaleTargetRef"),
                "expected scaleTargetRef: {kind: Deployment, name: <deployment>}",
            );
            continue;
        };
        if r.kind != "Deployment" {
            e.push(
                format!("{hp}.scaleTargetRef.kind"),
                format!("unsupported kind {:?}; expected Deployment", r.kind),
            );
            continue;
        }
        let Some(d) = s.deployments.iter().find(|d| d.name == r.name) else {
            let names: Vec<&str> = s.deployments.iter().map(|d| d.name.as_str()).collect();
            e.push(
                format!("{hp}.scaleTargetRef.name"),
                format!("no Deployment named {:?}; expected one of [{}]", r.name, names.join(", ")),
            );
            continue;
        };
        if !hpa_targets.insert(d.name.as_str()) {
            e.push(
                format!("{hp}.scaleTargetRef.name"),
                format!(
                    "Deployment {:?} already has an HPA; upstream stops both (AmbiguousSelector)",
                    d.name
                ),
            );
        }
        validate_hpa(&mut e, &hp, h, d);
    }
    if total_replicas > MAX_TOTAL_REPLICAS {
        e.push(
            "deployments",
            format!("{total_replicas} replicas in all; expected at most {MAX_TOTAL_REPLICAS}"),
        );
    }

    unique_names(&mut e, "nodeLists", s.node_lists.iter().map(|c| c.name.as_str()));
    for (i, l) in s.node_lists.iter().enumerate() {
        e.result(format!("nodeLists[{i}].name"), check_name(&l.name));
        e.0.extend(super::nodelist::validate(l, &format!("nodeLists[{i}]")));
    }
    unique_names(&mut e, "podTraces", s.pod_traces.iter().map(|c| c.name.as_str()));
    for (i, t) in s.pod_traces.iter().enumerate() {
        e.result(format!("podTraces[{i}].name"), check_name(&t.name));
        e.0.extend(super::podtrace::validate(t, &format!("podTraces[{i}]")));
        validate_template(&mut e, &format!("podTraces[{i}].template"), &t.template, s);
        e.check(
            t.start_at.0 <= s.duration.0,
            format!("podTraces[{i}].startAt"),
            "expected a time within the run (at most `duration`)",
        );
        validate_inflation(&mut e, s, i, t);
    }
    unique_names(&mut e, "churn", s.churn.iter().map(|c| c.name.as_str()));
    for (i, c) in s.churn.iter().enumerate() {
        let at = |f: &str| format!("churn[{i}].{f}");
        match (&c.arrival_rate, &c.inter_arrival) {
            (Some(_), Some(_)) => {
                e.push(at("arrivalRate"), "give either arrivalRate or interArrival, not both")
            }
            (None, None) => e.push(
                format!("churn[{i}]"),
                "missing arrivals: expected arrivalRate (pods per second) or interArrival (a distribution)",
            ),
            (Some(r), None) => {
                e.check(r.is_finite() && *r > 0.0, at("arrivalRate"), "expected a finite rate greater than 0")
            }
            (None, Some(d)) => {
                e.result(at("interArrival"), d.validate());
                if d.validate().is_ok() && d.mean_secs() <= 0.0 {
                    e.push(at("interArrival"), "expected a distribution with a mean greater than 0");
                }
            }
        }
        e.result(at("lifetime"), c.lifetime.validate());
        // Guard against a typo that would create billions of pods (e.g. a rate in pods
        // per millisecond): the expected number of arrivals must stay within the limit.
        let mean_gap = match (&c.arrival_rate, &c.inter_arrival) {
            (Some(r), None) if r.is_finite() && *r > 0.0 => Some(1.0 / r),
            (None, Some(d)) if d.validate().is_ok() => Some(d.mean_secs()),
            _ => None,
        };
        if let Some(gap) = mean_gap {
            let stop = c.stop_at.map_or(s.duration.0, |t| t.0.min(s.duration.0));
            let window = stop.as_secs_f64() - c.start_at.0.as_secs_f64();
            let expected = if gap > 0.0 { window.max(0.0) / gap } else { f64::INFINITY };
            let capped = c.max_pods > 0 && c.max_pods <= MAX_TOTAL_REPLICAS;
            if expected > MAX_TOTAL_REPLICAS as f64 && !capped {
                e.push(
                    format!("churn[{i}]"),
                    format!(
                        "about {expected:.3e} pods would arrive during the run; expected at most {MAX_TOTAL_REPLICAS} (lower the rate or set maxPods)"
                    ),
                );
            }
        }
        if let Some(stop) = c.stop_at {
            e.check(stop.0 >= c.start_at.0, at("stopAt"), "expected stopAt at or after startAt");
        }
        e.check(!c.templates.is_empty(), at("templates"), "expected at least one pod template");
        for (t, w) in c.templates.iter().enumerate() {
            e.check(
                w.weight.is_finite() && w.weight > 0.0,
                at(&format!("templates[{t}].weight")),
                "expected a finite weight greater than 0",
            );
            validate_template(&mut e, &at(&format!("templates[{t}].template")), &w.template, s);
        }
    }

    unique_names(&mut e, "daemonSets", s.daemon_sets.iter().map(|d| d.name.as_str()));
    for (i, d) in s.daemon_sets.iter().enumerate() {
        validate_template(&mut e, &format!("daemonSets[{i}].template"), &d.template, s);
    }
    validate_initial_pods(&mut e, s);

    let wants_pods =
        s.deployments.iter().any(|d| d.replicas > 0) || !s.churn.is_empty() || !s.pod_traces.is_empty();
    // A node list has at least one row (checked when it is read).
    if wants_pods && total_nodes == 0 && s.node_lists.is_empty() {
        e.push(
            "nodePools",
            "the scenario creates pods but has no nodes, so no pod could ever be scheduled; expected at least one node pool with count > 0",
        );
    }
    // Labels, namespaces, selectors, topology spread constraints, pod (anti-)affinity.
    e.0.extend(super::topology::validate(s));
    // Totals whose arithmetic would overflow are wrong input, whatever the limits.
    e.0.extend(super::budget::overflow_errors(s));
    if e.0.is_empty() { Ok(()) } else { Err(e.0) }
}

fn validate_failures(e: &mut Errors, s: &Scenario) {
    for (i, p) in s.node_pools.iter().enumerate() {
        if let Some(f) = &p.failures {
            for (name, d) in [("timeToFailure", &f.time_to_failure), ("timeToRepair", &f.time_to_repair)] {
                let path = format!("nodePools[{i}].failures.{name}");
                match d.validate() {
                    Err(m) => e.push(path, m),
                    Ok(()) if d.mean_secs() <= 0.0 => {
                        e.push(path, "expected a distribution with a mean greater than 0 (a zero rate)")
                    }
                    Ok(()) => {}
                }
            }
        }
    }
    let l = &s.node_lifecycle;
    for (name, d) in [
        ("nodeMonitorPeriod", l.node_monitor_period),
        ("nodeMonitorGracePeriod", l.node_monitor_grace_period),
        ("nodeStatusUpdateFrequency", l.node_status_update_frequency),
    ] {
        e.check(d.0.as_nanos() > 0, format!("nodeLifecycle.{name}"), "expected a duration greater than 0");
    }
    for (name, r) in [
        ("nodeEvictionRate", l.node_eviction_rate),
        ("secondaryNodeEvictionRate", l.secondary_node_eviction_rate),
    ] {
        e.check(
            r.is_finite() && r >= 0.0,
            format!("nodeLifecycle.{name}"),
            "expected a finite rate of 0 or more nodes per second",
        );
    }
    e.check(
        (0.0..=1.0).contains(&l.unhealthy_zone_threshold),
        "nodeLifecycle.unhealthyZoneThreshold",
        "expected a fraction from 0 to 1",
    );
    if let Some(c) = &s.chaos {
        e.check(
            (0.0..=1.0).contains(&c.failure_rate),
            "chaos.failureRate",
            "expected a fraction from 0 to 1",
        );
        e.check(c.interval.0.as_nanos() > 0, "chaos.interval", "expected an interval greater than 0");
        e.check(
            c.jitter_factor.is_finite() && c.jitter_factor >= 0.0,
            "chaos.jitterFactor",
            "expected a finite factor of 0 or more",
        );
        e.check(
            c.simulated_downtime.0.as_nanos() > 0,
            "chaos.simulatedDowntime",
            "expected a downtime greater than 0 (the repair must come after the failure)",
        );
    }
    for (i, m) in s.maintenance.iter().enumerate() {
        if !node_exists(s, &m.drain) {
            e.push(
                format!("maintenance[{i}].drain"),
                format!("no node {:?}; nodes are named <pool>-<index>, index from 0 to count - 1", m.drain),
            );
        }
        if let Some(d) = m.duration {
            e.check(
                d.0.as_nanos() > 0,
                format!("maintenance[{i}].duration"),
                "expected a duration greater than 0 (the uncordon must come after the drain)",
            );
        }
    }
    for (i, f) in s.faults.iter().enumerate() {
        let at = format!("faults[{i}]");
        if let Some(d) = f.duration {
            e.check(
                d.0.as_nanos() > 0,
                format!("{at}.duration"),
                "expected a duration greater than 0 (the repair must come after the failure)",
            );
        }
        match &f.fail {
            FaultTarget::Node(name) => {
                if !node_exists(s, name) {
                    e.push(
                        format!("{at}.fail.node"),
                        format!(
                            "no node {name:?}; nodes are named <pool>-<index>, index from 0 to count - 1"
                        ),
                    );
                }
            }
            FaultTarget::Pool(pf) => {
                if !s.node_pools.iter().any(|p| p.name == pf.name) {
                    e.push(format!("{at}.fail.pool.name"), format!("no node pool {:?}", pf.name));
                }
                e.check(
                    (0.0..=1.0).contains(&pf.fraction),
                    format!("{at}.fail.pool.fraction"),
                    "expected a fraction from 0 to 1",
                );
            }
            FaultTarget::Apiserver(a) => {
                let Some(cp) = &s.control_plane else {
                    e.push(
                        format!("{at}.fail.apiserver"),
                        "a control-plane fault needs a `controlPlane:` section (use `controlPlane: {}` for the defaults)",
                    );
                    continue;
                };
                let replicas = cp.apiserver.as_ref().map_or(1, |a| a.replicas);
                if let Some(r) = a.replicas {
                    e.check(
                        r >= 1 && r <= replicas,
                        format!("{at}.fail.apiserver.replicas"),
                        format!(
                            "got {r}; expected 1 to {replicas} (controlPlane.apiserver.replicas), or leave it out for all of them"
                        ),
                    );
                }
                cp_fault_duration(e, &at, f);
            }
            FaultTarget::Etcd(_) => {
                if s.control_plane.is_none() {
                    e.push(
                        format!("{at}.fail.etcd"),
                        "a control-plane fault needs a `controlPlane:` section (use `controlPlane: {}` for the defaults)",
                    );
                    continue;
                }
                cp_fault_duration(e, &at, f);
            }
            FaultTarget::Zone(z) => {
                // Node i of a pool is in zone i mod len(zones).
                let has_nodes = s
                    .node_pools
                    .iter()
                    .any(|p| p.zones.iter().position(|x| x == z).is_some_and(|j| (j as u32) < p.count));
                if !has_nodes {
                    e.push(format!("{at}.fail.zone"), format!("no node is in zone {z:?}"));
                }
            }
        }
    }
}

/// `initialPods`: names, nodes, templates, and the kubelet's admission of each pod on its
/// node with the initial pods listed before it there ([`crate::workload::bare::admit`]).
fn validate_initial_pods(e: &mut Errors, s: &Scenario) {
    use crate::cluster::{Labels, Placement, PodRequests, Resources};
    unique_names(e, "initialPods", s.initial_pods.iter().map(|p| p.name.as_str()));
    let mut used: std::collections::BTreeMap<&str, Resources> = std::collections::BTreeMap::new();
    for (i, p) in s.initial_pods.iter().enumerate() {
        let at = format!("initialPods[{i}]");
        validate_template(e, &format!("{at}.template"), &p.template, s);
        let Some((pool, index)) = find_node(s, &p.node_name) else {
            e.push(
                format!("{at}.nodeName"),
                format!(
                    "no node {:?} at the start of the run; nodes are named <pool>-<index>, index from 0 to count - 1",
                    p.node_name
                ),
            );
            continue;
        };
        let t = &p.template;
        let requests = PodRequests::from_container(
            t.requests.cpu.map(|q| q.0),
            t.requests.memory.map(|q| q.0),
            t.requests.gpu_milli(),
        )
        .actual;
        let placement = Placement {
            node_selector: t.node_selector.clone(),
            node_affinity: t.affinity.node_affinity.clone().unwrap_or_default(),
            tolerations: t.tolerations.clone(),
        };
        let a = &pool.allocatable;
        let allocatable = Resources::new(a.cpu.0, a.memory.0, a.gpu.0.saturating_mul(1000), a.pods.0);
        let mut labels: Labels = pool.labels.clone();
        if !pool.zones.is_empty() {
            labels.insert(
                crate::sim::ZONE_LABEL.to_string(),
                pool.zones[index as usize % pool.zones.len()].clone(),
            );
        }
        labels.insert(crate::sim::POOL_LABEL.to_string(), pool.name.clone());
        let on_node = used.entry(p.node_name.as_str()).or_insert(Resources::ZERO);
        match crate::workload::bare::admit(&requests, &placement, &allocatable, on_node, &labels, &pool.taints) {
            Ok(()) => *on_node += requests,
            Err(why) => e.push(
                at,
                format!(
                    "pod {:?} cannot start on node {:?}: {why}; expected the initial pods of a node to fit it (the kubelet would reject this one)",
                    p.name, p.node_name
                ),
            ),
        }
    }
}

/// The pool and index of node `name` (`<pool>-<index>`) at the start of the run.
fn find_node<'a>(s: &'a Scenario, name: &str) -> Option<(&'a NodePoolSpec, u32)> {
    s.node_pools.iter().find_map(|p| {
        let idx = name.strip_prefix(&format!("{}-", p.name))?.parse::<u32>().ok()?;
        (idx < p.count && name == format!("{}-{idx}", p.name)).then_some((p, idx))
    })
}

/// True when `name` is `<pool>-<index>` of an existing node.
/// Checks of one HPA on Deployment `d`; `hp` is its field path.
fn validate_hpa(e: &mut Errors, hp: &str, h: &HpaSpec, d: &DeploymentSpec) {
    e.check(h.min_replicas >= 1, format!("{hp}.minReplicas"), "expected at least 1 (upstream validation)");
    e.check(
        h.max_replicas >= h.min_replicas.max(1),
        format!("{hp}.maxReplicas"),
        format!(
            "maxReplicas {} is below minReplicas {}; expected maxReplicas >= minReplicas",
            h.max_replicas, h.min_replicas
        ),
    );
    if let Some(t) = h.target_cpu_utilization {
        e.check(
            t > 0,
            format!("{hp}.targetCpuUtilization"),
            format!("got {t}; expected a percentage greater than 0"),
        );
    }
    let default_cpu =
        h.target_cpu_utilization.is_none() && h.target_requests_per_second.is_none() && h.external.is_none();
    let needs_cpu_request = h.target_cpu_utilization.is_some() || default_cpu;
    e.check(
        d.service.is_some() || !(needs_cpu_request || h.target_requests_per_second.is_some()),
        hp.to_string(),
        "needs a service on the Deployment: pod CPU usage and request rates come from the traffic its pods serve",
    );
    if let Some(x) = &h.external {
        let xp = format!("{hp}.external");
        e.check(!x.name.trim().is_empty(), format!("{xp}.name"), "expected a metric name");
        e.check(!x.values.is_empty(), format!("{xp}.values"), "expected at least one {at, value} step");
        for (k, v) in x.values.iter().enumerate() {
            e.check(
                v.value.is_finite() && v.value >= 0.0,
                format!("{xp}.values[{k}].value"),
                "expected a finite value of 0 or more",
            );
            if k > 0 {
                e.check(
                    v.at.0 > x.values[k - 1].at.0,
                    format!("{xp}.values[{k}].at"),
                    "expected steps in increasing time order",
                );
            }
        }
        match (x.target_value, x.target_average_value) {
            (Some(t), None) | (None, Some(t)) => e.check(
                t.is_finite() && t > 0.0,
                format!(
                    "{xp}.{}",
                    if x.target_value.is_some() { "targetValue" } else { "targetAverageValue" }
                ),
                "expected a target greater than 0",
            ),
            _ => e.push(xp.clone(), "expected exactly one of targetValue and targetAverageValue"),
        }
    }
    if needs_cpu_request && d.template.requests.cpu.is_none_or(|c| c.0 == 0) {
        e.push(
            format!("{hp}.targetCpuUtilization"),
            "a CPU utilisation target needs template.requests.cpu (utilisation is a share of the request)",
        );
    }
    if let Some(r) = h.target_requests_per_second {
        e.check(
            r.is_finite() && r > 0.0,
            format!("{hp}.targetRequestsPerSecond"),
            format!("got {r}; expected a finite rate greater than 0"),
        );
        e.check(
            d.service.is_some(),
            format!("{hp}.targetRequestsPerSecond"),
            "needs a service on the Deployment",
        );
    }
    if let Some(b) = &h.behavior {
        for (dir, r) in [("scaleUp", &b.scale_up), ("scaleDown", &b.scale_down)] {
            let Some(r) = r else { continue };
            let rp = format!("{hp}.behavior.{dir}");
            if let Some(w) = r.stabilization_window_seconds {
                e.check(
                    (0..=3600).contains(&w),
                    format!("{rp}.stabilizationWindowSeconds"),
                    "expected 0 to 3600 (upstream validation)",
                );
            }
            e.check(
                !r.policies.is_empty(),
                format!("{rp}.policies"),
                "expected at least one policy (upstream validation)",
            );
            for (k, p) in r.policies.iter().enumerate() {
                e.check(p.value > 0, format!("{rp}.policies[{k}].value"), "expected a value greater than 0");
                e.check(
                    (1..=1800).contains(&p.period_seconds),
                    format!("{rp}.policies[{k}].periodSeconds"),
                    "expected 1 to 1800 seconds (upstream validation)",
                );
            }
        }
    }
}

/// A control-plane fault lasts a given time (the API comes back; the relist storm and the
/// node-lifecycle controller's disruption modes follow).
fn cp_fault_duration(e: &mut Errors, at: &str, f: &crate::scenario::schema::FaultSpec) {
    if f.duration.is_none() {
        e.push(
            format!("{at}.duration"),
            "a control-plane fault needs a duration (how long the API server or etcd is away), e.g. `duration: 5m`",
        );
    }
}

fn validate_control_plane(e: &mut Errors, cp: &ControlPlaneSpec) {
    if let Some(m) = &cp.misbehaving_client {
        let r = m.lists_per_second;
        e.check(
            r.is_finite() && r > 0.0 && r <= 100_000.0,
            "controlPlane.misbehavingClient.listsPerSecond",
            format!("got {r}; expected a rate greater than 0 and at most 100000 LISTs per second"),
        );
        if let Some(d) = m.duration {
            e.check(
                d.0.as_nanos() > 0,
                "controlPlane.misbehavingClient.duration",
                "expected a duration greater than 0",
            );
        }
    }
    for (name, c) in [
        ("scheduler", cp.clients.scheduler),
        ("controllerManager", cp.clients.controller_manager),
        ("kubelet", cp.clients.kubelet),
    ] {
        let at = format!("controlPlane.clients.{name}");
        if c.qps == 0.0 && c.burst == 0 {
            e.push(
                at.clone(),
                "qps 0 with burst 0 would never let a request through; expected qps > 0 and burst >= 1",
            );
            continue;
        }
        e.check(
            c.qps.is_finite() && c.qps > 0.0,
            format!("{at}.qps"),
            format!("got {}; expected a finite rate greater than 0 requests per second", c.qps),
        );
        e.check(
            c.burst >= 1,
            format!("{at}.burst"),
            "expected at least 1 (a token bucket holds at least one request)",
        );
    }
    let w = cp.etcd.max_writes_per_second;
    e.check(
        w.is_finite() && w > 0.0,
        "controlPlane.etcd.maxWritesPerSecond",
        format!("got {w}; expected a finite capacity greater than 0 writes per second"),
    );
    e.check(
        cp.watch.max_endpoints_per_slice >= 1,
        "controlPlane.watch.maxEndpointsPerSlice",
        "expected at least 1 (upstream default 100)",
    );
    if let Some(a) = &cp.apiserver {
        e.check(
            a.replicas >= 1,
            "controlPlane.apiserver.replicas",
            "expected at least 1 kube-apiserver replica",
        );
        e.check(
            a.cores >= 1,
            "controlPlane.apiserver.cores",
            "expected at least 1 core per replica (zero cores would never serve a request)",
        );
        e.check(
            cp.etcd.quota_backend_bytes() > 0,
            "controlPlane.etcd.quotaBackendBytes",
            "expected more than 0 bytes (upstream default 2Gi)",
        );
    }
    if let Some(apf) = &cp.apf {
        if let Err(errors) = crate::controlplane::apf::configure(apf) {
            for (path, reason) in errors {
                e.push(format!("controlPlane.apf.{path}"), reason);
            }
        }
        e.check(
            u64::from(cp.max_requests_inflight) + u64::from(cp.max_mutating_requests_inflight) > 0,
            "controlPlane.maxRequestsInflight",
            "with apf the server's seats are maxRequestsInflight + maxMutatingRequestsInflight; both 0 leaves none",
        );
    }
}

/// The expander names clustersim implements (upstream `expander/factory/expander_factory.go`
/// also has least-nodes and grpc).
pub const EXPANDERS: [&str; 5] = ["least-waste", "most-pods", "random", "price", "priority"];

fn validate_cluster_autoscaler(e: &mut Errors, ca: &ClusterAutoscalerSpec, s: &Scenario) {
    let at = |f: &str| format!("clusterAutoscaler.{f}");
    e.check(
        s.node_pools.iter().any(|p| p.autoscaling.is_some()),
        "clusterAutoscaler",
        "no node pool has `autoscaling: {minSize, maxSize}`; add it to the pools the autoscaler may resize",
    );
    let names: Vec<&str> = ca.expander.split(',').map(str::trim).collect();
    for (i, n) in names.iter().enumerate() {
        if !EXPANDERS.contains(n) {
            e.push(
                at("expander"),
                format!(
                    "unknown expander {n:?}; expected one of {} (or a comma-separated chain)",
                    EXPANDERS.join(", ")
                ),
            );
        } else if names[..i].contains(n) {
            e.push(at("expander"), format!("expander {n:?} appears twice in the chain"));
        }
    }
    e.check(
        ca.scan_interval.0.as_nanos() > 0,
        at("scan-interval"),
        "expected an interval greater than 0 (upstream default 10s)",
    );
    e.check(
        ca.scale_down_utilization_threshold.is_finite()
            && (0.0..=1.0).contains(&ca.scale_down_utilization_threshold),
        at("scale-down-utilization-threshold"),
        "expected a fraction in [0, 1] (upstream default 0.5)",
    );
    e.check(
        ca.scale_down_gpu_utilization_threshold.is_finite()
            && (0.0..=1.0).contains(&ca.scale_down_gpu_utilization_threshold),
        at("scale-down-gpu-utilization-threshold"),
        "expected a fraction in [0, 1] (upstream default 0.5)",
    );
    e.check(
        ca.max_total_unready_percentage.is_finite()
            && (0.0..=100.0).contains(&ca.max_total_unready_percentage),
        at("max-total-unready-percentage"),
        "expected a percentage in [0, 100] (upstream default 45)",
    );
    e.check(
        ca.max_empty_bulk_delete >= 1,
        at("max-empty-bulk-delete"),
        "expected at least 1 (upstream default 10)",
    );
    e.check(
        ca.max_node_provision_time.0.as_nanos() > 0,
        at("max-node-provision-time"),
        "expected a duration greater than 0 (upstream default 15m)",
    );
    e.check(
        ca.initial_node_group_backoff_duration.0 <= ca.max_node_group_backoff_duration.0,
        at("initial-node-group-backoff-duration"),
        "expected no more than max-node-group-backoff-duration",
    );
}

fn node_exists(s: &Scenario, name: &str) -> bool {
    s.node_pools.iter().any(|p| {
        name.strip_prefix(&format!("{}-", p.name))
            .and_then(|idx| idx.parse::<u32>().ok())
            .is_some_and(|idx| idx < p.count && name == format!("{}-{idx}", p.name))
    })
}

fn rate_ok(r: f64) -> bool {
    r.is_finite() && r >= 0.0
}

const RATE_MSG: &str = "expected a finite rate of 0 or more requests per second";

fn validate_service(e: &mut Errors, at: &str, svc: &ServiceSpec) {
    e.check(svc.concurrency >= 1, format!("{at}.concurrency"), "expected at least 1 worker per pod");
    if let Some(t) = svc.timeout {
        e.check(t.0.as_nanos() > 0, format!("{at}.timeout"), "expected a timeout greater than 0");
    }
    e.check(
        svc.latency_slo.0.as_nanos() > 0,
        format!("{at}.latencySlo"),
        "expected a latency target greater than 0",
    );
    e.check(
        (0.0..=1.0).contains(&svc.availability_slo),
        format!("{at}.availabilitySlo"),
        "expected a fraction from 0 to 1, e.g. 0.999",
    );
    let trace_times = matches!(&svc.load, LoadSpec::Trace(t) if t.service_time_column.is_some());
    let sources = svc.service_time.is_some() as u8 + svc.service_time_csv.is_some() as u8 + trace_times as u8;
    if sources == 0 {
        e.push(
            format!("{at}.serviceTime"),
            "missing: expected serviceTime (a distribution), serviceTimeCsv, or a trace load with serviceTimeColumn",
        );
    } else if sources > 1 {
        e.push(
            format!("{at}.serviceTime"),
            "give only one of serviceTime, serviceTimeCsv and a trace serviceTimeColumn",
        );
    }
    if let Some(d) = &svc.service_time {
        e.result(format!("{at}.serviceTime"), d.validate());
    }
    if let Some(col) = &svc.service_time_csv {
        e.check(!col.file.trim().is_empty(), format!("{at}.serviceTimeCsv.file"), "expected a file path");
        e.check(
            !col.column.trim().is_empty(),
            format!("{at}.serviceTimeCsv.column"),
            "expected a column name",
        );
    }
    let l = format!("{at}.load");
    match &svc.load {
        LoadSpec::Poisson(p) => e.check(rate_ok(p.rate), format!("{l}.poisson.rate"), RATE_MSG),
        LoadSpec::Steps(steps) => {
            e.check(!steps.is_empty(), format!("{l}.steps"), "expected at least one step");
            for (i, st) in steps.iter().enumerate() {
                e.check(rate_ok(st.rate), format!("{l}.steps[{i}].rate"), RATE_MSG);
                if i > 0 {
                    e.check(
                        st.at.0 >= steps[i - 1].at.0,
                        format!("{l}.steps[{i}].at"),
                        "expected steps in time order",
                    );
                }
            }
        }
        LoadSpec::Ramp(r) => {
            e.check(rate_ok(r.from), format!("{l}.ramp.from"), RATE_MSG);
            e.check(rate_ok(r.to), format!("{l}.ramp.to"), RATE_MSG);
            e.check(r.end.0 > r.start.0, format!("{l}.ramp.end"), "expected end after start");
        }
        LoadSpec::Diurnal(d) => {
            e.check(rate_ok(d.mean), format!("{l}.diurnal.mean"), RATE_MSG);
            e.check(
                d.amplitude.is_finite() && d.amplitude >= 0.0 && d.amplitude <= d.mean,
                format!("{l}.diurnal.amplitude"),
                "expected an amplitude from 0 to the mean (the rate must not go negative)",
            );
            e.check(
                d.period.0.as_nanos() > 0,
                format!("{l}.diurnal.period"),
                "expected a period greater than 0",
            );
        }
        LoadSpec::Spike(sp) => {
            e.check(rate_ok(sp.base), format!("{l}.spike.base"), RATE_MSG);
            e.check(rate_ok(sp.peak), format!("{l}.spike.peak"), RATE_MSG);
            e.check(
                sp.duration.0.as_nanos() > 0,
                format!("{l}.spike.duration"),
                "expected a duration greater than 0",
            );
        }
        LoadSpec::Trace(t) => {
            e.check(!t.file.trim().is_empty(), format!("{l}.trace.file"), "expected a file path");
            e.check(
                !t.time_column.trim().is_empty(),
                format!("{l}.trace.timeColumn"),
                "expected a column name",
            );
            e.check(
                t.time_scale.is_finite() && t.time_scale > 0.0,
                format!("{l}.trace.timeScale"),
                "expected a finite factor greater than 0",
            );
            e.check(
                t.rate_multiplier.is_finite() && t.rate_multiplier >= 0.0,
                format!("{l}.trace.rateMultiplier"),
                "expected a finite factor of 0 or more",
            );
        }
    }
}

fn validate_throughput_collector(e: &mut Errors, tc: &ThroughputCollectorSpec, s: &Scenario) {
    e.check(
        !tc.deployments.is_empty(),
        "throughputCollector.deployments",
        "expected at least one Deployment name: the pods whose scheduling is measured",
    );
    for (i, name) in tc.deployments.iter().enumerate() {
        e.check(
            s.deployments.iter().any(|d| &d.name == name),
            format!("throughputCollector.deployments[{i}]"),
            format!("no Deployment named {name:?}"),
        );
    }
    e.check(
        tc.sample_interval.0.as_nanos() > 0,
        "throughputCollector.sampleInterval",
        "expected an interval greater than 0, e.g. 1s",
    );
}

/// Largest `scheduler.cost.noise.sigma`: a factor of e³ ≈ 20 either way at one standard
/// deviation is already more than any machine's noise.
const MAX_NOISE_SIGMA: f64 = 3.0;

fn validate_scheduler(e: &mut Errors, s: &SchedulerSpec) {
    e.check(
        (0..=100).contains(&s.percentage_of_nodes_to_score),
        "scheduler.percentageOfNodesToScore",
        "expected 0 (adaptive) to 100",
    );
    e.check(
        s.pod_initial_backoff_seconds >= 1,
        "scheduler.podInitialBackoffSeconds",
        "expected at least 1 second (upstream validation)",
    );
    e.check(
        s.pod_max_backoff_seconds >= s.pod_initial_backoff_seconds,
        "scheduler.podMaxBackoffSeconds",
        "expected at least podInitialBackoffSeconds",
    );
    e.check(!s.resources.is_empty(), "scheduler.resources", "expected at least one resource to score");
    let mut seen = BTreeSet::new();
    for (i, r) in s.resources.iter().enumerate() {
        e.check(
            (1..=100).contains(&r.weight),
            format!("scheduler.resources[{i}].weight"),
            "expected a weight from 1 to 100 (upstream validation)",
        );
        e.check(
            seen.insert(format!("{:?}", r.name)),
            format!("scheduler.resources[{i}].name"),
            "duplicate resource",
        );
    }
    e.check(
        !s.balanced_allocation_resources.is_empty(),
        "scheduler.balancedAllocationResources",
        "expected at least one resource (upstream default: cpu, memory)",
    );
    let mut seen = BTreeSet::new();
    for (i, r) in s.balanced_allocation_resources.iter().enumerate() {
        e.check(
            seen.insert(format!("{r:?}")),
            format!("scheduler.balancedAllocationResources[{i}]"),
            "duplicate resource",
        );
    }
    if let Some(n) = &s.cost.noise {
        e.check(
            n.sigma.is_finite() && (0.0..=MAX_NOISE_SIGMA).contains(&n.sigma),
            "scheduler.cost.noise.sigma",
            format!("expected a number from 0 (no noise) to {MAX_NOISE_SIGMA} (got {})", n.sigma),
        );
        e.check(
            n.period.0.0 > 0,
            "scheduler.cost.noise.period",
            "expected a duration greater than 0, e.g. 1s",
        );
    }
    let w = &s.plugin_weights;
    for (name, v) in [
        ("TaintToleration", w.taint_toleration),
        ("NodeAffinity", w.node_affinity),
        ("NodeResourcesFit", w.node_resources_fit),
        ("NodeResourcesBalancedAllocation", w.node_resources_balanced_allocation),
    ] {
        e.check(
            (0..=100).contains(&v),
            format!("scheduler.pluginWeights.{name}"),
            "expected a weight from 0 (disabled) to 100",
        );
    }
}

fn validate_template(e: &mut Errors, at: &str, t: &PodTemplateSpec, s: &Scenario) {
    if let Some(name) = &t.priority_class_name
        && !s.priority_classes.iter().any(|c| &c.name == name)
    {
        let known: Vec<&str> = s.priority_classes.iter().map(|c| c.name.as_str()).collect();
        e.push(
            format!("{at}.priorityClassName"),
            format!(
                "no PriorityClass named {name:?}; expected one of priorityClasses [{}]",
                known.join(", ")
            ),
        );
    }
    let cpu = t.requests.cpu.map_or(0, |q| q.0);
    let mem = t.requests.memory.map_or(0, |q| q.0);
    let gpu = t.requests.gpu.map_or(0, |q| q.0);
    validate_gpu_request(e, at, t);
    // A pod that no node pool could ever hold is almost always a unit mistake (2G vs 2Gi
    // is fine, 2000 vs 2 CPU is not).
    if !s.node_pools.is_empty() {
        let fits_somewhere = s.node_pools.iter().any(|p| {
            cpu <= p.allocatable.cpu.0 && mem <= p.allocatable.memory.0 && gpu <= p.allocatable.gpu.0
        });
        if !fits_somewhere {
            e.push(
                format!("{at}.requests"),
                format!(
                    "requests (cpu {cpu}m, memory {mem} bytes, gpu {gpu}) exceed the allocatable of every node pool, so these pods could never be scheduled"
                ),
            );
        }
    }
    if t.node_selector.contains_key(HOSTNAME_LABEL) {
        e.push(format!("{at}.nodeSelector"), HOSTNAME_UNLABELLED);
    }
    validate_affinity(e, &format!("{at}.affinity"), &t.affinity);
    if let Some(c) = &t.crashes {
        let path = format!("{at}.crashes.timeToCrash");
        match c.time_to_crash.validate() {
            Err(m) => e.push(path, m),
            Ok(()) if c.time_to_crash.mean_secs() <= 0.0 => {
                e.push(path, "expected a distribution with a mean greater than 0 (a zero rate)")
            }
            Ok(()) => {}
        }
    }
    validate_tolerations(e, &format!("{at}.tolerations"), &t.tolerations);
    let grace = t.termination_grace_period_seconds;
    e.check(
        (0..=MAX_GRACE_PERIOD_SECONDS).contains(&grace),
        format!("{at}.terminationGracePeriodSeconds"),
        format!("expected a whole number of seconds from 0 to {MAX_GRACE_PERIOD_SECONDS} (got {grace})"),
    );
    let path = format!("{at}.terminationTime");
    match &t.termination_time {
        TerminationTimeSpec::Negative(v) => {
            e.push(path, format!("expected a duration of 0 or more, e.g. 10s (got {v})"))
        }
        TerminationTimeSpec::Distribution(d) => e.result(path, d.validate()),
        TerminationTimeSpec::Duration(_) => {}
    }
}

/// Longest `terminationGracePeriodSeconds` accepted (about 31 years; keeps nanosecond
/// arithmetic far from overflow).
const MAX_GRACE_PERIOD_SECONDS: i64 = 1_000_000_000;

fn validate_affinity(e: &mut Errors, at: &str, a: &Affinity) {
    let Some(na) = &a.node_affinity else { return };
    let at = format!("{at}.nodeAffinity");
    if let Some(req) = &na.required_during_scheduling_ignored_during_execution {
        let p = format!("{at}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms");
        e.check(!req.node_selector_terms.is_empty(), &p, "expected at least one term");
        for (i, term) in req.node_selector_terms.iter().enumerate() {
            for (j, r) in term.match_expressions.iter().enumerate() {
                let p = format!("{p}[{i}].matchExpressions[{j}]");
                check_requirement(e, &p, r.operator, &r.values);
                e.check(r.key != HOSTNAME_LABEL, format!("{p}.key"), HOSTNAME_UNLABELLED);
            }
        }
    }
    for (i, pref) in na.preferred_during_scheduling_ignored_during_execution.iter().enumerate() {
        let p = format!("{at}.preferredDuringSchedulingIgnoredDuringExecution[{i}]");
        e.check((1..=100).contains(&pref.weight), format!("{p}.weight"), "expected a weight from 1 to 100");
        for (j, r) in pref.preference.match_expressions.iter().enumerate() {
            let p = format!("{p}.preference.matchExpressions[{j}]");
            check_requirement(e, &p, r.operator, &r.values);
            e.check(r.key != HOSTNAME_LABEL, format!("{p}.key"), HOSTNAME_UNLABELLED);
        }
    }
}

/// The node label upstream's kubelet sets to the node's name.
const HOSTNAME_LABEL: &str = crate::cluster::spread::HOSTNAME_LABEL;

/// Why `kubernetes.io/hostname` is refused outside topology keys: a node selector on it
/// would silently match no node.
const HOSTNAME_UNLABELLED: &str = "kubernetes.io/hostname is not a node label in clustersim (nodes have no \
    per-node labels, so a selector on it would match no node); it is only accepted as a \
    topologyKey of topologySpreadConstraints and pod (anti-)affinity, where each node is its own domain";

/// Upstream `ValidateNodeSelectorRequirement` rules.
fn check_requirement(e: &mut Errors, at: &str, op: SelectorOperator, values: &[String]) {
    match op {
        SelectorOperator::In | SelectorOperator::NotIn => {
            e.check(!values.is_empty(), format!("{at}.values"), "expected at least one value for In/NotIn")
        }
        SelectorOperator::Exists | SelectorOperator::DoesNotExist => {
            e.check(values.is_empty(), format!("{at}.values"), "expected no values for Exists/DoesNotExist")
        }
        SelectorOperator::Gt | SelectorOperator::Lt => e.check(
            values.len() == 1 && values[0].parse::<i64>().is_ok(),
            format!("{at}.values"),
            "expected exactly one integer value for Gt/Lt",
        ),
    }
}

fn validate_tolerations(e: &mut Errors, at: &str, ts: &[Toleration]) {
    for (i, t) in ts.iter().enumerate() {
        if t.operator == TolerationOperator::Exists && !t.value.is_empty() {
            e.push(format!("{at}[{i}].value"), "expected no value when operator is Exists");
        }
        if t.key.is_empty() && t.operator != TolerationOperator::Exists {
            e.push(format!("{at}[{i}].operator"), "an empty key requires operator Exists");
        }
        if let Some(s) = t.toleration_seconds {
            e.check(s >= 0, format!("{at}[{i}].tolerationSeconds"), "expected 0 or more seconds");
        }
    }
}

/// A template's GPU request: whole GPUs (at most `MAX_GPUS_PER_NODE`), or with
/// `alibabacloud.com/gpu-milli` below 1000 a share of exactly one GPU.
fn validate_gpu_request(e: &mut Errors, at: &str, t: &crate::scenario::schema::PodTemplateSpec) {
    use crate::cluster::gpu::MAX_GPUS_PER_NODE;
    let gpu = t.requests.gpu.map(|q| q.0);
    if let Some(n) = gpu
        && n > MAX_GPUS_PER_NODE as i64
    {
        e.push(
            format!("{at}.requests.nvidia.com/gpu"),
            format!("{n} GPUs; expected at most {MAX_GPUS_PER_NODE} (a pod's GPUs are on one node)"),
        );
    }
    if let Some(m) = t.requests.gpu_milli.map(|q| q.0) {
        let path = format!("{at}.requests.alibabacloud.com/gpu-milli");
        if !(1..=1000).contains(&m) {
            e.push(path, format!("{m}; expected 1 to 1000 milli-units of each GPU"));
        } else if gpu.is_none() {
            e.push(path, "needs `nvidia.com/gpu` (the number of GPUs, each taking this share)".to_string());
        } else if m < 1000 && gpu != Some(1) {
            e.push(
                path,
                format!(
                    "a share of {m} (below a whole GPU) needs `nvidia.com/gpu: 1`, found {}; a share must fit on one GPU",
                    gpu.unwrap_or(0)
                ),
            );
        }
    }
}

/// `podTraces[i].inflation`: a target and interval in range, and none of the settings that
/// read the trace's times (the protocol does not use them).
fn validate_inflation(e: &mut Errors, s: &Scenario, i: usize, t: &crate::scenario::schema::PodTraceSpec) {
    let Some(inf) = &t.inflation else { return };
    let at = |f: &str| format!("podTraces[{i}].{f}");
    e.check(
        (1..=1000).contains(&inf.gpu_percent),
        at("inflation.gpuPercent"),
        format!("{}; expected 1 to 1000 (percent of the cluster's GPUs; the paper: 130)", inf.gpu_percent),
    );
    e.check(
        inf.interval.0.as_nanos() > 0,
        at("inflation.interval"),
        "expected a time between pods above 0, e.g. 1s",
    );
    for (field, set) in [
        ("timeScale", t.time_scale != 1.0),
        ("durationScale", t.duration_scale != 1.0),
        ("rateMultiplier", t.rate_multiplier != 1.0),
        ("window", t.window.is_some()),
    ] {
        if set {
            e.push(
                at(field),
                format!("`{field}` reads the trace's times, which `inflation` does not use (one pod per interval, never deleted); remove one of them"),
            );
        }
    }
    let gpus: i64 = s.node_pools.iter().map(|p| i64::from(p.count) * p.allocatable.gpu.0).sum();
    // Node lists become pools when their files are read, before validation (a scenario
    // parsed without its files has none yet).
    let lists_read = s
        .node_lists
        .iter()
        .all(|l| s.node_pools.iter().any(|p| p.from_node_list.as_deref() == Some(l.name.as_str())));
    e.check(gpus > 0 || !lists_read, at("inflation"), "the node pools have no GPUs; inflation repeats rows until the GPUs requested reach a share of the cluster's GPUs");
}

/// A rolling update's `maxSurge`/`maxUnavailable` (upstream `ValidateRollingUpdateDeployment`,
/// `pkg/apis/apps/validation/validation.go`): a count or `"<integer>%"`, `maxUnavailable`
/// at most 100 %, and not both 0.
fn validate_rollout(e: &mut Errors, path: &str, r: &super::schema::RolloutSpec) {
    use super::schema::IntOrPercent;
    for (field, v) in [("maxSurge", &r.max_surge), ("maxUnavailable", &r.max_unavailable)] {
        if let IntOrPercent::Percent(text) = v {
            e.check(
                v.percent().is_some(),
                format!("{path}.{field}"),
                format!("got {text:?}; expected a count (3) or a percentage (\"25%\")"),
            );
        }
    }
    e.check(
        r.max_unavailable.percent().is_none_or(|p| p <= 100),
        format!("{path}.maxUnavailable"),
        "expected at most 100%",
    );
    e.check(
        !(r.max_surge.is_zero() && r.max_unavailable.is_zero()),
        format!("{path}.maxUnavailable"),
        "may not be 0 when maxSurge is 0 (the update could never proceed)",
    );
}
