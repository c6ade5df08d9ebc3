"""Rounding for output only: half away from zero, on the decimal a person reads.

Canvas (Ruby) rounds results half away from zero. Python's ``round`` rounds half to even *and*
works on the binary float: ``round(2.675, 2) == 2.67`` because the double nearest 2.675 is
2.67499999999999982236431605997495353221893310546875. Teachers typed 2.675 and expect 2.68, so
we round the shortest decimal that reads back as the float (``repr(x)``), the way
``Decimal(repr(x)).quantize(..., ROUND_HALF_UP)`` does.

The array version gets the same answers without a ``Decimal`` per value (a result file may hold
millions), using two facts about IEEE-754 doubles:

* dividing two exactly representable integers is correctly rounded, so ``(2m + 1) / (2 * 10**p)``
  is *exactly* ``float("m.5e-p")``, the double nearest the decimal half-way point ``h``;
* while ``|x| * 10**(p+1) < 2**52`` distinct decimals with ``p + 1`` places are further apart
  than one ulp, so ``repr(x)`` *is* ``h`` exactly when ``x == float(h)``, and otherwise lies on the
  same side of ``h`` as ``x``. Comparing ``|x| >= float(h)`` therefore decides the decimal rounding.

``floor(|x| * 10**p)`` may be one off when ``x`` sits next to a multiple of ``10**-p`` (the
product is rounded), but there the nearest half-way point is far away and either neighbouring
candidate gives the same answer. The few values too large for the argument fall back to Decimal.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, localcontext
from typing import overload

import numpy as np
import numpy.typing as npt

#: Largest number of decimal places accepted: 10**15 is exact in binary, and nobody reports more.
MAX_PLACES = 15

# |x| * 10**places below this keeps the array method exact (see the module docstring).
_FAST_LIMIT = 2.0**52 / 10.0


def _check_places(places: int) -> None:
    if isinstance(places, bool) or not isinstance(places, int | np.integer):
        raise TypeError(f"places must be an int (got {places!r})")
    if not 0 <= places <= MAX_PLACES:
        raise ValueError(f"places must be between 0 and {MAX_PLACES} (got {places})")


def _round_scalar(x: float, places: int) -> float:
    if not math.isfinite(x):
        return x
    if abs(x) >= 2.0**53:  # every double this large is an integer: nothing to round
        return x
    with localcontext() as ctx:
        ctx.prec = 60  # 16 integer digits + 15 places fit; the default 28 would raise
        quantum = Decimal(1).scaleb(-places)
        return float(Decimal(repr(x)).quantize(quantum, rounding=ROUND_HALF_UP))


def half_up_units(
    values: npt.NDArray[np.float64], places: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """(``|x|`` rounded half up to ``places``, counted in units of ``10**-places``; where that
    count is exact). The count is an integer-valued float, exact where ``|x| * 10**places`` is
    below ``2**52 / 10``; elsewhere (NaN, infinities, huge values) it is 0 and the mask False,
    and `round_half_up` goes through Decimal. The CSV writer formats the counts directly."""
    scale = float(10**places)
    magnitude = np.abs(values)
    with np.errstate(invalid="ignore", over="ignore"):
        scaled = magnitude * scale
        fast = scaled < _FAST_LIMIT  # False for NaN and inf
    lower = np.floor(np.where(fast, scaled, 0.0))
    half = (2.0 * lower + 1.0) / (2.0 * scale)  # == float(decimal half-way point), exactly
    return lower + (magnitude >= half), fast


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
    """Round to ``places`` decimals, halves away from zero, on the decimal ``repr`` shows.

    ``round_half_up(2.675, 2) == 2.68``, ``round_half_up(-2.5, 0) == -3.0``. A Python or numpy
    scalar gives a ``float``; anything array-like gives a new float64 array of the same shape.
    NaN and infinities pass through unchanged.
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
