#!/usr/bin/env bash
# The GPU check of issue 15, in stages, each under its own timeout:
#
#   examples/gpu_check.sh OUT DATA [STAGE ...]
#
# Stages, run in the order named:
#   headline  Inception on true and on random labels, the paper's protocol (25,000
#             steps each), on jax, both at once (--jobs auto), then `rethink report`
#             and Figure 1 of the pair; into OUT/headline/
#   bench     `rethink bench` of the five models: jax and torch native loops (torch
#             with --torch-compile auto), the keras loop on Inception on both as the
#             baseline, then torch with --torch-compile off; OUT/bench-*.json
#   profile   a 20-step torch profiler trace of the native Inception step, compiled
#             (auto) and eager; OUT/profile/
#   torch     the torch native loop alone (--torch-compile auto) on Inception with and
#             without BatchNorm: to re-measure after a change to the torch step
#   torch-graph  issue 23, the torch step as one CUDA graph: 100 replayed steps against
#             100 eager steps (equal to float rounding), launches per step from a
#             profiler trace, capture time, per model (examples/torch_graph_check.py,
#             OUT/torch-graph/); then `rethink bench` of the five models on jax and on
#             torch (--torch-compile graph) in one command from the same card
#             (torch eager: the bench stage); OUT/bench-torch-graph.json
#   pack      issue 24, packed runs: `rethink bench --pack 5` and unpacked of the five
#             models on jax from the same card (OUT/bench-pack*.json), then the whole
#             paper grid (25 runs) with --pack 5, timed end to end with `rethink
#             grid` (compile included; target <= 5 minutes), report and figures;
#             OUT/paper-packed/
#   torch-pack  packed runs on torch (torch.func.vmap, one CUDA graph): `rethink
#             bench --pack 5` and unpacked (--torch-compile graph) of the five models
#             on torch from the same card; OUT/bench-torch-pack*.json
#   torch-pack-grid  the whole paper grid (25 runs) on torch with --pack 5, timed end
#             to end (target <= 10 minutes), report and figures; OUT/paper-torch-packed/
#   regularized  section 3 at the paper's protocol for the conv nets: Inception and
#             AlexNet on random labels with weight decay, both at once, then report
#   kernel    section 5 at the paper's size on jax in float64: the Gaussian kernel on
#             all 50,000 images (sigma = median, levels 0..1; then sigma = median /
#             sqrt(2)), then the patch network (issue 25: 32,000 filters, Gaussian kernel
#             on the features) with lambda 0 and 1e-5
#   construct section 4 on all 50,000 images, true and random labels
# (the default is the first three; name the others to run them)
# Everything readable offline (run folders, JSON, traces, logs)
# (no checkpoints or model.keras) is packed into OUT/gpu-check-STAGES.tar.gz;
# OUT/gpu-check.log is the whole log.
#
# DEADLINE=S stops starting work S seconds after the script began (each stage's
# timeout is cut to what is left). QUICK=1 shrinks every stage to seconds, to try
# the script on a CPU first. RETHINK overrides the command (python -m rethink).
set -uo pipefail

out=${1:?usage: $0 OUT DATA [STAGE ...]}
data=${2:?usage: $0 OUT DATA [STAGE ...]}
shift 2
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(headline bench profile)
rethink=${RETHINK:-python3 -m rethink}
here=$(cd "$(dirname "$0")" && pwd)
deadline=${DEADLINE:-100000}
began=$(date +%s)
work=$(mktemp -d)/gpu-check
mkdir -p "$out" "$work"
log="$out/gpu-check.log"
exec > >(tee -a "$log") 2>&1

if [ "${QUICK:-0}" = 1 ]; then
    regularized_models=mlp_1x512,mlp_3x512
    kernel_size=(--train-subset 300 --test-subset 200)
    filters=(--filters 100)
    construct_size=(--train-subset 500 --test-subset 200)
    headline_size=(--steps 30 --train-subset 512 --test-subset 256 --batch-size 32)
    models=mlp_1x512,mlp_3x512
    keras_models=mlp_1x512
    torch_models=mlp_1x512
    bench_size=(--warmup 3 --steps 6 --images 1024 --batch-size 32)
    profile_size=(--model mlp_3x512 --warmup 3 --steps 4 --batch-size 32)
    headline_model=mlp_1x512
    graph_check=(--models mlp_3x512,alexnet --steps 6 --profile-steps 2 --batch-size 16 --images 64)
else
    regularized_models=inception,alexnet
    kernel_size=()
    filters=(--filters 32000)
    construct_size=()
    headline_size=()
    models=inception,inception_no_bn,alexnet,mlp_1x512,mlp_3x512
    keras_models=inception
    torch_models=inception,inception_no_bn
    bench_size=()
    profile_size=(--model inception --warmup 30 --steps 20)
    headline_model=inception
    graph_check=(--steps 100 --profile-steps 10)
fi

# Run a command under `timeout`: at most $1 seconds, never past the deadline.
step() {
    local limit=$1 left
    shift
    left=$((deadline - ($(date +%s) - began)))
    [ "$left" -lt "$limit" ] && limit=$left
    if [ "$limit" -lt 15 ]; then
        echo "== skipped (deadline): $*"
        return 0
    fi
    echo "== $(date -u +%H:%M:%S) [$((($(date +%s) - began)))s] (limit ${limit}s) $*"
    local start rc
    start=$(date +%s)
    timeout --kill-after=10 "$limit" "$@"
    rc=$?
    echo "== rc=$rc after $(($(date +%s) - start))s: $1 ${2:-} ${3:-}"
    return 0
}

echo "== gpu_check: stages ${stages[*]} on $(hostname), $(date -u +%FT%TZ)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
KERAS_BACKEND=jax python3 -c 'import keras, numpy; print("keras", keras.__version__, "numpy", numpy.__version__)'
python3 -c 'import jax; print("jax", jax.__version__, jax.devices())' 2>&1 | tail -1
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())' 2>&1 | tail -1

for stage in "${stages[@]}"; do
    case $stage in
    headline)
        step 420 $rethink grid --preset paper --models "$headline_model" \
            --corruptions true_labels,random_labels --backend jax --jobs auto \
            --data "$data" --out "$work/headline" "${headline_size[@]}"
        step 60 $rethink report "$work/headline"
        step 60 $rethink plot "$work/headline"
        ;;
    bench)
        step 200 $rethink bench --models "$models" --backends jax "${bench_size[@]}" \
            --json "$work/bench-jax-native.json"
        step 240 $rethink bench --models "$models" --backends torch "${bench_size[@]}" \
            --torch-compile auto --json "$work/bench-torch-native-auto.json"
        step 120 $rethink bench --models "$keras_models" --backends jax,torch "${bench_size[@]}" \
            --loop keras --json "$work/bench-keras.json"
        step 150 $rethink bench --models "$models" --backends torch "${bench_size[@]}" \
            --torch-compile off --json "$work/bench-torch-native-off.json"
        ;;
    torch)
        step 200 $rethink bench --models "$torch_models" --backends torch "${bench_size[@]}" \
            --torch-compile auto --json "$work/bench-torch-native-auto.json"
        ;;
    torch-graph)
        # At most 9 minutes in all: one device command (torch eager: the `bench` stage).
        KERAS_BACKEND=torch step 180 python3 "$here/torch_graph_check.py" "$work/torch-graph" \
            "${graph_check[@]}"
        step 360 $rethink bench --models "$models" --backends jax,torch "${bench_size[@]}" \
            --torch-compile graph --json "$work/bench-torch-graph.json"
        ;;
    pack)
        step 300 $rethink bench --models "$models" --backends jax "${bench_size[@]}" \
            --pack 5 --json "$work/bench-pack5.json"
        step 200 $rethink bench --models "$models" --backends jax "${bench_size[@]}" \
            --json "$work/bench-pack1.json"
        step 540 $rethink grid --preset paper --models "$models" --backend jax --pack 5 --jobs auto --compact \
            --data "$data" --out "$work/paper-packed" "${headline_size[@]}"
        step 60 $rethink report "$work/paper-packed"
        step 60 $rethink plot "$work/paper-packed"
        ;;
    torch-pack)
        step 300 $rethink bench --models "$models" --backends torch "${bench_size[@]}" \
            --torch-compile graph --pack 5 --json "$work/bench-torch-pack5.json"
        step 240 $rethink bench --models "$models" --backends torch "${bench_size[@]}" \
            --torch-compile graph --json "$work/bench-torch-pack1.json"
        ;;
    torch-pack-grid)
        step 570 $rethink grid --preset paper --models "$models" --backend torch --pack 5 \
            --jobs auto --compact --data "$data" --out "$work/paper-torch-packed" \
            "${headline_size[@]}"
        step 30 $rethink report "$work/paper-torch-packed"
        ;;
    profile)
        for mode in auto off; do
            KERAS_BACKEND=torch step 120 python3 "$here/profile_torch_step.py" \
                "$work/profile" --compile "$mode" "${profile_size[@]}"
        done
        ;;
    regularized)
        step 480 $rethink grid --preset regularized --models "$regularized_models" \
            --backend jax --jobs auto --data "$data" --out "$work/regularized" \
            "${headline_size[@]}"
        step 60 $rethink report "$work/regularized"
        ;;
    kernel)
        step 300 $rethink kernel --backend jax --data "$data" "${kernel_size[@]}" \
            --levels 0,0.2,0.4,0.6,0.8,1 --out "$work/kernel-gaussian"
        step 200 $rethink kernel --backend jax --data "$data" "${kernel_size[@]}" \
            --bandwidth-scale 0.7071 --out "$work/kernel-gaussian-median-sqrt2"
        for lam in 0 1e-5; do
            step 540 $rethink kernel --backend jax --data "$data" "${kernel_size[@]}" \
                --kernel features "${filters[@]}" --lam "$lam" --out "$work/kernel-patches-$lam"
        done
        ;;
    construct)
        for labels in true_labels random_labels; do
            step 120 $rethink construct --backend jax --data "$data" "${construct_size[@]}" \
                --corruption "$labels" --out "$work/construct-$labels"
        done
        ;;
    *)
        echo "unknown stage $stage (headline, bench, torch, torch-graph, pack, torch-pack, torch-pack-grid, profile, regularized, kernel, construct)"
        exit 2
        ;;
    esac
done

# Everything readable offline, without checkpoints, in one file (the device tool
# brings back a few files only).
name="gpu-check-$(IFS=-; echo "${stages[*]}").tar.gz"
tar -czf "$out/$name" -C "$(dirname "$work")" --exclude='checkpoint*' --exclude='*.ckpt' \
    --exclude='*.weights.h5' --exclude='*.keras' gpu-check
echo "== packed $out/$name ($(du -h "$out/$name" | cut -f1)) after $(($(date +%s) - began))s"
