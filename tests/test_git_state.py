"""A record's ``dirty`` flag from the real ``git``, in a real repository: a modified tracked file
or an untracked suite or package file makes the tree dirty; anything else untracked does not."""
import shutil
import subprocess

import pytest

from bench.host import environment

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _git(root, *args):
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def _state(root):
    environment.git_state.cache_clear()   # cached per root for a run's lifetime; the tree changes here
    return environment.git_state(root)


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "checkout"
    (root / "suites").mkdir(parents=True)
    (root / "bench").mkdir()
    (root / "suites" / "c1.py").write_text("CASES = []\n")
    (root / "bench" / "core.py").write_text("X = 1\n")
    (root / ".gitignore").write_text("runs/\n*.pyc\n")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-q", "-m", "start")
    yield root
    environment.git_state.cache_clear()


def test_a_clean_checkout_is_not_dirty(repo):
    commit, dirty = _state(repo)
    assert len(commit) == 40 and dirty is False


def test_a_modified_tracked_file_is_dirty(repo):
    (repo / "suites" / "c1.py").write_text("CASES = [1]\n")
    assert _state(repo)[1] is True
    _git(repo, "add", "-A")   # staged but not committed: still not what the commit holds
    assert _state(repo)[1] is True


@pytest.mark.parametrize("path", ["suites/c9_new_case.py", "bench/extra/helper.py"])
def test_an_untracked_code_file_is_dirty(repo, path):
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text("CASES = []\n")
    assert _state(repo)[1] is True
    (repo / path).unlink()
    assert _state(repo)[1] is False


def test_untracked_files_that_run_nothing_and_ignored_files_are_clean(repo):
    (repo / "NOTES.txt").write_text("scratch\n")
    (repo / "suites" / "README.txt").write_text("not code\n")
    (repo / "runs").mkdir()
    (repo / "runs" / "records.py").write_text("ignored\n")
    (repo / "suites" / "c1.cpython-311.pyc").write_bytes(b"ignored")
    assert _state(repo) == (_state(repo)[0], False)


def test_outside_a_checkout_there_is_no_commit(tmp_path):
    assert _state(tmp_path) == ("", False)
