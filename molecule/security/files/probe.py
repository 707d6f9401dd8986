#!/usr/bin/env python3
"""Test harness for firewall checks (not a platform service).

  fdp-probe listen tcp:9000 udp:9094 ...   accept on these ports until killed
  fdp-probe check ADDR:tcp:9000 ...        print JSON {target: true|false} (TCP connect, 2 s;
                                           UDP: send a datagram, expect the echo back)
"""
import concurrent.futures
import json
import selectors
import socket
import sys


def listen(specs):
    sel = selectors.DefaultSelector()
    for spec in specs:
        proto, port = spec.split(":")
        if proto == "tcp":
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("0.0.0.0", int(port)))
            s.listen(64)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", int(port)))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, proto)
    while True:
        for key, _ in sel.select():
            if key.data == "tcp":
                conn, _ = key.fileobj.accept()
                conn.close()
            else:
                data, peer = key.fileobj.recvfrom(64)
                key.fileobj.sendto(data, peer)


def probe(target):
    addr, proto, port = target.rsplit(":", 2)
    try:
        if proto == "tcp":
            socket.create_connection((addr, int(port)), timeout=2).close()
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(2)
            s.sendto(b"probe", (addr, int(port)))
            s.recvfrom(64)
        return True
    except OSError:
        return False


def check(targets):
    # In parallel: a dropped packet costs the full timeout.
    with concurrent.futures.ThreadPoolExecutor(max_workers=64) as pool:
        print(json.dumps(dict(zip(targets, pool.map(probe, targets)))))


if __name__ == "__main__":
    {"listen": listen, "check": check}[sys.argv[1]](sys.argv[2:])
