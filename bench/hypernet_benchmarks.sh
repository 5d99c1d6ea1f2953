#!/usr/bin/env bash
# The hypernetwork on HyPINO's seven benchmarks (docs/results.md, "Hypernetwork"):
# zero-shot and with refinement rounds, the paper's metric (MSE over all 224 x 224
# pixels of u * mask - reference) next to Table 1 of the paper, and relative L2.
#   bench/hypernet_benchmarks.sh [MODEL] [ROUNDS...]     (default: the shipped model, 0 10)
# Spec: the benchmark file's own grids (--spec FILE:GROUP), so the input is what HyPINO
# got; the config supplies the output grid and the reference. Needs ../shared/data.
# EXTRA="--no-least-squares" keeps the output layer the heads emit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kpde=${KPDE:-$root/build/kpde}
model=${1:-$root/hypernet/models/hypino_kpde.h5}
shift || true
rounds=("$@"); [ ${#rounds[@]} -eq 0 ] && rounds=(0 10)
bench=$root/../shared/data/hypino_benchmarks.h5
[ -f "$bench" ] || { echo "missing $bench" >&2; exit 2; }
out=${OUT:-$root/kpde_out/hypernet_bench}
mkdir -p "$out"
declare -A group=([HT]=heat [HZ]=helmholtz [HZ-G]=helmholtz_G [PS-C]=poisson_C [PS-L]=poisson_L [PS-G]=poisson_G [WV]=wave)
declare -A paper0=([HT]=2.3e-2 [HZ]=5.7e-3 [HZ-G]=1.3e-1 [PS-C]=5.6e-2 [PS-L]=1.7e-4 [PS-G]=1.8e-1 [WV]=2.9e-1)
declare -A paper10=([HT]=8.0e-5 [HZ]=1.6e-3 [HZ-G]=1.9e-2 [PS-C]=2.3e-3 [PS-L]=2.7e-4 [PS-G]=5.0e-3 [WV]=1.2e-1)
printf "%-5s %6s %12s %12s %10s %12s %9s\n" id rounds kpde_mse paper_mse rel_l2 forward_s emit_s
for id in HT HZ HZ-G PS-C PS-L PS-G WV; do
  for k in "${rounds[@]}"; do
    dir=$out/$id-r$k
    "$kpde" hypernet "$root/examples/benchmarks/$id.yaml" --model "$model" --refine "$k" \
      --spec "$bench:${group[$id]}" --n 224 --out "$dir" --quiet ${EXTRA:-} > "$dir.log" 2>&1 || { echo "$id failed: $(tail -1 "$dir.log")"; continue; }
    python3 - "$dir/metrics.json" "$id" "$k" "${paper0[$id]}" "${paper10[$id]}" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); k = int(sys.argv[3])
paper = sys.argv[4] if k == 0 else (sys.argv[5] if k == 10 else "-")
print("%-5s %6d %12.3e %12s %10.3e %12.3f %9.3f" % (sys.argv[2], k, m.get("reference_mse_all_pixels", float("nan")), paper,
      m.get("rel_l2", float("nan")), m["forward_s"], m["emit_s"]))
PY
  done
done
