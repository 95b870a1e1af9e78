// The broker's Lambda Runtime API client for the nodejs runtimes: loads the handler (CommonJS or ES module), then
// serves invocations one at a time as AWS's Node.js runtime does (async and callback handlers, the context object,
// console lines "<ISO time>\t<request id>\t<LEVEL>\t<message>", errors as {errorType, errorMessage, trace},
// awslambda.streamifyResponse for response streaming).
import fs from "node:fs";
import http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";
import { Writable } from "node:stream";
import { pathToFileURL } from "node:url";
import util from "node:util";

const env = process.env;
const [API_HOST, API_PORT] = env.AWS_LAMBDA_RUNTIME_API.split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const BOOTSTRAP = new URL(import.meta.url).pathname;
const STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
const HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response";

let currentRequestId;

// --- logging ------------------------------------------------------------------------------------------------

const JSON_LOGS = (env.AWS_LAMBDA_LOG_FORMAT || "").toUpperCase() === "JSON";
const LEVELS = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4, FATAL: 5 };
const MIN_LEVEL = LEVELS[(env.AWS_LAMBDA_LOG_LEVEL || "").toUpperCase()] ?? 0;

function emit(level, args) {
  if (LEVELS[level] < MIN_LEVEL) return;
  const message = util.format(...args);
  let line;
  if (JSON_LOGS) {
    line = JSON.stringify({ timestamp: new Date().toISOString(), level, requestId: currentRequestId, message });
  } else {
    // One log event per call: newlines inside a message become carriage returns, as AWS's runtime writes them.
    line = `${new Date().toISOString()}\t${currentRequestId}\t${level}\t${message}`.replace(/\n/g, "\r");
  }
  fs.writeSync(1, line + "\n");
}

console.log = (...args) => emit("INFO", args);
console.info = (...args) => emit("INFO", args);
console.warn = (...args) => emit("WARN", args);
console.error = (...args) => emit("ERROR", args);
console.debug = (...args) => emit("DEBUG", args);
console.trace = (...args) => {
  const stack = new Error().stack.split("\n").slice(2).join("\n");
  emit("TRACE", [`Trace: ${util.format(...args)}\n${stack}`]);
};
console.fatal = (...args) => emit("FATAL", args);

// --- Runtime API --------------------------------------------------------------------------------------------

function api(method, route, headers = {}, body = undefined) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: API_HOST, port: API_PORT, method, path: `/2018-06-01/runtime/${route}`, headers, agent },
      (res) => {
        const chunks = [];
        res.on("data", (chunk) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function errorDocument(error) {
  try {
    if (error instanceof Error || (error && typeof error === "object" && "message" in error && "name" in error)) {
      return {
        errorType: String(error.name),
        errorMessage: String(error.message),
        trace: String(error.stack || "").split("\n"),
      };
    }
    return { errorType: typeof error, errorMessage: String(error), trace: [] };
  } catch {
    return {
      errorType: "handled",
      errorMessage:
        "callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack",
    };
  }
}

async function postError(route, doc) {
  const body = JSON.stringify(doc);
  return api(
    "POST",
    route,
    {
      "Content-Type": "application/json",
      "Content-Length": Buffer.byteLength(body),
      "Lambda-Runtime-Function-Error-Type": doc.errorType,
    },
    body,
  );
}

function logError(prefix, doc) {
  console.error(prefix, "\t" + JSON.stringify({ errorType: doc.errorType, errorMessage: doc.errorMessage, stack: doc.trace }));
}

async function initFailed(doc) {
  logError("Uncaught Exception", doc);
  try {
    await postError("init/error", doc);
  } finally {
    process.exit(129);
  }
}

// --- loading the handler ------------------------------------------------------------------------------------

class UserError extends Error {
  constructor(name, message) {
    super(message);
    this.name = name;
  }
}

function isModulePackage(file) {
  let dir = path.dirname(file);
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg)) {
      try {
        return JSON.parse(fs.readFileSync(pkg, "utf8")).type === "module";
      } catch {
        return false;
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return false;
    dir = up;
  }
}

async function loadModule(root, moduleName) {
  const base = path.resolve(root, moduleName);
  const require = createRequire(path.join(root, "__lambda__.js"));
  for (const ext of [".js", ".mjs", ".cjs"]) {
    const file = base + ext;
    if (!fs.existsSync(file)) continue;
    if (ext === ".mjs" || (ext === ".js" && isModulePackage(file))) return import(pathToFileURL(file).href);
    try {
      return require(file);
    } catch (err) {
      if (err?.code === "ERR_REQUIRE_ESM") return import(pathToFileURL(file).href);
      throw err;
    }
  }
  try {
    return require(require.resolve(base));
  } catch (err) {
    if (err?.code === "MODULE_NOT_FOUND" && String(err.message).includes(base)) {
      throw new UserError(
        "Runtime.ImportModuleError",
        `Error: Cannot find module '${moduleName}'\nRequire stack:\n- ${BOOTSTRAP}`,
      );
    }
    throw err;
  }
}

async function loadHandler() {
  const spec = env._HANDLER || "";
  const slash = spec.lastIndexOf("/");
  const dir = spec.slice(0, slash + 1);
  const rest = spec.slice(slash + 1);
  const dot = rest.indexOf(".");
  if (dot < 1 || dot === rest.length - 1) throw new UserError("Runtime.MalformedHandlerName", "Bad handler");
  const moduleName = dir + rest.slice(0, dot);
  const functionPath = rest.slice(dot + 1);
  let mod;
  try {
    mod = await loadModule(env.LAMBDA_TASK_ROOT, moduleName);
  } catch (err) {
    if (err instanceof UserError) throw err;
    if (err instanceof SyntaxError) throw new UserError("Runtime.UserCodeSyntaxError", `${err.name}: ${err.message}`);
    if (err?.code === "ERR_MODULE_NOT_FOUND" || err?.code === "MODULE_NOT_FOUND") {
      throw new UserError("Runtime.ImportModuleError", `Error: ${err.message}`);
    }
    throw err;
  }
  let handler = mod;
  for (const part of functionPath.split(".")) handler = handler?.[part];
  if (handler === undefined && mod?.default) {
    handler = mod.default;
    for (const part of functionPath.split(".")) handler = handler?.[part];
  }
  if (typeof handler !== "function") {
    throw new UserError("Runtime.HandlerNotFound", `${rest} is undefined or not exported`);
  }
  return handler;
}

// --- response streaming -------------------------------------------------------------------------------------

globalThis.awslambda = {
  streamifyResponse(handler) {
    handler[STREAMING] = true;
    return handler;
  },
  HttpResponseStream: {
    from(stream, prelude) {
      stream.setContentType(HTTP_INTEGRATION);
      stream.write(JSON.stringify(prelude));
      stream.write(Buffer.alloc(8));
      return stream;
    },
  },
};

function responseStream(requestId) {
  let contentType = "application/octet-stream";
  let request;
  let done;
  const finished = new Promise((resolve, reject) => (done = { resolve, reject }));
  const open = () => {
    if (request) return request;
    request = http.request({
      host: API_HOST,
      port: API_PORT,
      method: "POST",
      path: `/2018-06-01/runtime/invocation/${requestId}/response`,
      agent,
      headers: {
        "Content-Type": contentType,
        "Transfer-Encoding": "chunked",
        "Lambda-Runtime-Function-Response-Mode": "streaming",
        Trailer: "Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body",
      },
    });
    request.on("response", (res) => {
      res.resume();
      res.on("end", done.resolve);
    });
    request.on("error", done.reject);
    return request;
  };
  const stream = new Writable({
    write(chunk, encoding, callback) {
      open().write(chunk, encoding, callback);
    },
    final(callback) {
      open().end();
      callback();
    },
  });
  stream.setContentType = (value) => {
    contentType = value;
  };
  stream.fail = (doc) => {
    const req = open();
    req.addTrailers({
      "Lambda-Runtime-Function-Error-Type": doc.errorType,
      "Lambda-Runtime-Function-Error-Body": Buffer.from(JSON.stringify(doc)).toString("base64"),
    });
    req.end();
  };
  stream.finished = finished;
  return stream;
}

// --- invoking -----------------------------------------------------------------------------------------------

function parseJson(value) {
  if (!value) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    return undefined;
  }
}

function makeContext(headers, requestId, finish) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"]);
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: requestId,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: parseJson(headers["lambda-runtime-client-context"]),
    identity: parseJson(headers["lambda-runtime-cognito-identity"]),
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
  const state = { called: false };
  const callback = (err, result) => {
    if (state.called) return;
    state.called = true;
    const outcome = err !== undefined && err !== null ? { error: err } : { result };
    if (context.callbackWaitsForEmptyEventLoop) {
      // Answer once the event loop has nothing left to do, as AWS's runtime does for callback handlers.
      onEmptyLoop(() => finish(outcome));
    } else {
      finish(outcome);
    }
  };
  context.done = callback;
  context.succeed = (result) => callback(null, result);
  context.fail = (err) => callback(err ?? "handled");
  return { context, callback, state };
}

const loopWaiters = [];

function onEmptyLoop(listener) {
  loopWaiters.push(listener);
  process.once("beforeExit", listener);
}

function clearLoopWaiters() {
  for (const listener of loopWaiters.splice(0)) process.removeListener("beforeExit", listener);
}

let current;

async function invoke(handler, next) {
  const headers = next.headers;
  const requestId = headers["lambda-runtime-aws-request-id"];
  currentRequestId = requestId;
  if (headers["lambda-runtime-trace-id"]) env._X_AMZN_TRACE_ID = headers["lambda-runtime-trace-id"];
  else delete env._X_AMZN_TRACE_ID;
  const event = next.body.length ? JSON.parse(next.body.toString("utf8")) : undefined;
  current = { requestId, answered: false };

  if (handler[STREAMING]) {
    const stream = responseStream(requestId);
    const { context } = makeContext(headers, requestId, () => {});
    try {
      await handler(event, stream, context);
      if (!stream.writableEnded) stream.end();
    } catch (err) {
      const doc = errorDocument(err);
      logError("Invoke Error", doc);
      stream.fail(doc);
    }
    current.answered = true;
    await stream.finished.catch(() => {});
    return;
  }

  const outcome = await new Promise((resolve) => {
    let settled = false;
    const finish = (value) => {
      if (!settled) {
        settled = true;
        resolve(value);
      }
    };
    const { context, callback, state } = makeContext(headers, requestId, finish);
    try {
      const returned = handler(event, context, callback);
      if (returned && typeof returned.then === "function") {
        returned.then(
          (result) => finish({ result }),
          (error) => finish({ error }),
        );
      } else {
        // No promise and (yet) no callback: the answer is null once the event loop is empty.
        onEmptyLoop(() => state.called || finish({ result: null }));
      }
    } catch (error) {
      finish({ error });
    }
  });
  clearLoopWaiters();
  current.answered = true;
  if ("error" in outcome) {
    const doc = errorDocument(outcome.error);
    logError("Invoke Error", doc);
    await postError(`invocation/${requestId}/error`, doc);
    return;
  }
  let body;
  try {
    body = JSON.stringify(outcome.result === undefined ? null : outcome.result);
  } catch (error) {
    const doc = errorDocument(error);
    logError("Invoke Error", doc);
    await postError(`invocation/${requestId}/error`, doc);
    return;
  }
  await api(
    "POST",
    `invocation/${requestId}/response`,
    { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
    body,
  );
}

async function fatal(doc) {
  logError("Uncaught Exception", doc);
  if (current && !current.answered) {
    current.answered = true;
    try {
      await postError(`invocation/${current.requestId}/error`, doc);
    } catch {
      // the environment goes away either way
    }
  }
  process.exit(129);
}

process.on("uncaughtException", (error) => fatal(errorDocument(error)));
process.on("unhandledRejection", (reason) => {
  const inner = errorDocument(reason);
  fatal({
    errorType: "Runtime.UnhandledPromiseRejection",
    errorMessage: `${inner.errorType}: ${inner.errorMessage}`,
    trace: [`Runtime.UnhandledPromiseRejection: ${inner.errorType}: ${inner.errorMessage}`, ...(inner.trace || [])],
  });
});

let handler;
try {
  handler = await loadHandler();
} catch (err) {
  await initFailed(errorDocument(err));
}

for (;;) {
  const next = await api("GET", "invocation/next");
  if (next.status !== 200) {
    console.error(`invocation/next answered ${next.status}: ${next.body}`);
    process.exit(1);
  }
  await invoke(handler, next);
}
