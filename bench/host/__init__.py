"""The machine a run is on: its devices (which GPU, how many threads), the C allocator's
settings, and its environment (code version, CPU fingerprint, git state, cores, and how a
record's ``env`` reads back).

It imports no framework and no other package of ``bench`` but ``errors``: the backends
and the runner both read it.
"""
