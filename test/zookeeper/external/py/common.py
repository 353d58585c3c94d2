"""Shared by the kazoo scripts that test/zookeeper/external/kazoo.test.ts runs.

Every script prints JSON objects, one per line; the test reads them. Waits poll a
condition with a deadline (wait_for); nothing sleeps a fixed time to wait for a state.
"""
import json
import sys
import time

from kazoo.client import KazooClient


def client(hosts, timeout=10.0, **kwargs):
    """A started KazooClient that retries its connection forever, quickly."""
    zk = KazooClient(
        hosts=hosts,
        timeout=timeout,
        connection_retry=dict(max_tries=-1, delay=0.05, backoff=1.5, max_delay=0.5),
        **kwargs,
    )
    zk.start(timeout=20)
    return zk


def close(*clients):
    for zk in clients:
        try:
            zk.stop()
            zk.close()
        except Exception:  # noqa: BLE001 - best effort at the end of a script
            pass


def wait_for(what, condition, timeout=20.0, interval=0.02):
    """Polls condition() until it returns something truthy (returned), or raises after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def error_name(fn):
    """Runs fn; returns 'ok' or the name of the kazoo exception it raised."""
    try:
        fn()
        return "ok"
    except Exception as error:  # noqa: BLE001 - the name is the result
        return type(error).__name__


def peer_port(zk):
    """The port of the server this client is connected to (None while disconnected)."""
    try:
        return zk._connection._socket.getpeername()[1]
    except Exception:  # noqa: BLE001 - no socket right now
        return None


def emit(obj):
    print(json.dumps(obj), flush=True)


def read_line(expected):
    """Blocks until the test writes `expected` on stdin."""
    line = sys.stdin.readline().strip()
    if line != expected:
        raise RuntimeError("expected %r from the test, got %r" % (expected, line))
