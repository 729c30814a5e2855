//! The traffic model against queueing theory. Every comparison runs `R` independent
//! replications (seeds 1..=R) and accepts the simulated mean when it lies within
//! `Z` standard errors of the closed form, the standard error being the spread across
//! replications (so the tolerance follows from the run length: longer runs, tighter
//! bounds), plus a small floor for the start-up bias of runs that begin empty.

#[path = "common/queueing.rs"]
mod theory;

use clustersim::scenario;
use clustersim::sim::Simulation;
use std::path::Path;

const R: u64 = 8;
const Z: f64 = 4.0;

/// A one-service scenario: `pods` pods with `c` workers each, Poisson arrivals at
/// `lambda`/s, the given service-time distribution (YAML), load balancing and queue limit.
fn scenario(pods: u32, c: u32, lambda: f64, service: &str, lb: &str, queue_limit: &str, secs: u64) -> String {
    format!(
        "
duration: {secs}s
sampleInterval: {secs}s
scheduler: {{cost: {{perPod: 0s, perNodeExamined: 0s}}}}
nodePools:
  - name: p
    count: {pods}
    allocatable: {{cpu: 64, memory: 256Gi}}
    kubelet: {{imagePull: {{constant: 0s}}, containerStart: {{constant: 0s}}}}
deployments:
  - name: web
    replicas: {pods}
    template: {{requests: {{cpu: 100m}}}}
    service:
      concurrency: {c}
      queueLimit: {queue_limit}
      loadBalancing: {lb}
      serviceTime: {service}
      load: {{poisson: {{rate: {lambda}}}}}
"
    )
}

fn run(yaml: &str, seed: u64) -> std::collections::BTreeMap<String, f64> {
    let mut s = scenario::parse_str(yaml, Path::new("inline.yaml")).expect("parses");
    scenario::validate::validate(&s).expect("valid");
    s.seed = seed;
    let out = Simulation::new(&s, seed).expect("builds").run();
    out.summary.into_iter().filter_map(|(k, v)| v.as_f64().map(|x| (k, x))).collect()
}

/// Mean and standard error of `f` over R replications.
fn replicate(yaml: &str, f: impl Fn(&std::collections::BTreeMap<String, f64>) -> f64) -> (f64, f64) {
    let xs: Vec<f64> = (1..=R).map(|seed| f(&run(yaml, seed))).collect();
    let mean = xs.iter().sum::<f64>() / R as f64;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (R - 1) as f64;
    (mean, theory::std_error(var, R as f64))
}

fn assert_close(what: &str, sim: (f64, f64), exact: f64, floor: f64) {
    let tol = Z * sim.1 + floor;
    assert!(
        (sim.0 - exact).abs() <= tol,
        "{what}: simulated {:.6} ± {:.6} (SE), theory {exact:.6}, tolerance {tol:.6}",
        sim.0,
        sim.1
    );
}

#[test]
fn mmc_wait_matches_erlang_c() {
    let mu = 100.0; // 10 ms mean service
    for c in [1u32, 4, 16] {
        for rho in [0.5, 0.9] {
            let lambda = rho * c as f64 * mu;
            // About 300,000 requests per replication (more at high load, where the
            // autocorrelation of waits is long).
            let secs = if rho > 0.8 { 3_000 } else { 1_000 } * 100 / (lambda as u64).max(1) * c as u64;
            let secs = secs.max(300);
            let yaml = scenario(1, c, lambda, "{exponential: {mean: 10ms}}", "Random", "~", secs);
            let wq = replicate(&yaml, |m| m["svc_web_mean_wait_ms"] / 1e3);
            let pw = replicate(&yaml, |m| m["svc_web_wait_probability"]);
            let what = format!("M/M/{c} at rho {rho}");
            let exact = theory::mmc_mean_wait(c, lambda, mu);
            assert_close(&format!("{what}: mean wait (s)"), wq, exact, 0.01 * exact);
            assert_close(&format!("{what}: P(wait)"), pw, theory::erlang_c(c, lambda / mu), 0.002);
        }
    }
}

#[test]
fn mmck_blocking_matches_the_closed_form() {
    // c = 2 workers, K = 6 in the system (queueLimit 4), offered load 3 Erlangs.
    let (c, k, mu, lambda) = (2u32, 6u32, 100.0, 300.0);
    let yaml = scenario(1, c, lambda, "{exponential: {mean: 10ms}}", "Random", "4", 1_000);
    let blocked = replicate(&yaml, |m| m["svc_web_rejected_queue_full"] / m["svc_web_requests"]);
    assert_close("M/M/2/6 blocking", blocked, theory::mmck_blocking(c, k, lambda, mu), 0.002);
    let w = replicate(&yaml, |m| m["svc_web_mean_time_in_system_ms"]);
    // mean_time_in_system averages over every arrival (rejected ones count 0 s), so scale
    // by the admitted fraction to compare with the admitted customers' response time.
    let p = theory::mmck_blocking(c, k, lambda, mu);
    assert_close(
        "M/M/2/6 mean response of admitted requests (s)",
        (w.0 / 1e3 / (1.0 - p), w.1 / 1e3 / (1.0 - p)),
        theory::mmck_mean_response(c, k, lambda, mu),
        2e-4,
    );
}

#[test]
fn md1_wait_matches_pollaczek_khinchine() {
    let (d, lambda) = (0.01, 70.0); // rho = 0.7
    let yaml = scenario(1, 1, lambda, "{constant: 10ms}", "Random", "~", 4_000);
    let wq = replicate(&yaml, |m| m["svc_web_mean_wait_ms"] / 1e3);
    let exact = theory::md1_mean_wait(lambda, d);
    assert_close("M/D/1 mean wait (s)", wq, exact, 0.01 * exact);
}

#[test]
fn littles_law_holds_exactly_and_statistically() {
    let (c, mu, lambda) = (4u32, 100.0, 320.0);
    let yaml = scenario(1, c, lambda, "{exponential: {mean: 10ms}}", "Random", "~", 1_000);
    for seed in 1..=3 {
        let m = run(&yaml, seed);
        // ∫N(t)dt (from the change points of N) equals Σ sojourns (from arrival and
        // finish times): L = λW to rounding.
        let l = m["svc_web_mean_in_system"];
        let lw = m["svc_web_arrival_rate_per_s"] * m["svc_web_mean_time_in_system_ms"] / 1e3;
        assert!((l - lw).abs() <= 1e-6 * l.max(1.0), "seed {seed}: L {l} vs λW {lw}");
    }
    let l = replicate(&yaml, |m| m["svc_web_mean_in_system"]);
    let exact = lambda * theory::mmc_mean_response(c, lambda, mu);
    assert_close("M/M/4 mean number in system", l, exact, 0.01);
}

#[test]
fn random_routing_over_n_pods_is_n_independent_mmc_queues() {
    // 4 pods × 2 workers behind random routing: Poisson splitting makes each pod an M/M/2
    // with a quarter of the load.
    let (pods, c, mu, lambda) = (4u32, 2u32, 100.0, 4.0 * 160.0);
    let yaml = scenario(pods, c, lambda, "{exponential: {mean: 10ms}}", "Random", "~", 1_000);
    let wq = replicate(&yaml, |m| m["svc_web_mean_wait_ms"] / 1e3);
    let pw = replicate(&yaml, |m| m["svc_web_wait_probability"]);
    let per_pod = lambda / pods as f64;
    let exact = theory::mmc_mean_wait(c, per_pod, mu);
    assert_close("4 × M/M/2: mean wait (s)", wq, exact, 0.01 * exact);
    assert_close("4 × M/M/2: P(wait)", pw, theory::erlang_c(c, per_pod / mu), 0.003);
}

#[test]
fn least_outstanding_and_power_of_two_beat_random_at_high_load() {
    // 10 pods × 1 worker at utilisation 0.9; the same seeds for every policy (paired).
    let p99 = |lb: &str| {
        replicate(
            &scenario(10, 1, 900.0, "{exponential: {mean: 10ms}}", lb, "~", 300),
            |m| m["svc_web_latency_p99_ms"],
        )
        .0
    };
    let random = p99("Random");
    let lor = p99("LeastOutstanding");
    let p2c = p99("PowerOfTwoChoices");
    let rr = p99("RoundRobin");
    assert!(lor < 0.6 * random, "least-outstanding p99 {lor} ms vs random {random} ms");
    assert!(p2c < 0.7 * random, "power-of-two p99 {p2c} ms vs random {random} ms");
    assert!(lor <= p2c, "full information beats two choices: {lor} vs {p2c}");
    assert!(rr < random, "round robin smooths Poisson arrivals: {rr} vs {random}");
}
