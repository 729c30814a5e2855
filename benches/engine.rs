//! The event core alone: the classic hold model (pop the earliest event, push one at a
//! random later time) with 100,000 events pending, on the simulation's real `Event` type.
//! Target: at least 15 million events per second (issue #2).

use clustersim::cluster::PodId;
use clustersim::engine::{EventQueue, SimDuration, SimTime, StreamId, rng};
use clustersim::sim::Event;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use rand_core::Rng;
use std::hint::black_box;

const PENDING: usize = 100_000;
const HOLDS: u64 = 1_000_000;

fn filled() -> (EventQueue<Event>, clustersim::engine::RngStream) {
    let mut r = rng::stream(1, StreamId(99));
    let mut q = EventQueue::with_capacity(PENDING + 1);
    for i in 0..PENDING {
        q.push(SimTime(r.next_u64() % 1_000_000_000), Event::ContainersStarted(PodId(i as u32)));
    }
    (q, r)
}

fn hold(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_queue");
    g.throughput(Throughput::Elements(HOLDS));
    g.sample_size(20);
    g.bench_function("hold_100k_pending", |b| {
        b.iter_batched(
            filled,
            |(mut q, mut r)| {
                for _ in 0..HOLDS {
                    let (t, ev) = q.pop().expect("never empty");
                    // Uniform on [0, 2^21 ns ≈ 2.1 ms), by a shift (no division).
                    let dt = SimDuration::from_nanos(r.next_u64() >> 43);
                    q.push(t + dt, black_box(ev));
                }
                q
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("hold_100k_pending_with_dispatch", |b| {
        b.iter_batched(
            filled,
            |(mut q, mut r)| {
                let mut counts = [0u64; 4];
                for _ in 0..HOLDS {
                    let (t, ev) = q.pop().expect("never empty");
                    // A dispatcher of the simulator's shape: a match over the closed enum.
                    let next = match ev {
                        Event::ContainersStarted(p) => {
                            counts[0] += 1;
                            Event::PodCompleted(p)
                        }
                        Event::PodCompleted(p) => {
                            counts[1] += 1;
                            Event::ContainersStarted(p)
                        }
                        other => {
                            counts[2] += 1;
                            other
                        }
                    };
                    let dt = SimDuration::from_nanos(r.next_u64() >> 43);
                    q.push(t + dt, next);
                }
                black_box(counts);
                q
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

// No HTML plots: they need a system font, and the figures go to BENCHMARKS.md.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = hold
}
criterion_main!(benches);
