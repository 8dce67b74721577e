#!/usr/bin/env python3
"""A fault-injecting OpenAI-compatible embeddings server for tests (standard library only).

    fake_embed_server.py --port-file F [--dim 8] [--faults 429,500,slow,drop,ok,...]
                         [--die-after N] [--log FILE] [--idle 30] [--lifetime 120]
                         [--key SECRET]

Listens on 127.0.0.1 only, on a free port written to --port-file once it is ready.
POST /v1/embeddings {"model", "input": [texts]} -> {"data": [{"index": i, "embedding": [...]}]}.
An embedding is a deterministic function of the text (SHA-256 bytes scaled to [-1, 1)), so two
runs agree bit for bit.

--faults is consumed one entry per request, then every request succeeds:
  ok       a normal reply
  429      HTTP 429 with Retry-After: 0
  500/503  that status
  slow     sleeps 3 s before replying (longer than the client's test timeout)
  drop     closes the connection without a reply
  baddim   every embedding has dim+1 values
  badjson  a 200 reply that is not JSON
  short    one embedding fewer than asked
--die-after N  after N successful replies, exits at once (a service that went away)
--key K        requests need "Authorization: Bearer K", else 401
--log FILE     one line per request: "<status or fault> <number of texts> <first text>"
It exits by itself after --idle seconds without a request or --lifetime seconds in all.
"""
import argparse
import hashlib
import http.server
import json
import os
import socketserver
import sys
import threading
import time


def vector(text, dim):
    out = []
    counter = 0
    while len(out) < dim:
        h = hashlib.sha256(("%d:" % counter + text).encode("utf-8")).digest()
        out.extend((b - 128) / 128.0 for b in h)
        counter += 1
    return out[:dim]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--dim", type=int, default=8)
    ap.add_argument("--faults", default="")
    ap.add_argument("--die-after", type=int, default=0)
    ap.add_argument("--log")
    ap.add_argument("--key")
    ap.add_argument("--idle", type=float, default=30)
    ap.add_argument("--lifetime", type=float, default=120)
    a = ap.parse_args()

    faults = [f for f in a.faults.split(",") if f]
    lock = threading.Lock()
    state = {"last": time.time(), "ok": 0}
    logf = open(a.log, "a", encoding="utf-8") if a.log else None

    def log(what, texts):
        if logf:
            with lock:
                logf.write("%s %d %s\n" % (what, len(texts), texts[0] if texts else "-"))
                logf.flush()

    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, body, extra=()):
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in extra:
                self.send_header(k, v)
            self.end_headers()
            try:
                self.wfile.write(data)
            except OSError:  # the client gave up (timeout, or it closed after an error status)
                self.close_connection = True

        def do_POST(self):
            state["last"] = time.time()
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n)
            if self.path.rstrip("/") != "/v1/embeddings":
                return self.reply(404, '{"error": "not found"}')
            if a.key and self.headers.get("Authorization") != "Bearer " + a.key:
                log("401", [])
                return self.reply(401, '{"error": "bad key"}')
            try:
                req = json.loads(raw)
                texts = req["input"]
                assert isinstance(texts, list) and req.get("model")
            except Exception:
                return self.reply(400, '{"error": "bad request"}')
            with lock:
                fault = faults.pop(0) if faults else "ok"
            log(fault, texts)
            if fault in ("429", "500", "503"):
                return self.reply(int(fault), '{"error": "injected"}',
                                  [("Retry-After", "0")] if fault == "429" else [])
            if fault == "drop":
                self.close_connection = True
                try:
                    self.connection.shutdown(2)
                except OSError:
                    pass
                return
            if fault == "slow":
                time.sleep(3)
            if fault == "badjson":
                return self.reply(200, '{"data": [ this is not json')
            dim = a.dim + (1 if fault == "baddim" else 0)
            data = [{"object": "embedding", "index": i, "embedding": vector(t, dim)}
                    for i, t in enumerate(texts)]
            if fault == "short":
                data = data[:-1]
            data.reverse()  # the protocol carries "index": clients must not rely on order
            self.reply(200, json.dumps({"object": "list", "model": req["model"], "data": data}))
            with lock:
                state["ok"] += 1
                if a.die_after and state["ok"] >= a.die_after:
                    os._exit(0)

    class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True
        allow_reuse_address = True

        def handle_error(self, request, client_address):
            pass  # a client that hung up is part of the tests

    srv = S(("127.0.0.1", 0), H)
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(tmp, a.port_file)
    start = time.time()

    def watchdog():
        while True:
            time.sleep(0.2)
            t = time.time()
            if t - state["last"] > a.idle or t - start > a.lifetime:
                os._exit(0)

    threading.Thread(target=watchdog, daemon=True).start()
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
