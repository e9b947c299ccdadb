"""Shared test helpers, imported as `tests.helpers.<module>`:

    backend          the Keras backend of this test process
    training         a tiny synthetic data set, a small spec, an observer that records
    fake_worker      a stand-in for `rethink run` (a script, run in its own process)
    workers          the fake worker's command and what tests read back from run folders
    run_folders      realistic fake run folders for the report and the figures
    layer_testing    the checks of a custom Keras layer
    ray_cluster      a real two-node Ray cluster on loopback

Fixtures shared by several modules live in tests/conftest.py instead.
"""
