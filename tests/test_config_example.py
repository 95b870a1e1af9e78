"""config.example.toml documents every setting, with its default, and loads as it is."""

from __future__ import annotations

import tomllib

from pydantic import BaseModel

from broker.config import Settings
from tests.server import ROOT


def test_example_config_lists_every_setting_with_its_default():
    example = tomllib.loads((ROOT / "config.example.toml").read_text())
    assert set(Settings.model_fields) - set(example) == {"db_url"}  # commented out: it switches to PostgreSQL
    defaults = Settings()
    for name, value in example.items():
        default = getattr(defaults, name)
        if isinstance(default, BaseModel):  # a nested setting (resources): compare its document
            value = type(default).model_validate(value)
        assert default == value, f"{name}: the example says {value!r}"
    Settings(**example)
