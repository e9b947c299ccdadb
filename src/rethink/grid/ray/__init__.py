"""A grid on a Ray cluster: one Ray task per run, files shipped or in place.

    from rethink.grid.ray.cluster import connect, RayLauncher

Importing this package does not import Ray; `connect` does (pip install
'rethink-generalization[ray]'). See docs in the README, "Running a grid on a Ray cluster".
"""
