#!/usr/bin/env bash
# Real-time EDI over CAQH CORE, under load: a 1,000,000-member plan, `portal serve` on a free
# loopback port, and `loadgen` sending 270s then 276s at a fixed rate over keep-alive
# connections (open loop: latency counted from each request's due time). Prints how long
# seeding took, then p50/p90/p99/max latency and the achieved requests per second.
#
#   bench/core.sh                       # 1,000,000 members, 2,000/s for 20 s each
#   MEMBERS=100000 RATE=1000 DURATION=10 bench/core.sh
#   KEEP=1 bench/core.sh                # keep the data directory (printed) for another run
#   DATA=/path/from/KEEP bench/core.sh  # reuse a seeded, prepared data directory
#   RUST_LOG=warn bench/core.sh         # without the per-request access log line
#
# After the eligibility page exists, the same generator drives it with the prepared session:
#   loadgen run --kind form --url http://127.0.0.1:PORT/eligibility --fixtures DATA/fixtures \
#     --form 'member_id={member}&_csrf={csrf}'
set -euo pipefail
cd "$(dirname "$0")/.."

MEMBERS=${MEMBERS:-1000000}
RATE=${RATE:-2000}
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-3}
TARGET_DIR=${CARGO_TARGET_DIR:-target}

echo "== building portal and loadgen (release)"
# Two builds, not one: built together, cargo would unify their features into a third variant.
cargo build --release --quiet --bin portal
cargo build --release --quiet -p loadgen
PORTAL="$TARGET_DIR/release/portal"
LOADGEN="$TARGET_DIR/release/loadgen"

CREATED=
if [[ -n "${DATA:-}" ]]; then
  echo "== reusing $DATA"
  # A fresh session for the form benchmark (sessions end after 15 idle minutes).
  "$LOADGEN" prepare --database-url "sqlite://$DATA/portal.db" --out "$DATA/fixtures" >/dev/null
else
  DATA=$(mktemp -d)
  # Only a directory made here is removed (and only without KEEP).
  [[ -n "${KEEP:-}" ]] || CREATED=$DATA
  trap '[[ -z "$CREATED" ]] || rm -rf "$CREATED"' EXIT
  echo "== seeding $MEMBERS members into $DATA"
  start=$(date +%s%N)
  "$PORTAL" seed --members "$MEMBERS" --data-dir "$DATA"
  end=$(date +%s%N)
  echo "seeding took $(( (end - start) / 1000000 )) ms (wall clock)"
  "$LOADGEN" prepare --database-url "sqlite://$DATA/portal.db" --out "$DATA/fixtures"
fi

PORT=$("$LOADGEN" free-port)
echo "== portal serve on 127.0.0.1:$PORT (log: $DATA/serve.log)"
"$PORTAL" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" >"$DATA/serve.log" 2>&1 &
SERVER=$!
stop() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
trap 'stop; [[ -z "$CREATED" ]] || rm -rf "$CREATED"' EXIT
"$LOADGEN" wait "http://127.0.0.1:$PORT/healthz"

for kind in 270 276; do
  echo "== $kind at $RATE/s"
  "$LOADGEN" run --kind "$kind" --url "http://127.0.0.1:$PORT/core/realtime" \
    --rate "$RATE" --duration "$DURATION" --warmup "$WARMUP" --fixtures "$DATA/fixtures"
done
if [[ -n "${KEEP:-}" ]]; then echo "data kept in $DATA"; fi
