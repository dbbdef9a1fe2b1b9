#!/usr/bin/env python3
"""Lambda cold starts of this project's binaries, measured on this machine: a minimal Lambda
Runtime API on 127.0.0.1 hands each freshly started process one event.

  coldstart.py times [-n RUNS] --event FILE [--env K=V ...] BASELINE BINARY...
      Runs alternate (B F B F ...) so the machine's drift hits each pair alike. Prints one JSON
      object per binary: size, and the medians of init (exec until the first GET
      .../invocation/next: Lambda's Init Duration), first response (until the answer to the event
      is posted) and peak RSS (VmHWM, sampled), and, for each binary after the baseline, the
      median of its per-pair init ratios.
  coldstart.py instructions [--env K=V ...] BINARY...
      The instructions each binary executes until it first asks for work, counted by valgrind's
      callgrind: stable where milliseconds are not. One JSON object per binary.

The binaries get a Lambda-like environment (runtime variables, region, dummy credentials, PATH),
not the caller's: variables such as SSL_CERT_DIR change what TLS setup reads at init.
"""
import argparse
import http.server
import json
import os
import signal
import statistics
import subprocess
import tempfile
import threading
import time

NEXT = "/2018-06-01/runtime/invocation/next"


class RuntimeApi:
    """One run's Runtime API: records when the process first asks for work, hands it `event`
    (if any) and records when the answer comes back."""

    def __init__(self, event):
        self.event = event
        self.asked_at = None
        self.answered_at = None
        self.asked = threading.Event()
        self.answered = threading.Event()
        self.finished = threading.Event()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if not self.path.startswith(NEXT):
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                first = api.asked_at is None
                if first:
                    api.asked_at = time.perf_counter()
                    api.asked.set()
                if not first or api.event is None:
                    # Hold the poll until the run is over: the process has nothing more to do.
                    api.finished.wait(60)
                    self.close_connection = True
                    return
                body = json.dumps(api.event).encode()
                self.send_response(200)
                for name, value in [
                    ("Content-Type", "application/json"),
                    ("Lambda-Runtime-Aws-Request-Id", "req-1"),
                    ("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000)),
                    ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:f"),
                    ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
                    ("Content-Length", str(len(body))),
                ]:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                api.answered_at = time.perf_counter()
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()
                api.answered.set()

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # a stopped process resets its connections

        self.server = Server(("127.0.0.1", 0), Handler)
        # Polls for shutdown every 5 ms (socketserver's default is 500): runs follow each other fast.
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.005}, daemon=True).start()

    def environment(self, binary, extra):
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "TZ": ":UTC", "LANG": "en_US.UTF-8", "LAMBDA_TASK_ROOT": "/var/task",
               "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{self.server.server_address[1]}",
               "AWS_LAMBDA_FUNCTION_NAME": os.path.basename(binary), "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
               "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
               "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_SESSION_TOKEN": "test"}
        env.update(extra)
        return env

    def close(self):
        self.finished.set()
        self.server.shutdown()
        self.server.server_close()


def peak_rss_mb(pid, stop):
    peak = 0
    while not stop.is_set():
        try:
            with open(f"/proc/{pid}/status") as status:
                peak = max([peak] + [int(line.split()[1]) for line in status if line.startswith("VmHWM:")])
        except OSError:
            break
        stop.wait(0.002)
    return peak / 1024


def time_once(binary, event, extra):
    """(init ms, first response ms, peak RSS MB) of one cold start."""
    api = RuntimeApi(event)
    started = time.perf_counter()
    process = subprocess.Popen([binary], env=api.environment(binary, extra), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stop, rss = threading.Event(), []
    sampler = threading.Thread(target=lambda: rss.append(peak_rss_mb(process.pid, stop)))
    sampler.start()
    answered = api.answered.wait(30)
    stop.set()  # the high-water mark is read before the process goes
    sampler.join()
    process.kill()
    process.wait()
    api.close()
    if not answered:
        raise SystemExit(f"{binary}: no answer within 30 s")
    return (api.asked_at - started) * 1000, (api.answered_at - started) * 1000, rss[0]


def times(args, extra):
    event = json.load(open(args.event))
    binaries = args.binaries
    for binary in binaries:  # warm the page cache
        time_once(binary, event, extra)
    runs = {binary: [] for binary in binaries}
    for _ in range(args.n):
        for binary in binaries:
            runs[binary].append(time_once(binary, event, extra))
    baseline = binaries[0]
    for binary in binaries:
        result = {"binary": os.path.basename(binary), "size_mb": round(os.path.getsize(binary) / 1e6, 2),
                  "init_ms": round(statistics.median(r[0] for r in runs[binary]), 2),
                  "first_response_ms": round(statistics.median(r[1] for r in runs[binary]), 2),
                  "peak_rss_mb": round(statistics.median(r[2] for r in runs[binary]), 1)}
        if binary != baseline:
            result["init_ratio"] = round(statistics.median(r[0] / b[0] for r, b in zip(runs[binary], runs[baseline])), 2)
        print(json.dumps(result), flush=True)


def instructions(args, extra):
    for binary in args.binaries:
        api = RuntimeApi(None)
        out = tempfile.NamedTemporaryFile(suffix=".callgrind", delete=False).name
        process = subprocess.Popen(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", binary],
                                   env=api.environment(binary, extra), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            if not api.asked.wait(120):
                raise SystemExit(f"{binary}: never asked for work")
            process.send_signal(signal.SIGTERM)  # callgrind writes its counts on the way out
            process.wait(60)
        finally:
            api.close()
        with open(out) as counts:
            totals = [line for line in counts if line.startswith(("summary:", "totals:"))]
        os.unlink(out)
        print(json.dumps({"binary": os.path.basename(binary), "instructions": int(totals[-1].split()[1])}), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    modes = parser.add_subparsers(dest="mode", required=True)
    timed = modes.add_parser("times", help="init, first response and peak memory, alternating with the baseline")
    timed.add_argument("-n", type=int, default=15, help="runs per binary")
    timed.add_argument("--event", required=True, help="the JSON event each run answers")
    counted = modes.add_parser("instructions", help="instructions until the first request for work (callgrind)")
    for mode in (timed, counted):
        mode.add_argument("--env", action="append", default=[], help="K=V for the binaries")
        mode.add_argument("binaries", nargs="+")
    args = parser.parse_args()
    extra = dict(item.split("=", 1) for item in args.env)
    {"times": times, "instructions": instructions}[args.mode](args, extra)


if __name__ == "__main__":
    main()
