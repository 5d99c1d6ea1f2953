#!/usr/bin/env bash
# PINN initialisation from the hypernetwork on HyPINO's seven benchmarks (docs/results.md,
# "Hypernetwork", target 3): for each benchmark config, kpde solve from a random
# initialisation and kpde solve --init-from-hypernet, both monitored every K steps
# against the benchmark's reference (relative L2 at 4096 in-mask reference nodes, from
# step 0). The hypernet run's network is the target PINN (modified MLP, width 32), so a
# third run trains that architecture from a random initialisation. The table
# (bench/hypernet_init_table.py, which explains its columns): the random runs' final
# error E, the time each run takes to reach E (the hypernet run's initialisation
# included) and the speedup, and the same times for 10 E.
#   bench/hypernet_init.sh [MODEL] [IDS...]     (default: the shipped model, all seven)
# MONITOR=K (default 25) sets training.monitor_every, THREADS (default 2) --threads; SET="key=value ..." adds --set
# overrides to every run. Needs ../shared/data.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kpde=${KPDE:-$root/build/kpde}
model=${1:-$root/hypernet/models/hypino_kpde.h5}
shift || true
ids=("$@"); [ ${#ids[@]} -eq 0 ] && ids=(HT HZ HZ-G PS-C PS-L PS-G WV)
out=${OUT:-$root/kpde_out/hypernet_init}
mkdir -p "$out"
sets=(--threads "${THREADS:-2}" --set "training.monitor_every=${MONITOR:-25}")
for s in ${SET:-}; do sets+=(--set "$s"); done
# the target PINN as a model section (hypernet::Emitted::merged_architecture of one round)
target=(--set model.type=modified_mlp --set model.width=32 --set model.depth=4 --set model.activation=tanh
        --set model.features.type=fourier_fixed --set model.features.n_frequencies=5 --set model.features.base=0.1
        --set model.features.include_input=true)
for id in "${ids[@]}"; do
  cfg=$root/examples/benchmarks/$id.yaml
  for run in random random32 hypernet; do
    extra=()
    [ $run = random32 ] && extra=("${target[@]}")
    [ $run = hypernet ] && extra=(--init-from-hypernet --hypernet-model "$model")
    "$kpde" solve "$cfg" --out "$out/$id-$run" "${sets[@]}" "${extra[@]}" > "$out/$id-$run.log" 2>&1 ||
      { echo "$id $run failed: $(tail -1 "$out/$id-$run.log")" >&2; exit 1; }
  done
done
python3 "$root/bench/hypernet_init_table.py" "$out" "${ids[@]}"
