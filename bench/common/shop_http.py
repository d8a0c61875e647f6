# SPDX-License-Identifier: MIT
"""HTTP helpers shared by the Python drivers of the edge (bench/ryw, the read-your-writes
integration test): HS256 tokens as shopstream-token signs them, a keep-alive client, a
percentile, and the background load of other users' cart events. Standard library only
(Debian's python3)."""
import base64
import hashlib
import hmac
import http.client
import json
import random
import time


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def mint(secret, sub, role=None, ttl_s=3600):
    """An HS256 token as shopstream-token signs it."""
    now = int(time.time())
    claims = {"sub": sub, "iat": now, "exp": now + ttl_s}
    if role:
        claims["role"] = role
    head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(sig)}"


class Client:
    """One keep-alive HTTP/1.1 connection, reopened after an error."""

    def __init__(self, host, port):
        self.host, self.port, self.conn = host, port, None

    def request(self, method, path, body=None, headers=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            res = self.conn.getresponse()
            data = res.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = None
            raise
        return res.status, {k.lower(): v for k, v in res.getheaders()}, data


def percentile(values, p):
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(p / 100.0 * len(s)))]


def load_loop(cli, token, run, batch, interval_s, stop, on_result, seed=None):
    """Other users' cart events (a service token posts for them), a batch every interval,
    until stop is set; on_result(status, batch) after each post, status None on an error."""
    rnd = random.Random(seed)
    while not stop.is_set():
        events = [{"type": "cart.item_added", "user_id": f"{run}-load{rnd.randrange(500)}",
                   "product_id": f"load-p{rnd.randrange(200)}", "quantity": 1}
                  for _ in range(batch)]
        try:
            st, _, _ = cli.request("POST", "/v1/events", json.dumps({"events": events}),
                                   {"Authorization": f"Bearer {token}",
                                    "Content-Type": "application/json"})
        except (http.client.HTTPException, OSError):
            st = None
        on_result(st, batch)
        stop.wait(interval_s)
