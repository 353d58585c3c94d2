"""kazoo sessions across faults the test injects: `session.py <scenario> <args...>`.

The script prints a JSON line at each step and then waits for the test to act (a line
on stdin naming what it did); its last line is the result.

  expiry <hosts through a proxy> <hosts direct> <root>
      a session whose connection the test cuts (its proxy refuses connections) until
      the server expires it: its ephemeral goes, and after the heal kazoo is told
      the session expired (LOST) and starts a new one.
  failover <all hosts> <root>
      a session with an ephemeral node, a DataWatch and a held Lock; the test kill -9s
      the server it is connected to; the session must carry on on another server.
"""
import sys
import threading

from common import client, close, emit, peer_port, read_line, wait_for


def expiry(proxied, direct, root):
    r = {}
    observer = client(direct)
    observer.ensure_path(root)
    states = []
    # 2 s: the shortest session the server grants with its default 1 s tick.
    a = client(proxied, timeout=2.0)
    a.add_listener(lambda state: states.append(str(state)))
    a.create(root + "/e", b"x", ephemeral=True)
    session = a.client_id[0]
    deleted = []
    observer.exists(root + "/e", watch=lambda event: deleted.append([event.type, event.path]))
    emit({"step": "connected", "session": hex(session)})

    read_line("cut")
    wait_for("kazoo to notice the cut", lambda: "SUSPENDED" in states)
    wait_for("the ephemeral to go when the session expires", lambda: observer.exists(root + "/e") is None, timeout=40)
    wait_for("the observer's watch", lambda: deleted)
    r["observer_events"] = deleted
    r["states_while_cut"] = list(states)
    emit({"step": "expired"})

    read_line("healed")
    wait_for("kazoo to hear that its session expired", lambda: "LOST" in states, timeout=30)
    wait_for("kazoo's new session", lambda: a.connected and states[-1] == "CONNECTED", timeout=30)
    r["states"] = list(states)
    r["new_session_differs"] = a.client_id[0] != session
    r["ephemeral_after"] = observer.exists(root + "/e") is not None
    # The new session works.
    a.create(root + "/again", b"", ephemeral=True)
    r["new_session_owns"] = observer.exists(root + "/again").ephemeralOwner == a.client_id[0]
    observer.delete(root, recursive=True)
    close(a, observer)
    emit(r)


def failover(hosts, root):
    r = {}
    zk = client(hosts, timeout=10.0)
    states = []
    zk.add_listener(lambda state: states.append(str(state)))
    zk.ensure_path(root)
    zk.create(root + "/eph", b"mine", ephemeral=True)
    zk.create(root + "/data", b"v0")
    seen = []

    @zk.DataWatch(root + "/data")
    def on_data(data, stat, event):
        seen.append(None if data is None else data.decode())

    wait_for("the DataWatch's first call", lambda: seen == ["v0"])
    held = zk.Lock(root + "/lock", "holder")
    r["acquired"] = held.acquire(timeout=10)
    session = zk.client_id[0]
    port = peer_port(zk)
    emit({"step": "ready", "session": hex(session), "port": port})

    read_line("killed")
    wait_for("kazoo to notice", lambda: "SUSPENDED" in states, timeout=30)
    wait_for("kazoo to reconnect elsewhere", lambda: zk.connected and states[-1] == "CONNECTED" and peer_port(zk) not in (None, port), timeout=30)
    r["states"] = list(states)
    r["same_session"] = zk.client_id[0] == session
    r["port_before"] = port
    r["port_after"] = peer_port(zk)
    stat = zk.exists(root + "/eph")
    r["ephemeral_survives"] = stat is not None and stat.ephemeralOwner == session
    r["lock_is_acquired"] = held.is_acquired
    r["contenders_after_failover"] = held.contenders()

    other = client(hosts, timeout=10.0)
    r["other_nonblocking"] = other.Lock(root + "/lock", "probe").acquire(blocking=False)
    other.set(root + "/data", b"after-failover")
    wait_for("the DataWatch to fire after the failover", lambda: seen[-1] == "after-failover")
    r["seen"] = list(seen)

    waiter = other.Lock(root + "/lock", "waiter")
    got = threading.Event()
    t = threading.Thread(target=lambda: (waiter.acquire(timeout=30), got.set()))
    t.start()
    wait_for("the waiter to queue", lambda: held.contenders() == ["holder", "waiter"])
    r["waiter_holds_while_held"] = got.is_set()
    held.release()
    r["waiter_acquired_after_release"] = got.wait(20)
    waiter.release()
    t.join(10)
    other.delete(root, recursive=True)
    close(zk, other)
    emit(r)


if __name__ == "__main__":
    scenario, args = sys.argv[1], sys.argv[2:]
    {"expiry": expiry, "failover": failover}[scenario](*args)
