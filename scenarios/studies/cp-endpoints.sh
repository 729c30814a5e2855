#!/usr/bin/env bash
# Endpoints vs EndpointSlice for a 5,000-pod Service during a rolling update in a 3,000-node
# cluster (issue #19, study 6b; scenarios/studies/cp-endpoints.yaml), next to the arithmetic
# of the Kubernetes blog "Scaling Kubernetes Networking With EndpointSlices" (2020).
# Writes results/cp-endpoints/:
#   <mode>/       one run per mode (summary.csv, timeseries.csv, pods.csv, charts, index.html)
#   sweep/        both modes as a sweep (runs.csv, points.csv, charts, index.html)
#   table.csv     one row per mode: endpoint updates and watch bytes during the update, the
#                 blog's arithmetic (one update of endpoints × 300 B to 3,000 watchers, and
#                 5,000 such updates), API CPU, API latency, how long the update took
# About 1 minute on 2 cores.
# Usage: scenarios/studies/cp-endpoints.sh [path/to/clustersim]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/release/clustersim}
out=results/cp-endpoints
scenario=scenarios/studies/cp-endpoints.yaml
mkdir -p "$out"
"$bin" sweep "$scenario" -q --force --out "$out/sweep" -L controlPlane.watch.endpoints Endpoints,EndpointSlice
"$bin" plot "$out/sweep" --metric watch_bytes_sent --metric apiserver_cpu_utilization_mean \
  --metric api_mutating_worst_5m_p99_ms --metric api_put_endpoints_p99_ms > /dev/null
for mode in Endpoints EndpointSlice; do
  "$bin" run "$scenario" -q --pods --out "$out/$mode" --set controlPlane.watch.endpoints=$mode
done
# The update starts at 60 s (rollouts[0].at). From timeseries.csv: bytes sent to watchers
# from then on (watch_bytes_per_s × 10-s interval; the row at 60 s holds (50 s, 60 s], where
# the update's first deletions fall and nothing else happens), the API CPU's peak and mean over the
# intervals from 60 s to the end of the update; from pods.csv: when the update ended (the
# last new pod Running) and how many new pods were Running at the end; from summary.csv:
# API latency over the run.
{
  echo "mode,endpoints_per_update_sent,update_bytes_per_watcher,watchers,endpoint_updates_during_rollout,watch_bytes_during_rollout,arithmetic_bytes_per_update_to_all,arithmetic_bytes_per_rolling_update,rollout_end_s,new_pods_running_end,apiserver_cpu_utilization_peak,apiserver_cpu_utilization_during_rollout,api_mutating_worst_5m_p99_ms,api_put_endpoints_p99_ms,api_post_pods_p99_ms,api_rejected_429,startup_sli_p99_s"
  for mode in Endpoints EndpointSlice; do
    d=$out/$mode
    per=5000; [ $mode = EndpointSlice ] && per=100
    rollout=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
      $(idx["created_s"]) >= 60 { n++; if ($(idx["running_s"]) != "") { r++; if ($(idx["running_s"]) > end) end = $(idx["running_s"]) } }
      END { printf "%.1f,%d", end, r }' "$d/pods.csv")
    end=${rollout%%,*}
    ts=$(awk -F, -v end="$end" 'NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
      { t = $(idx["time_s"]); u = $(idx["apiserver_cpu_utilization"])
        if (t >= 60) { bytes += $(idx["watch_bytes_per_s"]) * 10 }
        if (t > 60 && t <= end + 10) { if (u > peak) peak = u; sum += u; n++ } }
      END { printf "%.0f,%.4f,%.4f", bytes, peak, (n ? sum / n : 0) }' "$d/timeseries.csv")
    bytes=${ts%%,*}
    cpu=${ts#*,}
    sum=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) idx[$i] = i; next }
      { printf "%s,%s,%s,%s,%s", $(idx["api_mutating_worst_5m_p99_ms"]), $(idx["api_put_endpoints_p99_ms"]),
        $(idx["api_post_pods_p99_ms"]), $(idx["api_rejected_429"]), $(idx["pod_startup_sli_p99_s"]) }' "$d/summary.csv")
    echo "$mode,$per,$((per * 300)),3000,$((bytes / (per * 300 * 3000))),$bytes,$((per * 300 * 3000)),$((per * 300 * 3000 * 5000)),$end,${rollout#*,},$cpu,$sum"
  done
} > "$out/table.csv"
echo "wrote $out/table.csv"
