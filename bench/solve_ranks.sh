#!/usr/bin/env bash
# Strong scaling of data-parallel `kpde solve` over MPI ranks (issue 15): the training
# time (metrics.json wall_s) of a fixed number of Adam steps on poisson_sin, with the
# anchor's 4096 + 512 points and with 65,536 + 2,048, for
#   1 rank x 1 thread, 2 ranks x 1 thread, 1 rank x 2 threads
# (the median of REPS runs each). Prints one table row per size.
#   bench/solve_ranks.sh [KPDE] [REPS] [STEPS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kpde=${1:-$root/build/kpde}
reps=${2:-3}
steps=${3:-200}
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; $steps Adam steps, median of $reps runs"
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
run() {  # ranks threads interior boundary -> training seconds
  local ranks=$1 threads=$2 ni=$3 nb=$4 launch=()
  [ "$ranks" -gt 1 ] && launch=(mpirun -n "$ranks" --oversubscribe --bind-to none)
  for r in $(seq "$reps"); do
    OMP_NUM_THREADS=$threads "${launch[@]}" "$kpde" solve "$root/examples/configs/poisson_sin.yaml" --quiet \
      --threads "$threads" --out "$work/o" --set training.interior.n="$ni" --set training.boundary.n="$nb" \
      --set training.monitor_every=0 --set output.n=21 \
      --set "training.stages=[{type: adam, steps: $steps, lr: 1.0e-3}]" >/dev/null
    sed -n 's/.*"wall_s": *\([0-9.eE+-]*\).*/\1/p' "$work/o/metrics.json" | head -1
  done | median
}
printf "%-22s %12s %12s %12s %10s %10s\n" points "1r x 1t (s)" "2r x 1t (s)" "1r x 2t (s)" "2r/1r" "2r vs 2t"
for size in "4096 512" "65536 2048"; do
  set -- $size
  a=$(run 1 1 "$1" "$2"); b=$(run 2 1 "$1" "$2"); c=$(run 1 2 "$1" "$2")
  printf "%-22s %12.2f %12.2f %12.2f %9.2fx %9.2fx\n" "$1 + $2" "$a" "$b" "$c" \
    "$(echo "$a / $b" | bc -l)" "$(echo "$c / $b" | bc -l)"
done
