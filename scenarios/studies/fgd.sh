#!/usr/bin/env bash
# The fragmentation study of "Beware of Fragmentation" (Weng et al., USENIX ATC '23)
# reproduced on its own data (scenarios/gpu-sharing-fgd.yaml): for each of the four pod
# lists of ../shared/data/alibaba-gpu-v2023 (default, cpu050, gpushare100, multigpu50), a
# sweep over the six policies (Random, DotProd, GpuClustering, GpuPacking, BestFit, FGD)
# with seeds 42-51 (60 runs), each run inflated to 130 % of the cluster's GPUs. Twice: on
# the 1,523 nodes of openb_node_list_all_node.csv (the issue's protocol) and on its 1,213
# GPU nodes (`onlyGpuNodes`, the node set the paper's simulator reads,
# openb_node_list_gpu_node.yaml): 8 sweeps, 480 runs.
# Writes results/fgd/:
#   <nodes>-<workload>/   each sweep (runs.csv, points.csv, sweep.json, charts/ with
#                         curve-gpu_alloc_pct_at_arrived: allocation against arrived demand,
#                         one line per policy)
#   table.csv             per node set, workload and policy: the GPU allocation ratio (% of
#                         the cluster's GPUs) at 100, 110, 120 and 130 % arrived demand,
#                         min and max over the 10 seeds, and the mean
#   table.md              the same as a Markdown table
# Usage: scenarios/studies/fgd.sh [path/to/clustersim]  (about 4 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/release/clustersim}
jobs=${JOBS:-2}
out=results/fgd
mkdir -p "$out"
policies=Random,DotProd,GpuClustering,GpuPacking,BestFit,FGD
for nodes in all gpu; do
  only=false; [ "$nodes" = gpu ] && only=true
  for w in default cpu050 gpushare100 multigpu50; do
    "$bin" sweep scenarios/gpu-sharing-fgd.yaml --seed 42 -r 10 --jobs "$jobs" -q --force \
      --set "nodeLists.0.onlyGpuNodes=$only" \
      --set "podTraces.0.file=../../shared/data/alibaba-gpu-v2023/openb_pod_list_$w.csv" \
      -L scheduler.gpuSharing.policy "$policies" \
      --out "$out/$nodes-$w"
  done
done

# table.csv from the runs: min, max and mean over the seeds of gpu_alloc_pct_at_arrived_<k>.
{
  echo "nodes,workload,policy,runs,alloc_100_min,alloc_100_max,alloc_100_mean,alloc_110_min,alloc_110_max,alloc_110_mean,alloc_120_min,alloc_120_max,alloc_120_mean,alloc_130_min,alloc_130_max,alloc_130_mean"
  for nodes in all gpu; do
    for w in default cpu050 gpushare100 multigpu50; do
      awk -F, -v nodes="$nodes" -v w="$w" -v order="$policies" '
        NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
        {
          p = $col["parameter_scheduler.gpuSharing.policy"]; n[p]++
          for (j = 0; j < 4; j++) {
            k = 100 + 10 * j; v = $col["gpu_alloc_pct_at_arrived_" k] + 0
            if (n[p] == 1 || v < lo[p, k]) lo[p, k] = v
            if (n[p] == 1 || v > hi[p, k]) hi[p, k] = v
            sum[p, k] += v
          }
        }
        END {
          m = split(order, ps, ",")
          for (i = 1; i <= m; i++) {
            p = ps[i]; line = nodes "," w "," p "," n[p]
            for (j = 0; j < 4; j++) { k = 100 + 10 * j; line = line sprintf(",%.2f,%.2f,%.2f", lo[p, k], hi[p, k], sum[p, k] / n[p]) }
            print line
          }
        }' "$out/$nodes-$w/runs.csv"
    done
  done
} > "$out/table.csv"

# table.md: "min–max" at each arrived percentage.
{
  echo "| nodes | workload | policy | 100 % | 110 % | 120 % | 130 % |"
  echo "|---|---|---|---|---|---|---|"
  awk -F, 'NR > 1 { printf "| %s | %s | %s | %s–%s | %s–%s | %s–%s | %s–%s |\n", $1, $2, $3, $5, $6, $8, $9, $11, $12, $14, $15 }' "$out/table.csv"
} > "$out/table.md"
echo "wrote $out/table.csv, $out/table.md and the sweeps' charts"
