"""Fault injection: no record lost, no traceback on bad input, no worker outlives its run.

One test (or a few) per numbered item of the reliability issue: a torn last record
then a resumed run; a full disk (simulated ENOSPC, and a tiny tmpfs where this
process may mount one); a SIGKILLed parent with live workers; records of the
wrong shape; a read-only results directory; two runs on one directory; bad
baselines; spec errors with their location; arguments and data checked before
any framework import, and the frameworks' start-up logging kept quiet.
"""
import contextlib
import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import suites
from bench.publish import baseline, check, report
from bench.records import identity, store
from bench.spec import registry
from bench.cli import main
from bench.errors import SpecError, StoreError

ROOT = Path(__file__).resolve().parents[1]
C2_RUN = ["run", "--case", "c2", "--arm", "plain", "--framework", "torch", "--workers", "1",
          "--profile", "smoke", "--seeds", "2", "--no-progress"]
FRAGMENT = '{"arm": "plain", "case": "c2", "curve": {"st'


def bench(*args, cwd=ROOT, timeout=240, env=None) -> subprocess.CompletedProcess:
    """``python -m bench ARGS`` in a fresh process, with this checkout first on the path."""
    full = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            **(env or {})}
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=timeout)


def python(code: str, timeout=240, env=None, cwd=ROOT, **kw):
    full = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            **(env or {})}
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=full, timeout=timeout, **kw)


def one_sentence(proc_or_err: str) -> None:
    assert "Traceback" not in proc_or_err and "bench: error:" in proc_or_err, proc_or_err
    assert len([line for line in proc_or_err.splitlines() if line.startswith("bench: error:")]) == 1


def _rec(seed, **extra):
    return {"case": "c2", "arm": "plain", "framework": "torch", "mode": "as_written", "seed": seed,
            "profile": "smoke", "status": "ok", "diverged": False, "metrics": {"min_val_mae": 5.0},
            **extra}


@pytest.fixture(scope="module")
def c2_records(tmp_path_factory):
    """A real smoke run of C2's plain arm (2 seeds, PyTorch, one process): its results directory.
    Run with -q, so it also shows that a quiet run prints only its final line."""
    out = tmp_path_factory.mktemp("c2run")
    proc = bench("-q", *C2_RUN, "--results-dir", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == "" and len(proc.stdout.splitlines()) == 1 and "2 runs finished" in proc.stdout
    return out


def _copy(src: Path, dest: Path) -> Path:
    shutil.copytree(src, dest)
    return dest


def _mount_tmpfs(path: Path, size: str) -> bool:
    """A tiny filesystem of its own (needs root); False where this process may not mount."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True).returncode == 0


@contextlib.contextmanager
def tmpfs(path: Path, size: str):
    if not _mount_tmpfs(path, size):
        pytest.skip("cannot mount a tmpfs here (not root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


# --- 1. a torn last record, then a resumed run ------------------------------------

def test_torn_tail_is_set_aside_before_appending(tmp_path):
    path = store.records_path(tmp_path, "smoke")
    with store.RecordWriter(path) as w:
        w.append(_rec(0))
    with open(path, "a") as fh:
        fh.write(FRAGMENT)
    with pytest.warns(UserWarning, match="torn record"):
        w = store.RecordWriter(path)
    with w:
        w.append(_rec(1))
    assert path.read_text().endswith("\n") and len(path.read_text().splitlines()) == 2
    assert sorted(r["seed"] for r in store.load(tmp_path, "smoke")) == [0, 1]
    assert (path.parent / "records.jsonl.torn").read_text() == FRAGMENT + "\n"   # kept, not dropped


def test_resumed_run_after_a_torn_tail_loses_nothing(c2_records, tmp_path):
    d = _copy(c2_records, tmp_path / "r")
    path = store.records_path(d, "smoke")
    first = path.read_text().splitlines()[0]
    path.write_text(first + "\n" + FRAGMENT)
    proc = bench(*C2_RUN, "--results-dir", str(d))
    assert proc.returncode == 0, proc.stderr
    assert "1 runs finished" in proc.stdout and "Traceback" not in proc.stderr
    assert "records.jsonl.torn" in proc.stderr   # said, once, where the fragment went
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(line)["case"] == "c2" for line in lines)
    assert sorted(r["seed"] for r in store.load(d, "smoke")) == [0, 1]
    assert (path.parent / "records.jsonl.torn").read_text() == FRAGMENT + "\n"


# --- 2. a full disk ------------------------------------------------------------------

def _fail_writes_to(monkeypatch, name: str, after: int = 0, short: bool = False):
    """os.write to a file called ``name`` fails with ENOSPC after ``after`` good writes
    (``short``: writes half the bytes first, as a filling disk does)."""
    real, count = os.write, {"n": 0}

    def write(fd, data):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            target = ""
        if target.endswith(name):
            count["n"] += 1
            if count["n"] > after:
                if short:
                    return real(fd, bytes(data)[:len(data) // 2])
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data)

    monkeypatch.setattr(os, "write", write)


@pytest.mark.parametrize("short", [False, True])
def test_full_disk_on_append_is_one_sentence_and_keeps_earlier_records(tmp_path, monkeypatch, short):
    path = store.records_path(tmp_path, "smoke")
    with store.RecordWriter(path) as w:
        w.append(_rec(0))
    before = path.read_bytes()
    _fail_writes_to(monkeypatch, "records.jsonl", short=short)
    with store.RecordWriter(path) as w:
        with pytest.raises(StoreError, match=r"is full .*needs at least \d+ bytes") as exc:
            w.append(_rec(1))
    assert str(path.parent) in str(exc.value)
    assert path.read_bytes() == before   # no half-written record left to tear the next run


def test_full_disk_during_a_run_exits_with_one_sentence(tmp_path, monkeypatch, capsys):
    _fail_writes_to(monkeypatch, "records.jsonl", after=1)
    d = tmp_path / "r"
    assert main([*C2_RUN, "--group-size", "1", "--results-dir", str(d)]) == 2
    err = capsys.readouterr().err
    one_sentence(err)
    assert "is full" in err and str(d / "smoke") in err
    records = store.load(d, "smoke")
    assert [r["seed"] for r in records] == [0]   # the record written before the disk filled is intact


def _report_once(c2_records, d: Path) -> Path:
    shutil.copy(store.records_path(c2_records, "smoke"), d / "smoke" / "records.jsonl")
    return report.write(d, "smoke")


def test_full_disk_keeps_the_previous_report(c2_records, tmp_path, monkeypatch):
    (tmp_path / "smoke").mkdir()
    path = _report_once(c2_records, tmp_path)
    before = path.read_bytes()
    real = os.replace

    def full(src, dst):
        if str(dst).endswith("REPORT.md"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(StoreError, match="is full"):
        report.write(tmp_path, "smoke")
    assert path.read_bytes() == before and before
    assert not list((tmp_path / "smoke").glob(".*.tmp"))   # no temporary file left behind


def test_report_on_a_really_full_tmpfs(c2_records, tmp_path):
    with tmpfs(tmp_path / "fs", "2m") as fs:
        (fs / "smoke").mkdir()
        path = _report_once(c2_records, fs)
        before = path.read_bytes()
        with open(fs / "filler", "wb") as fh:   # fill the disk to the last byte
            with contextlib.suppress(OSError):
                while True:
                    fh.write(b"\0" * 65536)
                    fh.flush()
        proc = bench("report", "--profile", "smoke", "--results-dir", str(fs))
        assert proc.returncode == 2
        one_sentence(proc.stderr)
        assert "is full" in proc.stderr
        assert path.read_bytes() == before   # never a 0-byte REPORT.md
        assert not list((fs / "smoke").glob(".*.tmp"))


def test_run_on_a_really_full_tmpfs_keeps_earlier_records(c2_records, tmp_path):
    with tmpfs(tmp_path / "fs", "64k") as fs:
        d = fs / "r"
        (d / "smoke").mkdir(parents=True)
        one = store.records_path(c2_records, "smoke").read_text().splitlines()[0]
        # seed 0's record, repeated (the last wins) until the next record cannot fit in the file's page
        text = (one + "\n") * (4096 // (len(one) + 1))
        store.records_path(d, "smoke").write_text(text)
        with contextlib.suppress(OSError), open(fs / "filler", "wb") as fh:
            while True:
                fh.write(b"\0" * 512)
                fh.flush()
        proc = bench(*C2_RUN, "--group-size", "1", "--results-dir", str(d))
        assert proc.returncode == 2, proc.stderr
        one_sentence(proc.stderr)
        assert "full" in proc.stderr and str(d) in proc.stderr
        assert store.records_path(d, "smoke").read_text() == text


# --- 3. a SIGKILLed parent leaves no worker behind ------------------------------

def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in fh)
    except FileNotFoundError:
        return False


def test_workers_die_with_a_sigkilled_parent():
    script = """
        import os, sys, threading, time
        from multiprocessing import resource_tracker
        from bench.run import workers
        pool = workers.Pool(2)
        pids = pool.each(os.getpid)   # both workers are up and serving
        threading.Thread(target=lambda: list(pool.map(time.sleep, [(600,), (600,)])), daemon=True).start()
        time.sleep(1.0)               # both now hold a task
        tracker = resource_tracker._resource_tracker._pid
        print(" ".join(map(str, [*pids, *( [tracker] if tracker else [])])), flush=True)
        time.sleep(600)
    """
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT, stdout=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    pids = []
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) >= 2 and all(_alive(p) for p in pids[:2])
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and any(_alive(p) for p in pids):
            time.sleep(0.2)
        assert not [p for p in pids if _alive(p)], "processes outlived their SIGKILLed parent"
    finally:
        for pid in pids:
            with contextlib.suppress(OSError):
                if _alive(pid):
                    os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()


# --- 4. records of the wrong shape -------------------------------------------------

@pytest.mark.parametrize("line, says", [
    ('{"schema": 1, "case": "c2"}', "has no 'arm' key"),
    ("[1, 2, 3]", "is a JSON list"),
    (json.dumps({"schema": 1, **{k: v for k, v in _rec(1).items() if k not in ("metrics", "diverged")}}),
     "without a 'metrics' object"),
    (json.dumps({"schema": 1, **_rec(1, metrics={"min_val_mae": "five"})}), "'min_val_mae' = 'five'"),
    (json.dumps({"schema": 1, **{**_rec(1), "seed": "1"}}), "'seed' = '1'"),
    (json.dumps({"schema": 1, **_rec(1, profile="quick")}), "profile 'quick' filed under profile 'smoke'"),
])
def test_wrong_shape_names_the_line_and_key(tmp_path, line, says):
    path = store.records_path(tmp_path, "smoke")
    with store.RecordWriter(path) as w:
        w.append(_rec(0))
    with open(path, "a") as fh:
        fh.write(line + "\n")
    with pytest.raises(StoreError, match="records.jsonl:2 ") as exc:
        store.load(tmp_path, "smoke")
    assert says in str(exc.value)


@pytest.mark.parametrize("command", [["report", "--profile", "smoke"], C2_RUN])
def test_wrong_shape_is_one_sentence_for_report_and_run(tmp_path, command):
    path = store.records_path(tmp_path, "smoke")
    path.parent.mkdir(parents=True)
    path.write_text('{"schema": 1, "case": "c2"}\n[1, 2, 3]\n')
    proc = bench(*command, "--results-dir", str(tmp_path))
    assert proc.returncode == 2
    one_sentence(proc.stderr)
    assert "records.jsonl:1 has no 'arm' key" in proc.stderr


# --- 5. a read-only results directory --------------------------------------------

@contextlib.contextmanager
def read_only(src: Path, tmp_path: Path):
    """A read-only copy of ``src``: a permission bit for a normal user, a read-only mount for root."""
    if os.geteuid() != 0:
        d = _copy(src, tmp_path / "ro")
        for p in [d, *d.rglob("*")]:
            p.chmod(0o555 if p.is_dir() else 0o444)
        try:
            yield d
        finally:
            for p in [d, *d.rglob("*")]:
                p.chmod(0o755 if p.is_dir() else 0o644)
        return
    with tmpfs(tmp_path / "ro", "4m") as fs:
        shutil.copytree(src, fs, dirs_exist_ok=True)
        if subprocess.run(["mount", "-o", "remount,ro", str(fs)], capture_output=True).returncode:
            pytest.skip("cannot remount read-only")
        yield fs


def test_report_on_a_read_only_results_dir(c2_records, tmp_path):
    with read_only(c2_records, tmp_path) as d:
        proc = bench("report", "--profile", "smoke", "--results-dir", str(d))
    assert proc.returncode == 2
    one_sentence(proc.stderr)
    assert "cannot write" in proc.stderr


def test_atomic_write_failure_keeps_the_old_file(tmp_path, monkeypatch):
    from bench.records import atomic

    target = tmp_path / "claims.csv"
    target.write_text("old\n")

    def boom(path):
        Path(path).write_text("half")
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    with pytest.raises(StoreError, match="cannot write .*claims.csv"):
        atomic.write_with(target, boom)
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["claims.csv"]


# --- 7. two runs on one results directory -----------------------------------------

def test_a_second_run_on_a_locked_directory_says_who_holds_it(tmp_path):
    from bench.records import lock

    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import time
        from bench.records import lock
        with lock.hold({str(tmp_path / 'smoke')!r}):
            print("held", flush=True)
            time.sleep(120)
    """)], cwd=ROOT, stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout.readline().strip() == "held"
        proc = bench(*C2_RUN, "--results-dir", str(tmp_path))
        assert proc.returncode == 2
        one_sentence(proc.stderr)
        assert f"pid {holder.pid}" in proc.stderr and "in use" in proc.stderr
        assert not store.records_path(tmp_path, "smoke").exists()   # it did no work
        holder.send_signal(signal.SIGKILL)   # the kernel drops the lock with its holder
        holder.wait(timeout=30)
        with lock.hold(tmp_path / "smoke"):
            pass
    finally:
        if holder.poll() is None:
            holder.kill()


def test_lock_is_exclusive_within_one_host(tmp_path):
    from bench.records import lock

    with lock.hold(tmp_path):
        with pytest.raises(lock.LockedError, match=f"pid {os.getpid()}"):
            with lock.hold(tmp_path):
                pass
    with lock.hold(tmp_path):   # released on leaving the block
        pass


# --- 8. bad baselines ------------------------------------------------------------------

def _c1_records(profile="smoke"):
    current = identity.spec_hash(registry.get("c1"), "smoke")
    return [{"case": "c1", "arm": arm, "framework": "torch", "mode": "as_written", "seed": s, "profile": profile,
             "status": "ok", "diverged": False, "spec_hash": current,
             "metrics": {"test_accuracy": 0.9 - (0.1 if arm == "both" else 0) + 0.01 * s, "test_loss": 0.3,
                         "train_loss": 0.2},
             "env": {"device": "cpu", "cpu": "X [0]", "bench": "t"}}
            for arm in ("none", "dropout", "l2", "both") for s in (0, 1, 2)]


def _records_dir(tmp_path, records, folder="smoke"):
    with store.RecordWriter(store.records_path(tmp_path / "run", folder)) as w:
        for r in records:
            w.append(r)
    return tmp_path / "run"


def _baseline_file(tmp_path, mutate) -> Path:
    data = json.loads(json.dumps(baseline.build(_c1_records(), "smoke")))
    mutate(data)
    path = tmp_path / "smoke.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize("mutate, says", [
    (lambda b: b["cases"]["c1"].update(groups=[]), "no groups at cases.c1.groups"),
    (lambda b: b["cases"]["c1"].update(groups={}), "no groups at cases.c1.groups"),
    (lambda b: b.update(cases={}), "has no cases"),
    (lambda b: b["cases"]["c1"]["groups"]["none/torch/as_written"]["metrics"]["test_accuracy"].update({"0": "x"}),
     "cases.c1.groups.none/torch/as_written.metrics.test_accuracy.0 = 'x'"),
    (lambda b: b["cases"]["c1"]["groups"]["none/torch/as_written"].update(diverged=[False]),
     "cases.c1.groups.none/torch/as_written.diverged"),
])
def test_bad_baseline_is_one_sentence_naming_the_key(tmp_path, capsys, mutate, says):
    path = _baseline_file(tmp_path, mutate)
    run = _records_dir(tmp_path, _c1_records())
    assert main(["check", "--profile", "smoke", "--results-dir", str(run), "--baseline", str(path)]) == 2
    err = capsys.readouterr().err
    one_sentence(err)
    assert says in err


def test_a_group_missing_from_the_baseline_fails_the_check(tmp_path):
    path = _baseline_file(tmp_path, lambda b: b["cases"]["c1"]["groups"].pop("l2/torch/as_written"))
    rows = check.run(_records_dir(tmp_path, _c1_records()), "smoke", path)
    failed = [r for r in rows if r.failed]
    assert any(r.item == "l2/torch/as_written" and "not in the baseline" in r.hint for r in failed)


def test_records_of_another_profile_are_refused(tmp_path, capsys):
    run = _records_dir(tmp_path, _c1_records(profile="quick"), folder="smoke")
    for command in (["baseline", "--baseline", str(tmp_path / "b.json")], ["report"]):
        assert main([command[0], "--profile", "smoke", "--results-dir", str(run), *command[1:]]) == 2
        err = capsys.readouterr().err
        one_sentence(err)
        assert "profile 'quick' filed under profile 'smoke'" in err
    assert not (tmp_path / "b.json").exists()


# --- 6. spec errors say where; a broken suite does not stop the others ----------

GOOD_IMPORTS = "from bench.spec import Arm, Case, Data, Dense, Dropout, Loss, Metric, Optimizer, Profile\n"


def _suite(case_id: str, layer: str = "Dropout(0.5)", metric: str = '"min_val_mae"', dataset: str = '"concrete"'):
    return GOOD_IMPORTS + textwrap.dedent(f"""
        CASES = [Case(id="{case_id}", title="t", source="s", input_shape=(8,),
                      data=Data({dataset}, batch_size=64, epochs=1), loss=Loss("mae"),
                      optimizer=Optimizer("sgd", lr=0.01),
                      arms=(Arm("plain", (Dense(4, "relu"), Dense(1))),
                            Arm("drop", (Dense(4, "relu"), {layer}, Dense(1)))),
                      metrics=(Metric({metric}, higher_is_better=False),),
                      claims=(), profiles={{"smoke": Profile(seeds=2)}})]
    """)


@pytest.fixture
def extra_suites(tmp_path, monkeypatch):
    """Add suite files (name -> source) beside the real ones for this test."""
    added = []

    def add(files: dict) -> Path:
        for name, text in files.items():
            (tmp_path / f"{name}.py").write_text(text)
            added.append(f"suites.{name}")
        return tmp_path

    monkeypatch.setattr(suites, "__path__", [*suites.__path__, str(tmp_path)])
    yield add
    for name in added:
        sys.modules.pop(name, None)


@pytest.mark.parametrize("kwargs, says", [
    ({"layer": "Dropout(1.5)"}, "case 'zbad', arm 'drop', layer 1 (Dropout): Dropout rate (field 'rate')"),
    ({"layer": 'Dropout("0.5")'}, "case 'zbad', arm 'drop', layer 1 (Dropout), field 'rate': must be float"),
    ({"metric": '"val_r2"'}, "metric 'val_r2' is not one this case can produce"),
    ({"dataset": '"imagenet"'}, "data, field 'dataset': unknown dataset 'imagenet'"),
])
def test_spec_errors_name_file_case_arm_layer_and_field(extra_suites, capsys, tmp_path, kwargs, says):
    extra_suites({"zz_bad": _suite("zbad", **kwargs)})
    cases, broken = registry.scan()
    assert "c2" in cases and "zbad" not in cases   # the other cases still load
    (b,) = broken
    assert b.error.startswith("suites/zz_bad.py: ") and says in b.error, b.error
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "c2: " in out and f"zbad: BROKEN: suites/zz_bad.py" in out
    assert main(["run", "--case", "zbad", "--profile", "smoke", "--results-dir", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    one_sentence(err)
    assert says in err
    assert registry.get("c2").id == "c2"


def test_an_unimportable_suite_file_is_listed_as_broken(extra_suites, capsys):
    extra_suites({"zz_syntax": "CASES = [\n", "zz_good": _suite("zgood")})
    cases, broken = registry.scan()
    assert "zgood" in cases and "c1" in cases
    assert [b.file for b in broken] == ["suites/zz_syntax.py"] and "SyntaxError" in broken[0].error
    assert main(["list"]) == 0
    assert "suites/zz_syntax.py: BROKEN" in capsys.readouterr().out


def test_a_suites_package_without_the_dataset_catalogue_is_one_sentence(monkeypatch, capsys):
    monkeypatch.delattr(suites, "DATASETS")
    with pytest.raises(SpecError, match="suites names no DATASETS"):
        registry.scan()
    assert main(["list"]) == 2
    one_sentence(capsys.readouterr().err)


def test_a_broken_case_is_refused_before_any_framework_import(tmp_path):
    pkg = tmp_path / "suites"
    shutil.copytree(ROOT / "suites", pkg, ignore=shutil.ignore_patterns("__pycache__"))
    (pkg / "zz_bad.py").write_text(_suite("zbad", layer='Dropout("0.5")'))
    proc = python("""
        import sys
        from bench.cli import main
        rc = main(["run", "--case", "zbad", "--profile", "smoke", "--results-dir", sys.argv[1] if len(sys.argv) > 1 else "/nonexistent"])
        print([m for m in ("tensorflow", "torch", "keras") if m in sys.modules])
        sys.exit(rc)
    """, env={"PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}, cwd=tmp_path, capture_output=True,
                  text=True)
    assert proc.returncode == 2 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr
    one_sentence(proc.stderr)
    assert "suites/zz_bad.py" in proc.stderr and "field 'rate'" in proc.stderr


# --- 9. arguments and data before any framework; quiet frameworks --------------

@pytest.mark.parametrize("argv, says", [
    (["--framework", "jax"], "unknown framework 'jax'"),
    (["--mode", "fair"], "unknown mode 'fair'"),
    (["--seeds", "0"], "--seeds must be >= 1"),
    (["--arm", "nope"], "no arm 'nope'"),
    (["--data-dir", "BAD"], "concrete"),
])
def test_bad_arguments_and_data_are_refused_before_any_framework_import(tmp_path, argv, says):
    bad = tmp_path / "data"
    bad.mkdir()
    (bad / "concrete.csv").write_text("not,a\nconcrete,file\n")
    argv = [str(bad) if a == "BAD" else a for a in argv]
    proc = python(f"""
        import sys
        from bench.cli import main
        rc = main({["run", "--case", "c2", "--profile", "smoke", "--results-dir", str(tmp_path / "r"), *argv]!r})
        print([m for m in ("tensorflow", "torch", "keras") if m in sys.modules])
        sys.exit(rc)
    """, capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr
    one_sentence(proc.stderr)
    assert says in proc.stderr


def test_framework_logging_is_quiet_in_the_parent_and_in_workers():
    script = """
        from bench import backends
        from bench.run import workers
        from bench.backends import quiet
        quiet.configure(verbose=False)
        backends.load("tf")                                   # the parent's import, as a run does it
        backends.gpu_visible()                                # asks CUDA: 'failed call to cuInit' on a CPU
        with workers.Pool(1) as pool:                         # a spawned worker: the same two steps
            list(pool.map(backends.load, [("tf",)]))           # (the module itself does not pickle back)
            list(pool.map(backends.gpu_visible, [()]))
        print("done", flush=True)
    """
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "BENCH_FRAMEWORK_LOGS")}
    env["PYTHONPATH"] = str(ROOT)
    quiet = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT, capture_output=True,
                           text=True, timeout=240, env=env)
    assert quiet.returncode == 0 and quiet.stdout.strip() == "done", quiet.stderr
    assert quiet.stderr == "", quiet.stderr   # unquieted, TF 2.21 prints about ten lines here on a CPU


def test_version():
    proc = bench("--version")
    assert proc.returncode == 0 and proc.stdout.startswith("bench 0.") and proc.stderr == ""


def test_quiet_keeps_only_errors_warnings_and_failures(capsys):
    from bench import cli

    with cli._notes(True):
        print("bench: training groups in 2 worker processes", file=sys.stderr)
        print("  failed: c2/plain/torch/as_written seed 0: RuntimeError: boom", file=sys.stderr)
        sys.stderr.write("bench: warning: a torn rec")
        sys.stderr.write("ord was moved\n")
    assert capsys.readouterr().err == ("  failed: c2/plain/torch/as_written seed 0: RuntimeError: boom\n"
                                       "bench: warning: a torn record was moved\n")
