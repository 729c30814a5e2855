#!/usr/bin/env bash
# Study 6d (issue #19): a kube-apiserver restart in a 5,000-node cluster
# (scenarios/studies/cp-restart-5k.yaml: 50,000 pods in three zones, three 8-core replicas,
# APF, node lifecycle with upstream defaults; a scale-up of 2,000 pods at 5 min 10 s,
# during the outage). Variants:
# every replica down for 30 s, 2 min and 5 min with APF; 2 min without APF; one replica of
# three down for 2 min; and every replica down for 2 min with the informers listing from
# etcd (quorum reads) instead of the watch cache. Writes results/cp-restart-5k/<variant>/
# and results/cp-restart-5k/table.csv (one row per variant: the relist storm, API latency,
# time to a healthy API, stale leases and evictions).
# Usage: scenarios/studies/cp-restart-5k.sh [path/to/clustersim]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/release/clustersim}
scenario=scenarios/studies/cp-restart-5k.yaml
out=results/cp-restart-5k
mkdir -p "$out"
col() {
  awk -F, -v k="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == k) c = i } NR == 2 { print (c ? $c : "") }' "$1"
}
variants=(
  "all-30s|--set faults.0.duration=30s"
  "all-2m|"
  "all-5m|--set faults.0.duration=5m"
  "all-2m-no-apf|--set controlPlane.apf=null"
  "one-of-3-2m|--set faults.0.fail={apiserver: {replicas: 1}}"
  "all-2m-lists-from-etcd|--set controlPlane.lists={kubelet: etcd, scheduler: etcd, controllerManager: etcd}"
)
cols="api_availability api_unavailable_s relist_lists api_recovery_s api_mutating_p99_ms api_mutating_worst_5m_p99_ms api_readonly_worst_5m_p99_ms api_list_pods_p99_ms api_put_leases_p99_ms api_rejected_429 nodes_lease_stale pods_evicted pods_evicted_after_cp_fault pod_startup_sli_p99_s pods_running_end"
{
  echo "variant,${cols// /,}"
  for v in "${variants[@]}"; do
    name=${v%%|*} set=${v#*|}
    args=()
    if [ -n "$set" ]; then args=("${set%% *}" "${set#* }"); fi
    "$bin" run "$scenario" --out "$out/$name" --no-charts -q "${args[@]}" > /dev/null
    line="$name"
    for c in $cols; do line="$line,$(col "$out/$name/summary.csv" "$c")"; done
    echo "$line"
  done
} > "$out/table.csv"
echo "wrote $out/table.csv"
