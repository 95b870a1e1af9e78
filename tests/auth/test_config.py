"""The auth settings: [[credentials]] in the config, a separate credentials file, BROKER_AUTH / BROKER_CREDENTIALS
in the environment; sigv4 without any configured key is a configuration error."""

from __future__ import annotations

import json

import pytest

from broker.config import ConfigError, load_settings

KEY = {"access_key_id": "AKIDCONFIGURED01", "secret_access_key": "s3cret", "account_id": "111111111111"}


def test_sigv4_needs_a_configured_key(tmp_path):
    with pytest.raises(ConfigError, match="needs at least one"):
        load_settings(environ={"BROKER_AUTH": "sigv4"})
    assert load_settings(environ={}).auth == "none"


def test_keys_from_the_config_file_and_a_credentials_file(tmp_path):
    creds = tmp_path / "credentials.toml"
    creds.write_text(
        '[[credentials]]\naccess_key_id = "AKIDFROMFILE0002"\nsecret_access_key = "x"\naccount_id = "222222222222"\n'
        'user_name = "ops"\n'
    )
    config = tmp_path / "broker.toml"
    config.write_text(
        'auth = "sigv4"\n'
        f'credentials_file = "{creds}"\n'
        "[[credentials]]\n" + "".join(f'{k} = "{v}"\n' for k, v in KEY.items())
    )
    settings = load_settings(str(config), environ={})
    assert [(c.access_key_id, c.account_id, c.user_name) for c in settings.credentials] == [
        ("AKIDCONFIGURED01", "111111111111", ""),
        ("AKIDFROMFILE0002", "222222222222", "ops"),
    ]
    # What workers receive (the resolved settings) needs the file no more.
    creds.unlink()
    assert settings.model_validate(settings.model_dump()).credentials == settings.credentials


def test_keys_from_the_environment():
    settings = load_settings(
        environ={"BROKER_AUTH": "sigv4", "BROKER_CREDENTIALS": json.dumps([KEY]), "BROKER_ADMIN_TOKEN": "t"}
    )
    assert settings.auth == "sigv4"
    assert settings.credentials[0].secret_access_key == "s3cret"
    assert settings.admin_token == "t"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"BROKER_CREDENTIALS": "not json"}, "must be a JSON list"),
        ({"BROKER_CREDENTIALS": json.dumps([{**KEY, "account_id": "12"}])}, "credentials.0.account_id"),
        ({"BROKER_CREDENTIALS": json.dumps([KEY, KEY])}, "listed twice"),
        ({"BROKER_CREDENTIALS_FILE": "/nonexistent/creds.toml"}, "cannot read credentials file"),
    ],
)
def test_bad_credentials_are_config_errors(environ, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(environ=environ)
