"""The run's progress bar: seed-steps weighted by what each one costs, so that its ETA holds.

On a CPU, a seed-step of C4's CNN costs about 25 times one of C5a's MLP. A bar that counts
plain seed-steps races through the cheap cases, then crawls, and its ETA swings by hours
(a whole ``make bench`` showed 10 h, 4 h and 6 h within one minute). ``Progress`` counts
each seed-step at the plan's seconds per seed-step for its case and framework
(``bench.run.plan``; every step weighs 1 where a run has no plan). Its percentage is of
the planned work, its ETA is the time so far scaled by the planned work left over the
planned work done, and the plain seed-step counts stand beside it.

The runner feeds it per job: ``add(job, steps)`` when steps are planned (or trained again),
``advance(job, steps)`` as they train. ``for_job(job)`` is the bar one group's training sees.
"""
from __future__ import annotations

from typing import Mapping, Optional

BAR_FORMAT = "{l_bar}{bar}| [{elapsed}<{remaining}]{postfix}"


def _count(n: float) -> str:
    for div, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if n >= div:
            return f"{n / div:.3g}{suffix}"
    return f"{n:.0f}"


class Progress:
    """Weighted progress over a ``tqdm``-like ``bar`` (``update``, ``total``, ``write``,
    ``set_postfix_str(text, refresh=)``, ``refresh``, ``close``); ``step_seconds`` maps (case id,
    framework) to the plan's seconds per seed-step."""

    def __init__(self, bar, step_seconds: Optional[Mapping] = None):
        self.bar = bar
        self.rates = dict(step_seconds or {})
        self.steps = 0
        self.total_steps = 0
        self.label = ""
        bar.total = 0

    def weight(self, job) -> float:
        return self.rates.get((job.case.id, job.framework), 1.0) if self.rates else 1

    def add(self, job, steps: int) -> None:
        """``steps`` more seed-steps of ``job`` to train (planned, or trained again after a crash)."""
        self.total_steps += steps
        self.bar.total += steps * self.weight(job)
        self._show(refresh=False)   # planning adds every group at once: one redraw per group floods a log

    def advance(self, job, steps: int) -> None:
        self.steps += steps
        self._show(refresh=False)   # the update below redraws the line, at tqdm's own pace
        # Sums of float weights drift by rounding: never past the total (tqdm warns, and shows a negative ETA).
        self.bar.update(max(0, min(steps * self.weight(job), self.bar.total - self.bar.n)) if self.rates
                        else steps)

    def label_with(self, text: str) -> None:
        self.label = text
        self._show()

    def write(self, line: str, file=None) -> None:
        self.bar.write(line, file=file)

    def close(self) -> None:
        self.bar.close()

    def for_job(self, job) -> "JobBar":
        return JobBar(self, job)

    def _show(self, refresh: bool = True) -> None:
        counts = f"{_count(self.steps)}/{_count(self.total_steps)} seed-steps"
        self.bar.set_postfix_str(f"{counts} {self.label}" if self.label else counts, refresh=refresh)


class JobBar:
    """The bar as one job's training sees it: counts in that job's seed-steps."""

    def __init__(self, progress: Progress, job):
        self.progress, self.job = progress, job

    def update(self, n: int) -> None:
        self.progress.advance(self.job, n)

    def retrain(self, n: int) -> None:
        self.progress.add(self.job, n)

    def set_postfix_str(self, text: str) -> None:
        self.progress.label_with(text)

    def write(self, line: str, file=None) -> None:
        self.progress.write(line, file=file)


def bar(enabled: bool):
    """The terminal bar: percentage of planned work, elapsed<remaining, then the counts.
    ``smoothing=0``: the rate is the whole run's average, not the last few updates'."""
    from tqdm import tqdm

    return tqdm(total=0, disable=not enabled, dynamic_ncols=True, smoothing=0, bar_format=BAR_FORMAT)
