"""User-facing errors: the CLI prints their message as one line and exits non-zero."""


class SemtalkError(Exception):
    """An error caused by the input or the configuration, not by a bug; shown without a traceback."""


class MissingDependencyError(SemtalkError):
    """An optional heavy dependency is not installed."""

    def __init__(self, package: str, purpose: str):
        super().__init__(f"{purpose} needs the package '{package}': run `make install` (or pip install {package})")
