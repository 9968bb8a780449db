"""Every case a profile runs is published under ``results/<profile>/``, or README says why not.

For each of ``quick``, ``mid`` and ``full``: the cases ``bench run --profile P`` runs without
``--case`` (``bench.spec.registry.select``) must equal the cases with current records in
``results/P/records.jsonl``, except those listed in README's ``unpublished`` block; a listed case
that is published (or that P does not run) is a stale exception and fails too.
"""
import re
from pathlib import Path

import pytest

from bench.cli import main
from bench.publish import coverage
from bench.records import identity, store
from bench.spec import registry

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ("quick", "mid", "full")
BEGIN = "<!-- unpublished: checked by tests/test_publication_coverage.py -->"
END = "<!-- /unpublished -->"


def exceptions(readme: str) -> dict[str, dict[str, str]]:
    """``{profile: {case: why}}`` from the README block's table ``| profile | case | why |``."""
    assert readme.count(BEGIN) == 1 and readme.count(END) == 1, "README needs exactly one unpublished block"
    block = readme.split(BEGIN, 1)[1].split(END, 1)[0]
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in block.splitlines() if line.strip().startswith("|")]
    assert rows and rows[0] == ["profile", "case", "why"], f"the block's table must start | profile | case | why |"
    out: dict = {}
    for row in rows[1:]:
        if re.fullmatch(r"[-: ]+", "".join(row)):
            continue
        profile, case, why = row
        assert why, f"README's unpublished block gives no reason for {case} at {profile}"
        assert case not in out.get(profile, {}), f"{case} at {profile} is listed twice"
        out.setdefault(profile, {})[case] = why
    return out


README_EXCEPTIONS = exceptions((ROOT / "README.md").read_text(encoding="utf-8"))


def published(profile: str) -> set[str]:
    return {r["case"] for r in identity.load(ROOT / "results", profile).records if r.get("status") == "ok"}


def test_the_block_names_only_known_profiles():
    assert set(README_EXCEPTIONS) <= set(PROFILES)


@pytest.mark.parametrize("profile", PROFILES)
def test_a_profile_runs_what_is_published_or_readme_says_why(profile):
    runs = {c.id for c in registry.select(None, profile)}
    have = published(profile)
    listed = set(README_EXCEPTIONS.get(profile, {}))
    assert not have - runs, f"results/{profile}/ publishes cases the profile does not run: {sorted(have - runs)}"
    missing = runs - have - listed
    assert not missing, (f"`bench run --profile {profile}` runs {sorted(missing)}, which results/{profile}/ does not "
                         f"publish and README's unpublished block does not list")
    stale = listed & have
    assert not stale, f"README lists {sorted(stale)} as unpublished at {profile}, but results/{profile}/ publishes them"
    foreign = listed - runs
    assert not foreign, f"README lists {sorted(foreign)} at {profile}, which that profile does not run"


def test_the_check_fails_on_a_missing_line_and_on_a_stale_one():
    """The parser and the comparison above, on a README that leaves a case out and lists one too many."""
    text = (f"x\n{BEGIN}\n\n| profile | case | why |\n|---|---|---|\n| full | c1 | a reason |\n"
            f"| quick | c4 | another |\n\n{END}\n")
    assert exceptions(text) == {"full": {"c1": "a reason"}, "quick": {"c4": "another"}}
    with pytest.raises(AssertionError, match="gives no reason"):
        exceptions(f"{BEGIN}\n| profile | case | why |\n|---|---|---|\n| full | c1 |  |\n{END}")
    with pytest.raises(AssertionError, match="exactly one"):
        exceptions("no block here")


def test_without_a_case_a_run_selects_the_cases_that_define_its_profile():
    mid = [c.id for c in registry.select(None, "mid")]
    assert mid == sorted(c.id for c in registry.discover().values() if "mid" in c.profiles) and "c1" not in mid
    assert [c.id for c in registry.select(None)] == sorted(registry.discover())
    assert [c.id for c in registry.select(["c1"], "mid")] == ["c1"]   # a named case is the runner's to check


def _publish(directory, case, profile):
    records = [{"case": case.id, "arm": arm.name, "framework": "torch", "mode": "as_written", "seed": 0,
                "profile": profile, "status": "ok", "diverged": False, "metrics": {},
                "spec_hash": identity.spec_hash(case, profile)} for arm in case.profile_arms(profile)]
    with store.RecordWriter(store.records_path(directory, profile)) as w:
        for r in records:
            w.append(r)


def test_run_and_plan_name_each_case_without_a_published_table(tmp_path, monkeypatch, capsys):
    c1, c2 = registry.get("c1"), registry.get("c2")
    _publish(tmp_path, c1, "smoke")
    assert coverage.unpublished_lines([c1, c2], "smoke", tmp_path) == [
        "c2 smoke has no published table yet: bench compare cannot judge it."]
    monkeypatch.setattr(coverage, "ROOT_RESULTS", tmp_path)
    assert main(["plan", "--profile", "smoke", "--case", "c1,c2", "--results-dir", str(tmp_path / "runs")]) == 0
    out = capsys.readouterr().out
    assert "bench: c2 smoke has no published table yet: bench compare cannot judge it." in out
    assert "c1 smoke has no published table" not in out
    # a published table of another spec is no table of this code
    stale = tmp_path / "stale"
    _publish(stale, c1, "smoke")
    path = store.records_path(stale, "smoke")
    path.write_text(path.read_text().replace(identity.spec_hash(c1, "smoke"), "0" * 16))
    assert coverage.published_cases([c1], "smoke", stale) == set()


def test_a_profile_nothing_is_published_under_is_not_listed_case_by_case(tmp_path):
    """``smoke`` is CI's profile, gated against its baseline: a smoke run must not print one
    "no published table" line per case."""
    assert not (tmp_path / "smoke").exists()
    assert coverage.unpublished_lines([registry.get("c1"), registry.get("c2")], "smoke", tmp_path) == []
