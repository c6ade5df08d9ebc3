"""Rounding: half away from zero, on the decimal the arithmetic stands for.

Every score that is written out, and every score that is read as a level or checked against a
course-grade rule, is rounded here, so what a family reads and the level it carries agree.

Canvas (Ruby) rounds results half away from zero, and results must equal exact decimal
arithmetic rounded that way. Binary floating point gets in the way twice:

* a typed 2.675 is stored as 2.67499999999999982236431605997495353221893310546875, and Python's
  ``round(2.675, 2) == 2.67``;
* arithmetic adds noise in the last bits: the decaying average (weight 0.65) of 1.5 then 1.0 is
  exactly 1.175, but ``1.5 * 0.35 + 1.0 * 0.65`` is 1.1749999999999998 because ``1 - 0.65`` is
  0.35000000000000003.

So a value is first *read to 12 significant digits* (:data:`SIGNIFICANT_DIGITS`), which drops
that noise, and that decimal is rounded half up. Why 12: a double carries almost 16 significant
digits, and the sums here lose at most a few (a sum of n positive terms is off by at most
n × 2**-53 relative: 1e-13 for a thousand scores). Exact results that are *not* half-way points
lie much further from one: a mean of n scores with two decimals is a multiple of 1/(100 n), at
least 1/(2 × 10**(places + 2) × n) from any half-way point (relative 1e-11 even for a million
scores); weighted means with two-decimal weights likewise. Only a decaying average over a long
history (its weights (1 - w)**k have 2k decimals) could in principle end within 1e-12 of a
half-way point without being on it, and rounds up there; a hand-made sequence of a dozen
scores would be needed. The reading never goes coarser than three digits beyond the places kept,
so large numbers and many places round as written.

The decision needs no ``Decimal`` per value (a result file may hold millions): for the
half-way point ``h`` between the two candidates, a value rounds up when ``|x| >= h - tol``,
``tol`` being half a unit of the 12th significant digit of ``h``. Two facts about IEEE-754
doubles make that exact where it matters:

* dividing two exactly representable integers is correctly rounded, so ``(2m + 1) / (2 * 10**p)``
  is *exactly* ``float("m.5e-p")``, the double nearest the half-way point ``h``;
* while ``|x| * 10**p`` stays below :data:`_FAST_LIMIT`, ``tol`` is at least ten ulps of ``h``,
  so the doubles next to ``h`` (a typed 2.675, a noisy 1.175) are well inside the tolerance.

``floor(|x| * 10**p)`` may be one off when ``x`` sits next to a multiple of ``10**-p`` (the
product is rounded), but there the nearest half-way point is far away and either neighbouring
candidate gives the same answer. The few values too large for the argument go through Decimal,
by the same rule.
"""

from __future__ import annotations

import bisect
import math
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal, localcontext
from typing import overload

import numpy as np
import numpy.typing as npt

#: Largest number of decimal places accepted: 10**15 is exact in binary, and nobody reports more.
MAX_PLACES = 15

#: Values are read to this many significant digits before rounding (see the module docstring).
SIGNIFICANT_DIGITS = 12

#: ... but at least this many decimals beyond the places kept.
_GUARD_DIGITS = 3

# |x| * 10**places below this keeps the array method exact: ulp(h) <= h * 2**-52 stays below a
# tenth of the smallest tolerance, 0.5 * 10**-(places + 3) (see the module docstring).
_FAST_LIMIT = 0.5 * 10.0 ** -(_GUARD_DIGITS + 1) / 2.0**-52

# Powers of ten as doubles, to find the decimal exponent of a half-way point by bisection: the
# same answer for one value (bisect) and a column (searchsorted). A half-way point is never a
# power of ten ((2m + 1) / (2 * 10**p) is not), so the doubles' inexactness does not matter.
_EXPONENTS = range(-(MAX_PLACES + 2), 20)
_POWERS = [10.0**e for e in _EXPONENTS]
_POWERS_ARRAY = np.array(_POWERS)
# Half a unit of the last digit read, by decimal exponent (clipped to the guard per call).
_HALF_UNITS = [0.5 * 10.0 ** (e - SIGNIFICANT_DIGITS + 1) for e in _EXPONENTS]
_HALF_UNITS_ARRAY = np.array(_HALF_UNITS)


def _check_places(places: int) -> None:
    if isinstance(places, bool) or not isinstance(places, int | np.integer):
        raise TypeError(f"places must be an int (got {places!r})")
    if not 0 <= places <= MAX_PLACES:
        raise ValueError(f"places must be between 0 and {MAX_PLACES} (got {places})")


def _guard(places: int) -> float:
    """The largest tolerance: half a unit three digits beyond ``places``."""
    return 0.5 * 10.0 ** -(places + _GUARD_DIGITS)


def _round_scalar(x: float, places: int) -> float:
    """`round_half_up` of one float: the same operations as the array version, on Python
    floats (IEEE-754 gives the same bits), so a value rounds the same alone or in a column."""
    if not math.isfinite(x):
        return x
    scale = float(10**places)
    magnitude = abs(x)
    scaled = magnitude * scale
    if not scaled < _FAST_LIMIT:
        return _round_decimal(x, places)
    lower = math.floor(scaled)
    half = (2.0 * lower + 1.0) / (2.0 * scale)
    tolerance = min(_HALF_UNITS[bisect.bisect_right(_POWERS, half) - 1], _guard(places))
    units = lower + (1.0 if magnitude >= half - tolerance else 0.0)
    return math.copysign(units / scale, x)


def _round_decimal(x: float, places: int) -> float:
    """The rule worked in Decimal, for values too large for the float argument."""
    if abs(x) >= 2.0**53:  # every double this large is an integer: nothing to round
        return x
    with localcontext() as ctx:
        ctx.prec = 60  # 16 integer digits + 15 places + the guard fit; 28 would not
        magnitude = abs(Decimal(repr(x)))
        unit = Decimal(1).scaleb(-places)
        lower = magnitude.quantize(unit, rounding=ROUND_FLOOR)
        half = lower + unit / 2
        read_at = min(half.adjusted() - SIGNIFICANT_DIGITS + 1, -(places + _GUARD_DIGITS))
        tolerance = Decimal(5).scaleb(read_at - 1)
        rounded = lower + unit if magnitude >= half - tolerance else lower
        return math.copysign(float(rounded), x)


def half_up_units(
    values: npt.NDArray[np.float64], places: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """(``|x|`` rounded half up to ``places``, counted in units of ``10**-places``; where that
    count is exact). The count is an integer-valued float, exact where ``|x| * 10**places`` is
    below :data:`_FAST_LIMIT`; elsewhere (NaN, infinities, huge values) it is 0 and the mask
    False, and `round_half_up` goes through Decimal. The CSV writer formats the counts directly."""
    scale = float(10**places)
    magnitude = np.abs(values)
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = magnitude * scale
        fast = scaled < _FAST_LIMIT  # False for NaN and inf
    lower = np.floor(np.where(fast, scaled, 0.0))
    half = (2.0 * lower + 1.0) / (2.0 * scale)  # == float(decimal half-way point), exactly
    exponent = np.searchsorted(_POWERS_ARRAY, half, side="right") - 1
    tolerance = np.minimum(_HALF_UNITS_ARRAY[exponent], _guard(places))
    return lower + (magnitude >= half - tolerance), fast


def _round_array(values: npt.NDArray[np.float64], places: int) -> npt.NDArray[np.float64]:
    units, fast = half_up_units(values, places)
    out = np.copysign(units / float(10**places), values)
    # NaN (no result: common) passes through as is; inf and huge values are rare, so a
    # Python loop over them is fine.
    slow = np.flatnonzero(~fast & ~np.isnan(values))
    out[np.isnan(values)] = np.nan
    if slow.size:
        out[slow] = [_round_scalar(float(v), places) for v in values[slow]]
    return out


@overload
def round_half_up(values: float, places: int) -> float: ...
@overload
def round_half_up(values: npt.ArrayLike, places: int) -> npt.NDArray[np.float64]: ...
def round_half_up(values: float | npt.ArrayLike, places: int) -> float | npt.NDArray[np.float64]:
    """Round to ``places`` decimals, halves away from zero, on the value read to 12
    significant digits (the decimal the arithmetic stands for; see the module docstring).

    ``round_half_up(2.675, 2) == 2.68``, ``round_half_up(1.5 * 0.35 + 1.0 * 0.65, 2) == 1.18``,
    ``round_half_up(-2.5, 0) == -3.0``. A Python or numpy scalar gives a ``float``; anything
    array-like gives a new float64 array of the same shape. NaN and infinities pass through
    unchanged.
    """
    _check_places(places)
    if isinstance(values, float | int | np.floating | np.integer) and not isinstance(values, bool):
        return _round_scalar(float(values), places)
    array = np.asarray(values, dtype=np.float64)
    return _round_array(array.ravel(), places).reshape(array.shape)


def format_decimal(x: float, places: int) -> str:
    """Plain decimal text for output: ``3.5`` -> ``"3.50"`` at 2 places, NaN -> ``""``.

    Rounds half away from zero first (see :func:`round_half_up`); never uses an exponent, keeps
    trailing zeros up to ``places`` and never prints ``-0.00``. Infinities print as ``inf`` and
    ``-inf`` (a result should never be infinite; this keeps a bug visible instead of hiding it).
    """
    _check_places(places)
    value = float(x)
    if math.isnan(value):
        return ""
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    rounded = _round_scalar(value, places) + 0.0  # + 0.0 turns -0.0 into 0.0
    # The rounded double is within half an ulp of its p-place decimal, so fixed-point
    # formatting at p places reproduces that decimal exactly.
    return f"{rounded:.{places}f}"


def format_unrounded(x: float, places: int) -> str:
    """A working value as a calculator shows it, for explanations: read to 12 significant
    digits (the same reading `round_half_up` rounds), trailing zeros dropped, but at least
    ``places`` decimals: ``1.1749999999999998`` -> ``"1.175"``, ``3`` -> ``"3.00"`` at 2 places.

    Rounding this text half up at ``places`` gives :func:`format_decimal` of the same value
    (NaN -> ``""``, infinities as in `format_decimal`).
    """
    _check_places(places)
    value = float(x)
    if not math.isfinite(value):
        return format_decimal(value, places)
    if value == 0:
        return format_decimal(0.0, places)
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(repr(value))
        read_at = min(exact.adjusted() - SIGNIFICANT_DIGITS + 1, -(places + _GUARD_DIGITS))
        read = exact.quantize(Decimal(1).scaleb(read_at), rounding=ROUND_HALF_EVEN)
        text = f"{read:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    whole, _, fraction = text.partition(".")
    if whole in ("-0", "0") and not fraction.strip("0"):
        whole = "0"
    fraction = fraction.ljust(places, "0")
    return f"{whole}.{fraction}" if fraction else whole
