#!/usr/bin/env bash
# Builds libllmc (release) and installs it as a C library, in cargo-c's layout:
#
#   LIBDIR/libllmc.so.X.Y.Z          the shared library (crate version X.Y.Z)
#   LIBDIR/libllmc.so.N -> ...X.Y.Z  its soname: N is LLMC_ABI_VERSION (src/ffi/types.rs)
#   LIBDIR/libllmc.so   -> .so.N     for -lllmc
#   LIBDIR/libllmc.a
#   INCLUDEDIR/llmc.h
#   PKGCONFIGDIR/llmc.pc             (default LIBDIR/pkgconfig)
#   LIBDIR/cmake/llmc/llmcConfig.cmake, llmcConfigVersion.cmake
#
#   bash scripts/install.sh [--prefix DIR] [--libdir DIR] [--includedir DIR]
#                           [--pkgconfigdir DIR] [--destdir DIR] [--no-build | --from DIR]
#
# PREFIX, LIBDIR, INCLUDEDIR, PKGCONFIGDIR and DESTDIR in the environment do the same
# (options win). The prefix defaults to /usr/local; relative LIBDIR and INCLUDEDIR are
# under the prefix; LIBDIR defaults as in cargo-c (Debian multiarch, lib64, or lib).
# DESTDIR stages the tree for packaging: files go under it, paths inside them do not
# name it. --no-build installs what `cargo build --release` left in the target dir;
# --from DIR installs the libllmc.so and libllmc.a found in DIR (the tests pass their
# own build's, which `cargo test` does not copy to target/release).
# Linux only (the soname is an ELF feature).
set -euo pipefail
shopt -u patsub_replacement 2>/dev/null || true  # a & in a path must stay a &
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

die() { echo "install.sh: $*" >&2; exit 1; }

prefix=${PREFIX:-/usr/local}
libdir=${LIBDIR:-}
includedir=${INCLUDEDIR:-include}
pkgconfigdir=${PKGCONFIGDIR:-}
destdir=${DESTDIR:-}
build=1
from=
while [[ $# -gt 0 ]]; do
  case $1 in
    --prefix) prefix=${2:?--prefix needs a directory}; shift 2 ;;
    --libdir) libdir=${2:?--libdir needs a directory}; shift 2 ;;
    --includedir) includedir=${2:?--includedir needs a directory}; shift 2 ;;
    --pkgconfigdir) pkgconfigdir=${2:?--pkgconfigdir needs a directory}; shift 2 ;;
    --destdir) destdir=${2:?--destdir needs a directory}; shift 2 ;;
    --no-build) build=0; shift ;;
    --from) from=${2:?--from needs a directory}; build=0; shift 2 ;;
    -h|--help) sed -n '2,/^set -e/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[[ $(uname -s) == Linux ]] || die "only Linux is supported (found $(uname -s))"
[[ $prefix == /* ]] || die "--prefix must be an absolute path (got '$prefix')"
for tool in readelf rustc; do
  command -v "$tool" >/dev/null || die "'$tool' is required (binutils, the Rust toolchain)"
done

if [[ -z $libdir ]]; then
  if [[ -f /etc/debian_version ]] && multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null); then
    libdir=lib/$multiarch
  elif [[ -d /usr/lib64 && ! -L /usr/lib64 ]]; then
    libdir=lib64
  else
    libdir=lib
  fi
fi
[[ $libdir == /* ]] || libdir=$prefix/$libdir
[[ $includedir == /* ]] || includedir=$prefix/$includedir
pkgconfigdir=${pkgconfigdir:-$libdir/pkgconfig}
[[ $pkgconfigdir == /* ]] || pkgconfigdir=$prefix/$pkgconfigdir
cmakedir=$libdir/cmake/llmc

target=${from:-${CARGO_TARGET_DIR:-$root/target}/release}
if [[ $build == 1 ]]; then
  echo "install.sh: cargo build --release --lib"
  cargo build --release --lib
fi
for f in libllmc.so libllmc.a; do
  [[ -f $target/$f ]] || die "$target/$f is missing (build it, or run without --no-build/--from)"
done

# Versions come from the generated header (the c_api tests keep it current), the
# soname from the built library itself: nothing here repeats a version number.
header=$root/include/llmc.h
define() { sed -n "s/^#define $1 \\([0-9][0-9]*\\).*/\\1/p" "$header"; }
major=$(define LLMC_VERSION_MAJOR) minor=$(define LLMC_VERSION_MINOR) patch=$(define LLMC_VERSION_PATCH)
abi=$(define LLMC_ABI_VERSION)
[[ -n $major && -n $minor && -n $patch && -n $abi ]] || die "no version defines in $header"
version=$major.$minor.$patch
soname=$(readelf -d "$target/libllmc.so" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[[ $soname == "libllmc.so.$abi" ]] ||
  die "$target/libllmc.so has soname '$soname', expected libllmc.so.$abi (LLMC_ABI_VERSION in $header); rebuild"
shared_file=libllmc.so.$version

# What the static library needs from the system, asked of rustc as cargo-c does (an
# empty staticlib needs what std needs; libllmc's own C code, zstd, is inside the .a).
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
native=$("${RUSTC:-rustc}" --color never --crate-type staticlib --print native-static-libs - --out-dir "$scratch" </dev/null 2>&1 |
  sed -n 's/.*native-static-libs: //p')
[[ -n $native ]] || die "rustc --print native-static-libs printed nothing"
cmake_native=$(for l in $native; do printf '%s;' "${l#-l}"; done)
pointer_bits=$("${RUSTC:-rustc}" --print cfg | sed -n 's/^target_pointer_width="\(.*\)"/\1/p')

# pkg-config paths relative to ${prefix} where they can be, as cargo-c writes them.
under_prefix() { if [[ $1 == "$prefix"/* ]]; then echo "\${prefix}/${1#"$prefix"/}"; else echo "$1"; fi; }
description=$(sed -n 's/^description = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
declare -A vars=(
  [PREFIX]=$prefix [PC_LIBDIR]=$(under_prefix "$libdir") [PC_INCLUDEDIR]=$(under_prefix "$includedir")
  [DESCRIPTION]=$description [VERSION]=$version [MAJOR]=$major [MINOR]=$minor
  [ABI_VERSION]=$abi [SONAME]=$soname [SHARED_FILE]=$shared_file
  [NATIVE_LIBS]=$native [CMAKE_NATIVE_LIBS]=${cmake_native%;}
  [REL_INCLUDEDIR]=$(realpath -m --relative-to="$libdir" "$includedir")
  [POINTER_BYTES]=$((pointer_bits / 8))
)
# @NAME@ placeholders, as CMake's configure_file; bash replacement, so any character
# in a path is safe.
configure() {
  local text
  text=$(<"$1")
  for k in "${!vars[@]}"; do text=${text//@$k@/${vars[$k]}}; done
  [[ $text != *@[A-Z_]*@* ]] || die "$1: a placeholder was left unreplaced"
  printf '%s\n' "$text" >"$2"
}

d() { echo "$destdir$1"; }
install -d "$(d "$libdir")" "$(d "$includedir")" "$(d "$pkgconfigdir")" "$(d "$cmakedir")"
install -m 755 "$target/libllmc.so" "$(d "$libdir")/$shared_file"
ln -sfn "$shared_file" "$(d "$libdir")/$soname"
ln -sfn "$soname" "$(d "$libdir")/libllmc.so"
install -m 644 "$target/libllmc.a" "$(d "$libdir")/libllmc.a"
install -m 644 "$header" "$(d "$includedir")/llmc.h"
configure packaging/llmc.pc.in "$(d "$pkgconfigdir")/llmc.pc"
configure packaging/llmcConfig.cmake.in "$(d "$cmakedir")/llmcConfig.cmake"
configure packaging/llmcConfigVersion.cmake.in "$(d "$cmakedir")/llmcConfigVersion.cmake"

echo "install.sh: installed libllmc $version (soname $soname) under ${destdir:+$destdir (staged) }$prefix:"
for f in "$libdir/$shared_file" "$libdir/$soname" "$libdir/libllmc.so" "$libdir/libllmc.a" "$includedir/llmc.h" \
         "$pkgconfigdir/llmc.pc" "$cmakedir/llmcConfig.cmake" "$cmakedir/llmcConfigVersion.cmake"; do
  echo "  $(d "$f")"
done
