//! End-to-end runs of the shipped scenarios (build + run, no file output), single-threaded.
//! Targets: density-5k under 3 s, churn-1day under 1 s (issue #2); autoscale-diurnal (a day,
//! HPA + cluster autoscaler, ~500 nodes at the peak, traffic on) under 10 s (issue #5).

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
    for name in ["quickstart", "churn-1day", "density-5k", "hpa-spike", "autoscale-diurnal"] {
        let file = format!("{}/scenarios/{name}.yaml", env!("CARGO_MANIFEST_DIR"));
        g.bench_function(name, |b| b.iter(|| run(&file)));
    }
    g.finish();
}

criterion_group!(benches, scenarios);
criterion_main!(benches);
