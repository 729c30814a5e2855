#!/usr/bin/env bash
# ClusterLoader2 density at 100, 500, 1,000, 2,000 and 5,000 nodes (30 pods per node), each
# swept over the pod creation rate (20 pods/s is the CL2 density throughput), with the
# control plane modelled. Writes results/cl2-density/<nodes>-nodes/ (runs.csv, points.csv,
# charts, index.html) and results/cl2-density/table.csv (one row per size and rate).
# Usage: scenarios/studies/cl2-density.sh [path/to/clustersim]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/release/clustersim}
out=results/cl2-density
rates=20,50,100,200,400,800,1600
mkdir -p "$out"
for nodes in 100 500 1000 2000 5000; do
  pods=$((30 * nodes))
  "$bin" sweep scenarios/cl2-density.yaml -q --force --out "$out/$nodes-nodes" \
    --set nodePools.0.count=$nodes --set deployments.0.replicas=$pods \
    --duration $((pods / 20 + 180))s -L deployments.0.createRate "$rates"
  "$bin" plot "$out/$nodes-nodes" > /dev/null
  "$bin" plot "$out/$nodes-nodes" --metric pod_startup_sli_p99_s --metric api_mutating_p99_ms \
    --metric scheduling_throughput_avg_pods_per_s > /dev/null
done
# One table: nodes, creation rate, then the columns that answer the question.
cols="parameter_deployments.0.createRate pod_startup_sli_p50_s_mean pod_startup_sli_p90_s_mean pod_startup_sli_p99_s_mean slo_pod_startup_ok_mean api_mutating_p99_ms_mean api_mutating_worst_5m_p99_ms_mean scheduling_throughput_avg_pods_per_s_mean api_requests_mean"
{
  echo "nodes,create_rate,startup_sli_p50_s,startup_sli_p90_s,startup_sli_p99_s,slo_pod_startup_ok,api_mutating_p99_ms,api_mutating_worst_5m_p99_ms,scheduling_throughput_pods_per_s,api_requests"
  for nodes in 100 500 1000 2000 5000; do
    awk -F, -v nodes=$nodes -v cols="$cols" '
      NR == 1 { n = split(cols, want, " "); for (i = 1; i <= NF; i++) idx[$i] = i; next }
      { line = nodes; for (k = 1; k <= n; k++) line = line "," $(idx[want[k]]); print line }
    ' "$out/$nodes-nodes/points.csv"
  done
} > "$out/table.csv"
echo "wrote $out/table.csv"
