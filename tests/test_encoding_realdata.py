"""Golden results on real data (slow): Brennan Alice word-rate baseline with blocked CV."""

from __future__ import annotations

import numpy as np
import pytest

from brainalign.encoding import BlockedKFold, cross_validate, hrf_convolve


@pytest.mark.slow
def test_brennan_word_rate_baseline_golden():
    from brainalign.data import load_dataset

    d = load_dataset("brennan2016", zscore=True)
    Y = d.responses["10mm"]
    ft = np.asarray(Y["time"].values, dtype=float)
    onsets = d.extra["words"]["onset"].to_numpy(float)
    rate = hrf_convolve(np.ones((len(onsets), 1)), onsets, ft)
    lptl = Y.isel(unit=np.flatnonzero(Y["region"].values == "LPTL"))
    assert lptl.sizes["unit"] == 27  # one LPTL time course per usable subject
    scores = []
    for j in range(lptl.sizes["unit"]):  # per subject, as in examples/encoding_brennan_alice.py
        res = cross_validate(rate, lptl.values[:, j], cv=BlockedKFold(5, gap=8),
                             inner_cv=BlockedKFold(5, gap=8), alphas=np.logspace(-2, 6, 17))
        scores.append(res.mean_scores[0])
    # golden value from the example run (mean over 27 subjects of held-out r in LPTL)
    assert np.mean(scores) == pytest.approx(0.142, abs=0.005)
    assert np.mean(np.array(scores) > 0) > 0.7
