#!/usr/bin/env python3
"""Independent reference codec for the dqlite client wire protocol.

Written from /work/shared/docs/protocol.md (sections 1-3) and checked against
live dqlite 1.11.1 and 1.18.7 servers; it shares no code with the Swift
package. It is used to

  * render frames into the JSON structure of Tests/DqliteWireTests/Golden
    (exact mode: NaN as {"float_bits": ...}, FILES entries with "data"),
  * render whole captured streams the way `dqlite-wire decode` must print them
    (plain mode: NaN as "NaN", FILES entries only {name, size}), and
  * encode requests/responses from that JSON structure, with zero padding
    (used by capture_golden.py to build what it sends, and to decide whether a
    captured frame is "canonical").

CLI:
  wire_ref.py decode --direction client|server FILE   # JSON Lines, like the dissector
  wire_ref.py frame --direction request|response HEX [--cluster-format N] [--legacy] [--exact]
  wire_ref.py verify [--golden DIR] [--captures DIR]   # re-check the written vectors/captures
"""
import argparse
import json
import math
import struct


REQUEST_NAMES = {
    0: "LEADER", 1: "CLIENT", 2: "HEARTBEAT", 3: "OPEN", 4: "PREPARE", 5: "EXEC",
    6: "QUERY", 7: "FINALIZE", 8: "EXEC_SQL", 9: "QUERY_SQL", 10: "INTERRUPT",
    11: "CONNECT", 12: "ADD", 13: "ASSIGN", 14: "REMOVE", 15: "DUMP", 16: "CLUSTER",
    17: "TRANSFER", 18: "DESCRIBE", 19: "WEIGHT",
}
RESPONSE_NAMES = {
    0: "FAILURE", 1: "SERVER", 2: "WELCOME", 3: "SERVERS", 4: "DB", 5: "STMT",
    6: "RESULT", 7: "ROWS", 8: "EMPTY", 9: "FILES", 10: "METADATA",
}
REQ = {v: k for k, v in REQUEST_NAMES.items()}
RESP = {v: k for k, v in RESPONSE_NAMES.items()}

# value type codes (protocol.md 3.1)
T_INTEGER, T_FLOAT, T_TEXT, T_BLOB, T_NULL = 1, 2, 3, 4, 5
T_UNIXTIME, T_ISO8601, T_BOOLEAN = 9, 10, 11
VALUE_TYPES = (T_INTEGER, T_FLOAT, T_TEXT, T_BLOB, T_NULL, T_UNIXTIME, T_ISO8601, T_BOOLEAN)

MARK_DONE = b"\xff" * 8
MARK_PART = b"\xee" * 8

HANDSHAKE_V1 = 1
HANDSHAKE_LEGACY = 0x86104DD760433FE5


class WireError(Exception):
    pass


# ----------------------------------------------------------------- reading

class Reader:
    def __init__(self, body: bytes):
        self.b = bytes(body)
        self.pos = 0

    def left(self) -> int:
        return len(self.b) - self.pos

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.b):
            raise WireError(f"short body: need {n} bytes at {self.pos}, have {self.left()}")
        v = self.b[self.pos:self.pos + n]
        self.pos += n
        return v

    def u8(self) -> int:
        return self.take(1)[0]

    def u32(self) -> int:
        return struct.unpack("<I", self.take(4))[0]

    def u64(self) -> int:
        return struct.unpack("<Q", self.take(8))[0]

    def i64(self) -> int:
        return struct.unpack("<q", self.take(8))[0]

    def f64_bits(self) -> int:
        return self.u64()

    def align(self):
        """Skip padding up to the next word boundary (padding is not checked)."""
        rem = self.pos % 8
        if rem:
            self.take(8 - rem)

    def text(self) -> str:
        end = self.b.find(b"\x00", self.pos)
        if end < 0:
            raise WireError(f"text at {self.pos} has no NUL terminator")
        raw = self.b[self.pos:end]
        self.pos = end + 1
        self.align()
        return raw.decode("utf-8")

    def blob(self) -> bytes:
        n = self.u64()
        v = self.take(n)
        self.align()
        return v

    def peek(self, n: int) -> bytes:
        return self.b[self.pos:self.pos + n]

    def end(self, what: str):
        if self.left():
            raise WireError(f"{what}: {self.left()} trailing bytes")


def render_float(bits: int, exact: bool):
    v = struct.unpack("<d", struct.pack("<Q", bits))[0]
    if math.isnan(v):
        return {"float_bits": f"{bits:016x}"} if exact else "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    return v


def read_value(r: Reader, code: int, exact: bool):
    if code == T_INTEGER:
        return r.i64()
    if code == T_FLOAT:
        return render_float(r.f64_bits(), exact)
    if code == T_TEXT:
        return r.text()
    if code == T_BLOB:
        return {"blob": r.blob().hex()}
    if code == T_NULL:
        r.u64()
        return None
    if code == T_UNIXTIME:
        return {"unixtime": r.i64()}
    if code == T_ISO8601:
        return {"iso8601": r.text()}
    if code == T_BOOLEAN:
        return r.u64() != 0
    raise WireError(f"unknown value type code {code}")


def read_params(r: Reader, schema: int, exact: bool):
    """Parameter tuple (protocol.md 3.2); absent tuple -> []."""
    if r.left() == 0:
        return []
    if schema == 0:
        n = r.u8()
    elif schema == 1:
        n = r.u32()
    else:
        raise WireError(f"unknown tuple schema {schema}")
    codes = [r.u8() for _ in range(n)]
    r.align()
    return [read_value(r, c, exact) for c in codes]


def read_row(r: Reader, ncols: int, exact: bool):
    hdr = r.take(((ncols + 1) // 2 + 7) // 8 * 8)
    codes = [(hdr[i // 2] >> (4 * (i % 2))) & 0x0F for i in range(ncols)]
    return [read_value(r, c, exact) for c in codes]


def decode_request(typ: int, schema: int, body: bytes, exact: bool = True) -> dict:
    r = Reader(body)
    name = REQUEST_NAMES.get(typ)
    if name is None:
        raise WireError(f"unknown request type {typ}")
    o = {"type": typ, "name": name}
    if typ in (0,):
        r.u64()
    elif typ == 1:
        o["id"] = r.u64()
    elif typ == 2:
        o["timestamp"] = r.u64()
    elif typ == 3:
        o["database"] = r.text()
        o["flags"] = r.u64()
        o["vfs"] = r.text()
    elif typ == 4:
        o["db"] = r.u64()
        o["sql"] = r.text()
    elif typ in (5, 6):
        o["db"] = r.u32()
        o["stmt"] = r.u32()
        o["params"] = read_params(r, schema, exact)
    elif typ == 7:
        o["db"] = r.u32()
        o["stmt"] = r.u32()
    elif typ in (8, 9):
        o["db"] = r.u64()
        o["sql"] = r.text()
        o["params"] = read_params(r, schema, exact)
    elif typ == 10:
        o["db"] = r.u64()
    elif typ in (11, 12):
        o["id"] = r.u64()
        o["address"] = r.text()
    elif typ == 13:
        o["id"] = r.u64()
        if r.left():  # the legacy PROMOTE form has only the id
            o["role"] = r.u64()
    elif typ in (14, 17):
        o["id"] = r.u64()
    elif typ == 15:
        o["database"] = r.text()
    elif typ in (16, 18):
        o["format"] = r.u64()
    elif typ == 19:
        o["weight"] = r.u64()
    r.end(name)
    return o


def servers_nodes(body: bytes, fmt: int):
    r = Reader(body)
    n = r.u64()
    nodes = []
    for _ in range(n):
        node = {"id": r.u64(), "address": r.text()}
        if fmt == 1:
            node["role"] = r.u64()
        nodes.append(node)
    r.end("SERVERS")
    return nodes


def decode_response(typ: int, schema: int, body: bytes, exact: bool = True,
                    cluster_format=None, legacy: bool = False) -> dict:
    r = Reader(body)
    name = RESPONSE_NAMES.get(typ)
    if name is None:
        raise WireError(f"unknown response type {typ}")
    o = {"type": typ, "name": name}
    if typ == 0:
        o["code"] = r.u64()
        o["message"] = r.text()
    elif typ == 1:
        if not legacy:
            o["id"] = r.u64()
        o["address"] = r.text()
    elif typ == 2:
        o["heartbeat_timeout"] = r.u64()
    elif typ == 3:
        if cluster_format is None:
            try:
                o["nodes"] = servers_nodes(body, 1)
            except (WireError, UnicodeDecodeError):
                o["nodes"] = servers_nodes(body, 0)
        else:
            o["nodes"] = servers_nodes(body, cluster_format)
        return o
    elif typ == 4:
        o["id"] = r.u32()
        r.u32()
    elif typ == 5:
        o["db"] = r.u32()
        o["id"] = r.u32()
        o["params"] = r.u64()
        if schema == 1:
            o["offset"] = r.u64()
    elif typ == 6:
        o["last_insert_id"] = r.u64()
        o["rows_affected"] = r.u64()
    elif typ == 7:
        n = r.u64()
        o["columns"] = [r.text() for _ in range(n)]
        rows = []
        while True:
            w = r.peek(8)
            if w == MARK_DONE or w == MARK_PART:
                r.take(8)
                o["rows"] = rows
                o["more"] = w == MARK_PART
                break
            if n == 0 or len(w) < 8:
                raise WireError("ROWS without end marker")
            rows.append(read_row(r, n, exact))
    elif typ == 8:
        r.u64()
    elif typ == 9:
        n = r.u64()
        files = []
        for _ in range(n):
            fname = r.text()
            size = r.u64()
            data = r.take(size)
            r.align()
            f = {"name": fname, "size": size}
            if exact:
                f["data"] = data.hex()
            files.append(f)
        o["files"] = files
    elif typ == 10:
        o["failure_domain"] = r.u64()
        o["weight"] = r.u64()
    r.end(name)
    return o


def split_header(frame: bytes):
    if len(frame) < 8:
        raise WireError("frame shorter than its header")
    words, typ, schema, extra = struct.unpack("<IBBH", frame[:8])
    if len(frame) != 8 + 8 * words:
        raise WireError(f"frame length {len(frame)} != 8 + 8*{words}")
    return typ, schema, extra, frame[8:]


def decode_frame(frame: bytes, direction: str, exact: bool = True, context=None) -> dict:
    typ, schema, _extra, body = split_header(frame)
    context = context or {}
    if direction == "request":
        return decode_request(typ, schema, body, exact)
    return decode_response(typ, schema, body, exact,
                           cluster_format=context.get("cluster_format"),
                           legacy=bool(context.get("legacy")))


def iter_frames(data: bytes, pos: int = 0):
    """Yield whole frames from a byte stream; stops at a truncated tail."""
    while pos + 8 <= len(data):
        words = struct.unpack("<I", data[pos:pos + 4])[0]
        end = pos + 8 + 8 * words
        if end > len(data):
            raise WireError(f"truncated frame at offset {pos}")
        yield data[pos:end]
        pos = end
    if pos != len(data):
        raise WireError(f"{len(data) - pos} stray bytes at the end of the stream")


def decode_stream(data: bytes, direction: str):
    """Dissector output (plain mode) for a client or server byte stream."""
    out = []
    pos = 0
    if direction == "client":
        if len(data) < 8:
            raise WireError("client stream shorter than the handshake")
        out.append({"handshake": struct.unpack("<Q", data[:8])[0]})
        pos = 8
    for f in iter_frames(data, pos):
        out.append(decode_frame(f, "request" if direction == "client" else "response", exact=False))
    return out


def dumps_line(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# ----------------------------------------------------------------- writing

def pad8(b: bytes) -> bytes:
    return b + b"\x00" * (-len(b) % 8)


def w_u64(v: int) -> bytes:
    return struct.pack("<Q", v)


def w_i64(v: int) -> bytes:
    return struct.pack("<q", v)


def w_text(s: str) -> bytes:
    raw = s.encode("utf-8")
    if b"\x00" in raw:
        raise WireError("text cannot contain NUL")
    return pad8(raw + b"\x00")


def w_blob(b: bytes) -> bytes:
    return w_u64(len(b)) + pad8(b)


def classify_value(v):
    """JSON value form -> (type code, encoded bytes). Strings "Infinity",
    "-Infinity" and "NaN" are floats (the JSON form cannot tell them from TEXT)."""
    if v is None:
        return T_NULL, w_u64(0)
    if isinstance(v, bool):
        return T_BOOLEAN, w_u64(1 if v else 0)
    if isinstance(v, int):
        return T_INTEGER, w_i64(v)
    if isinstance(v, float):
        return T_FLOAT, struct.pack("<d", v)
    if isinstance(v, str):
        if v in ("Infinity", "-Infinity", "NaN"):
            return T_FLOAT, struct.pack("<d", float(v.replace("Infinity", "inf")))
        return T_TEXT, w_text(v)
    if isinstance(v, dict) and len(v) == 1:
        (k, x), = v.items()
        if k == "blob":
            return T_BLOB, w_blob(bytes.fromhex(x))
        if k == "float_bits":
            return T_FLOAT, w_u64(int(x, 16))
        if k == "iso8601":
            return T_ISO8601, w_text(x)
        if k == "unixtime":
            return T_UNIXTIME, w_i64(x)
    raise WireError(f"cannot encode value {v!r}")


def w_params(params, schema: int) -> bytes:
    if not params:
        return b""  # the tuple is left out entirely
    enc = [classify_value(v) for v in params]
    n = len(enc)
    if schema == 0:
        if n > 255:
            raise WireError("schema 0 tuples hold at most 255 values")
        hdr = bytes([n]) + bytes(c for c, _ in enc)
    else:
        hdr = struct.pack("<I", n) + bytes(c for c, _ in enc)
    return pad8(hdr) + b"".join(b for _, b in enc)


def frame(typ: int, body: bytes, schema: int = 0) -> bytes:
    if len(body) % 8:
        raise WireError("body not word aligned")
    if not body:
        raise WireError("empty bodies are never sent")
    return struct.pack("<IBBH", len(body) // 8, typ, schema, 0) + body


def encode_request(o: dict, schema: int = 0) -> bytes:
    t = o["type"]
    if t in (0,):
        b = w_u64(0)
    elif t == 1:
        b = w_u64(o["id"])
    elif t == 2:
        b = w_u64(o["timestamp"])
    elif t == 3:
        b = w_text(o["database"]) + w_u64(o["flags"]) + w_text(o["vfs"])
    elif t == 4:
        b = w_u64(o["db"]) + w_text(o["sql"])
    elif t in (5, 6):
        b = struct.pack("<II", o["db"], o["stmt"]) + w_params(o["params"], schema)
    elif t == 7:
        b = struct.pack("<II", o["db"], o["stmt"])
    elif t in (8, 9):
        b = w_u64(o["db"]) + w_text(o["sql"]) + w_params(o["params"], schema)
    elif t == 10:
        b = w_u64(o["db"])
    elif t in (11, 12):
        b = w_u64(o["id"]) + w_text(o["address"])
    elif t == 13:
        b = w_u64(o["id"]) + (w_u64(o["role"]) if "role" in o else b"")
    elif t in (14, 17):
        b = w_u64(o["id"])
    elif t == 15:
        b = w_text(o["database"])
    elif t in (16, 18):
        b = w_u64(o["format"])
    elif t == 19:
        b = w_u64(o["weight"])
    else:
        raise WireError(f"unknown request type {t}")
    return frame(t, b, schema)


def encode_response(o: dict, context=None) -> bytes:
    t = o["type"]
    schema = 0
    context = context or {}
    if t == 0:
        b = w_u64(o["code"]) + w_text(o["message"])
    elif t == 1:
        b = (b"" if "id" not in o else w_u64(o["id"])) + w_text(o["address"])
    elif t == 2:
        b = w_u64(o["heartbeat_timeout"])
    elif t == 3:
        b = w_u64(len(o["nodes"]))
        for n in o["nodes"]:
            b += w_u64(n["id"]) + w_text(n["address"])
            if "role" in n:
                b += w_u64(n["role"])
    elif t == 4:
        b = struct.pack("<II", o["id"], 0)
    elif t == 5:
        b = struct.pack("<II", o["db"], o["id"]) + w_u64(o["params"])
        if "offset" in o:
            schema = 1
            b += w_u64(o["offset"])
    elif t == 6:
        b = w_u64(o["last_insert_id"]) + w_u64(o["rows_affected"])
    elif t == 7:
        cols = o["columns"]
        b = w_u64(len(cols)) + b"".join(w_text(c) for c in cols)
        for row in o["rows"]:
            enc = [classify_value(v) for v in row]
            hdr = bytearray(((len(cols) + 1) // 2 + 7) // 8 * 8)
            for i, (c, _) in enumerate(enc):
                hdr[i // 2] |= c << (4 * (i % 2))
            b += bytes(hdr) + b"".join(x for _, x in enc)
        b += MARK_PART if o["more"] else MARK_DONE
    elif t == 8:
        b = w_u64(0)
    elif t == 9:
        b = w_u64(len(o["files"]))
        for f in o["files"]:
            b += w_text(f["name"]) + w_u64(f["size"]) + pad8(bytes.fromhex(f["data"]))
    elif t == 10:
        b = w_u64(o["failure_domain"]) + w_u64(o["weight"])
    else:
        raise WireError(f"unknown response type {t}")
    return frame(t, b, schema)


# ----------------------------------------------------------------- self-check of the outputs

VECTOR_KEYS = {"id", "direction", "source", "hex", "expect", "schema", "context", "canonical", "note"}


def verify(golden_dir, capture_dir):
    """Re-checks every golden vector and every capture against this decoder/encoder."""
    import glob
    import os
    import re
    errors, ids, count = [], set(), 0
    for path in sorted(glob.glob(os.path.join(golden_dir, "*.json"))):
        doc = json.load(open(path))
        for v in doc["vectors"]:
            count += 1
            where = f"{os.path.basename(path)}:{v.get('id')}"
            try:
                assert set(v) <= VECTOR_KEYS, f"unknown keys {set(v) - VECTOR_KEYS}"
                assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", v["id"]), "id not kebab-case"
                assert v["id"] not in ids, "duplicate id"
                ids.add(v["id"])
                assert v["direction"] in ("request", "response")
                assert re.fullmatch(r"([0-9a-f]{2})+", v["hex"]), "hex not lowercase"
                fr = bytes.fromhex(v["hex"])
                ctx = v.get("context")
                got = decode_frame(fr, v["direction"], exact=True, context=ctx)
                assert dumps_line(got) == dumps_line(v["expect"]), f"decodes to {dumps_line(got)}"
                if v["direction"] == "request":
                    assert ctx is None, "context on a request"
                    assert v.get("schema", 0) == fr[5] and v.get("schema", 1) != 0, "schema key vs header byte"
                    enc = encode_request(v["expect"], v.get("schema", 0))
                else:
                    assert "schema" not in v, "schema on a response"
                    enc = encode_response(v["expect"], ctx)
                if v.get("canonical", True):
                    assert enc == fr, "canonical vector does not re-encode to its bytes"
                else:
                    assert enc != fr, "canonical: false but it re-encodes exactly"
            except (AssertionError, WireError, KeyError, ValueError) as e:
                errors.append(f"{where}: {e}")
    ncap = 0
    for path in sorted(glob.glob(os.path.join(capture_dir, "*.bin"))):
        direction = "client" if path.endswith(".client.bin") else "server"
        want = [json.loads(line) for line in open(path[:-4] + ".jsonl")]
        got = decode_stream(open(path, "rb").read(), direction)
        ncap += 1
        if [dumps_line(o) for o in got] != [dumps_line(o) for o in want]:
            errors.append(f"{os.path.basename(path)}: jsonl differs from the decoded stream")
    print(f"{count} vectors, {ncap} capture streams, {len(errors)} errors")
    for e in errors:
        print("  " + e)
    return not errors


# ----------------------------------------------------------------- CLI

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    d = sub.add_parser("decode", help="decode a captured stream (dissector output)")
    d.add_argument("--direction", choices=("client", "server"), required=True)
    d.add_argument("file")
    f = sub.add_parser("frame", help="decode one frame given as hex")
    f.add_argument("--direction", choices=("request", "response"), required=True)
    f.add_argument("--cluster-format", type=int)
    f.add_argument("--legacy", action="store_true")
    f.add_argument("--exact", action="store_true")
    f.add_argument("hex")
    v = sub.add_parser("verify", help="re-check Golden/*.json and Captures/* against this codec")
    v.add_argument("--golden", default="Tests/DqliteWireTests/Golden")
    v.add_argument("--captures", default="Tests/DqliteWireTests/Captures")
    a = ap.parse_args(argv)
    if a.cmd == "verify":
        raise SystemExit(0 if verify(a.golden, a.captures) else 1)
    if a.cmd == "decode":
        with open(a.file, "rb") as fh:
            for o in decode_stream(fh.read(), a.direction):
                print(dumps_line(o))
    else:
        ctx = {}
        if a.cluster_format is not None:
            ctx["cluster_format"] = a.cluster_format
        if a.legacy:
            ctx["legacy"] = True
        print(dumps_line(decode_frame(bytes.fromhex(a.hex), a.direction, a.exact, ctx)))


if __name__ == "__main__":
    main()
