"""What produced a record: its case's spec hash under its profile, and which records are stale.

A record is identified by (case, arm, framework, mode, seed) *and* the hash of
the case spec it was trained under (``spec_hash``). The hash covers what can
change a result under one profile: the case with only that profile's budget,
minus prose (titles, sources, notes, claim statements, the source's reported
numbers and notes, the pairing of a claim with another source's) and minus the claims, which decide verdicts rather than what trains
(``claims_hash`` covers them, for the regression gate). So rewording a
docstring or re-reading a claim keeps it, but any hyperparameter, layer, arm,
metric or budget change does not. Fields left at their default
are omitted too, so that adding a new defaulted field to ``bench.spec`` keeps
every existing hash.

A record is *current* when its ``spec_hash`` equals the hash of its case as the
code defines it now, and *stale* otherwise. Records written before records
carried a hash have none and count as stale: nothing says which spec made
them, so no table may describe them with today's spec. Every reader (runner
resume, report, baseline, check, compare, publish) keeps only current records
and says how many stale ones it ignored.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
from dataclasses import dataclass, field

from bench.spec import registry
from bench.records import store
from bench.spec import Case

PROSE_FIELDS = frozenset({"title", "source", "notes", "statement", "reported", "reported_note", "pairs_with"})
# A case's claims are analysis: their contrasts, directions, kinds and margins choose a verdict,
# not what a seed-run trains. They stay out of a record's identity (re-reading a claim keeps every
# record current) and have a hash of their own, which the regression gate watches.
ANALYSIS_FIELDS = frozenset({"claims"})


def _is_default(f: dataclasses.Field, value) -> bool:
    if f.default is not dataclasses.MISSING:
        return value == f.default
    return f.default_factory is not dataclasses.MISSING and value == f.default_factory()


def canonical(obj, skip: frozenset = PROSE_FIELDS):
    """A JSON-ready form that names each dataclass's type and drops the ``skip`` fields (prose)
    and default-valued fields."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {"type": type(obj).__name__}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if f.name not in skip and not _is_default(f, value):
                out[f.name] = canonical(value, skip)
        return out
    if isinstance(obj, dict):
        return {str(k): canonical(v, skip) for k, v in sorted(obj.items())}
    if isinstance(obj, (list, tuple)):
        return [canonical(v, skip) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return repr(obj)
    return obj


def _digest(form) -> str:
    text = json.dumps(form, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def spec_hash(case: Case, profile: str) -> str:
    """sha256 (16 hex digits) of what a seed-run of ``case`` trains under ``profile`` (its claims
    left out); stable across processes."""
    # The seed count and the profile's arm selection are left out: seed i's record of an arm does
    # not depend on how many seeds or which other arms run, so adding seeds (or a seed range run
    # elsewhere) or arms keeps every record current.
    scoped = dataclasses.replace(case, profiles={profile: dataclasses.replace(case.profile(profile), seeds=0,
                                                                              arms=None)})
    return _digest(canonical(scoped, PROSE_FIELDS | ANALYSIS_FIELDS))


def claims_hash(case: Case) -> str:
    """sha256 (16 hex digits) of ``case``'s claims without their prose: contrast, direction, kind,
    metric and margins."""
    return _digest(canonical(case.claims))


def current_hashes(profile: str, cases=None) -> dict[str, str]:
    """``{case id: spec hash}`` of ``cases`` (default: every case the suites define) under ``profile``."""
    cases = registry.discover().values() if cases is None else cases
    return {c.id: spec_hash(c, profile) for c in cases if profile in c.profiles}


@dataclass
class Loaded:
    """One profile's latest records, split into current and stale (per case)."""
    records: list
    stale: dict = field(default_factory=dict)      # case id -> count of stale records
    unhashed: int = 0                               # of those, records with no spec hash at all

    def note(self) -> str:
        """One sentence saying what was ignored, or "" when nothing was."""
        return stale_note(self.stale, self.unhashed)


def stale_note(stale: dict, unhashed: int = 0) -> str:
    total = sum(stale.values())
    if not total:
        return ""
    where = ", ".join(f"{case} {n}" for case, n in sorted(stale.items()))
    legacy = (f"; {unhashed} of them carry no spec hash (written before records were keyed by spec)"
              if unhashed else "")
    return (f"ignored {total} stale record(s) made under another spec of their case ({where}){legacy}; "
            f"a rerun into this directory trains them afresh.")


def split(records, profile: str, hashes: dict | None = None) -> Loaded:
    """Keep the records whose spec hash is their case's current one; count the rest per case.
    A record of a case no suite defines is kept (the readers say so themselves).

    A record of a one-off variation (``bench run --set``) carries its overrides; it is
    current when its hash is that of today's case with the same overrides applied. One
    case never mixes two specs: where a directory holds both, the spec of the last
    record in file order wins and the others count as stale."""
    derive = hashes is None
    hashes = current_hashes(profile) if hashes is None else hashes
    out = Loaded([])
    cache: dict = {}
    kept = []
    for r in records:
        want = hashes.get(r.get("case"))
        if derive and r.get("overrides") and want is not None:
            want = _override_hash(r["case"], r["overrides"], profile, cache)
        if want is None or r.get("spec_hash") == want:
            kept.append(r)
            continue
        out.stale[r["case"]] = out.stale.get(r["case"], 0) + 1
        out.unhashed += "spec_hash" not in r
    last = {r["case"]: r.get("spec_hash") for r in kept}
    for r in kept:
        if r.get("spec_hash") == last[r["case"]]:
            out.records.append(r)
        else:
            out.stale[r["case"]] = out.stale.get(r["case"], 0) + 1
    return out


def _override_hash(case_id: str, overrides: dict, profile: str, cache: dict) -> str | None:
    """The spec hash of today's ``case_id`` with a record's ``--set`` overrides applied."""
    key = (case_id, json.dumps(overrides, sort_keys=True, default=str))
    if key not in cache:
        from bench.spec import overrides as variation
        from bench.errors import BenchError

        case = registry.discover().get(case_id)
        try:
            parsed = variation.parse([f"{k}={v}" for k, v in dict(overrides).items()])
            cache[key] = spec_hash(variation.apply(case, profile, parsed), profile) if case else None
        except BenchError:
            cache[key] = ""   # overrides today's spec cannot take: nothing matches, so the record is stale
    return cache[key]


def load(results_dir: str | os.PathLike, profile: str) -> Loaded:
    """The latest current records of ``profile`` under ``results_dir``, and the stale count."""
    return split(store.load(results_dir, profile), profile)
