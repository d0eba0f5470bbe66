"""Shared fixtures. Real data come from the mirror (../shared/data or $BRAINALIGN_DATA)."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


@pytest.fixture(scope="session")
def kriegeskorte():
    from brainalign.data import load_dataset

    return load_dataset("kriegeskorte2008")


@pytest.fixture(scope="session")
def cowley():
    from brainalign.data import load_dataset

    return load_dataset("cowley2023", session="201025")


@pytest.fixture(scope="session")
def smollm2():
    """SmolLM2-135M loaded once per test session (dequantising its GGUF file takes ~1 minute)."""
    from brainalign.models import load_model

    return load_model("smollm2")
