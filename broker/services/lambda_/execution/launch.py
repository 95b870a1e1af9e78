"""How one environment is started: the command and the environment variables of a function's runtime.

Variables are AWS's (the "Defined runtime environment variables" of the Lambda developer guide), with the paths
of this machine where AWS has fixed ones: LAMBDA_TASK_ROOT is the unpacked code, layers stay in their own
directories (AWS merges them under /opt; here a later layer's directories come first on each path, so its files
win as they would on AWS).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from broker.config import Settings
from broker.services.lambda_.execution import interpreters
from broker.services.lambda_.execution.model import FunctionSpec

NODE_DIR = Path(__file__).resolve().parent / "node"
BASE_PATH = ("/usr/local/bin", "/usr/bin", "/bin")
# Each environment gets new credentials of its execution role's session (FunctionSpec.credentials), valid for 12
# hours, the longest role session AWS issues; with auth = "sigv4" the engine replaces an environment before they
# run out (AWS recycles its environments too), so a warm environment never signs with expired credentials.
SESSION_SECONDS = 43200
# Stand-ins for an engine run without a broker (no credentials given): the access key id is the function's
# account, which the broker takes as the caller's account with auth = "none".
SECRET_ACCESS_KEY = "lambda-execution-role-secret"
SESSION_TOKEN = "lambda-execution-role-session-token"


class LaunchError(Exception):
    """The runtime cannot start: Invoke answers `error_type` with `reason` (as AWS words it)."""

    def __init__(self, error_type: str, reason: str) -> None:
        super().__init__(reason)
        self.error_type = error_type
        self.reason = reason


@dataclass
class Launch:
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    notes: list[str] = field(default_factory=list)  # lines the function's log gets at init
    credentials_expire_ms: int | None = None  # when the environment's credentials expire (None: stand-ins)


def build(
    settings: Settings,
    fn: FunctionSpec,
    *,
    runtime_api: str,
    log_stream: str,
    endpoint_url: str,
    scratch: Path,
) -> Launch:
    """Raises LaunchError for a runtime this machine cannot run."""
    layers_last_first = list(reversed(fn.layer_dirs))
    issued = fn.credentials() if fn.credentials is not None else None
    env: dict[str, str] = {
        "AWS_LAMBDA_RUNTIME_API": runtime_api,
        "_HANDLER": fn.handler,
        "LAMBDA_TASK_ROOT": str(fn.code_dir),
        "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": fn.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
        "AWS_LAMBDA_LOG_GROUP_NAME": fn.log_group,
        "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
        "AWS_LAMBDA_INITIALIZATION_TYPE": fn.initialization_type,
        "AWS_REGION": fn.region,
        "AWS_DEFAULT_REGION": fn.region,
        "AWS_ACCESS_KEY_ID": issued.access_key_id if issued else fn.account,
        "AWS_SECRET_ACCESS_KEY": issued.secret_access_key if issued else SECRET_ACCESS_KEY,
        "AWS_SESSION_TOKEN": issued.session_token if issued else SESSION_TOKEN,
        "AWS_ENDPOINT_URL": endpoint_url,
        "TZ": ":UTC",
        "LANG": "en_US.UTF-8",
        # AWS's /tmp is the environment's own: here a scratch directory, removed with the environment.
        "TMPDIR": str(scratch),
        "HOME": str(scratch),
    }
    notes: list[str] = []
    lib_dirs = [str(fn.code_dir), str(fn.code_dir / "lib"), *(str(layer / "lib") for layer in layers_last_first)]
    bin_dirs = [str(layer / "bin") for layer in layers_last_first]
    wrapper = _exec_wrapper(fn)
    if fn.runtime in interpreters.PYTHON_RUNTIMES:
        argv, runtime_dir, first_bin = _python(settings, fn, env, layers_last_first, notes)
    elif fn.runtime in interpreters.NODE_RUNTIMES:
        argv, runtime_dir, first_bin = _node(settings, fn, env, layers_last_first, notes)
    elif fn.runtime in interpreters.PROVIDED_RUNTIMES:
        argv, runtime_dir, first_bin = _provided(settings, fn, layers_last_first)
        wrapper = None  # AWS runs no wrapper script on OS-only runtimes
    else:
        raise LaunchError("Runtime.InvalidEntrypoint", f"runtime {fn.runtime} is not supported by this broker")
    env["LAMBDA_RUNTIME_DIR"] = str(runtime_dir)
    env["PATH"] = os.pathsep.join(dict.fromkeys([*first_bin, *BASE_PATH, *bin_dirs]))
    env["LD_LIBRARY_PATH"] = os.pathsep.join([str(runtime_dir), str(runtime_dir / "lib"), *lib_dirs])
    for name, value in fn.environment.items():
        if name == "PYTHONPATH" and "PYTHONPATH" in env:
            env[name] = os.pathsep.join([value, env["PYTHONPATH"]])
        else:
            env[name] = value
    if wrapper is not None:
        if not os.access(wrapper, os.X_OK):
            raise LaunchError("Runtime.InvalidEntrypoint", f"fork/exec {wrapper}: permission denied")
        argv = [wrapper, *argv]
    return Launch(argv, env, fn.code_dir, notes, issued.expiration_ms if issued else None)


def _python(
    settings: Settings, fn: FunctionSpec, env: dict[str, str], layers: list[Path], notes: list[str]
) -> tuple[list[str], Path, list[str]]:
    choice = interpreters.choose_python(settings, fn.runtime)
    if choice.note:
        notes.append(choice.note)
    version = fn.runtime.removeprefix("python")
    paths = [str(fn.code_dir)]
    for layer in layers:
        paths += [str(layer / "python" / "lib" / f"python{version}" / "site-packages"), str(layer / "python")]
    runtime_dir = choice.site or interpreters.runtimes_dir(settings) / "python"
    if choice.site is not None:
        paths.append(str(choice.site))
    env["PYTHONPATH"] = os.pathsep.join(paths)
    # The code directory is read-only on AWS, so no __pycache__ is written there; it must not change here either.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["AWS_EXECUTION_ENV"] = f"AWS_Lambda_{fn.runtime}"
    return [choice.executable, "-m", "awslambdaric", fn.handler], runtime_dir, [str(Path(choice.executable).parent)]


def _node(
    settings: Settings, fn: FunctionSpec, env: dict[str, str], layers: list[Path], notes: list[str]
) -> tuple[list[str], Path, list[str]]:
    binary = interpreters.node_binary(settings.lambda_node_binary)
    if binary is None:
        raise LaunchError(
            "Runtime.InvalidEntrypoint", f"fork/exec {settings.lambda_node_binary}: no such file or directory"
        )
    major = fn.runtime.removeprefix("nodejs").removesuffix(".x")
    version = interpreters.node_version(binary)
    if not version.startswith(f"v{major}."):
        notes.append(f"broker: {fn.runtime} runs on the machine's node {version or '?'} ({binary})")
    paths = []
    for layer in layers:
        paths += [str(layer / "nodejs" / f"node{major}" / "node_modules"), str(layer / "nodejs" / "node_modules")]
    paths += [str(interpreters.node_modules(settings)), str(NODE_DIR), str(fn.code_dir)]
    env["NODE_PATH"] = os.pathsep.join(paths)
    env["AWS_EXECUTION_ENV"] = f"AWS_Lambda_{fn.runtime}"
    argv = [binary, "--import", (NODE_DIR / "register.mjs").as_uri(), str(NODE_DIR / "bootstrap.mjs")]
    return argv, NODE_DIR, [str(Path(binary).parent)]


def _provided(settings: Settings, fn: FunctionSpec, layers: list[Path]) -> tuple[list[str], Path, list[str]]:
    candidates = [fn.code_dir / "bootstrap", *(layer / "bootstrap" for layer in layers)]
    bootstrap = next((path for path in candidates if path.is_file()), None)
    if bootstrap is None:
        shown = " ".join(str(path) for path in candidates)
        raise LaunchError("Runtime.InvalidEntrypoint", f"Couldn't find valid bootstrap(s): [{shown}]")
    if not os.access(bootstrap, os.X_OK):
        raise LaunchError("Runtime.InvalidEntrypoint", f"fork/exec {bootstrap}: permission denied")
    argv = [str(bootstrap)]
    with open(bootstrap, "rb") as f:
        shebang = f.readline(128)
    if shebang.startswith(b"#!") and shebang[2:].strip().split(b" ")[0] in (b"/bin/sh", b"/usr/bin/sh"):
        # On Amazon Linux sh is bash (in POSIX mode); elsewhere it may be dash.
        argv = [_bash(), "--posix", str(bootstrap)]
    return argv, interpreters.runtimes_dir(settings), []


def _bash() -> str:
    for candidate in ("/bin/bash", "/usr/bin/bash"):
        if os.access(candidate, os.X_OK):
            return candidate
    return "sh"


def _exec_wrapper(fn: FunctionSpec) -> str | None:
    """AWS_LAMBDA_EXEC_WRAPPER names a script as the function sees its files: /opt/... (a layer) or /var/task/..."""
    value = fn.environment.get("AWS_LAMBDA_EXEC_WRAPPER")
    if not value:
        return None
    if value.startswith("/opt/"):
        rest = value.removeprefix("/opt/")
        for layer in reversed(fn.layer_dirs):
            if (layer / rest).exists():
                return str(layer / rest)
    if value.startswith("/var/task/"):
        return str(fn.code_dir / value.removeprefix("/var/task/"))
    return value
