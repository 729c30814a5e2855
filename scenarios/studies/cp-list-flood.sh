#!/usr/bin/env bash
# Study 6c (issue #19): a flood of LISTs of every pod from one misbehaving client
# (scenarios/studies/cp-list-flood.yaml: 1,000 nodes, 20,000 pods, a scale-up of 2,000 pods
# during the flood, one 2-core kube-apiserver) at 0 (no flood), 5, 10 and 20 LISTs/s,
# without and with API Priority and Fairness (upstream's default levels: the flood is a
# service account, level workload-low). Does APF keep the other clients within the 1-s
# mutating SLO? Writes results/cp-list-flood/<variant>/ (each run's CSVs) and
# results/cp-list-flood/table.csv (one row per rate and mode).
# Usage: scenarios/studies/cp-list-flood.sh [path/to/clustersim]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/release/clustersim}
scenario=scenarios/studies/cp-list-flood.yaml
out=results/cp-list-flood
mkdir -p "$out"
col() { # summary.csv, column name: the value (empty when the run has no such column)
  awk -F, -v k="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == k) c = i } NR == 2 { print (c ? $c : "") }' "$1"
}
# The worst 10-s interval's mutating p99 while the flood lasts (5 min to 13 min): every
# mutating request is another client's (the flood only LISTs).
worst() {
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "api_mutating_p99_ms") c = i; next }
    $1 > 300 && $1 <= 780 && $c != "" && $c + 0 > m { m = $c + 0 } END { printf "%.3f\n", m }' "$1"
}
cols="api_misbehaving_lists api_misbehaving_list_p99_ms api_others_mutating_p99_ms api_others_readonly_p99_ms slo_others_mutating_ok api_rejected_429 apf_workload_low_rejected apiserver_cpu_utilization_mean api_put_leases_p99_ms pod_startup_sli_p99_s slo_pod_startup_ok pods_running_end"
{
  echo "lists_per_s,apf,worst_10s_mutating_p99_ms_during_flood,${cols// /,}"
  for rate in 0 5 10 20; do
    for apf in off on; do
      dir="$out/rate-$rate-apf-$apf"
      set_rate=(--set "controlPlane.misbehavingClient.listsPerSecond=$rate")
      # Rate 0: the client is configured but starts after the end (the same columns).
      if [ "$rate" = 0 ]; then set_rate=(--set "controlPlane.misbehavingClient.start=20m"); fi
      set_apf=()
      if [ "$apf" = off ]; then set_apf=(--set "controlPlane.apf=null"); fi
      "$bin" run "$scenario" --out "$dir" --no-charts -q "${set_rate[@]}" "${set_apf[@]}" > /dev/null
      line="$rate,$apf,$(worst "$dir/timeseries.csv")"
      for c in $cols; do line="$line,$(col "$dir/summary.csv" "$c")"; done
      echo "$line"
    done
  done
} > "$out/table.csv"
echo "wrote $out/table.csv"
