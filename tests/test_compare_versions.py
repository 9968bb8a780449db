"""bench compare reads the settings that decide a seed-run's bits from the records' env, not from
the backends installed here: a library only the records name is still named when it differs."""
from test_compare import _by, _loaded, _records

from bench.publish import compare


def _with(records, **versions):
    return [{**r, "env": {**r["env"], **versions}} for r in records]


def test_a_library_the_backends_do_not_name_is_named_when_it_differs():
    old = _with(_records(), somelib="1.0")
    same = compare.compare(_loaded(old), _loaded(_with(_records(), somelib="1.0")), "smoke")
    assert [r.result for r in _by(same, "bits")] == [compare.MATCH, compare.MATCH]
    assert not any("somelib" in r.test for r in _by(same, "bits"))
    other = compare.compare(_loaded(old), _loaded(_with(_records(), somelib="2.0")), "smoke")
    bits = _by(other, "bits")
    assert bits and all(r.result == compare.MATCH and r.test.endswith("across somelib") for r in bits)
