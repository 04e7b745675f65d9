from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _models_in_tmp(model_dir):
    return model_dir
