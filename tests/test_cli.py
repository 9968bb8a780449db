"""Bad input at the command line: one sentence on stderr, exit status 2, no traceback."""
import pytest

from bench.cli import main


@pytest.mark.parametrize("argv, message", [
    (["run", "--case", "c99", "--profile", "smoke"], "unknown case 'c99'"),
    (["run", "--case", "c1", "--arm", "nope", "--profile", "smoke"], "no arm 'nope'"),
    (["run", "--case", "c1", "--framework", "jax", "--profile", "smoke"], "unknown framework 'jax'"),
    (["run", "--case", "c1", "--mode", "fair", "--profile", "smoke"], "unknown mode 'fair'"),
    (["run", "--case", "c1", "--seeds", "0", "--profile", "smoke"], "--seeds must be >= 1"),
])
def test_bad_run_arguments(argv, message, capsys, tmp_path):
    assert main([*argv, "--results-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_unknown_profile_is_rejected_by_the_parser(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "--profile", "huge"])
    assert exc.value.code == 2 and "invalid choice: 'huge'" in capsys.readouterr().err


def test_unwritable_results_dir(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    argv = ["run", "--case", "c1", "--profile", "smoke", "--framework", "torch", "--arm", "none",
            "--seeds", "1", "--results-dir", str(blocker), "--no-progress"]
    assert main(argv) == 2
    assert "cannot write results" in capsys.readouterr().err


def test_bad_data_dir(capsys, tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"this is not an npz file")
    argv = ["run", "--case", "c1", "--profile", "smoke", "--framework", "torch", "--arm", "none",
            "--seeds", "1", "--results-dir", str(tmp_path / "r"), "--data-dir", str(tmp_path), "--no-progress"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "mnist.npz" in err and "Traceback" not in err


def test_report_without_records(capsys, tmp_path):
    assert main(["report", "--profile", "smoke", "--results-dir", str(tmp_path)]) == 2
    assert "no records" in capsys.readouterr().err


def test_list_shows_the_c1_claims(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert all(c in out for c in ("c1a", "c1b", "c1c", "c1d"))


@pytest.mark.parametrize("argv, message", [
    (["speed", "--epochs", "0"], "--epochs must be >= 1"),
    (["speed", "--loops", "foo"], "unknown loop(s) ['foo']"),
    (["speed", "--group-sizes", "4,0"], "--group-size must be"),
    (["run", "--case", "c1", "--group-size", "none"], "--group-size must be"),
])
def test_bad_speed_arguments(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
