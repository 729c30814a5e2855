//! The scheduler's tie-break draws (`src/scheduler/draws.rs`) on the calling thread and
//! generated ahead on a second one, over what `selectHost` asks of them in
//! `density-100k`: runs of about 1,660 ties an attempt, tie counts from 1 up.
//!
//! - `block_by_block`: the run in calls of 21 ties (a block's ties at the best total), as
//!   the packed cycle draws on one thread.
//! - `one_run`: the whole run in one call, as it draws with the draws ahead
//!   (`Reservoir::defer_ties`).
//!
//! Each also `with_work`: about 8 µs of other work after each attempt, as an attempt of
//! `density-100k` does besides its draws. In a tight loop the producer's rate bounds the
//! draws ahead; in a run it has that time to get ahead again.
//!
//! Wall time, since the point of the second thread is the wall time of the first. The
//! throughput is in draws.

use clustersim::engine::{StreamId, rng};
use clustersim::scheduler::draws::TieDraws;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::time::Duration;

/// Ties an attempt, and ties a block (the averages of `density-100k`).
const RUN: u64 = 1_660;
const BLOCK: u64 = 21;
/// Attempts an iteration.
const ATTEMPTS: u64 = 64;

/// Steps of the stand-in for an attempt's other work (about 8 µs).
const WORK: u64 = 6_000;

fn attempts(draws: &mut TieDraws, in_blocks: bool, work: u64) -> u64 {
    let mut chosen = 0u64;
    for _ in 0..ATTEMPTS {
        let mut x = chosen | 1;
        for _ in 0..work {
            x = black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1));
        }
        chosen ^= x & 1;
        if in_blocks {
            let mut first = 1;
            while first < RUN {
                let end = (first + BLOCK).min(RUN);
                chosen ^= draws.last_zero(first, end);
                first = end;
            }
        } else {
            chosen ^= draws.last_zero(1, RUN);
        }
    }
    chosen
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("tie_draws");
    g.throughput(Throughput::Elements(ATTEMPTS * (RUN - 1)));
    g.sample_size(30).measurement_time(Duration::from_secs(3));
    let seed = rng::stream(1, StreamId(7));
    for (name, in_blocks, work) in [
        ("block_by_block", true, 0),
        ("one_run", false, 0),
        ("block_by_block_with_work", true, WORK),
        ("one_run_with_work", false, WORK),
    ] {
        let mut here = TieDraws::here(seed.clone());
        g.bench_function(format!("here/{name}"), |b| {
            b.iter(|| black_box(attempts(&mut here, in_blocks, work)))
        });
        let mut ahead = TieDraws::ahead(seed.clone()).expect("thread");
        g.bench_function(format!("ahead/{name}"), |b| {
            b.iter(|| black_box(attempts(&mut ahead, in_blocks, work)))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
