"""``bench publish``: copy run records into the published ``results/<profile>/`` and rewrite its report.

A user's ``bench run`` writes to a local, git-ignored directory (``runs/``); only
this step writes under ``results/``. It takes one or more results directories
(one run, or runs of other seed ranges made elsewhere: ``--seeds 0:10`` here,
``--seeds 10:20`` on another machine) and merges their current records (stale
ones, made under another spec, are left out and counted) into the published
profile, case by case, refusing:

* a dirty working tree here, or records made from one (``env.dirty``: a
  modified tracked file or an untracked suite/package file,
  ``bench.host.environment.git_state``): nobody could check out the code that
  made them;
* records with no commit (written before records carried their provenance);
* failed seeds (rerun them first);
* within one case, records of more than one commit or spec hash, whether
  they come from the sources or from what is already published (``--replace``
  drops a case's published records of another commit or spec instead);
* one seed-run present twice with different outcomes.

Cases may come from different commits and machines; the report header
(``bench.host.environment.summary``) states which commit and machine each case's
records come from. The records and the report are written into a staging folder
first and put in place together (``bench.records.staging``): an interrupt or
an error leaves the published folder exactly as it was.
"""
from __future__ import annotations

import math
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bench.host import environment
from bench.records import identity, staging, store
from bench.errors import StoreError


class PublishError(StoreError):
    """Records that must not be published (modified tree, mixed commits or specs, failed seeds)."""


@dataclass
class Publication:
    profile: str
    path: Path
    cases: dict = field(default_factory=dict)     # case -> (records, commit, spec hash, replaced)
    notes: list = field(default_factory=list)
    report: Path | None = None

    def render(self) -> str:
        lines = [f"bench publish: {sum(n for n, *_ in self.cases.values())} records of {len(self.cases)} case(s) "
                 f"in {self.path}"]
        lines += [f"  {case}: {n} records, commit {commit[:10]}, spec {spec}"
                  + (f" (replaced {replaced} published records)" if replaced else "")
                  for case, (n, commit, spec, replaced) in sorted(self.cases.items())]
        lines += [f"  note: {n}" for n in self.notes]
        if self.report:
            lines.append(f"bench publish: wrote {self.report}")
        return "\n".join(lines)


def _one(values: set, what: str, case: str, where: str) -> str:
    if len(values) != 1:
        raise PublishError(f"the records of case {case} {where} come from {len(values)} {what}s "
                           f"({', '.join(sorted(str(v)[:16] for v in values))}); publish one {what} per case: "
                           f"rerun the others from that {what}.")
    return next(iter(values))


def _same_outcome(a: dict, b: dict) -> bool:
    def eq(x, y):
        return x == y or (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y))
    return a.get("diverged") == b.get("diverged") and set(a["metrics"]) == set(b["metrics"]) and \
        all(eq(a["metrics"][k], b["metrics"][k]) for k in a["metrics"])


def incoming(sources, profile: str, cases=None) -> tuple[dict, list[str]]:
    """``{case: {key: record}}`` from ``sources``, checked; and notes on what was left out."""
    by_case: dict = defaultdict(dict)
    notes = []
    for src in sources:
        path = store.records_path(src, profile)
        if not path.exists():
            raise PublishError(f"no records at {path}; run `bench run --profile {profile} --results-dir {src}` first.")
        loaded = identity.load(src, profile)
        if loaded.stale:
            notes.append(f"{src}: {loaded.note()}")
        for r in loaded.records:
            if cases and r["case"] not in cases:
                continue
            where = f"{r['case']}/{r['arm']}/{r['framework']}/{r['mode']} seed {r['seed']} in {path}"
            if r.get("status") != "ok":
                raise PublishError(f"{where} failed; rerun `bench run --profile {profile} --results-dir {src}` "
                                   f"to retry it before publishing.")
            env = r.get("env", {})
            if not env.get("commit"):
                raise PublishError(f"{where} carries no commit (written before records carried their "
                                   f"provenance); rerun it before publishing.")
            if env.get("dirty"):
                raise PublishError(f"{where} was made from a modified working tree (commit {env['commit'][:10]} "
                                   f"plus changes); commit the code, rerun, then publish.")
            k = store.key(r)
            if k in by_case[r["case"]] and not _same_outcome(by_case[r["case"]][k], r):
                raise PublishError(f"{where} is also in another source with a different outcome; "
                                   f"publish each seed-run from one source (split seeds with --seeds A:B).")
            by_case[r["case"]][k] = r
    if cases:
        missing = sorted(set(cases) - set(by_case))
        if missing:
            raise PublishError(f"no current records of case(s) {missing} in {', '.join(map(str, sources))}.")
    if not by_case:
        raise PublishError(f"no current records of profile {profile} in {', '.join(map(str, sources))}.")
    return dict(by_case), notes


def publish(sources, profile: str, dest: str | os.PathLike = "results", cases=None, replace: bool = False,
            report: bool = True) -> Publication:
    """Merge the records of ``sources`` into ``dest/<profile>/`` (see the module docstring)."""
    commit, dirty = environment.git_state()
    if dirty:
        raise PublishError("the working tree has modified tracked files or untracked code (.py files under "
                           "suites/ or bench/); commit them first: published results and their report come from "
                           "one clean commit.")
    new, notes = incoming(sources, profile, cases)
    path = store.records_path(dest, profile)
    old = store.load(dest, profile) if path.exists() else []
    out = Publication(profile, path, notes=notes)
    kept = [r for r in old if r["case"] not in new]
    for case, records in sorted(new.items()):
        where = f"from {', '.join(map(str, sources))}"
        commit_ = _one({r["env"]["commit"] for r in records.values()}, "commit", case, where)
        spec = _one({r["spec_hash"] for r in records.values()}, "spec hash", case, where)
        published = [r for r in old if r["case"] == case]
        other = [r for r in published if (r.get("env", {}).get("commit"), r.get("spec_hash")) != (commit_, spec)]
        if other and not replace:
            was = sorted({f"commit {environment.commit_of(r.get('env', {}))}, spec {r.get('spec_hash', 'none')}"
                          for r in other})
            raise PublishError(f"{path} holds {len(other)} records of case {case} from {'; '.join(was)}, and the new "
                               f"ones are commit {commit_[:10]}, spec {spec}: one case must not mix them; pass "
                               f"--replace to replace the published records of {case}.")
        merged = {store.key(r): r for r in published if r not in other}
        for k, r in records.items():
            if k in merged and not _same_outcome(merged[k], r):
                raise PublishError(f"{case} {k[1]}/{k[2]}/{k[3]} seed {k[4]} is already published with another "
                                   f"outcome at the same commit and spec; pass --replace to replace the case.")
            merged[k] = r
        kept += sorted(merged.values(), key=store.key)
        out.cases[case] = (len(merged), commit_, spec, len(other))
    with staging.stage(path.parent) as into:   # records and report land together, or not at all
        _write_records(into / path.name, kept)
        if report:
            from bench.publish import report as report_module

            report_module.render(dest, profile, into, records_from=into.parent)
            out.report = path.parent / "REPORT.md"
    return out


def _write_records(path: Path, records: list[dict]) -> None:
    with store.RecordWriter(path) as writer:
        for r in records:
            writer.append({k: v for k, v in r.items() if k != "schema"})

