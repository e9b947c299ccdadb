"""The base layer: helpers that know nothing of runs, data or models.

`atomic` (files written whole or not at all), `lock` (one process per folder),
`text` (numbers and durations as text), `process` (child processes), `signals`
(Ctrl-C and SIGTERM as a stop request), `console` (Rich on a terminal, plain
lines otherwise), `backend` (choosing the Keras backend), `frameworks` (what only
torch, jax or tensorflow can say) and `platform` (versions, host, GPUs, caches).
Nothing here imports another layer of rethink.
"""
