#!/usr/bin/env python3
"""Capture golden vectors and dissector captures from real dqlite servers.

    python3 scripts/capture/capture_golden.py [--work DIR]

What it does (all on 127.0.0.1; see scripts/capture/README.md):
  1. builds scripts/capture/dqlite-node.c against the host's libdqlite 1.11.1;
  2. starts 1.11.1 nodes (ports 19101-19141) and 1.18.7 nodes (29101-29103,
     through scripts/dqlite118.sh), plus recording proxies (record_proxy.py);
  3. runs Debian's go-dqlite 1.11.5 `dqlite` shell and `dqlite-benchmark`
     through a recording proxy in front of a 1.11.1 node;
  4. sends crafted requests with its own raw-socket client (zero padding) and
     records every request and every response frame byte for byte;
  5. writes Tests/DqliteWireTests/Golden/*.json (format: Golden/README.md) and
     Tests/DqliteWireTests/Captures/NAME.{client,server}.{bin,jsonl};
  6. stops every node and proxy it started.

Expected structures come from what this script meant to send (requests) and
from wire_ref.py, an independent Python decoder (responses); several responses
are also checked against values known in advance. Nothing here uses the Swift
code of the package.
"""
import argparse
import glob
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
import wire_ref as W  # noqa: E402

GOLDEN_DIR = os.path.join(REPO, "Tests", "DqliteWireTests", "Golden")
CAPTURE_DIR = os.path.join(REPO, "Tests", "DqliteWireTests", "Captures")
DQ118 = os.path.join(REPO, "scripts", "dqlite118.sh")

LOCAL = "127.0.0.1"
# 1.11.1 (host libdqlite)
A1, A2_BIND, A2_ADV, A3 = 19101, 19102, 19112, 19103   # raw-client cluster; A2 advertised via proxy
B1_BIND, B1_ADV, BENCH = 19121, 19131, 19141           # go-dqlite cluster; B1 advertised via proxy
# 1.18.7 (chroot)
C1, C2, C3 = 29101, 29102, 29103

SRC = {
    "v111": "live-1.11.1: scripts/capture/capture_golden.py",
    "v118": "live-1.18.7: scripts/capture/capture_golden.py",
}
SRC_GOSHELL = "live-1.11.1: go-dqlite 1.11.5 shell traffic via recording proxy"
SRC_GOBENCH = "live-1.11.1: go-dqlite 1.11.5 dqlite-benchmark traffic via recording proxy"
SRC_RAFT = "live-1.11.1: raft peer traffic via recording proxy"

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
NAN_BITS = "7ff80000deadbeef"   # quiet NaN with a non-canonical payload


def addr(port):
    return f"{LOCAL}:{port}"


def jd(o):
    return json.dumps(o, separators=(",", ":"), ensure_ascii=False)


def log(*a):
    print(*a, flush=True)


# ---------------------------------------------------------------- processes

class Procs:
    """Processes started by this script; stopped by PID in stop_all()."""

    def __init__(self, work):
        self.work = work
        self.procs = []          # (name, Popen)
        self.dq118_env = dict(os.environ, DQ118_RUN=os.path.join(work, "run-118"))

    def start(self, name, argv, ready, cwd=None, timeout=30):
        logf = open(os.path.join(self.work, f"{name}.log"), "wb")
        p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             cwd=cwd or self.work, start_new_session=True)
        self.procs.append((name, p))
        deadline = time.time() + timeout
        path = os.path.join(self.work, f"{name}.log")
        while time.time() < deadline:
            with open(path, "rb") as f:
                if ready.encode() in f.read():
                    return p
            if p.poll() is not None:
                raise RuntimeError(f"{name} exited early; see {path}")
            time.sleep(0.05)
        raise RuntimeError(f"{name} not ready after {timeout}s; see {path}")

    def node(self, name, binary, nid, port, bind=None, extra=()):
        """A host (libdqlite 1.11.1) node; its data dir is WORK/NAME."""
        data = os.path.join(self.work, name)
        os.makedirs(data, exist_ok=True)
        argv = [binary, "--id", str(nid), "--address", addr(port), "--data", data]
        if bind:
            argv += ["--bind", addr(bind)]
        return self.start(name, argv + list(extra), "READY", timeout=60)

    def stop(self, p, sig=signal.SIGTERM, wait=15):
        if p.poll() is None:
            p.send_signal(sig)
            try:
                p.wait(wait)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    def stop_name(self, name):
        for n, p in self.procs:
            if n == name:
                self.stop(p)

    def dq118(self, *args, check=True):
        r = subprocess.run([DQ118, *args], env=self.dq118_env, capture_output=True, text=True)
        log("   ", (r.stdout + r.stderr).strip().replace("\n", "\n    "))
        if check and r.returncode != 0:
            raise RuntimeError(f"dqlite118.sh {' '.join(args)} failed")
        return r

    def stop_all(self):
        # proxies first (so nodes see clean disconnects), then nodes
        for name, p in reversed(self.procs):
            try:
                self.stop(p)
            except Exception as e:  # keep going
                log(f"stop {name}: {e}")
        if os.path.isdir(self.dq118_env["DQ118_RUN"]):
            self.dq118("stop", check=False)


# ---------------------------------------------------------------- raw client

class Conn:
    """One raw dqlite connection; keeps every byte it sent and received."""

    def __init__(self, port, handshake=W.HANDSHAKE_V1, timeout=20):
        self.sock = socket.create_connection((LOCAL, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sent = bytearray()
        self.received = bytearray()
        self.send(struct.pack("<Q", handshake))

    def send(self, b):
        self.sock.sendall(b)
        self.sent += b

    def _read(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("server closed the connection")
            buf += chunk
        self.received += buf
        return bytes(buf)

    def read_frame(self):
        hdr = self._read(8)
        words = struct.unpack("<I", hdr[:4])[0]
        return hdr + self._read(8 * words)

    def read_reply(self):
        """All frames answering one request: ROWS(PART)* then the last frame."""
        frames = [self.read_frame()]
        while frames[-1][4] == W.RESP["ROWS"] and frames[-1][-8:] == W.MARK_PART:
            frames.append(self.read_frame())
        return frames

    def close(self):
        self.sock.close()


# ---------------------------------------------------------------- vectors

def diff_note(frame, canon):
    """Describe where a captured frame differs from the zero-padding encoding."""
    if len(frame) != len(canon):
        return f"zero-padding encoder writes {len(canon)} bytes, the capture has {len(frame)}"
    idx = [i for i in range(len(frame)) if frame[i] != canon[i]]
    lo, hi = idx[0], idx[-1]
    return (f"non-zero padding: frame bytes {lo}..{hi} are {frame[lo:hi + 1].hex(' ')} "
            f"where a zero-padding encoder writes {canon[lo:hi + 1].hex(' ')}")


class Golden:
    def __init__(self):
        self.files = {}      # file -> [vector]
        self.ids = set()
        self.seen = {}       # (direction, hex, ctx) -> vector
        self.findings = []   # checks that did not hold / disagreements
        self.live = {}       # (ver, key) -> (request frame, [response frames])

    def add(self, file, vid, direction, source, frame, expect=None, context=None, note=None,
            dedupe=True):
        frame = bytes(frame)
        assert vid not in self.ids, vid
        decoded = W.decode_frame(frame, direction, exact=True, context=context)
        if expect is not None and jd(expect) != jd(decoded):
            raise AssertionError(f"{vid}: intended {jd(expect)} but wire_ref decodes {jd(decoded)}")
        key = (direction, frame.hex(), jd(context or {}))
        if dedupe and key in self.seen:
            v = self.seen[key]
            if source != v["source"] and source not in v.setdefault("_also", []):
                v["_also"].append(source)
            return v["id"]
        v = {"id": vid, "direction": direction, "source": source, "hex": frame.hex(), "expect": decoded}
        if direction == "request" and frame[5]:
            v["schema"] = frame[5]
        if context:
            v["context"] = context
        canon = W.encode_request(decoded, frame[5]) if direction == "request" else \
            W.encode_response(decoded, context)
        notes = [note] if note else []
        if canon != frame:
            v["canonical"] = False
            notes.append(diff_note(frame, canon))
        if notes:
            v["_notes"] = notes
        self.ids.add(vid)
        self.seen[key] = v
        self.files.setdefault(file, []).append(v)
        return vid

    def finding(self, msg):
        log("  FINDING:", msg)
        self.findings.append(msg)

    def vectors_out(self, file):
        out = []
        for v in self.files.get(file, []):
            v = dict(v)
            notes = v.pop("_notes", [])
            also = v.pop("_also", [])
            if also:
                notes.append("identical bytes also captured from: " + "; ".join(also))
            if notes:
                v["note"] = " | ".join(notes)
            out.append(v)
        return out


def subset_mismatch(want, got, path=""):
    """None when every key of `want` has the same JSON value in `got`."""
    if isinstance(want, dict):
        if not isinstance(got, dict):
            return f"{path}: {jd(got)} is not an object"
        for k, w in want.items():
            if k not in got:
                return f"{path}.{k} missing"
            m = subset_mismatch(w, got[k], f"{path}.{k}")
            if m:
                return m
        return None
    return None if jd(want) == jd(got) else f"{path}: expected {jd(want)}, got {jd(got)}"


class Session:
    """Exchanges of one server version; every request+response pair becomes vectors."""

    def __init__(self, G, ver):
        self.G, self.ver = G, ver
        self.src = SRC[ver]

    def x(self, conn, name, req, file, schema=0, check=None, context=None, note=None,
          resp_note=None, raw=None, vector=True):
        """Send `req` (the JSON structure, encoded with zero padding) and record the reply."""
        frame = raw if raw is not None else W.encode_request(req, schema)
        back = W.decode_frame(frame, "request")
        if raw is None and jd(back) != jd(req):
            raise AssertionError(f"{name}: encoder/decoder disagree: {jd(req)} vs {jd(back)}")
        conn.send(frame)
        resps = conn.read_reply()
        vid = f"{self.ver}-{name}"
        self.G.live[(self.ver, name)] = (frame, resps)
        try:
            decoded = [W.decode_frame(r, "response", context=context) for r in resps]
        except W.WireError as e:
            self.G.finding(f"{vid}: reply does not decode with context {context}: {e}")
            context = None
            decoded = [W.decode_frame(r, "response") for r in resps]
        if check is not None:
            want = check if isinstance(check, list) else [check]
            if len(want) != len(decoded) and not isinstance(check, dict):
                self.G.finding(f"{vid}: expected {len(want)} frames, got {len(decoded)}")
            for w, d in zip(want, decoded):
                m = subset_mismatch(w, d)
                if m:
                    self.G.finding(f"{vid}: {m}")
        if vector:
            rids = []
            for i, r in enumerate(resps):
                rid = f"{vid}-resp" if len(resps) == 1 else f"{vid}-resp-{i + 1}"
                got = self.G.add(file, rid, "response", self.src, r, context=context,
                                 note=(resp_note or f"answer to {vid}-req") if i == 0 else
                                 f"frame {i + 1} of {len(resps)} answering {vid}-req")
                rids.append(got if got == rid else f"{got} (same bytes)")
            self.G.add(file, f"{vid}-req", "request", self.src, frame, expect=None if raw else req,
                       note=(note + "; " if note else "") + "answered by " + ", ".join(rids))
        return decoded


def check_stream(S, name, decoded, columns, rows):
    """A ROWS stream (any number of frames) must carry exactly these columns and rows."""
    got = [r for f in decoded for r in f.get("rows", [])]
    ok = all(f["name"] == "ROWS" and f["columns"] == columns for f in decoded) and jd(got) == jd(rows) \
        and not decoded[-1]["more"] and all(f["more"] for f in decoded[:-1])
    if not ok:
        S.G.finding(f"{S.ver}-{name}: ROWS stream does not carry the expected columns/rows")
    elif len(decoded) > 1:
        S.G.live[(S.ver, name + "-frames")] = [len(f["rows"]) for f in decoded]


def R(name, **fields):
    return {"type": W.REQ[name], "name": name, **fields}


def OK(name, **fields):
    return {"type": W.RESP[name], "name": name, **fields}


def FAIL(code, message=None):
    o = {"type": 0, "name": "FAILURE", "code": code}
    if message is not None:
        o["message"] = message
    return o


# ---------------------------------------------------------------- scenarios

def scenario_protocol_examples(S, port, node2_addr):
    """Replays the situations of protocol.md section 6 (G2-G20) on a fresh node."""
    v = S.ver
    new = v == "v118"
    me = addr(port)
    c = Conn(port)
    S.x(c, "leader", R("LEADER"), "responses.json", check=OK("SERVER", id=1, address=me))
    S.x(c, "client-0", R("CLIENT", id=0), "responses.json", check=OK("WELCOME", heartbeat_timeout=15000))
    S.x(c, "open-test-db", R("OPEN", database="test.db", flags=0, vfs="volatile"), "responses.json",
        check=OK("DB", id=0))
    S.x(c, "exec-sql-syntax-error", R("EXEC_SQL", db=0, sql="SELEC 1", params=[]), "failures.json",
        check=FAIL(1, 'near "SELEC": syntax error'))
    S.x(c, "exec-sql-create-t", R("EXEC_SQL", db=0, sql="CREATE TABLE t (i INTEGER, f FLOAT, s TEXT, n, b BLOB)",
                                  params=[]), "requests.json", check=OK("RESULT", last_insert_id=0, rows_affected=0))
    S.x(c, "exec-sql-insert-5-params", R("EXEC_SQL", db=0, sql="INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                                         params=[1, 2.5, "hi", None, {"blob": "010203"}]),
        "requests.json", check=OK("RESULT", last_insert_id=1, rows_affected=1))
    S.x(c, "exec-sql-insert-5-params-row2", R("EXEC_SQL", db=0, sql="INSERT INTO t VALUES (?, ?, ?, ?, ?)",
                                              params=[-2, -0.5, "hello world", None, {"blob": ""}]),
        "values.json", check=OK("RESULT", last_insert_id=2, rows_affected=1),
        note="empty blob parameter (one zero length word)")
    S.x(c, "query-sql-select-t", R("QUERY_SQL", db=0, sql="SELECT i, f, s, n, b FROM t", params=[]),
        "rows.json", check=OK("ROWS", columns=["i", "f", "s", "n", "b"],
                              rows=[[1, 2.5, "hi", None, {"blob": "010203"}],
                                    [-2, -0.5, "hello world", None, {"blob": ""}]], more=False))
    # G6: schema-1 tuple
    S.x(c, "exec-sql-schema1-select-param", R("EXEC_SQL", db=0, sql="SELECT ?", params=[7]),
        "v118.json" if new else "failures.json", schema=1,
        check=FAIL(1, "rows yielded when none expected for EXEC request") if new else FAIL(1005),
        note=None if new else "1.11.1 ignores the schema byte and misreads the u32 count")
    if new:
        S.x(c, "query-sql-schema1-select-param", R("QUERY_SQL", db=0, sql="SELECT ?", params=[7]),
            "v118.json", schema=1, check=OK("ROWS", columns=["?"], rows=[[7]], more=False))
    # G10/G12/G13: prepared statements
    S.x(c, "prepare-select-where", R("PREPARE", db=0, sql="SELECT i, s FROM t WHERE i > ?"), "requests.json",
        check=OK("STMT", db=0, id=0, params=1))
    S.x(c, "query-stmt0-int-param", R("QUERY", db=0, stmt=0, params=[0]), "requests.json",
        check=OK("ROWS", columns=["i", "s"], rows=[[1, "hi"]], more=False))
    S.x(c, "exec-sql-create-z", R("EXEC_SQL", db=0, sql="CREATE TABLE z (s TEXT); INSERT INTO z VALUES ('a')",
                                  params=[]), "requests.json", check=OK("RESULT", last_insert_id=1, rows_affected=1),
        note="two statements in one EXEC_SQL; RESULT describes the last one")
    S.x(c, "prepare-insert-z", R("PREPARE", db=0, sql="INSERT INTO z VALUES (?)"), "requests.json",
        check=OK("STMT", db=0, id=1, params=1))
    S.x(c, "exec-stmt1-text-param", R("EXEC", db=0, stmt=1, params=["zz"]), "requests.json",
        check=OK("RESULT", last_insert_id=2, rows_affected=1))
    S.x(c, "finalize-stmt1", R("FINALIZE", db=0, stmt=1), "requests.json", check=OK("EMPTY"))
    S.x(c, "finalize-stmt99", R("FINALIZE", db=0, stmt=99), "failures.json",
        check=FAIL(12, "no statement with the given id"))
    S.x(c, "finalize-stmt0", R("FINALIZE", db=0, stmt=0), "requests.json", check=OK("EMPTY"))
    # G11: PREPARE schema 1
    S.x(c, "prepare-schema1-two-statements", R("PREPARE", db=0, sql="SELECT 1; SELECT 2"),
        "v118.json" if new else "responses.json", schema=1,
        check=OK("STMT", db=0, id=0, params=0, offset=9) if new else OK("STMT", db=0, id=0, params=0),
        note=None if new else "1.11.1 ignores the schema byte: schema-0 STMT, tail dropped")
    S.x(c, "finalize-stmt0-again", R("FINALIZE", db=0, stmt=0), "requests.json", check=OK("EMPTY"))
    # G14
    S.x(c, "interrupt-idle", R("INTERRUPT", db=0), "requests.json", check=OK("EMPTY"))
    # G9 unique
    S.x(c, "exec-sql-create-u", R("EXEC_SQL", db=0, sql="CREATE TABLE u (v UNIQUE); INSERT INTO u VALUES (1)",
                                  params=[]), "requests.json")
    S.x(c, "exec-sql-unique-violation", R("EXEC_SQL", db=0, sql="INSERT INTO u VALUES (1)", params=[]),
        "failures.json", check=FAIL(2067, "UNIQUE constraint failed: u.v"))
    S.x(c, "exec-sql-wrong-db-id", R("EXEC_SQL", db=1, sql="SELECT 1", params=[]), "failures.json",
        check=FAIL(12, "no database opened"))
    if new:
        S.x(c, "heartbeat", R("HEARTBEAT", timestamp=1700000000000), "v118.json",
            check=FAIL(1005, "unrecognized request type"),
            note="HEARTBEAT is not implemented; 1.12+ answer 1005 (never send it to 1.11.1: no reply)")
    # G15/G17: membership with an offline second node
    S.x(c, "cluster-format1", R("CLUSTER", format=1), "cluster.json", context={"cluster_format": 1},
        check=OK("SERVERS", nodes=[{"id": 1, "address": me, "role": 0}]))
    S.x(c, "add-node2", R("ADD", id=2, address=node2_addr), "cluster.json", check=OK("EMPTY"))
    S.x(c, "cluster-format1-with-spare", R("CLUSTER", format=1), "cluster.json", context={"cluster_format": 1},
        check=OK("SERVERS", nodes=[{"id": 1, "address": me, "role": 0}, {"id": 2, "address": node2_addr, "role": 2}]))
    S.x(c, "cluster-format0-two-nodes", R("CLUSTER", format=0), "cluster.json", context={"cluster_format": 0},
        check=OK("SERVERS", nodes=[{"id": 1, "address": me}, {"id": 2, "address": node2_addr}]))
    S.x(c, "assign-node2-standby", R("ASSIGN", id=2, role=1), "cluster.json", check=OK("EMPTY"))
    S.x(c, "cluster-format1-with-standby", R("CLUSTER", format=1), "cluster.json", context={"cluster_format": 1},
        check=OK("SERVERS", nodes=[{"id": 1, "address": me, "role": 0}, {"id": 2, "address": node2_addr, "role": 1}]))
    S.x(c, "remove-node2", R("REMOVE", id=2), "cluster.json", check=OK("EMPTY"))
    S.x(c, "cluster-format0", R("CLUSTER", format=0), "cluster.json", context={"cluster_format": 0},
        check=OK("SERVERS", nodes=[{"id": 1, "address": me}]))
    S.x(c, "transfer-to-self", R("TRANSFER", id=1), "failures.json", check=FAIL(1, "server ID is not valid"))
    # G16
    fd = 7 if v == "v111" else 0
    S.x(c, "describe", R("DESCRIBE", format=0), "cluster.json", check=OK("METADATA", failure_domain=fd, weight=0))
    S.x(c, "weight-5", R("WEIGHT", weight=5), "cluster.json", check=OK("EMPTY"))
    S.x(c, "describe-after-weight", R("DESCRIBE", format=0), "cluster.json",
        check=OK("METADATA", failure_domain=fd, weight=5))
    # G19: DATETIME/BOOLEAN quirk
    S.x(c, "exec-sql-create-d", R("EXEC_SQL", db=0, sql="CREATE TABLE d (a DATETIME, b BOOLEAN, c TIMESTAMP)",
                                  params=[]), "rows.json")
    S.x(c, "exec-sql-insert-d-rows", R("EXEC_SQL", db=0, sql="INSERT INTO d VALUES ('2024-01-02 03:04:05', true, NULL), "
                                                           "(NULL, NULL, 1700000000)", params=[]), "rows.json",
        check=OK("RESULT", last_insert_id=2, rows_affected=2))
    S.x(c, "query-sql-datetime-boolean-null-quirk", R("QUERY_SQL", db=0, sql="SELECT a, b, c FROM d", params=[]),
        "rows.json", check=OK("ROWS", columns=["a", "b", "c"],
                              rows=[[{"iso8601": "2024-01-02 03:04:05"}, True, {"iso8601": ""}],
                                    [{"iso8601": ""}, False, {"unixtime": 1700000000}]], more=False),
        resp_note="NULL in DATETIME/TIMESTAMP comes back as ISO8601 \"\", NULL in BOOLEAN as BOOLEAN false; "
                  "an integer in a DATETIME/TIMESTAMP column comes back as UNIXTIME")
    S.x(c, "dump-test-db", R("DUMP", database="test.db"), "cluster.json", vector=False)
    S.G.live[(v, "dump-test-db-sizes")] = [f["size"] for f in
                                           W.decode_frame(S.G.live[(v, "dump-test-db")][1][0], "response")["files"]]
    # G20: a write sent as QUERY_SQL
    S.x(c, "exec-sql-create-m", R("EXEC_SQL", db=0, sql="CREATE TABLE m (x)", params=[]), "requests.json")
    S.x(c, "query-sql-insert-no-columns", R("QUERY_SQL", db=0, sql="INSERT INTO m VALUES (3)", params=[]),
        "v118.json" if new else "failures.json",
        check=OK("ROWS", columns=[], rows=[], more=False) if new else FAIL(1, "not an error"),
        note="a write sent as QUERY_SQL" + ("" if new else ": 1.11.1 refuses it and does not write the row"))
    c.close()
    # G2 legacy handshake
    c = Conn(port, handshake=W.HANDSHAKE_LEGACY)
    try:
        S.x(c, "leader-legacy-handshake", R("LEADER"), "cluster.json", context={"legacy": True},
            check=OK("SERVER", address=me), note="connection opened with the legacy handshake word 0x86104dd760433fe5")
    except (ConnectionError, socket.timeout) as e:
        S.G.finding(f"{v}: LEADER on a legacy-handshake connection got no reply ({e})")
    c.close()


def scenario_values(S, port, db="values.db"):
    """Parameter and cell value boundaries."""
    c = Conn(port)
    S.x(c, "open-values-db", R("OPEN", database=db, flags=0, vfs="volatile"), "requests.json")
    def q(name, sql, params, rows, note=None, cols=None, file="values.json", check=None):
        if rows is not None:
            check = OK("ROWS", columns=cols or ["?"] * len(params), rows=rows, more=False)
        return S.x(c, name, R("QUERY_SQL", db=0, sql=sql, params=params), file, check=check, note=note)
    texts = ["1234567", "12345678", "123456789abcdef", "123456789abcdef0"]
    q("query-sql-text-7-8-15-16-bytes", "SELECT ?, ?, ?, ?", texts, [texts],
      note="TEXT values of 7, 8, 15 and 16 bytes: the NUL fits / needs a whole extra word")
    q("query-sql-empty-text-empty-blob", "SELECT ?, ?", ["", {"blob": ""}], [["", {"blob": ""}]],
      note="empty TEXT is one zero word; empty BLOB is a zero length word")
    q("query-sql-int64-min-max", "SELECT ?, ?", [INT64_MIN, INT64_MAX], [[INT64_MIN, INT64_MAX]],
      note="Int64.min and Int64.max as parameters and as returned cells")
    q("query-sql-negative-zero-infinities", "SELECT ?, ?, ?", [-0.0, "Infinity", "-Infinity"],
      [[-0.0, "Infinity", "-Infinity"]], note="-0.0, +infinity and -infinity")
    q("query-sql-nan-payload", "SELECT ?", [{"float_bits": NAN_BITS}], [[None]],
      note="NaN with a non-canonical payload; SQLite binds NaN as NULL, so the cell is NULL")
    q("query-sql-iso8601-param", "SELECT ?", [{"iso8601": "2024-01-02 03:04:05+00:00"}],
      [["2024-01-02 03:04:05+00:00"]], note="ISO8601 parameter is bound as TEXT; an expression has no declared type")
    q("query-sql-boolean-params", "SELECT ?, ?", [True, False], [[1, 0]],
      note="BOOLEAN parameters are bound as integers 1/0")
    q("query-sql-8-mixed-params", "SELECT ?, ?, ?, ?, ?, ?, ?, ?",
      [1, 2.5, "x", {"blob": "ff"}, None, True, {"iso8601": "2024-01-02"}, -1],
      [[1, 2.5, "x", {"blob": "ff"}, None, 1, "2024-01-02", -1]],
      note="8 parameters of every parameter type: schema-0 header needs a second word")
    q("query-sql-unixtime-param", "SELECT ?", [{"unixtime": 1700000000}], None,
      file="failures.json", note="UNIXTIME is server-to-client only; the server refuses it as a parameter",
      check=FAIL(1005) if S.ver == "v111" else FAIL(10, "leader exec failed"))
    S.x(c, "exec-sql-unixtime-param", R("EXEC_SQL", db=0, sql="SELECT ?", params=[{"unixtime": 1700000000}]),
        "failures.json", note="UNIXTIME parameter in EXEC_SQL",
        check=FAIL(1005) if S.ver == "v111" else FAIL(1, "bind parameters"))
    # cells stored in typed columns
    S.x(c, "exec-sql-create-ev", R("EXEC_SQL", db=0, sql="CREATE TABLE ev (at DATETIME, ok BOOLEAN, d DATE, ts TIMESTAMP)",
                                   params=[]), "values.json")
    S.x(c, "exec-sql-insert-ev-iso-bool", R("EXEC_SQL", db=0, sql="INSERT INTO ev VALUES (?, ?, ?, ?)",
                                            params=[{"iso8601": "2024-05-06T07:08:09Z"}, True, "2024-05-06", 86400]),
        "values.json", check=OK("RESULT", last_insert_id=1, rows_affected=1),
        note="ISO8601 and BOOLEAN parameters into DATETIME/BOOLEAN columns")
    S.x(c, "exec-sql-insert-ev-ints", R("EXEC_SQL", db=0, sql="INSERT INTO ev VALUES (?, ?, ?, ?)",
                                        params=[INT64_MIN, False, 0, -1]),
        "values.json", check=OK("RESULT", last_insert_id=2, rows_affected=1))
    q("query-sql-typed-columns", "SELECT at, ok, d, ts FROM ev", [],
      [[{"iso8601": "2024-05-06T07:08:09Z"}, True, {"iso8601": "2024-05-06"}, {"unixtime": 86400}],
       [{"unixtime": INT64_MIN}, False, {"unixtime": 0}, {"unixtime": -1}]],
      cols=["at", "ok", "d", "ts"],
      note="ISO8601, UNIXTIME (incl. Int64.min and negative) and BOOLEAN cells from declared column types")
    # mixed types in one column
    S.x(c, "exec-sql-create-vals", R("EXEC_SQL", db=0, sql="CREATE TABLE vals (v)", params=[]), "values.json")
    stored = [INT64_MIN, INT64_MAX, -0.0, "Infinity", "-Infinity", "", {"blob": ""}, "12345678",
              {"blob": "00ff00ff00ff00ff"}]
    for i, val in enumerate(stored):
        S.x(c, f"exec-sql-insert-vals-{i + 1}", R("EXEC_SQL", db=0, sql="INSERT INTO vals VALUES (?)", params=[val]),
            "values.json", check=OK("RESULT", last_insert_id=i + 1, rows_affected=1))
    q("query-sql-stored-values", "SELECT v FROM vals ORDER BY rowid", [], [[x] for x in stored], cols=["v"],
      note="values stored in an untyped column and read back: each row has its own type code")
    c.close()


def scenario_rows(S, port, db="rows.db"):
    c = Conn(port)
    S.x(c, "open-rows-db", R("OPEN", database=db, flags=0, vfs="volatile"), "requests.json")
    S.x(c, "exec-sql-create-p", R("EXEC_SQL", db=0, sql="CREATE TABLE p (c1, c2, c3, c4, c5, c6, c7, c8)",
                                  params=[]), "rows.json")
    S.x(c, "exec-sql-7-params", R("EXEC_SQL", db=0, sql="INSERT INTO p (c1, c2, c3, c4, c5, c6, c7) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                  params=[1, 2, 3, 4, 5, 6, 7]), "requests.json",
        check=OK("RESULT", last_insert_id=1, rows_affected=1),
        note="7 parameters: the schema-0 tuple header fills exactly one word")
    S.x(c, "exec-sql-8-params", R("EXEC_SQL", db=0, sql="INSERT INTO p VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                                  params=[1, 2, 3, 4, 5, 6, 7, 8]), "requests.json",
        check=OK("RESULT", last_insert_id=2, rows_affected=1),
        note="8 parameters: the schema-0 tuple header needs two words")
    cells16 = [1, 2.5, "x", None, {"blob": "01"}, -1, 0.125, "yy", None, {"blob": ""}, INT64_MAX, -2.0, "", None,
               {"blob": "0203"}, 16]
    lit16 = "1, 2.5, 'x', NULL, x'01', -1, 0.125, 'yy', NULL, x'', 9223372036854775807, -2.0, '', NULL, x'0203', 16"
    cols16 = [f"c{i + 1}" for i in range(16)]
    sel16 = ", ".join(f"{e.strip()} AS {n}" for e, n in zip(lit16.split(","), cols16))
    S.x(c, "query-sql-16-columns", R("QUERY_SQL", db=0, sql=f"SELECT {sel16}", params=[]), "rows.json",
        check=OK("ROWS", columns=cols16, rows=[cells16], more=False),
        resp_note="16 columns: the row header (one nibble per column) fills one word")
    cols17 = cols16 + ["c17"]
    S.x(c, "query-sql-17-columns", R("QUERY_SQL", db=0, sql=f"SELECT {sel16}, 'seventeen' AS c17", params=[]),
        "rows.json", check=OK("ROWS", columns=cols17, rows=[cells16 + ["seventeen"]], more=False),
        resp_note="17 columns: the row header needs two words")
    S.x(c, "query-sql-17-columns-two-rows", R("QUERY_SQL", db=0, sql="SELECT * FROM p, (SELECT 9 AS a, 'nine' AS b, "
                                                                      "NULL AS c, 9.5 AS d, x'09' AS e, 10 AS f, 11 AS g, 12 AS h, "
                                                                      "13 AS i) ORDER BY p.rowid", params=[]), "rows.json",
        check=OK("ROWS", columns=[f"c{i}" for i in range(1, 9)] + list("abcdefghi"),
                 rows=[[1, 2, 3, 4, 5, 6, 7, None, 9, "nine", None, 9.5, {"blob": "09"}, 10, 11, 12, 13],
                       [1, 2, 3, 4, 5, 6, 7, 8, 9, "nine", None, 9.5, {"blob": "09"}, 10, 11, 12, 13]], more=False))
    params255 = [(i * 7919) % 100000 - 50000 for i in range(255)]
    d = S.x(c, "query-sql-255-params", R("QUERY_SQL", db=0, sql="SELECT " + ", ".join(["?"] * 255), params=params255),
            "rows.json", note="255 parameters: the largest schema-0 tuple (header 256 bytes = 32 words)",
            resp_note="255 columns: the one row pushes the frame past a page, so this PART frame carries it and "
                      "a second frame with no rows carries DONE")
    check_stream(S, "query-sql-255-params", d, ["?"] * 255, [params255])
    # count-0 tuple header instead of an absent tuple
    body = W.w_u64(0) + W.w_text("SELECT 42") + W.w_u64(0)
    S.x(c, "query-sql-count0-header", R("QUERY_SQL", db=0, sql="SELECT 42", params=[]), "requests.json",
        raw=W.frame(W.REQ["QUERY_SQL"], body), check=OK("ROWS", columns=["42"], rows=[[42]], more=False),
        note="an explicit schema-0 tuple header with count 0 (one zero word) instead of leaving the tuple out")
    S.x(c, "query-sql-no-rows", R("QUERY_SQL", db=0, sql="SELECT c1, c2 FROM p WHERE c1 > 100", params=[]),
        "rows.json", check=OK("ROWS", columns=["c1", "c2"], rows=[], more=False),
        resp_note="zero rows: column names followed straight by DONE")
    # multi-frame result
    S.x(c, "exec-sql-create-big", R("EXEC_SQL", db=0, sql="CREATE TABLE big (id INTEGER, s TEXT); "
                                                         "INSERT INTO big WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
                                                         "SELECT x + 1 FROM c WHERE x < 1000) "
                                                         "SELECT x, 'row ' || x FROM c", params=[]), "rows.json",
        check=OK("RESULT", last_insert_id=1000, rows_affected=1000))
    d = S.x(c, "query-sql-1000-rows-multi-frame", R("QUERY_SQL", db=0, sql="SELECT id, s FROM big", params=[]),
            "rows.json", note="1000 rows: several ROWS frames (PART) and a last one (DONE)")
    rows = [r for f in d for r in f["rows"]]
    if rows != [[i, f"row {i}"] for i in range(1, 1001)] or not all(f["more"] for f in d[:-1]) or d[-1]["more"]:
        S.G.finding(f"{S.ver}: multi-frame result did not reassemble to the 1000 rows")
    if len(d) < 2:
        S.G.finding(f"{S.ver}: 1000-row result came in {len(d)} frame(s)")
    S.G.live[(S.ver, "multi-frame-sizes")] = [len(f) - 8 for f in S.G.live[(S.ver, "query-sql-1000-rows-multi-frame")][1]]
    # INTERRUPT after the first frame: the server still sends every frame, then EMPTY
    req = R("QUERY_SQL", db=0, sql="SELECT id, s FROM big", params=[])
    c.send(W.encode_request(req))
    c.read_frame()   # first ROWS frame (PART)
    intr = W.encode_request(R("INTERRUPT", db=0))
    c.send(intr)
    after = []
    while True:
        f = c.read_frame()
        after.append(f)
        if f[4] != W.RESP["ROWS"]:
            break
    kinds = [W.decode_frame(f, "response")["name"] for f in after]
    S.G.live[(S.ver, "interrupt-stream")] = (1, kinds)
    if kinds[-1] != "EMPTY":
        S.G.finding(f"{S.ver}: INTERRUPT during a stream ended with {kinds[-1]}")
    rid = S.G.add("rows.json", f"{S.ver}-interrupt-during-stream-resp", "response", S.src, after[-1],
                  note=f"after 1 ROWS frame the client sent INTERRUPT; the server still sent {len(after) - 1} more "
                       f"ROWS frames, then this")
    S.G.add("rows.json", f"{S.ver}-interrupt-during-stream-req", "request", S.src, intr, expect=R("INTERRUPT", db=0),
            note="sent after the first PART frame of SELECT id, s FROM big; answered by " + rid)
    c.close()


def scenario_failures(S, port, follower_port, db="fail.db"):
    v = S.ver
    new = v == "v118"
    c = Conn(port)
    S.x(c, "exec-sql-before-open", R("EXEC_SQL", db=0, sql="CREATE TABLE x (y)", params=[]), "failures.json",
        check=FAIL(12, "no database opened"), note="no OPEN on this connection yet")
    S.x(c, "open-fail-db", R("OPEN", database=db, flags=0, vfs="volatile"), "requests.json", check=OK("DB", id=0))
    S.x(c, "open-second-time", R("OPEN", database="other.db", flags=0, vfs=""), "failures.json",
        check=FAIL(5, "a database for this connection is already open"), note="empty vfs name")
    S.x(c, "prepare-empty-sql", R("PREPARE", db=0, sql=""), "failures.json", check=FAIL(0, "empty statement"))
    S.x(c, "query-sql-whitespace-sql", R("QUERY_SQL", db=0, sql="  ", params=[]), "failures.json",
        check=FAIL(0, "empty statement"))
    S.x(c, "exec-sql-empty-sql", R("EXEC_SQL", db=0, sql="", params=[]), "responses.json",
        check=OK("RESULT", last_insert_id=0, rows_affected=0))
    S.x(c, "exec-sql-schema", R("EXEC_SQL", db=0, sql="PRAGMA foreign_keys = ON; "
                                                       "CREATE TABLE pk (id INTEGER PRIMARY KEY, v TEXT NOT NULL CHECK (v <> 'bad')); "
                                                       "CREATE TABLE parent (id INTEGER PRIMARY KEY); "
                                                       "CREATE TABLE child (pid INTEGER REFERENCES parent(id)); "
                                                       "INSERT INTO pk VALUES (1, 'a')", params=[]), "requests.json",
        check=OK("RESULT", last_insert_id=1, rows_affected=1))
    S.x(c, "exec-sql-primary-key-violation", R("EXEC_SQL", db=0, sql="INSERT INTO pk VALUES (1, 'b')", params=[]),
        "failures.json", check=FAIL(1555, "UNIQUE constraint failed: pk.id"))
    S.x(c, "exec-sql-not-null-violation", R("EXEC_SQL", db=0, sql="INSERT INTO pk VALUES (2, ?)", params=[None]),
        "failures.json", check=FAIL(1299, "NOT NULL constraint failed: pk.v"))
    S.x(c, "exec-sql-check-violation", R("EXEC_SQL", db=0, sql="INSERT INTO pk VALUES (3, ?)", params=["bad"]),
        "failures.json", check=FAIL(275))
    S.x(c, "exec-sql-foreign-key-violation", R("EXEC_SQL", db=0, sql="INSERT INTO child VALUES (5)", params=[]),
        "failures.json", check=FAIL(787, "FOREIGN KEY constraint failed"))
    S.x(c, "query-sql-no-such-table", R("QUERY_SQL", db=0, sql="SELECT * FROM nope", params=[]), "failures.json",
        check=FAIL(1, "no such table: nope"))
    if not new:
        S.x(c, "exec-sql-too-many-params", R("EXEC_SQL", db=0, sql="INSERT INTO child VALUES (?)", params=[1, 2]),
            "failures.json", check=FAIL(25, "column index out of range"),
            note="1.11.1 binds every parameter: more values than placeholders")
        S.x(c, "prepare-insert-child", R("PREPARE", db=0, sql="INSERT INTO child VALUES (?)"), "requests.json",
            check=OK("STMT", db=0, id=0, params=1))
        S.x(c, "exec-schema1-on-1-11", R("EXEC", db=0, stmt=0, params=[1]), "failures.json", schema=1,
            check=FAIL(1005), note="schema-1 (params32) tuple sent to 1.11.1: misread")
        S.x(c, "finalize-child", R("FINALIZE", db=0, stmt=0), "requests.json", check=OK("EMPTY"))
        S.x(c, "cluster-format2-treated-as-1", R("CLUSTER", format=2), "cluster.json", context={"cluster_format": 1},
            note="1.11.1 treats any non-zero CLUSTER format as 1")
    else:
        S.x(c, "query-sql-too-many-params", R("QUERY_SQL", db=0, sql="SELECT ?", params=[1, 2]), "failures.json",
            check=FAIL(10, "leader exec failed"),
            note="more values than placeholders in QUERY_SQL: 1.18.7 answers 10 'leader exec failed' "
                 "(protocol.md, from 1.18.6: 1 'bind parameters')")
        S.x(c, "query-sql-nonempty-tail", R("QUERY_SQL", db=0, sql="SELECT 1; SELECT 2", params=[]),
            "failures.json", check=FAIL(1, "nonempty statement tail"))
        S.x(c, "prepare-schema0-nonempty-tail", R("PREPARE", db=0, sql="SELECT 1; SELECT 2"), "failures.json",
            check=FAIL(1, "nonempty statement tail"))
        S.x(c, "exec-sql-pragma-not-authorized", R("EXEC_SQL", db=0, sql="PRAGMA busy_timeout = 100", params=[]),
            "failures.json", check=FAIL(23, "not authorized"))
        S.x(c, "cluster-format2", R("CLUSTER", format=2), "failures.json",
            check=FAIL(1005, "unrecognized cluster format"))
        S.x(c, "dump-unknown-database", R("DUMP", database="nosuch.db"), "failures.json",
            check=FAIL(1002, "database does not exists"))
    S.x(c, "exec-sql-select-as-exec", R("EXEC_SQL", db=0, sql="SELECT 1", params=[]), "failures.json",
        check=FAIL(1, "rows yielded when none expected for EXEC request") if new else FAIL(100, "another row available"),
        note="a row-returning statement sent as EXEC_SQL")
    c.close()
    # not leader, from a follower
    c = Conn(follower_port)
    S.x(c, "follower-leader", R("LEADER"), "cluster.json", check=OK("SERVER", id=1, address=addr(port)),
        note="LEADER sent to a follower voter: it names the leader")
    if new:
        S.x(c, "follower-open-not-leader", R("OPEN", database=db, flags=0, vfs="volatile"), "failures.json",
            check=FAIL(10250, "not leader"), note="1.18.2+: OPEN needs leadership")
    else:
        S.x(c, "follower-open", R("OPEN", database=db, flags=0, vfs="volatile"), "requests.json",
            check=OK("DB", id=0), note="1.11.1 accepts OPEN on a follower")
        S.x(c, "follower-exec-sql-not-leader", R("EXEC_SQL", db=0, sql="INSERT INTO pk VALUES (9, 'x')", params=[]),
            "failures.json", check=FAIL(10250, "not leader"))
        S.x(c, "follower-query-sql-not-leader", R("QUERY_SQL", db=0, sql="SELECT 1", params=[]), "failures.json",
            check=FAIL(10250, "not leader"))
    S.x(c, "follower-cluster", R("CLUSTER", format=1), "cluster.json", context={"cluster_format": 1},
        note="a follower answers CLUSTER from its own view of the configuration")
    c.close()


def scenario_dump(S, port):
    c = Conn(port)
    S.x(c, "open-dump-db", R("OPEN", database="dump.db", flags=0, vfs="volatile"), "requests.json")
    S.x(c, "exec-sql-dump-content", R("EXEC_SQL", db=0, sql="CREATE TABLE kv (k TEXT, v INTEGER); "
                                                           "INSERT INTO kv VALUES ('a', 1)", params=[]), "requests.json")
    c.close()
    c = Conn(port)   # DUMP needs no OPEN
    d = S.x(c, "dump", R("DUMP", database="dump.db"), "cluster.json",
            note="small database: CREATE TABLE + one INSERT")
    if d[0]["name"] == "FILES":
        S.G.live[(S.ver, "dump-sizes")] = [f["size"] for f in d[0]["files"]]
    if S.ver == "v111":
        S.x(c, "dump-unknown-database", R("DUMP", database="nosuch.db"), "cluster.json",
            check=OK("FILES", files=[{"name": "nosuch.db", "size": 0, "data": ""},
                                     {"name": "nosuch.db-wal", "size": 0, "data": ""}]),
            note="1.11.1: an unknown database dumps as two empty files")
    c.close()


def scenario_membership(S, leader_port, node3_port):
    """ADD / legacy PROMOTE / ASSIGN / REMOVE with a running third node."""
    n3 = addr(node3_port)
    c = Conn(leader_port)
    S.x(c, "add-node3", R("ADD", id=3, address=n3), "cluster.json", check=OK("EMPTY"))
    try:
        S.x(c, "promote-legacy-node3", {"type": 13, "name": "ASSIGN", "id": 3}, "cluster.json", check=OK("EMPTY"),
            note="legacy one-word ASSIGN (PROMOTE): no role word; the server promotes to voter")
        S.x(c, "cluster-after-promote", R("CLUSTER", format=1), "cluster.json", context={"cluster_format": 1})
        roles = {n["id"]: n.get("role") for n in W.decode_frame(S.G.live[(S.ver, "cluster-after-promote")][1][0],
                                                                 "response", context={"cluster_format": 1})["nodes"]}
        if roles.get(3) != 0:
            S.G.finding(f"{S.ver}: legacy PROMOTE left node 3 with role {roles.get(3)}")
    except (ConnectionError, socket.timeout) as e:
        S.G.finding(f"{S.ver}: legacy PROMOTE got no reply ({e})")
        c.close()
        c = Conn(leader_port)
    time.sleep(1)
    d3 = Conn(node3_port)
    S.x(d3, "voter3-leader", R("LEADER"), "cluster.json", check=OK("SERVER", id=1, address=addr(leader_port)))
    d3.close()
    S.x(c, "assign-node3-role7", R("ASSIGN", id=3, role=7), "cluster.json", check=OK("EMPTY"),
        note="unknown role code 7")
    S.x(c, "cluster-after-role7", R("CLUSTER", format=1), "cluster.json", context={"cluster_format": 1},
        note="role 7 was stored as standby (1)")
    # the standby learns its new role when the configuration entry reaches it: wait for that
    deadline = time.time() + 10
    while time.time() < deadline:
        probe = Conn(node3_port)
        probe.send(W.encode_request(R("LEADER")))
        known = W.decode_frame(probe.read_frame(), "response")["id"]
        probe.close()
        if known == 0:
            break
        time.sleep(0.2)
    d3 = Conn(node3_port)
    S.x(d3, "standby-leader-unknown", R("LEADER"), "cluster.json", check=OK("SERVER", id=0, address=""),
        resp_note="a standby never reports the leader: id 0 and the empty address")
    d3.close()
    S.x(c, "assign-node3-spare", R("ASSIGN", id=3, role=2), "cluster.json", check=OK("EMPTY"))
    S.x(c, "remove-node3", R("REMOVE", id=3), "cluster.json", check=OK("EMPTY"))
    S.x(c, "client-big-id", R("CLIENT", id=0xfedcba9876543210), "requests.json",
        check=OK("WELCOME", heartbeat_timeout=15000), note="client id above Int64.max (u64 field)")
    c.close()


def scenario_transfer(S, leader_port, follower_port, follower_id, follower_adv):
    c = Conn(leader_port)
    S.x(c, "transfer-to-node2", R("TRANSFER", id=follower_id), "cluster.json", check=OK("EMPTY"))
    time.sleep(0.5)
    S.x(c, "leader-after-transfer", R("LEADER"), "cluster.json",
        check=OK("SERVER", id=follower_id, address=follower_adv))
    c.close()
    c = Conn(follower_port)
    S.x(c, "transfer-any-voter", R("TRANSFER", id=0), "cluster.json", check=OK("EMPTY"),
        note="id 0: raft picks a voter")
    c.close()
    time.sleep(1)


def scenario_v118_schema1(S, port):
    """1.18.7 only: params32 tuples, PREPARE schema 1, RETURNING, multi-statement EXEC_SQL."""
    c = Conn(port)
    f = "v118.json"
    S.x(c, "s1-open", R("OPEN", database="schema1.db", flags=0, vfs="volatile"), "requests.json")
    S.x(c, "s1-exec-sql-create", R("EXEC_SQL", db=0, sql="CREATE TABLE s (a INTEGER, b TEXT, c REAL, d BLOB, e)",
                                   params=[]), f)
    S.x(c, "s1-exec-sql-4-params", R("EXEC_SQL", db=0, sql="INSERT INTO s (a, b, c, d) VALUES (?, ?, ?, ?)",
                                     params=[1, "one", 1.5, {"blob": "0a0b"}]), f, schema=1,
        check=OK("RESULT", last_insert_id=1, rows_affected=1),
        note="schema-1 tuple with 4 values: u32 count + 4 type bytes fill one word")
    S.x(c, "s1-exec-sql-5-params", R("EXEC_SQL", db=0, sql="INSERT INTO s VALUES (?, ?, ?, ?, ?)",
                                     params=[2, "two", -2.5, {"blob": ""}, None]), f, schema=1,
        check=OK("RESULT", last_insert_id=2, rows_affected=1),
        note="schema-1 tuple with 5 values: the header needs two words")
    S.x(c, "s1-query-sql", R("QUERY_SQL", db=0, sql="SELECT a, b, c, d, e FROM s WHERE a >= ? ORDER BY a",
                             params=[1]), f, schema=1,
        check=OK("ROWS", columns=list("abcde"), rows=[[1, "one", 1.5, {"blob": "0a0b"}, None],
                                                      [2, "two", -2.5, {"blob": ""}, None]], more=False))
    S.x(c, "s1-prepare-no-tail", R("PREPARE", db=0, sql="SELECT a FROM s WHERE a = ?"), f, schema=1,
        check=OK("STMT", db=0, id=0, params=1, offset=27), note="no tail: the offset is the whole SQL length")
    S.x(c, "s1-query-stmt", R("QUERY", db=0, stmt=0, params=[2]), f, schema=1,
        check=OK("ROWS", columns=["a"], rows=[[2]], more=False))
    S.x(c, "s1-prepare-insert-tail", R("PREPARE", db=0, sql="INSERT INTO s (a) VALUES (?);  SELECT 1"), f,
        schema=1, check=OK("STMT", db=0, id=1, params=1, offset=29),
        note="tail offset points at the first byte after the ';' (the tail starts with spaces)")
    S.x(c, "s1-exec-stmt", R("EXEC", db=0, stmt=1, params=[3]), f, schema=1,
        check=OK("RESULT", last_insert_id=3, rows_affected=1))
    S.x(c, "s1-exec-stmt-schema0", R("EXEC", db=0, stmt=1, params=[4]), f,
        check=OK("RESULT", last_insert_id=4, rows_affected=1))
    S.x(c, "s1-finalize-1", R("FINALIZE", db=0, stmt=1), f, check=OK("EMPTY"))
    S.x(c, "s1-finalize-0", R("FINALIZE", db=0, stmt=0), f, check=OK("EMPTY"))
    p300 = [i * 3 - 450 for i in range(300)]
    d = S.x(c, "s1-query-sql-300-params", R("QUERY_SQL", db=0, sql="SELECT " + ", ".join(["?"] * 300), params=p300),
            f, schema=1, note="300 parameters: only possible with a schema-1 tuple (u32 count)",
            resp_note="300 columns: the row header takes 150 bytes = 19 words; this PART frame carries the only "
                      "row and a second frame with no rows carries DONE")
    check_stream(S, "s1-query-sql-300-params", d, ["?"] * 300, [p300])
    S.x(c, "s1-exec-sql-multi-statement-params", R("EXEC_SQL", db=0, sql="INSERT INTO s (a) VALUES (?); "
                                                                         "INSERT INTO s (a) VALUES (?)", params=[11, 22]),
        f, schema=1, check=OK("RESULT", last_insert_id=6, rows_affected=1),
        note="1.18.2+: parameters are consumed statement after statement")
    S.x(c, "s1-query-sql-returning", R("QUERY_SQL", db=0, sql="INSERT INTO s (a, b) VALUES (?, ?) RETURNING a, b",
                                       params=[30, "ret"]), f,
        check=OK("ROWS", columns=["a", "b"], rows=[[30, "ret"]], more=False),
        note="RETURNING sent as QUERY_SQL (safe from 1.18.2; never send it to 1.11.1)")
    S.x(c, "s1-query-sql-count", R("QUERY_SQL", db=0, sql="SELECT count(*), max(a) FROM s", params=[]), f,
        check=OK("ROWS", columns=["count(*)", "max(a)"], rows=[[7, 30]], more=False))
    S.x(c, "s1-query-sql-zero-columns-schema1", R("QUERY_SQL", db=0, sql="DELETE FROM s WHERE a = ?", params=[22]),
        f, schema=1, check=OK("ROWS", columns=[], rows=[], more=False), note="a write sent as QUERY_SQL (schema 1)")
    c.close()


# ---------------------------------------------------------------- protocol.md section 6

def h(s):
    return bytes.fromhex(s.replace(" ", "").replace("|", ""))


PORTSUB = {
    "v111": [(b"127.0.0.1:19101", b"127.0.0.1:19001"), (b"127.0.0.1:19102", b"127.0.0.1:19002")],
    "v118": [(b"127.0.0.1:29101", b"127.0.0.1:19001"), (b"127.0.0.1:29102", b"127.0.0.1:19002")],
}

# (gid, vector id, direction, hex, context, {ver: (live key, "req"|index)}, note)
EMPTY_HEX = "0100000008000000 | 0000000000000000"
PROTOCOL_EXAMPLES = [
    ("G2", "g2-leader-req", "request", "0100000000000000 | 0000000000000000", None,
     {"v111": ("leader", "req"), "v118": ("leader", "req")}, None),
    ("G2", "g2-server-resp", "response", "0300000001000000 | 0100000000000000 3132372e302e302e 313a313930303100", None,
     {"v111": ("leader", 0), "v118": ("leader", 0)}, None),
    ("G2", "g2-server-legacy-resp", "response", "0200000001000000 | 3132372e302e302e 313a313930303100",
     {"legacy": True}, {"v111": ("leader-legacy-handshake", 0), "v118": ("leader-legacy-handshake", 0)},
     "LEADER reply on a connection opened with the legacy handshake"),
    ("G3", "g3-client-req", "request", "0100000001000000 | 0000000000000000", None,
     {"v111": ("client-0", "req"), "v118": ("client-0", "req")}, None),
    ("G3", "g3-welcome-resp", "response", "0100000002000000 | 983a000000000000", None,
     {"v111": ("client-0", 0), "v118": ("client-0", 0)}, None),
    ("G4", "g4-open-req", "request", "0400000003000000 | 746573742e646200 0000000000000000 766f6c6174696c65 0000000000000000",
     None, {"v111": ("open-test-db", "req"), "v118": ("open-test-db", "req")}, None),
    ("G4", "g4-db-resp", "response", "0100000004000000 | 0000000000000000", None,
     {"v111": ("open-test-db", 0), "v118": ("open-test-db", 0)}, None),
    ("G5", "g5-exec-sql-5-params-req", "request",
     "0d00000008000000 | 0000000000000000 494e534552542049 4e544f2074205641 4c55455320283f2c 203f2c203f2c203f "
     "2c203f2900000000 0501020305040000 0100000000000000 0000000000000440 6869000000000000 0000000000000000 "
     "0300000000000000 0102030000000000", None,
     {"v111": ("exec-sql-insert-5-params", "req"), "v118": ("exec-sql-insert-5-params", "req")}, None),
    ("G5", "g5-result-resp", "response", "0200000006000000 | 0100000000000000 0100000000000000", None,
     {"v111": ("exec-sql-insert-5-params", 0), "v118": ("exec-sql-insert-5-params", 0)}, None),
    ("G6", "g6-exec-sql-schema1-req", "request",
     "0500000008010000 | 0000000000000000 53454c454354203f 0000000000000000 0100000001000000 0700000000000000", None,
     {"v111": ("exec-sql-schema1-select-param", "req"), "v118": ("exec-sql-schema1-select-param", "req")}, None),
    ("G7", "g7-query-sql-req", "request",
     "0500000009000000 | 0000000000000000 53454c4543542069 2c20662c20732c20 6e2c20622046524f 4d20740000000000", None,
     {"v111": ("query-sql-select-t", "req"), "v118": ("query-sql-select-t", "req")}, None),
    ("G7", "g7-rows-resp", "response",
     "1500000007000000 | 0500000000000000 6900000000000000 6600000000000000 7300000000000000 6e00000000000000 "
     "6200000000000000 2153040000000000 0100000000000000 0000000000000440 6869000000000000 0000000000000000 "
     "0300000000000000 0102030000000000 2153040000000000 feffffffffffffff 000000000000e0bf 68656c6c6f20776f "
     "726c640000000000 0000000000000000 0000000000000000 ffffffffffffffff", None,
     {"v111": ("query-sql-select-t", 0), "v118": ("query-sql-select-t", 0)}, None),
    ("G9", "g9-syntax-error-resp", "response",
     "0500000000000000 | 0100000000000000 6e65617220225345 4c4543223a207379 6e74617820657272 6f72000000000000", None,
     {"v111": ("exec-sql-syntax-error", 0), "v118": ("exec-sql-syntax-error", 0)}, None),
    ("G9", "g9-unique-violation-resp", "response",
     "0500000000000000 | 1308000000000000 554e495155452063 6f6e73747261696e 74206661696c6564 3a20752e76000000", None,
     {"v111": ("exec-sql-unique-violation", 0), "v118": ("exec-sql-unique-violation", 0)}, None),
    ("G9", "g9-no-database-resp", "response",
     "0400000000000000 | 0c00000000000000 6e6f206461746162 617365206f70656e 6564000000000000", None,
     {"v111": ("exec-sql-wrong-db-id", 0), "v118": ("exec-sql-wrong-db-id", 0)}, None),
    ("G9", "g9-unrecognized-request-type-resp", "response",
     "0500000000000000 | ed03000000000000 756e7265636f676e 697a656420726571 7565737420747970 6500000000000000", None,
     {"v118": ("heartbeat", 0)}, "1.12+ reply to an unknown request type (here checked with HEARTBEAT on 1.18.7)"),
    ("G10", "g10-prepare-req", "request",
     "0500000004000000 | 0000000000000000 53454c4543542069 2c20732046524f4d 2074205748455245 2069203e203f0000", None,
     {"v111": ("prepare-select-where", "req"), "v118": ("prepare-select-where", "req")}, None),
    ("G10", "g10-stmt-resp", "response", "0200000005000000 | 0000000000000000 0100000000000000", None,
     {"v111": ("prepare-select-where", 0), "v118": ("prepare-select-where", 0)}, None),
    ("G11", "g11-prepare-schema1-req", "request",
     "0400000004010000 | 0000000000000000 53454c4543542031 3b2053454c454354 2032000000000000", None,
     {"v111": ("prepare-schema1-two-statements", "req"), "v118": ("prepare-schema1-two-statements", "req")}, None),
    ("G11", "g11-stmt-with-offset-resp", "response",
     "0300000005010000 | 0000000000000000 0000000000000000 0900000000000000", None,
     {"v118": ("prepare-schema1-two-statements", 0)}, "1.15+ reply to PREPARE schema 1"),
    ("G11", "g11-stmt-schema0-from-1-11-resp", "response",
     "0200000005000000 | 0000000000000000 0000000000000000", None,
     {"v111": ("prepare-schema1-two-statements", 0)}, "1.11.1 reply to PREPARE schema 1 (schema byte ignored)"),
    ("G12", "g12-query-req", "request",
     "0300000006000000 | 0000000000000000 0101000000000000 0000000000000000", None,
     {"v111": ("query-stmt0-int-param", "req"), "v118": ("query-stmt0-int-param", "req")}, None),
    ("G12", "g12-rows-resp", "response",
     "0700000007000000 | 0200000000000000 6900000000000000 7300000000000000 3100000000000000 0100000000000000 "
     "6869000000000000 ffffffffffffffff", None,
     {"v111": ("query-stmt0-int-param", 0), "v118": ("query-stmt0-int-param", 0)}, None),
    ("G13", "g13-exec-req", "request", "0300000005000000 | 0000000001000000 0103000000000000 7a7a000000000000", None,
     {"v111": ("exec-stmt1-text-param", "req"), "v118": ("exec-stmt1-text-param", "req")}, None),
    ("G13", "g13-result-resp", "response", "0200000006000000 | 0200000000000000 0100000000000000", None,
     {"v111": ("exec-stmt1-text-param", 0), "v118": ("exec-stmt1-text-param", 0)}, None),
    ("G13", "g13-finalize-req", "request", "0100000007000000 | 0000000001000000", None,
     {"v111": ("finalize-stmt1", "req"), "v118": ("finalize-stmt1", "req")}, None),
    ("G13", "g13-empty-resp", "response", EMPTY_HEX, None,
     {"v111": ("finalize-stmt1", 0), "v118": ("finalize-stmt1", 0)}, None),
    ("G13", "g13-no-statement-resp", "response",
     "0500000000000000 | 0c00000000000000 6e6f207374617465 6d656e7420776974 6820746865206769 76656e2069640000", None,
     {"v111": ("finalize-stmt99", 0), "v118": ("finalize-stmt99", 0)}, None),
    ("G14", "g14-interrupt-req", "request", "010000000a000000 | 0000000000000000", None,
     {"v111": ("interrupt-idle", "req"), "v118": ("interrupt-idle", "req")}, None),
    ("G15", "g15-cluster-format1-req", "request", "0100000010000000 | 0100000000000000", None,
     {"v111": ("cluster-format1", "req"), "v118": ("cluster-format1", "req")}, None),
    ("G15", "g15-servers-format1-resp", "response",
     "0500000003000000 | 0100000000000000 0100000000000000 3132372e302e302e 313a313930303100 0000000000000000",
     {"cluster_format": 1}, {"v111": ("cluster-format1", 0), "v118": ("cluster-format1", 0)}, None),
    ("G15", "g15-servers-format1-two-nodes-resp", "response",
     "0900000003000000 | 0200000000000000 0100000000000000 3132372e302e302e 313a313930303100 0000000000000000 "
     "0200000000000000 3132372e302e302e 313a313930303200 0200000000000000",
     {"cluster_format": 1}, {"v111": ("cluster-format1-with-spare", 0), "v118": ("cluster-format1-with-spare", 0)},
     "the doc elides node 1 as '…(node 1)…'; expanded here"),
    ("G15", "g15-servers-format0-resp", "response",
     "0400000003000000 | 0100000000000000 0100000000000000 3132372e302e302e 313a313930303100",
     {"cluster_format": 0}, {"v111": ("cluster-format0", 0), "v118": ("cluster-format0", 0)}, None),
    ("G16", "g16-describe-req", "request", "0100000012000000 | 0000000000000000", None,
     {"v111": ("describe", "req"), "v118": ("describe", "req")}, None),
    ("G16", "g16-metadata-resp", "response", "020000000a000000 | 0700000000000000 0000000000000000", None,
     {"v111": ("describe", 0)}, "failure domain 7 (checked on the 1.11.1 node started with --failure-domain 7)"),
    ("G16", "g16-weight-req", "request", "0100000013000000 | 0500000000000000", None,
     {"v111": ("weight-5", "req"), "v118": ("weight-5", "req")}, None),
    ("G17", "g17-add-req", "request", "030000000c000000 | 0200000000000000 3132372e302e302e 313a313930303200", None,
     {"v111": ("add-node2", "req"), "v118": ("add-node2", "req")}, None),
    ("G17", "g17-assign-req", "request", "020000000d000000 | 0200000000000000 0100000000000000", None,
     {"v111": ("assign-node2-standby", "req"), "v118": ("assign-node2-standby", "req")}, None),
    ("G17", "g17-remove-req", "request", "010000000e000000 | 0200000000000000", None,
     {"v111": ("remove-node2", "req"), "v118": ("remove-node2", "req")}, None),
    ("G17", "g17-transfer-req", "request", "0100000011000000 | 0100000000000000", None,
     {"v111": ("transfer-to-self", "req"), "v118": ("transfer-to-self", "req")}, None),
    ("G17", "g17-transfer-failure-resp", "response",
     "0400000000000000 | 0100000000000000 7365727665722049 44206973206e6f74 2076616c69640000", None,
     {"v111": ("transfer-to-self", 0), "v118": ("transfer-to-self", 0)}, None),
    ("G17", "g17-dump-req", "request", "010000000f000000 | 746573742e646200", None,
     {"v111": ("dump-test-db", "req"), "v118": ("dump-test-db", "req")}, None),
    ("G19", "g19-datetime-boolean-rows-resp", "response",
     "0f00000007000000 | 0300000000000000 6100000000000000 6200000000000000 6300000000000000 "
     "ba0a000000000000 323032342d30312d 30322030333a3034 3a30350000000000 0100000000000000 0000000000000000 "
     "ba09000000000000 0000000000000000 0000000000000000 00f1536500000000 ffffffffffffffff", None,
     {"v111": ("query-sql-datetime-boolean-null-quirk", 0), "v118": ("query-sql-datetime-boolean-null-quirk", 0)},
     "NULL in DATETIME/TIMESTAMP -> ISO8601 \"\"; NULL in BOOLEAN -> BOOLEAN false; integer in TIMESTAMP -> UNIXTIME"),
    ("G20", "g20-zero-column-rows-resp", "response", "0200000007000000 | 0000000000000000 ffffffffffffffff", None,
     {"v118": ("query-sql-insert-no-columns", 0)}, "write sent as QUERY_SQL on 1.15+"),
    ("G20", "g20-not-an-error-resp", "response",
     "0300000000000000 | 0100000000000000 6e6f7420616e2065 72726f7200000000", None,
     {"v111": ("query-sql-insert-no-columns", 0)}, "write sent as QUERY_SQL on 1.11.1"),
]


def check_protocol_examples(G):
    """Compare each example with the live bytes (addresses mapped to the doc's ports)."""
    added = 0
    for gid, vid, direction, hx, ctx, live, note in PROTOCOL_EXAMPLES:
        doc = h(hx)
        verdicts = []
        ok = True
        for ver, (key, which) in live.items():
            got = G.live.get((ver, key))
            if got is None:
                verdicts.append(f"{ver}: not exercised")
                continue
            frame = got[0] if which == "req" else got[1][which]
            mapped = frame
            for a, b in PORTSUB[ver]:
                mapped = mapped.replace(a, b)
            if mapped == doc:
                verdicts.append(f"{ver}: identical")
            else:
                ok = False
                verdicts.append(f"{ver}: DIFFERENT")
                G.finding(f"protocol.md {gid} ({vid}) disagrees with live {ver}: doc {doc.hex()} live {frame.hex()}")
        if not ok:
            continue   # the server wins: the live vector is already recorded
        checked = [v for v in verdicts if v.endswith("identical")]
        n = (note + "; " if note else "") + (
            "confirmed live (" + ", ".join("1.11.1" if x.startswith("v111") else "1.18.7" for x in checked) +
            ", addresses mapped to the doc's 127.0.0.1:19001/19002)" if checked else "not re-checked live")
        G.add("protocol.json", vid, direction, f"protocol.md §6 {gid}", doc, context=ctx, note=n, dedupe=False)
        added += 1
    return added


# ---------------------------------------------------------------- go-dqlite traffic

def pair_stream(cbytes, sbytes):
    """Pairs each request frame of a recorded connection with its response frames."""
    hs = struct.unpack("<Q", cbytes[:8])[0]
    reqs = list(W.iter_frames(cbytes, 8))
    resps = list(W.iter_frames(sbytes, 0))
    out, j = [], 0
    for q in reqs:
        group = []
        while j < len(resps):
            f = resps[j]
            j += 1
            group.append(f)
            if not (f[4] == W.RESP["ROWS"] and f[-8:] == W.MARK_PART):
                break
        out.append((q, group))
    return hs, out


def conn_kind(cbytes):
    names = [W.decode_frame(f, "request")["name"] for f in W.iter_frames(cbytes, 8)]
    for n in names:
        if n not in ("LEADER", "CLIENT"):
            return n, names
    return ("LEADER" if names else "NONE"), names


def harvest_go(G, rec_dir, name, source, file, prefix, max_per_kind=3, by_sql=False):
    """Take request/response vectors from recorded go-dqlite connections."""
    picked = {}
    conns = recorded(rec_dir, name)
    stats = {"connections": 0, "frames": 0, "noncanonical": 0}
    count = 0
    for n in sorted(conns):
        cb = open(os.path.join(rec_dir, f"{name}-{n}.client.bin"), "rb").read()
        sb = open(os.path.join(rec_dir, f"{name}-{n}.server.bin"), "rb").read()
        if len(cb) < 8:
            continue
        if len(cb) < 16 or cb[12] == W.REQ["CONNECT"]:
            continue   # no request, or a raft peer connection (see harvest_connect)
        stats["connections"] += 1
        _, pairs = pair_stream(cb, sb)
        for q, group in pairs:
            stats["frames"] += 1
            d = W.decode_frame(q, "request")
            canon = W.encode_request(d, q[5]) == q
            if not canon:
                stats["noncanonical"] += 1
            sql = d.get("sql", "")
            kind = (d["name"], canon, len(d.get("params", [])) > 0, sql if by_sql else sql[:6].upper())
            picked.setdefault(kind, [])
            if len(picked[kind]) >= (max_per_kind if not canon else 1):
                continue
            picked[kind].append(q)
            count += 1
            base = f"{prefix}-{count}-{d['name'].lower().replace('_', '-')}"
            rids = []
            for i, r in enumerate(group):
                ctx = {"cluster_format": min(d["format"], 1)} if d["name"] == "CLUSTER" else None
                rid = f"{base}-resp" if len(group) == 1 else f"{base}-resp-{i + 1}"
                # multi-frame: keep the first and the last frame only
                if 0 < i < len(group) - 1:
                    continue
                got = G.add(file, rid, "response", source, r, context=ctx,
                            note=f"answer to {base}-req" if len(group) == 1 else
                            f"frame {i + 1} of {len(group)} answering {base}-req")
                rids.append(got if got == rid else f"{got} (same bytes)")
            G.add(file, f"{base}-req", "request", source, q,
                  note=f"sent by go-dqlite 1.11.5 (connection {n}); answered by " + ", ".join(rids))
    return stats


def recorded(rec_dir, name):
    """Connection numbers recorded by record_proxy.py under NAME, in order."""
    ns = [int(p.rsplit("-", 1)[1].split(".")[0]) for p in glob.glob(os.path.join(rec_dir, f"{name}-*.client.bin"))]
    return sorted(ns)


def harvest_connect(G, rec_dir, name, source, file, vid, note):
    for n in recorded(rec_dir, name):
        cb = open(os.path.join(rec_dir, f"{name}-{n}.client.bin"), "rb").read()
        if len(cb) < 16 or cb[12] != W.REQ["CONNECT"]:
            continue
        words = struct.unpack("<I", cb[8:12])[0]
        fr = cb[8:16 + 8 * words]
        hs = struct.unpack("<Q", cb[:8])[0]
        return G.add(file, vid, "request", source, fr,
                     note=f"{note}; handshake {hs}, then this frame, then {len(cb) - 16 - 8 * words} bytes of raft "
                          f"traffic on the same stream")
    G.finding(f"no CONNECT frame found in {name} recordings")
    return None


# ---------------------------------------------------------------- captures

def write_capture(name, cbytes, sbytes):
    os.makedirs(CAPTURE_DIR, exist_ok=True)
    base = os.path.join(CAPTURE_DIR, name)
    with open(base + ".client.bin", "wb") as f:
        f.write(cbytes)
    with open(base + ".server.bin", "wb") as f:
        f.write(sbytes)
    for direction, data in (("client", cbytes), ("server", sbytes)):
        with open(f"{base}.{direction}.jsonl", "w") as f:
            for o in W.decode_stream(bytes(data), direction):
                f.write(W.dumps_line(o) + "\n")
    log(f"  capture {name}: client {len(cbytes)} B, server {len(sbytes)} B")


# ---------------------------------------------------------------- main flow

def wait_member(port, address, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        c = Conn(port)
        c.send(W.encode_request(R("CLUSTER", format=1)))
        d = W.decode_frame(c.read_frame(), "response", context={"cluster_format": 1})
        c.close()
        for n in d.get("nodes", []):
            if n["address"] == address:
                return n
        time.sleep(0.2)
    raise RuntimeError(f"{address} never appeared in the cluster")


def run(work):
    G = Golden()
    P = Procs(work)
    node = os.path.join(work, "dqlite-node")
    rec = os.path.join(work, "rec")
    os.makedirs(rec, exist_ok=True)
    px = [sys.executable, os.path.join(HERE, "record_proxy.py")]
    stats = {}
    try:
        log("== build dqlite-node against the host libdqlite (1.11.1)")
        subprocess.run(["gcc", "-O2", "-Wall", "-o", node, os.path.join(HERE, "dqlite-node.c"), "-ldqlite"], check=True)

        # ------------------------------------------------ 1.11.1: go-dqlite through a proxy
        log("== 1.11.1 go-dqlite cluster: node id 1 advertised at proxy :%d, bound at :%d" % (B1_ADV, B1_BIND))
        P.node("b1", node, 1, B1_ADV, bind=B1_BIND)
        P.start("proxy-goshell", px + ["--listen", addr(B1_ADV), "--target", addr(B1_BIND), "--out", rec,
                                       "--name", "goshell"], "LISTENING")
        shell_cwd = os.path.join(work, "goshell-cwd")
        os.makedirs(shell_cwd, exist_ok=True)
        cmds = ";".join([
            "CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB, n INTEGER, r REAL, t DATETIME, ok BOOLEAN)",
            "INSERT INTO kv VALUES ('a', x'00ff', 1, 1.5, '2024-01-02 03:04:05', 1)",
            "INSERT INTO kv VALUES ('b', NULL, -9223372036854775808, -0.25, 1700000000, 0)",
            "INSERT INTO kv (k) VALUES ('c')",
            "SELECT * FROM kv",
            "CREATE TABLE big (id INTEGER, s TEXT)",
            "INSERT INTO big WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1200) "
            "SELECT x, 'shell row ' || x FROM c",
            "SELECT id, s FROM big",
            ".cluster",
            ".leader",
            f".describe {addr(B1_ADV)}",
            f".weight {addr(B1_ADV)} 3",
            f".dump {addr(B1_ADV)} goshell",
            "UPDATE kv SET n = n + 1 WHERE k = 'a'",
            "INSERT INTO kv (k) VALUES ('a')",
        ])
        r = subprocess.run(["dqlite", "-s", addr(B1_ADV), "goshell", cmds], cwd=shell_cwd, capture_output=True,
                           text=True, timeout=60)
        log(f"   dqlite shell rc={r.returncode} (the last statement fails on purpose): {r.stderr.strip()[:200]}")
        P.stop_name("proxy-goshell")

        log("== 1.11.1 dqlite-benchmark joined to the same cluster, through proxy :%d" % B1_ADV)
        P.start("proxy-gobench", px + ["--listen", addr(B1_ADV), "--target", addr(B1_BIND), "--out", rec,
                                       "--name", "gobench"], "LISTENING")
        bench = subprocess.Popen(["dqlite-benchmark", "--db", addr(BENCH), "--join", addr(B1_ADV), "--driver",
                                  "--cluster", f"{addr(B1_ADV)},{addr(BENCH)}", "--workload", "kvreadwrite",
                                  "--duration", "1", "--value-size", "512", "--dir", os.path.join(work, "bench"), "--cluster-timeout", "60"],
                                 stdout=open(os.path.join(work, "bench.log"), "wb"), stderr=subprocess.STDOUT,
                                 start_new_session=True)
        P.procs.append(("bench", bench))
        m = wait_member(B1_BIND, addr(BENCH))
        log(f"   benchmark node joined as id {m['id']} role {m['role']}; assigning standby so it receives the config")
        c = Conn(B1_BIND)
        c.send(W.encode_request(R("ASSIGN", id=m["id"], role=1)))
        log("   ASSIGN ->", W.decode_frame(c.read_frame(), "response"))
        c.close()
        rc = bench.wait(120)
        log(f"   dqlite-benchmark rc={rc}")
        P.stop_name("proxy-gobench")
        P.stop_name("b1")
        stats["goshell"] = harvest_go(G, rec, "goshell", SRC_GOSHELL, "gotrace.json", "go-shell", by_sql=True)
        stats["gobench"] = harvest_go(G, rec, "gobench", SRC_GOBENCH, "gotrace.json", "go-bench", max_per_kind=4)
        harvest_connect(G, rec, "gobench", SRC_RAFT, "gotrace.json", "go-app-raft-connect-req",
                        "the dqlite-benchmark node (go-dqlite app, libdqlite 1.11.1) dialing node 1 through the proxy")
        write_go_captures(rec)

        # ------------------------------------------------ 1.11.1: raw client
        log("== 1.11.1 raw-client cluster: node 1 on :%d (failure domain 7)" % A1)
        P.node("a1", node, 1, A1, extra=["--failure-domain", "7"])
        S = Session(G, "v111")
        scenario_protocol_examples(S, A1, addr(A2_BIND))
        log("== 1.11.1 node 2 joins; node 1 reaches it through recording proxy :%d" % A2_ADV)
        P.start("proxy-raft", px + ["--listen", addr(A2_ADV), "--target", addr(A2_BIND), "--out", rec,
                                    "--name", "raft"], "LISTENING")
        P.node("a2", node, 2, A2_ADV, bind=A2_BIND, extra=["--join", addr(A1)])
        P.node("a3", node, 3, A3)
        scenario_values(S, A1)
        scenario_rows(S, A1)
        scenario_failures(S, A1, A2_BIND)
        scenario_dump(S, A1)
        scenario_membership(S, A1, A3)
        P.stop_name("a3")
        scenario_transfer(S, A1, A2_BIND, 2, addr(A2_ADV))
        for n in ("a2", "proxy-raft", "a1"):
            P.stop_name(n)
        harvest_connect(G, rec, "raft", SRC_RAFT, "cluster.json", "raft-connect-req",
                        "node 1 (1.11.1) dialing node 2, whose advertised address is the recording proxy")

        # ------------------------------------------------ 1.18.7
        log("== 1.18.7 cluster via scripts/dqlite118.sh")
        d118 = os.path.join(work, "c")
        P.dq118("start", "--id", "1", "--address", addr(C1), "--data", os.path.join(d118, "1"))
        S = Session(G, "v118")
        scenario_protocol_examples(S, C1, addr(C2))
        P.dq118("start", "--id", "2", "--address", addr(C2), "--data", os.path.join(d118, "2"), "--join", addr(C1))
        P.dq118("start", "--id", "3", "--address", addr(C3), "--data", os.path.join(d118, "3"))
        session = Conn(C1)   # the dissector capture: one long session of this script's client
        scenario_sample(G, C1)
        scenario_values(S, C1)
        scenario_rows(S, C1)
        scenario_failures(S, C1, C2)
        scenario_dump(S, C1)
        scenario_v118_schema1(S, C1)
        scenario_membership(S, C1, C3)
        P.dq118("stop", "--address", addr(C3))
        scenario_py_session(session)
        write_capture("py118-session", session.sent, session.received)
        session.close()
        scenario_transfer(S, C1, C2, 2, addr(C2))
        P.dq118("stop")
    finally:
        P.stop_all()

    stats["protocol_examples"] = check_protocol_examples(G)
    return G, stats


def scenario_sample(G, port):
    """The README's demo capture: small and readable."""
    c = Conn(port)
    for req in (R("LEADER"), R("CLIENT", id=1), R("OPEN", database="sample", flags=0, vfs="volatile"),
                R("EXEC_SQL", db=0, sql="CREATE TABLE fruit (id INTEGER PRIMARY KEY, name TEXT, price REAL)", params=[]),
                R("EXEC_SQL", db=0, sql="INSERT INTO fruit (name, price) VALUES (?, ?), (?, ?)",
                  params=["apple", 1.25, "pear", 0.5]),
                R("QUERY_SQL", db=0, sql="SELECT id, name, price FROM fruit WHERE price > ?", params=[0.1]),
                R("EXEC_SQL", db=0, sql="INSERT INTO fruit (id, name) VALUES (1, 'plum')", params=[])):
        c.send(W.encode_request(req))
        c.read_reply()
    write_capture("sample", c.sent, c.received)
    c.close()


def scenario_py_session(c):
    """One connection exercising many message types (dissector capture only)."""
    def call(req, schema=0):
        c.send(W.encode_request(req, schema))
        return c.read_reply()
    call(R("LEADER"))
    call(R("CLIENT", id=0x0123456789abcdef))
    call(R("OPEN", database="session.db", flags=0, vfs="volatile"))
    call(R("EXEC_SQL", db=0, sql="CREATE TABLE e (id INTEGER PRIMARY KEY, at DATETIME, ok BOOLEAN, v)", params=[]))
    call(R("EXEC_SQL", db=0, sql="INSERT INTO e (at, ok, v) VALUES (?, ?, ?)",
           params=[{"iso8601": "2025-02-03 04:05:06"}, True, {"blob": "cafe"}]), schema=1)
    call(R("EXEC_SQL", db=0, sql="INSERT INTO e (at, ok, v) VALUES (?, ?, ?)",
           params=[1700000000, None, {"float_bits": NAN_BITS}]))
    call(R("EXEC_SQL", db=0, sql="INSERT INTO e (v) WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
                                 "WHERE x < 600) SELECT 'value ' || x FROM c", params=[]))
    call(R("QUERY_SQL", db=0, sql="SELECT id, at, ok, v FROM e", params=[]))
    call(R("PREPARE", db=0, sql="SELECT count(*) FROM e WHERE id > ?; SELECT 2"), schema=1)
    call(R("QUERY", db=0, stmt=0, params=[10]), schema=1)
    call(R("QUERY", db=0, stmt=0, params=[INT64_MIN]))
    call(R("PREPARE", db=0, sql="UPDATE e SET v = ? WHERE id = ?"))
    call(R("EXEC", db=0, stmt=1, params=["text", 1]))
    call(R("EXEC", db=0, stmt=1, params=[-0.0, 2]), schema=1)
    call(R("FINALIZE", db=0, stmt=1))
    call(R("FINALIZE", db=0, stmt=0))
    call(R("QUERY_SQL", db=0, sql="SELECT v FROM e WHERE id <= ?", params=[2]), schema=1)
    call(R("QUERY_SQL", db=0, sql="DELETE FROM e WHERE id > 500", params=[]))
    call(R("INTERRUPT", db=0))
    call(R("HEARTBEAT", timestamp=12345))
    call(R("CLUSTER", format=1))
    call(R("CLUSTER", format=0))
    call(R("DESCRIBE", format=0))
    call(R("WEIGHT", weight=9))
    call(R("TRANSFER", id=1))
    call(R("DUMP", database="session.db"))
    call(R("EXEC_SQL", db=0, sql="SELEC", params=[]))


def write_go_captures(rec):
    """Pick the go-dqlite connections that make the dissector captures."""
    def conns(name):
        out = []
        for n in recorded(rec, name):
            cb = open(os.path.join(rec, f"{name}-{n}.client.bin"), "rb").read()
            sb = open(os.path.join(rec, f"{name}-{n}.server.bin"), "rb").read()
            if len(cb) < 16:
                continue
            kind, names = conn_kind(cb) if cb[12] != W.REQ["CONNECT"] else ("CONNECT", [])
            out.append((n, kind, names, cb, sb))
        return sorted(out)
    label = {"OPEN": "sql", "CLUSTER": "cluster", "LEADER": "leader", "DESCRIBE": "describe",
             "WEIGHT": "weight", "DUMP": "dump", "ADD": "join"}
    used = set()
    for n, kind, names, cb, sb in conns("goshell"):
        if kind == "CONNECT" or kind not in label:
            continue
        nm = f"goshell-{label[kind]}"
        if nm in used:
            continue
        used.add(nm)
        write_capture(nm, cb, sb)
    best = None
    for n, kind, names, cb, sb in conns("gobench"):
        if kind == "OPEN" and (best is None or len(names) > len(best[2])):
            best = (n, kind, names, cb, sb)
    if best:
        write_capture("gobench-driver", best[3], best[4])


def write_outputs(G, stats, work):
    os.makedirs(GOLDEN_DIR, exist_ok=True)
    for fn in sorted(os.listdir(GOLDEN_DIR)):
        if fn.endswith(".json"):
            os.remove(os.path.join(GOLDEN_DIR, fn))
    summary = {"files": {}, "sources": {}, "request_types": set(), "response_types": set(), "total": 0}
    for file in sorted(G.files):
        vecs = G.vectors_out(file)
        with open(os.path.join(GOLDEN_DIR, file), "w") as f:
            f.write('{"vectors": [\n')
            f.write(",\n".join(json.dumps(v, ensure_ascii=False) for v in vecs))
            f.write("\n]}\n")
        summary["files"][file] = len(vecs)
        summary["total"] += len(vecs)
        for v in vecs:
            summary["sources"][v["source"]] = summary["sources"].get(v["source"], 0) + 1
            key = "request_types" if v["direction"] == "request" else "response_types"
            summary[key].add((v["expect"]["type"], v.get("schema", 0) if v["direction"] == "request"
                              else int(v["hex"][10:12], 16)))
    summary["request_types"] = sorted(summary["request_types"])
    summary["response_types"] = sorted(summary["response_types"])
    summary["findings"] = G.findings
    summary["stats"] = stats
    summary["multi_frame_sizes"] = {k[0]: v for k, v in G.live.items() if k[1] == "multi-frame-sizes"}
    summary["dump_sizes"] = {f"{k[0]} {k[1]}": v for k, v in G.live.items() if k[1].endswith("-sizes")}
    with open(os.path.join(work, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, default=list)
    log(json.dumps({k: summary[k] for k in ("files", "sources", "total")}, indent=1))
    log("request (type, schema):", summary["request_types"])
    log("response (type, schema):", summary["response_types"])
    log("findings:")
    for x in G.findings:
        log("  -", x)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", default="/tmp/swift-dqlite-capture", help="scratch directory (wiped first)")
    a = ap.parse_args()
    if os.path.exists(a.work):
        shutil.rmtree(a.work)
    os.makedirs(a.work)
    if os.path.isdir(CAPTURE_DIR):
        for fn in os.listdir(CAPTURE_DIR):
            if fn.endswith((".bin", ".jsonl")):
                os.remove(os.path.join(CAPTURE_DIR, fn))
    G, stats = run(a.work)
    write_outputs(G, stats, a.work)


if __name__ == "__main__":
    main()
