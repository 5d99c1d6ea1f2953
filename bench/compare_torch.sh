#!/usr/bin/env bash
# Side-by-side PINN training-step speed: kpde vs the PyTorch anchor
# (shared/anchors/torch_pinn_poisson.py), same sizes, precision and steps, on this machine.
# See bench/README.md. Usage: bench/compare_torch.sh [options]   (--help for the list)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

# ---- settings (env vars, overridden by flags) ----
KPDE=${KPDE:-$repo/build/kpde}
STEPS=${STEPS:-200}
REPEATS=${REPEATS:-3}
WIDTH=${WIDTH:-64}
DEPTH=${DEPTH:-4}
INTERIOR=${INTERIOR:-4096}
BOUNDARY=${BOUNDARY:-512}
PRECISIONS=${PRECISIONS:-"float64 float32"}
KPDE_THREADS=${KPDE_THREADS:-"1 2"}
TORCH_THREADS=${TORCH_THREADS:-"1 2"}
TORCH=${TORCH:-pypi}                 # pypi: torch from PyPI in a venv (MKL); debian: python3-torch 1.13 + OpenBLAS
TORCH_VERSION=${TORCH_VERSION:-2.15.0}   # PyPI torch version pinned for reproducible numbers
ANCHOR_VENV=${ANCHOR_VENV:-$here/anchor_env}
ANCHOR_PYTHON=${ANCHOR_PYTHON:-}     # python used to create the venv (default: python3 on PATH)
INSTALL=${INSTALL:-1}
WAIT_IDLE=${WAIT_IDLE:-0}            # seconds to wait for an idle machine before each run (0: don't wait)
ANCHOR=${ANCHOR:-}

usage() {
  cat <<EOF
Usage: bench/compare_torch.sh [options]
  --steps K          Adam steps per measurement (default 200; env STEPS)
  --repeats R        repeats per setting, the median is reported (default 3; env REPEATS)
  --width W          MLP width (default 64; env WIDTH)
  --depth D          hidden layers (default 4; env DEPTH)
  --interior N       interior collocation points (default 4096; env INTERIOR)
  --boundary M       boundary points (default 512; env BOUNDARY)
  --quick            smoke run: 20 steps, 1 repeat
  --precisions "P.." default "float64 float32" (env PRECISIONS)
  --kpde PATH        kpde binary (default ./build/kpde; env KPDE)
  --torch pypi|debian  which PyTorch to race (default pypi; env TORCH)
  --kpde-threads "T.."  thread counts tried for kpde (default "1 2"; env KPDE_THREADS)
  --torch-threads "T.." thread counts tried for torch (default "1 2"; env TORCH_THREADS)
  --no-install       never install anything; fail if PyTorch is missing (env INSTALL=0)
  --wait-idle S      before each run wait up to S s for the CPUs to be idle (env WAIT_IDLE)
  --anchor FILE      the anchor script (default: shared/anchors/torch_pinn_poisson.py beside the repo)
Env only: ANCHOR_VENV (default bench/anchor_env), ANCHOR_PYTHON, TORCH_VERSION (default 2.15.0).
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --steps) STEPS=$2; shift 2 ;;
    --repeats) REPEATS=$2; shift 2 ;;
    --width) WIDTH=$2; shift 2 ;;
    --depth) DEPTH=$2; shift 2 ;;
    --interior) INTERIOR=$2; shift 2 ;;
    --boundary) BOUNDARY=$2; shift 2 ;;
    --quick) STEPS=20; REPEATS=1; shift ;;
    --precisions) PRECISIONS=$2; shift 2 ;;
    --kpde) KPDE=$2; shift 2 ;;
    --torch) TORCH=$2; shift 2 ;;
    --kpde-threads) KPDE_THREADS=$2; shift 2 ;;
    --torch-threads) TORCH_THREADS=$2; shift 2 ;;
    --no-install) INSTALL=0; shift ;;
    --wait-idle) WAIT_IDLE=$2; shift 2 ;;
    --anchor) ANCHOR=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "compare_torch.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

die() { echo "compare_torch.sh: error: $*" >&2; exit 1; }
log() { echo "[compare_torch] $*" >&2; }

for v in STEPS REPEATS WIDTH DEPTH INTERIOR BOUNDARY WAIT_IDLE; do
  [[ ${!v} =~ ^[0-9]+$ ]] && [ "${!v}" -ge 0 ] || die "$v must be a non-negative integer (got '${!v}')"
done
[ "$STEPS" -ge 1 ] && [ "$REPEATS" -ge 1 ] || die "STEPS and REPEATS must be >= 1"
case "$TORCH" in pypi|debian) ;; *) die "--torch must be pypi or debian (got '$TORCH')" ;; esac

# ---- kpde binary: checked first, so a missing build fails before any install ----
case "$KPDE" in /*) ;; */*) KPDE=$PWD/$KPDE ;; esac   # relative paths are taken from the caller's cwd
if [ ! -e "$KPDE" ]; then
  die "kpde binary not found at '$KPDE'. Build it first (e.g. cmake -S . -B build -DCMAKE_BUILD_TYPE=Release && cmake --build build -j2) or set KPDE=/path/to/kpde."
fi
[ -x "$KPDE" ] || die "kpde binary '$KPDE' is not executable"

# ---- the anchor script ----
if [ -z "$ANCHOR" ]; then
  for c in "$repo/../shared/anchors/torch_pinn_poisson.py" "$repo/shared/anchors/torch_pinn_poisson.py" \
           /work/shared/anchors/torch_pinn_poisson.py; do
    if [ -f "$c" ]; then ANCHOR=$c; break; fi
  done
fi
[ -n "$ANCHOR" ] && [ -f "$ANCHOR" ] || die "anchor torch_pinn_poisson.py not found (looked in ../shared/anchors beside the repo); set ANCHOR=/path/to/it"
ANCHOR=$(cd "$(dirname "$ANCHOR")" && pwd)/$(basename "$ANCHOR")

# ---- installing what the anchor needs (idempotent) ----
SUDO=
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; fi
fi
have_deb() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
apt_updated=0
apt_install() {   # installs the missing ones of "$@"
  local missing=() p
  for p in "$@"; do have_deb "$p" || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$INSTALL" = 1 ] || die "missing Debian packages: ${missing[*]} (and --no-install was given)"
  command -v apt-get >/dev/null 2>&1 || die "missing packages ${missing[*]} and no apt-get here"
  if [ "$(id -u)" -ne 0 ] && [ -z "$SUDO" ]; then die "missing packages ${missing[*]}; run as root or install them"; fi
  if [ $apt_updated = 0 ]; then
    log "apt-get update"
    $SUDO apt-get update -q >&2 || die "apt-get update failed"
    apt_updated=1
  fi
  log "apt-get install ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 \
    || die "apt-get install ${missing[*]} failed"
}

TORCH_ENV=()     # env settings given to the anchor command only
if [ "$TORCH" = debian ]; then
  apt_install python3-torch libopenblas0-pthread
  PY=/usr/bin/python3
  # OpenBLAS 0.3.21 misdetects this CPU (as Prescott) without it: ~2x slower GEMMs
  TORCH_ENV=(OPENBLAS_CORETYPE=SkylakeX)
else
  PY=$ANCHOR_VENV/bin/python
  if ! { [ -x "$PY" ] && "$PY" -c "import torch, sys; sys.exit(0 if torch.__version__.split('+')[0] == '$TORCH_VERSION' else 1)" 2>/dev/null; }; then
    [ "$INSTALL" = 1 ] || die "no torch $TORCH_VERSION in venv $ANCHOR_VENV (and --no-install was given)"
    base=${ANCHOR_PYTHON:-}
    if [ -z "$base" ]; then
      if command -v python3 >/dev/null 2>&1 && python3 -c 'import venv, ensurepip' 2>/dev/null; then base=$(command -v python3)
      else apt_install python3 python3-venv; base=/usr/bin/python3; fi
    fi
    log "creating venv $ANCHOR_VENV with $base and installing torch==$TORCH_VERSION from PyPI (~3 GB download, ~5.5 GB on disk)"
    mkdir -p "$ANCHOR_VENV"
    # keep the venv out of git wherever it lives (a .gitignore of '*' ignores itself too)
    [ -f "$ANCHOR_VENV/.gitignore" ] || echo '*' > "$ANCHOR_VENV/.gitignore"
    "$base" -m venv "$ANCHOR_VENV" >&2 || die "could not create venv $ANCHOR_VENV with $base"
    "$ANCHOR_VENV/bin/python" -m pip install -q --disable-pip-version-check "torch==$TORCH_VERSION" numpy >&2 \
      || die "pip install torch==$TORCH_VERSION failed"
    "$PY" -c 'import torch' || die "torch installed in $ANCHOR_VENV but does not import"
  fi
  # The PyPI wheel is a CUDA build; keep it from probing for a GPU (it runs on the CPU here)
  TORCH_ENV=(CUDA_VISIBLE_DEVICES=)
fi

TORCH_DESC=$(env "${TORCH_ENV[@]}" "$PY" - <<'EOF' 2>/dev/null
import torch, re
cfg = torch.__config__.show()
m = re.search(r'BLAS_INFO=([A-Za-z0-9_]+)', cfg)
blas = m.group(1) if m else 'unknown'
if blas in ('open', 'openblas', 'blas', 'generic', 'unknown'):
    # Debian's torch links libblas.so.3; the alternatives link says which BLAS it really gets
    import os
    real = os.path.realpath('/usr/lib/x86_64-linux-gnu/libblas.so.3')
    blas = 'OpenBLAS' if 'openblas' in real else ('reference BLAS' if os.path.exists(real) else blas)
    if blas == 'OpenBLAS' and os.environ.get('OPENBLAS_CORETYPE'): blas += '/' + os.environ['OPENBLAS_CORETYPE']
elif blas == 'mkl': blas = 'MKL'
print(f"torch {torch.__version__} {blas}")
EOF
) || die "python at $PY cannot import torch"

# ---- measuring ----
busy_pct() {   # CPU busy percent (all cores) over 1 s
  local a b u n s i w x y z
  read -r _ u n s i w x y z _ < /proc/stat; a="$u $n $s $i $w $x $y $z"; sleep 1
  read -r _ u n s i w x y z _ < /proc/stat; b="$u $n $s $i $w $x $y $z"
  awk -v a="$a" -v b="$b" 'BEGIN{split(a,p," ");split(b,q," ");t=0;for(k=1;k<=8;k++)t+=q[k]-p[k];
    id=(q[4]-p[4])+(q[5]-p[5]); printf "%d", (t > 0 ? 100 * (t - id) / t : 0)}'
}
wait_idle() {
  [ "$WAIT_IDLE" -gt 0 ] || return 0
  local end=$((SECONDS + WAIT_IDLE)) p
  while [ $SECONDS -lt $end ]; do p=$(busy_pct); [ "$p" -le 10 ] && return 0; done
  log "warning: machine still busy after ${WAIT_IDLE}s wait; measuring anyway"
}

# CPU used by other processes during a run, to flag noisy timings: all CPU time the kernel
# counted (/proc/stat) minus what our children used (bash's `times`, run in this shell).
HZ=$(getconf CLK_TCK 2>/dev/null || echo 100)
TIMES_FILE=$(mktemp); trap 'rm -f "$TIMES_FILE"' EXIT
cpu_children() {   # sets CPU_CH: user+sys seconds of this shell's finished children
  times > "$TIMES_FILE"
  CPU_CH=$(tail -n 1 "$TIMES_FILE" | awk '{s = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); sub("s", "", a[2]); s += a[1] * 60 + a[2] } printf "%.3f", s}')
}
busy_s() { local u n s i w x y z; read -r _ u n s i w x y z _ < /proc/stat; awk -v j=$((u + n + s + x + y + z)) -v hz="$HZ" 'BEGIN{printf "%.3f", j / hz}'; }
MAX_OTHER=0
measure() {   # kpde|torch precision threads -> sets MS and OTHER (cores used by other processes meanwhile)
  local c0 c1 b0 b1 t0 t1
  cpu_children; c0=$CPU_CH; b0=$(busy_s); t0=$EPOCHREALTIME
  MS=$(run_$1 "$2" "$3")
  cpu_children; c1=$CPU_CH; b1=$(busy_s); t1=$EPOCHREALTIME
  OTHER=$(awk -v c0="$c0" -v c1="$c1" -v b0="$b0" -v b1="$b1" -v t0="$t0" -v t1="$t1" \
    'BEGIN{o = ((b1 - b0) - (c1 - c0)) / (t1 - t0); if (o < 0) o = 0; printf "%.2f", o}')
  MAX_OTHER=$(awk -v a="$MAX_OTHER" -v b="$OTHER" 'BEGIN{print (b > a) ? b : a}')
}

parse_ms() {   # stdin: program output; prints the last ms_per_step value
  grep -o 'ms_per_step=[0-9.eE+-]*' | tail -n 1 | sed 's/^ms_per_step=//'
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END{if(NR==0)exit 1; if(NR%2)printf "%.3f", v[(NR+1)/2]; else printf "%.3f", (v[NR/2]+v[NR/2+1])/2}'; }

run_kpde() {   # precision threads -> ms
  local out ms rc=0
  out=$("$KPDE" bench pinn-step --precision "$1" --threads "$2" --width "$WIDTH" --depth "$DEPTH" \
        --interior "$INTERIOR" --boundary "$BOUNDARY" --steps "$STEPS" 2>&1) || rc=$?
  [ $rc -eq 0 ] || { echo "$out" >&2; die "kpde bench pinn-step --precision $1 --threads $2 failed (exit $rc)"; }
  ms=$(parse_ms <<<"$out" || true)
  [ -n "$ms" ] || { echo "$out" >&2; die "kpde printed no ms_per_step=<value> line"; }
  echo "$ms"
}
run_torch() {   # precision threads -> ms
  local out ms rc=0
  out=$(env "${TORCH_ENV[@]}" "$PY" "$ANCHOR" --dtype "$1" --threads "$2" --width "$WIDTH" --depth "$DEPTH" \
        --ncol "$INTERIOR" --nbc "$BOUNDARY" --steps "$STEPS" 2>&1) || rc=$?
  [ $rc -eq 0 ] || { echo "$out" >&2; die "torch anchor --dtype $1 --threads $2 failed (exit $rc)"; }
  ms=$(parse_ms <<<"$out" || true)
  [ -n "$ms" ] || { echo "$out" >&2; die "torch anchor printed no ms_per_step=<value> line"; }
  echo "$ms"
}

p0=$(busy_pct)
[ "$p0" -le 15 ] || [ "$WAIT_IDLE" -gt 0 ] || log "warning: the CPUs are ${p0}% busy before starting; timings will be noisy (try --wait-idle 600)"
log "kpde: $KPDE"
log "anchor: $ANCHOR ($TORCH_DESC)"
log "sizes: width $WIDTH depth $DEPTH interior $INTERIOR boundary $BOUNDARY, $STEPS steps, median of $REPEATS"

declare -A KMS TMS
for prec in $PRECISIONS; do
  # interleave kpde and torch within each repeat so that slow drifts in machine load hit both
  for ((r = 1; r <= REPEATS; r++)); do
    for t in $KPDE_THREADS; do
      wait_idle; measure kpde "$prec" "$t"; KMS[$prec,$t]="${KMS[$prec,$t]:-} $MS"
      log "$prec rep $r: kpde  threads=$t ms_per_step=$MS  (other processes used $OTHER cores meanwhile)"
    done
    for t in $TORCH_THREADS; do
      wait_idle; measure torch "$prec" "$t"; TMS[$prec,$t]="${TMS[$prec,$t]:-} $MS"
      log "$prec rep $r: torch threads=$t ms_per_step=$MS  (other processes used $OTHER cores meanwhile)"
    done
  done
done

best() {   # "assoc-name" prec threads-list -> "median threads"
  local -n arr=$1; local bm='' bt='' t m
  for t in $3; do
    m=$(median <<<"${arr[$2,$t]}")
    if [ -z "$bm" ] || awk -v a="$m" -v b="$bm" 'BEGIN{exit !(a < b)}'; then bm=$m; bt=$t; fi
  done
  echo "$bm $bt"
}

echo
echo "PINN step, -lap u = f on [-1,1]^2: tanh MLP width $WIDTH depth $DEPTH, $INTERIOR interior + $BOUNDARY boundary points, $STEPS Adam steps, median of $REPEATS"
echo "kpde: $KPDE    anchor: $TORCH_DESC"
printf '%-10s %-22s %-22s %-34s %s\n' precision "kpde ms/step (thr)" "torch ms/step (thr)" "torch (version, BLAS)" "torch/kpde"
for prec in $PRECISIONS; do
  read -r km kt <<<"$(best KMS "$prec" "$KPDE_THREADS")"
  read -r tm tt <<<"$(best TMS "$prec" "$TORCH_THREADS")"
  ratio=$(awk -v a="$tm" -v b="$km" 'BEGIN{ if (b > 0) printf "%.2f", a / b; else print "inf" }')
  printf '%-10s %-22s %-22s %-34s %s\n' "$prec" "$(printf '%.2f (%s)' "$km" "$kt")" "$(printf '%.2f (%s)' "$tm" "$tt")" \
    "${TORCH_DESC#torch }" "$ratio"
done
if awk -v m="$MAX_OTHER" 'BEGIN{exit !(m > 0.10)}'; then
  echo "WARNING: other processes used up to $MAX_OTHER cores during some runs: these timings are noisy (rerun on a quiet machine, or with --wait-idle 600)"
fi
echo
echo "all settings, ms/step as median (min):"
minof() { tr ' ' '\n' | grep -v '^$' | sort -g | head -n 1; }
for prec in $PRECISIONS; do
  line="  $prec:"
  for t in $KPDE_THREADS; do line+=" kpde[t=$t]=$(median <<<"${KMS[$prec,$t]}") ($(minof <<<"${KMS[$prec,$t]}"))"; done
  for t in $TORCH_THREADS; do line+=" torch[t=$t]=$(median <<<"${TMS[$prec,$t]}") ($(minof <<<"${TMS[$prec,$t]}"))"; done
  echo "$line"
done
