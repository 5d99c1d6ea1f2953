#!/usr/bin/env bash
# Runs every available method on every problem of the benchmark registry
# (examples/benchmarks/: the seven HyPINO problems) and prints one table of the paper's
# metric, mean over all 224 x 224 pixels of (u * mask - reference)^2, next to the
# HyPINO paper's Table 1 (zero-shot and after 10 refinement rounds).
#
#   bench/registry.sh [--methods "reference pinn"] [--problems "HT HZ ..."] [--out DIR]
#                     [--hypino-h5 PATH] [--quick]
#
# --quick trains the PINNs briefly (smoke test of the script, not a result).
# The reference arrays are read from ../shared/data/hypino_benchmarks.h5 (relative to
# the repository) unless --hypino-h5 names the file.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kpde="${KPDE:-$root/build/kpde}"
methods="reference pinn"
problems="HT HZ HZ-G PS-C PS-L PS-G WV"
out="$root/kpde_out/registry"
h5=""
quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --methods) methods="$2"; shift 2 ;;
    --problems) problems="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --hypino-h5) h5="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    *) echo "registry.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
# The HyPINO paper, Table 1 (MSE), as stored in hypino_benchmarks.h5 / paper_table1_mse.
declare -A zero=([HT]=2.3e-02 [HZ]=5.7e-03 [HZ-G]=1.3e-01 [PS-C]=5.6e-02 [PS-L]=1.7e-04 [PS-G]=1.8e-01 [WV]=2.9e-01)
declare -A ref10=([HT]=8.0e-05 [HZ]=1.6e-03 [HZ-G]=1.9e-02 [PS-C]=2.3e-03 [PS-L]=2.7e-04 [PS-G]=5.0e-03 [WV]=1.2e-01)
json() { sed -n "s/^ *\"$2\": *\"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" "$1" | head -1; }
declare -A cell
for p in $problems; do
  cfg="$root/examples/benchmarks/$p.yaml"
  group=$(sed -n 's/.*dataset: \([A-Za-z_]*\)\/reference_solution.*/\1/p' "$cfg")
  set_h5=()
  if [ -n "$h5" ]; then
    set_h5=(--set "problem.reference={hdf5: $h5, dataset: $group/reference_solution, mask: $group/domain_mask}")
  fi
  for m in $methods; do
    dir="$out/$m/$p"
    case "$m" in
      reference) "$kpde" reference "$cfg" --out "$dir" "${set_h5[@]}" > "$out/$m-$p.log" 2>&1 ;;
      pinn)
        extra=()
        if [ $quick = 1 ]; then extra=(--set "training.stages[0].steps=20" --set "training.stages[1].steps=20"); fi
        "$kpde" solve "$cfg" --out "$dir" --quiet "${set_h5[@]}" "${extra[@]}" > "$out/$m-$p.log" 2>&1 ;;
      *) echo "registry.sh: unknown method $m" >&2; exit 2 ;;
    esac || { cell[$m,$p]="failed"; continue; }
    cell[$m,$p]="$(json "$dir/metrics.json" reference_mse_all_pixels) ($(printf '%.0fs' "$(json "$dir/metrics.json" wall_s)"))"
  done
done
printf '| method |'; for p in $problems; do printf ' %s |' "$p"; done; printf '\n|---|'
for p in $problems; do printf -- '---|'; done; printf '\n'
for m in $methods; do
  printf '| kpde %s |' "$m"
  for p in $problems; do printf ' %s |' "$(printf '%s' "${cell[$m,$p]}" | awk '{ if ($1 ~ /^[0-9.e+-]+$/) printf "%.1e %s", $1, $2; else print $0 }')"; done
  printf '\n'
done
printf '| HyPINO zero-shot (paper) |'; for p in $problems; do printf ' %s |' "${zero[$p]}"; done; printf '\n'
printf '| HyPINO 10 refinements (paper) |'; for p in $problems; do printf ' %s |' "${ref10[$p]}"; done; printf '\n'
