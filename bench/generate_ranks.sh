#!/usr/bin/env bash
# Rank scaling of `kpde generate` (issue 15): samples per second with one process and
# with 2 MPI ranks (1 thread each), for the MMS config (224^2) and the Darcy config
# (64^2). The figure is the generator's own (from its first sample to its last write,
# printed by kpde: process start-up is not in it). Runs alternate (1, 2, 1, 2, ...) so
# that a drift of the machine hits both; a run during which other processes took more
# than --max-other CPU seconds (from /proc/stat: busy time minus the run's own CPU) is
# retried, so figures from a loaded machine do not count. Prints every run, the medians
# and the speed-up (median of 2 ranks / median of 1 process), and checks that the files
# of 1 and 2 ranks are the same bytes but for the run attributes (mpi_ranks, wall_s,
# samples_per_s: at most 24 bytes).
#
#   bench/generate_ranks.sh [--runs 5] [--n-mms 200] [--n-darcy 1000] [--np1] [--out DIR]
#
# --np1 adds `mpirun -n 1` (one rank bound to one core: its writer thread then shares
# that core) for comparison; "1 process" is the plain `kpde generate`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
kpde="${KPDE:-$root/build/kpde}"
runs=5
n_mms=200
n_darcy=1000
np1=0
max_other=0.3
out="${TMPDIR:-/tmp}/kpde_bench_generate_ranks"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --n-mms) n_mms="$2"; shift 2 ;;
    --n-darcy) n_darcy="$2"; shift 2 ;;
    --np1) np1=1; shift ;;
    --max-other) max_other="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "generate_ranks.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1
hz=$(getconf CLK_TCK)
busy_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }

# run_once LABEL FILE CMD...: runs CMD until no other process took more than max_other
# CPU seconds during it (at most 10 tries); prints "rate other_cpu_s".
run_once() {
  local file="$1"; shift
  local try rate other
  for try in 1 2 3 4 5 6 7 8 9 10; do
    local b0 b1 own log
    b0=$(busy_jiffies)
    log=$( { /usr/bin/time -f "OWN %U %S" "$@" --out "$file" --quiet; } 2>&1 )
    b1=$(busy_jiffies)
    own=$(echo "$log" | awk '/^OWN/{print $2+$3}')
    rate=$(echo "$log" | sed -nE 's/.*: ([0-9.]+) samples\/s on.*/\1/p')
    if [ -z "$rate" ]; then echo "generate_ranks.sh: run failed: $*" >&2; echo "$log" >&2; exit 1; fi
    other=$(awk -v b0="$b0" -v b1="$b1" -v hz="$hz" -v own="$own" 'BEGIN{o=(b1-b0)/hz-own; if(o<0)o=0; printf "%.2f", o}')
    if awk -v o="$other" -v m="$max_other" 'BEGIN{exit !(o<=m)}'; then echo "$rate $other"; return; fi
    sleep 3
  done
  echo "$rate $other*"  # still disturbed after 10 tries: marked
}
median() { sort -g | awk '{a[NR]=$1} END{if(NR%2) print a[(NR+1)/2]; else printf "%.1f\n", (a[NR/2]+a[NR/2+1])/2}'; }

echo "# $(lscpu | sed -nE 's/^Model name: *//p'), $(getconf _NPROCESSORS_ONLN) cores; $(date -u +%Y-%m-%dT%H:%MZ)"
for kind in mms darcy; do
  n=$n_mms; [ "$kind" = darcy ] && n=$n_darcy
  cfg="$root/examples/generate/$kind.yaml"
  one=(); two=(); bound=()
  echo
  echo "## $kind, n = $n (samples/s; other CPU s during the run in brackets)"
  echo "| run | 1 process | 2 ranks |$([ $np1 = 1 ] && echo ' mpirun -n 1 |')"
  echo "|---|---|---|$([ $np1 = 1 ] && echo '---|')"
  for r in $(seq "$runs"); do
    read -r a ao < <(run_once "$out/${kind}_1.h5" "$kpde" generate "$cfg" -n "$n" --seed 1 --threads 1)
    read -r b bo < <(run_once "$out/${kind}_2.h5" mpirun -n 2 --oversubscribe "$kpde" generate "$cfg" -n "$n" --seed 1 --threads 1)
    one+=("$a"); two+=("$b")
    line="| $r | $a ($ao) | $b ($bo) |"
    if [ $np1 = 1 ]; then
      read -r c co < <(run_once "$out/${kind}_n1.h5" mpirun -n 1 "$kpde" generate "$cfg" -n "$n" --seed 1 --threads 1)
      bound+=("$c"); line="$line $c ($co) |"
    fi
    echo "$line"
  done
  m1=$(printf '%s\n' "${one[@]}" | median); m2=$(printf '%s\n' "${two[@]}" | median)
  line="| median | $m1 | $m2 |"
  [ $np1 = 1 ] && line="$line $(printf '%s\n' "${bound[@]}" | median) |"
  echo "$line"
  echo "speed-up 2 ranks / 1 process: $(awk -v a="$m2" -v b="$m1" 'BEGIN{printf "%.2f", a/b}')"
  diff_bytes=$(cmp -l "$out/${kind}_1.h5" "$out/${kind}_2.h5" | wc -l || true)
  size1=$(stat -c %s "$out/${kind}_1.h5"); size2=$(stat -c %s "$out/${kind}_2.h5")
  if [ "$size1" = "$size2" ] && [ "$diff_bytes" -le 24 ]; then
    echo "files of 1 and 2 ranks: $size1 bytes each, $diff_bytes bytes differ (the run attributes)"
  else
    echo "files of 1 and 2 ranks DIFFER: $size1 vs $size2 bytes, $diff_bytes bytes differ"
  fi
done
