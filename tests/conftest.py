"""Point the suite at the local data copy when none is configured (see README: local data)."""
import os
from pathlib import Path

_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
if not os.environ.get("BENCH_DATA_DIR") and _SHARED.is_dir():
    os.environ["BENCH_DATA_DIR"] = str(_SHARED)
