#!/usr/bin/env bash
# Whole-run scaling of a 200-task experiment (single_stage.toml, 3 systems x 67 replications = 201 tasks,
# horizon 3000): 1 thread, 2 threads, MPI 1 and 2 ranks x 1 thread; then per-task scheduling
# overhead with near-empty tasks (horizon 1, 2000 replications = 6000 tasks); then Table 1 in a
# short mode (120 tasks as 120 units, 20 gradient steps each on a 200 x 200 world) at 1 and 2
# threads and over 2 MPI ranks, with tasks/s and the scaling ratios.
#   bash bench/cluster_scaling.sh [build-dir]
set -euo pipefail
build=${1:-build}
src=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
exp="$src/experiments/single_stage.toml"
sets="--set experiment.replications=67 --set experiment.horizon=3000"
mpirun="mpirun --allow-run-as-root --oversubscribe"
t() {  # prints wall seconds of a command
  local s e
  s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N)
  echo "$e - $s" | bc
}
echo "201 tasks (single_stage.toml x 67 replications, T = 3000):"
t1=$(t "$build/stagesim" run "$exp" $sets --quiet --threads 1 --out "$tmp/a.h5")
t2=$(t "$build/stagesim" run "$exp" $sets --quiet --threads 2 --out "$tmp/b.h5")
printf "  1 rank  x 1 thread : %6.2f s\n  1 rank  x 2 threads: %6.2f s  (speed-up %.2f)\n" "$t1" "$t2" "$(echo "$t1 / $t2" | bc -l)"
if [ -x "$build/stagesim_mpi" ]; then
  m1=$(t $mpirun -n 1 "$build/stagesim_mpi" run "$exp" $sets --quiet --threads 1 --out "$tmp/c.h5")
  m2=$(t $mpirun -n 2 "$build/stagesim_mpi" run "$exp" $sets --quiet --threads 1 --out "$tmp/d.h5")
  printf "  MPI 1 rank  x 1 thread: %6.2f s\n  MPI 2 ranks x 1 thread: %6.2f s  (speed-up %.2f)\n" "$m1" "$m2" "$(echo "$m1 / $m2" | bc -l)"
fi
echo "scheduling overhead (6000 tasks of one request each):"
o1=$(t "$build/stagesim" run "$exp" --set experiment.replications=2000 --set experiment.horizon=1 --set experiment.checkpoints=1 --quiet --threads 1 --out "$tmp/e.h5")
printf "  1 thread: %.1f us per task (world + systems setup, journal record + fdatasync, HDF5)\n" "$(echo "$o1 * 1000000 / 6000" | bc -l)"
if [ -x "$build/stagesim_mpi" ]; then
  o2=$(t $mpirun -n 2 "$build/stagesim_mpi" run "$exp" --set experiment.replications=2000 --set experiment.horizon=1 --set experiment.checkpoints=1 --quiet --threads 1 --out "$tmp/f.h5")
  printf "  MPI 2 ranks: %.1f us per task\n" "$(echo "$o2 * 1000000 / 6000" | bc -l)"
fi
t1_exp="$src/experiments/early_stage_pg/table1.toml"
t1_sets="--set experiment.horizon=2560 --set experiment.checkpoints=4 --set world.users=200 --set world.items=200 --set metrics.policy_value.requests=100"
echo "Table 1 short mode (120 tasks in 120 units, T = 2560 = 20 steps of 128):"
p1=$(t "$build/stagesim" run "$t1_exp" $t1_sets --quiet --threads 1 --out "$tmp/g.h5")
p2=$(t "$build/stagesim" run "$t1_exp" $t1_sets --quiet --threads 2 --out "$tmp/h.h5")
printf "  1 thread : %6.2f s  (%.1f tasks/s)\n  2 threads: %6.2f s  (%.1f tasks/s, speed-up %.2f)\n" \
  "$p1" "$(echo "120 / $p1" | bc -l)" "$p2" "$(echo "120 / $p2" | bc -l)" "$(echo "$p1 / $p2" | bc -l)"
if [ -x "$build/stagesim_mpi" ]; then
  p3=$(t $mpirun -n 2 "$build/stagesim_mpi" run "$t1_exp" $t1_sets --quiet --threads 1 --out "$tmp/i.h5")
  printf "  MPI 2 ranks x 1 thread: %6.2f s  (%.1f tasks/s, speed-up %.2f over 1 thread)\n" \
    "$p3" "$(echo "120 / $p3" | bc -l)" "$(echo "$p1 / $p3" | bc -l)"
fi
