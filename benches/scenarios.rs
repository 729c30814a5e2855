//! End-to-end runs of the shipped scenarios (build + run, no file output), single-threaded.
//! Targets: density-5k under 3 s, churn-1day under 1 s (issue #2); density-5k-spread (zone
//! spread + hostname anti-affinity on 50 Deployments) within 2x of density-5k (issue #14);
//! autoscale-diurnal (a day,
//! HPA + cluster autoscaler, ~500 nodes at the peak, traffic on) under 10 s (issue #5);
//! gke-65k (65,000 nodes, 230,000 pods, 50,000 preemptions) under 60 s (issue #7), benched
//! here at a fifth of its size (`gke-13k`: 13,000 nodes, same phases) so a sample takes
//! seconds; the full run's figure is measured with `/usr/bin/time` (BENCHMARKS.md); likewise
//! density-100k (under 30 s, issue #18) is benched at a tenth (`density-10k`).

use clustersim::scenario;
use clustersim::sim::Simulation;
use criterion::{Criterion, criterion_group, criterion_main};
use std::path::Path;

fn run(file: &str) -> u64 {
    let s = scenario::load(Path::new(file), &[]).expect("valid scenario");
    let out = Simulation::new(&s, s.seed).expect("builds").run();
    out.cluster.totals.pods_created
}

fn scenarios(c: &mut Criterion) {
    let mut g = c.benchmark_group("scenario");
    g.sample_size(10);
    for name in
        ["quickstart", "churn-1day", "density-5k", "density-5k-spread", "hpa-spike", "autoscale-diurnal"]
    {
        let file = format!("{}/scenarios/{name}.yaml", env!("CARGO_MANIFEST_DIR"));
        g.bench_function(name, |b| b.iter(|| run(&file)));
    }
    // gke-65k at a fifth of its size: every count divided by 5, the phases unchanged.
    let file = format!("{}/scenarios/gke-65k.yaml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&file).expect("scenario readable");
    let text = text.replace("65000", "13000").replace("50000", "10000").replace("15000", "3000");
    let s = scenario::parse_str(&text, Path::new(&file)).expect("valid scenario");
    g.bench_function("gke-13k", |b| {
        b.iter(|| Simulation::new(&s, s.seed).expect("builds").run().cluster.totals.pods_created)
    });
    // density-100k at a tenth (10,000 nodes, 300,000 pods, 500 candidates an attempt): the
    // packed cycle's block states at work (issue #18).
    let file = format!("{}/scenarios/density-100k.yaml", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&file).expect("scenario readable");
    let text = text
        .replace("count: 100000", "count: 10000")
        .replace("replicas: 3000000", "replicas: 300000")
        .replace("150180s", "15180s");
    let s = scenario::parse_str(&text, Path::new(&file)).expect("valid scenario");
    assert_eq!(s.node_pools[0].count, 10_000, "the resize must apply");
    g.bench_function("density-10k", |b| {
        b.iter(|| Simulation::new(&s, s.seed).expect("builds").run().cluster.totals.pods_created)
    });
    g.finish();
}

// No HTML plots: they need a system font, and the figures go to BENCHMARKS.md.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = scenarios
}
criterion_main!(benches);
