"""EventBridge connections through boto3: create, describe (secrets never answered), update, deauthorize, delete,
list, with AWS's states and errors."""

from __future__ import annotations

import re

from tests.events.helpers import ACCOUNT, REGION, error

BASIC = {"BasicAuthParameters": {"Username": "user", "Password": "pw-secret"}}
API_KEY = {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "key-secret"}}
SECRETS = ("pw-secret", "key-secret", "hidden-header", "new-secret")


def _no_secrets(answer: dict) -> None:
    text = repr(answer)
    assert not [s for s in SECRETS if s in text]


def test_basic_connection_lifecycle(events):
    auth = {
        **BASIC,
        "InvocationHttpParameters": {
            "HeaderParameters": [
                {"Key": "x-open", "Value": "visible", "IsValueSecret": False},
                {"Key": "x-hidden", "Value": "hidden-header", "IsValueSecret": True},
            ],
        },
    }
    out = events.create_connection(Name="c1", AuthorizationType="BASIC", AuthParameters=auth, Description="d")
    assert out["ConnectionState"] == "CREATING"
    assert "LastAuthorizedTime" not in out  # not a member of CreateConnection's output
    assert re.fullmatch(rf"arn:aws:events:{REGION}:{ACCOUNT}:connection/c1/[-0-9a-f]{{36}}", out["ConnectionArn"])
    described = events.describe_connection(Name="c1")
    _no_secrets(described)
    assert described["ConnectionArn"] == out["ConnectionArn"]
    assert described["ConnectionState"] == "AUTHORIZED"
    assert described["AuthorizationType"] == "BASIC"
    assert described["Description"] == "d"
    assert re.fullmatch(
        rf"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:events!connection/c1/[-0-9a-f]{{36}}",
        described["SecretArn"],
    )
    assert described["AuthParameters"] == {
        "BasicAuthParameters": {"Username": "user"},
        "InvocationHttpParameters": {
            "HeaderParameters": [
                {"Key": "x-open", "Value": "visible", "IsValueSecret": False},
                {"Key": "x-hidden", "IsValueSecret": True},
            ]
        },
    }
    assert "LastAuthorizedTime" in described

    out = events.deauthorize_connection(Name="c1")
    assert out["ConnectionState"] == "DEAUTHORIZING"
    assert events.describe_connection(Name="c1")["ConnectionState"] == "DEAUTHORIZED"

    out = events.update_connection(
        Name="c1", AuthParameters={"BasicAuthParameters": {"Username": "user2", "Password": "new-secret"}}
    )
    assert out["ConnectionState"] == "UPDATING"
    described = events.describe_connection(Name="c1")
    _no_secrets(described)
    assert described["ConnectionState"] == "AUTHORIZED"
    assert described["AuthParameters"]["BasicAuthParameters"] == {"Username": "user2"}

    out = events.delete_connection(Name="c1")
    assert out["ConnectionState"] == "AUTHORIZED"  # the state before the deletion, as AWS answers
    assert "LastAuthorizedTime" in out
    assert error(events.describe_connection, Name="c1") == (
        "ResourceNotFoundException",
        "Failed to describe the connection(s). Connection 'c1' does not exist.",
    )


def test_api_key_and_change_of_type(events):
    events.create_connection(Name="k", AuthorizationType="API_KEY", AuthParameters=API_KEY)
    described = events.describe_connection(Name="k")
    _no_secrets(described)
    assert described["AuthParameters"] == {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key"}}
    assert described["ConnectionState"] == "AUTHORIZED"
    # A new authorization type needs its parameters.
    code, message = error(events.update_connection, Name="k", AuthorizationType="BASIC")
    assert code == "ValidationException" and "BasicAuthParameters" in message
    events.update_connection(Name="k", AuthorizationType="BASIC", AuthParameters=BASIC)
    described = events.describe_connection(Name="k")
    assert described["AuthorizationType"] == "BASIC"
    assert described["AuthParameters"] == {"BasicAuthParameters": {"Username": "user"}}


def test_errors(events):
    events.create_connection(Name="c", AuthorizationType="BASIC", AuthParameters=BASIC)
    assert error(events.create_connection, Name="c", AuthorizationType="BASIC", AuthParameters=BASIC) == (
        "ResourceAlreadyExistsException",
        "Connection c already exists.",
    )
    code, message = error(events.create_connection, Name="d", AuthorizationType="BASIC", AuthParameters=API_KEY)
    assert code == "ValidationException"
    assert message.startswith("Parameter AuthParameters is not valid. Reason: BasicAuthParameters")
    missing = ("ResourceNotFoundException", "Failed to describe the connection(s). Connection 'nope' does not exist.")
    assert error(events.describe_connection, Name="nope") == missing
    assert error(events.update_connection, Name="nope", Description="x") == missing
    assert error(events.delete_connection, Name="nope") == missing
    assert error(events.deauthorize_connection, Name="nope") == missing
    code, _ = error(events.create_connection, Name="bad name", AuthorizationType="BASIC", AuthParameters=BASIC)
    assert code == "ValidationException"
    assert [c["Name"] for c in events.list_connections()["Connections"]] == ["c"]


def test_list_filters_and_paging(events):
    for name in ("a1", "a2", "b1"):
        events.create_connection(Name=name, AuthorizationType="API_KEY", AuthParameters=API_KEY)
    events.deauthorize_connection(Name="a2")
    listed = events.list_connections()["Connections"]
    assert [c["Name"] for c in listed] == ["a1", "a2", "b1"]
    _no_secrets(listed)
    assert set(listed[0]) >= {"ConnectionArn", "Name", "ConnectionState", "AuthorizationType", "CreationTime"}
    assert [c["Name"] for c in events.list_connections(NamePrefix="a")["Connections"]] == ["a1", "a2"]
    assert [c["Name"] for c in events.list_connections(ConnectionState="DEAUTHORIZED")["Connections"]] == ["a2"]
    first = events.list_connections(Limit=2)
    assert [c["Name"] for c in first["Connections"]] == ["a1", "a2"]
    rest = events.list_connections(Limit=2, NextToken=first["NextToken"])
    assert [c["Name"] for c in rest["Connections"]] == ["b1"] and "NextToken" not in rest
    code, _ = error(events.list_connections, NextToken="garbage")
    assert code == "ValidationException"


OAUTH = {
    "OAuthParameters": {
        "ClientParameters": {"ClientID": "id", "ClientSecret": "new-secret"},
        "AuthorizationEndpoint": "https://auth.example.com/token",
        "HttpMethod": "POST",
    }
}


def test_update_switching_type_needs_the_whole_new_kind(events):
    events.create_connection(Name="s", AuthorizationType="BASIC", AuthParameters=BASIC)
    partial_oauth = {"OAuthParameters": {"ClientParameters": {"ClientID": "id", "ClientSecret": "x"}}}
    assert error(
        events.update_connection, Name="s", AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters=partial_oauth
    ) == (
        "ValidationException",
        "Parameter AuthParameters is not valid. Reason: OAuthParameters.AuthorizationEndpoint must be specified for "
        "AuthorizationType OAUTH_CLIENT_CREDENTIALS.",
    )
    key_without_name = {"ApiKeyAuthParameters": {"ApiKeyValue": "key-secret"}}
    code, message = error(
        events.update_connection, Name="s", AuthorizationType="API_KEY", AuthParameters=key_without_name
    )
    assert (code, "ApiKeyAuthParameters.ApiKeyName" in message) == ("ValidationException", True)
    # Keeping the type cannot add a second kind of authorization.
    code, message = error(events.update_connection, Name="s", AuthParameters=API_KEY)
    assert code == "ValidationException"
    assert message == (
        "Parameter AuthParameters is not valid. Reason: ApiKeyAuthParameters cannot be specified for "
        "AuthorizationType BASIC."
    )
    described = events.describe_connection(Name="s")  # nothing of the refused updates stuck
    assert (described["AuthorizationType"], described["ConnectionState"]) == ("BASIC", "AUTHORIZED")
    assert described["AuthParameters"] == {"BasicAuthParameters": {"Username": "user"}}

    out = events.update_connection(Name="s", AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters=OAUTH)
    assert out["ConnectionState"] == "AUTHORIZING"
    described = events.describe_connection(Name="s")
    _no_secrets(described)
    assert described["AuthorizationType"] == "OAUTH_CLIENT_CREDENTIALS"
    assert described["AuthParameters"] == {
        "OAuthParameters": {
            "ClientParameters": {"ClientID": "id"},
            "AuthorizationEndpoint": "https://auth.example.com/token",
            "HttpMethod": "POST",
        }
    }


def test_connectivity_parameters_are_described(events):
    config = f"arn:aws:vpc-lattice:{REGION}:{ACCOUNT}:resourceconfiguration/rcfg-0123456789abcdefg"
    resource = {"ResourceParameters": {"ResourceConfigurationArn": config}}
    auth = {**API_KEY, "ConnectivityParameters": resource}
    events.create_connection(
        Name="p", AuthorizationType="API_KEY", AuthParameters=auth, InvocationConnectivityParameters=resource
    )
    described = events.describe_connection(Name="p")
    assert described["InvocationConnectivityParameters"] == resource
    assert described["AuthParameters"]["ConnectivityParameters"] == resource


def test_authorization_endpoint_must_be_https(events):
    for endpoint, reason in (
        ("ftp://10.1.2.3/x", "AuthorizationEndpoint must be a valid HTTPS URL."),
        ("http://auth.example.com/token", "AuthorizationEndpoint must use HTTPS."),
        ("https://169.254.169.254/latest", "AuthorizationEndpoint must not be a link-local address."),
    ):
        auth = {"OAuthParameters": {**OAUTH["OAuthParameters"], "AuthorizationEndpoint": endpoint}}
        expected = (
            "ValidationException",
            f"Parameter AuthParameters.OAuthParameters.AuthorizationEndpoint is not valid. Reason: {reason}",
        )
        assert (
            error(events.create_connection, Name="o", AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters=auth)
            == expected
        )
    events.create_connection(Name="o", AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters=OAUTH)
    update = {"OAuthParameters": {"AuthorizationEndpoint": "http://169.254.169.254/latest/meta-data"}}
    assert error(events.update_connection, Name="o", AuthParameters=update)[0] == "ValidationException"
    described = events.describe_connection(Name="o")
    assert described["AuthParameters"]["OAuthParameters"]["AuthorizationEndpoint"] == "https://auth.example.com/token"
