#!/usr/bin/env bash
# The scaling table (BENCHMARKS.md "Scaling", README "Performance"): wall time and peak memory
# of a density run (scenarios/density-100k.yaml resized: 30 pods per node created at 20 pods/s)
# and of a day of churn (scenarios/churn-1day.yaml resized: 30 pods per node a day, living an
# exponential 10 minutes) at 1k, 5k, 20k, 50k and 100k nodes, on 1 and 2 threads, with the
# time per pod and per node examined. Wall-clock figures: they go into results/scaling/table.csv,
# a benchmark record, never into a run's CSVs (each run's own CSVs are byte-identical whatever
# the thread count; the script checks it).
# Usage: scenarios/studies/scaling.sh [path/to/clustersim] [sizes...]   (default sizes: all five)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/release/clustersim}
shift || true
sizes=("$@")
((${#sizes[@]})) || sizes=(1000 5000 20000 50000 100000)
out=results/scaling
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
table="$out/table.csv"
echo "workload,nodes,pods_created,threads,wall_s,user_s,peak_rss_mb,nodes_examined,us_per_pod,ns_per_node_examined" > "$table.tmp"
column() { # column NAME FILE: the value of a summary.csv column
  awk -F, -v name="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next } { print $c }' "$2"
}
for nodes in "${sizes[@]}"; do
  pods=$((30 * nodes))
  for workload in density churn; do
    if [[ $workload == density ]]; then
      args=(scenarios/density-100k.yaml --set nodePools.0.count=$nodes --set deployments.0.replicas=$pods
            --duration $((pods / 20 + 180))s)
    else
      rate=$(awk -v n=$nodes 'BEGIN { printf "%.6f", n * 30 / 86400 }')
      args=(scenarios/churn-1day.yaml --set nodePools.0.count=$nodes --set churn.0.arrivalRate=$rate)
    fi
    for threads in 1 2; do
      dir="$work/$workload-$nodes-$threads"
      /usr/bin/time -f "%e %U %M" -o "$work/time" "$bin" run "${args[@]}" --threads $threads \
        -q --no-charts --out "$dir"
      read -r wall user kb < "$work/time"
      created=$(column pods_created "$dir/summary.csv")
      examined=$(column nodes_examined "$dir/summary.csv")
      awk -v w=$workload -v n=$nodes -v p="$created" -v t=$threads -v wall="$wall" -v user="$user" \
          -v kb="$kb" -v ex="$examined" 'BEGIN {
        printf "%s,%d,%d,%d,%.2f,%.2f,%.1f,%s,%.2f,%.2f\n", w, n, p, t, wall, user, kb / 1024, ex,
          wall * 1e6 / p, (ex > 0 ? wall * 1e9 / ex : 0) }' >> "$table.tmp"
      tail -1 "$table.tmp"
    done
    # Same answers on 1 and 2 threads.
    for f in summary.csv timeseries.csv; do
      cmp -s "$work/$workload-$nodes-1/$f" "$work/$workload-$nodes-2/$f" \
        || { echo "scaling.sh: $workload at $nodes nodes: $f differs between 1 and 2 threads" >&2; exit 1; }
    done
    rm -rf "$work/$workload-$nodes-"*
  done
done
mv "$table.tmp" "$table"
echo "wrote $table"
