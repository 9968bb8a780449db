"""bench compare reads the library versions from the records' env, not from the backends installed
here: a library only the records name still decides whether bits can repeat."""
from test_compare import _by, _loaded, _records

from bench.publish import compare


def _with(records, **versions):
    return [{**r, "env": {**r["env"], **versions}} for r in records]


def test_a_library_the_backends_do_not_name_still_splits_the_bits():
    old = _with(_records(), somelib="1.0")
    same = compare.compare(_loaded(old), _loaded(_with(_records(), somelib="1.0")), "smoke")
    assert [r.result for r in _by(same, "bits")] == [compare.MATCH, compare.MATCH]
    other = compare.compare(_loaded(old), _loaded(_with(_records(), somelib="2.0")), "smoke")
    bits = _by(other, "bits")
    assert bits and all(r.result == compare.INFO and "library versions" in r.test for r in bits)


def test_host_facts_are_not_versions():
    old = _with(_records(), cores=2, python="3.11.1", platform="Linux-a", cpu_model="Xeon", bench="0.1.0+aaa")
    new = _with(_records(), cores=16, python="3.11.2", platform="Linux-b", cpu_model="Xeon", bench="0.1.0+aaa.dirty")
    result = compare.compare(_loaded(old), _loaded(new), "smoke")
    assert [r.result for r in _by(result, "bits")] == [compare.MATCH, compare.MATCH]
