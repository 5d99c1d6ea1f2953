#!/usr/bin/env bash
# Dataset generation throughput (issue 5): samples per second of `kpde generate` for
# the MMS config at 224 x 224 (1 process x 2 threads, and 2 MPI ranks x 1 thread) and
# the Darcy config at 64^2, 128^2 and 256^2. Prints one table; the figures are the
# generator's own wall time (from the first sample to the last write).
#
#   bench/generate.sh [--n-mms 400] [--n-darcy 200] [--out DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kpde="${KPDE:-$root/build/kpde}"
n_mms=400
n_darcy=200
out="${TMPDIR:-/tmp}/kpde_bench_generate"
while [ $# -gt 0 ]; do
  case "$1" in
    --n-mms) n_mms="$2"; shift 2 ;;
    --n-darcy) n_darcy="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "generate.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
run() {  # label, then the command; prints "label | samples/s | wall s | MB"
  local label="$1"; shift
  local log; log=$("$@" 2>/dev/null | grep 'samples/s on')
  local rate wall file
  rate=$(echo "$log" | sed -E 's/.*: ([0-9.]+) samples\/s.*/\1/')
  wall=$(echo "$log" | sed -E 's/.* in ([0-9.]+) s:.*/\1/')
  file=$(echo "$log" | sed -E 's/.* to (.*) in [0-9.]+ s:.*/\1/')
  printf "| %s | %s | %s | %.1f |\n" "$label" "$rate" "$wall" "$(du -m "$file" | cut -f1)"
}
echo "| run | samples/s | wall s | file MB |"
echo "|---|---|---|---|"
run "mms 224^2, n=$n_mms, 1 process x 2 threads" \
  "$kpde" generate "$root/examples/generate/mms.yaml" --out "$out/mms1.h5" -n "$n_mms" --seed 1 --threads 2 --quiet
run "mms 224^2, n=$n_mms, 2 ranks x 1 thread" \
  mpirun -n 2 --oversubscribe "$kpde" generate "$root/examples/generate/mms.yaml" --out "$out/mms2.h5" -n "$n_mms" --seed 1 --threads 1 --quiet
for g in 64 128 256; do
  run "darcy ${g}^2, n=$n_darcy, 2 ranks x 1 thread" \
    mpirun -n 2 --oversubscribe "$kpde" generate "$root/examples/generate/darcy.yaml" --out "$out/darcy$g.h5" -n "$n_darcy" --seed 1 --grid "$g" --threads 1 --quiet
done
rm -f "$out"/*.h5
