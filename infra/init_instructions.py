#!/usr/bin/env python3
"""Instructions a Lambda binary executes from exec until it first asks for work (its init), counted
by valgrind's callgrind: stable on a shared, noisy machine where milliseconds are not.

A minimal Runtime API on 127.0.0.1 answers nothing: the first GET .../invocation/next marks the end
of init, and the process is stopped there (SIGTERM; callgrind writes its counts on the way out).

usage: init_instructions.py [--env K=V ...] BINARY [BINARY ...]   prints "<binary> <instructions>"
"""
import argparse
import http.server
import os
import signal
import subprocess
import sys
import tempfile
import threading


def count(binary, env):
    asked = threading.Event()

    class Api(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            asked.set()
            asked_done.wait(30)

    asked_done = threading.Event()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out = tempfile.NamedTemporaryFile(suffix=".callgrind", delete=False).name
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{server.server_address[1]}",
        "AWS_LAMBDA_FUNCTION_NAME": os.path.basename(binary),
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        **env,
    }
    process = subprocess.Popen(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary],
        env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        if not asked.wait(120):
            raise SystemExit(f"{binary}: never asked for work")
        process.send_signal(signal.SIGTERM)
        process.wait(60)
    finally:
        asked_done.set()
        server.shutdown()
    with open(out) as f:
        totals = [line for line in f if line.startswith(("summary:", "totals:"))]
    os.unlink(out)
    return int(totals[-1].split()[1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--env", action="append", default=[])
    parser.add_argument("binaries", nargs="+")
    args = parser.parse_args()
    env = dict(item.split("=", 1) for item in args.env)
    for binary in args.binaries:
        print(os.path.basename(binary), count(binary, env), flush=True)


if __name__ == "__main__":
    main()
