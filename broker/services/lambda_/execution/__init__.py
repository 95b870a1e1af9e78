"""The Lambda execution engine: functions run as local processes speaking the Lambda Runtime API.

Modules: `model` (what goes in and out), `engine` (pools of environments per worker), `environment` (one
environment's lifecycle and its side of the Runtime API), `runtime_api` (the HTTP server on each environment's
port), `process` (spawn, output pipe, kill, reap, memory), `launch` (command and variables per runtime),
`interpreters` (which programs run which runtime), `documents` (AWS's error documents and log lines), `install`
(`broker lambda install-runtimes`), `node/` (the Node.js runtime client).
"""

from broker.services.lambda_.execution.engine import Engine
from broker.services.lambda_.execution.model import ExecutionDisabled, FunctionSpec, Invocation, Outcome

__all__ = ["Engine", "ExecutionDisabled", "FunctionSpec", "Invocation", "Outcome"]
