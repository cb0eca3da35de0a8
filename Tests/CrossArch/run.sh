#!/usr/bin/env bash
# The C kernels' known-answer tests natively (both x86-64 variants: avx2-fma, and the baseline by
# THRESHER_KERNELS=baseline) and cross-compiled for aarch64 under qemu-aarch64; every run's output
# must equal expected.txt line for line (the same bits). `make test-aarch64` installs what it needs
# (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross, qemu-user) and runs this.
#   Tests/CrossArch/run.sh            check
#   Tests/CrossArch/run.sh --update   rewrite expected.txt from the native build
set -euo pipefail
cd "$(dirname "$0")"
K=../../Sources/CKernels
CLANG=${CLANG:-$(command -v clang || echo /opt/swift/usr/bin/clang)}
SOURCES="kat.c $K/Philox.c $K/Ziggurat.c $K/ShockTransforms.c $K/BlackScholes.c $K/LinearTails.c $K/KernelsAVX2.c $K/Dispatch.c $K/BuildInfo.c $K/Sort.c $K/ExactSums.c"
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
status=0
check() {   # NAME FILE: compare a run's output with expected.txt
  if diff -u expected.txt "$2" > "$OUT/$1.diff"; then echo "$1: same bits as expected.txt"
  else echo "$1: DIFFERS"; cat "$OUT/$1.diff"; status=1; fi
}

# shellcheck disable=SC2086
"$CLANG" -O2 -Wall -I$K/include -I$K $SOURCES -lm -o "$OUT/native"
if [ "${1:-}" = "--update" ]; then "$OUT/native" > expected.txt; echo "expected.txt rewritten"; exit 0; fi
"$OUT/native" > "$OUT/native.txt" 2> "$OUT/native.err"
check "$(uname -m), $(cat "$OUT/native.err")" "$OUT/native.txt"
THRESHER_KERNELS=baseline "$OUT/native" > "$OUT/baseline.txt" 2> "$OUT/baseline.err"
check "$(uname -m), $(cat "$OUT/baseline.err")" "$OUT/baseline.txt"

# aarch64: clang compiles (the kernels need clang's vector extensions), the GNU cross toolchain links.
SYSROOT=/usr/aarch64-linux-gnu
mkdir -p "$OUT/arm"
for f in $SOURCES; do
  # shellcheck disable=SC2086
  "$CLANG" --target=aarch64-linux-gnu -isystem $SYSROOT/include -O2 -Wall -I$K/include -I$K -c "$f" -o "$OUT/arm/$(basename "$f" .c).o"
done
aarch64-linux-gnu-gcc "$OUT"/arm/*.o -lm -o "$OUT/kat-aarch64"
qemu-aarch64 -L $SYSROOT "$OUT/kat-aarch64" > "$OUT/aarch64.txt" 2> "$OUT/aarch64.err"
check "aarch64 under qemu, $(cat "$OUT/aarch64.err")" "$OUT/aarch64.txt"
exit $status
