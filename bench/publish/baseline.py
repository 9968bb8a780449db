"""The regression baseline: one profile's run records, frozen into ``results/baselines/<profile>.json``.

A baseline holds, per case, a hash of the case spec and, per (arm, framework,
mode), the per-seed value of every metric, which seeds diverged and which
devices ran them; plus the verdicts of every claim (``bench.analysis.evaluate``,
so Holm runs over the same family as the report), the environments the
records came from and two schema versions: the baseline's own and the
record format's. ``bench check`` (``bench.publish.check``) compares a fresh run with it.

The spec hash covers what can change a result under the baseline's profile:
the case with only that profile's budget, minus prose (titles, sources, notes,
claim statements, the post's reported numbers), so rewording a docstring does
not demand a new baseline but any hyperparameter, layer, arm, claim contrast
or budget change does. Fields left at their default are omitted too, so that
adding a new defaulted field to ``bench.spec`` keeps every existing hash.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import os
from pathlib import Path

from bench.records import atomic, identity, store
from bench.spec import registry
from bench.analysis.evaluate import evaluate
from bench.publish.tables import environment_rows
from bench.errors import StoreError
from bench.spec import Case

SCHEMA = 1


def default_path(profile: str) -> Path:
    return Path("results") / "baselines" / f"{profile}.json"


def regenerate_hint(profile: str) -> str:
    command = "make baseline" if profile == "smoke" else \
        f"bench run --profile {profile} --results-dir DIR && bench baseline --profile {profile} --results-dir DIR"
    return f"regenerate the baseline from a fresh run with `{command}` and commit it"


# --- spec hash (kept here for existing callers; it lives in bench.records.identity) ----

_canonical = identity.canonical
spec_hash = identity.spec_hash


# --- building and writing ----------------------------------------------------

def group_name(record: dict) -> str:
    return f"{record['arm']}/{record['framework']}/{record['mode']}"


def verdict_name(claim_id: str, framework: str, mode: str) -> str:
    return f"{claim_id}/{framework}/{mode}"


def _value(x):
    return float(x) if x is not None and math.isfinite(float(x)) else None  # JSON has no NaN


def groups(records: list[dict], case: Case) -> dict:
    """``{"arm/framework/mode": {"metrics": {metric: {seed: value}}, "diverged": {seed: bool},
    "devices": [...], "cpus": [...]}}`` over the ok records of ``case``; seeds are strings, NaN is None."""
    out: dict = {}
    for r in sorted(records, key=lambda r: (group_name(r), r["seed"])):
        if r["case"] != case.id or r.get("status") != "ok":
            continue
        g = out.setdefault(group_name(r), {"metrics": {m.name: {} for m in case.metrics},
                                           "diverged": {}, "devices": [], "cpus": []})
        for m in case.metrics:
            g["metrics"][m.name][str(r["seed"])] = _value(r["metrics"].get(m.name))
        g["diverged"][str(r["seed"])] = bool(r["diverged"])
        device = r.get("env", {}).get("device", "unknown")
        if device not in g["devices"]:
            g["devices"].append(device)
        cpu = _cpu(r.get("env", {}))
        if cpu not in g["cpus"]:
            g["cpus"].append(cpu)
    return out


def _cpu(env: dict) -> str:
    """The CPU fingerprint, with the thread count where the record has one: PyTorch's
    BatchNorm splits its batch statistics across threads, so one CPU type gives the
    same bits only at the same thread count (one per worker under ``--workers``)."""
    cpu = env.get("cpu", "unknown")
    return f"{cpu}; threads={env['threads']}" if "threads" in env and cpu != "unknown" else cpu


def verdicts(records: list[dict], cases: list[Case]) -> dict:
    """``{case: {"claim/framework/mode": {verdict, estimate, p_holm, n_pairs}}}``."""
    out: dict = {c.id: {} for c in cases}
    for case, fw, mode, res in evaluate(records, cases):
        out[case.id][verdict_name(res.claim_id, fw, mode)] = {
            "verdict": res.verdict, "estimate": _value(res.estimate),
            "p_holm": _value(res.p_holm), "n_pairs": res.n_pairs}
    return out


def cases_of(records: list[dict]) -> list[Case]:
    """The registry's cases that have records, in id order; an unknown case id is an error."""
    known = registry.discover()
    unknown = sorted({r["case"] for r in records} - set(known))
    if unknown:
        raise StoreError(f"the records hold cases {unknown} that no suite defines; "
                         f"rerun into a fresh --results-dir.")
    return [known[c] for c in sorted({r["case"] for r in records})]


def build(records: list[dict], profile: str) -> dict:
    cases = cases_of(records)
    judged = verdicts(records, cases)
    return {
        "schema": SCHEMA,
        "records_schema": store.SCHEMA,
        "profile": profile,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "environment": environment_rows(records),
        "cases": {c.id: {"spec_hash": spec_hash(c, profile), "claims_hash": identity.claims_hash(c),
                         "groups": groups(records, c), "verdicts": judged[c.id]} for c in cases},
    }


def write(results_dir: str | os.PathLike, profile: str, path: str | os.PathLike | None = None) -> Path:
    """Freeze the current records of ``profile`` under ``results_dir`` into a baseline (stale
    records, made under another spec, are left out: ``bench.records.identity``); return its path."""
    loaded = identity.load(results_dir, profile)
    records = loaded.records
    if not records:
        raise StoreError(f"no current records in {store.records_path(results_dir, profile)}"
                         f"{' (' + loaded.note() + ')' if loaded.stale else ''}; run "
                         f"`bench run --profile {profile} --results-dir {results_dir}` first.")
    failed = [r for r in records if r.get("status") != "ok"]
    if failed:
        raise StoreError(f"{len(failed)} seed(s) in {store.records_path(results_dir, profile)} failed; "
                         f"rerun `bench run --profile {profile} --results-dir {results_dir}` to retry them "
                         f"before writing a baseline.")
    path = Path(path) if path is not None else default_path(profile)
    return atomic.write_text(path, json.dumps(build(records, profile), indent=1, sort_keys=True) + "\n")


# --- reading -------------------------------------------------------------------

def load(path: str | os.PathLike | None, profile: str) -> dict:
    """Read and validate a baseline; every problem is one sentence saying what to do."""
    path = Path(path) if path is not None else default_path(profile)
    hint = regenerate_hint(profile)
    if not path.exists():
        raise StoreError(f"no baseline at {path}; {hint}, or pass --baseline PATH.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise StoreError(f"the baseline {path} is not readable JSON ({exc}); {hint}.") from exc
    if not isinstance(data, dict) or not isinstance(data.get("cases"), dict):
        raise StoreError(f"{path} is not a bench baseline (no 'cases'); {hint}.")
    if data.get("schema") != SCHEMA:
        raise StoreError(f"the baseline {path} has schema {data.get('schema')!r} but this version reads "
                         f"schema {SCHEMA}; {hint}.")
    if data.get("records_schema") != store.SCHEMA:
        raise StoreError(f"the baseline {path} was built from records of schema {data.get('records_schema')!r} "
                         f"but this version writes schema {store.SCHEMA}; {hint}.")
    if data.get("profile") != profile:
        raise StoreError(f"the baseline {path} is for profile {data.get('profile')!r}, not {profile!r}; "
                         f"pass --profile {data.get('profile')} or --baseline results/baselines/{profile}.json.")
    for case_id, entry in data["cases"].items():
        if not (isinstance(entry, dict) and {"spec_hash", "groups", "verdicts"} <= set(entry)):
            raise StoreError(f"the baseline {path} has an incomplete entry for case {case_id!r}; {hint}.")
    problem = shape_problem(data)
    if problem:
        raise StoreError(f"the baseline {path} {problem}; {hint}.")
    return data


def _number(x) -> bool:
    return x is None or (isinstance(x, (int, float)) and not isinstance(x, bool))


def shape_problem(data: dict) -> str | None:
    """What is wrong with the shape or types of a parsed baseline, naming the key path, or None.
    A baseline that compares nothing (no cases, a case without groups) is wrong too: it would pass."""
    if not data["cases"]:
        return "has no cases (key 'cases' is empty), so it would compare nothing"
    for case_id, entry in data["cases"].items():
        at = f"cases.{case_id}"
        if not isinstance(entry["spec_hash"], str):
            return f"has {at}.spec_hash = {entry['spec_hash']!r}, which is not a string"
        if not isinstance(entry["groups"], dict) or not entry["groups"]:
            return f"has no groups at {at}.groups (got {entry['groups']!r}), so it would compare nothing"
        if not isinstance(entry["verdicts"], dict):
            return f"has {at}.verdicts = {entry['verdicts']!r}, which is not an object"
        for name, group in entry["groups"].items():
            g = f"{at}.groups.{name}"
            if not isinstance(group, dict):
                return f"has {g} = {group!r}, which is not an object"
            for key, kind in (("metrics", dict), ("diverged", dict), ("devices", list)):
                if not isinstance(group.get(key), kind):
                    return f"has {g}.{key} = {group.get(key)!r}, which is not {'a list' if kind is list else 'an object'}"
            for metric, seeds in group["metrics"].items():
                if not isinstance(seeds, dict):
                    return f"has {g}.metrics.{metric} = {seeds!r}, which is not an object of seeds"
                for seed, value in seeds.items():
                    if not seed.isdigit():
                        return f"has seed {seed!r} at {g}.metrics.{metric}, which is not a seed number"
                    if not _number(value):
                        return f"has {g}.metrics.{metric}.{seed} = {value!r}, which is not a number"
            for seed, flag in group["diverged"].items():
                if not seed.isdigit() or not isinstance(flag, bool):
                    return f"has {g}.diverged.{seed} = {flag!r}, which is not true/false for a seed"
            if not all(isinstance(d, str) for d in group["devices"] + list(group.get("cpus", []))):
                return f"has a device or cpu at {g} that is not a string"
        for name, v in entry["verdicts"].items():
            if not (isinstance(v, dict) and isinstance(v.get("verdict"), str)):
                return f"has {at}.verdicts.{name} = {v!r}, which has no 'verdict' string"
    return None
