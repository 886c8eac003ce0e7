#!/usr/bin/env python3
"""TCP recording proxy for dqlite traffic.

    record_proxy.py --listen 127.0.0.1:19131 --target 127.0.0.1:19121 --out DIR --name NAME

Every accepted connection N (1, 2, ...) is forwarded to --target unchanged and
recorded byte for byte:
    DIR/NAME-N.client.bin   bytes the client sent (starts with the 8-byte handshake)
    DIR/NAME-N.server.bin   bytes the server sent
One JSON line per connection goes to DIR/NAME.index.jsonl when it closes
(peer, start/end time, byte counts). Runs until SIGTERM/SIGINT. Prints
"LISTENING host:port" on stdout once it accepts connections.
"""
import argparse
import json
import os
import selectors
import signal
import socket
import sys
import threading
import time


def parse_addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


class Recorder:
    def __init__(self, out, name, target):
        self.out, self.name, self.target = out, name, target
        self.lock = threading.Lock()
        self.count = 0

    def next_id(self):
        with self.lock:
            self.count += 1
            return self.count

    def handle(self, cli, peer):
        n = self.next_id()
        start = time.time()
        base = os.path.join(self.out, f"{self.name}-{n}")
        try:
            srv = socket.create_connection(self.target, timeout=10)
        except OSError as e:
            cli.close()
            self.index({"conn": n, "peer": f"{peer[0]}:{peer[1]}", "error": str(e)})
            return
        srv.settimeout(None)
        for s in (cli, srv):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        files = {cli: open(base + ".client.bin", "wb", buffering=0),
                 srv: open(base + ".server.bin", "wb", buffering=0)}
        other = {cli: srv, srv: cli}
        counts = {cli: 0, srv: 0}
        sel = selectors.DefaultSelector()
        sel.register(cli, selectors.EVENT_READ)
        sel.register(srv, selectors.EVENT_READ)
        open_sides = 2
        try:
            while open_sides:
                for key, _ in sel.select():
                    s = key.fileobj
                    try:
                        data = s.recv(65536)
                    except OSError:
                        data = b""
                    if data:
                        files[s].write(data)
                        counts[s] += len(data)
                        try:
                            other[s].sendall(data)
                        except OSError:
                            pass
                    else:
                        sel.unregister(s)
                        open_sides -= 1
                        try:
                            other[s].shutdown(socket.SHUT_WR)
                        except OSError:
                            pass
        finally:
            sel.close()
            for f in files.values():
                f.close()
            cli.close()
            srv.close()
        self.index({"conn": n, "peer": f"{peer[0]}:{peer[1]}", "start": start, "end": time.time(),
                    "client_bytes": counts[cli], "server_bytes": counts[srv]})

    def index(self, rec):
        with self.lock:
            with open(os.path.join(self.out, f"{self.name}.index.jsonl"), "a") as f:
                f.write(json.dumps(rec) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen", required=True)
    ap.add_argument("--target", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--name", required=True)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    rec = Recorder(a.out, a.name, parse_addr(a.target))
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(parse_addr(a.listen))
    ls.listen(64)
    stop = threading.Event()

    def on_signal(*_):
        stop.set()
        try:
            ls.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        ls.close()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print(f"LISTENING {a.listen}", flush=True)
    while not stop.is_set():
        try:
            cli, peer = ls.accept()
        except OSError:
            break
        threading.Thread(target=rec.handle, args=(cli, peer), daemon=True).start()
    # give in-flight connections a moment to flush their last bytes
    time.sleep(0.3)
    sys.exit(0)


if __name__ == "__main__":
    main()
