"""How declared resources are written (TOML tables, or BROKER_RESOURCES as JSON) and how a wrong declaration
fails the start: one line naming the declaration and AWS's own error, a non-zero exit, nothing served."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from broker.cli import main
from broker.config import ConfigError, load_settings
from tests.server import ROOT, free_port


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "broker.toml"
    path.write_text(text)
    return str(path)


def test_toml_tables_become_the_model(tmp_path: Path) -> None:
    config = _write(
        tmp_path,
        """
[[resources.queues]]
name = "orders"
region = "eu-west-1"
attributes = { VisibilityTimeout = 30, RedrivePolicy = { deadLetterTargetArn = "arn:x", maxReceiveCount = 2 } }

[[resources.topics]]
name = "events"
[[resources.topics.subscriptions]]
protocol = "sqs"
endpoint = "orders"
attributes = { RawMessageDelivery = true }

[[resources.streams]]
name = "clicks"
mode = "ON_DEMAND"
""",
    )
    resources = load_settings(config, environ={}).resources
    [queue] = resources.queues
    assert queue.region == "eu-west-1" and queue.account is None
    assert queue.attributes == {
        "VisibilityTimeout": "30",
        "RedrivePolicy": '{"deadLetterTargetArn":"arn:x","maxReceiveCount":2}',
    }
    assert resources.topics[0].subscriptions[0].attributes == {"RawMessageDelivery": "true"}
    assert resources.streams[0].mode == "ON_DEMAND"
    assert resources.declared == 3


def test_environment_form_is_json() -> None:
    settings = load_settings(environ={"BROKER_RESOURCES": '{"queues": [{"name": "a"}, {"name": "b"}]}'})
    assert [q.name for q in settings.resources.queues] == ["a", "b"]
    with pytest.raises(ConfigError, match="invalid setting resources: .*must be a JSON object"):
        load_settings(environ={"BROKER_RESOURCES": "queues=a"})


def test_a_misspelt_key_is_a_config_error(tmp_path: Path) -> None:
    config = _write(tmp_path, '[[resources.queues]]\nname = "a"\nattributes = {}\nvisibility = 3\n')
    with pytest.raises(ConfigError, match=r"invalid setting resources\.queues\.0\.visibility: Extra inputs"):
        load_settings(config, environ={})


def _serve(tmp_path: Path, config: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "broker", "serve", "--config", config, "--data-dir", str(tmp_path / "data")]
    return subprocess.run(
        [*cmd, "--port", str(free_port())], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )


def _serve_here(
    tmp_path: Path, config: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    """`broker serve` in this process, for a start that must fail before serving: exit code, stdout, stderr."""

    def went_on(*args: object, **kwargs: object) -> None:
        raise AssertionError("the start went on to serve")

    monkeypatch.setattr("uvicorn.run", went_on)
    code = main(["serve", "--config", config, "--data-dir", str(tmp_path / "data"), "--port", str(free_port())])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_bad_declaration_ends_the_process_with_one_line(tmp_path: Path) -> None:
    config = _write(tmp_path, '[[resources.queues]]\nname = "bad"\nattributes = { VisibilityTimeot = 3 }\n')
    done = _serve(tmp_path, config)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.strip() == (
        "broker: error: declared resource resources.queues[0] 'bad': InvalidAttributeName: "
        "Unknown Attribute VisibilityTimeot."
    )
    assert "listening on" not in done.stdout  # nothing was served


@pytest.mark.parametrize(
    ("declaration", "expected"),
    [
        (
            '[[resources.topics]]\nname = "t"\n[[resources.topics.subscriptions]]\nprotocol = "sqs"\n'
            'endpoint = "q"\nattributes = { RawMessageDelivery = "maybe" }\n',
            "broker: error: declared resource resources.topics[0] 't': InvalidParameter: ",
        ),
        (
            '[[resources.queues]]\nname = "ok"\n[[resources.functions]]\nname = "f"\nruntime = "python3.12"\n'
            'handler = "app.handler"\ncode = "no/such/dir"\n',
            "broker: error: declared resource resources.functions[0] 'f': code 'no/such/dir' does not exist",
        ),
        (
            '[[resources.event_source_mappings]]\nfunction = "f"\nsource = "nowhere"\n',
            "broker: error: declared resource resources.event_source_mappings[0] 'nowhere' -> 'f': "
            "no queue or stream named 'nowhere' in 000000000000/us-east-1",
        ),
        (
            '[[resources.streams]]\nname = "s"\nshard_count = 0\n',
            "broker: error: declared resource resources.streams[0] 's': ValidationException: ",
        ),
    ],
    ids=["bad-subscription-attribute", "missing-code", "unknown-source", "zero-shards"],
)
def test_a_bad_declaration_fails_the_start(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    declaration: str,
    expected: str,
) -> None:
    code, out, err = _serve_here(tmp_path, _write(tmp_path, declaration), capsys, monkeypatch)
    assert code == 1, out + err
    assert err.strip().startswith(expected), err
    assert len(err.strip().splitlines()) == 1
    assert "listening on" not in out


def test_declarations_before_the_failure_stay_and_the_fixed_start_goes_on(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = '[[resources.queues]]\nname = "first"\n[[resources.queues]]\nname = "second"\nattributes = { Nope = 1 }\n'
    assert _serve_here(tmp_path, _write(tmp_path, bad), capsys, monkeypatch)[0] == 1
    good = bad.replace("attributes = { Nope = 1 }\n", "")
    # The fixed configuration starts: "first" exists already, "second" is created; the banner says so (the server
    # is stopped as soon as it printed it).
    config = _write(tmp_path, good)
    cmd = [sys.executable, "-m", "broker", "serve", "--config", config, "--data-dir", str(tmp_path / "data")]
    proc = subprocess.Popen(
        [*cmd, "--port", str(free_port())], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        lines = []
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if line.startswith("  resources:"):
                break
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    text = "".join(lines)
    assert "created queue second (000000000000/us-east-1)" in text
    assert "created queue first" not in text
    assert "  resources: 1 created, 1 already present" in text, text
