"""`sorted_distinct` gives what ``np.unique`` gives, without importing numpy.ma."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from mastery_cli.grading.distinct import sorted_distinct

INTEGERS = hnp.arrays(st.sampled_from([np.int32, np.int64]), st.integers(0, 60),
                      elements=st.integers(-5, 5))
FLOATS = hnp.arrays(np.float64, st.integers(0, 60),
                    elements=st.sampled_from([0.0, -0.0, 1.0, 2.5, 3.0, 4.0, 1e300, -1e-300]))


@given(st.one_of(INTEGERS, FLOATS))
def test_same_values_and_dtype_as_np_unique(values: np.ndarray) -> None:
    expected = np.unique(values)
    got = sorted_distinct(values)
    assert got.dtype == expected.dtype
    assert got.tolist() == expected.tolist()


def test_does_not_import_numpy_ma() -> None:
    """The reason it exists: plain ``np.unique`` imports numpy.ma on its first call."""
    code = ("import sys, numpy as np\n"
            "from mastery_cli.grading.distinct import sorted_distinct\n"
            "sorted_distinct(np.array([3, 1, 3]))\n"
            "print('numpy.ma' in sys.modules)\n"
            "np.unique(np.array([3, 1, 3]))\n"
            "print('numpy.ma' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    # numpy.ma absent after sorted_distinct, present after np.unique: the check can tell.
    assert result.stdout.split() == ["False", "True"]
