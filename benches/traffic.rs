//! Request throughput of the traffic model (issue #3 target: ≥ 4 million simulated
//! requests per second of wall time): one service of 100 pods × 1 worker, exponential
//! service times of mean 8 ms, Poisson arrivals at 10,000/s (utilisation 0.8), 100
//! simulated seconds (≈ 1,000,000 requests) per iteration — arrivals, routing, queueing,
//! completion and metrics included. One group per load-balancing policy.

use clustersim::scenario;
use clustersim::sim::Simulation;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::path::Path;

fn yaml(lb: &str) -> String {
    format!(
        "
duration: 100s
scheduler: {{cost: {{perPod: 0s, perNodeExamined: 0s}}}}
nodePools:
  - name: p
    count: 100
    allocatable: {{cpu: 4, memory: 16Gi}}
    kubelet: {{imagePull: {{constant: 0s}}, containerStart: {{constant: 0s}}}}
deployments:
  - name: web
    replicas: 100
    template: {{requests: {{cpu: 1}}}}
    service:
      concurrency: 1
      loadBalancing: {lb}
      serviceTime: {{exponential: {{mean: 8ms}}}}
      load: {{poisson: {{rate: 10000}}}}
"
    )
}

fn traffic(c: &mut Criterion) {
    let mut g = c.benchmark_group("traffic_100_pods_util_0.8");
    g.sample_size(10);
    for lb in ["Random", "RoundRobin", "PowerOfTwoChoices", "LeastOutstanding"] {
        let s = scenario::parse_str(&yaml(lb), Path::new("bench.yaml")).expect("valid");
        // Count the requests of one run so throughput is reported per request.
        let requests = Simulation::new(&s, 1)
            .expect("builds")
            .run()
            .summary
            .iter()
            .find(|(k, _)| k == "requests")
            .and_then(|(_, v)| v.as_f64())
            .unwrap_or(0.0) as u64;
        g.throughput(Throughput::Elements(requests));
        g.bench_function(lb, |b| b.iter(|| Simulation::new(&s, 1).expect("builds").run().summary.len()));
    }
    g.finish();
}

// No HTML plots: they need a system font, and the figures go to BENCHMARKS.md.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = traffic
}
criterion_main!(benches);
