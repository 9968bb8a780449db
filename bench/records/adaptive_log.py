"""Reading ``adaptive.json``, the log ``bench run --adaptive`` leaves beside its records, checked like records.

``read`` returns the log, or None when there is none; a file that is not
JSON, or whose fields do not have the shape ``bench.run.adaptive`` writes, is
one ``StoreError`` that names the file and the field, never a traceback from
deep inside the report.
"""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Optional

from bench.errors import StoreError

FILE = "adaptive.json"


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _count(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _strings(v) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


LOOK = {"seeds": _count, "fraction": _number, "spent": _number, "alpha": _number, "decided": _strings}


def problem(log) -> Optional[str]:
    """What is wrong with the shape of a parsed log, in words; None when nothing is."""
    if not isinstance(log, dict):
        return f"holds a JSON {type(log).__name__}, not an object"
    for key, ok, want in (("procedure", lambda v: isinstance(v, str), "a text"),
                          ("outcome", lambda v: isinstance(v, str), "a text"),
                          ("max_seeds", _count, "a whole number"),
                          ("looks", lambda v: isinstance(v, list), "a list"),
                          ("decisions", lambda v: isinstance(v, dict), "an object"),
                          ("undecided", _strings, "a list of claim keys")):
        if key not in log:
            return f"has no {key!r} field"
        if not ok(log[key]):
            return f"has {key!r} = {json.dumps(log[key])[:60]}, not {want}"
    for i, look in enumerate(log["looks"], 1):
        if not isinstance(look, dict):
            return f"has look {i} that is not an object"
        for key, ok in LOOK.items():
            if key not in look or not ok(look[key]):
                return f"has look {i} without a valid {key!r}"
    for key, d in log["decisions"].items():
        if not isinstance(d, dict) or not isinstance(d.get("verdict"), str) or not _count(d.get("seeds")):
            return f"has decision {key!r} without a 'verdict' text and a 'seeds' count"
    return None


def read(out_dir) -> Optional[dict]:
    """The adaptive log in ``out_dir`` (a profile's results folder), checked; None when absent."""
    path = Path(out_dir) / FILE
    if not path.exists():
        return None
    hint = "delete it (the report then shows the fixed-n verdicts) or rerun `bench run --adaptive`"
    try:
        log = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise StoreError(f"{path} is not readable JSON ({exc}); {hint}.") from exc
    why = problem(log)
    if why:
        raise StoreError(f"{path} {why}; {hint}.")
    return log
