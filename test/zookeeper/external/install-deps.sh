#!/usr/bin/env bash
# Installs what test/zookeeper/external needs on a fresh Debian 12 machine (as root,
# or through sudo): Debian's ZooKeeper 3.8 for zkCli.sh and its jar (the Java client),
# a JDK to compile the Java client test, kazoo 2.8 for the system Python
# (/usr/bin/python3; a pyenv `python3` on PATH is not used), and openssl (the TLS
# tests make their certificates with it and handshake with s_client); and Chromium
# (/usr/bin/chromium), the headless browser the browser tests drive with puppeteer-core
# (test/support/browser.ts).
# Quick and quiet when everything is already there; exits non-zero if anything
# is still missing afterwards.
#
#   bash test/zookeeper/external/install-deps.sh
set -euo pipefail

packages=(zookeeper python3-kazoo openjdk-17-jdk-headless openssl chromium)

installed() {
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
      echo "install-deps: ${missing[*]} missing, and this is neither root nor has sudo" >&2
      exit 1
    fi
    sudo=(sudo)
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y "${missing[@]}"
fi

# What the tests run, checked directly: a package can be installed and still broken.
fail=0
check() {
  if ! "$@" >/dev/null 2>&1; then
    echo "install-deps: check failed: $*" >&2
    fail=1
  fi
}
check test -x /usr/share/zookeeper/bin/zkCli.sh
check test -f /usr/share/java/zookeeper.jar
check /usr/bin/java -version
check /usr/bin/javac -version
check /usr/bin/python3 -c 'import kazoo.client, kazoo.recipe.lock, kazoo.recipe.cache'
check /usr/bin/chromium --headless --no-sandbox --disable-gpu --dump-dom about:blank
if [ "$fail" -ne 0 ]; then
  echo "install-deps: dependencies still missing after installing ${packages[*]}" >&2
  exit 1
fi
echo "install-deps: ok (zkCli.sh: /usr/share/zookeeper/bin/zkCli.sh; kazoo $(/usr/bin/python3 -c 'import kazoo.version; print(kazoo.version.__version__)') for /usr/bin/python3; $(/usr/bin/chromium --version 2>/dev/null))"
