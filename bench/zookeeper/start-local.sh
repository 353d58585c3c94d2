#!/usr/bin/env bash
# Starts a throwaway Apache ZooKeeper on 127.0.0.1 from Debian's `zookeeper`
# package (install it with `sudo apt-get install -y zookeeper`; Java 17 is enough):
# standalone by default, or an N-node ensemble (--nodes 3) with one JVM per node.
# Every node gets its own config and data dir under a temp dir, the admin server
# (port 8080) is off, and only the 4lw commands we poll are allowed.
# Prints "pids J1,J2,..." (the JVMs, for CPU accounting) and then
# "ready 127.0.0.1:P1,127.0.0.1:P2,..." once every node serves, then waits;
# SIGINT/SIGTERM stops all nodes and removes the temp dir.
#
#   bench/zookeeper/start-local.sh [--nodes N] [--port P] [--heap 512m] [--log]
#   client ports P..P+N-1 (default 2181), quorum ports P+1000+i, election P+2000+i
set -euo pipefail

nodes=1
port=2181
heap=512m
log=0
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --heap) heap="$2"; shift 2 ;;
    --log) log=1; shift ;; # slf4j-simple on the classpath: Debian's jar logs nothing otherwise
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

jar=/usr/share/java/zookeeper.jar # its manifest Class-Path names the other jars
if [ ! -f "$jar" ]; then
  echo "ZooKeeper is not installed: sudo apt-get install -y zookeeper" >&2
  exit 3
fi
classpath="$jar"
[ "$log" = 1 ] && classpath="$classpath:/usr/share/java/slf4j-simple.jar"

root=$(mktemp -d /tmp/zk-bench-XXXXXX)
pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$root"
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

for i in $(seq 1 "$nodes"); do
  dir="$root/node$i"
  mkdir -p "$dir/data"
  cfg="$dir/zoo.cfg"
  cat > "$cfg" <<CFG
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$dir/data
clientPort=$((port + i - 1))
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr,stat,mntr
maxClientCnxns=0
CFG
  if [ "$nodes" -gt 1 ]; then
    echo "$i" > "$dir/data/myid"
    for j in $(seq 1 "$nodes"); do
      echo "server.$j=127.0.0.1:$((port + 1000 + j)):$((port + 2000 + j))" >> "$cfg"
    done
  fi
  java -Xms"$heap" -Xmx"$heap" -cp "$classpath" \
    -Dzookeeper.log.dir="$dir" -Dzookeeper.jmx.log4j.disable=true \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$cfg" > "$dir/out.log" 2>&1 &
  pids+=($!)
done

# "Mode: standalone|leader|follower" in srvr means the node serves requests.
serving() {
  local reply
  { exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf srvr >&3
  reply=$(timeout 2 cat <&3 || true)
  exec 3<&- 3>&-
  [[ "$reply" == *"Mode: "* ]]
}
for _ in $(seq 1 300); do
  ready=0
  for i in $(seq 1 "$nodes"); do serving $((port + i - 1)) && ready=$((ready + 1)); done
  [ "$ready" = "$nodes" ] && break
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "a ZooKeeper node exited; its log:" >&2; cat "$root"/node*/out.log >&2; exit 1; }
  done
  sleep 0.2
done
[ "$ready" = "$nodes" ] || { echo "ZooKeeper did not become ready" >&2; exit 1; }

hosts=""
for i in $(seq 1 "$nodes"); do hosts="$hosts${hosts:+,}127.0.0.1:$((port + i - 1))"; done
(IFS=,; echo "pids ${pids[*]}")
echo "ready $hosts"
# `wait` (not a foreground sleep) lets the traps run as soon as a signal arrives.
wait
