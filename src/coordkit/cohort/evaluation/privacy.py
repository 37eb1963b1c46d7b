"""Small-cell suppression for published tables: counts below a threshold (and the cells that would
let a reader work them out from a total) are hidden."""

from __future__ import annotations

import numbers
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ...errors import DatasetError
from ._inputs import _numeric_frame


# --------------------------------------------------------------------------------------------
# 4. small-cell suppression
# --------------------------------------------------------------------------------------------

def _is_total(label: Any, total_labels: Sequence[str]) -> bool:
    return isinstance(label, str) and label.strip() in total_labels


def suppress_small_cells(table: Any, *, threshold: int = 10, marker: str | None = None,
                         complement_marker: str = "*",
                         total_labels: Sequence[str] = ("Total", "合計", "All")) -> pd.DataFrame:
    """Hide small counts in a table for publication, with complementary suppression.

    ``table``: counts (whole numbers >= 0), e.g. a ``pd.crosstab`` with or without margins.

    - **Primary suppression**: every count with 1 <= value < ``threshold`` is replaced by ``marker``
      (default ``"<10"`` for threshold 10, i.e. 1..9 are hidden and 10 is shown). 0 is shown. For
      the US CMS rule (1-10 hidden) pass ``threshold=11``.
    - **Complementary suppression**: a hidden value can be recovered by subtraction when it is the
      only hidden cell of a row or column whose total is known. So every row and every column
      that has exactly one hidden cell gets a second one: the smallest visible count of that line,
      preferring cells outside the total row/column (labels in ``total_labels``: "Total", "合計",
      and pandas' margins name "All") and non-zero counts; ties go to the first in table order.
      Complementary cells show ``complement_marker`` (default ``"*"``; "<10" would misstate a
      larger count - pass the same marker for both if readers must not tell them apart). This is
      repeated until no row or column has exactly one hidden cell. The total row and column are
      themselves checked as lines, so a small total that was hidden cannot be recovered from the
      grand total either.

    Returns an object-dtype DataFrame with the same labels: shown counts as ints, hidden ones as
    markers. This is the usual heuristic, not a linear-programming audit: with many hidden cells
    in one table, check that no hidden value is pinned down by the others.
    """
    if not (isinstance(threshold, numbers.Integral) and threshold >= 1):
        raise ValueError(f"threshold must be a whole number >= 1, not {threshold!r}")
    primary_marker = f"<{threshold}" if marker is None else marker
    frame = _numeric_frame(table, name="table")
    x = frame.to_numpy(dtype=float)
    bad = np.isnan(x) | (x < 0) | (x != np.round(x))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        what = "is empty" if np.isnan(x[r, c]) else f"holds {x[r, c]:g}"
        raise DatasetError(f"table row {frame.index[r]!r}, column {frame.columns[c]!r} {what}; "
                           f"cells must be counts (whole numbers >= 0, 0 for none)")
    counts = x.astype(np.int64)
    n_rows, n_cols = counts.shape
    total_row = np.array([_is_total(v, total_labels) for v in frame.index])
    total_col = np.array([_is_total(v, total_labels) for v in frame.columns])
    hidden = (counts >= 1) & (counts < threshold)
    primary = hidden.copy()

    lines = [[(i, j) for j in range(n_cols)] for i in range(n_rows)]
    lines += [[(i, j) for i in range(n_rows)] for j in range(n_cols)]
    changed = True
    while changed:
        changed = False
        for line in lines:
            if sum(hidden[c] for c in line) != 1:
                continue
            candidates = [c for c in line if not hidden[c]]
            if not candidates:
                continue
            pick = min(candidates, key=lambda c: (bool(total_row[c[0]] or total_col[c[1]]), counts[c] == 0, counts[c],
                                                  c[0], c[1]))
            hidden[pick] = True
            changed = True

    out = pd.DataFrame(counts, index=frame.index, columns=frame.columns).astype(object)
    for i in range(n_rows):
        for j in range(n_cols):
            if primary[i, j]:
                out.iat[i, j] = primary_marker
            elif hidden[i, j]:
                out.iat[i, j] = complement_marker
            else:
                out.iat[i, j] = int(counts[i, j])
    return out
