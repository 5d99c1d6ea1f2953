#!/usr/bin/env bash
# kpde setup: installs what is missing from Debian's archive (a no-op when all is
# present), builds Kokkos 3.4.01 with the OpenMP backend from Debian's trilinos
# source package into .deps/kokkos (once; reused later), then configures and
# builds kpde in build/.
#
#   ./setup.sh                 install + Kokkos + Release build (build/)
#   KPDE_BUILD_DIR=dir ./setup.sh -DKPDE_SANITIZE=ON   extra args go to cmake
#   KPDE_KOKKOS=serial ./setup.sh   skip the OpenMP build, use Debian's Serial Kokkos
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${KPDE_BUILD_DIR:-$root/build}
deps=$root/.deps
jobs=${KPDE_JOBS:-$(nproc)}
log() { echo "[setup] $*" >&2; }

# ---- 1. Debian packages --------------------------------------------------------
pkgs=(build-essential cmake pkg-config patchelf gfortran
      libtrilinos-kokkos-dev libtrilinos-kokkos-kernels-dev
      petsc-dev libhdf5-openmpi-dev zlib1g-dev libeigen3-dev libyaml-cpp-dev
      googletest libgtest-dev libplplot-dev plplot-driver-cairo fonts-dejavu-core)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# ---- 2. Kokkos with OpenMP from Debian's trilinos source package -------------------
# The source entry is derived from the machine's own apt source file (deb -> deb-src),
# kept in a private apt state under .deps/apt so the system configuration is untouched.
kokkos_prefix=$deps/kokkos
build_kokkos() {
  local work=$deps/src apt=$deps/apt
  rm -rf "$work" "$apt"; mkdir -p "$work" "$apt/parts" "$apt/lists/partial"
  local found=0
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    sed -n '/^Types:/,/^$/p' "$f" | grep -q 'debian' || continue
    sed 's/^Types: deb$/Types: deb-src/' "$f" > "$apt/parts/$(basename "$f")"; found=1
  done
  if [ -f /etc/apt/sources.list ] && grep -q '^deb ' /etc/apt/sources.list; then
    sed -n 's/^deb /deb-src /p' /etc/apt/sources.list > "$apt/parts/kpde-src.list"; found=1
  fi
  [ $found -eq 1 ] || { log "no apt source file to derive a deb-src entry from"; return 1; }
  local o=(-o "Dir::Etc::SourceParts=$apt/parts" -o "Dir::Etc::SourceList=/dev/null"
           -o "Dir::State::Lists=$apt/lists" -o "Debug::NoLocking=1")
  apt-get "${o[@]}" update -qq >/dev/null 2>&1 || return 1
  (cd "$work" && apt-get "${o[@]}" source --download-only trilinos >/dev/null 2>&1) || return 1
  local tarball; tarball=$(ls "$work"/trilinos_*.orig.tar.* | head -1)
  tar xf "$tarball" -C "$work" --wildcards '*/packages/kokkos/*' '*/packages/kokkos-kernels/*'
  local src; src=$(ls -d "$work"/*/packages | head -1)
  local common=(-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=ON -DCMAKE_CXX_STANDARD=17
                -DCMAKE_INSTALL_PREFIX="$kokkos_prefix" -DCMAKE_INSTALL_LIBDIR=lib)
  cmake -S "$src/kokkos" -B "$work/build-kokkos" "${common[@]}" \
        -DKokkos_ENABLE_OPENMP=ON -DKokkos_ENABLE_SERIAL=ON >/dev/null
  cmake --build "$work/build-kokkos" -j"$jobs" >/dev/null
  cmake --install "$work/build-kokkos" >/dev/null
  # KokkosKernels from the same source, built against this Kokkos (header
  # instantiation, no ETI: KokkosBlas is only used for non-host memory spaces).
  cmake -S "$src/kokkos-kernels" -B "$work/build-kk" "${common[@]}" -DKokkos_ROOT="$kokkos_prefix" \
        -DKokkosKernels_ADD_DEFAULT_ETI=OFF -DKokkosKernels_INST_DOUBLE=OFF \
        -DKokkosKernels_INST_ORDINAL_INT=OFF -DKokkosKernels_INST_OFFSET_SIZE_T=OFF \
        -DKokkosKernels_INST_OFFSET_INT=OFF -DKokkosKernels_ENABLE_TPL_BLAS=OFF >/dev/null
  cmake --build "$work/build-kk" -j"$jobs" >/dev/null
  cmake --install "$work/build-kk" >/dev/null
  # PETSc pulls Debian's Serial libtrilinos_kokkoscore into every process (through
  # Trilinos ML). Two Kokkos runtimes in one process corrupt each other's globals, so
  # this build takes Debian's soname: the loader then maps ours once and lets
  # Trilinos use it too.
  local deb=/usr/lib/x86_64-linux-gnu/libtrilinos_kokkoscore.so
  if [ -e "$deb" ]; then
    local soname; soname=$(objdump -p "$deb" | awk '/SONAME/{print $2}')
    local real; real=$(readlink -f "$kokkos_prefix/lib/libkokkoscore.so")
    patchelf --set-soname "$soname" "$real"
    ln -sf "$(basename "$real")" "$kokkos_prefix/lib/$soname"
  fi
  rm -rf "$work" "$apt"
}
if [ "${KPDE_KOKKOS:-openmp}" = openmp ] && [ ! -f "$kokkos_prefix/.complete" ]; then
  log "building Kokkos 3.4.01 (OpenMP) from Debian's trilinos source into $kokkos_prefix"
  t0=$(date +%s)
  if build_kokkos; then
    touch "$kokkos_prefix/.complete"; log "Kokkos built in $(( $(date +%s) - t0 )) s"
  else
    rm -rf "$kokkos_prefix"; log "Kokkos source build unavailable: falling back to Debian's Serial Kokkos"
  fi
fi

# ---- 3. configure and build kpde ----------------------------------------------------
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=${KPDE_BUILD_TYPE:-Release} "$@" >/dev/null
cmake --build "$build" -j"$jobs"
