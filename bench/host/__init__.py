"""The machine a run is on: its devices (which GPU, how many threads), the C allocator's
settings, and its environment (code version, CPU fingerprint, git state, cores).

Nothing here imports a framework or another package of ``bench`` but ``errors``: the
backends and the runner both read it.
"""
