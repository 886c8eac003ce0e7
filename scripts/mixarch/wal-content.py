#!/usr/bin/env python3
"""Digest of what an SQLite WAL file replicates, without what each node writes for itself.

Used by scripts/mixed-arch.sh to compare the WAL that every node (amd64 and arm64) returns for DUMP.
dqlite replicates WAL frames; each node then writes them into its own WAL with its own checkpoint sequence
number, salts and running checksums. So the digest covers, for every frame in order, the page number, the
"database size after commit" field and the page bytes, and leaves out the 32-byte WAL header and bytes 8..23
of each 24-byte frame header (salts and checksums).

Usage: wal-content.py FILE   ->  prints "frames=N page-size=P sha256=HEX" (exit 1 if FILE is not a WAL)
"""
import hashlib
import struct
import sys


def main(path: str) -> int:
    data = open(path, "rb").read()
    if len(data) < 32 or struct.unpack(">I", data[0:4])[0] not in (0x377F0682, 0x377F0683):
        print(f"{path}: not an SQLite WAL file", file=sys.stderr)
        return 1
    page_size = struct.unpack(">I", data[8:12])[0]
    frame_size = 24 + page_size
    digest = hashlib.sha256()
    frames = 0
    offset = 32
    while offset + frame_size <= len(data):
        frame = data[offset : offset + frame_size]
        digest.update(frame[0:8])  # page number, database size after commit (0 if not a commit frame)
        digest.update(frame[24:])  # the page
        frames += 1
        offset += frame_size
    print(f"frames={frames} page-size={page_size} sha256={digest.hexdigest()[:16]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
