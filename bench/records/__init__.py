"""Records on disk: the append-only store, record identity (spec hashes), atomic
writes, the results-directory lock, which profiles a results directory holds
(``profiles``) and the one-line DataFrame loader.
"""
