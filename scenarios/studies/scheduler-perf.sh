#!/usr/bin/env bash
# kube-scheduler throughput as scheduler_perf measures it (kubernetes/kubernetes
# test/integration/scheduler_perf/misc/performance-config.yaml): SchedulingBasic
# 5000Nodes_10000Pods and 5000Nodes_50000Pods, and Unschedulable 5kNodes/100Init/10kPods,
# each measured by the throughput collector over its measured pods only. Writes
# results/scheduler-perf/<workload>/ (summary.csv, timeseries.csv, charts, index.html) and
# results/scheduler-perf/table.csv: one row per workload with upstream's threshold, our
# collector average (this run; and its mean over the phase of the collector's ticks, which
# decides how much of a second the partial last sample covers), the steady rate (measured
# pods / first creation to last binding), and each as a ratio to SchedulingBasic
# 5000Nodes_10000Pods.
# Usage: scenarios/studies/scheduler-perf.sh [path/to/clustersim]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/release/clustersim}
out=results/scheduler-perf
mkdir -p "$out"
# workload name, scenario, nodes, init pods, measured pods, upstream threshold (pods/s)
workloads="SchedulingBasic/5000Nodes_10000Pods basic-10k 5000 1000 10000 680
SchedulingBasic/5000Nodes_50000Pods basic-50k 5000 5000 50000 810
Unschedulable/5kNodes/100Init/10kPods unschedulable-10k 5000 100 10000 590"
while read -r _ file _; do
  "$bin" run "scenarios/scheduler-perf-$file.yaml" --out "$out/$file" -q
done <<< "$workloads"
col() { # column $2 of the summary.csv in folder $1
  awk -F, -v c="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) k = i; next } { print $k }' "$1/summary.csv"
}
base_sim=$(col "$out/basic-10k" measured_throughput_avg_pods_per_s)
base_phase=$(col "$out/basic-10k" measured_throughput_avg_phase_mean_pods_per_s)
base_up=680
{
  echo "workload,nodes,init_pods,measured_pods,upstream_threshold_pods_per_s,simulated_throughput_pods_per_s,simulated_samples,simulated_phase_mean_pods_per_s,simulated_overall_pods_per_s,upstream_ratio_to_basic_10k,simulated_ratio_to_basic_10k,simulated_phase_mean_ratio_to_basic_10k"
  while read -r name file nodes init measured threshold; do
    sim=$(col "$out/$file" measured_throughput_avg_pods_per_s)
    samples=$(col "$out/$file" measured_throughput_samples)
    overall=$(col "$out/$file" measured_throughput_overall_pods_per_s)
    phase=$(col "$out/$file" measured_throughput_avg_phase_mean_pods_per_s)
    awk -v n="$name" -v nodes="$nodes" -v i="$init" -v m="$measured" -v t="$threshold" -v s="$sim" \
      -v k="$samples" -v o="$overall" -v p="$phase" -v bu="$base_up" -v bs="$base_sim" -v bp="$base_phase" \
      'BEGIN { printf "%s,%d,%d,%d,%d,%.1f,%d,%.1f,%.1f,%.3f,%.3f,%.3f\n", n, nodes, i, m, t, s, k, p, o, t / bu, s / bs, p / bp }'
  done <<< "$workloads"
} > "$out/table.csv"
cat "$out/table.csv"
echo "wrote $out/table.csv"
