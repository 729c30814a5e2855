#!/usr/bin/env bash
# kube-scheduler throughput as scheduler_perf measures it and as its thresholds are set
# (kubernetes/kubernetes test/integration/scheduler_perf/misc/performance-config.yaml):
# SchedulingBasic 5000Nodes_10000Pods and 5000Nodes_50000Pods, and Unschedulable
# 5kNodes/100Init/10kPods, each measured by the throughput collector over its measured pods.
# A threshold upstream is the minimum collector average over the last 250 CI runs (PR
# #136276), so each workload runs over 1,250 seeds and the study reports the expected
# minimum of 250 runs (estimated from all 1,250: the mean minimum over every 250-run subset)
# and, to show how much one such minimum moves, the plain minimum of each block of 250 seeds.
# Writes results/scheduler-perf/<workload>/ (one run, seed 1: summary.csv, timeseries.csv,
# charts, index.html), results/scheduler-perf/<workload>-runs/ (the sweep: runs.csv with one
# row per seed, points.csv, sweep.json, and the distribution of the collector average over
# the seeds in charts/ and index.html) and results/scheduler-perf/table.csv: one row per
# workload with upstream's threshold, the simulated threshold statistic, its range over the
# blocks, the run mean, and each as a ratio to SchedulingBasic 5000Nodes_10000Pods.
# Usage: scenarios/studies/scheduler-perf.sh [path/to/clustersim]  (about 5 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/release/clustersim}
out=results/scheduler-perf
runs=250
blocks=5
mkdir -p "$out"
# workload name, scenario, nodes, init pods, measured pods, upstream threshold (pods/s)
workloads="SchedulingBasic/5000Nodes_10000Pods basic-10k 5000 1000 10000 680
SchedulingBasic/5000Nodes_50000Pods basic-50k 5000 5000 50000 810
Unschedulable/5kNodes/100Init/10kPods unschedulable-10k 5000 100 10000 590"
while read -r _ file _; do
  "$bin" run "scenarios/scheduler-perf-$file.yaml" --out "$out/$file" -q
  rm -rf "$out/$file-runs"
  "$bin" sweep "scenarios/scheduler-perf-$file.yaml" -r $((runs * blocks)) --out "$out/$file-runs" -q
  rm -rf "$out/$file-runs/runs" "$out/$file-runs/charts"
  "$bin" plot "$out/$file-runs" --metric measured_throughput_avg_pods_per_s >/dev/null
done <<< "$workloads"
# The column of every run, in seed order.
averages() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "measured_throughput_avg_pods_per_s") k = i; next } { print $k }' "$1/runs.csv"
}
# Upstream's statistic, the minimum of $runs runs, as an expectation: from N runs sorted
# ascending, E[min of m] = sum_i w_i x_(i) with w_i = C(N-i, m-1) / C(N, m) (the average
# minimum over every m-subset of the N runs; w_1 = m/N, w_(i+1) = w_i (N-i-m+1) / (N-i)).
expected_min() {
  sort -g | awk -v m="$runs" '{ x[NR] = $1 } END {
    N = NR; w = m / N; e = 0
    for (i = 1; i <= N - m + 1; i++) { e += w * x[i]; w *= (N - i - m + 1) / (N - i) }
    printf "%.1f\n", e }'
}
# Per block of $runs seeds, the plain minimum; then the mean of every run.
# Prints "expected_min block_min_1 ... block_min_blocks mean".
stats() {
  local e
  e=$(averages "$1" | expected_min)
  averages "$1" | awk -v bs="$runs" -v nb="$blocks" -v e="$e" '
    { b = int((NR - 1) / bs); if (!(b in m) || $1 + 0 < m[b]) m[b] = $1 + 0; s += $1; n++ }
    END { printf "%s ", e; for (b = 0; b < nb; b++) printf "%s ", m[b]; printf "%s\n", s / n }'
}
read -r -a base <<< "$(stats "$out/basic-10k-runs")"
base_up=680
{
  echo "workload,nodes,init_pods,measured_pods,upstream_threshold_pods_per_s,upstream_ratio_to_basic_10k,simulated_threshold_pods_per_s,simulated_ratio_to_basic_10k,simulated_block_min_low_pods_per_s,simulated_block_min_high_pods_per_s,simulated_block_ratio_low,simulated_block_ratio_high,simulated_mean_pods_per_s,simulated_mean_ratio_to_basic_10k"
  while read -r name file nodes init measured threshold; do
    read -r -a st <<< "$(stats "$out/$file-runs")"
    awk -v n="$name" -v nodes="$nodes" -v i="$init" -v m="$measured" -v t="$threshold" -v bu="$base_up" \
      -v s="${st[*]}" -v b="${base[*]}" -v nb="$blocks" '
      BEGIN {
        split(s, x, " "); split(b, y, " ")
        lo = 1e9; hi = 0; tlo = 1e9; thi = 0
        for (j = 2; j <= nb + 1; j++) {
          r = x[j] / y[j]; if (r < lo) lo = r; if (r > hi) hi = r
          if (x[j] < tlo) tlo = x[j]; if (x[j] > thi) thi = x[j]
        }
        printf "%s,%d,%d,%d,%d,%.3f,%.1f,%.3f,%.1f,%.1f,%.3f,%.3f,%.1f,%.3f\n", n, nodes, i, m, t, t / bu,
          x[1], x[1] / y[1], tlo, thi, lo, hi, x[nb + 2], x[nb + 2] / y[nb + 2]
      }'
  done <<< "$workloads"
} > "$out/table.csv"
cat "$out/table.csv"
echo "wrote $out/table.csv"
