"""A run's options travel as one frozen RunOptions, built once by the command line."""
import dataclasses

import pytest

from bench.cli import main
from bench.run import adaptive, runner
from bench.run.grouping import GroupSize
from bench.run.options import AdaptiveOptions, RunOptions
from bench.spec import registry

C1 = registry.get("c1")


def test_options_are_one_frozen_value():
    options = RunOptions([C1], "smoke", frameworks=["torch"], arm_names=["none"])
    assert options.cases == (C1,) and options.frameworks == ("torch",) and options.arm_names == ("none",)
    assert options.group_size is GroupSize.AUTO and options.adaptive is None and options.workers == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.seeds = 3
    assert dataclasses.replace(options, seeds=3).seeds == 3 and options.seeds is None
    assert RunOptions([C1], "smoke").frameworks == tuple(runner.DEFAULT_FRAMEWORKS)
    assert RunOptions([C1], "smoke", arm_names=[]).arm_names is None   # no arms named: every arm


def test_a_group_size_is_never_a_bare_number():
    """1 meant the per-seed path and None meant auto; now each is named."""
    with pytest.raises(TypeError, match="GroupSize"):
        RunOptions([C1], "smoke", group_size=1)


def _captured(monkeypatch, module, argv, tmp_path):
    seen = []

    def capture(options):
        seen.append(options)
        return runner.Summary() if module is runner else adaptive.Outcome()

    monkeypatch.setattr(module, "run", capture)
    assert main(["-q", "run", "--case", "c1", "--profile", "smoke", "--framework", "torch",
                 "--results-dir", str(tmp_path), *argv]) == 0
    (options,) = seen
    return options


def test_the_command_line_builds_the_options_once(monkeypatch, tmp_path):
    options = _captured(monkeypatch, runner, ["--arm", "none,l2", "--seeds", "2:4", "--group-size", "1",
                                              "--workers", "2", "--no-progress"], tmp_path)
    assert (options.cases, options.profile, options.frameworks, options.modes) == ((C1,), "smoke", ("torch",),
                                                                                  ("as_written",))
    assert options.arm_names == ("none", "l2") and options.seeds == range(2, 4)
    assert options.group_size is GroupSize.PER_SEED and options.workers == 2
    assert options.executor is None and not options.progress and options.adaptive is None
    assert options.results_dir == str(tmp_path)
    assert _captured(monkeypatch, runner, ["--group-size", "6", "--workers", "1"],
                     tmp_path).group_size == GroupSize.fixed(6)


def test_the_command_line_passes_the_adaptive_settings(monkeypatch, tmp_path):
    options = _captured(monkeypatch, adaptive, ["--adaptive", "--max-seeds", "12", "--batch", "4",
                                                "--workers", "1"], tmp_path)
    assert options.adaptive == AdaptiveOptions(max_seeds=12, batch=4)
