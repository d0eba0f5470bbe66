"""Shared statistics: FDR against scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import false_discovery_control

from brainalign.errors import InvalidDataError
from brainalign.stats import fdr_qvalues


@pytest.mark.parametrize("method", ["bh", "by"])
def test_fdr_matches_scipy_along_an_axis_with_nan(rng, method):
    p = rng.uniform(size=(4, 50)) ** 2
    p[1, :10] = np.nan
    q = fdr_qvalues(p, method=method, axis=1)
    for row, qrow in zip(p, q, strict=True):
        ok = np.isfinite(row)
        np.testing.assert_allclose(qrow[ok], false_discovery_control(row[ok], method=method), rtol=1e-12)
        assert np.isnan(qrow[~ok]).all()
    q_all = fdr_qvalues(p, method=method)
    ok = np.isfinite(p)
    np.testing.assert_allclose(q_all[ok], false_discovery_control(p[ok], method=method), rtol=1e-12)
    np.testing.assert_allclose(fdr_qvalues(p.T, method=method, axis=0), q.T)


def test_fdr_rejects_bad_input():
    with pytest.raises(InvalidDataError, match="bh"):
        fdr_qvalues([0.1], method="holm")
    with pytest.raises(InvalidDataError, match=r"\[0, 1\]"):
        fdr_qvalues([0.1, 1.5])
