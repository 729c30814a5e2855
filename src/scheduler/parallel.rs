//! Deterministic parallelism inside one scheduling attempt (`clustersim run --threads N`).
//!
//! Upstream kube-scheduler runs its Filter and Score plugins over the nodes in parallel
//! chunks (`pkg/scheduler/framework/parallelize/parallelism.go`: 16 workers by default,
//! `chunkSizeFor(n, parallelism)` = min(√n, n / parallelism + 1), at least 1). Here the
//! per-candidate score work of an attempt with many candidates (the resource scores with
//! their memo, the raw TaintToleration and NodeAffinity scores, PodTopologySpread's raw
//! scores, the weighted totals) runs on a rayon pool in chunks of that size. Every chunk
//! writes only its own candidates' slots and the reductions are exact (integer maxima and
//! minima), so each candidate gets the same values whatever the thread count. What depends
//! on order stays sequential and in candidate order: the filter walk (the same feasible
//! nodes in the same rotating order, the same early stop at `numFeasibleNodesToFind`, the
//! same `nextStartNodeIndex`), the memo's writes and `selectHost`'s reservoir draws.
//! `tests/parallel.rs` compares runs on 1 and 2 threads decision for decision.

use std::sync::Arc;

/// Attempts with fewer candidates than this are scored on the calling thread. On an idle
/// 2-core machine the fork-join (√n chunks, waking a sleeping worker each attempt) measured
/// slower than one thread even at 2,500–5,000 candidates (BENCHMARKS.md, "Threads inside a
/// run on an idle machine"), and at 30,000, which is why `run`'s default ([`Threads`])
/// does not start it.
pub const DEFAULT_MIN_PARALLEL: usize = 2048;

/// How one run spreads its scheduling work over threads (`run --threads`).
///
/// From 2 threads, the scheduler's tie-break stream is generated ahead on one of them
/// (`draws.rs`). The chunked scoring below also needs the count given explicitly and at
/// least 3 (the others, besides the draws): on 2 cores it measured slower than one thread
/// at every candidate count tried (BENCHMARKS.md), so the default (every core) does not
/// start it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threads {
    pub count: usize,
    /// Given by the user (`--threads N`), not the default.
    pub explicit: bool,
}

impl Threads {
    /// Everything on the calling thread (sweeps and plans: one thread per run).
    pub const ONE: Threads = Threads { count: 1, explicit: true };

    /// `run`'s default: every core the OS gives the process.
    pub fn every_core() -> Threads {
        Threads { count: std::thread::available_parallelism().map_or(1, |n| n.get()), explicit: false }
    }

    /// `--threads n`.
    pub fn exactly(n: usize) -> Threads {
        Threads { count: n.max(1), explicit: true }
    }

    /// Whether the tie-break stream is generated ahead on a thread of its own.
    pub fn draws_ahead(&self) -> bool {
        self.count >= 2
    }

    /// The threads of the chunked scoring (1: none).
    pub fn scoring(&self) -> usize {
        if self.explicit && self.count >= 3 { self.count - 1 } else { 1 }
    }
}

/// Upstream `parallelize.DefaultParallelism`.
pub const UPSTREAM_PARALLELISM: usize = 16;

/// Upstream `chunkSizeFor` (`parallelize/parallelism.go`): √n, but no more than
/// n / parallelism + 1, and at least 1.
pub fn chunk_size_for(n: usize, parallelism: usize) -> usize {
    let s = n.isqrt();
    let r = n / parallelism.max(1) + 1;
    s.min(r).max(1)
}

/// The worker threads of one run: none (everything on the calling thread) or a rayon pool.
#[derive(Clone, Default)]
pub struct Workers {
    pool: Option<Arc<rayon::ThreadPool>>,
    /// Attempts with at least this many candidates use the pool.
    pub min_parallel: usize,
}

impl std::fmt::Debug for Workers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Workers")
            .field("threads", &self.threads())
            .field("min_parallel", &self.min_parallel)
            .finish()
    }
}

impl Workers {
    /// Everything on the calling thread.
    pub fn sequential() -> Workers {
        Workers { pool: None, min_parallel: DEFAULT_MIN_PARALLEL }
    }

    /// `threads` threads in all (1: sequential). Fails only if the OS refuses the threads.
    pub fn with_threads(threads: usize) -> Result<Workers, String> {
        if threads <= 1 {
            return Ok(Workers::sequential());
        }
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("clustersim-sched-{i}"))
            .build()
            .map_err(|e| format!("cannot start {threads} scheduler threads: {e}"))?;
        Ok(Workers { pool: Some(Arc::new(pool)), min_parallel: DEFAULT_MIN_PARALLEL })
    }

    /// The same workers, used by attempts with at least `min` candidates (tests use 1).
    pub fn with_min_parallel(mut self, min: usize) -> Workers {
        self.min_parallel = min;
        self
    }

    /// The number of threads an attempt may use.
    pub fn threads(&self) -> usize {
        self.pool.as_ref().map_or(1, |p| p.current_num_threads())
    }

    /// Whether `items` candidates are worth the pool.
    #[inline]
    pub fn parallel_for(&self, items: usize) -> bool {
        self.pool.is_some() && items >= self.min_parallel.max(2)
    }

    /// `f(offset, chunk)` over `items` in chunks of upstream's size, on the pool when
    /// [`Self::parallel_for`] says so (else once over all of them); the results in chunk
    /// order. `offset` is the chunk's first index in `items`.
    pub fn map_chunks<T, R, F>(&self, items: &mut [T], f: F) -> Vec<R>
    where
        T: Send,
        R: Send,
        F: Fn(usize, &mut [T]) -> R + Sync + Send,
    {
        match &self.pool {
            Some(pool) if self.parallel_for(items.len()) => {
                use rayon::prelude::*;
                let size = chunk_size_for(items.len(), UPSTREAM_PARALLELISM);
                pool.install(|| {
                    items.par_chunks_mut(size).enumerate().map(|(k, chunk)| f(k * size, chunk)).collect()
                })
            }
            _ => vec![f(0, items)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_size_matches_upstream() {
        // Upstream `parallelism_test.go` TestChunkSize (DefaultParallelism).
        for (input, want) in [(32, 3), (16, 2), (1, 1), (0, 1)] {
            assert_eq!(chunk_size_for(input, UPSTREAM_PARALLELISM), want, "{input}");
        }
        // √n binds for large n, n / parallelism + 1 for many workers.
        assert_eq!(chunk_size_for(5000, 16), 70);
        assert_eq!(chunk_size_for(1000, 1000), 2);
    }

    #[test]
    fn chunks_cover_every_item_once_in_order() {
        let w = Workers::with_threads(2).expect("pool").with_min_parallel(1);
        let mut v: Vec<u64> = (0..10_007).collect();
        let sums = w.map_chunks(&mut v, |off, c| {
            for (k, x) in c.iter_mut().enumerate() {
                assert_eq!(*x, (off + k) as u64);
                *x *= 3;
            }
            (off, c.len())
        });
        let mut next = 0;
        for (off, len) in sums {
            assert_eq!(off, next);
            next += len;
        }
        assert_eq!(next, v.len());
        assert!(v.iter().enumerate().all(|(i, &x)| x == 3 * i as u64));
        assert_eq!(w.threads(), 2);
        let s = Workers::sequential();
        assert_eq!(s.map_chunks(&mut v, |_, c| c.len()), vec![10_007]);
    }
}
