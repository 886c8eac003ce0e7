#!/usr/bin/env python3
"""Writes the libFuzzer seed corpora (Fuzz/Corpus/<target>/) from the golden vectors and captures.

    python3 scripts/make-fuzz-seeds.py

Seeds are real frames captured from dqlite servers (see Tests/DqliteWireTests/Golden/README.md), never
fuzzer output. File names are the SHA-1 of the content, as libFuzzer names its own inputs.
  FuzzFrames:   one chunk-size byte, then a server frame (or the start of a captured server stream)
  FuzzRows:     the body of each ROWS frame
  FuzzRequests: the handshake word, then a request frame (or the start of a captured client stream)
"""
import glob, hashlib, json, os, shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TESTS = os.path.join(ROOT, "Tests", "DqliteWireTests")
OUT = os.path.join(ROOT, "Fuzz", "Corpus")
HANDSHAKE = bytes.fromhex("0100000000000000")
MAX_SEED = 64 * 1024

def write(target, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)

for target in ("FuzzFrames", "FuzzRows", "FuzzRequests"):
    shutil.rmtree(os.path.join(OUT, target), ignore_errors=True)

for path in sorted(glob.glob(os.path.join(TESTS, "Golden", "*.json"))):
    for v in json.load(open(path))["vectors"]:
        frame = bytes.fromhex(v["hex"])
        if len(frame) > MAX_SEED:
            continue
        if v["direction"] == "response":
            write("FuzzFrames", bytes([len(frame) % 17]) + frame)
            if frame[4] == 7:
                write("FuzzRows", frame[8:])
        else:
            write("FuzzRequests", HANDSHAKE + frame)

for path in sorted(glob.glob(os.path.join(TESTS, "Captures", "*.bin"))):
    data = open(path, "rb").read()[:MAX_SEED]
    if path.endswith(".server.bin"):
        write("FuzzFrames", b"\x05" + data)
    else:
        write("FuzzRequests", data)

for target in ("FuzzFrames", "FuzzRows", "FuzzRequests"):
    files = os.listdir(os.path.join(OUT, target))
    print(f"{target}: {len(files)} seeds, {sum(os.path.getsize(os.path.join(OUT, target, f)) for f in files)} bytes")
