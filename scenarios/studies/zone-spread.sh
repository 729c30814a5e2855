#!/usr/bin/env bash
# A zone outage under load with and without spreading (scenarios/zone-spread.yaml): the
# sweep of scenarios/sweeps/zone-spread.yaml (load × web spread constraint × host
# anti-affinity × default spreading × failed zone, 5 replications: 480 runs), then every run once more
# with --pods (same seed and values, so the same run: its summary is checked against the
# sweep's row) to see where the web pods were and how long their replacements waited.
# Writes results/zone-spread/:
#   sweep/       the sweep (runs.csv, points.csv, sweep.json; no charts: its parameter
#                values are whole YAML objects, too long for a legend)
#   outage-runs.csv  one row per run: variant, load, failed zone, seed, web pods per zone when the
#                zone fails, pods lost, how long replacements waited, availability during
#                the outage (30m-60m, from timeseries.csv), and the sweep's availability,
#                p99 and time to recover
#   table.csv    one row per variant and load: means over its 15 runs (3 zones × 5 seeds) with 95 %
#                confidence intervals over the 5 seeds (each seed's mean over the three
#                zones, so the CI is over independent draws; t with 4 degrees of freedom)
#                (and the worst run's pods lost and availability, and how many runs lost 4
#                or more of the 9 web pods)
#   points.csv, charts/, index.html   the sweep's points.csv with the parameters replaced
#                by the variant's name, the load and the failed zone, drawn by `clustersim plot`
# Usage: scenarios/studies/zone-spread.sh [path/to/clustersim]  (about 5 minutes on 2 cores)
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${1:-target/release/clustersim}
jobs=${JOBS:-2}
scenario=scenarios/zone-spread.yaml
out=results/zone-spread
mkdir -p "$out"
"$bin" sweep "$scenario" --sweep-file scenarios/sweeps/zone-spread.yaml --out "$out/sweep" --force -q --no-charts --jobs "$jobs"

# The grid as the sweep file lists it (first parameter outermost, 5 replications).
zdns='[{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: web}}}]'
zsa='[{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: web}}}]'
zdnsh='[{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, nodeTaintsPolicy: Honor, labelSelector: {matchLabels: {app: web}}}]'
anti='{podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: kubernetes.io/hostname, labelSelector: {matchLabels: {app: web}}}]}}'
spreads=("[]" "$zsa" "$zdns" "$zdnsh"); spread_names=("" "zone-ScheduleAnyway" "zone-DoNotSchedule" "zone-DoNotSchedule-Honor")
affs=("{}" "$anti"); aff_names=("" "host-anti-affinity")
defaults=(System List)
zones=(zone-a zone-b zone-c)
rates=(500 650)
reps=5
runs=$((2 * 4 * 2 * 2 * 3 * reps))
base_seed=$(awk '/^seed:/ {print $2}' "$scenario")

variant_name() { # spread index, affinity index, defaulting index
  local name=${spread_names[$1]}
  if [ -n "${aff_names[$2]}" ]; then name=${name:+$name+}${aff_names[$2]}; fi
  echo "${name:-none}/${defaults[$3]}"
}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/zone-spread.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

one_run() { # run index
  local i=$1 p=$(($1 / reps)) r=$(($1 % reps))
  local z=$((p % 3)) d=$((p / 3 % 2)) a=$((p / 6 % 2)) s=$((p / 12 % 4)) l=$((p / 48))
  local seed=$((base_seed + r)) dir="$tmp/run-$i"
  "$bin" run "$scenario" --out "$dir" --pods --no-charts -q --seed "$seed" \
    --set "deployments.0.service.load.steps.0.rate=${rates[$l]}" \
    --set "deployments.0.template.topologySpreadConstraints=${spreads[$s]}" \
    --set "deployments.0.template.affinity=${affs[$a]}" \
    --set "scheduler.podTopologySpread.defaultingType=${defaults[$d]}" \
    --set "faults.0.fail.zone=${zones[$z]}" > /dev/null
  # The same run as the sweep's run i: its summary row is the end of runs.csv's row i + 1
  # (the parameters, with commas inside quotes, come first; the summary has none).
  local want got
  got=$(sed -n 2p "$dir/summary.csv")
  want=$(awk -v row=$((i + 2)) -v k="$(echo "$got" | awk -F, '{print NF}')" -F, \
    'NR == row { s = $(NF - k + 1); for (j = NF - k + 2; j <= NF; j++) s = s "," $j; print s }' "$out/sweep/runs.csv")
  if [ "$got" != "$want" ]; then echo "run $i: summary differs from the sweep's runs.csv" >&2; exit 1; fi
  # Outage from 1800 s to 3600 s. Web pods per zone just before it (node general-<k> is in
  # zone k mod 3); web pods created after it: how many, the longest wait from creation to
  # binding, the pod-minutes spent waiting, and how many were bound only once the zone came
  # back (3600 s or later).
  local place
  place=$(awk -F, -v fz="$z" '
    NR == 1 { next }
    $2 != "Deployment/web" { next }
    {
      created = $7 + 0; bound = $8; fin = $10
      if (bound != "" && bound + 0 <= 1800 && (fin == "" || fin + 0 > 1800)) {
        n = split($6, parts, "-"); at[parts[n] % 3]++
      }
      if (created > 1800) {
        repl++; w = (bound == "" ? 4800 : bound + 0) - created
        if (w > maxw) maxw = w
        waited += w
        if (bound == "" || bound + 0 >= 3600) late++
      }
    }
    END { printf "%d,%d,%d,%d,%d,%.1f,%.2f,%d", at[0], at[1], at[2], at[fz], repl, maxw, waited / 60, late }
  ' "$dir/pods.csv")
  # Availability of web requests whose outcome fell in (1800, 3600]; the fewest Ready web
  # pods at a sample in that window.
  local outage
  outage=$(awk -F, '
    NR == 1 { for (j = 1; j <= NF; j++) c[$j] = j; minr = -1; next }
    $1 + 0 > 1800 && $1 + 0 <= 3600 {
      ok += $c["svc_web_succeeded"]
      all += $c["svc_web_succeeded"] + $c["svc_web_rejected"] + $c["svc_web_timed_out"] + $c["svc_web_failed"]
      rp = $c["svc_web_ready_pods"] + 0; if (minr < 0 || rp < minr) minr = rp
    }
    END { printf "%.6f,%d", ok / all, minr }
  ' "$dir/timeseries.csv")
  local summ
  summ=$(awk -F, 'NR == 1 { for (j = 1; j <= NF; j++) c[$j] = j; next }
    { print $c["availability"] "," $c["latency_p99_ms"] "," $c["time_to_recover_s"] }' "$dir/summary.csv")
  echo "$i,$(variant_name $s $a $d),${rates[$l]},${zones[$z]},$seed,$place,$outage,$summ" > "$tmp/row-$i.csv"
  rm -rf "$dir"
}
export -f one_run variant_name
export bin scenario out reps base_seed tmp zdns zsa zdnsh anti
# Arrays do not cross into the xargs shells: pass them as strings and rebuild them there.
export spreads_s="$(printf '%s\n' "${spreads[@]}")" spread_names_s="$(printf '%s\n' "${spread_names[@]}")"
export affs_s="$(printf '%s\n' "${affs[@]}")" aff_names_s="$(printf '%s\n' "${aff_names[@]}")"
seq 0 $((runs - 1)) | xargs -P "$jobs" -I{} bash -c '
  set -euo pipefail
  mapfile -t spreads <<< "$spreads_s"; mapfile -t spread_names <<< "$spread_names_s"
  mapfile -t affs <<< "$affs_s"; mapfile -t aff_names <<< "$aff_names_s"
  defaults=(System List); zones=(zone-a zone-b zone-c); rates=(500 650)
  one_run {}'
{
  echo "run,variant,rate_per_s,failed_zone,seed,web_zone_a,web_zone_b,web_zone_c,web_pods_lost,web_replacements,replacement_wait_max_s,replacement_wait_pod_min,replacements_bound_after_repair,outage_availability,outage_min_ready_pods,availability,latency_p99_ms,time_to_recover_s"
  for i in $(seq 0 $((runs - 1))); do cat "$tmp/row-$i.csv"; done
} > "$out/outage-runs.csv"

# Per variant and load: the mean of each column over its 15 runs, and a 95 % CI from the 5
# seeds' means over the three zones (t quantile 2.776 for 4 degrees of freedom).
awk -F, -v reps=$reps '
  BEGIN {
    # outage-runs.csv columns: availability, p99, time to recover, outage availability,
    # pods lost, longest replacement wait, replacements bound after the repair
    nc = split("16 17 18 14 9 11 13", col, " ")
    split("availability latency_p99_ms time_to_recover_s outage_availability web_pods_lost replacement_wait_max_s replacements_bound_after_repair", names, " ")
  }
  NR == 1 { next }
  {
    v = $2 "," $3; if (!(v in seen)) { seen[v] = 1; order[++nv] = v }
    k = (NR - 2) % reps
    for (j = 1; j <= nc; j++) { x = $(col[j]); if (x == "") { empty[v]++; continue } sum[v, j, k] += x; cnt[v, j, k]++ }
    lost = $9 + 0; if (!(v in maxlost) || lost > maxlost[v]) maxlost[v] = lost
    if (lost >= 4) many[v]++
    a = $16 + 0; if (!(v in mina) || a < mina[v]) mina[v] = a
    runs[v]++
  }
  END {
    h = "variant,rate_per_s,runs"
    for (j = 1; j <= nc; j++) h = h "," names[j] "_mean," names[j] "_ci95_lo," names[j] "_ci95_hi"
    print h ",web_pods_lost_max,runs_losing_4_or_more,availability_min,empty_cells"
    for (i = 1; i <= nv; i++) {
      v = order[i]; line = v "," runs[v]
      for (j = 1; j <= nc; j++) {
        n = 0; s = 0; ss = 0
        for (k = 0; k < reps; k++) if (cnt[v, j, k] > 0) { m = sum[v, j, k] / cnt[v, j, k]; n++; s += m; ss += m * m }
        mean = s / n; var = n > 1 ? (ss - n * mean * mean) / (n - 1) : 0; if (var < 0) var = 0
        h = 2.776 * sqrt(var) / sqrt(n)
        line = line sprintf(",%.6g,%.6g,%.6g", mean, mean - h, mean + h)
      }
      print line sprintf(",%d,%d,%.6f,%d", maxlost[v], many[v], mina[v], empty[v])
    }
  }
' "$out/outage-runs.csv" > "$out/table.csv"

# The sweep's points with readable parameters: the variant, the load and the failed zone
# (the last parameter), in place of the four YAML-valued ones.
awk -F, '
  function csvsplit(line, f,   n, i, c, q, cur) {
    n = 0; cur = ""; q = 0
    for (i = 1; i <= length(line); i++) {
      c = substr(line, i, 1)
      if (q) { if (c == "\"") { if (substr(line, i + 1, 1) == "\"") { cur = cur c; i++ } else q = 0 } else cur = cur c }
      else if (c == "\"") q = 1
      else if (c == ",") { f[++n] = cur; cur = "" }
      else cur = cur c
    }
    f[++n] = cur; return n
  }
  FNR == NR { name[$1] = $2; next }
  FNR == 1 {
    n = split($0, h, ","); line = "parameter_variant,parameter_rate_per_s,parameter_failed_zone"
    for (j = 6; j <= n; j++) line = line "," h[j]
    print line; next
  }
  {
    n = csvsplit($0, f); p = FNR - 2
    line = name[p] "," f[1] "," f[5]; for (j = 6; j <= n; j++) line = line "," f[j]; print line
  }
' <(awk -F, -v reps=$reps 'NR > 1 && (NR - 2) % reps == 0 { print int((NR - 2) / reps) "," $2 }' "$out/outage-runs.csv") \
  "$out/sweep/points.csv" > "$out/points.csv"
"$bin" plot "$out" --metric availability --metric latency_p99_ms --metric time_to_recover_s > /dev/null
cut -d, -f1-4,13,19,25,34-36 "$out/table.csv" | column -s, -t
