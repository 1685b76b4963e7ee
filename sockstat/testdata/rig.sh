#!/bin/sh
# Builds ~100k loopback TCP sockets in a network namespace of its own and
# runs the Rig benchmarks inside it, then tears everything down.
#
#   sudo sh sockstat/testdata/rig.sh [connections per holder] [holders] [bench regexp]
#
# Each holder process keeps PER connections, both ends, so 2*PER*HOLDERS
# sockets in all (default 8500*6*2 = 102000); RLIMIT_NOFILE is 20000 per
# process, hence several holders.
set -eu
PER=${1:-8500}
HOLDERS=${2:-6}
BENCH=${3:-Rig}
NS=triage-rig-$$
BIN=$(mktemp -d)/sockstat.test
cd "$(dirname "$0")/.."

go test -c -o "$BIN" .
ip netns add "$NS"
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$(dirname "$BIN")"
}
trap cleanup EXIT INT TERM
ip netns exec "$NS" ip link set lo up
ip netns exec "$NS" sysctl -qw net.ipv4.ip_local_port_range="1024 65000"

i=0
while [ "$i" -lt "$HOLDERS" ]; do
	out=$(dirname "$BIN")/holder.$i
	ip netns exec "$NS" sh -c "ulimit -n 20000; TRIAGE_RIG_HOLD=$PER exec $BIN -test.run '^TestRigHolder\$' -test.timeout 40m" >"$out" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
i=0
while [ "$i" -lt "$HOLDERS" ]; do
	out=$(dirname "$BIN")/holder.$i
	until grep -q ready "$out" 2>/dev/null; do
		if ! kill -0 $(echo $pids | cut -d' ' -f$((i + 1))) 2>/dev/null; then cat "$out"; exit 1; fi
		sleep 0.5
	done
	i=$((i + 1))
done
echo "rig: $(ip netns exec "$NS" ss -s | sed -n 2p)"

ip netns exec "$NS" env TRIAGE_BENCH_RIG=1 "$BIN" -test.run '^$' -test.bench "$BENCH" -test.benchmem -test.benchtime "${BENCHTIME:-1s}" ${BENCHFLAGS:-}
