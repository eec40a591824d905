"""Spec strings: parse/print round-trips, canonical forms, and one ValueError per kind of mistake."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from initlab.init import SCHEMES, Spec, canonical, initializer, parse

HYPOTHESIS = settings(max_examples=150, deadline=None, derandomize=True, database=None)


ROUND_TRIP_SPECS = [
    "he_normal", "he_normal()", "  he_normal  ", "normal(std=10)", "normal( std = 10.0 )", "normal(std=1e-3)",
    "normal(std=1E+3)", "normal(std=2.5e-300)", "normal(std=1e16)", "normal(std=123456789012345678)",
    "normal(std=0.1)", "normal(mean=-3, std=.5)", "uniform(low=-1, high=3)", "uniform(low=-1.5e-3, high=+2e4)",
    "uniform(limit=0.12)", "constant(-0.5)", "constant(+3)", "constant(-0.0)", "x(1, 2, k=-7)",
    "variance_scaling(scale=2, mode=fan_in, distribution=truncated_normal)", "foo(a=true, b=False, c=word)",
    "truncated_normal(a=-1e-300, b=1.7976931348623157e308)", "kaiming_uniform(mode=fan_out, a=0.1)",
    "s(v='fan_in')", "normal(std=0x10)", "normal(std=1_000)",
]


@pytest.mark.parametrize("text", ROUND_TRIP_SPECS)
def test_printed_spec_parses_back_to_the_same_spec(text):
    spec = parse(text)
    assert parse(str(spec)) == spec
    assert str(parse(str(spec))) == str(spec)


@pytest.mark.parametrize(("text", "printed"), [
    ("normal( std = 10.0 )", "normal(std=10)"),
    ("uniform(low=-1.5e-3, high=+2e4)", "uniform(low=-0.0015, high=20000)"),
    ("normal(std=1e16)", "normal(std=1e+16)"),
    ("constant(-0.5)", "constant(-0.5)"),
    ("foo(a=True, b=false, c=word)", "foo(a=true, b=false, c=word)"),
    ("he_normal()", "he_normal"),
    ("normal(std=0x10)", "normal(std=16)"),
])
def test_spec_prints_in_canonical_text(text, printed):
    assert str(parse(text)) == printed


def test_parse_stores_numbers_as_floats_words_as_str_and_booleans_as_bool():
    spec = parse("f(1, k=-2, w=fan_in, t=TRUE, e=2.5e-3)")
    assert spec == Spec("f", ((None, 1.0), ("k", -2.0), ("w", "fan_in"), ("t", True), ("e", 0.0025)))
    assert all(type(v) is float for _, v in spec.args[:2])
    assert spec.kwargs == {"k": -2.0, "w": "fan_in", "t": True, "e": 0.0025}


finite_floats = st.floats(allow_nan=False, allow_infinity=False)


@HYPOTHESIS
@given(x=finite_floats, style=st.sampled_from(["{!r}", "{:.17g}", "{:e}", "{:.3E}"]))
def test_any_finite_float_in_any_notation_parses_to_its_value_and_round_trips(x, style):
    text = style.format(x)
    assume(math.isfinite(float(text)))  # rounding 1.7975e308 to 4 digits overflows: parse rejects it (test below)
    spec = parse(f"normal(std={text})")
    assert spec.args == (("std", float(text)),)
    assert parse(str(spec)) == spec


def _as_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value) if isinstance(value, float) else value


@HYPOTHESIS
@given(values=st.lists(st.one_of(finite_floats, st.booleans(),
                                 st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
                                 .filter(lambda w: w not in ("true", "false", "if", "in", "is", "or", "and",
                                                             "not", "for", "def", "del", "as"))),
                       max_size=5))
def test_spec_with_any_values_round_trips_through_its_text(values):
    inner = ", ".join(f"k{i}={_as_text(v)}" for i, v in enumerate(values))
    spec = parse(f"some_scheme({inner})")
    assert [v for _, v in spec.args] == values
    assert parse(str(spec)) == spec


def test_overflowing_number_round_trips_or_is_rejected_by_parse():
    try:
        spec = parse("normal(std=1e400)")
    except ValueError:
        return
    assert parse(str(spec)) == spec


# ------------------------------------------------------------------------------ canonical

@pytest.mark.parametrize(("text", "expected"), [
    ("glorot_normal", "xavier_normal"),
    ("glorot_uniform(gain=2)", "xavier_uniform(gain=2)"),
    ("kaiming_normal", "he_normal"),
    ("kaiming_uniform(mode=fan_out, a=0.1)", "he_uniform(a=0.1, mode=fan_out)"),
    ("kaiming_normal(nonlinearity=relu, a=0, mode=fan_in)", "he_normal(nonlinearity=relu)"),
    ("eye(gain=2)", "identity(gain=2)"),
    ("constant(0.5)", "constant(value=0.5)"),
    ("constant(0)", "constant"),
    ("normal(std=1, mean=0)", "normal"),
    ("normal(mean=1, std=2)", "normal(std=2, mean=1)"),
    ("normal(0.5)", "normal(std=0.5)"),
    ("uniform(0.12)", "uniform(limit=0.12)"),
    ("truncated_normal(a=-2, b=2, bounds=absolute)", "truncated_normal"),
    ("variance_scaling(1, fan_in, truncated_normal)", "variance_scaling"),
    ("variance_scaling(2, fan_avg)", "variance_scaling(scale=2, mode=fan_avg)"),
    ("he_normal(mode=fan_in)", "he_normal"),
    ("xavier_uniform(gain=1)", "xavier_uniform"),
    ("torch_default()", "torch_default"),
])
def test_canonical_resolves_aliases_names_positionals_and_drops_defaults(text, expected):
    assert str(canonical(text)) == expected
    assert str(initializer(text)) == expected


@pytest.mark.parametrize("name", sorted(SCHEMES))
def test_every_scheme_and_alias_canonicalises_to_its_registered_name(name):
    scheme = SCHEMES[name]
    assert scheme.name == name and scheme.formula and scheme.source and scheme.distribution
    for alias in (name, *scheme.aliases):
        assert canonical(alias) == Spec(name)


@pytest.mark.parametrize("text", ["normal(2, 1)", "kaiming_uniform(0.1, fan_out, relu)", "constant(value=0)",
                                  "variance_scaling(scale=2, distribution=uniform, mode=fan_avg)"])
def test_canonical_is_idempotent(text):
    once = canonical(text)
    assert canonical(str(once)) == once


def test_initializer_accepts_a_spec_object_and_an_initializer():
    init = initializer(parse("kaiming_normal(mode=fan_out)"))
    assert str(init) == "he_normal(mode=fan_out)"
    assert initializer(init) is init


# ------------------------------------------------------------------------------ errors

@pytest.mark.parametrize(("text", "fragments"), [
    ("he_norml", ["init", "'he_norml'", "did you mean 'he_normal'"]),
    ("glorot", ["init", "unknown scheme 'glorot'"]),
    ("normal(sdt=1)", ["init", "'sdt'", "std"]),
    ("he_normal(gain=2)", ["'gain'", "a, mode, nonlinearity"]),
    ("zeros(value=1)", ["'value'", "no parameters"]),
    ("normal(std=-1)", ["std", "-1", "positive"]),
    ("normal(std=0)", ["std", "got 0"]),
    ("normal(std=abc)", ["std", "'abc'"]),
    ("normal(std=true)", ["std", "True"]),
    ("normal(mean=inf)", ["mean", "'inf'"]),
    ("uniform(low=3, high=1)", ["low", "high", "low=3", "high=1"]),
    ("uniform(low=1, high=1)", ["low < high", "low=1", "high=1"]),
    ("uniform(limit=-0.1)", ["limit", "-0.1"]),
    ("epsilon_uniform(epsilon=0)", ["epsilon", "0"]),
    ("xavier_normal(gain=-1)", ["gain", "-1"]),
    ("orthogonal(gain=0)", ["gain", "0"]),
    ("variance_scaling(scale=-2)", ["scale", "-2"]),
    ("truncated_normal(a=1, b=-1)", ["a, b", "a=1", "b=-1"]),
    ("constant(1, 2)", ["'constant(1, 2)'", "2 positional", "at most 1"]),
    ("zeros(1)", ["1 positional", "at most 0"]),
    ("constant(1, value=2)", ["'value'", "twice"]),
    ("normal(std=1, std=2)", ["'std'", "twice"]),
    ("normal(std=1", ["init", "cannot parse", "'normal(std=1'"]),
    ("normal(std=)", ["cannot parse"]),
    ("", ["cannot parse"]),
    ("he normal", ["cannot parse", "'he normal'"]),
    ("np.normal(std=1)", ["cannot parse"]),
    ("normal(**{'std': 1})", ["cannot parse"]),
    ("normal(std=f(1))", ["'f(1)'", "not a number"]),
    ("normal(std=-fan_in)", ["'-fan_in'", "not a number"]),
    ("normal(std=[1])", ["'[1]'"]),
    ("he_normal(mode=fan_sum)", ["mode", "'fan_sum'", "fan_in, fan_out"]),
    ("he_normal(mode=fan_avg)", ["mode", "'fan_avg'"]),  # torch's kaiming has no fan_avg
    ("variance_scaling(mode=fan_sum)", ["mode", "'fan_sum'", "fan_avg"]),
    ("variance_scaling(distribution=gaussian)", ["distribution", "'gaussian'", "truncated_normal"]),
    ("he_uniform(nonlinearity=swish)", ["nonlinearity", "'swish'"]),
    ("he_uniform(nonlinearity=rleu)", ["nonlinearity", "did you mean 'relu'"]),
    ("he_normal(a=x)", ["a", "'x'"]),
    ("truncated_normal(bounds=relative)", ["bounds", "'relative'", "absolute, sigma"]),
])
def test_invalid_spec_is_a_value_error_naming_argument_and_value(text, fragments):
    with pytest.raises(ValueError) as error:
        initializer(text)
    message = str(error.value)
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} missing from {message!r}"


def test_custom_argument_name_appears_in_spec_errors():
    with pytest.raises(ValueError, match=r"^--bias-init: unknown scheme 'zero' \(did you mean 'zeros'\?\)"):
        initializer("zero", argument="--bias-init")


def test_non_string_spec_is_a_type_error():
    with pytest.raises(TypeError, match="init"):
        parse(3.0)


@pytest.mark.parametrize(("spec", "shape", "pattern"), [
    ("orthogonal", (5,), r"shape: 'orthogonal' needs at least 2 dimensions, got \[5\]"),
    ("orthogonal", (), r"at least 2 dimensions, got \[\]"),
    ("identity", (2, 2, 2), r"shape: 'identity' needs exactly 2 dimensions, got \[2, 2, 2\]"),
    ("identity", (4,), r"exactly 2 dimensions, got \[4\]"),
    ("he_normal", (3, -1), r"shape: expected non-negative integers, got \[3, -1\]"),
    ("he_normal", (3, 2.0), r"shape: .*2\.0"),
    ("he_normal", (3, True), r"shape: .*True"),
])
def test_bad_shape_is_a_value_error_naming_shape_and_value(spec, shape, pattern):
    init = initializer(spec)
    with pytest.raises(ValueError, match=pattern):
        init(shape, rng=0)
    with pytest.raises(ValueError, match=pattern):
        init.moments(shape)


def test_shape_that_is_not_a_sequence_is_a_type_error():
    with pytest.raises(TypeError, match="shape"):
        initializer("he_normal")(3.5, rng=0)


def test_errors_are_raised_when_the_initializer_is_built_not_at_first_draw():
    # Validation happens in initializer(), before any shape or rng exists.
    with pytest.raises(ValueError):
        initializer("variance_scaling(mode=fan_sum)")
    with pytest.raises(ValueError):
        initializer("normal(std=0)")


def test_spec_error_message_is_one_line():
    for text in ["he_norml", "normal(std=-1)", "normal(std=1", "constant(1, 2)"]:
        with pytest.raises(ValueError) as error:
            initializer(text)
        assert "\n" not in str(error.value) and re.match(r"^init: ", str(error.value))


def test_parsed_values_keep_their_sign_and_exponent():
    spec = parse("uniform(low=-1.25e-2, high=+3E1)")
    assert spec.kwargs == {"low": -0.0125, "high": 30.0}
    assert math.copysign(1.0, parse("constant(-0.0)").args[0][1]) == -1.0
    assert np.isclose(initializer("uniform(low=-1.25e-2, high=+3E1)").moments((2, 2))[0], (30 - 0.0125) / 2)


def test_integer_literal_too_large_for_a_float_is_rejected():
    with pytest.raises(ValueError, match=r"is not a finite number"):
        parse("normal(std=1" + "0" * 400 + ")")


def test_uniform_with_both_limit_and_bounds_is_rejected():
    from initlab.init import initializer
    with pytest.raises(ValueError, match=r"limit, low, high: give either limit or low and high"):
        initializer("uniform(limit=0.1, low=-1, high=5)")
