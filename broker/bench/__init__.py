"""`broker bench`: reproducible load figures. wrk (a C load generator) drives the HTTP load so the client does not
eat the cores it measures; every figure is reported with the raw-ASGI "hello" ceiling of the same run."""

from __future__ import annotations

import argparse


def run(args: argparse.Namespace) -> int:
    if args.target == "sqs-fifo":
        from broker.bench.sqs_fifo import main
    elif args.target == "sns":
        from broker.bench.sns import main
    elif args.target == "kinesis":
        from broker.bench.kinesis import main
    elif args.target == "lambda":
        from broker.bench.lambda_ import main
    elif args.target == "lambda-esm":
        from broker.bench.lambda_esm import main
    elif args.target == "apigateway":
        from broker.bench.apigateway import main
    elif args.target == "events":
        from broker.bench.events import main
    elif args.target == "ordinary":
        from broker.bench.ordinary import main
    else:
        from broker.bench.sqs import main
    return main(args)
