"""Which cases of a profile have a published table: what ``bench compare`` can judge a run of.

A case has a published table under a profile when the published directory
(``results/`` of the repository, or ``bench compare --published``) holds current
records of it for that profile: records of the spec the code defines now
(``bench.records.identity``). ``bench run``, ``bench plan`` and ``bench compare``
name every case they touch that has none, in one line each, since a run of it
can be checked against nothing.
"""
from __future__ import annotations

import os
from pathlib import Path

import bench
from bench.records import identity, store

# The repository's published results, beside the package.
ROOT_RESULTS = Path(bench.__file__).resolve().parents[1] / "results"


def published_cases(cases, profile: str, published_dir: str | os.PathLike | None = None) -> set[str]:
    """The ids of ``cases`` with at least one current, ok record under ``published_dir/profile``
    (default: the repository's ``results/``)."""
    published_dir = ROOT_RESULTS if published_dir is None else published_dir
    path = store.records_path(published_dir, profile)
    if not path.exists():
        return set()
    hashes = {c.id: identity.spec_hash(c, profile) for c in cases if profile in c.profiles}
    # hashes given: records of other cases are kept by split and dropped here
    current = identity.split(store.load(published_dir, profile), profile, hashes).records
    return {r["case"] for r in current if r["case"] in hashes and r.get("status") == "ok"}


def unpublished_lines(cases, profile: str, published_dir: str | os.PathLike | None = None) -> list[str]:
    """One line per case of ``cases`` that defines ``profile`` and has no published table of it;
    none where nothing at all is published under ``profile`` (``smoke`` in the repository: CI's
    profile, judged by the regression gate against its baseline, not by ``bench compare``)."""
    if not store.records_path(ROOT_RESULTS if published_dir is None else published_dir, profile).exists():
        return []
    have = published_cases(cases, profile, published_dir)
    return [f"{c.id} {profile} has no published table yet: bench compare cannot judge it."
            for c in cases if profile in c.profiles and c.id not in have]
