"""The settings of the figure tests' fake grids (tests/results/figures/conftest.py builds them)."""

from __future__ import annotations

MODELS = ("mlp_1x512", "alexnet")
# Figure 2(b): final and best test accuracy per Inception (None: the final one is the best).
FIG2B_FINAL = {"inception": 0.86, "inception_no_bn": 0.80}
FIG2B_BEST = {"inception": None, "inception_no_bn": 0.85}  # w/o BN: 5 points lost by the end
