#!/usr/bin/env bash
# Compares our validator with pyx12 (x12valid) on the same generated 10 MB 837P.
# Creates bench/.venv (git-ignored), installs pyx12 from PyPI there, writes the file to
# bench/out/, times both and prints the ratio. Run from anywhere: bench/pyx12.sh [SIZE_MB]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB="${1:-10}"
OUT=bench/out
mkdir -p "$OUT"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/x12}"

if [ ! -x bench/.venv/bin/x12valid ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install --quiet --upgrade pip
  bench/.venv/bin/pip install --quiet pyx12
fi

cargo build --release -q -p x12 --example bench
BENCH="$CARGO_TARGET_DIR/release/examples/bench"
FILE="$OUT/837p-${SIZE_MB}mb.edi"
"$BENCH" --write "$FILE" "$SIZE_MB"
BYTES=$(stat -c %s "$FILE")

# Ours: full implementation-guide validation, one core.
OURS=$("$BENCH" --validate "$FILE")
echo "ours:  $OURS"
OURS_S=$(echo "$OURS" | sed -E 's/.* in ([0-9.]+) s.*/\1/')

# pyx12: x12valid exits 1 even on success; its verdict is the OK/Failure line.
START=$(date +%s.%N)
set +e
bench/.venv/bin/x12valid -q "$FILE" > "$OUT/pyx12.log" 2>&1
set -e
END=$(date +%s.%N)
PY_S=$(echo "$END - $START" | bc -l)
VERDICT=$(grep -Eo '(OK|Failure)' "$OUT/pyx12.log" | head -1 || true)
printf 'pyx12: validate %s: %.1f MB in %.3f s = %.2f MB/s, verdict=%s\n' "$FILE" "$(echo "$BYTES/1000000" | bc -l)" "$PY_S" "$(echo "$BYTES/1000000/$PY_S" | bc -l)" "${VERDICT:-see $OUT/pyx12.log}"
printf 'ratio: ours is %.0fx faster than pyx12\n' "$(echo "$PY_S/$OURS_S" | bc -l)"
