"""initlab: neural-network parameter initialization, measured."""


def __getattr__(name: str):
    # The version is read from the installed metadata on first use: importlib.metadata costs
    # ~30 ms that `initlab --help` need not pay.
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version
        try:
            return version("initlab")
        except PackageNotFoundError:  # running from a source tree without installation
            return "0.0.0+unknown"
    raise AttributeError(f"module 'initlab' has no attribute {name!r}")
