#!/usr/bin/env bash
# DeepONet race: kpde train (model.type deeponet) against DeepXDE's DeepONetCartesianProd
# (PyTorch backend) on the same antiderivative data, network sizes, optimiser, batch and
# number of iterations: time per iteration and test relative L2 after the same iterations.
# See bench/README.md.
#
#   bench/deeponet_deepxde.sh [KPDE_BIN] [ITERS]      (defaults: build/kpde, 10000)
#
# DeepXDE, PyTorch and h5py are pip-installed into a private venv (never a dependency of
# kpde): DEEPXDE_VENV, default ~/.cache/kpde-bench/deepxde-venv.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

usage() {
  cat <<EOF
Usage: bench/deeponet_deepxde.sh [KPDE_BIN] [ITERS]
  KPDE_BIN  the kpde binary (default build/kpde; env KPDE)
  ITERS     Adam iterations of each run (default 10000 = 100 epochs; env ITERS); one iteration = one
            batch of BATCH functions x all points; an epoch (N_TRAIN / BATCH) = 100 iterations
Env: REPEATS (1: runs per setting, the median is reported), PRECISIONS ("float64 float32"), KPDE_THREADS ("1 2"), TORCH_THREADS ("1 2"),
     ARCH (deepxde: DeepXDE's network as shipped, tanh on the trunk's output; kpde: made
     exactly kpde's, linear trunk output and PyTorch-default branch init),
     WIDTH (100), DEPTH (3), BASIS (100), BATCH (100), LR (1e-3), N_TRAIN (10000), N_TEST (1000),
     WORK (folder for datasets, configs and logs; default a new one under \${TMPDIR:-/tmp}),
     DEEPXDE_VENV (~/.cache/kpde-bench/deepxde-venv), VENV_PYTHON (python that makes it),
     TORCH_VERSION (2.15.0), DEEPXDE_VERSION (1.15.0), H5PY_VERSION (3.16.0),
     TORCH_WAIT_POLICY (passive, as kpde's own; 'default': libgomp's spinning default),
     INSTALL (1; 0: never install, fail if something is missing).
EOF
}
case "${1:-}" in -h|--help) usage; exit 0 ;; esac
[ $# -le 2 ] || { usage >&2; exit 2; }

KPDE=${1:-${KPDE:-$repo/build/kpde}}
ITERS=${2:-${ITERS:-10000}}
PRECISIONS=${PRECISIONS:-"float64 float32"}
KPDE_THREADS=${KPDE_THREADS:-"1 2"}
TORCH_THREADS=${TORCH_THREADS:-"1 2"}
ARCH=${ARCH:-deepxde}
WIDTH=${WIDTH:-100}
DEPTH=${DEPTH:-3}
BASIS=${BASIS:-100}
BATCH=${BATCH:-100}
LR=${LR:-1e-3}
N_TRAIN=${N_TRAIN:-10000}
N_TEST=${N_TEST:-1000}
DEEPXDE_VENV=${DEEPXDE_VENV:-$HOME/.cache/kpde-bench/deepxde-venv}
VENV_PYTHON=${VENV_PYTHON:-}
TORCH_VERSION=${TORCH_VERSION:-2.15.0}
DEEPXDE_VERSION=${DEEPXDE_VERSION:-1.15.0}
H5PY_VERSION=${H5PY_VERSION:-3.16.0}
INSTALL=${INSTALL:-1}
REPEATS=${REPEATS:-1}
# kpde runs its OpenMP threads with OMP_WAIT_POLICY=passive (app/cli/main.cpp); DeepXDE's torch
# (libgomp) gets the same unless set here ('' or 'default': torch's own spinning default).
# Under load the difference is large: torch float64 at 2 threads measured 943 ms/iter with the
# default and 3.3 ms/iter passive while other builds ran.
TORCH_WAIT_POLICY=${TORCH_WAIT_POLICY-passive}

die() { echo "deeponet_deepxde.sh: error: $*" >&2; exit 1; }
log() { echo "[deeponet_deepxde] $*" >&2; }

for v in ITERS REPEATS WIDTH DEPTH BASIS BATCH N_TRAIN N_TEST; do
  [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -ge 1 ] || die "$v must be a positive integer (got '${!v}')"
done
[ "$ITERS" -ge 3 ] || die "ITERS must be >= 3 (the first and last iteration are left out of the time per iteration)"
case "$ARCH" in deepxde|kpde) ;; *) die "ARCH must be deepxde or kpde (got '$ARCH')" ;; esac

# ---- kpde binary first, so that a missing build fails before any install ----
case "$KPDE" in /*) ;; */*) KPDE=$PWD/$KPDE ;; *) KPDE=$(command -v "$KPDE" || echo "$KPDE") ;; esac
[ -e "$KPDE" ] || die "kpde binary not found at '$KPDE'. Build it first (./setup.sh) or pass its path."
[ -x "$KPDE" ] || die "kpde binary '$KPDE' is not executable"
GEN_CFG=$repo/examples/generate/antiderivative.yaml
[ -f "$GEN_CFG" ] || die "missing $GEN_CFG"

# ---- the private venv: torch (PyPI's default wheel, run on the CPU), deepxde, h5py ----
PY=$DEEPXDE_VENV/bin/python
pkgs=("torch==$TORCH_VERSION" "deepxde==$DEEPXDE_VERSION" "h5py==$H5PY_VERSION")
want="${pkgs[*]}"
have_versions() {
  "$PY" - "$TORCH_VERSION" "$DEEPXDE_VERSION" "$H5PY_VERSION" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
t, d, h = sys.argv[1:]
ok = version("torch").split("+")[0] == t and version("deepxde") == d and version("h5py") == h
sys.exit(0 if ok else 1)
EOF
}
if ! { [ -x "$PY" ] && have_versions; }; then
  [ "$INSTALL" = 1 ] || die "no $want in venv $DEEPXDE_VENV (and INSTALL=0)"
  if [ ! -x "$PY" ]; then
    base=$VENV_PYTHON
    if [ -z "$base" ]; then
      if command -v python3 >/dev/null 2>&1 && python3 -c 'import venv, ensurepip' 2>/dev/null; then base=$(command -v python3)
      else
        [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null 2>&1 || die "python3 cannot make venvs; install python3-venv"
        sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
        log "apt-get install python3 python3-venv"
        $sudo apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
          python3 python3-venv >&2 || die "apt-get install python3-venv failed"
        base=/usr/bin/python3
      fi
    fi
    log "creating venv $DEEPXDE_VENV with $base"
    mkdir -p "$(dirname "$DEEPXDE_VENV")"
    "$base" -m venv "$DEEPXDE_VENV" >&2 || die "could not create venv $DEEPXDE_VENV with $base"
  fi
  # a venv inside the work tree stays out of git (a .gitignore of '*' ignores itself too)
  [ -f "$DEEPXDE_VENV/.gitignore" ] || echo '*' > "$DEEPXDE_VENV/.gitignore"
  log "pip install $want into $DEEPXDE_VENV (first time: about 3 GB download; PyPI's torch is a CUDA build, run on the CPU here)"
  "$PY" -m pip install -q --disable-pip-version-check "${pkgs[@]}" >&2 || die "pip install $want failed"
  have_versions || die "the venv $DEEPXDE_VENV does not have $want after installing"
fi
# the PyPI torch wheel is a CUDA build: keep it (and DeepXDE) off any GPU; DeepXDE's backend
PYENV=(CUDA_VISIBLE_DEVICES= DDE_BACKEND=pytorch)
TORCH_OMP=()
case "$TORCH_WAIT_POLICY" in ''|default) TORCH_WAIT_POLICY=default ;; *) TORCH_OMP=(OMP_WAIT_POLICY="$TORCH_WAIT_POLICY") ;; esac

# ---- work folder: the two datasets, the kpde configs and every run's log ----
if [ -z "${WORK:-}" ]; then WORK=$(mktemp -d "${TMPDIR:-/tmp}/kpde-deeponet-bench.XXXXXX"); fi
mkdir -p "$WORK"; WORK=$(cd "$WORK" && pwd)
TRAIN_H5=$WORK/train_${N_TRAIN}_seed1.h5
TEST_H5=$WORK/test_${N_TEST}_seed2.h5
[ -f "$TRAIN_H5" ] || "$KPDE" generate "$GEN_CFG" -n "$N_TRAIN" --seed 1 --out "$TRAIN_H5" --quiet >&2 \
  || die "kpde generate (train) failed"
[ -f "$TEST_H5" ] || "$KPDE" generate "$GEN_CFG" -n "$N_TEST" --seed 2 --out "$TEST_H5" --quiet >&2 \
  || die "kpde generate (test) failed"

# ---- CPU used by other processes during a run (as bench/compare_torch.sh) ----
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
TIMES_FILE=$(mktemp); trap 'rm -f "$TIMES_FILE"' EXIT
cpu_children() {
  times > "$TIMES_FILE"
  CPU_CH=$(tail -n 1 "$TIMES_FILE" | awk '{s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); s += a[1] * 60 + a[2] } printf "%.3f", s}')
}
busy_s() { local u n s x y z; read -r _ u n s _ _ x y z _ < /proc/stat; awk -v j=$((u + n + s + x + y + z)) -v hz="$HZ" 'BEGIN{printf "%.3f", j / hz}'; }
MAX_OTHER=0
OUT=
measure() {   # kpde|deepxde precision threads: sets OUT (the run's result line) and OTHER
  local c0 c1 b0 b1 t0 t1
  cpu_children; c0=$CPU_CH; b0=$(busy_s); t0=$EPOCHREALTIME
  OUT=$("run_$1" "$2" "$3")
  cpu_children; c1=$CPU_CH; b1=$(busy_s); t1=$EPOCHREALTIME
  OTHER=$(awk -v c0="$c0" -v c1="$c1" -v b0="$b0" -v b1="$b1" -v t0="$t0" -v t1="$t1" \
    'BEGIN{o = ((b1 - b0) - (c1 - c0)) / (t1 - t0); if (o < 0) o = 0; printf "%.2f", o}')
  MAX_OTHER=$(awk -v a="$MAX_OTHER" -v b="$OTHER" 'BEGIN{print (b > a) ? b : a}')
}
field() { tr ' ' '\n' | awk -v k="$1=" 'index($0, k) == 1 { v = substr($0, length(k) + 1) } END { print v }'; }   # stdin: a result line; the value of key $1

# ---- kpde: kpde train on a generated config; the time per iteration from history.h5 ----
run_kpde() {   # precision threads -> "ms_per_iter=.. train_ms_per_iter=.. test_rel_l2_mean=.."
  local prec=$1 t=$2 dir=$WORK/kpde_${1}_t$2 cfg=$WORK/kpde_$1.yaml rc=0 out
  cat > "$cfg" <<EOF
# written by bench/deeponet_deepxde.sh
model:
  type: deeponet
  basis: $BASIS
  branch: {width: $WIDTH, depth: $DEPTH}
  output_scale: 1           # G = sum_k b_k t_k + b0, as in DeepXDE
  trunk: {width: $WIDTH, depth: $DEPTH}
  seed: 1
data:
  train: {file: $TRAIN_H5}
  test: {file: $TEST_H5}
training:
  batch: $BATCH
  precision: $prec
  monitor_every: 0
  checkpoint_every: 0
  stages:
    - {type: adam, steps: $ITERS, lr: $LR}
output:
  dir: $dir
EOF
  rm -rf "$dir"
  out=$("$KPDE" train "$cfg" --threads "$t" --out "$dir" --quiet 2>&1) || rc=$?
  echo "$out" > "$dir.log"
  [ $rc -eq 0 ] || { echo "$out" >&2; die "kpde train --threads $t ($prec) failed (exit $rc); log $dir.log"; }
  # history.h5 wall_s[k]: training seconds after step k+1. Steps 2 .. N-1 as for DeepXDE.
  env "${PYENV[@]}" "$PY" - "$dir" "$ITERS" <<'EOF' || die "could not read $dir/history.h5 and metrics.json"
import json, sys, h5py
d, n = sys.argv[1], int(sys.argv[2])
with h5py.File(d + "/history.h5", "r") as f:
    key = "wall_s" if "wall_s" in f else "history/wall_s"
    w = f[key][...]
if len(w) != n:
    sys.exit(f"history.h5 has {len(w)} steps, expected {n}")
m = json.load(open(d + "/metrics.json"))
print(f"ms_per_iter={1e3 * (w[-2] - w[0]) / (n - 2):.4f} train_ms_per_iter={1e3 * m['wall_s'] / n:.4f} "
      f"train_s={m['wall_s']:.3f} test_rel_l2_mean={m['test_rel_l2_mean']:.4e} "
      f"test_rel_l2_median={m['test_rel_l2_median']:.4e} final_loss={m['final_loss']:.4e} n_params={int(m['n_params'])}")
EOF
}

run_deepxde() {   # precision threads -> the result line of bench/deeponet_deepxde.py
  local log=$WORK/deepxde_${1}_t$2.log rc=0 out
  out=$(env "${PYENV[@]}" "${TORCH_OMP[@]}" OMP_NUM_THREADS="$2" MKL_NUM_THREADS="$2" "$PY" "$here/deeponet_deepxde.py" \
        --train "$TRAIN_H5" --test "$TEST_H5" --iters "$ITERS" --dtype "$1" --threads "$2" --width "$WIDTH" \
        --depth "$DEPTH" --basis "$BASIS" --lr "$LR" --batch "$BATCH" --arch "$ARCH" 2>&1) || rc=$?
  echo "$out" > "$log"
  [ $rc -eq 0 ] || { echo "$out" >&2; die "DeepXDE --dtype $1 --threads $2 failed (exit $rc); log $log"; }
  grep '^deepxde ' <<<"$out" | tail -n 1
}

VERSIONS=$(env "${PYENV[@]}" "$PY" -c 'import torch, deepxde; print(f"DeepXDE {deepxde.__version__}, torch {torch.__version__}")' 2>/dev/null) \
  || die "the venv's python cannot import torch and deepxde"
log "kpde: $KPDE"
log "$VERSIONS (venv $DEEPXDE_VENV), arch $ARCH, torch OpenMP wait policy $TORCH_WAIT_POLICY"
log "data: $TRAIN_H5, $TEST_H5; work folder $WORK"
log "network: branch [100, $WIDTH x $DEPTH, $BASIS], trunk [1, $WIDTH x $DEPTH, $BASIS], tanh; Adam lr $LR, batch $BATCH x all points, $ITERS iterations"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)

# one run per setting and repeat, kpde and DeepXDE interleaved so that a drift in the
# machine's load hits both; the median over REPEATS is reported
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END{if(NR==0)exit 1; if(NR%2)printf "%.4f", v[(NR+1)/2]; else printf "%.4f", (v[NR/2]+v[NR/2+1])/2}'; }
declare -A MSL TOTL ERR
for prec in $PRECISIONS; do
  for ((r = 1; r <= REPEATS; r++)); do
    for t in $KPDE_THREADS; do
      measure kpde "$prec" "$t"
      MSL[kpde,$prec,$t]+=" $(field ms_per_iter <<<"$OUT")"; TOTL[kpde,$prec,$t]+=" $(field train_ms_per_iter <<<"$OUT")"
      ERR[kpde,$prec,$t]=$(field test_rel_l2_mean <<<"$OUT")
      log "$prec rep $r kpde    threads=$t $OUT  (other processes: $OTHER cores; load $(cut -d' ' -f1 /proc/loadavg))"
    done
    for t in $TORCH_THREADS; do
      measure deepxde "$prec" "$t"
      MSL[dde,$prec,$t]+=" $(field ms_per_iter <<<"$OUT")"; TOTL[dde,$prec,$t]+=" $(field train_ms_per_iter <<<"$OUT")"
      ERR[dde,$prec,$t]=$(field test_rel_l2_mean <<<"$OUT")
      log "$prec rep $r deepxde threads=$t $OUT  (other processes: $OTHER cores; load $(cut -d' ' -f1 /proc/loadavg))"
    done
  done
done
declare -A MS TOT
for k in "${!MSL[@]}"; do MS[$k]=$(median <<<"${MSL[$k]}"); TOT[$k]=$(median <<<"${TOTL[$k]}"); done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

best() {   # side precision threads-list -> "threads"
  local side=$1 prec=$2 bt='' bm='' t
  for t in $3; do
    if [ -z "$bm" ] || awk -v a="${MS[$side,$prec,$t]}" -v b="$bm" 'BEGIN{exit !(a < b)}'; then bm=${MS[$side,$prec,$t]}; bt=$t; fi
  done
  echo "$bt"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (b > 0) printf "%.1fx", a / b; else print "inf" }'; }

echo
echo "DeepONet, antiderivative: $N_TRAIN training / $N_TEST test functions (kpde generate, seeds 1 / 2), 100 sensors x 100 points;"
echo "branch [100, $WIDTH x $DEPTH, $BASIS], trunk [1, $WIDTH x $DEPTH, $BASIS], tanh; Adam lr $LR; $BATCH functions x 100 points per iteration; $ITERS iterations"
echo "kpde: $KPDE; $VERSIONS (PyTorch backend, arch $ARCH, OMP_WAIT_POLICY $TORCH_WAIT_POLICY); load average (1, 5, 15 min) $LOAD0 at the start, $LOAD1 at the end"
echo
echo "| precision | kpde ms/iter (threads) | DeepXDE ms/iter (threads) | DeepXDE/kpde | kpde test rel L2 | DeepXDE test rel L2 |"
echo "|---|---|---|---|---|---|"
for prec in $PRECISIONS; do
  kt=$(best kpde "$prec" "$KPDE_THREADS"); dt=$(best dde "$prec" "$TORCH_THREADS")
  printf '| %s | %.3f (%s) | %.3f (%s) | %s | %s | %s |\n' "$prec" "${MS[kpde,$prec,$kt]}" "$kt" "${MS[dde,$prec,$dt]}" "$dt" \
    "$(ratio "${MS[dde,$prec,$dt]}" "${MS[kpde,$prec,$kt]}")" "${ERR[kpde,$prec,$kt]}" "${ERR[dde,$prec,$dt]}"
done
echo
echo "Every setting (median of $REPEATS; ms/iter: iterations 2 .. N-1; all-in: the whole training call / N, with its start and final evaluations):"
echo
echo "| side | precision | threads | ms/iter | all-in ms/iter | test rel L2 mean |"
echo "|---|---|---|---|---|---|"
for prec in $PRECISIONS; do
  for t in $KPDE_THREADS; do
    printf '| kpde | %s | %s | %.3f | %.3f | %s |\n' "$prec" "$t" "${MS[kpde,$prec,$t]}" "${TOT[kpde,$prec,$t]}" "${ERR[kpde,$prec,$t]}"
  done
  for t in $TORCH_THREADS; do
    printf '| DeepXDE | %s | %s | %.3f | %.3f | %s |\n' "$prec" "$t" "${MS[dde,$prec,$t]}" "${TOT[dde,$prec,$t]}" "${ERR[dde,$prec,$t]}"
  done
done
if awk -v m="$MAX_OTHER" 'BEGIN{exit !(m > 0.10)}'; then
  echo
  echo "WARNING: other processes used up to $MAX_OTHER cores during some runs: these timings are noisy (rerun on a quiet machine)"
fi
echo
echo "logs, configs and datasets: $WORK"
