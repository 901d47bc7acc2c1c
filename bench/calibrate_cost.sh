#!/usr/bin/env bash
# Compares `stagesim check`'s cost estimate with measured time on short versions of the shipped
# experiments (one thread each, so the numbers do not depend on the core count). Prints one line
# per run: estimate, wall time, CPU time and their ratios. The rate in sim/estimate.cpp and the
# stages' cost formulas were fitted with it (docs/cluster.md, "Cost estimate").
#   usage: bench/calibrate_cost.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
S=${1:-build}/stagesim
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() {
  local name=$1
  shift
  local t0 t1 line est wall cpu
  /usr/bin/time -f "%U %S" -o "$out/time" "$S" run "$@" --threads 1 --out "$out/$name.h5" >"$out/log" 2>&1
  line=$(grep '^estimated' "$out/log")
  est=$(sed -E 's/^estimated ([0-9.]+) s.*/\1/' <<<"$line")
  wall=$(sed -E 's/.*measured ([0-9.]+) s$/\1/' <<<"$line")
  cpu=$(awk '{print $1 + $2}' "$out/time")
  printf '%-22s estimate %7.2f s  wall %7.2f s  cpu %7.2f s  cpu/estimate %5.2f\n' "$name" "$est" \
    "$wall" "$cpu" "$(bc -l <<<"$cpu / $est")"
}
run quickstart experiments/quickstart.toml
run fig3_short experiments/two_stage/fig3.toml --set experiment.replications=2 \
  --set world.items=[100,1000]
run nominators_short experiments/two_stage/nominator_count.toml --set experiment.replications=2
run table1_short experiments/early_stage_pg/table1.toml --set experiment.horizon=128000 \
  --set experiment.checkpoints=10 --set experiment.replications=1 --set 'stages.esr.keep=[10]'
run table1_eval_heavy experiments/early_stage_pg/table1.toml --set experiment.horizon=12800 \
  --set experiment.checkpoints=10 --set experiment.replications=1 --set 'stages.esr.keep=[20]'
run table4_fixture experiments/early_stage_pg/table4.toml --data-dir tests/fixtures/kuairec \
  --set 'stages.esr.keep=[2,3]' --set experiment.horizon=64000 --set experiment.checkpoints=4 \
  --set experiment.replications=2 --set stages.esr.update_every=16
run proposition2 experiments/two_stage/proposition2_bandit.toml --set experiment.replications=40
