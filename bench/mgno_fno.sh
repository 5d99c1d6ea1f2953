#!/usr/bin/env bash
# FNO peer of kpde's MgNO: trains neuraloperator's FNO (PyPI `neuraloperator`, PyTorch on
# the CPU) on the Darcy HDF5 files kpde's MgNO trains on, in the FNO paper's Darcy setting,
# and prints the parameters, seconds per epoch and test relative L2 error. See bench/README.md.
#
#   bench/mgno_fno.sh [TRAIN_H5 TEST_H5]       (or env TRAIN, TEST)
#
# neuraloperator (and the few small packages its import needs) is pip-installed --no-deps
# into a private venv that never is a dependency of kpde: FNO_VENV, default the DeepONet
# bench's ~/.cache/kpde-bench/deepxde-venv (torch and h5py are already there).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
  cat <<EOF
Usage: bench/mgno_fno.sh [TRAIN_H5 TEST_H5]
  TRAIN_H5, TEST_H5  kpde generate darcy files (kind darcy, geometry square, the same grid), e.g.
                     kpde generate examples/generate/darcy.yaml --grid 85 -n 1000 --seed 0 --out train.h5
                     kpde generate examples/generate/darcy.yaml --grid 85 -n 200 --seed 1 --out test.h5
                     (env TRAIN, TEST; the arguments win)
Env: EPOCHS (100, as kpde's 85^2 MgNO run; the paper: 500), BATCH (8, kpde MgNO's; the paper: 20),
     LR (1e-3), WEIGHT_DECAY (1e-4), STEP_SIZE (StepLR x0.5 every STEP_SIZE epochs; default
     max(1, EPOCHS / 5), the paper's 100 of 500), THREADS (2: torch threads),
     N_TRAIN, N_TEST (0: every sample of the file; else the first N), SEED (1),
     ARCH (paper: neuraloperator's FNO set up as the paper's network, 2,368,001 parameters;
     neuralop: neuraloperator's FNO with its own defaults), WIDTH (32), MODES (12), LAYERS (4),
     DOMAIN_PADDING (0: none, as the paper; e.g. 0.1),
     LOG (a file for the whole output; default none),
     FNO_VENV (~/.cache/kpde-bench/deepxde-venv), VENV_PYTHON (python that makes it),
     NEURALOP_VERSION (2.0.0), TORCH_VERSION (2.15.0) and H5PY_VERSION (3.16.0) (torch and h5py
     are installed only where the venv has none: an installed torch is never replaced),
     TORCH_WAIT_POLICY (passive, as kpde's own; 'default': libgomp's spinning default),
     INSTALL (1; 0: never install, fail if something is missing).
EOF
}
case "${1:-}" in -h|--help) usage; exit 0 ;; esac
[ $# -eq 0 ] || [ $# -eq 2 ] || { usage >&2; exit 2; }

TRAIN=${1:-${TRAIN:-}}
TEST=${2:-${TEST:-}}
EPOCHS=${EPOCHS:-100}
BATCH=${BATCH:-8}
LR=${LR:-1e-3}
WEIGHT_DECAY=${WEIGHT_DECAY:-1e-4}
STEP_SIZE=${STEP_SIZE:-0}
THREADS=${THREADS:-2}
N_TRAIN=${N_TRAIN:-0}
N_TEST=${N_TEST:-0}
SEED=${SEED:-1}
ARCH=${ARCH:-paper}
WIDTH=${WIDTH:-32}
MODES=${MODES:-12}
LAYERS=${LAYERS:-4}
DOMAIN_PADDING=${DOMAIN_PADDING:-0}
LOG=${LOG:-}
FNO_VENV=${FNO_VENV:-$HOME/.cache/kpde-bench/deepxde-venv}
VENV_PYTHON=${VENV_PYTHON:-}
NEURALOP_VERSION=${NEURALOP_VERSION:-2.0.0}
TORCH_VERSION=${TORCH_VERSION:-2.15.0}
H5PY_VERSION=${H5PY_VERSION:-3.16.0}
INSTALL=${INSTALL:-1}
# as bench/deeponet_deepxde.sh: PyPI torch's libgomp gets kpde's OMP_WAIT_POLICY=passive
TORCH_WAIT_POLICY=${TORCH_WAIT_POLICY-passive}

die() { echo "mgno_fno.sh: error: $*" >&2; exit 1; }
log() { echo "[mgno_fno] $*" >&2; }

for v in EPOCHS BATCH THREADS WIDTH MODES LAYERS; do
  if ! [[ ${!v} =~ ^[0-9]+$ ]] || [ "${!v}" -lt 1 ]; then die "$v must be a positive integer (got '${!v}')"; fi
done
for v in N_TRAIN N_TEST STEP_SIZE SEED; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "$v must be a non-negative integer (got '${!v}')"
done
case "$ARCH" in paper|neuralop) ;; *) die "ARCH must be paper or neuralop (got '$ARCH')" ;; esac

# ---- the data first, so that a missing file fails before any install ----
if [ -z "$TRAIN" ] || [ -z "$TEST" ]; then usage >&2; die "give the training and test files (arguments or env TRAIN, TEST)"; fi
[ -f "$TRAIN" ] || die "training file '$TRAIN' not found"
[ -f "$TEST" ] || die "test file '$TEST' not found"

# ---- the private venv ----
PY=$FNO_VENV/bin/python
if [ ! -x "$PY" ]; then
  [ "$INSTALL" = 1 ] || die "no venv at $FNO_VENV (and INSTALL=0)"
  base=$VENV_PYTHON
  if [ -z "$base" ]; then
    if command -v python3 >/dev/null 2>&1 && python3 -c 'import venv, ensurepip' 2>/dev/null; then base=$(command -v python3)
    else
      [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null 2>&1 || die "python3 cannot make venvs; install python3-venv"
      sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
      log "apt-get install python3 python3-venv"
      if ! { $sudo apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
               --no-install-recommends python3 python3-venv >&2; }; then die "apt-get install python3-venv failed"; fi
      base=/usr/bin/python3
    fi
  fi
  log "creating venv $FNO_VENV with $base"
  mkdir -p "$(dirname "$FNO_VENV")"
  "$base" -m venv "$FNO_VENV" >&2 || die "could not create venv $FNO_VENV with $base"
fi
# a venv inside the work tree stays out of git (a .gitignore of '*' ignores itself too)
[ -f "$FNO_VENV/.gitignore" ] || echo '*' > "$FNO_VENV/.gitignore"

pip_install() { "$PY" -m pip install -q --disable-pip-version-check "$@" >&2; }
dist_version() { "$PY" -c 'import sys; from importlib.metadata import version
try: print(version(sys.argv[1]))
except Exception: pass' "$1" 2>/dev/null; }

# torch, numpy, h5py, scipy (tensorly's): installed only when missing; a torch already there
# stays whatever version it is (PyPI's torch is a CUDA build; it runs on the CPU here)
base_pkgs=()
[ -n "$(dist_version torch)" ] || base_pkgs+=("torch==$TORCH_VERSION")
[ -n "$(dist_version h5py)" ] || base_pkgs+=("h5py==$H5PY_VERSION")
[ -n "$(dist_version numpy)" ] || base_pkgs+=(numpy)
[ -n "$(dist_version scipy)" ] || base_pkgs+=(scipy)
if [ ${#base_pkgs[@]} -gt 0 ]; then
  [ "$INSTALL" = 1 ] || die "the venv $FNO_VENV lacks ${base_pkgs[*]} (and INSTALL=0)"
  log "pip install ${base_pkgs[*]} into $FNO_VENV (torch: about 3 GB download the first time)"
  pip_install "${base_pkgs[@]}" || die "pip install ${base_pkgs[*]} failed"
fi
TORCH_HAVE=$(dist_version torch)
[ -n "$TORCH_HAVE" ] || die "no torch in $FNO_VENV"

# neuraloperator with --no-deps: its declared dependencies (wandb, zencfg, configmypy,
# ruamel.yaml, matplotlib, ...) are not needed to train an FNO; `from neuralop.models import
# FNO` imports tensorly (and its packaging), tensorly-torch, opt_einsum and requests (its dataset downloader),
# and pip would not touch torch anyway (neuraloperator does not declare it). The helpers are
# installed (pinned) only where missing; neuraloperator must be NEURALOP_VERSION.
helpers=(tensorly==0.10.0 tensorly-torch==0.5.0 opt_einsum==3.4.0 packaging==26.4 requests==2.34.2 urllib3==2.8.0
         idna==3.20 charset-normalizer==3.5.3 certifi==2026.10.19.post1)
nop_pkgs=()
[ "$(dist_version neuraloperator)" = "$NEURALOP_VERSION" ] || nop_pkgs+=("neuraloperator==$NEURALOP_VERSION")
for p in "${helpers[@]}"; do [ -n "$(dist_version "${p%%==*}")" ] || nop_pkgs+=("$p"); done
if [ ${#nop_pkgs[@]} -gt 0 ]; then
  [ "$INSTALL" = 1 ] || die "the venv $FNO_VENV lacks ${nop_pkgs[*]} (and INSTALL=0)"
  log "pip install --no-deps ${nop_pkgs[*]} into $FNO_VENV"
  pip_install --no-deps "${nop_pkgs[@]}" || die "pip install --no-deps ${nop_pkgs[*]} failed"
  [ "$(dist_version torch)" = "$TORCH_HAVE" ] || die "installing neuraloperator changed torch ($TORCH_HAVE -> $(dist_version torch))"
fi

PYENV=(CUDA_VISIBLE_DEVICES= OMP_NUM_THREADS="$THREADS" MKL_NUM_THREADS="$THREADS")
case "$TORCH_WAIT_POLICY" in ''|default) TORCH_WAIT_POLICY=default ;; *) PYENV+=(OMP_WAIT_POLICY="$TORCH_WAIT_POLICY") ;; esac
env "${PYENV[@]}" "$PY" -c 'import torch, h5py; from neuralop.models import FNO' 2>/dev/null \
  || die "the venv's python cannot import torch, h5py and neuralop.models.FNO (run: $PY -c 'from neuralop.models import FNO')"

# ---- CPU used by other processes during the run (as bench/deeponet_deepxde.sh) ----
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
TIMES_FILE=$(mktemp); OUT_FILE=$(mktemp); trap 'rm -f "$TIMES_FILE" "$OUT_FILE"' EXIT
cpu_children() {   # sets CPU_CH: this shell's children's CPU seconds (times must run in this shell, not a subshell)
  times > "$TIMES_FILE"
  CPU_CH=$(tail -n 1 "$TIMES_FILE" | awk '{s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); s += a[1] * 60 + a[2] } printf "%.3f", s}')
}
busy_s() { local u n s x y z; read -r _ u n s _ _ x y z _ < /proc/stat; awk -v j=$((u + n + s + x + y + z)) -v hz="$HZ" 'BEGIN{printf "%.3f", j / hz}'; }

CPU_MODEL=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
log "FNO ($ARCH) on $TRAIN / $TEST: $EPOCHS epochs, batch $BATCH, lr $LR, $THREADS torch threads (OMP_WAIT_POLICY $TORCH_WAIT_POLICY); venv $FNO_VENV"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
cpu_children; c0=$CPU_CH; b0=$(busy_s); t0=$EPOCHREALTIME
rc=0
env "${PYENV[@]}" "$PY" "$here/mgno_fno.py" --train "$TRAIN" --test "$TEST" --n-train "$N_TRAIN" --n-test "$N_TEST" \
  --epochs "$EPOCHS" --batch "$BATCH" --lr "$LR" --weight-decay "$WEIGHT_DECAY" --step-size "$STEP_SIZE" \
  --width "$WIDTH" --modes "$MODES" --layers "$LAYERS" --arch "$ARCH" --domain-padding "$DOMAIN_PADDING" \
  --threads "$THREADS" --seed "$SEED" > "$OUT_FILE" 2>&1 || rc=$?
cpu_children; c1=$CPU_CH; b1=$(busy_s); t1=$EPOCHREALTIME
OTHER=$(awk -v c0="$c0" -v c1="$c1" -v b0="$b0" -v b1="$b1" -v t0="$t0" -v t1="$t1" \
  'BEGIN{o = ((b1 - b0) - (c1 - c0)) / (t1 - t0); if (o < 0) o = 0; printf "%.2f", o}')
[ -z "$LOG" ] || cp "$OUT_FILE" "$LOG"
grep -v '^fno: params=' "$OUT_FILE" || true
[ $rc -eq 0 ] || die "mgno_fno.py failed (exit $rc)${LOG:+; log $LOG}"
RESULT=$(grep '^fno: params=' "$OUT_FILE" | tail -n 1)
[ -n "$RESULT" ] || die "mgno_fno.py printed no result line"
echo "cpu: ${CPU_MODEL:-unknown} ($(nproc) cores); load average (1, 5, 15 min) $LOAD0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end; other processes used $OTHER cores during the run"
if awk -v m="$OTHER" 'BEGIN{exit !(m > 0.10)}'; then
  echo "WARNING: other processes used $OTHER cores during the run: s_per_epoch is noisy (rerun on a quiet machine)"
fi
echo "$RESULT"
