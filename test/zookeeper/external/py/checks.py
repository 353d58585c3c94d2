"""kazoo against one server: `checks.py <scenario> <hosts> <root>`.

Each scenario works under its own root path and prints one JSON object with what it
observed; kazoo.test.ts asserts on it.
"""
import sys
import threading

from kazoo.exceptions import NoNodeError
from kazoo.recipe.cache import TreeCache, TreeEvent
from kazoo.security import OPEN_ACL_UNSAFE, make_acl, make_digest_acl, make_digest_acl_credential

from common import client, close, emit, error_name, wait_for


def crud(hosts, root):
    zk = client(hosts)
    r = {}
    path = root + "/node"
    r["created"] = zk.create(path, b"v0", makepath=True)
    data, stat = zk.get(path)
    r["get"] = [data.decode(), stat.version]
    r["set_version_0"] = zk.set(path, b"v1", version=0).version
    r["set_stale_version"] = error_name(lambda: zk.set(path, b"v2", version=0))
    r["after_stale_set"] = zk.get(path)[0].decode()
    r["set_any_version"] = zk.set(path, b"v3").version
    r["create_existing"] = error_name(lambda: zk.create(path, b""))
    r["get_missing"] = error_name(lambda: zk.get(root + "/missing"))
    r["exists_missing"] = zk.exists(root + "/missing") is None
    r["sequential"] = [zk.create(root + "/seq-", b"", sequence=True) for _ in range(3)]
    r["children"] = sorted(zk.get_children(root))
    r["delete_not_empty"] = error_name(lambda: zk.delete(root))
    r["delete_stale_version"] = error_name(lambda: zk.delete(path, version=0))
    zk.delete(path, version=2)
    r["exists_after_delete"] = zk.exists(path) is not None

    t = zk.transaction()
    t.create(root + "/t1", b"one")
    t.check(r["sequential"][0], 0)
    t.set_data(r["sequential"][1], b"changed")
    r["transaction"] = [x if isinstance(x, (str, bool)) else type(x).__name__ for x in t.commit()]
    t = zk.transaction()
    t.create(root + "/t2", b"two")
    t.check(root + "/t1", 7)
    r["failed_transaction"] = [type(x).__name__ for x in t.commit()]
    r["t2_exists"] = zk.exists(root + "/t2") is not None
    r["seq_data"] = zk.get(r["sequential"][1])[0].decode()

    zk.delete(root, recursive=True)
    r["root_exists_after_recursive_delete"] = zk.exists(root) is not None
    close(zk)
    return r


def acl(hosts, root):
    r = {}
    owner = client(hosts, auth_data=[("digest", "user:pass")])
    owner.ensure_path(root)
    secret = root + "/secret"
    owner.create(secret, b"hidden", acl=[make_digest_acl("user", "pass", all=True)])
    acls, stat = owner.get_acls(secret)
    r["acl"] = [{"perms": a.perms, "scheme": a.id.scheme, "id": a.id.id} for a in acls]
    r["expected_id"] = make_digest_acl_credential("user", "pass")
    r["owner_get"] = owner.get(secret)[0].decode()

    anonymous = client(hosts)
    r["anonymous_get"] = error_name(lambda: anonymous.get(secret))
    r["anonymous_set"] = error_name(lambda: anonymous.set(secret, b"x"))
    r["anonymous_children"] = error_name(lambda: anonymous.get_children(secret))
    wrong = client(hosts, auth_data=[("digest", "user:wrong")])
    r["wrong_password_get"] = error_name(lambda: wrong.get(secret))
    later = client(hosts)
    later.add_auth("digest", "user:pass")
    r["added_auth_get"] = later.get(secret)[0].decode()

    public = root + "/public"
    owner.create(public, b"p", acl=[make_digest_acl("user", "pass", all=True), make_acl("world", "anyone", read=True)])
    r["anonymous_read_public"] = anonymous.get(public)[0].decode()
    r["anonymous_write_public"] = error_name(lambda: anonymous.set(public, b"x"))
    r["set_acls_stale_version"] = error_name(lambda: owner.set_acls(public, OPEN_ACL_UNSAFE, version=5))
    r["set_acls"] = owner.set_acls(public, OPEN_ACL_UNSAFE, version=0).aversion
    r["anonymous_write_after_open"] = error_name(lambda: anonymous.set(public, b"x"))
    r["invalid_acl"] = error_name(lambda: owner.create(root + "/bad", b"", acl=[make_acl("nosuchscheme", "x", all=True)]))

    owner.delete(root, recursive=True)
    close(owner, anonymous, wrong, later)
    return r


def ephemeral_close(hosts, root):
    r = {}
    a = client(hosts)
    b = client(hosts)
    b.ensure_path(root)
    a.create(root + "/e", b"x", ephemeral=True)
    a.create(root + "/es-", b"", ephemeral=True, sequence=True)
    stat = b.exists(root + "/e")
    r["owner_is_session"] = stat.ephemeralOwner == a.client_id[0]
    r["children_before"] = sorted(b.get_children(root))
    r["child_of_ephemeral"] = error_name(lambda: a.create(root + "/e/child", b""))
    events = []
    b.exists(root + "/e", watch=lambda event: events.append([event.type, event.path]))
    close(a)  # closeSession: the server deletes its ephemerals at once
    wait_for("the ephemerals to go", lambda: b.get_children(root) == [])
    wait_for("the exists watch", lambda: events)
    r["events"] = events
    r["children_after"] = b.get_children(root)
    b.delete(root, recursive=True)
    close(b)
    return r


def watches(hosts, root):
    r = {}
    a = client(hosts)
    b = client(hosts)
    data_path = root + "/d"
    a.ensure_path(data_path)

    data_seen = []

    @a.DataWatch(data_path)
    def on_data(data, stat, event):
        data_seen.append([None if data is None else data.decode(), None if stat is None else stat.version, None if event is None else event.type])

    children_seen = []

    @a.ChildrenWatch(root)
    def on_children(children):
        children_seen.append(sorted(children))

    wait_for("DataWatch's first call", lambda: data_seen)
    wait_for("ChildrenWatch's first call", lambda: children_seen)
    for value in ("one", "two"):
        b.set(data_path, value.encode())
        wait_for("DataWatch to see %s" % value, lambda: data_seen[-1][0] == value)
    b.create(root + "/c1", b"")
    wait_for("ChildrenWatch to see c1", lambda: children_seen[-1] == ["c1", "d"])
    b.delete(root + "/c1")
    wait_for("ChildrenWatch to see c1 go", lambda: children_seen[-1] == ["d"])
    b.delete(data_path)
    wait_for("DataWatch to see the delete", lambda: data_seen[-1][0] is None)
    wait_for("ChildrenWatch to see d go", lambda: children_seen[-1] == [])
    r["data_seen"] = list(data_seen)
    r["children_seen"] = list(children_seen)

    # A plain watch fires once: set twice, then a later watch fires for a third set;
    # events arrive in order, so a second firing of the first would have come before it.
    one_shot = []
    plain = root + "/plain"
    b.create(plain, b"0")
    a.get(plain, watch=lambda event: one_shot.append([event.type, event.path]))
    b.set(plain, b"1")
    b.set(plain, b"2")
    later = []
    a.get(plain, watch=lambda event: later.append(event.type))
    b.set(plain, b"3")
    wait_for("the later watch", lambda: later)
    r["one_shot"] = one_shot
    r["later"] = later

    created = []
    a.exists(root + "/later-node", watch=lambda event: created.append([event.type, event.path]))
    b.create(root + "/later-node", b"")
    wait_for("the exists watch on a missing node", lambda: created)
    r["exists_watch"] = created

    a.delete(root, recursive=True)
    close(a, b)
    return r


TREE_EVENTS = {
    TreeEvent.NODE_ADDED: "NODE_ADDED",
    TreeEvent.NODE_UPDATED: "NODE_UPDATED",
    TreeEvent.NODE_REMOVED: "NODE_REMOVED",
    TreeEvent.CONNECTION_SUSPENDED: "CONNECTION_SUSPENDED",
    TreeEvent.CONNECTION_RECONNECTED: "CONNECTION_RECONNECTED",
    TreeEvent.CONNECTION_LOST: "CONNECTION_LOST",
    TreeEvent.INITIALIZED: "INITIALIZED",
}


def tree_cache(hosts, root):
    r = {}
    a = client(hosts)
    b = client(hosts)
    b.ensure_path(root + "/x")
    b.set(root + "/x", b"1")
    events = []
    cache = TreeCache(a, root)
    cache.listen(lambda event: events.append([TREE_EVENTS[event.event_type], event.event_data.path if event.event_data else None]))
    cache.start()
    wait_for("INITIALIZED", lambda: ["INITIALIZED", None] in events)
    r["initial"] = sorted(cache.get_children(root))
    b.create(root + "/x/y", b"2")
    b.create(root + "/z", b"3")
    b.set(root + "/x", b"1b")
    wait_for("the cache to see /z", lambda: cache.get_data(root + "/z") is not None)
    b.delete(root + "/z")

    def caught_up():
        x = cache.get_data(root + "/x")
        y = cache.get_data(root + "/x/y")
        return x is not None and x.data == b"1b" and y is not None and cache.get_data(root + "/z") is None

    wait_for("the cache to catch up", caught_up)
    r["children"] = sorted(cache.get_children(root))
    r["x"] = cache.get_data(root + "/x").data.decode()
    r["x_version"] = cache.get_data(root + "/x").stat.version
    r["y"] = cache.get_data(root + "/x/y").data.decode()
    r["x_children"] = sorted(cache.get_children(root + "/x"))
    r["events"] = events
    cache.close()
    a.delete(root, recursive=True)
    close(a, b)
    return r


def lock(hosts, root):
    r = {}
    workers, rounds = 3, 10
    clients = [client(hosts) for _ in range(workers)]
    clients[0].create(root + "/value", b"0", makepath=True)
    inside = [0]
    most_inside = [0]
    guard = threading.Lock()
    failures = []

    def work(i):
        try:
            zk = clients[i]
            lk = zk.Lock(root + "/lock", "worker-%d" % i)
            for _ in range(rounds):
                with lk:
                    with guard:
                        inside[0] += 1
                        most_inside[0] = max(most_inside[0], inside[0])
                    # A read-modify-write without versions: only mutual exclusion keeps every increment.
                    value = int(zk.get(root + "/value")[0])
                    zk.set(root + "/value", str(value + 1).encode())
                    with guard:
                        inside[0] -= 1
        except Exception as error:  # noqa: BLE001 - reported in the result
            failures.append(repr(error))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    r["failures"] = failures
    r["value"] = int(clients[0].get(root + "/value")[0])
    r["expected"] = workers * rounds
    r["most_holders_at_once"] = most_inside[0]

    holder = clients[0].Lock(root + "/lock2", "holder")
    r["holder_acquired"] = holder.acquire(timeout=10)
    r["second_nonblocking"] = clients[1].Lock(root + "/lock2", "probe").acquire(blocking=False)
    waiter = clients[1].Lock(root + "/lock2", "waiter")
    got = threading.Event()

    def wait_turn():
        waiter.acquire(timeout=30)
        got.set()

    t = threading.Thread(target=wait_turn)
    t.start()
    # Once the waiter's node is there it is queued behind the holder, and cannot hold the lock.
    r["contenders_while_held"] = wait_for("the waiter to queue", lambda: (lambda c: c if c == ["holder", "waiter"] else None)(holder.contenders()))
    r["waiter_holds_while_held"] = got.is_set()
    holder.release()
    r["waiter_acquired_after_release"] = got.wait(20)
    r["contenders_after"] = waiter.contenders()
    waiter.release()
    t.join(10)
    clients[0].delete(root, recursive=True)
    close(*clients)
    return r


def election(hosts, root):
    r = {}
    clients = [client(hosts) for _ in range(2)]
    leaders = []
    done = [threading.Event(), threading.Event()]
    elections = [zk.Election(root + "/election", "candidate-%d" % i) for i, zk in enumerate(clients)]

    def run(i):
        def lead():
            leaders.append(i)
            done[i].wait(30)

        elections[i].run(lead)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    threads[0].start()
    wait_for("candidate 0 to lead", lambda: leaders == [0])
    threads[1].start()
    r["contenders"] = wait_for("both to contend", lambda: (lambda c: c if len(c) == 2 else None)(elections[0].contenders()))
    r["leaders_while_first_leads"] = list(leaders)
    done[0].set()  # leader 0 returns from its function: its term ends
    wait_for("candidate 1 to lead", lambda: leaders == [0, 1])
    r["leaders"] = list(leaders)
    done[1].set()
    for t in threads:
        t.join(10)
    clients[0].delete(root, recursive=True)
    close(*clients)
    return r


def barrier(hosts, root):
    r = {}
    a, b = client(hosts), client(hosts)
    a.ensure_path(root)
    gate = a.Barrier(root + "/barrier")
    gate.create()
    result = {}
    passed = threading.Event()

    def wait_at_barrier():
        result["wait"] = b.Barrier(root + "/barrier").wait(30)
        passed.set()

    t = threading.Thread(target=wait_at_barrier)
    t.start()
    r["passed_while_up"] = passed.is_set()
    gate.remove()
    r["passed_after_remove"] = passed.wait(20)
    r["wait_result"] = result.get("wait")
    t.join(5)

    # DoubleBarrier: nobody enters until both participants arrived.
    doubles = [zk.DoubleBarrier(root + "/double", 2) for zk in (a, b)]
    entered = []
    left = []

    def participate(i):
        doubles[i].enter()
        entered.append(i)
        doubles[i].leave()
        left.append(i)

    first = threading.Thread(target=participate, args=(0,))
    first.start()
    wait_for("the first participant to arrive", lambda: any(c != "ready" for c in a.get_children(root + "/double")) if a.exists(root + "/double") else False)
    r["entered_with_one_arrived"] = list(entered)
    second = threading.Thread(target=participate, args=(1,))
    second.start()
    wait_for("both to pass", lambda: len(left) == 2)
    r["entered"] = sorted(entered)
    r["left"] = sorted(left)
    first.join(5)
    second.join(5)
    a.delete(root, recursive=True)
    close(a, b)
    return r


def counter(hosts, root):
    r = {}
    a, b = client(hosts), client(hosts)
    per_client = 25

    def add(zk):
        c = zk.Counter(root + "/count")
        for _ in range(per_client):
            c += 1

    threads = [threading.Thread(target=add, args=(zk,)) for zk in (a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    r["value"] = a.Counter(root + "/count").value
    r["expected"] = 2 * per_client
    c = b.Counter(root + "/count")
    c -= 5
    r["after_minus_5"] = a.Counter(root + "/count").value
    f = a.Counter(root + "/float", default=0.0)
    f += 0.5
    f += 0.25
    r["float"] = b.Counter(root + "/float", default=0.0).value
    a.delete(root, recursive=True)
    close(a, b)
    return r


def party(hosts, root):
    r = {}
    a, b, c = client(hosts), client(hosts), client(hosts)
    alice = a.Party(root + "/party", "alice")
    bob = b.Party(root + "/party", "bob")
    alice.join()
    bob.join()
    r["members"] = sorted(c.Party(root + "/party"))
    r["size"] = len(c.Party(root + "/party"))
    bob.leave()
    r["after_leave"] = sorted(c.Party(root + "/party"))
    shallow = b.ShallowParty(root + "/shallow", "carol")
    shallow.join()
    a.ShallowParty(root + "/shallow", "dave").join()
    r["shallow_members"] = sorted(c.ShallowParty(root + "/shallow"))
    close(b)  # carol's membership is an ephemeral node of b's session
    r["shallow_after_close"] = wait_for("carol to go", lambda: (lambda m: m if m == ["dave"] else None)(sorted(c.ShallowParty(root + "/shallow"))))
    c.delete(root, recursive=True)
    close(a, c)
    return r


def queue(hosts, root):
    r = {}
    a, b = client(hosts), client(hosts)
    q = a.Queue(root + "/queue")
    for i in range(5):
        q.put(("item-%d" % i).encode())
    q.put(b"urgent", priority=10)
    q.put(b"late", priority=200)
    r["queue_len"] = len(q)
    consumer = b.Queue(root + "/queue")
    r["fifo"] = [consumer.get().decode() for _ in range(7)]
    r["empty_get"] = consumer.get()

    lq = a.LockingQueue(root + "/locking")
    for i in range(10):
        lq.put(("job-%d" % i).encode())
    # A taken item is invisible to other consumers until consumed or released.
    other = b.LockingQueue(root + "/locking")
    first = lq.get(5).decode()
    second = other.get(5).decode()
    r["held_apart"] = [first, second]
    r["released"] = lq.release()
    other.consume()
    again = other.get(5).decode()
    r["after_release"] = again
    other.consume()

    taken = []
    failures = []

    def consume(zq, name):
        try:
            while True:
                item = zq.get(1)
                if item is None:
                    return
                taken.append([name, item.decode()])
                zq.consume()
        except Exception as error:  # noqa: BLE001 - reported in the result
            failures.append(repr(error))

    threads = [threading.Thread(target=consume, args=(zq, name)) for zq, name in ((lq, "a"), (other, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    items = [item for _, item in taken]
    r["consumed"] = sorted(items)
    r["consumed_twice"] = len(items) - len(set(items))
    r["failures"] = failures
    r["locking_len_after"] = len(lq)
    a.delete(root, recursive=True)
    close(a, b)
    return r


SCENARIOS = {
    "crud": crud,
    "acl": acl,
    "ephemeral-close": ephemeral_close,
    "watches": watches,
    "tree-cache": tree_cache,
    "lock": lock,
    "election": election,
    "barrier": barrier,
    "counter": counter,
    "party": party,
    "queue": queue,
}

if __name__ == "__main__":
    name, hosts, root = sys.argv[1], sys.argv[2], sys.argv[3]
    emit(SCENARIOS[name](hosts, root))
