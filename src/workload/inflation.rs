//! The FGD study's workload protocol on a pod trace (`podTraces[].inflation`), after the
//! paper's simulator (`hkust-adsl/kubernetes-scheduler-simulator`, run as
//! `experiments/run_scripts/generate_run_scripts.py` does: `-tune 1.3 -tuneseed <seed>
//! --shuffle-pod=true`):
//!
//! 1. the trace's rows, in file order, are shuffled by the run's seed (`SortClusterPods`
//!    with `shufflePod`, `pkg/simulator/core.go`);
//! 2. rows drawn uniformly with replacement from the original list are appended until the
//!    GPUs requested would pass `gpuPercent` of the cluster's GPU milli
//!    (`TunePodsByNodeTotalResource` / `tuneUpPods`, `pkg/simulator/simulator.go`; like
//!    upstream, the stopping test adds the drawn pod's per-GPU milli while the total adds its
//!    `num_gpu × gpu_milli`). A trace that already asks for more is cut from the end of the
//!    shuffled list instead (upstream `tuneDownPods`);
//! 3. the pods arrive one per `interval` and never end (the trace's times are not used);
//! 4. a pod no node fits is deleted after its attempt, not retried (upstream deletes it and
//!    records it as failed).
//!
//! The [`Recorder`] follows `ClusterGpuFragReport` (`pkg/simulator/analysis.go`), logged
//! after every pod, and the paper's tables
//! (`experiments/analysis/merge_alloc_discrete_0920.py`): each attempt falls in the bucket
//! `round(100 × arrived GPU milli / cluster GPU milli)`, and a bucket's value is the mean
//! over its attempts of the GPU allocation ratio (and of the fragmentation).

use rand_core::Rng;

use crate::cluster::ClusterState;
use crate::engine::RngStream;
use crate::metrics::Cell;
use crate::scenario::podtrace::PodRow;
use crate::scheduler::plugins::gpushare::ClusterFragmentation;

/// `⌊draw · n / 2^64⌋`: uniform below `n` (0 for `n == 0`).
fn below(rng: &mut RngStream, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

/// The arrival sequence of the protocol (steps 1 and 2): `rows` shuffled (if `shuffle`), then
/// tuned to `percent` of `capacity_milli`. `gpu(row)` is the row's (total milli, milli per
/// GPU). Each returned row arrives `interval_ns` after the previous one (the first at 0) and
/// never ends.
pub fn arrange(
    rows: Vec<PodRow>,
    gpu: impl Fn(&PodRow) -> (i64, i64),
    capacity_milli: i64,
    percent: u32,
    shuffle: bool,
    interval_ns: u64,
    rng: &mut RngStream,
) -> Result<Vec<PodRow>, String> {
    if capacity_milli <= 0 {
        return Err("the cluster has no GPUs at the start of the run; inflation needs GPU nodes".into());
    }
    if rows.iter().all(|r| gpu(r).0 == 0) {
        return Err(
            "no row asks for GPUs; inflation repeats rows until the GPUs requested reach the target".into()
        );
    }
    let target = i128::from(capacity_milli) * i128::from(percent) / 100;
    let mut order: Vec<usize> = (0..rows.len()).collect();
    if shuffle {
        // Fisher–Yates from the end (Go's `rand.Shuffle` order of swaps).
        for i in (1..order.len()).rev() {
            let j = below(rng, i + 1);
            order.swap(i, j);
        }
    }
    let mut total: i128 = rows.iter().map(|r| i128::from(gpu(r).0)).sum();
    if total > target {
        while total > target {
            let Some(last) = order.pop() else { break };
            total -= i128::from(gpu(&rows[last]).0);
        }
    } else {
        loop {
            let k = below(rng, rows.len());
            let (all, per) = gpu(&rows[k]);
            if total + i128::from(per) > target {
                break;
            }
            total += i128::from(all);
            order.push(k);
        }
    }
    Ok(order
        .into_iter()
        .enumerate()
        .map(|(i, k)| {
            let mut row = rows[k].clone();
            row.arrival_ns = i128::from(interval_ns) * i as i128;
            row.duration_ns = None;
            row
        })
        .collect())
}

/// One bucket of arrived demand: sums over the attempts that fell in it.
#[derive(Clone, Copy, Default)]
struct Bucket {
    attempts: u64,
    allocated_milli: u128,
    frag_weighted: u128,
}

/// The allocation and fragmentation per 1 % of arrived GPU demand.
pub struct Recorder {
    capacity_milli: i64,
    arrived_milli: i64,
    pub pods_arrived: u64,
    pub pods_failed: u64,
    /// Up to `percent`.
    percent: u32,
    buckets: Vec<Bucket>,
    total_weight: u64,
}

impl Recorder {
    pub fn new(capacity_milli: i64, percent: u32) -> Self {
        Recorder {
            capacity_milli,
            arrived_milli: 0,
            pods_arrived: 0,
            pods_failed: 0,
            percent,
            buckets: vec![Bucket::default(); percent as usize + 1],
            total_weight: 0,
        }
    }

    /// A pod asking for `gpu_milli` in all arrived.
    pub fn arrived(&mut self, gpu_milli: i64) {
        self.arrived_milli += gpu_milli;
        self.pods_arrived += 1;
    }

    /// A pod's attempt ended (`scheduled` or deleted); the cluster is as it left it.
    pub fn attempted(&mut self, cluster: &ClusterState, scheduled: bool, frag: Option<ClusterFragmentation>) {
        if !scheduled {
            self.pods_failed += 1;
        }
        // round(100 · arrived / capacity), half away from zero like Python's round on these
        // non-negative values up to the tie (Python rounds ties to even; exact ties need
        // 100 · arrived / capacity to end in .5 exactly).
        let num = 200 * i128::from(self.arrived_milli) + i128::from(self.capacity_milli);
        let k = (num / (2 * i128::from(self.capacity_milli))) as usize;
        let Some(b) = self.buckets.get_mut(k) else { return };
        b.attempts += 1;
        b.allocated_milli += cluster.totals.requested.gpu_milli.max(0) as u128;
        if let Some(f) = frag {
            b.frag_weighted += f.fragmented_weighted();
            self.total_weight = f.total_weight;
        }
    }

    /// Bucket k, or where no attempt fell in it, buckets k − 1 to k + 1 together (the
    /// paper's tables do the same, `merge_alloc_discrete_0920.py`).
    fn bucket(&self, k: usize) -> Bucket {
        let b = self.buckets[k];
        if b.attempts > 0 {
            return b;
        }
        let mut sum = Bucket::default();
        for j in k.saturating_sub(1)..=(k + 1).min(self.buckets.len() - 1) {
            let x = self.buckets[j];
            sum.attempts += x.attempts;
            sum.allocated_milli += x.allocated_milli;
            sum.frag_weighted += x.frag_weighted;
        }
        sum
    }

    /// The summary columns: pods arrived and failed, then per percent k of arrived demand the
    /// mean GPU allocation in percent of the cluster's GPUs (`gpu_alloc_pct_at_arrived_<k>`)
    /// and, every 10 %, the mean fragmented GPU milli in percent of all
    /// (`gpu_frag_pct_at_arrived_<k>`); empty where no attempt fell within one percent.
    pub fn summary(&self, name: &str) -> Vec<(String, Cell)> {
        let mut out = vec![
            (format!("trace_{name}_inflated_pods"), Cell::Int(self.pods_arrived)),
            (format!("trace_{name}_pods_failed"), Cell::Int(self.pods_failed)),
        ];
        let cap = self.capacity_milli as f64;
        for k in 0..self.buckets.len() {
            let b = self.bucket(k);
            let v = if b.attempts == 0 {
                Cell::Missing
            } else {
                Cell::Float(100.0 * b.allocated_milli as f64 / b.attempts as f64 / cap)
            };
            out.push((format!("gpu_alloc_pct_at_arrived_{k}"), v));
        }
        for k in (10..=self.percent as usize).step_by(10) {
            let b = self.bucket(k);
            let v = if b.attempts == 0 || self.total_weight == 0 {
                Cell::Missing
            } else {
                Cell::Float(
                    100.0 * b.frag_weighted as f64 / self.total_weight as f64 / b.attempts as f64 / cap,
                )
            };
            out.push((format!("gpu_frag_pct_at_arrived_{k}"), v));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::podtrace::PodShape;

    fn row(i: usize, gpu_milli: i64) -> PodRow {
        PodRow {
            arrival_ns: i as i128 * 7,
            duration_ns: Some(5),
            shape: PodShape {
                cpu_milli: Some(1000),
                mem_bytes: None,
                gpu_milli: Some(gpu_milli),
                gpu_models: Box::new([]),
                priority: None,
                labels: Box::new([]),
                owner: None,
            },
            byte: i as u64,
        }
    }

    fn gpu(r: &PodRow) -> (i64, i64) {
        let m = r.shape.gpu_milli.unwrap_or(0);
        (m, if m >= 1000 { 1000 } else { m })
    }

    #[test]
    fn inflation_stops_before_passing_the_target() {
        // 4 rows asking 500 milli each (2000 in all) on 10 GPUs (10,000 milli); 130 % is
        // 13,000 milli: rows are added while the total stays at or below the target.
        let rows: Vec<PodRow> = (0..4).map(|i| row(i, 500)).collect();
        let mut rng = crate::engine::rng::stream(42, crate::engine::StreamId(1));
        let out = arrange(rows, gpu, 10_000, 130, true, 1_000_000_000, &mut rng).unwrap();
        assert_eq!(out.len(), 26, "13,000 / 500");
        let total: i64 = out.iter().map(|r| gpu(r).0).sum();
        assert_eq!(total, 13_000);
        for (i, r) in out.iter().enumerate() {
            assert_eq!(r.arrival_ns, i as i128 * 1_000_000_000, "one pod per interval");
            assert_eq!(r.duration_ns, None, "never deleted");
        }
    }

    #[test]
    fn the_stop_test_uses_the_per_gpu_milli_like_upstream() {
        // Whole GPUs: 2 × 1000 milli per row. The test adds 1000 (the per-GPU milli), the
        // total 2000: at 12,000 (6 rows) the next test is 13,000 ≤ 13,000, so a 7th row
        // makes 14,000; then 15,000 > 13,000 stops.
        let rows: Vec<PodRow> = (0..3).map(|i| row(i, 2000)).collect();
        let mut rng = crate::engine::rng::stream(1, crate::engine::StreamId(1));
        let out = arrange(rows, gpu, 10_000, 130, false, 1, &mut rng).unwrap();
        assert_eq!(out.len(), 7);
    }

    #[test]
    fn the_shuffle_is_a_function_of_the_seed() {
        let rows: Vec<PodRow> = (0..50).map(|i| row(i, 100 + i as i64)).collect();
        let order = |seed| {
            let mut rng = crate::engine::rng::stream(seed, crate::engine::StreamId(1));
            arrange(rows.clone(), gpu, 1_000_000, 1, true, 1, &mut rng)
                .unwrap()
                .iter()
                .map(|r| r.byte)
                .collect::<Vec<_>>()
        };
        assert_eq!(order(42), order(42));
        assert_ne!(order(42), order(43));
        // 1 % of 1,000,000 is 10,000 milli: the list (6,225 milli) is kept whole, shuffled,
        // then tuned up; every original row comes first, once.
        let first: Vec<u64> = order(42).into_iter().take(50).collect();
        let mut sorted = first.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<u64>>());
        assert_ne!(first, sorted, "shuffled");
    }

    #[test]
    fn a_trace_above_the_target_is_cut_from_the_end() {
        let rows: Vec<PodRow> = (0..10).map(|i| row(i, 1000)).collect();
        let mut rng = crate::engine::rng::stream(1, crate::engine::StreamId(1));
        let out = arrange(rows, gpu, 5_000, 100, false, 1, &mut rng).unwrap();
        assert_eq!(out.iter().map(|r| r.byte).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn bad_inflations_are_refused() {
        let mut rng = crate::engine::rng::stream(1, crate::engine::StreamId(1));
        let e = arrange(vec![row(0, 0)], gpu, 1000, 130, true, 1, &mut rng).unwrap_err();
        assert!(e.contains("no row asks for GPUs"), "{e}");
        let e = arrange(vec![row(0, 10)], gpu, 0, 130, true, 1, &mut rng).unwrap_err();
        assert!(e.contains("no GPUs"), "{e}");
    }

    #[test]
    fn buckets_round_the_arrived_percentage() {
        let cluster = ClusterState::default();
        let mut r = Recorder::new(10_000, 130);
        // 1,049 milli is 10.49 %: bucket 10; 1,050 is 10.5 %: bucket 11 (half up).
        r.arrived(1_049);
        r.attempted(&cluster, true, None);
        r.arrived(1);
        r.attempted(&cluster, false, None);
        assert_eq!(r.buckets[10].attempts, 1);
        assert_eq!(r.buckets[11].attempts, 1);
        assert_eq!((r.pods_arrived, r.pods_failed), (2, 1));
    }
}
