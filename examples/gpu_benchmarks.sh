#!/usr/bin/env bash
# The GPU measurements of docs/benchmarks.md ("GPU targets of issue 6") in one go.
#
#   examples/gpu_benchmarks.sh OUT_DIR [DATA]
#
# Writes OUT_DIR/bench-*.json (steady-state images/s of the native loops, of
# fit(), and of the eager torch step) and, when DATA (the CIFAR-10 archive)
# is given, times a paper grid shortened to GRID_STEPS steps per run on each
# backend in GRID_BACKENDS (default: jax torch), with --jobs auto, into
# OUT_DIR/grid-<backend>/ and OUT_DIR/grid-times.txt. A full-length grid takes
# 25000 / GRID_STEPS times as long, plus the same compile time.
#
# QUICK=1 shrinks everything to seconds, to try the script on a CPU first.
# RETHINK overrides the command (default: python -m rethink).
set -euo pipefail

out=${1:?usage: $0 OUT_DIR [DATA]}
data=${2:-}
rethink=${RETHINK:-python -m rethink}
backends=${GRID_BACKENDS:-jax torch}
mkdir -p "$out"

if [ "${QUICK:-0}" = 1 ]; then
    sizes=(--warmup 3 --steps 6 --images 1024 --batch-size 32)
    models=mlp_1x512
    grid_steps=${GRID_STEPS:-20}
    grid_size=(--train-subset 500 --test-subset 250 --batch-size 16 --preset smoke)
else
    sizes=()
    models=inception,mlp_3x512
    grid_steps=${GRID_STEPS:-2500}
    grid_size=(--preset paper)
fi
bench_backends=$(echo "$backends" | tr ' ' ',')

$rethink bench --models "$models" --backends "$bench_backends" "${sizes[@]}" \
    --json "$out/bench-native.json"
$rethink bench --models "$models" --backends "$bench_backends" "${sizes[@]}" --loop keras \
    --json "$out/bench-keras.json"
if [[ " $backends " == *" torch "* ]]; then
    $rethink bench --models "$models" --backends torch "${sizes[@]}" --torch-compile off \
        --json "$out/bench-torch-eager.json"
fi

if [ -n "$data" ]; then
    for b in $backends; do
        start=$(date +%s)
        $rethink grid "${grid_size[@]}" --steps "$grid_steps" --backend "$b" \
            --data "$data" --out "$out/grid-$b" >"$out/grid-$b.log" 2>&1
        echo "$b: ${grid_steps} steps per run, $(($(date +%s) - start)) s" | tee -a "$out/grid-times.txt"
    done
fi
