#!/usr/bin/env bash
# One part of the paper's campaign (issue 21), sized for one 10-minute GPU command:
#
#   examples/campaign.sh PART OUT DATA
#
# Parts (each into OUT/<its folder>/, the name results/ keeps it under):
#   part1-inception        Inception, the five randomizations, the paper's protocol
#                          (--preset paper --models inception): 5 runs
#   part2-inception-no-bn  Inception without BatchNorm, the five randomizations: 5 runs
#   part3-alexnet-mlps     AlexNet, MLP 1x512 and MLP 3x512, the five each: 15 runs
#                          (MODELS=alexnet when the MLPs were trained on a CPU)
#   part4-table1-conv      Table 1's convolutional rows not in parts 1-3: Inception with
#                          random crop, weight decay, both; Inception without BatchNorm
#                          with weight decay; AlexNet with crop, weight decay, both (7 runs,
#                          --preset table1 without its plain rows), into part4-table1-conv/;
#                          at the same time AlexNet on random labels with weight decay 0.004
#                          on its hidden dense layers only (the TensorFlow CIFAR-10
#                          tutorial's; 1 run) into part4-alexnet-tutorial-wd/
#   part5-fig1b            Figure 1b/1c: Inception and AlexNet at label-corruption levels
#                          0, 0.2, ..., 1, stopping at fit (--preset fig1b): 12 runs
#   part6-seed1            seed 1 of part 1: 5 runs (with part 1 and part6-seed2: bands)
#   part6-seed2            seed 2 of part 1: 5 runs
#   part7-own-model        your own model (issue 27): examples/own_model.py's ResNet-20 on
#                          true and random labels, the paper's protocol: 2 runs (QUICK
#                          keeps the ResNet, at QUICK's size; MODELS does not apply)
#   part8-memorization     memorization example by example (issue 26): Inception at
#                          partial-label levels 0.2, 0.4, 0.6, 0.8 and random labels, the
#                          paper's protocol (5 runs; their examples.npz and clean/changed
#                          columns give the memorization figures and report section)
#   part9-kernel-patches   section 5's random features (issue 25): the patch network (32,000
#                          filters) on all 50,000 images, lambda 0 then 1e-5, each a
#                          `rethink kernel` into part9-kernel-patches/lam-*/ (kernel.json,
#                          kernel_features.npz); jax, float64
#   part10-kernel-bandwidth  the Gaussian kernel on all 50,000 images at sigma = median and
#                          median / sqrt(2) (--bandwidth-scale 1, 0.7071), into
#                          part10-kernel-bandwidth/scale-*/
#
# Every grid runs on jax with --jobs auto and --compact (a finished run drops its
# checkpoint and model at once, so a command cut off leaves its finished runs small),
# under a timeout that leaves REPORT_S seconds for `rethink report` of the part (into
# its folder) and for packing OUT/<part>.tar.gz: the part's folders without
# checkpoints or models, the file to bring back (then `rethink export FOLDER --to
# compact --out results/FOLDER`, results/README.md). OUT/<part>.log is the whole log.
#
# Running a part again into an OUT that holds it continues it: finished runs are
# kept, the others train again (from their checkpoints, if these are still there).
# The data goes to the runs as $RETHINK_DATA, so it is not part of the grid and a
# part can be continued on a machine that keeps DATA elsewhere.
#
# DEADLINE=S (default 570: the borrowed GPU machines' 10-minute commands, 30 s to
# spare) stops the part S seconds after the script began; DEADLINE=86400 for a
# machine of one's own. MODELS=a,b trains only these of the part's models. QUICK=1
# shrinks every part to seconds on a CPU: 30 steps on 512 images, and MLPs in place
# of the convolutional nets. RETHINK overrides the command (python3 -m rethink),
# PYTHON the interpreter (python3).
set -uo pipefail

usage="usage: $0 PART OUT DATA (PART: part1-inception, part2-inception-no-bn, \
part3-alexnet-mlps, part4-table1-conv, part5-fig1b, part6-seed1, part6-seed2, part7-own-model, part8-memorization, \
part9-kernel-patches, part10-kernel-bandwidth)"
if [ $# -ne 3 ]; then
    echo "$usage" >&2
    exit 2
fi
part=$1 out=$2 data=$3
python=${PYTHON:-python3}
read -ra rethink <<<"${RETHINK:-$python -m rethink}" # a command and its arguments
deadline=${DEADLINE:-570}
began=$(date +%s)
REPORT_S=20 # kept for the report and the tarball after the grids
KILL_S=5    # a grid gets this long after SIGTERM (its runs stop at the next dispatch)

case $part in
part1-inception | part2-inception-no-bn | part3-alexnet-mlps | part4-table1-conv | part5-fig1b | part6-seed1 | part6-seed2 | part7-own-model | part8-memorization) ;;
part9-kernel-patches | part10-kernel-bandwidth) ;;
*)
    echo "unknown part $part; $usage" >&2
    exit 2
    ;;
esac
if [ ! -e "$data" ]; then
    echo "no such data: $data" >&2
    exit 2
fi
export RETHINK_DATA
RETHINK_DATA=$(cd "$(dirname "$data")" && pwd)/$(basename "$data")
mkdir -p "$out"
exec > >(tee -a "$out/$part.log") 2>&1

if [ "${QUICK:-0}" = 1 ]; then
    # 512 images at 32 a step: an epoch ends at step 16, so each run also checkpoints.
    size=(--steps 30 --train-subset 512 --test-subset 256 --batch-size 32)
    kernel_size=(--train-subset 300 --test-subset 200) filters=(--filters 100)
    declare -A model_of=([inception]=mlp_1x512 [inception_no_bn]=mlp_3x512 [alexnet]=mlp_1x512
        [mlp_1x512]=mlp_1x512 [mlp_3x512]=mlp_3x512)
else
    size=()
    kernel_size=() filters=(--filters 32000)
    declare -A model_of=([inception]=inception [inception_no_bn]=inception_no_bn
        [alexnet]=alexnet [mlp_1x512]=mlp_1x512 [mlp_3x512]=mlp_3x512)
fi

# The part's models (only those in MODELS, if given), as this run trains them
# (QUICK: MLPs); empty if MODELS leaves none.
models() {
    local name names picked=()
    IFS=, read -ra names <<<"$1"
    for name in "${names[@]}"; do
        [ -n "${MODELS:-}" ] && [[ ",$MODELS," != *",$name,"* ]] && continue
        picked+=("${model_of[$name]}")
    done
    (IFS=,; echo "${picked[*]}")
}

left() { echo $((deadline - ($(date +%s) - began))); }

# Run a grid under `timeout`, leaving REPORT_S seconds (and KILL_S) of the deadline;
# with the part's size (QUICK).
grid() {
    local limit sized=("${size[@]}")
    if [[ " $* " == *" --models  "* ]]; then
        echo "== skipped (MODELS=$MODELS leaves none of its models): grid $*"
        return 0
    fi
    limit=$(($(left) - REPORT_S - KILL_S))
    if [ "$limit" -lt 15 ]; then
        echo "== skipped (deadline): grid $*"
        return 0
    fi
    echo "== $(date -u +%H:%M:%S) [$(($(date +%s) - began))s] (limit ${limit}s) rethink grid $*"
    local start rc
    start=$(date +%s)
    timeout --kill-after=$KILL_S "$limit" "${rethink[@]}" grid "$@" --backend jax --jobs auto \
        --compact --no-save-model "${sized[@]}"
    rc=$?
    echo "== grid rc=$rc after $(($(date +%s) - start))s"
    return 0
}

kernel() { # one `rethink kernel` (section 5) under what is left of the deadline
    local limit=$(($(left) - REPORT_S - KILL_S)) start
    if [ "$limit" -lt 15 ]; then
        echo "== skipped (deadline): kernel $*"
        return 0
    fi
    echo "== $(date -u +%H:%M:%S) [$(($(date +%s) - began))s] (limit ${limit}s) rethink kernel $*"
    start=$(date +%s)
    timeout --kill-after=$KILL_S "$limit" "${rethink[@]}" kernel "$@" "${kernel_size[@]}" \
        --backend jax --quiet
    echo "== kernel rc=$? after $(($(date +%s) - start))s"
}

report() {
    local folder
    for folder in "$@"; do
        [ -d "$folder" ] || continue
        # The Markdown is report.md; the log keeps the line saying where it went.
        timeout --kill-after=2 $((REPORT_S / 2)) "${rethink[@]}" report "$folder" >/dev/null ||
            echo "== report of $folder: rc=$?"
    done
}

echo "== campaign $part on $(hostname), $(date -u +%FT%TZ), deadline ${deadline}s, data $RETHINK_DATA"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
"$python" -c 'import jax; print("jax", jax.__version__, jax.devices())' 2>&1 | tail -1

folders=("$out/$part")
case $part in
part1-inception) grid --preset paper --models "$(models inception)" --out "$out/$part" ;;
part2-inception-no-bn) grid --preset paper --models "$(models inception_no_bn)" --out "$out/$part" ;;
part3-alexnet-mlps) grid --preset paper --models "$(models alexnet,mlp_1x512,mlp_3x512)" --out "$out/$part" ;;
part4-table1-conv)
    folders+=("$out/part4-alexnet-tutorial-wd")
    # Both at once: 7 + 1 runs share the GPU better than one after the other.
    grid --preset table1 --models "$(models inception,inception_no_bn,alexnet)" \
        --corruptions true_labels --no-plain --out "$out/$part" 2>&1 |
        sed -u 's/^/[table1-conv] /' &
    first=$!
    grid --preset regularized --models "$(models alexnet)" --weight-decay 0.004 \
        --weight-decay-layers hidden_dense --out "$out/part4-alexnet-tutorial-wd" 2>&1 |
        sed -u 's/^/[tutorial-wd] /' &
    wait "$first" $! # these two: a bare `wait` would wait for the log's tee too
    ;;
part5-fig1b) grid --preset fig1b --models "$(models inception,alexnet)" --out "$out/$part" ;;
part6-seed1) grid --preset paper --models "$(models inception)" --seeds 1-1 --out "$out/$part" ;;
part6-seed2) grid --preset paper --models "$(models inception)" --seeds 2-2 --out "$out/$part" ;;
part9-kernel-patches)
    for lam in 0 1e-5; do
        kernel --kernel features --lam "$lam" "${filters[@]}" --out "$out/$part/lam-$lam"
    done
    ;;
part10-kernel-bandwidth)
    for scale in 1 0.7071; do
        kernel --bandwidth-scale "$scale" --out "$out/$part/scale-$scale"
    done
    ;;
part7-own-model)
    # A model of yours by file: each run folder keeps a copy of it (model.py, model.json).
    own="$(cd "$(dirname "$0")" && pwd)/own_model.py:resnet20"
    grid --preset paper --models "$own" --corruptions true_labels,random_labels --out "$out/$part"
    ;;
part8-memorization)
    grid --preset paper --models "$(models inception)" --corruptions random_labels \
        --levels 0.2,0.4,0.6,0.8 --out "$out/$part"
    ;;
esac

[[ $part == part9-kernel-* || $part == part10-kernel-* ]] || report "${folders[@]}" # kernel.json, no runs
names=()
for folder in "${folders[@]}"; do
    [ -d "$folder" ] && names+=("$(basename "$folder")")
done
if [ ${#names[@]} -gt 0 ]; then
    tar -czf "$out/$part.tar.gz" -C "$out" --exclude='checkpoint*' --exclude='*.keras' \
        --exclude='progress.json' --exclude='.lock' "${names[@]}"
    echo "== packed $out/$part.tar.gz ($(du -h "$out/$part.tar.gz" | cut -f1)): ${names[*]}"
fi
echo "== done after $(($(date +%s) - began))s"
