#!/usr/bin/env python3
"""Proves that SIGTERM (`podman stop`) drains in-flight requests and exits 0 well inside the grace period.

Used by scripts/container-test.sh against a running container; standard library only. Traffic goes to 127.0.0.1
only, is bounded in count and time, and stops by itself.

How a request is held in flight deterministically (the API has no slow endpoint):
  1. Open a connection and send a complete `POST /beers` header block with a valid API key and a Content-Length,
     plus only the first half of the JSON body. The request is now accepted and routed, the handler is running
     and waiting for the rest of its body: it is in flight by any definition.
  2. Meanwhile a few workers fire GETs at /v2/beers in a loop (new connection each), so SIGTERM also lands
     among ordinary concurrent traffic.
  3. Run `podman stop -t TIMEOUT` (SIGTERM). After HOLD seconds the container's process must still be alive
     (the server is waiting for the held request, not dropping it) and new connections must be refused (it
     stopped accepting, so the signal did arrive).
  4. Send the rest of the body. The held request must get a complete response (status line, headers, a body
     of exactly Content-Length bytes) and not a 5xx.
  5. `podman stop` must return with the container's exit code 0, in less than the grace period.
  6. Every GET that received a response must have received a complete one (200, valid JSON array). GETs that
     got no response at all (connection refused or reset once the listener closed) are counted and reported;
     they are the expected outcome for connections the server had not accepted when it stopped listening.

Exit status 0 when every check passed; otherwise 1 with the reasons on stderr. A JSON summary goes to stdout.
"""

import argparse
import http.client
import json
import socket
import subprocess
import sys
import threading
import time


def podman(*args):
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=False)


def process_alive(pid):
    """The container's main process still exists and is not a zombie (podman reports a container that is being
    stopped as not running, so its state cannot tell whether the process is still draining)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in f)
    except OSError:
        return False


def refuses_new_connections(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def read_http_response(sock, deadline):
    """Reads one HTTP/1.1 response with a Content-Length body. Returns (status, body, complete)."""
    sock.settimeout(max(0.1, deadline - time.monotonic()))
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None, data, False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("iso-8859-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}
    if "content-length" not in headers:
        # Chunked or close-delimited: read to EOF; complete when the peer closed cleanly.
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return status, body, headers.get("transfer-encoding", "").lower() != "chunked" or body.endswith(b"0\r\n\r\n")
            body += chunk
    want = int(headers["content-length"])
    while len(body) < want:
        chunk = sock.recv(65536)
        if not chunk:
            return status, body, False
        body += chunk
    return status, body[:want], True


def load_worker(port, path, stop_at, results, lock):
    while time.monotonic() < stop_at:
        started = time.monotonic()
        outcome = {"started": started}
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path, headers={"Connection": "close"})
            resp = conn.getresponse()
            outcome["status"] = resp.status
            try:
                body = resp.read()  # raises IncompleteRead on a truncated body
                outcome["complete"] = True
                outcome["json_array"] = isinstance(json.loads(body), list)
            except (http.client.IncompleteRead, ValueError) as exc:
                outcome["complete"] = False
                outcome["error"] = f"{type(exc).__name__}: {exc}"
            conn.close()
        except (ConnectionError, http.client.RemoteDisconnected, socket.timeout, OSError) as exc:
            if "status" not in outcome:
                outcome["no_response"] = f"{type(exc).__name__}"
            else:
                outcome["complete"] = False
                outcome["error"] = f"{type(exc).__name__}: {exc}"
        outcome["finished"] = time.monotonic()
        with lock:
            results.append(outcome)
        if "no_response" in outcome:
            time.sleep(0.02)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--container", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--grace", type=float, required=True, help="the service's SHUTDOWN_GRACE_SECS")
    ap.add_argument("--stop-timeout", type=int, default=30, help="podman stop -t: SIGKILL after this")
    ap.add_argument("--hold", type=float, default=1.5, help="seconds to hold the request after SIGTERM")
    ap.add_argument("--workers", type=int, default=4)
    args = ap.parse_args()
    failures = []

    body = json.dumps(
        {
            "name": "Drain Check IPA",
            "tagline": "Sent half before SIGTERM, half after.",
            "description": "Written by scripts/container/sigterm_probe.py while the server was shutting down.",
            "abv": 6.5,
        }
    ).encode()
    half = len(body) // 2
    pid = int(podman("inspect", "--format", "{{.State.Pid}}", args.container).stdout.strip() or 0)
    if pid <= 0 or not process_alive(pid):
        print(f"sigterm_probe: container {args.container} has no running process", file=sys.stderr)
        return 1
    held = socket.create_connection(("127.0.0.1", args.port), timeout=10)
    held.sendall(
        (
            "POST /beers HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{args.port}\r\n"
            f"Authorization: Bearer {args.api_key}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        + body[:half]
    )

    results, lock = [], threading.Lock()
    load_until = time.monotonic() + args.hold + 3.0
    workers = [
        threading.Thread(target=load_worker, args=(args.port, "/v2/beers", load_until, results, lock), daemon=True)
        for _ in range(args.workers)
    ]
    for w in workers:
        w.start()
    time.sleep(0.5)

    sigterm_at = time.monotonic()
    stopper = subprocess.Popen(
        ["podman", "stop", "-t", str(args.stop_timeout), args.container],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(args.hold)
    still_running = process_alive(pid)
    refusing = refuses_new_connections(args.port)
    if not still_running:
        failures.append(f"the server exited within {args.hold}s of SIGTERM although a request was still in flight")
    if not refusing:
        failures.append(f"the server still accepted new connections {args.hold}s after SIGTERM")

    held.sendall(body[half:])
    try:
        status, resp_body, complete = read_http_response(held, time.monotonic() + 10)
    except (OSError, ValueError, IndexError) as exc:
        status, resp_body, complete = None, b"", False
        failures.append(f"held request: no response after SIGTERM ({type(exc).__name__}: {exc})")
    held.close()
    if status is not None and (not complete or status >= 500):
        failures.append(f"held request: status {status}, complete={complete}: {resp_body[:200]!r}")
    elif status is None and not failures:
        failures.append("held request: connection closed without a response")

    try:
        _, stop_err = stopper.communicate(timeout=args.stop_timeout + 15)
    except subprocess.TimeoutExpired:
        stopper.kill()
        stop_err = "podman stop did not return"
    stopped_after = time.monotonic() - sigterm_at
    for w in workers:
        w.join(timeout=15)

    state = podman("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}", args.container).stdout.split()
    exit_code = int(state[1]) if len(state) == 2 else None
    if stopper.returncode != 0:
        failures.append(f"podman stop failed: {stop_err.strip()}")
    if exit_code != 0:
        failures.append(f"container exit code after SIGTERM is {exit_code}, not 0 (137 would mean it was killed)")
    if stopped_after >= args.grace:
        failures.append(f"shutdown took {stopped_after:.1f}s, not inside the {args.grace:.0f}s grace period")

    answered = [r for r in results if "status" in r]
    bad = [r for r in answered if not (r.get("complete") and r["status"] == 200 and r.get("json_array"))]
    overlapping = [r for r in answered if r["started"] < sigterm_at < r["finished"] and r not in bad]
    after_sigterm = [r for r in answered if r["finished"] > sigterm_at and r not in bad]
    if not answered:
        failures.append("no concurrent GET /v2/beers got any response")
    for r in bad[:5]:
        failures.append(f"concurrent GET got an incomplete or wrong response: {r}")

    summary = {
        "held_request_status": status,
        "held_request_complete": complete,
        "alive_after_hold": still_running,
        "refusing_new_connections_after_hold": refusing,
        "exit_code": exit_code,
        "stop_seconds": round(stopped_after, 2),
        "grace_seconds": args.grace,
        "held_seconds": args.hold,
        "concurrent_gets": len(results),
        "concurrent_gets_answered_ok": len(answered) - len(bad),
        "concurrent_gets_bad": len(bad),
        "concurrent_gets_finished_after_sigterm_ok": len(after_sigterm),
        "concurrent_gets_spanning_sigterm_ok": len(overlapping),
        "concurrent_gets_not_accepted": len(results) - len(answered),
    }
    print(json.dumps(summary))
    for f in failures:
        print(f"sigterm_probe: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
