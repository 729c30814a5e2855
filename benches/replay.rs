//! Pod-trace replay at scale (issue #15 target: 1,000,000 pods through 5,000 nodes in under
//! 10 s and 1 GiB): a plain-layout CSV of 1,000,000 pods (25 request shapes, a pod every
//! 100 ms on average, running 1 s to 2.8 h) written to a temporary file once, then loaded
//! (the checking pass) and replayed per iteration. Peak memory is measured with
//! `/usr/bin/time -v clustersim run` on the same file (BENCHMARKS.md).

use clustersim::runner;
use criterion::{Criterion, criterion_group, criterion_main};
use rand_core::{Rng, SeedableRng};
use std::io::Write;

/// The trace: `pod,arrival_ms,duration_ms,cpu_millicores,ram_bytes`, from a fixed seed.
fn write_trace(path: &std::path::Path, rows: u64) {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(1);
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("trace file"));
    writeln!(f, "pod,arrival_ms,duration_ms,cpu_millicores,ram_bytes").expect("write");
    let mut t: u64 = 0;
    for i in 0..rows {
        let mut draw = |n: u64| rng.next_u64() % n;
        t += draw(201);
        let d = 1_000 + draw(10_000_000 - 1_000 + 1);
        let cpu = [250, 500, 1000, 2000, 4000][draw(5) as usize];
        let mem: u64 = [256u64, 512, 1024, 2048, 4096][draw(5) as usize] << 20;
        writeln!(f, "p{i},{t},{d},{cpu},{mem}").expect("write");
    }
}

pub const SCENARIO: &str = "name: replay-1m
duration: 200000s
sampleInterval: 60s
nodePools:
  - name: big
    count: 5000
    allocatable: {cpu: \"32\", memory: 128Gi, pods: 110}
podTraces:
  - name: bench
    file: pods-1m.csv
    preset: plain
";

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    write_trace(&dir.path().join("pods-1m.csv"), 1_000_000);
    let file = dir.path().join("replay.yaml");
    std::fs::write(&file, SCENARIO).expect("scenario");
    let mut g = c.benchmark_group("replay");
    g.sample_size(10);
    g.bench_function("1m-pods-5000-nodes", |b| {
        b.iter(|| {
            let s = runner::load(&file, &[], None).expect("loads");
            let out = runner::simulate(&s, s.seed, None).expect("runs");
            assert_eq!(out.cluster.pods.len(), 1_000_000);
            out.cluster.pods.len()
        })
    });
    g.finish();

    // Issue #16: one run of the FGD study (1,523 nodes, the default pod list inflated to
    // 130 % of the GPUs: 10,780 pods, FGD over every node), target < 1 s. Needs
    // ../shared/data; skipped without it.
    let fgd = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/gpu-sharing-fgd.yaml");
    if std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/alibaba-gpu-v2023").is_dir() {
        let mut g = c.benchmark_group("gpu-sharing");
        g.sample_size(10);
        for policy in ["FGD", "Random"] {
            let set = vec![format!("scheduler.gpuSharing.policy={policy}")];
            g.bench_function(format!("fgd-study-default-{policy}"), |b| {
                b.iter(|| {
                    let s = runner::load(&fgd, &set, None).expect("loads");
                    let out = runner::simulate(&s, s.seed, None).expect("runs");
                    out.cluster.pods.len()
                })
            });
        }
        g.finish();
    } else {
        eprintln!("gpu-sharing: ../shared/data absent, skipped");
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
