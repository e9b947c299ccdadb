"""A grid on a Ray cluster: one Ray task per run, files shipped or in place.

    from rethink.grid.ray.cluster import connect          # the cluster, checked
    from rethink.grid.ray.launcher import RayLauncher     # the executor's attempts as Ray tasks

`cluster` connects, `launcher` is the driver's side, `task` the node's side
(one attempt at a run), `shipping` moves run files from the nodes to the
driver (plain Python). Importing this package does not import Ray; `connect`
does (pip install 'rethink-generalization[ray]'). See the README, "Running a
grid on a Ray cluster", and docs/cluster.md.
"""
