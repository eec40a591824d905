"""The playground's core (issue 11): settings a page can change and the training session it drives.

Attributes are imported on first use (`initlab._lazy`); nothing here is imported by `initlab.cli` at start-up.
"""

from initlab._lazy import lazy_attributes

_EXPORTS = {
    "settings": ("Settings",),
    "session": ("Session",),
}
__getattr__ = lazy_attributes(__name__, _EXPORTS)
__all__ = sorted(name for names in _EXPORTS.values() for name in names)
