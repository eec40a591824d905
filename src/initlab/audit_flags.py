"""The flags `initlab.torch.audit` raises on a parameter tensor, and what each means.

Kept apart from initlab.torch (which imports torch) so that ``initlab audit --fail-on`` checks its
value before anything heavy is imported.

>>> parse_flags("tied, std_off")
('tied', 'std_off')
>>> parse_flags("stdoff")
Traceback (most recent call last):
...
initlab._errors.ArgumentError: fail_on: unknown flag 'stdoff' (did you mean 'std_off'?); choices: constant, identical, non_finite, std_off, tied, zero
"""

from __future__ import annotations

from initlab._errors import ArgumentError, unknown_choice

STD_TOLERANCE = 0.10  # std_off: more than 10% from the matched scheme's std (and beyond sampling error)

FLAGS = {
    "zero": "a layer's weight (or embedding table) is all zeros: its units stay identical",
    "constant": "a layer's weight is one nonzero value everywhere: its units stay identical",
    "tied": "the tensor is shared by several modules (tied_to names the others)",
    "identical": "the same values as another parameter tensor it is not tied to (identical_to names it)",
    "non_finite": "NaN or infinite entries (mean, std and match are of the finite ones)",
    "std_off": f"std more than {STD_TOLERANCE:.0%} from the matched scheme's (and beyond sampling error)",
}


def parse_flags(text: str, argument: str = "fail_on") -> tuple[str, ...]:
    """'tied,std_off' -> ('tied', 'std_off'): comma-separated names of `FLAGS`, each checked."""
    names = tuple(name.strip() for name in str(text).split(","))
    if not any(names):
        raise ArgumentError(argument, f"expected comma-separated flags ({', '.join(FLAGS)}), got {str(text)!r}")
    for name in names:
        if name not in FLAGS:
            raise unknown_choice(argument, "flag", name, FLAGS)
    return tuple(dict.fromkeys(names))
