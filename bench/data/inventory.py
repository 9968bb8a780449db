"""``bench data``: each dataset the suite uses, where it was found and whether it verifies.

Each dataset is looked up exactly as a run would (``bench.data.load``: the data
dir, Debian's folder for Fashion-MNIST, the Keras cache, the project cache) and
verified by its loader's checksums. With ``fetch`` a missing one is downloaded
and verified into the project cache, which is what ``make install`` does.
"""
from __future__ import annotations

from dataclasses import dataclass

from bench.data import catalog
from bench.errors import DataError


@dataclass(frozen=True)
class Entry:
    name: str
    used_by: str
    found: str      # the path loaded from, or "" when none
    status: str     # "verified", "missing" or "fails verification"
    detail: str = ""


def _used_by() -> dict:
    from bench.spec import registry

    out: dict = {}
    for case in registry.discover().values():
        out.setdefault(case.data.dataset, []).append(case.id)
    return out


def check(data_dir=None, fetch: bool = False) -> list[Entry]:
    """One ``Entry`` per dataset of ``catalog.LOADERS``."""
    from bench.data import sources

    sources.given_dir(data_dir)   # a named data dir that is not one is one sentence, not N "missing" rows
    users = _used_by()
    out = []
    for name in catalog.LOADERS:
        used = ", ".join(sorted(users.get(name, []))) or "—"
        try:
            ds = catalog.load(name, data_dir, download=fetch)
            out.append(Entry(name, used, ds.source, "verified"))
        except DataError as exc:
            text = str(exc)
            missing = "was not found" in text
            out.append(Entry(name, used, "", "missing" if missing else "fails verification", text))
    return out


def render(entries: list[Entry]) -> str:
    from tabulate import tabulate

    rows = [{"dataset": e.name, "cases": e.used_by, "status": e.status, "found at": e.found or "—"}
            for e in entries]
    lines = [tabulate(rows, headers="keys", tablefmt="simple")]
    lines += [f"{e.name}: {e.detail}" for e in entries if e.detail]
    return "\n".join(lines)
