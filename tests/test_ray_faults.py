"""`bench run --executor ray` when the cluster is not there or goes away: one sentence, never a hang.

A real local Ray head (`ray start --head` on a free port, its files in a temporary
directory) is killed mid-run; a wrong `--address` fails within seconds. The head
and the run share a home of their own holding an authentication token, so the
head uses token authentication (Ray's default wherever a token exists) whatever
this user's own ``~/.ray`` holds."""
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="the Ray executor is an optional extra: pip install -e .[ray]")
pytest.importorskip("torch")

ROOT = Path(__file__).resolve().parents[1]
RAY = Path(sys.executable).with_name("ray")
RAY_LOG = re.compile(r"^(\(\w+.*\) |\[\d{4}-\d\d-\d\d |[IWEF]\d{4} )")   # Ray's C++ log, a worker's forwarded line
C2 = ["run", "--executor", "ray", "--case", "c2", "--arm", "plain", "--framework", "torch", "--profile", "smoke",
      "--group-size", "1", "--no-progress"]


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pids_of(marker: str) -> list[int]:
    """The processes whose command line names ``marker`` (this test's Ray directory)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if marker.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
    return pids


def _kill(pids) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def ray_head():
    """A Ray head of this test's own: (address, its directory, the environment its clients
    share with it); every process of it is killed after."""
    temp = tempfile.mkdtemp(prefix="bench-ray-")   # short: Ray's socket paths must stay under 108 bytes
    home = Path(temp) / "home"
    (home / ".ray").mkdir(parents=True)
    (home / ".ray" / "auth_token").write_text(secrets.token_hex(32))
    env = _env(HOME=str(home))
    port = _free_port()
    try:
        proc = subprocess.run([str(RAY), "start", "--head", f"--port={port}", "--num-cpus=1", "--num-gpus=0",
                               f"--temp-dir={temp}", "--include-dashboard=false", "--disable-usage-stats",
                               "--node-ip-address=127.0.0.1"], capture_output=True, text=True, timeout=120,
                              env=env)
        if proc.returncode:
            pytest.skip(f"cannot start a local Ray head here: {proc.stderr[-500:]}")
        yield f"127.0.0.1:{port}", temp, env
    finally:
        _kill(_pids_of(temp))
        shutil.rmtree(temp, ignore_errors=True)


def test_a_driver_sends_the_token_a_head_would_use_unless_told_otherwise(tmp_path, monkeypatch):
    from bench.run import ray_executor

    for name in ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH"):
        monkeypatch.setenv(name, "")   # recorded, so what the code under test sets is undone after
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    ray_executor.send_token_if_any()
    assert "RAY_AUTH_MODE" not in os.environ   # no token: nothing to send
    (tmp_path / ".ray").mkdir()
    (tmp_path / ".ray" / "auth_token").write_text("abc\n")
    ray_executor.send_token_if_any()
    assert os.environ["RAY_AUTH_MODE"] == "token"
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")   # the user's own choice stands
    ray_executor.send_token_if_any()
    assert os.environ["RAY_AUTH_MODE"] == "disabled"


def test_a_wrong_address_is_one_sentence_within_seconds(tmp_path):
    # Ray alone retries such an address for minutes; the timeout turns a hang into a failure.
    proc = subprocess.run([sys.executable, "-m", "bench", *C2, "--seeds", "1", "--address", "127.0.0.1:1",
                           "--results-dir", str(tmp_path)], cwd=ROOT, env=_env(), capture_output=True, text=True,
                          timeout=90)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    (line,) = [line for line in proc.stderr.splitlines() if line.strip()]
    assert line.startswith("bench: error: cannot reach a Ray cluster at 127.0.0.1:1") and "ray start --head" in line
    assert not (tmp_path / "smoke").exists()   # refused before anything ran


# enough seeds that the run is still going when its first records are in and the head is killed
SEEDS = 30


@pytest.mark.slow
def test_a_lost_cluster_says_how_many_records_were_kept_and_how_to_resume(tmp_path, ray_head):
    address, temp, env = ray_head
    records = tmp_path / "smoke" / "records.jsonl"
    run = subprocess.Popen([sys.executable, "-m", "bench", *C2, "--seeds", str(SEEDS), "--address", address,
                            "--results-dir", str(tmp_path)], cwd=ROOT, env={**env, "BENCH_RAY_LOST_AFTER_S": "3"},
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline and run.poll() is None and not (
                records.exists() and records.read_text().strip()):
            time.sleep(0.2)
        assert records.exists() and records.read_text().strip() and run.poll() is None, run.communicate()[1]
        _kill(_pids_of(temp))   # the head: GCS, raylet and its workers
        out, err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    kept = len([line for line in records.read_text().splitlines() if line.strip()])
    assert run.returncode == 2 and "Traceback" not in err, err
    assert not [line for line in err.splitlines() if RAY_LOG.match(line)], err   # Ray's own lines only with -v
    errors = [line for line in err.splitlines() if line.startswith("bench: error:")]
    assert len(errors) == 1 and errors[0] == err.strip().splitlines()[-1], err
    assert errors[0].startswith(f"bench: error: lost the Ray cluster at {address}")
    assert f"the {kept} record(s) this run finished are kept in {records}" in errors[0]
    assert "rerun the same command to resume" in errors[0] and 1 <= kept < SEEDS
