#!/usr/bin/env bash
# The GKE 65,000-node benchmark phases (scenarios/gke-65k.yaml): runs it with --pods and
# writes results/gke-65k/ (summary.csv, timeseries.csv, charts, index.html, phases.csv:
# how long each phase took, from pods.csv; phases-api.csv: the worst 10-s API p99 in each
# phase, from timeseries.csv; pods.csv itself is left out, 230,000 rows).
# Usage: scenarios/studies/gke-65k.sh [path/to/clustersim]
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/release/clustersim}
out=results/gke-65k
# The derived tables are not a run's files: remove them so that `run` may replace the folder.
rm -f "$out/phases.csv" "$out/phases-api.csv"
"$bin" run scenarios/gke-65k.yaml --out "$out" --pods -q
awk -F, '
  NR == 1 { next }
  {
    owner = $2; created = $7 + 0; running = $9; finished = $10
    # Phase 1: training created in [0, 900) all Running; 2: the new training and inference
    # pods created in [900, 1800); 3: inference created in [1800, 2700); 4: training pods
    # that start Running after 2700 (rescheduled); 5: training pods ending after 3600.
    if (owner == "Deployment/training" && created < 900 && running != "") p1 = max(p1, running - 0)
    if (owner == "Deployment/training" && created >= 900 && created < 1800 && running != "" && running < 2700) p2t = max(p2t, running - 900)
    if (owner == "Deployment/inference" && created >= 900 && created < 1800 && running != "") p2i = max(p2i, running - 900)
    if (owner == "Deployment/inference" && created >= 1800 && created < 2700 && running != "") p3 = max(p3, running - 1800)
    if (owner == "Deployment/training" && running != "" && running >= 2700 && running < 3600) p4 = max(p4, running - 2700)
    if (owner == "Deployment/training" && finished != "" && finished >= 3600) p5 = max(p5, finished - 3600)
  }
  function max(a, b) { return a > b ? a : b }
  END {
    print "phase,what,seconds"
    printf "1,65000 training pods created and Running on an empty cluster,%.1f\n", p1
    printf "2,50000 training pods Running,%.1f\n", p2t
    printf "2,15000 inference pods Running,%.1f\n", p2i
    printf "3,inference to 65000 Running (training preempted),%.1f\n", p3
    printf "4,training rescheduled after inference back to 15000,%.1f\n", p4
    printf "5,training deleted,%.1f\n", p5
  }' "$out/pods.csv" > "$out/phases.csv"
# API call latency per phase: the worst sample-window (10 s) p99 of mutating and read-only
# calls within each phase's 15 minutes, from timeseries.csv.
awk -F, '
  NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
  {
    t = $col["time_s"] + 0; ph = int(t / 900) + 1; if (t > 0 && t % 900 == 0) ph--
    if (ph < 1 || ph > 5) next
    # An empty cell: no call of that class finished in the window.
    m = $col["api_mutating_p99_ms"]; r = $col["api_readonly_p99_ms"]
    if (m != "" && (!(ph in mut) || m + 0 > mut[ph])) mut[ph] = m + 0
    if (r != "" && (!(ph in ro) || r + 0 > ro[ph])) ro[ph] = r + 0
  }
  END {
    print "phase,api_mutating_worst_10s_p99_ms,api_readonly_worst_10s_p99_ms"
    for (ph = 1; ph <= 5; ph++)
      printf "%d,%s,%s\n", ph, (ph in mut) ? sprintf("%.3f", mut[ph]) : "", (ph in ro) ? sprintf("%.3f", ro[ph]) : ""
  }' "$out/timeseries.csv" > "$out/phases-api.csv"
rm -f "$out/pods.csv"
cat "$out/phases.csv" "$out/phases-api.csv"
