//! Conservation, as a property over random small scenarios: no pod is lost or counted
//! twice, allocated resources never exceed allocatable on any node, every pod is in
//! exactly one phase, and the maintained sums equal the sums over bound pods — checked
//! every few simulated seconds, not only at the end.

use clustersim::cluster::PodPhase;
use clustersim::engine::{SimDuration, SimTime};
use clustersim::scenario;
use clustersim::sim::Simulation;
use proptest::prelude::*;
use std::fmt::Write;
use std::path::Path;

#[derive(Debug, Clone)]
struct Pool {
    count: u32,
    cpu_milli: u32,
    mem_gi: u32,
    max_pods: u32,
    zones: u32,
    taint: u8,
    /// Mean time to failure / repair, seconds (0 = no failures).
    mttf: u32,
    mttr: u32,
}

#[derive(Debug, Clone)]
struct Template {
    cpu_milli: Option<u32>,
    mem_mi: Option<u32>,
    priority: i32,
    zone_selector: Option<u32>,
    tolerate: bool,
    crash: bool,
}

#[derive(Debug, Clone)]
struct Dep {
    replicas: u32,
    rate: f64,
    t: Template,
    /// (at seconds, replicas) steps.
    scale: Vec<(u32, u32)>,
    /// 0: no traffic; 1: a service; 2: a service and an HPA.
    traffic: u8,
    lb: &'static str,
    min_available: Option<u32>,
}

#[derive(Debug, Clone)]
struct Churn {
    rate: f64,
    mean_life_s: u32,
    templates: Vec<Template>,
}

fn pool() -> impl Strategy<Value = Pool> {
    (
        0u32..6,
        500u32..8000,
        1u32..16,
        1u32..20,
        1u32..4,
        0u8..3,
        prop::sample::select(vec![0u32, 60, 300]),
        5u32..120,
    )
        .prop_map(|(count, cpu_milli, mem_gi, max_pods, zones, taint, mttf, mttr)| Pool {
            count,
            cpu_milli,
            mem_gi,
            max_pods,
            zones,
            taint,
            mttf,
            mttr,
        })
}

fn template() -> impl Strategy<Value = Template> {
    (
        prop::option::of(0u32..2000),
        prop::option::of(0u32..3000),
        -5i32..5,
        prop::option::of(0u32..3),
        any::<bool>(),
        prop::bool::weighted(0.2),
    )
        .prop_map(|(cpu_milli, mem_mi, priority, zone_selector, tolerate, crash)| Template {
            cpu_milli,
            mem_mi,
            priority,
            zone_selector,
            tolerate,
            crash,
        })
}

/// `graceful`: every template takes 0 to 20 s to exit after SIGTERM, with a 15 s grace
/// period (graceful termination).
fn write_template(y: &mut String, indent: &str, t: &Template, graceful: bool) {
    if graceful {
        let _ = writeln!(y, "{indent}terminationTime: {{uniform: {{min: 0s, max: 20s}}}}");
        let _ = writeln!(y, "{indent}terminationGracePeriodSeconds: 15");
    }
    let _ = writeln!(y, "{indent}priority: {}", t.priority);
    let _ = writeln!(y, "{indent}requests:");
    if let Some(c) = t.cpu_milli {
        let _ = writeln!(y, "{indent}  cpu: {c}m");
    }
    if let Some(m) = t.mem_mi {
        let _ = writeln!(y, "{indent}  memory: {m}Mi");
    }
    if t.cpu_milli.is_none() && t.mem_mi.is_none() {
        let _ = writeln!(y, "{indent}  {{}}");
    }
    if let Some(z) = t.zone_selector {
        let _ = writeln!(y, "{indent}nodeSelector: {{topology.kubernetes.io/zone: z{z}}}");
    }
    if t.tolerate {
        let _ = writeln!(y, "{indent}tolerations: [{{key: dedicated, operator: Exists}}]");
    }
    if t.crash {
        let _ = writeln!(y, "{indent}crashes: {{timeToCrash: {{exponential: {{mean: 60s}}}}}}");
    }
}

fn yaml(
    seed: u64,
    pools: &[Pool],
    deps: &[Dep],
    churn: &[Churn],
    extras: (bool, bool, bool),
    graceful: bool,
    preempt: bool,
) -> String {
    // Short lifecycle timings so that failures are detected and pods evicted within the run.
    let mut y = format!(
        "seed: {seed}\nduration: 300s\nsampleInterval: 10s\nnodeLifecycle: {{nodeMonitorGracePeriod: 20s, defaultTolerationSeconds: 30}}\nnodePools:\n"
    );
    for (i, p) in pools.iter().enumerate() {
        let zones: Vec<String> = (0..p.zones).map(|z| format!("z{z}")).collect();
        let _ = writeln!(
            y,
            "  - name: p{i}\n    count: {}\n    zones: [{}]\n    allocatable: {{cpu: {}m, memory: {}Gi, pods: {}}}",
            p.count,
            zones.join(", "),
            p.cpu_milli,
            p.mem_gi,
            p.max_pods
        );
        match p.taint {
            1 => y.push_str("    taints: [{key: dedicated, value: x, effect: NoSchedule}]\n"),
            2 => y.push_str("    taints: [{key: dedicated, value: x, effect: PreferNoSchedule}]\n"),
            _ => {}
        }
        y.push_str("    kubelet: {imagePull: {exponential: {mean: 2s}}, containerStart: {uniform: {min: 0.5s, max: 1.5s}}}\n");
        if extras.2 {
            // Short cluster-autoscaler timings so nodes come and go within the run.
            let _ = writeln!(
                y,
                "    autoscaling: {{minSize: 0, maxSize: {}, provisioningDelay: {{uniform: {{min: 5s, max: 30s}}}}}}",
                p.count + 3
            );
        }
        if p.mttf > 0 {
            let _ = writeln!(
                y,
                "    failures: {{timeToFailure: {{exponential: {{mean: {}s}}}}, timeToRepair: {{exponential: {{mean: {}s}}}}}}",
                p.mttf, p.mttr
            );
        }
    }
    y.push_str("deployments:\n");
    if deps.is_empty() {
        y.truncate(y.len() - "deployments:\n".len());
    }
    for (i, d) in deps.iter().enumerate() {
        let steps: Vec<String> =
            d.scale.iter().map(|(at, r)| format!("{{at: {at}s, replicas: {r}}}")).collect();
        let _ = writeln!(
            y,
            "  - name: d{i}\n    replicas: {}\n    createRate: {}\n    scale: [{}]\n    template:",
            d.replicas,
            d.rate,
            steps.join(", ")
        );
        write_template(&mut y, "      ", &d.t, graceful);
        if d.traffic > 0 {
            let _ = writeln!(
                y,
                "    service: {{concurrency: 2, queueLimit: 5, timeout: 1s, loadBalancing: {}, serviceTime: {{exponential: {{mean: 50ms}}}}, load: {{poisson: {{rate: 20}}}}}}",
                d.lb
            );
        }
        if d.traffic > 1 {
            y.push_str(
                "    horizontalPodAutoscaler: {minReplicas: 1, maxReplicas: 8, targetCpuUtilization: 50}\n",
            );
        }
        if let Some(m) = d.min_available {
            let _ = writeln!(y, "    minAvailable: {m}");
        }
    }
    let (chaos, drain, autoscale) = extras;
    if preempt {
        y.push_str("scheduler: {preemption: true}\n");
    }
    if autoscale {
        y.push_str(
            "clusterAutoscaler: {scan-interval: 5s, scale-down-unneeded-time: 20s, scale-down-delay-after-add: 20s, scale-down-unready-time: 40s, max-node-provision-time: 25s}\n",
        );
    }
    if chaos {
        y.push_str("chaos: {failureRate: 0.2, interval: 60s, simulatedDowntime: 30s}\n");
    }
    if drain && pools.first().is_some_and(|p| p.count > 0) {
        y.push_str("maintenance: [{at: 100s, drain: p0-0, duration: 60s}]\n");
    }
    if !churn.is_empty() {
        y.push_str("churn:\n");
    }
    for (i, c) in churn.iter().enumerate() {
        let _ = writeln!(
            y,
            "  - name: c{i}\n    arrivalRate: {}\n    lifetime: {{exponential: {{mean: {}s}}}}\n    templates:",
            c.rate, c.mean_life_s
        );
        for (j, t) in c.templates.iter().enumerate() {
            let _ = writeln!(y, "      - weight: {}\n        template:", j + 1);
            write_template(&mut y, "          ", t, graceful);
        }
    }
    y
}

fn check(
    seed: u64,
    pools: Vec<Pool>,
    deps: Vec<Dep>,
    extras: (bool, bool, bool),
    churn: Vec<Churn>,
    graceful: bool,
    preempt: bool,
) -> Result<(), TestCaseError> {
    let text = yaml(seed, &pools, &deps, &churn, extras, graceful, preempt);
    let parsed = scenario::parse_str(&text, Path::new("prop.yaml"));
    prop_assert!(parsed.is_ok(), "generated YAML must parse: {:?}\n{}", parsed.err(), text);
    let Ok(s) = parsed else { unreachable!() };
    // Scenarios whose pods fit no pool, or that have pods but no nodes, are rejected
    // by validation (tested in bad_input.rs); skip them here.
    prop_assume!(scenario::validate::validate(&s).is_ok());

    let mut sim = Simulation::new(&s, s.seed).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let mut t = SimTime::ZERO;
    loop {
        t += SimDuration::from_secs(5);
        let more = sim.step_until(t);
        if let Err(e) = sim.cluster.check_invariants() {
            return Err(TestCaseError::fail(format!("at {t}: {e}\n{text}")));
        }
        // A Terminating pod on a working node is gone within its 15 s grace period.
        for (i, p) in sim.cluster.pods.all().enumerate() {
            if p.phase == PodPhase::Terminating
                && p.node.is_some_and(|n| sim.cluster.node(n).up)
                && p.terminating_at.is_some_and(|at| at + SimDuration::from_secs(15) < t)
            {
                return Err(TestCaseError::fail(format!("at {t}: pod {i} Terminating too long\n{text}")));
            }
        }
        if !more {
            break;
        }
    }
    if preempt {
        PREEMPTIONS.fetch_add(sim.scheduler.stats.preemptions, std::sync::atomic::Ordering::Relaxed);
    }
    let c = &sim.cluster;
    let scheduled = c.pods.all().filter(|p| p.scheduled_at.is_some()).count() as u64;
    prop_assert_eq!(scheduled, sim.scheduler.stats.scheduled, "each pod is scheduled at most once");
    for p in c.pods.all() {
        // Timestamps only move forward along the lifecycle.
        if let (Some(a), Some(b)) = (p.scheduled_at, p.bound_at) {
            prop_assert!(a <= b);
        }
        if let (Some(b), Some(r)) = (p.bound_at, p.running_at) {
            prop_assert!(b <= r);
        }
        if let (Some(r), Some(f)) = (p.running_at, p.finished_at) {
            prop_assert!(r <= f);
        }
        if let (Some(d), Some(f)) = (p.terminating_at, p.finished_at) {
            prop_assert!(d <= f);
        }
        prop_assert!(p.created_at <= p.scheduled_at.unwrap_or(SimTime::MAX));
        if p.phase == PodPhase::Running {
            prop_assert!(p.running_at.is_some() && p.node.is_some());
        }
        if !graceful {
            prop_assert!(p.terminating_at.is_none());
        }
    }
    // Deployments keep their replica count whenever they had the capacity: a live
    // pod exists for every replica (pending or not).
    for d in &c.deployments {
        prop_assert!(d.live_pods <= d.replicas);
    }
    let out = sim.finish();
    let created = out.summary.iter().find(|(k, _)| *k == "pods_created").map(|(_, v)| v.render());
    prop_assert_eq!(created, Some(out.cluster.pods.len().to_string()));
    Ok(())
}

fn deps() -> impl Strategy<Value = Vec<Dep>> {
    prop::collection::vec(
        (
            0u32..25,
            prop::sample::select(vec![0.0, 0.5, 5.0]),
            template(),
            prop::collection::vec((0u32..300, 0u32..30), 0..3),
            0u8..3,
            prop::sample::select(vec!["Random", "RoundRobin", "LeastOutstanding", "PowerOfTwoChoices"]),
            prop::option::of(0u32..4),
        )
            .prop_map(|(replicas, rate, t, scale, traffic, lb, min_available)| Dep {
                replicas,
                rate,
                t,
                scale,
                traffic,
                lb,
                min_available,
            }),
        0..3,
    )
}

fn churns() -> impl Strategy<Value = Vec<Churn>> {
    prop::collection::vec(
        (prop::sample::select(vec![0.1, 0.5, 2.0]), 5u32..120, prop::collection::vec(template(), 1..3))
            .prop_map(|(rate, mean_life_s, templates)| Churn { rate, mean_life_s, templates }),
        0..3,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn pods_are_conserved_and_nodes_never_overcommitted(
        seed in 0u64..1000,
        pools in prop::collection::vec(pool(), 1..4),
        deps in deps(),
        extras in (prop::bool::weighted(0.3), prop::bool::weighted(0.3), prop::bool::weighted(0.4)),
        churn in churns(),
    ) {
        check(seed, pools, deps, extras, churn, false, false)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]

    /// The same with graceful termination everywhere: Terminating pods hold their node
    /// and leave within their grace period; owners never count them.
    #[test]
    fn terminating_pods_are_conserved(
        seed in 0u64..1000,
        pools in prop::collection::vec(pool(), 1..4),
        deps in deps(),
        extras in (prop::bool::weighted(0.3), prop::bool::weighted(0.3), prop::bool::weighted(0.4)),
        churn in churns(),
    ) {
        check(seed, pools, deps, extras, churn, true, false)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]

    /// The same with DefaultPreemption on (priorities -5..5), with and without graceful
    /// termination: nominations, the free-capacity indexes with nominated loads held and the
    /// memoised dry runs stay consistent with the pods (`check_invariants`). Run once, by
    /// `the_preemption_property_preempts`, which also checks that the cases preempt.
    fn preemption_keeps_the_indexes_consistent(
        seed in 0u64..1000,
        pools in prop::collection::vec(pool(), 1..4),
        deps in deps(),
        extras in (prop::bool::weighted(0.3), prop::bool::weighted(0.3), prop::bool::weighted(0.4)),
        churn in churns(),
        graceful in any::<bool>(),
    ) {
        check(seed, pools, deps, extras, churn, graceful, true)?;
    }
}

/// Preemptions over all cases of `preemption_keeps_the_indexes_consistent`.
static PREEMPTIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The preemption property is only worth something if the generated runs preempt.
#[test]
fn the_preemption_property_preempts() {
    preemption_keeps_the_indexes_consistent();
    let n = PREEMPTIONS.load(std::sync::atomic::Ordering::Relaxed);
    assert!(n > 0, "no generated run preempted");
    eprintln!("preemptions over the generated runs: {n}");
}
