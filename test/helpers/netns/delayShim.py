#!/usr/bin/env python3
"""Userspace delay shim for the WAN test-bed: holds every packet of an NFQUEUE for a
fixed time, then accepts it. This kernel has no `tc netem` (sch_netem is not built), Node cannot open
netlink sockets, and the Python standard library can — so this speaks nfnetlink_queue
directly (no libnetfilter_queue needed).

Usage (inside the ISP namespace):  delayShim.py --queue 7 --delay-ms 150 [--jitter-ms 0]
nft rule that feeds it:             ... queue num 7   (no `bypass`: if the shim dies the
                                    link goes dark, which a test notices, instead of
                                    silently losing its delay)
Prints one line `{"ready": true}` once bound, then runs until SIGTERM.
"""
import argparse
import heapq
import json
import os
import random
import select
import signal
import socket
import struct
import sys
import time

NETLINK_NETFILTER = 12
NFNL_SUBSYS_QUEUE = 3
NFQNL_MSG_PACKET = 0
NFQNL_MSG_VERDICT = 1
NFQNL_MSG_CONFIG = 2
NLMSG_ERROR = 2
NLM_F_REQUEST = 1
NLM_F_ACK = 4
NFQA_PACKET_HDR = 1
NFQA_VERDICT_HDR = 2
NFQA_CFG_CMD = 1
NFQA_CFG_PARAMS = 2
NFQA_CFG_QUEUE_MAXLEN = 3
NFQNL_CFG_CMD_BIND = 1
NFQNL_COPY_PACKET = 2
NF_ACCEPT = 1
SOL_NETLINK = 270
NETLINK_NO_ENOBUFS = 5


def nla(kind, payload):
    length = 4 + len(payload)
    pad = (4 - length % 4) % 4
    return struct.pack("=HH", length, kind) + payload + b"\0" * pad


def message(msg_type, flags, seq, queue, attrs):
    body = struct.pack("=BB", socket.AF_UNSPEC, 0) + struct.pack("!H", queue) + b"".join(attrs)
    return struct.pack("=IHHII", 16 + len(body), (NFNL_SUBSYS_QUEUE << 8) | msg_type, flags, seq, 0) + body


def parse(data):
    """Yield (type, payload-after-nfgenmsg or raw) for each netlink message."""
    off = 0
    while off + 16 <= len(data):
        length, mtype, _flags, _seq, _pid = struct.unpack_from("=IHHII", data, off)
        if length < 16:
            break
        yield mtype, data[off + 16 : off + length]
        off += (length + 3) & ~3


def attrs(payload):
    off = 4  # nfgenmsg
    out = {}
    while off + 4 <= len(payload):
        length, kind = struct.unpack_from("=HH", payload, off)
        if length < 4:
            break
        out[kind & 0x3FFF] = payload[off + 4 : off + length]
        off += (length + 3) & ~3
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--queue", type=int, required=True)
    ap.add_argument("--delay-ms", type=float, required=True)
    ap.add_argument("--jitter-ms", type=float, default=0.0)
    args = ap.parse_args()

    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
    sock.bind((0, 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    try:
        sock.setsockopt(SOL_NETLINK, NETLINK_NO_ENOBUFS, 1)
    except OSError:
        pass

    seq = 1
    sock.send(message(NFQNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, seq, args.queue,
                      [nla(NFQA_CFG_CMD, struct.pack("!BBH", NFQNL_CFG_CMD_BIND, 0, socket.AF_INET))]))
    seq += 1
    sock.send(message(NFQNL_MSG_CONFIG, NLM_F_REQUEST | NLM_F_ACK, seq, args.queue,
                      [nla(NFQA_CFG_PARAMS, struct.pack("!IB", 128, NFQNL_COPY_PACKET)),
                       nla(NFQA_CFG_QUEUE_MAXLEN, struct.pack("!I", 20000))]))
    acks = 0
    while acks < 2:
        for mtype, payload in parse(sock.recv(65536)):
            if mtype == NLMSG_ERROR:
                (err,) = struct.unpack_from("=i", payload, 0)
                if err != 0:
                    sys.stderr.write(f"delayShim: binding NFQUEUE {args.queue} failed: {os.strerror(-err)} "
                                     "(is nfnetlink_queue available? run as root in the namespace)\n")
                    sys.exit(1)
                acks += 1

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(json.dumps({"ready": True, "queue": args.queue, "delayMs": args.delay_ms}), flush=True)

    watch_stdin = os.environ.get("VAKTPOST_EXIT_ON_STDIN_EOF") == "1"
    watched = [sock, sys.stdin] if watch_stdin else [sock]
    pending = []  # (due, order, packet_id)
    order = 0
    last_due = 0.0
    delay = args.delay_ms / 1000.0
    jitter = args.jitter_ms / 1000.0
    while True:
        now = time.monotonic()
        timeout = max(0.0, pending[0][0] - now) if pending else None
        readable, _, _ = select.select(watched, [], [], timeout)
        if watch_stdin and sys.stdin in readable and not os.read(sys.stdin.fileno(), 4096):
            sys.exit(0)  # the test process that holds our stdin is gone
        if sock in readable:
            try:
                data = sock.recv(1 << 20)
            except BlockingIOError:
                data = b""
            arrived = time.monotonic()
            for mtype, payload in parse(data):
                if mtype != (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET:
                    continue
                hdr = attrs(payload).get(NFQA_PACKET_HDR)
                if hdr is None:
                    continue
                (packet_id,) = struct.unpack_from("!I", hdr, 0)
                due = arrived + delay + (random.uniform(-jitter, jitter) if jitter else 0.0)
                due = max(due, last_due)  # a link delays, it does not reorder
                last_due = due
                order += 1
                heapq.heappush(pending, (due, order, packet_id))
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, packet_id = heapq.heappop(pending)
            seq += 1
            sock.send(message(NFQNL_MSG_VERDICT, NLM_F_REQUEST, seq, args.queue,
                              [nla(NFQA_VERDICT_HDR, struct.pack("!II", NF_ACCEPT, packet_id))]))


if __name__ == "__main__":
    main()
