#!/usr/bin/env python3
"""A small client of Parley's event-bus bridge (standard library only).

Frames are those of Vert.x's TCP event-bus bridge: a 4-byte big-endian length, then UTF-8 JSON
{type, address, replyAddress, headers, body}. Every frame carries the admin token in headers.token.
See docs/protocol.md, "Event-bus bridge".

    export PARLEY_BRIDGE_TOKEN=...            # the node's bridge.token
    parley_bridge.py conversation 12345
    parley_bridge.py devices alice
    parley_bridge.py post 12345 "maintenance at 02:00 UTC" [msg-id]
    parley_bridge.py disconnect alice
    parley_bridge.py takedown 12345 67890
    parley_bridge.py follow messages membership presence   # one JSON event a line, until ^C

Host and port: PARLEY_BRIDGE_HOST (127.0.0.1), PARLEY_BRIDGE_PORT (9465). Exit status 1 on an err frame.
"""
import itertools
import json
import os
import socket
import struct
import sys

FRAME_MAX = 16 * 1024 * 1024


class BridgeError(Exception):
    def __init__(self, frame):
        super().__init__(frame.get("code", "") + " " + frame.get("message", ""))
        self.frame = frame


class Bridge:
    def __init__(self, host, port, token):
        self.sock = socket.create_connection((host, port))
        self.token = token
        self.replies = itertools.count(1)

    def write(self, frame):
        frame.setdefault("headers", {})["token"] = self.token
        data = json.dumps(frame).encode("utf-8")
        self.sock.sendall(struct.pack(">I", len(data)) + data)

    def _exactly(self, n):
        buf = bytearray()
        while len(buf) < n:
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("the bridge closed the connection")
            buf += chunk
        return bytes(buf)

    def read(self):
        (length,) = struct.unpack(">I", self._exactly(4))
        if length > FRAME_MAX:
            raise ConnectionError("frame of %d bytes" % length)
        return json.loads(self._exactly(length).decode("utf-8"))

    def request(self, address, body):
        reply = "reply-%d" % next(self.replies)
        self.write({"type": "send", "address": address, "replyAddress": reply, "body": body})
        while True:
            f = self.read()
            if f.get("type") == "err" and f.get("address") in (None, reply):
                raise BridgeError(f)
            if f.get("address") == reply:
                return f["body"]

    def follow(self, streams):
        for s in streams:
            self.write({"type": "register", "address": "parley.bridge.events." + s})
        while True:
            f = self.read()
            if f.get("type") == "err":
                raise BridgeError(f)
            yield f["address"], f["body"]


def main(argv):
    token = os.environ.get("PARLEY_BRIDGE_TOKEN")
    if not token or len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    b = Bridge(os.environ.get("PARLEY_BRIDGE_HOST", "127.0.0.1"), int(os.environ.get("PARLEY_BRIDGE_PORT", "9465")), token)
    cmd, args = argv[1], argv[2:]
    try:
        if cmd == "follow":
            for address, event in b.follow(args or ["messages", "membership", "presence"]):
                print(json.dumps(event), flush=True)
            return 0
        if cmd == "conversation":
            out = b.request("parley.bridge.conversation", {"conv": args[0]})
        elif cmd == "devices":
            out = b.request("parley.bridge.devices", {"user": args[0]})
        elif cmd == "post":
            body = {"conv": args[0], "body": args[1]}
            if len(args) > 2:
                body["msg_id"] = args[2]
            out = b.request("parley.bridge.post", body)
        elif cmd == "disconnect":
            out = b.request("parley.bridge.disconnect", {"user": args[0]})
        elif cmd == "takedown":
            out = b.request("parley.bridge.takedown", {"conv": args[0], "server_id": args[1]})
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except BridgeError as e:
        print(json.dumps(e.frame), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
