"""Input helpers shared by the evaluation statistics: pandas objects or plain array-likes in, checked
numeric arrays out; a non-numeric column or mismatched pre/post raises DatasetError naming it."""

from __future__ import annotations

from typing import Any, Iterable

import numpy as np
import pandas as pd

from ...errors import DatasetError


_TINY = 1e-12  # relative tolerance under which a variance or covariance counts as zero


# --------------------------------------------------------------------------------------------
# input helpers
# --------------------------------------------------------------------------------------------

def _numeric_frame(data: Any, *, name: str) -> pd.DataFrame:
    """A float DataFrame from a DataFrame or a 2-D array-like; non-numeric columns are named."""
    if isinstance(data, pd.DataFrame):
        frame = data
    else:
        if isinstance(data, np.ndarray) and data.ndim != 2:
            raise DatasetError(f"{name} must be a 2-D table (rows x columns), got a {data.ndim}-D array; "
                               f"pass a DataFrame or a list of rows")
        try:
            frame = pd.DataFrame(data)
        except (ValueError, TypeError) as exc:
            raise DatasetError(f"{name} cannot be read as a table ({exc}); pass a DataFrame or a list of rows") from None
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise DatasetError(f"{name} is empty ({frame.shape[0]} rows x {frame.shape[1]} columns); "
                           f"check the filter that produced it")
    out = {}
    for col in frame.columns:
        series = frame[col]
        if isinstance(series, pd.DataFrame):
            raise DatasetError(f"{name} has the column name {col!r} more than once; rename the duplicates")
        if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
            out[col] = series.astype(float)
            continue
        converted = pd.to_numeric(series, errors="coerce")
        bad = series.notna() & converted.isna()
        if bad.any():
            row = bad.idxmax()
            raise DatasetError(
                f"{name} column {col!r} is not numeric (row {row!r} holds {series[row]!r}); "
                f"if it identifies trainees make it the index (e.g. df.set_index({col!r})), "
                f"otherwise fix or drop that column")
        out[col] = converted.astype(float)
    return pd.DataFrame(out, index=frame.index, columns=frame.columns)


def _vector(data: Any, *, name: str) -> tuple[np.ndarray, pd.Index | None]:
    """A 1-D float array (and the Series index, if any); non-numeric values are named."""
    index = data.index if isinstance(data, pd.Series) else None
    series = data if isinstance(data, pd.Series) else pd.Series(_as_list(data, name=name))
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype=float), index
    converted = pd.to_numeric(series, errors="coerce")
    bad = series.notna() & converted.isna()
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        where = f"row {series.index[pos]!r}" if index is not None else f"position {pos}"
        raise DatasetError(f"{name} is not numeric ({where} holds {series.iloc[pos]!r}); "
                           f"fix that value or leave it empty (NaN) if the score is missing")
    return converted.to_numpy(dtype=float), index


def _as_list(data: Any, *, name: str) -> list:
    if isinstance(data, (str, bytes)) or not isinstance(data, Iterable):
        raise DatasetError(f"{name} must be a sequence of values (list, array or Series), got {type(data).__name__}")
    values = list(data.ravel()) if isinstance(data, np.ndarray) else list(data)
    if isinstance(data, np.ndarray) and data.ndim != 1:
        raise DatasetError(f"{name} must be 1-D, got an array of shape {data.shape}; pass one column")
    return values


def _paired(pre: Any, post: Any) -> tuple[np.ndarray, np.ndarray, int]:
    """Matched (pre, post) pairs: same length, same index if both are Series; pairs with a
    missing value on either side are dropped (their count is returned)."""
    x, ix = _vector(pre, name="pre")
    y, iy = _vector(post, name="post")
    if len(x) != len(y):
        raise DatasetError(f"pre has {len(x)} values but post has {len(y)}; pass one value per trainee in both, "
                           f"in the same order (use NaN for a missing score)")
    if ix is not None and iy is not None and not ix.equals(iy):
        only = [str(v) for v in ix.difference(iy)[:3]] + [str(v) for v in iy.difference(ix)[:3]]
        hint = f" (labels in only one of them: {', '.join(only)})" if only else " (same labels, different order)"
        raise DatasetError(f"pre and post are Series with different indexes{hint}; align them first, "
                           f"e.g. post = post.reindex(pre.index)")
    keep = ~(np.isnan(x) | np.isnan(y))
    return x[keep], y[keep], int((~keep).sum())
