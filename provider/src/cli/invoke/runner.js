// Runs one Lambda handler on this machine for `eventpipe invoke --local`.
//
// argv: the handler (`index.handler`, `src/app.handler`), the function's
// name, its memory in MB, its timeout in seconds, the request id, the
// marker. The event is read from standard input. What the handler prints
// goes to standard output as its log; the last line is the marker followed
// by {"ok": true, "result": ...} or {"ok": false, "error": {...}}, the
// error in Lambda's shape (errorMessage, errorType, stackTrace).
"use strict";

const fs = require("fs");
const path = require("path");
const { pathToFileURL } = require("url");

// Its six arguments are the last ones (`node -e` keeps no script path).
const [handler, name, memory, timeout, requestId, marker] = process.argv.slice(-6);
// Lambda sends both streams to the log, in order.
process.stderr.write = process.stdout.write.bind(process.stdout);

function emit(document) {
  process.stdout.write("\n" + marker + JSON.stringify(document) + "\n");
}

function lambdaError(e) {
  const err = e instanceof Error ? e : new Error(String(e));
  return {
    errorType: err.name || "Error",
    errorMessage: err.message,
    stackTrace: String(err.stack || "").split("\n").slice(1).map((l) => l.trim()),
  };
}

async function load(modulePath) {
  for (const ext of [".js", ".mjs", ".cjs"]) {
    const file = path.resolve(process.cwd(), modulePath + ext);
    if (fs.existsSync(file)) {
      if (ext === ".mjs") return import(pathToFileURL(file).href);
      try {
        return require(file);
      } catch (e) {
        // A .js file of a package with "type": "module".
        if (e && e.code === "ERR_REQUIRE_ESM") return import(pathToFileURL(file).href);
        throw e;
      }
    }
  }
  throw new Error(`Cannot find module '${modulePath}' (.js, .mjs or .cjs) in ${process.cwd()}`);
}

function context() {
  const deadline = Date.now() + Number(timeout) * 1000;
  return {
    functionName: name,
    functionVersion: "$LATEST",
    invokedFunctionArn: process.env.EVENTPIPE_FUNCTION_ARN || "",
    memoryLimitInMB: memory,
    awsRequestId: requestId,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME || "",
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME || "",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

async function main() {
  const input = fs.readFileSync(0, "utf8");
  const event = JSON.parse(input);
  const dot = handler.lastIndexOf(".");
  const mod = await load(handler.slice(0, dot));
  const fn = handler.slice(dot + 1);
  const f = mod[fn] || (mod.default && mod.default[fn]);
  if (typeof f !== "function") {
    throw Object.assign(new Error(`${handler} is undefined or not exported`), {
      name: "Runtime.HandlerNotFound",
    });
  }
  const ctx = context();
  if (f.length >= 3) {
    return await new Promise((resolve, reject) => {
      const r = f(event, ctx, (err, value) => (err ? reject(err) : resolve(value)));
      if (r && typeof r.then === "function") r.then(resolve, reject);
    });
  }
  return await f(event, ctx);
}

main().then(
  (result) => emit({ ok: true, result: result === undefined ? null : result }),
  (e) => {
    console.error(e && e.stack ? e.stack : String(e));
    emit({ ok: false, error: lambdaError(e) });
  },
);
