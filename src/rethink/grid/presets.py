"""The named grids of `rethink grid --preset`: the paper's experiments, and a smoke test.

    from rethink.grid.presets import PRESETS, PRESET_HELP
    grid = PRESETS["fig1b"]            # a GridSpec; `select` narrows it, `expand` gives runs
    PRESET_HELP["fig1b"]               # one line for --help

Each preset is a `GridSpec` of the paper's protocol (RunSpec's defaults) with
the settings its figure or table needs; pure Python, no Keras.
"""

from __future__ import annotations

from rethink.grid.spec import GridSpec, Variant
from rethink.spec.architectures import MODELS

# Figure 1a's five randomizations (partial labels is a sweep of its own).
PAPER_CORRUPTIONS = ("true_labels", "random_labels", "shuffled_pixels", "random_pixels", "gaussian")
FIG1B_LEVELS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
TABLE1_WEIGHT_DECAY = 5e-4  # the paper gives no value; see paper.md

PRESETS: dict[str, GridSpec] = {
    # Figure 1a and the paper's protocol: 5 models x 5 randomizations, RunSpec defaults.
    "paper": GridSpec(models=MODELS, corruptions=PAPER_CORRUPTIONS),
    # The same 25 runs, tiny: a first try on a 2-core CPU and CI. About 5 minutes
    # with --jobs 2 on 2 cores (JAX), most of it the 10 Inception runs; 40 steps
    # cross one epoch end (31 steps), so each run also writes a checkpoint.
    "smoke": GridSpec(
        models=MODELS,
        corruptions=PAPER_CORRUPTIONS,
        base={
            "steps": 40,
            "batch_size": 16,
            "log_every": 10,
            "train_subset": 500,
            "test_subset": 250,
        },
    ),
    # Figure 1b/1c: time to overfit and test error against label-corruption level.
    "fig1b": GridSpec(
        models=("inception", "alexnet", "mlp_1x512"),
        corruptions=("partial_labels",),
        levels=FIG1B_LEVELS,
        base={"stop_at_fit": True},
    ),
    # Table 1's rows. Weight decay is in the base, so --weight-decay changes it;
    # the variants without it set it to 0. Random crop only for the conv nets
    # that have it in the table; random labels without either.
    "table1": GridSpec(
        models=MODELS,
        corruptions=("true_labels", "random_labels"),
        base={"weight_decay": TABLE1_WEIGHT_DECAY},
        variants=(
            Variant({"augment": True}, ("inception", "alexnet"), ("true_labels",)),
            Variant(
                {"augment": True, "weight_decay": 0.0}, ("inception", "alexnet"), ("true_labels",)
            ),
            Variant({}, None, ("true_labels",)),
            Variant({"weight_decay": 0.0}),
        ),
    ),
    # Figure 2(b) (section 3.1): Inception with and without BatchNorm on the true
    # labels, no weight decay, no augmentation, the paper's protocol.
    "fig2": GridSpec(models=("inception", "inception_no_bn"), corruptions=("true_labels",)),
    # Section 3: regularizers do not stop memorization. Random labels with weight
    # decay (in the base, so --weight-decay changes it): Inception and the MLPs
    # still fit them, AlexNet fails to converge.
    "regularized": GridSpec(
        models=("inception", "alexnet", "mlp_1x512", "mlp_3x512"),
        corruptions=("random_labels",),
        base={"weight_decay": TABLE1_WEIGHT_DECAY},
    ),
}

PRESET_HELP = {
    "paper": "5 models x 5 randomizations, the paper's full protocol (25 runs)",
    "smoke": "the same 25 runs on 500 images for 40 steps: minutes on a CPU",
    "fig1b": "Inception, AlexNet, MLP 1x512 x label-corruption levels 0..1, stop at fit",
    "table1": "Table 1: each model with/without weight decay and random crop, + random labels",
    "fig2": "Figure 2(b): Inception with and without BatchNorm on true labels (2 runs)",
    "regularized": "section 3: random labels with weight decay, Inception, AlexNet, both MLPs",
}
