#!/usr/bin/env bash
# Runs every problem of the standard suite (examples/suite/*.yaml) through `kpde solve`
# and prints one markdown table: per problem the relative L2 error of every field against
# its ground truth (an exact solution or the PETSc reference, named), the largest error at the points of its reference tables (e.g. Ghia
# et al.'s centre lines), the wall time, and the CPU.
#
#   bench/suite.sh [--problems "kovasznay cavity_re100"] [--out DIR] [--quick] [--threads N]
#
# --quick trains each problem for a few steps (a smoke test of the script, not a result).
# Needs python3 (standard library) to read metrics.json.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kpde="${KPDE:-$root/build/kpde}"
problems=""
out="$root/kpde_out/suite"
quick=0
threads=""
while [ $# -gt 0 ]; do
  case "$1" in
    --problems) problems="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --quick) quick=1; shift ;;
    --threads) threads="$2"; shift 2 ;;
    *) echo "suite.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
if [ -z "$problems" ]; then
  for f in "$root"/examples/suite/*.yaml; do problems="$problems $(basename "$f" .yaml)"; done
fi
[ -x "$kpde" ] || { echo "suite.sh: $kpde not found (build first: ./setup.sh)" >&2; exit 2; }
mkdir -p "$out"
cpu="$(lscpu | sed -n 's/^Model name: *//p' | head -1)"
echo "kpde suite, $(date -u +%Y-%m-%d), $cpu, $(nproc) cores${threads:+, $threads threads}"
echo
echo "| problem | rel. L2 per field | against | max abs error at reference points | wall s |"
echo "|---|---|---|---|---|"
for p in $problems; do
  cfg="$root/examples/suite/$p.yaml"
  [ -f "$cfg" ] || { echo "suite.sh: no problem $p ($cfg)" >&2; exit 2; }
  args=(solve "$cfg" --out "$out/$p" --quiet)
  [ -n "$threads" ] && args+=(--threads "$threads")
  if [ "$quick" = 1 ]; then
    args+=(--set training.interior.n=128 --set training.boundary.n=64 --set "training.stages[0].steps=3"
           --set "training.stages[1].steps=3" --set output.n=22)
  fi
  "$kpde" "${args[@]}" > "$out/$p.log" 2>&1 || { echo "| $p | failed: see $out/$p.log | | | |"; continue; }
  python3 - "$out/$p/metrics.json" "$p" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
fields = m.get("fields", {})
exact = ", ".join(f"{k} {v['rel_l2']:.2e}" for k, v in fields.items()) or "-"
if "unknowns" not in m and isinstance(m.get("rel_l2"), float):  # a scalar problem: u
    exact = f"u {m['rel_l2']:.2e}"
tables = m.get("points", {})
pts = ", ".join(f"{f} {v['max_abs_err']:.2e}" for t in tables.values() for f, v in t.items()) or "-"
against = str(m.get("error_against", "-")).split(" (")[0]
if "unknowns" in m: against = "exact solutions"  # a system: its fields' exact solutions
if exact == "-": against = "-"
print(f"| {sys.argv[2]} | {exact} | {against} | {pts} | {m['wall_s']:.0f} |")
PY
done
