"""config.example.toml documents every setting, with its default, and loads as it is."""

from __future__ import annotations

import tomllib

from broker.config import Settings
from tests.server import ROOT


def test_example_config_lists_every_setting_with_its_default():
    example = tomllib.loads((ROOT / "config.example.toml").read_text())
    assert set(Settings.model_fields) - set(example) == {"db_url"}  # commented out: it switches to PostgreSQL
    defaults = Settings()
    for name, value in example.items():
        assert getattr(defaults, name) == value, f"{name}: the example says {value!r}"
    Settings(**example)
