"""The record file: NaN round-trips, torn lines, schema versions, last record wins."""
import json
import math

import pytest

from bench.records import store
from bench.errors import StoreError


def _rec(seed, status="ok", acc=0.9):
    return {"case": "c1", "arm": "none", "framework": "tf", "mode": "as_written", "seed": seed,
            "status": status, "diverged": False, "metrics": {"test_accuracy": acc}}


def test_round_trip_keeps_nan_and_last_record_wins(tmp_path):
    path = store.records_path(tmp_path, "smoke")
    with store.RecordWriter(path) as w:
        w.append(_rec(0, status="failed"))
        w.append(_rec(0, acc=float("nan")))
        w.append(_rec(1, acc=0.5))
    records = {r["seed"]: r for r in store.load(tmp_path, "smoke")}
    assert records[0]["status"] == "ok" and math.isnan(records[0]["metrics"]["test_accuracy"])
    assert records[1]["metrics"]["test_accuracy"] == 0.5
    assert all(json.loads(line)["schema"] == store.SCHEMA for line in path.read_text().splitlines())


def test_torn_last_line_is_skipped_with_a_warning(tmp_path):
    path = store.records_path(tmp_path, "smoke")
    with store.RecordWriter(path) as w:
        w.append(_rec(0))
    with open(path, "a") as fh:
        fh.write('{"schema": 1, "case": "c1", "ar')
    with pytest.warns(UserWarning, match="unreadable record"):
        assert len(store.load(tmp_path, "smoke")) == 1


def test_other_schema_is_a_clear_error(tmp_path):
    path = store.records_path(tmp_path, "smoke")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({**_rec(0), "schema": 999}) + "\n")
    with pytest.raises(StoreError, match="schema 999"):
        store.load(tmp_path, "smoke")


def test_unwritable_results_dir_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreError, match="cannot write results"):
        store.RecordWriter(store.records_path(blocker, "smoke"))


def test_each_record_is_on_disk_before_append_returns(tmp_path, monkeypatch):
    """fsync after the whole line is written: a record reported written survives a crash of the
    machine, not only of the process (os.write alone leaves it in the page cache)."""
    import os

    path = store.records_path(tmp_path, "smoke")
    synced, real = [], os.fsync

    def spy(fd):
        synced.append((os.readlink(f"/proc/self/fd/{fd}"), os.fstat(fd).st_size))
        return real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    with store.RecordWriter(path) as w:
        for seed in (0, 1):
            before = len(synced)
            w.append(_rec(seed))
            size = path.stat().st_size
            assert (str(path), size) in synced[before:], "append returned before syncing the line it wrote"


def test_a_record_reported_written_survives_a_kill(tmp_path):
    """A process killed (SIGKILL) right after it says a record is written keeps that record."""
    import os
    import signal
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(f"""
        import sys, time
        from bench.records import store
        with store.RecordWriter(store.records_path({str(tmp_path)!r}, "smoke")) as w:
            w.append({_rec(7)!r})
            print("written", flush=True)
            time.sleep(60)
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (os.getcwd(), os.environ.get("PYTHONPATH")) if p)}
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "written"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert [r["seed"] for r in store.load(tmp_path, "smoke")] == [7]
