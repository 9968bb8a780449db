"""bench publish on synthetic records: what it copies, merges and refuses (modified tree, mixed commits or specs)."""
import pytest

from bench.host import environment
from bench.records import identity, store
from bench.publish import release as publish
from bench.spec import registry
from bench.cli import main

C1 = registry.get("c1")
HASH = identity.spec_hash(C1, "smoke")
CLEAN = "a" * 40
OTHER = "b" * 40


def _records(seeds=(0, 1), commit=CLEAN, dirty=False, spec=HASH, shift=0.0, status="ok"):
    out = []
    for fw in ("tf", "torch"):
        for arm in ("none", "dropout", "l2", "both"):
            for seed in seeds:
                acc = 0.9 - (0.1 if arm == "both" else 0.0) + 0.01 * seed + shift
                out.append({"case": "c1", "arm": arm, "framework": fw, "mode": "as_written", "seed": seed,
                            "profile": "smoke", "status": status, "diverged": False, "spec_hash": spec,
                            "metrics": {"test_accuracy": acc, "test_loss": 0.3, "train_loss": 0.2},
                            "group": {"size": len(seeds), "seeds": list(seeds), "path": "vectorized"},
                            "timing": {"wall_s": 1.0}, "planned_steps": 16, "steps": 16,
                            "curve": {"step": [16], "train_loss": [0.2], "test_accuracy": [acc]},
                            "budget": {"epochs": 1, "batch_size": 128},
                            "env": {"device": "cpu", "cpu": "Xeon [0123abcd]", "threads": 2, "commit": commit,
                                    "dirty": dirty, "torch": "2.13.0"}})
    return out


def _write(directory, records):
    with store.RecordWriter(store.records_path(directory, "smoke")) as w:
        for r in records:
            w.append(r)
    return directory


@pytest.fixture(autouse=True)
def clean_tree(monkeypatch):
    """The checkout counts as clean unless a test says otherwise (the real probe reads git)."""
    monkeypatch.setattr(environment, "git_state", lambda: (CLEAN, False))


def test_publish_copies_the_records_and_writes_the_report(tmp_path):
    run = _write(tmp_path / "run", _records())
    out = publish.publish([run], "smoke", tmp_path / "results", report=False)
    assert out.cases["c1"][:3] == (16, CLEAN, HASH)
    assert len(store.load(tmp_path / "results", "smoke")) == 16


def test_seed_ranges_from_two_machines_merge(tmp_path):
    a = _write(tmp_path / "a", _records(seeds=(0, 1)))
    b = _write(tmp_path / "b", _records(seeds=(2, 3)))
    publish.publish([a, b], "smoke", tmp_path / "results", report=False)
    assert sorted({r["seed"] for r in store.load(tmp_path / "results", "smoke")}) == [0, 1, 2, 3]
    # publishing more seeds of the same commit and spec later adds to the case
    c = _write(tmp_path / "c", _records(seeds=(4,)))
    publish.publish([c], "smoke", tmp_path / "results", report=False)
    assert len(store.load(tmp_path / "results", "smoke")) == 8 * 5


def test_a_modified_tree_is_refused(tmp_path, monkeypatch):
    run = _write(tmp_path / "run", _records())
    monkeypatch.setattr(environment, "git_state", lambda: (CLEAN, True))
    with pytest.raises(publish.PublishError, match="modified tracked files"):
        publish.publish([run], "smoke", tmp_path / "results", report=False)
    assert not store.records_path(tmp_path / "results", "smoke").exists()


def test_records_from_a_modified_tree_are_refused(tmp_path):
    run = _write(tmp_path / "run", _records(dirty=True))
    with pytest.raises(publish.PublishError, match="modified working tree"):
        publish.publish([run], "smoke", tmp_path / "results", report=False)


def test_mixed_commits_within_a_case_are_refused(tmp_path):
    a = _write(tmp_path / "a", _records(seeds=(0, 1)))
    b = _write(tmp_path / "b", _records(seeds=(2, 3), commit=OTHER))
    with pytest.raises(publish.PublishError, match="2 commits"):
        publish.publish([a, b], "smoke", tmp_path / "results", report=False)


def test_a_new_commit_does_not_mix_with_the_published_case_unless_replaced(tmp_path):
    publish.publish([_write(tmp_path / "a", _records())], "smoke", tmp_path / "results", report=False)
    b = _write(tmp_path / "b", _records(seeds=(2, 3), commit=OTHER))
    with pytest.raises(publish.PublishError, match="must not mix them; pass --replace"):
        publish.publish([b], "smoke", tmp_path / "results", report=False)
    out = publish.publish([b], "smoke", tmp_path / "results", replace=True, report=False)
    assert out.cases["c1"][3] == 16
    published = store.load(tmp_path / "results", "smoke")
    assert {r["env"]["commit"] for r in published} == {OTHER} and len(published) == 16


def test_mixed_spec_hashes_never_reach_a_published_case(tmp_path):
    # records of another spec are stale: left out of the sources and counted in the notes
    a = _write(tmp_path / "a", _records(seeds=(0, 1)) + _records(seeds=(2, 3), spec="f" * 16))
    out = publish.publish([a], "smoke", tmp_path / "results", report=False)
    assert {r["spec_hash"] for r in store.load(tmp_path / "results", "smoke")} == {HASH}
    assert "stale" in out.notes[0]
    # an already-published case of another spec is not merged with the current one
    _write(tmp_path / "results2", _records(seeds=(0,), spec="f" * 16))
    with pytest.raises(publish.PublishError, match="spec ffff"):
        publish.publish([a], "smoke", tmp_path / "results2", report=False)


def test_failed_seeds_and_records_without_provenance_are_refused(tmp_path):
    with pytest.raises(publish.PublishError, match="failed"):
        publish.publish([_write(tmp_path / "a", _records(status="failed"))], "smoke", tmp_path / "r", report=False)
    with pytest.raises(publish.PublishError, match="carries no commit"):
        publish.publish([_write(tmp_path / "b", _records(commit=""))], "smoke", tmp_path / "r", report=False)


def test_one_seed_run_with_two_outcomes_is_refused(tmp_path):
    a = _write(tmp_path / "a", _records())
    b = _write(tmp_path / "b", _records(shift=0.01))
    with pytest.raises(publish.PublishError, match="different outcome"):
        publish.publish([a, b], "smoke", tmp_path / "results", report=False)


def test_publish_through_the_cli_reports_and_names_the_commit(tmp_path, capsys):
    run = _write(tmp_path / "run", _records(seeds=(0, 1, 2)))
    dest = tmp_path / "results"
    assert main(["publish", "--profile", "smoke", "--from", str(run), "--to", str(dest)]) == 0
    out = capsys.readouterr().out
    assert f"commit {CLEAN[:10]}" in out
    text = (dest / "smoke" / "REPORT.md").read_text()
    assert f"commit {CLEAN[:10]}" in text and "3 seeds per arm" in text
    assert main(["publish", "--profile", "smoke", "--from", str(tmp_path / "nothing"), "--to", str(dest)]) == 2
    assert "no records at" in capsys.readouterr().err
