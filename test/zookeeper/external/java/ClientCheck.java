// Apache ZooKeeper's own Java client (Debian's 3.8 jar; Curator is built on it)
// against a zook server: each check prints "name=value" lines that
// test/zookeeper/external/java.test.ts asserts on.
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;

public class ClientCheck {
  static void out(String name, Object value) {
    System.out.println(name + "=" + value);
  }

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  public static void main(String[] args) throws Exception {
    String connect = args[0];
    String root = args[1];
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper zk = new ZooKeeper(connect, 10000, e -> {
      if (e.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
    });
    if (!connected.await(20, TimeUnit.SECONDS)) throw new IllegalStateException("not connected");
    List<String> events = Collections.synchronizedList(new ArrayList<>());
    LinkedBlockingQueue<String> arrived = new LinkedBlockingQueue<>();
    Watcher record = e -> {
      String s = e.getType() + " " + e.getPath();
      events.add(s);
      arrived.add(s);
    };

    zk.create(root, new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
    Stat created = new Stat();
    zk.create(root + "/a", b("one"), ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, created);
    out("create2.version", created.getVersion());
    out("create2.czxid_positive", created.getCzxid() > 0);

    Stat stat = new Stat();
    out("getData", new String(zk.getData(root + "/a", record, stat), StandardCharsets.UTF_8));
    out("setData.version", zk.setData(root + "/a", b("two"), stat.getVersion()).getVersion());
    out("watch.first", arrived.poll(10, TimeUnit.SECONDS));
    try {
      zk.setData(root + "/a", b("three"), 0);
      out("badVersion", "none");
    } catch (KeeperException.BadVersionException e) {
      out("badVersion", e.code());
    }

    zk.addWatch(root, record, AddWatchMode.PERSISTENT_RECURSIVE);
    zk.create(root + "/a/b", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL);
    out("recursive.created", arrived.poll(10, TimeUnit.SECONDS));

    String seq = zk.create(root + "/s-", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_SEQUENTIAL);
    out("sequential", seq.substring(root.length()));
    arrived.poll(10, TimeUnit.SECONDS);
    Stat ttlStat = new Stat();
    zk.create(root + "/ttl", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT_WITH_TTL, ttlStat, 60000);
    out("ttl.created", zk.exists(root + "/ttl", false) != null);
    arrived.poll(10, TimeUnit.SECONDS);
    zk.create(root + "/container", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.CONTAINER);
    out("container.ephemeralOwner", zk.exists(root + "/container", false).getEphemeralOwner());
    arrived.poll(10, TimeUnit.SECONDS);

    Stat childrenStat = new Stat();
    List<String> children = zk.getChildren(root, false, childrenStat);
    Collections.sort(children);
    out("getChildren2", children + " numChildren " + childrenStat.getNumChildren());
    out("allChildrenNumber", zk.getAllChildrenNumber(root));
    out("ephemerals", zk.getEphemerals(root));

    List<OpResult> ok = zk.multi(Arrays.asList(
        Op.create(root + "/m", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT),
        Op.setData(root + "/a", b("four"), -1),
        Op.check(root + "/a", 2)));
    out("multi.ok", ok.size() + " " + (ok.get(0) instanceof OpResult.CreateResult) + " " + (ok.get(1) instanceof OpResult.SetDataResult));
    try {
      zk.multi(Arrays.asList(Op.create(root + "/n", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT), Op.delete(root + "/missing", -1)));
      out("multi.failed", "none");
    } catch (KeeperException e) {
      StringBuilder codes = new StringBuilder();
      for (OpResult r : e.getResults()) codes.append(((OpResult.ErrorResult) r).getErr()).append(' ');
      out("multi.failed", e.code() + " " + codes.toString().trim());
    }
    out("multi.notApplied", zk.exists(root + "/n", false) == null);
    List<OpResult> reads = zk.multi(Arrays.asList(Op.getData(root + "/a"), Op.getChildren(root + "/a")));
    out("multiRead", new String(((OpResult.GetDataResult) reads.get(0)).getData(), StandardCharsets.UTF_8) + " " + ((OpResult.GetChildrenResult) reads.get(1)).getChildren());

    CountDownLatch synced = new CountDownLatch(1);
    zk.sync(root, (rc, path, ctx) -> {
      out("sync", rc + " " + path);
      synced.countDown();
    }, null);
    synced.await(10, TimeUnit.SECONDS);

    zk.exists(root + "/later", record);
    zk.removeWatches(root + "/later", record, Watcher.WatcherType.Data, false);
    try {
      zk.removeWatches(root + "/later", record, Watcher.WatcherType.Data, false);
      out("removeWatches.again", "none");
    } catch (KeeperException e) {
      out("removeWatches.again", e.code());
    }

    zk.addAuthInfo("digest", b("alice:secret"));
    out("whoAmI", zk.whoAmI().stream().map(c -> c.getAuthScheme() + ":" + c.getUser()).sorted().reduce((x, y) -> x + "," + y).orElse(""));
    out("zookeeperChildren", zk.getChildren("/zookeeper", false).stream().sorted().reduce((x, y) -> x + "," + y).orElse(""));
    out("getConfig.length", zk.getConfig(false, new Stat()).length);
    try {
      zk.delete("/zookeeper", -1);
      out("deleteSystem", "none");
    } catch (KeeperException e) {
      out("deleteSystem", e.code());
    }
    out("sessionTimeout", zk.getSessionTimeout());
    zk.close();
    out("done", true);
  }
}
