"""The exceptions the suite raises on bad input; the CLI turns each into one sentence."""


class BenchError(Exception):
    """Base class: a user-facing problem whose message is one clear sentence."""


class SpecError(BenchError):
    """A case, arm, claim or profile that is invalid or unknown."""


class DataError(BenchError):
    """A dataset that is missing, corrupt or does not match its checksum."""


class StoreError(BenchError):
    """A results directory or record file that cannot be read or written."""
