"""Records on disk: the append-only store, record identity (spec hashes), atomic
writes, the results-directory lock and the one-line DataFrame loader.
"""
