"""Runs one Lambda handler on this machine for `eventpipe invoke --local`.

argv: the handler (`app.handler`, `pkg/mod.fn`), the function's name, its
memory in MB, its timeout in seconds, the request id, the marker. The event
is read from standard input. What the handler prints (and its traceback)
goes to standard output as its log; the last line is the marker followed by
{"ok": true, "result": ...} or {"ok": false, "error": {...}}, the error in
Lambda's shape (errorMessage, errorType, stackTrace).
"""

import importlib
import json
import os
import sys
import time
import traceback


class Context:
    def __init__(self, name, memory, timeout, request_id):
        self.function_name = name
        self.function_version = "$LATEST"
        self.invoked_function_arn = os.environ.get("EVENTPIPE_FUNCTION_ARN", "")
        self.memory_limit_in_mb = memory
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + float(timeout)

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _emit(marker, document):
    sys.stdout.flush()
    sys.stdout.write("\n" + marker + json.dumps(document, default=str) + "\n")
    sys.stdout.flush()


def main():
    handler, name, memory, timeout, request_id, marker = sys.argv[1:7]
    # Lambda sends both streams to the log, in order.
    os.dup2(1, 2)
    sys.stderr = sys.stdout
    event = json.loads(sys.stdin.read())
    sys.path.insert(0, os.getcwd())
    try:
        module_name, _, function_name = handler.rpartition(".")
        module = importlib.import_module(module_name.replace("/", "."))
        function = getattr(module, function_name)
        result = function(event, Context(name, memory, timeout, request_id))
        text = json.dumps(result)
    except Exception as e:  # the handler's failure, reported as Lambda does
        # The handler's frames, not the runner's.
        tb = e.__traceback__
        if tb is not None and tb.tb_frame.f_code.co_filename == "<string>":
            tb = tb.tb_next
        traceback.print_exception(type(e), e, tb)
        error = {
            "errorMessage": str(e),
            "errorType": type(e).__name__,
            "stackTrace": traceback.format_tb(tb),
        }
        _emit(marker, {"ok": False, "error": error})
        return
    _emit(marker, {"ok": True, "result": json.loads(text)})


main()
