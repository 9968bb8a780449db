"""Reports and publications land whole or not at all: a real SIGINT or SIGTERM in the middle of
`bench publish` / `bench report` leaves the folder as it was, says so in one sentence and exits 130;
temporary files of writers that died are swept by the next writer."""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bench.records import atomic, identity, scratch, staging, store
from bench.spec import registry

ROOT = Path(__file__).resolve().parents[1]
CLEAN = "a" * 40
HASH = identity.spec_hash(registry.get("c1"), "smoke")

# `python -m bench ARGS` whose plots each take a minute once the first is written (the file
# MARK says so): the test interrupts it there, in the middle of writing the report.
SLOW = textwrap.dedent("""
    import os, sys, time
    from bench.publish import plots
    from bench.host import environment
    environment.git_state = lambda: ("%s", False)   # publish refuses a modified checkout
    original = plots._save
    def slow(fig, out_dir, name):
        path = original(fig, out_dir, name)
        open(os.environ["MARK"], "a").close()
        time.sleep(60)
        return path
    plots._save = slow
    from bench.cli import main
    sys.exit(main(sys.argv[1:]))
""" % CLEAN)


def _records(seeds=(0, 1)):
    out = []
    for fw in ("tf", "torch"):
        for arm in ("none", "dropout", "l2", "both"):
            for seed in seeds:
                acc = 0.9 - (0.1 if arm == "both" else 0.0) + 0.01 * seed
                out.append({"case": "c1", "arm": arm, "framework": fw, "mode": "as_written", "seed": seed,
                            "profile": "smoke", "status": "ok", "diverged": False, "spec_hash": HASH,
                            "metrics": {"test_accuracy": acc, "test_loss": 0.3, "train_loss": 0.2},
                            "group": {"size": len(seeds), "seeds": list(seeds), "path": "vectorized"},
                            "timing": {"wall_s": 1.0}, "planned_steps": 16, "steps": 16,
                            "curve": {"step": [16], "train_loss": [0.2], "test_accuracy": [acc]},
                            "budget": {"epochs": 1, "batch_size": 128},
                            "env": {"device": "cpu", "cpu": "Xeon [0123abcd]", "threads": 2, "commit": CLEAN,
                                    "dirty": False, "torch": "2.13.0"}})
    return out


def _write(directory: Path, records) -> Path:
    with store.RecordWriter(store.records_path(directory, "smoke")) as w:
        for r in records:
            w.append(r)
    return directory


def _snapshot(directory: Path) -> dict:
    """Every file under ``directory`` (hidden ones too) with its bytes."""
    return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def _sigint_as_at_a_terminal():
    """A shell that starts a job in the background makes it ignore SIGINT, and a Python started
    so installs no KeyboardInterrupt handler: the child gets SIGINT's default back, as from an
    interactive shell, so this test does not depend on how the test run itself was started."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupt(argv, tmp_path, signum) -> subprocess.CompletedProcess:
    mark = tmp_path / "first-plot-written"
    env = {**os.environ, "MARK": str(mark), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", SLOW, *argv], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_sigint_as_at_a_terminal)
    try:
        deadline = time.monotonic() + 180
        while not mark.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert mark.exists(), proc.communicate()[1]
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _one_interrupt_sentence(proc) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr and len(lines) == 1 and lines[0].startswith("bench: interrupted;"), \
        proc.stderr
    return lines[0]


def test_an_interrupted_publish_leaves_the_published_folder_as_it_was(tmp_path):
    dest = _write(tmp_path / "results", _records(seeds=(0, 1)))
    (dest / "smoke" / "REPORT.md").write_text("the previous report\n")
    before = _snapshot(dest)
    run = _write(tmp_path / "run", _records(seeds=(2, 3)))
    proc = _interrupt(["publish", "--profile", "smoke", "--from", str(run), "--to", str(dest)], tmp_path,
                      signal.SIGINT)
    line = _one_interrupt_sentence(proc)
    assert f"{dest / 'smoke'} is as it was before" in line
    assert _snapshot(dest) == before   # the old records and report, and no staging folder or temporary file


def test_an_interrupted_report_keeps_the_previous_report_whole(tmp_path):
    results = _write(tmp_path / "runs", _records())
    for name in ("REPORT.md", "REPORT.html", "claims.csv"):
        (results / "smoke" / name).write_text(f"previous {name}\n")
    before = _snapshot(results)
    proc = _interrupt(["report", "--profile", "smoke", "--html", "--results-dir", str(results)], tmp_path,
                      signal.SIGTERM)
    _one_interrupt_sentence(proc)
    assert _snapshot(results) == before   # no new plot, table or page beside the old report


def test_staged_files_replace_their_namesakes_and_keep_the_others(tmp_path):
    folder = tmp_path / "smoke"
    folder.mkdir()
    (folder / "records.jsonl").write_text("kept\n")
    (folder / "REPORT.md").write_text("old\n")
    with staging.stage(folder) as into:
        (into / "REPORT.md").write_text("new\n")
        assert (folder / "REPORT.md").read_text() == "old\n"   # nothing moves before the block ends
    assert (folder / "REPORT.md").read_text() == "new\n" and (folder / "records.jsonl").read_text() == "kept\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["smoke"]   # the staging folder is gone
    with pytest.raises(RuntimeError):
        with staging.stage(folder) as into:
            (into / "REPORT.md").write_text("half\n")
            raise RuntimeError("a failure while writing")
    assert (folder / "REPORT.md").read_text() == "new\n" and sorted(p.name for p in tmp_path.iterdir()) == ["smoke"]


# --- temporary files of dead writers ------------------------------------------------

def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_the_next_write_sweeps_temporary_files_of_dead_writers(tmp_path):
    folder = tmp_path / "smoke"
    folder.mkdir()
    dead = _dead_pid()
    stale = [folder / f".REPORT.html.{scratch.host()}~{dead}.k2j4h5g6.tmp",
             folder / f".c2_curves.png.{scratch.host()}~{dead}.a1b2c3d4.tmp",
             tmp_path / f".smoke.{scratch.host()}~{dead}.q9w8e7r6.staging"]
    old_untagged = folder / ".claims.csv.ab12cd34.tmp"   # a writer of the untagged form, two hours ago
    live = [folder / f".REPORT.md.{scratch.host()}~{os.getpid()}.zzzzzzzz.tmp",   # this process: alive
            folder / ".claims.csv.ef56gh78.tmp",                                      # untagged and recent
            folder / f".notes.txt.otherhost~{dead}.yyyyyyyy.tmp"]                    # another host's, recent
    for path in [*stale, old_untagged, *live]:
        if path.suffix == ".staging":
            (path / "smoke").mkdir(parents=True)
            (path / "smoke" / "REPORT.md").write_text("half")
        else:
            path.write_bytes(b"x" * 1000)
    two_hours_ago = time.time() - 7200
    os.utime(old_untagged, (two_hours_ago, two_hours_ago))
    with staging.stage(folder) as into:   # what `bench report` and `bench publish` do
        atomic.write_text(into / "REPORT.md", "new")
    assert not [p for p in [*stale, old_untagged] if p.exists()]
    assert all(p.exists() for p in live)
    assert (folder / "REPORT.md").read_text() == "new"
    another = folder / f".c2_forest.png.{scratch.host()}~{dead}.abcdefgh.tmp"
    another.write_bytes(b"x")
    atomic.write_text(folder / "baseline.json", "{}")   # any atomic write sweeps its own directory
    assert not another.exists() and all(p.exists() for p in live)
