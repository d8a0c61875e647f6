#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Raw-socket clients for the edge's transport tests (Python 3 stdlib only).

  rawhttp.py trickle PORT DELAY_S HEAD TEXT   sends HEAD at once, then TEXT one byte per
      DELAY_S (both with \\r\\n escapes); prints "closed" if the edge closed the connection before all of it was
      sent and answered nothing, else "answered <status line>".
  rawhttp.py hold PORT N                 opens N kept-alive connections, each served one
      GET /healthz; prints one status code per connection ("none" when the edge closed it
      without an answer), then "ready", and keeps every connection open until stdin closes.
  rawhttp.py get PORT                    one GET /healthz; prints the whole response.
  rawhttp.py send PORT TEXT              sends TEXT (\\r\\n escapes) as it is; prints the whole response.
  rawhttp.py blackhole                   listens on a free port, prints it, accepts every
      connection and never answers (a broker that hangs), until stdin closes.
"""
import select
import socket
import sys
import time

GET = b"GET /healthz HTTP/1.1\r\nHost: edge\r\n\r\n"


def read_response(s, timeout=10.0):
    """Bytes of one response (headers + Content-Length body), b"" if closed first."""
    s.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                return data
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = s.recv(4096)
            if not chunk:
                break
            body += chunk
        return head + b"\r\n\r\n" + body
    except (socket.timeout, ConnectionError):
        return data


def unescape(text):
    return text.encode().decode("unicode_escape").encode("latin-1")


def trickle(port, delay, head, text):
    data = unescape(text)
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    s.sendall(unescape(head))
    for i in range(len(data)):
        try:
            s.sendall(data[i:i + 1])
        except (BrokenPipeError, ConnectionResetError):
            print("closed")
            return
        # The edge may close (and answer nothing) while we are still sending.
        r, _, _ = select.select([s], [], [], delay)
        if r:
            try:
                peek = s.recv(4096, socket.MSG_PEEK)
            except ConnectionResetError:
                print("closed")
                return
            if not peek:
                print("closed")
                return
            break   # an early answer (e.g. 413): read it below
    resp = read_response(s)
    print("answered " + resp.split(b"\r\n", 1)[0].decode("latin-1") if resp else "closed")


def hold(port, n):
    conns = []
    for _ in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(GET)
            resp = read_response(s, 3.0)
        except (ConnectionError, socket.timeout, OSError):
            resp = b""
            s = None
        print(resp.split(b" ", 2)[1].decode() if resp.startswith(b"HTTP/") else "none", flush=True)
        if s is not None:
            conns.append(s)
    print("ready", flush=True)
    sys.stdin.read()


def get(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(GET)
    sys.stdout.write(read_response(s).decode("latin-1"))


def send(port, text):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(text.replace("\\r", "\r").replace("\\n", "\n").encode("latin-1"))
    sys.stdout.write(read_response(s).decode("latin-1"))


def blackhole():
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(64)
    print(ls.getsockname()[1], flush=True)
    held = []
    while True:
        r, _, _ = select.select([ls, sys.stdin] + held, [], [], 1.0)
        for s in r:
            if s is sys.stdin:
                if not sys.stdin.readline():
                    return
            elif s is ls:
                held.append(ls.accept()[0])
            elif not s.recv(65536):
                held.remove(s)
                s.close()


def main():
    cmd = sys.argv[1]
    if cmd == "trickle":
        trickle(int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif cmd == "hold":
        hold(int(sys.argv[2]), int(sys.argv[3]))
    elif cmd == "get":
        get(int(sys.argv[2]))
    elif cmd == "send":
        send(int(sys.argv[2]), sys.argv[3])
    elif cmd == "blackhole":
        blackhole()
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
