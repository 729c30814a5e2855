#!/usr/bin/env bash
# Where the API server becomes the bottleneck (issue #19, study 6a): the ClusterLoader2
# density workload (scenarios/studies/cp-saturation.yaml: 30 pods per node, all created at
# a given rate) at 100, 500, 1,000, 2,000 and 5,000 nodes × creation rates 20 to 1,600
# pods/s, with the finite-CPU kube-apiserver, etcd and API Priority and Fairness, for two
# control-plane sizes: 4 cores (the default) and the cores kube-up gave the control-plane
# VM for that cluster size (cluster/gce/config-common.sh `get-master-size`: 4 up to 100
# nodes, 8 to 250, 16 to 500, 32 above). The run lasts totalPods/20 + 180 s as in CL2.
# Writes results/cp-saturation/<nodes>-nodes/ (runs.csv, points.csv, charts, index.html)
# and results/cp-saturation/table.csv (one row per size, cores and rate). About 4 minutes
# on 2 shared cores.
# Usage: scenarios/studies/cp-saturation.sh [path/to/clustersim]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/release/clustersim}
out=results/cp-saturation
rates=20,50,100,200,400,800,1600
sizes="100 500 1000 2000 5000"
mkdir -p "$out"
kubeup_cores() { # cluster/gce/config-common.sh get-master-size
  local n=$1 c=1
  if [ "$n" -gt 5 ]; then c=2; fi
  if [ "$n" -gt 10 ]; then c=4; fi
  if [ "$n" -gt 100 ]; then c=8; fi
  if [ "$n" -gt 250 ]; then c=16; fi
  if [ "$n" -gt 500 ]; then c=32; fi
  echo $c
}
for nodes in $sizes; do
  pods=$((30 * nodes))
  cores=$(kubeup_cores "$nodes")
  if [ "$cores" -ne 4 ]; then cores="4,$cores"; fi
  "$bin" sweep scenarios/studies/cp-saturation.yaml -q --force --out "$out/$nodes-nodes" \
    --set nodePools.0.count=$nodes --set deployments.0.replicas=$pods \
    --duration $((pods / 20 + 180))s -L deployments.0.createRate "$rates" \
    -L controlPlane.apiserver.cores "$cores"
  "$bin" plot "$out/$nodes-nodes" > /dev/null
  "$bin" plot "$out/$nodes-nodes" --metric api_mutating_worst_5m_p99_ms --metric pod_startup_sli_p99_s \
    --metric api_rejected_429 --metric apiserver_cpu_utilization_mean \
    --metric scheduling_throughput_avg_pods_per_s > /dev/null
done
# One table: nodes, cores, creation rate, then the columns that answer the question.
cols="parameter_controlPlane.apiserver.cores parameter_deployments.0.createRate api_mutating_worst_5m_p99_ms_mean api_post_pods_p99_ms_mean api_post_bindings_p99_ms_mean api_put_leases_p99_ms_mean api_rejected_429_mean apf_workload_high_rejected_mean pod_startup_sli_p50_s_mean pod_startup_sli_p99_s_mean slo_api_mutating_ok_mean slo_pod_startup_ok_mean scheduling_throughput_avg_pods_per_s_mean apiserver_cpu_utilization_mean_mean etcd_db_bytes_end_mean api_requests_mean"
{
  echo "nodes,cores,create_rate,api_mutating_worst_5m_p99_ms,api_post_pods_p99_ms,api_post_bindings_p99_ms,api_put_leases_p99_ms,api_rejected_429,apf_workload_high_rejected,startup_sli_p50_s,startup_sli_p99_s,slo_api_mutating_ok,slo_pod_startup_ok,scheduling_throughput_pods_per_s,apiserver_cpu_utilization_mean,etcd_db_bytes_end,api_requests"
  for nodes in $sizes; do
    # (rows by cores, then rate)
    awk -F, -v nodes=$nodes -v cols="$cols" '
      NR == 1 { n = split(cols, want, " "); for (i = 1; i <= NF; i++) idx[$i] = i; next }
      { line = nodes
        for (k = 1; k <= n; k++) {
          if (!(want[k] in idx)) { print "missing column " want[k] > "/dev/stderr"; exit 1 }
          line = line "," $(idx[want[k]])
        }
        print line }
    ' "$out/$nodes-nodes/points.csv" | sort -t, -k2,2n -k3,3n
  done
} > "$out/table.csv"
echo "wrote $out/table.csv"
