"""``bench speed --case c4``: the work count, and the table's arithmetic (timings faked: the
test checks what is computed from them, never how fast anything runs)."""
import pytest

from bench import cli
from bench.spec import registry
from bench.speed import conv, flops


def test_c4_work_is_counted_by_hand():
    case = registry.get("c4")
    forward = flops.forward_flops(case.arm("fc").layers, case.input_shape)
    # conv 26x26x32 of 3x3x1, conv 11x11x64 of 3x3x32, dense 1600->128, dense 128->10; 2 FLOPs a multiply-add
    assert forward == [2 * 26 * 26 * 9 * 32, 2 * 11 * 11 * 9 * 32 * 64, 2 * 1600 * 128, 2 * 128 * 10]
    # forward + weight gradient + input gradient, no input gradient for the first conv
    assert flops.training_flops(case.arm("fc").layers, case.input_shape) == 3 * sum(forward) - forward[0]
    assert 1.97e9 < 128 * flops.training_flops(case.arm("fc").layers, case.input_shape) < 1.972e9


def test_c1_work_matches_the_c1_speed_table():
    case = registry.get("c1")
    per_example = flops.training_flops(case.arm("both").layers, case.input_shape)
    assert per_example == 6 * 244032 - 2 * 784 * 256   # bench/speed/measure.py: 1.07 M per example


def test_rows_difference_two_lengths_and_divide_by_the_group(monkeypatch):
    calls = []

    def suite(loop, size, steps, data_dir):   # 3 s fixed, then 0.05 s per step per seed
        calls.append((loop, size, steps))
        return 3.0 + 0.05 * steps * size, 0.5

    monkeypatch.setattr(conv, "_suite_seconds", suite)
    monkeypatch.setattr(conv.backends, "peak_matmul_flops", lambda n: 1e11)
    rows, peak, step = conv.measure(["torch"], steps=40, group_sizes=(1, 4), repeats=2)
    assert peak == 1e11 and step == pytest.approx(128 * 15396864)
    assert [(r["S"], r["path"]) for r in rows] == [(1, "per-seed"), (4, "vectorized")]
    for row in rows:
        assert row["ms/seed-step best"] == pytest.approx(50.0) == row["ms/seed-step median"]
        assert row["% of peak"] == pytest.approx(100 * step / 0.05 / 1e11)
    # an untimed warm-up of each, then interleaved repetitions, the second in reverse order
    assert calls == [("torch", 1, 10), ("torch", 4, 10),
                     ("torch", 1, 10), ("torch", 1, 40), ("torch", 4, 10), ("torch", 4, 40),
                     ("torch", 4, 10), ("torch", 4, 40), ("torch", 1, 10), ("torch", 1, 40)]


@pytest.mark.parametrize("argv, message", [
    (["speed", "--case", "c4", "--loops", "post_tf"], "unknown loop(s) ['post_tf'] for c4"),
    (["speed", "--case", "c4", "--steps", "2"], "--steps must be >= 4"),
])
def test_bad_conv_speed_arguments_are_one_sentence(argv, message, capsys):
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err
