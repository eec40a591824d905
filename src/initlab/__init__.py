"""initlab: neural-network parameter initialization, measured."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("initlab")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0.0.0+unknown"
