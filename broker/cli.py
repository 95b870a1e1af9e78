"""`broker serve | db upgrade | lambda install-runtimes | bench | --version`.

Errors end with one clear line and a non-zero exit."""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys

from broker import __version__
from broker.config import RESOLVED_ENV, ConfigError, Settings, load_settings
from broker.metrics import directory as metrics_dir


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="TOML settings file (default: $BROKER_CONFIG)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--data-dir", help="directory of the embedded SQLite database (default ./data)")
    g.add_argument("--db-url", help="postgresql://user@host/db to share state between nodes")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="broker", description="Durable AWS messaging broker (SQS, ...).")
    p.add_argument("--version", action="version", version=f"broker {__version__}")
    sub = p.add_subparsers(dest="command")
    s = sub.add_parser("serve", help="run the broker")
    _common(s)
    s.add_argument("--host")
    s.add_argument("--port", type=int)
    s.add_argument("--workers", type=int, help="worker processes sharing the database")
    s.add_argument(
        "--test-mode",
        action="store_true",
        default=None,
        help="enable /_broker/clock and /_broker/reset (test suites only)",
    )
    db = sub.add_parser("db", help="database maintenance")
    dbsub = db.add_subparsers(dest="db_command")
    up = dbsub.add_parser("upgrade", help="apply migrations")
    _common(up)
    lam = sub.add_parser("lambda", help="Lambda execution")
    lamsub = lam.add_subparsers(dest="lambda_command")
    rt = lamsub.add_parser(
        "install-runtimes", help="install awslambdaric + boto3 per Python version and the AWS SDK for JavaScript"
    )
    rt.add_argument("--config", help="TOML settings file (default: $BROKER_CONFIG)")
    rt.add_argument("--runtimes-dir", help="where to install (default: the lambda_runtimes_dir setting)")
    rt.add_argument("--force", action="store_true", help="reinstall what is already installed")
    rt.add_argument("--no-node", action="store_true", help="skip the AWS SDK for JavaScript")
    b = sub.add_parser("bench", help="run a benchmark against a fresh broker")
    b.add_argument(
        "target",
        choices=["sqs", "sqs-fifo", "sns", "kinesis", "lambda", "lambda-esm", "apigateway", "events", "ordinary"],
    )
    b.add_argument("--duration", type=float, default=10.0)
    b.add_argument("--workers", type=int, default=2)
    b.add_argument("--connections", type=int, default=32)
    b.add_argument("--out", help="write results as JSON here")
    b.add_argument("--db-url", help="benchmark on this (empty) PostgreSQL database instead of SQLite")
    b.add_argument("--move-messages", type=int, default=10000, help="sqs-fifo: messages per move-task run")
    b.add_argument("--quick", action="store_true", help="lambda-esm: small counts, to check it runs end to end")
    b.add_argument("--targets", help="ordinary: comma-separated servers to compare (default: broker and all peers)")
    return p


def _settings(args: argparse.Namespace, **extra: object) -> Settings:
    overrides = {
        "data_dir": getattr(args, "data_dir", None),
        "db_url": getattr(args, "db_url", None),
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "workers": getattr(args, "workers", None),
        "test_mode": getattr(args, "test_mode", None),
        **extra,
    }
    return load_settings(getattr(args, "config", None), overrides)


def _check_port(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror}") from None


def _create_resources(settings: Settings) -> str:
    """Create the declared resources that are missing (before any worker serves); a failure is a config error."""
    if not settings.resources.declared:
        return ""
    from broker.resources.create import DeclarationError, create

    try:
        outcome = create(settings)
    except DeclarationError as e:
        raise ConfigError(f"declared resource {e}") from None
    for line in outcome.created:
        print(f"created {line}", flush=True)
    return f"{len(outcome.created)} created, {len(outcome.present)} already present"


def _banner(settings: Settings, resources: str) -> str:
    """What an operator needs to point clients at this broker."""
    from sqlalchemy.engine import make_url

    from broker.services.registry import SERVICES

    store = "postgresql" if settings.is_postgres else f"sqlite in {settings.state_dir}"
    url = make_url(settings.database_url())
    database = url.render_as_string(hide_password=True) if settings.is_postgres else str(url.database)
    # A wildcard address is reachable on loopback; the console link should work when clicked.
    shown = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    base = f"http://{'[' + shown + ']' if ':' in shown else shown}:{settings.port}"
    auth = {
        "none": f"none (a 12-digit access key names the account, any other acts in {settings.default_account})",
        "sigv4": "sigv4 (requests must be signed with a configured or IAM-created key)",
    }[settings.auth]
    lines = [
        f"broker {__version__} listening on http://{settings.host}:{settings.port} "
        f"({settings.workers} worker(s), {store})",
        f"  endpoint:  {base} (region {settings.default_region}, account {settings.default_account})",
        f"  services:  {', '.join(name.rstrip('_') for name in SERVICES)}",
        f"  database:  {database}",
        f"  auth:      {auth}",
        f"  console:   {base}/_broker/console/",
        f"  health:    {base}/_broker/health",
    ]
    if resources:
        lines.append(f"  resources: {resources}")
    return "\n".join(lines)


def serve(settings: Settings) -> None:
    import uvicorn

    from broker.http2 import HttpProtocol
    from broker.storage.migrate import upgrade

    _check_port(settings.host, settings.port)
    # Before anything imports prometheus_client: the workers inherit it and write their metrics there.
    metrics_path = metrics_dir.prepare(settings.state_dir, settings.port)
    try:
        try:
            upgrade(settings)
        except PermissionError as e:
            raise ConfigError(str(e)) from None
        except OSError as e:
            raise ConfigError(f"cannot use data dir {settings.state_dir}: {e.strerror or e}") from None
        except Exception as e:  # noqa: BLE001 - e.g. database unreachable
            raise ConfigError(f"cannot open the database: {str(e).splitlines()[0]}") from None
        created = _create_resources(settings)
        os.environ[RESOLVED_ENV] = json.dumps(settings.model_dump())
        print(_banner(settings, created), flush=True)
        uvicorn.run(
            "broker.app:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers if settings.workers > 1 else None,
            loop="uvloop",
            # HTTP/1.1 (uvicorn's httptools protocol, untouched) and HTTP/2 cleartext on the same port, told apart by
            # a connection's first bytes: the AWS SDK for JavaScript v3 speaks HTTP/2 to Kinesis.
            http=HttpProtocol,
            access_log=False,
            log_level="warning" if settings.log_level == "info" else settings.log_level,
            timeout_graceful_shutdown=5,
            # uvicorn kills a worker that misses a 5 s health ping: on a saturated 2-core machine a busy worker can,
            # and killing it only drops its connections. A truly hung worker is still replaced.
            timeout_worker_healthcheck=30,
            backlog=4096,
        )
    finally:
        metrics_dir.remove(metrics_path)  # also after a start that failed


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            serve(_settings(args))
        elif args.command == "db" and args.db_command == "upgrade":
            from broker.storage.migrate import upgrade

            settings = _settings(args)
            try:
                upgrade(settings)
            except Exception as e:  # noqa: BLE001
                raise ConfigError(f"migration failed: {str(e).splitlines()[0]}") from None
            print("database is at the latest schema")
        elif args.command == "lambda" and args.lambda_command == "install-runtimes":
            from broker.services.lambda_.execution.install import InstallError, install

            try:
                install(_settings(args, lambda_runtimes_dir=args.runtimes_dir), force=args.force, node=not args.no_node)
            except InstallError as e:
                raise ConfigError(str(e)) from None
        elif args.command == "bench":
            from broker.bench import run

            return run(args)
        else:
            _parser().print_help()
            return 2
    except ConfigError as e:
        print(f"broker: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
