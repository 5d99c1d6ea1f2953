#!/usr/bin/env bash
# Threads on a shared machine (issue 13): wall time of a short `kpde solve` (poisson_sin,
# 300 Adam + 300 L-BFGS steps, the default 201^2 output grid; STEPS=N and N_OUT=N change
# them) on a quiet machine and with one core kept busy by another
# process (a shell busy loop), each figure the median of paired runs from farm-bench.
#   quiet:  --threads 2 against --threads 1                 (target: 2 threads >= 1.7x faster)
#   busy:   default settings against --threads 1            (target: default <= 1.2x)
#           --threads 2 (passive waiting) against --threads 1
#           --threads 2 with libgomp's spinning wait (GOMP_SPINCOUNT=300000: libgomp's default,
#           which kpde replaced by passive waiting)
# Usage: bench/threads_shared.sh [RUNS (default 3)]. Needs a machine with 2+ cores and
# nothing else running; prints one table (ratios are A/B wall, median of pairs).
set -euo pipefail
set -f  # the --set values hold [ ]
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
runs=${1:-3}
kpde=${KPDE:-$repo/build/kpde}
work=$(mktemp -d)
spinner=""
trap '[ -n "$spinner" ] && kill "$spinner" 2>/dev/null; rm -rf "$work"' EXIT
solve() {  # solve OUT [args]: the short solve as one command line
  echo "$kpde solve $repo/examples/configs/poisson_sin.yaml --quiet --out $work/$1 --n ${N_OUT:-201}" \
       "--set training.stages[0].steps=${STEPS:-300} --set training.stages[1].steps=${STEPS:-300} ${*:2}"
}
pair() {  # pair LABEL "A" "B": median A wall, B wall, A/B wall
  local out
  out=$(farm-bench -n "$runs" --warmup 0 --timeout 3000 --vs "$3" -- $2 2>&1)
  local a b r
  a=$(awk '$1=="A" && $2=="wall" {print $5}' <<<"$out")
  b=$(awk '$1=="B" && $2=="wall" {print $5}' <<<"$out")
  r=$(awk '$1=="A/B" && $2=="wall" {print $4}' <<<"$out")
  printf '| %-52s | %8s | %8s | %6s |\n' "$1" "$a" "$b" "$r"
}
echo "# $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(date -u +%F), runs=$runs"
printf '| %-52s | %8s | %8s | %6s |\n' "A vs B (wall s, median)" "A" "B" "A/B"
echo "|------------------------------------------------------|----------|----------|--------|"
pair "quiet: --threads 2 vs --threads 1" "$(solve a --threads 2)" "$(solve b --threads 1)"
pair "quiet: default vs --threads 1" "$(solve a)" "$(solve b --threads 1)"
sh -c 'while :; do :; done' & spinner=$!
sleep 1
pair "one core busy: default vs --threads 1" "$(solve a)" "$(solve b --threads 1)"
pair "one core busy: --threads 2 (passive) vs --threads 1" "$(solve a --threads 2)" "$(solve b --threads 1)"
pair "one core busy: --threads 2, spinning wait vs --threads 1" "env GOMP_SPINCOUNT=300000 $(solve a --threads 2)" \
     "$(solve b --threads 1)"
