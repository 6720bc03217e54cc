"""The version of DoJobber, in one place (the package, the page, the command)."""

__version__ = "1.0.0"
VERSION = tuple(int(part) for part in __version__.split("."))
