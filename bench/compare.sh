#!/usr/bin/env bash
# Runs the benchmarks next to the tools operators use today, in one run on
# one machine, and writes the figures and their ratios to BENCHMARKS.md.
#
#   sudo bash bench/compare.sh                     # everything, 12-15 min on 2 quiet cores
#   sudo QUICK=1 bash bench/compare.sh             # small sizes, prints only, ~3 min
#   sudo SECTIONS="disk logs" bash bench/compare.sh  # rerun sections; the others
#                                                  # keep their figures in BENCHMARKS.md
#
# Knobs (environment): QUICK=1; SECTIONS (sockstat disk logs probe dns
# health routine); ROUNDS (6, the fewest for which benchstat gives a
# confidence interval; each round runs every benchmark of a section
# once, so a slow minute hits both sides of a ratio); HF_RUNS (hyperfine
# runs per command, 10, at least 5 when that takes over 3 s); HF_FAST_RUNS
# (hyperfine runs of the commands that take milliseconds: df, dig, 300);
# RIG_PER and RIG_HOLDERS (connections per holder
# process and holders: 8500 x 6, both ends, ~102k sockets); RIG_SMALL
# (connections per holder of the second, small rig of two holders: 1500,
# ~6k sockets; 500 with QUICK=1); SS_ROUNDS (rounds of ss against
# examples/ss, 3; 1 with QUICK=1); DISK_FILES
# (200000); BIG_LOG (1: also the 1 GiB log); OUT (the file to update,
# BENCHMARKS.md; with QUICK=1 nothing is written unless OUT is set).
#
# Needs root (network namespaces), go, ss, du, grep, hyperfine; dig
# (bind9-dnsutils) and curl where present. Everything it makes (namespaces,
# holder processes, the file tree, the 1 GiB log, binaries) is removed on
# exit, failure and interrupt included.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SELF="$ROOT/bench/compare.sh"
ALL_SECTIONS="sockstat disk logs probe dns health routine"

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
	: "${ROUNDS:=2}" "${HF_RUNS:=3}" "${HF_FAST_RUNS:=30}" "${RIG_PER:=1500}" "${RIG_HOLDERS:=2}" "${DISK_FILES:=20000}" "${BIG_LOG:=0}"
fi
: "${SECTIONS:=$ALL_SECTIONS}" "${ROUNDS:=6}" "${HF_RUNS:=10}" "${HF_FAST_RUNS:=300}" "${RIG_PER:=8500}" "${RIG_HOLDERS:=6}" "${DISK_FILES:=200000}" "${BIG_LOG:=1}"
if [ -z "${OUT+x}" ]; then
	if [ "$QUICK" = 1 ]; then OUT=; else OUT="$ROOT/BENCHMARKS.md"; fi
fi
# hyperfine runs a command HF_RUNS times, or fewer (HF_MIN at least) when
# those take more than 3 s: ss -lntp over 100k sockets takes seconds.
HF_MIN=$((HF_RUNS < 5 ? HF_RUNS : 5))
export HF_MIN HF_FAST_RUNS ROOT SELF QUICK SECTIONS ROUNDS HF_RUNS RIG_PER RIG_HOLDERS DISK_FILES BIG_LOG OUT

say() { printf '%s compare: %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() { say "$*"; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# --- figures --------------------------------------------------------------

# med FILE NAME [UNIT] prints the median of UNIT (ns/op unless given) over
# the result lines of BenchmarkNAME in FILE, nothing when there are none.
med() {
	[ -f "$1" ] || return 0
	awk -v want="Benchmark$2" -v unit="${3:-ns/op}" '
		{ n = $1; sub(/-[0-9]+$/, "", n) }
		n == want { for (i = 3; i < NF; i++) if ($(i + 1) == unit) { v[++c] = $i + 0; break } }
		END {
			if (!c) exit
			for (i = 2; i <= c; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
			m = (c % 2) ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2
			printf "%.6g\n", m
		}' "$1"
}

# hf CSV NAME prints the median time in ns of the hyperfine command NAME.
hf() {
	[ -f "$1" ] || return 0
	awk -F, -v want="$2" '$1 == want { printf "%.6g\n", $4 * 1e9 }' "$1"
}

# calc EXPR a=X b=Y... prints the awk expression EXPR over the variables
# given, nothing when one of them is empty.
calc() {
	local expr=$1 v args=()
	shift
	for v in "$@"; do
		[ -n "${v#*=}" ] || return 0
		args+=(-v "$v")
	done
	awk "${args[@]}" "BEGIN { printf \"%.6g\\n\", ($expr) }"
}

# ratio A B is A/B.
ratio() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.6g\n", a / b }' || true; }

ftime() {
	[ -n "${1:-}" ] || { printf 'n/a'; return; }
	awk -v v="$1" 'BEGIN {
		if (v < 1e3) printf "%.0f ns", v; else if (v < 1e6) printf "%.1f µs", v / 1e3
		else if (v < 1e9) printf "%.1f ms", v / 1e6; else printf "%.2f s", v / 1e9 }'
}

fbytes() {
	[ -n "${1:-}" ] || { printf 'n/a'; return; }
	awk -v v="$1" 'BEGIN {
		if (v < 1024) printf "%.0f B", v; else if (v < 1048576) printf "%.1f KiB", v / 1024
		else if (v < 1073741824) printf "%.1f MiB", v / 1048576; else printf "%.2f GiB", v / 1073741824 }'
}

fnum() { [ -n "${1:-}" ] && awk -v v="$1" 'BEGIN { printf "%.0f", v }' || printf 'n/a'; }

# fx R prints a ratio as "12.3×".
fx() {
	[ -n "${1:-}" ] || { printf 'n/a'; return; }
	awk -v v="$1" 'BEGIN { if (v >= 100) printf "%.0f×", v; else if (v >= 10) printf "%.1f×", v; else printf "%.2f×", v }'
}

# verdict VALUE OP LIMIT says whether VALUE OP LIMIT holds (OP is >= or <=).
verdict() {
	[ -n "${1:-}" ] || { printf 'not measured'; return; }
	awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
		ok = (op == ">=") ? (v >= t) : (v <= t)
		printf "%s", ok ? "met" : "**missed**" }'
}

# alloc B ALLOCS prints "B/op, N allocs".
alloc() {
	[ -n "${1:-}" ] || { printf ''; return; }
	printf '%s, %s allocs' "$(fbytes "$1")" "$(fnum "$2")"
}

# cell escapes the pipes of a table cell ("du -sh * | sort -h").
cell() { printf '%s' "${1//|/\\|}"; }

# row adds one table row: measurement | ours | figure | tool | figure |
# ratio | target | verdict.
row() {
	local c line='|'
	for c in "$@"; do line+=" $(cell "$c") |"; done
	printf '%s\n' "$line" >>"$MD"
}
header() {
	printf '| measurement | ours | figure | what operators run | figure | ours vs theirs | target | |\n' >>"$MD"
	printf '|---|---|---|---|---|---|---|---|\n' >>"$MD"
}
para() { printf '%s\n\n' "$*" >>"$MD"; }

# begin NAME TITLE opens a section's block; finish closes it with the load
# average and the raw figures' summary.
begin() {
	SECTION=$1
	MD="$WORK/md/$1.md"
	RAW="$WORK/raw/$1.txt"
	: >"$RAW"
	LOAD0=$(loadavg)
	STARTED=$(date -u '+%Y-%m-%d %H:%M UTC')
	printf '<!-- begin %s -->\n## %s\n\n' "$1" "$2" >"$MD"
}
finish() {
	say "$SECTION: summary"
	para "Measured $STARTED; load average $LOAD0 at the start of the section, $(loadavg) at its end."
	if [ -s "$RAW" ] && [ -n "${BENCHSTAT:-}" ]; then
		{
			printf '<details><summary>benchstat over the rounds</summary>\n\n```\n'
			(cd "$(dirname "$RAW")" && "$BENCHSTAT" "rounds=$(basename "$RAW")" 2>&1) | sed '/^$/N;/^\n$/D'
			printf '```\n\n</details>\n\n'
		} >>"$MD"
	fi
	printf '<!-- end %s -->\n' "$SECTION" >>"$MD"
}

# hyper CSV CMD... runs hyperfine over named commands ("name=command"),
# inside the network namespace HF_NS when it is set.
hyper() {
	local csv=$1 args=() c pre=()
	shift
	for c in "$@"; do args+=(-n "${c%%=*}" "${c#*=}"); done
	[ -z "${HF_NS:-}" ] || pre=(ip netns exec "$HF_NS")
	"${pre[@]}" hyperfine -N --style basic --warmup 1 --min-runs "$HF_MIN" --max-runs "$HF_RUNS" --export-csv "$csv" "${args[@]}" >&2
}

# hyperfast CSV CMD... is hyper for commands that take milliseconds, where
# start-up is most of the time: HF_FAST_RUNS runs each after 20 warm-up
# runs, so that the median holds on a shared machine. With HF_HOSTS set,
# hyperfine runs where that file is /etc/hosts (see with_hosts).
hyperfast() {
	local csv=$1 args=() c pre=()
	shift
	for c in "$@"; do args+=(-n "${c%%=*}" "${c#*=}"); done
	[ -z "${HF_HOSTS:-}" ] || pre=(with_hosts "$HF_HOSTS")
	"${pre[@]}" hyperfine -N --style basic --warmup 20 --runs "$HF_FAST_RUNS" --export-csv "$csv" "${args[@]}" >&2
}

# with_hosts FILE CMD... runs CMD in a mount namespace of its own where
# FILE is /etc/hosts: dig +trace looks every nameserver up by name.
with_hosts() {
	local hosts=$1
	shift
	unshare -m sh -c 'mount --bind "$0" /etc/hosts && exec "$@"' "$hosts" "$@"
}

# floor BIN builds a Go program that prints one line and exits: the least
# any Go command costs on this machine.
floor() {
	mkdir -p "$WORK/floor"
	printf 'module floor\n\ngo 1.26\n' >"$WORK/floor/go.mod"
	printf 'package main\n\nimport "os"\n\nfunc main() { os.Stdout.WriteString("Filesystem\\n") }\n' >"$WORK/floor/main.go"
	(cd "$WORK/floor" && GOWORK=off go build -o "$1" .)
}

# gotest PKG BIN builds PKG's test binary.
gotest() { (cd "$ROOT" && go test -c -o "$2" "$1"); }

# --- the sockets rig ------------------------------------------------------

# Named by the first process, so that its cleanup finds what a section
# made.
COMPARE_ID=${COMPARE_ID:-$$}
NS=triage-bench-$COMPARE_ID
export COMPARE_ID

# rig_up BIN NS HOLDERS PER UDP makes the namespace NS and fills it: HOLDERS
# processes of the sockstat test binary BIN each hold PER loopback
# connections (both ends) and UDP bound UDP sockets.
rig_up() {
	local bin=$1 ns=$2 holders=$3 per=$4 udp=$5 i out pid first
	ip netns add "$ns"
	echo "$ns" >>"$WORK/netns"
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="1024 65000"
	first=0
	[ ! -f "$WORK/pids" ] || first=$(wc -l <"$WORK/pids")
	for ((i = 0; i < holders; i++)); do
		out="$WORK/holder.$ns.$i"
		ip netns exec "$ns" sh -c "ulimit -n 20000; TRIAGE_RIG_HOLD=$per TRIAGE_RIG_UDP=$udp exec $bin -test.run '^TestRigHolder\$' -test.timeout 40m" >"$out" 2>&1 &
		echo $! >>"$WORK/pids"
	done
	local deadline=$((SECONDS + 300))
	for ((i = 0; i < holders; i++)); do
		out="$WORK/holder.$ns.$i"
		pid=$(sed -n "$((first + i + 1))p" "$WORK/pids")
		until grep -q ready "$out" 2>/dev/null; do
			kill -0 "$pid" 2>/dev/null || { cat "$out" >&2; die "rig holder $i of $ns died"; }
			[ "$SECONDS" -lt "$deadline" ] || die "rig holder $i of $ns not ready after 5 minutes"
			sleep 0.5
		done
	done
}

# rig_down ends every holder and removes every namespace rig_up made.
rig_down() {
	local p
	if [ -f "$WORK/pids" ]; then
		for p in $(cat "$WORK/pids"); do kill "$p" 2>/dev/null || true; done
		for p in $(cat "$WORK/pids"); do
			while kill -0 "$p" 2>/dev/null; do sleep 0.2; done
		done
		rm -f "$WORK/pids"
	fi
	if [ -f "$WORK/netns" ]; then
		for p in $(cat "$WORK/netns"); do ip netns del "$p" 2>/dev/null || true; done
		rm -f "$WORK/netns"
	fi
}

# The modes of examples/ss, each next to the ss command it replaces:
# "ss arguments|examples/ss arguments". PORT stands for a listener's port.
# ss -s reads the kernel's counters; examples/ss -s reads the same and
# counts the listeners. ss -lnt asks for LISTEN and CLOSE, which walks
# every connection.
SS_MODES=(
	'-s|-s'
	'-ant|-ant'
	'-tn|-nt'
	'-tn state established|-nt -state established'
	"-tan '( sport = :PORT or dport = :PORT )'|-nt -port PORT"
	'-lnt|-lnt'
	'-lntp|-lntp'
	'-antp|-antp'
	'-anti|-anti'
	'-anu|-anu'
	'-lnu|-lnu'
)

# ss_modes NS DIR SS SSSTATIC FLOOR FLOORSTATIC runs every mode in NS with
# hyperfine: "ss N",
# "go N" and "static N" for mode N, ss and the two builds of examples/ss
# side by side, as often as fits in about three seconds (HF_MIN to
# HF_FAST_RUNS/SS_ROUNDS times) after one warm-up run. It does so
# SS_ROUNDS times, every mode in each round, so that a busy minute hits
# ss and examples/ss alike; hfm takes the median of the rounds. Each round
# ends with the floors, "go floor" and "static floor": a Go program that
# imports sockstat and exits. The CSV files go to DIR.
ss_modes() {
	local ns=$1 dir=$2 ss=$3 sss=$4 floor=$5 floors=$6 port i m a b r
	port=$(ip netns exec "$ns" ss -Hltn | awk '{ n = split($4, a, ":"); print a[n]; exit }')
	mkdir -p "$dir"
	for ((r = 1; r <= SS_ROUNDS; r++)); do
		say "sockstat: whole programs in $ns, round $r/$SS_ROUNDS"
		for i in "${!SS_MODES[@]}"; do
			m=${SS_MODES[$i]//PORT/$port}
			a=${m%%|*}
			b=${m#*|}
			ip netns exec "$ns" hyperfine -N --style basic --warmup 1 --min-runs "$HF_MIN" \
				--max-runs "$(((HF_FAST_RUNS + SS_ROUNDS - 1) / SS_ROUNDS))" --export-csv "$dir/$r-$i.csv" \
				-n "ss $i" "ss $a" -n "go $i" "$ss $b" -n "static $i" "$sss $b" >&2
		done
		ip netns exec "$ns" hyperfine -N --style basic --warmup 1 --min-runs "$HF_MIN" \
			--max-runs "$(((HF_FAST_RUNS + SS_ROUNDS - 1) / SS_ROUNDS))" --export-csv "$dir/$r-floor.csv" \
			-n "go floor" "$floor" -n "static floor" "$floors" >&2
	done
}

# ss_floor BIN BINSTATIC builds the floors of ss_modes, both ways.
ss_floor() {
	printf 'package main\n\nimport _ "github.com/triagekit/triage/sockstat"\n\nfunc main() {}\n' >"$WORK/ss-floor.go"
	printf '{"Replace":{"%s":"%s"}}\n' "$ROOT/examples/ss-floor/main.go" "$WORK/ss-floor.go" >"$WORK/ss-floor.json"
	(cd "$ROOT" && go build -overlay "$WORK/ss-floor.json" -o "$1" ./examples/ss-floor &&
		CGO_ENABLED=0 go build -overlay "$WORK/ss-floor.json" -o "$2" ./examples/ss-floor)
}

# hfm DIR NAME prints the median over the rounds of hyperfine's median
# time in ns of NAME, from every CSV file in DIR.
hfm() {
	cat "$1"/*.csv 2>/dev/null | awk -F, -v want="$2" '
		$1 == want { v[++c] = $4 * 1e9 }
		END {
			if (!c) exit
			for (i = 2; i <= c; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
			printf "%.6g\n", (c % 2) ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2
		}'
}

# ns_tcp NS prints the number of TCP sockets of NS, from its own counts.
ns_tcp() {
	ip netns exec "$1" sh -c 'cat /proc/net/sockstat /proc/net/sockstat6 2>/dev/null' |
		awk '$1 == "TCP:" || $1 == "TCP6:" { for (i = 2; i < NF; i += 2) if ($i == "inuse" || $i == "tw") n += $(i + 1) } END { print n + 0 }'
}

# ss_table DIR prints the table of ss_modes' figures and sets SS_WORST and
# SS_WORST_STATIC to the least ratio of each build of examples/ss.
ss_table() {
	local dir=$1 i m a b t g st rg rs
	SS_WORST=
	SS_WORST_STATIC=
	printf '| `ss` | median | `examples/ss` | `go build` | vs `ss` | `CGO_ENABLED=0` | vs `ss` |\n|---|---|---|---|---|---|---|\n' >>"$MD"
	for i in "${!SS_MODES[@]}"; do
		m=${SS_MODES[$i]//PORT/P}
		a=${m%%|*}
		b=${m#*|}
		t=$(hfm "$dir" "ss $i")
		g=$(hfm "$dir" "go $i")
		st=$(hfm "$dir" "static $i")
		rg=$(ratio "$t" "$g")
		rs=$(ratio "$t" "$st")
		SS_WORST=$(calc 'r < w ? r : w' r="$rg" w="${SS_WORST:-1e9}")
		SS_WORST_STATIC=$(calc 'r < w ? r : w' r="$rs" w="${SS_WORST_STATIC:-1e9}")
		printf '| `%s` | %s | `%s` | %s | %s | %s | %s |\n' "$(cell "ss $a")" "$(ftime "$t")" "$(cell "$b")" \
			"$(ftime "$g")" "$(fx "$rg")" "$(ftime "$st")" "$(fx "$rs")" >>"$MD"
	done
	printf '| | | the floor: a Go program that imports `sockstat` and exits | %s | | %s | |\n\n' \
		"$(ftime "$(hfm "$dir" "go floor")")" "$(ftime "$(hfm "$dir" "static floor")")" >>"$MD"
}

# --- sections -------------------------------------------------------------

section_sockstat() {
	begin sockstat 'Sockets: `sockstat` against `ss` and gopsutil'
	[ "$(id -u)" = 0 ] || die "sockstat needs root for its network namespace"
	local bin="$WORK/bin/sockstat.test" ss="$WORK/bin/ss" sss="$WORK/bin/ss-static" r
	local small=${RIG_SMALL:-$([ "$QUICK" = 1 ] && echo 500 || echo 1500)}
	local SS_ROUNDS=${SS_ROUNDS:-$([ "$QUICK" = 1 ] && echo 1 || echo 3)}
	local NS0=triage-bench-empty-$COMPARE_ID NS1=triage-bench-small-$COMPARE_ID
	gotest ./sockstat "$bin"
	(cd "$ROOT" && go build -o "$ss" ./examples/ss)
	(cd "$ROOT" && CGO_ENABLED=0 go build -o "$sss" ./examples/ss)
	local floor="$WORK/bin/ss-floor" floors="$WORK/bin/ss-floor-static"
	ss_floor "$floor" "$floors"
	say "sockstat: building the rig ($RIG_HOLDERS holders x $RIG_PER connections, both ends)"
	rig_up "$bin" "$NS" "$RIG_HOLDERS" "$RIG_PER" 100
	rig_up "$bin" "$NS0" 0 0 0
	local total
	total=$(ns_tcp "$NS")
	say "sockstat: $total TCP sockets"
	local gops=$((ROUNDS < 3 ? ROUNDS : 3))
	for ((r = 1; r <= ROUNDS; r++)); do
		say "sockstat: round $r/$ROUNDS"
		(cd "$ROOT/sockstat" && ip netns exec "$NS" env TRIAGE_BENCH_RIG=1 "$bin" -test.run '^$' \
			-test.bench '^BenchmarkRig(Summarize|SummarizeListeners|Sockets|CountAll|ListenersWithOwners|Check|ProcNet|SSant|SSlntp|SSs)$' \
			-test.benchmem -test.benchtime 1s) >>"$RAW"
		if [ "$r" -le "$gops" ]; then
			(cd "$ROOT/sockstat" && ip netns exec "$NS" env TRIAGE_BENCH_RIG=1 "$bin" -test.run '^$' \
				-test.bench '^BenchmarkRigGopsutilConnections$' -test.benchmem -test.benchtime 1x) >>"$RAW"
		fi
	done
	say "sockstat: the same calls in an empty namespace"
	(cd "$ROOT/sockstat" && ip netns exec "$NS0" env TRIAGE_BENCH_RIG=1 "$bin" -test.run '^$' \
		-test.bench '^BenchmarkRig(Summarize|Sockets)$' -test.benchmem -test.benchtime 200x) >"$WORK/raw/sockstat-empty.txt"
	say "sockstat: whole programs, every mode (hyperfine)"
	local csv="$WORK/raw/sockstat-hf" csv1="$WORK/raw/sockstat-hf-small" load load1 total1
	load=$(loadavg)
	ss_modes "$NS" "$csv" "$ss" "$sss" "$floor" "$floors"
	# The kernel keeps one table of connections for every namespace: the
	# small rig is measured once the large one is gone.
	rig_down
	say "sockstat: whole programs, every mode, small rig (2 holders x $small connections)"
	rig_up "$bin" "$NS1" 2 "$small" 100
	total1=$(ns_tcp "$NS1")
	load1=$(loadavg)
	ss_modes "$NS1" "$csv1" "$ss" "$sss" "$floor" "$floors"
	rig_down

	local sum sl sock cnt lwo chk proc gop ssant sslntp sss hsant hslntp hss
	sum=$(med "$RAW" RigSummarize)
	sock=$(med "$RAW" RigSockets)
	cnt=$(med "$RAW" RigCountAll)
	lwo=$(med "$RAW" RigListenersWithOwners)
	chk=$(med "$RAW" RigCheck)
	proc=$(med "$RAW" RigProcNet)
	gop=$(med "$RAW" RigGopsutilConnections)
	ssant=$(med "$RAW" RigSSant)
	sslntp=$(med "$RAW" RigSSlntp)
	sss=$(med "$RAW" RigSSs)
	hss=$(hfm "$csv" 'ss 0')
	hsant=$(hfm "$csv" 'ss 1')
	hslntp=$(hfm "$csv" 'ss 6')
	# The tool's figure is the faster of the two ways it was run: from the
	# benchmark binary into a pipe, and by hyperfine into /dev/null.
	local tant tlntp ts
	tant=$(calc 'a < b ? a : b' a="$ssant" b="$hsant")
	tlntp=$(calc 'a < b ? a : b' a="$sslntp" b="$hslntp")
	ts=$(calc 'a < b ? a : b' a="$sss" b="$hss")
	local sumB sumA sum0B gopB gopA sockB sockA sock0B
	sumB=$(med "$RAW" RigSummarize B/op)
	sumA=$(med "$RAW" RigSummarize allocs/op)
	sum0B=$(med "$WORK/raw/sockstat-empty.txt" RigSummarize B/op)
	sockB=$(med "$RAW" RigSockets B/op)
	sockA=$(med "$RAW" RigSockets allocs/op)
	sock0B=$(med "$WORK/raw/sockstat-empty.txt" RigSockets B/op)
	gopB=$(med "$RAW" RigGopsutilConnections B/op)
	gopA=$(med "$RAW" RigGopsutilConnections allocs/op)

	para "$total loopback TCP sockets ($RIG_HOLDERS holder processes × $RIG_PER connections × both ends, all ESTABLISHED, plus one listener each) in a private network namespace. $ROUNDS rounds, each running every benchmark once (gopsutil, seconds a call, only in the first $gops); medians. \`ss\` is timed two ways, from the benchmark binary into a pipe and by hyperfine into /dev/null, and the ratio uses the faster. Ratios are theirs ÷ ours: above 1 we are faster."
	header
	local r1 r2 r3 r4 r5
	r1=$(ratio "$tant" "$sum")
	row 'TCP state histogram' '`sockstat.Summarize`' "$(ftime "$sum")" '`ss -ant`' "$(ftime "$tant")" "$(fx "$r1")" '≥20×' "$(verdict "$r1" '>=' 20)"
	r2=$(ratio "$gop" "$sum")
	row 'TCP state histogram' '`sockstat.Summarize`' "$(ftime "$sum")" 'gopsutil `net.Connections("tcp")`' "$(ftime "$gop")" "$(fx "$r2")" '≥300×' "$(verdict "$r2" '>=' 300)"
	r3=$(ratio "$sumB" "$sum0B")
	row "histogram memory, $total sockets vs an empty namespace" '`sockstat.Summarize`' "$(alloc "$sumB" "$sumA") vs $(fbytes "$sum0B")" 'gopsutil `net.Connections`' "$(alloc "$gopB" "$gopA")" "$(fx "$r3") of the empty figure" '≤2× (flat)' "$(verdict "$r3" '<=' 2)"
	r4=$(ratio "$tant" "$sock")
	row 'every TCP socket, listed' '`sockstat.Sockets`' "$(ftime "$sock"), $(fbytes "$sockB")" '`ss -ant`' "$(ftime "$tant")" "$(fx "$r4")" '≥2× (≤0.5× the time)' "$(verdict "$r4" '>=' 2)"
	r5=$(ratio "$tlntp" "$lwo")
	row 'listeners with owning processes' '`sockstat.Sockets` (Listen, Owners)' "$(ftime "$lwo")" '`ss -lntp`' "$(ftime "$tlntp")" "$(fx "$r5")" '≥2×' "$(verdict "$r5" '>=' 2)"
	row 'TCP state histogram' '`sockstat.Summarize`' "$(ftime "$sum")" '`ss -s` (kernel counters, no dump)' "$(ftime "$ts")" "$(fx "$(ratio "$ts" "$sum")")" '' ''
	sl=$(med "$RAW" RigSummarizeListeners)
	row 'kernel totals and the listeners, what `ss -s` tells' '`sockstat.Summarize` (States: Listen)' "$(ftime "$sl")" '`ss -s` (kernel counters, no dump)' "$(ftime "$ts")" "$(fx "$(ratio "$ts" "$sl")")" '' ''
	row 'states counted from a full dump' 'netlink dump, counted' "$(ftime "$cnt")" '`ss -ant`' "$(ftime "$tant")" "$(fx "$(ratio "$tant" "$cnt")")" '' ''
	row 'states from /proc/net/tcp{,6} (fallback)' '`/proc/net` reader' "$(ftime "$proc")" '`ss -ant`' "$(ftime "$tant")" "$(fx "$(ratio "$tant" "$proc")")" '' ''
	row 'whole check (listeners, owners, states, counters; no sample window)' '`sockstat.Check`' "$(ftime "$chk")" '`ss -s; ss -lntp`' "$(ftime "$(calc 'a + b' a="$ts" b="$tlntp")")" "$(fx "$(ratio "$(calc 'a + b' a="$ts" b="$tlntp")" "$chk")")" '' ''
	printf '\n' >>"$MD"
	para "Sockets listed grow with the sockets: \`Sockets\` allocates $(fbytes "$sockB") for $total sockets against $(fbytes "$sock0B") in an empty namespace. The histogram counts ESTABLISHED from the kernel's CurrEstab counter and dumps only the other states, which is why it stays flat on this rig; a host with $total sockets in TIME-WAIT pays for a dump of them."
	para "Whole programs, side by side: each mode of \`examples/ss\` against the \`ss\` command it replaces, in the same namespace, output to /dev/null; hyperfine, $SS_ROUNDS rounds in which every command runs as often as fits in about three seconds ($HF_MIN to $(((HF_FAST_RUNS + SS_ROUNDS - 1) / SS_ROUNDS)) times) after one warm-up run, next to its counterpart; the median of the rounds' medians. \`examples/ss\` is built twice: as \`go build\` makes it where a C compiler is present (\`sockstat\` imports \`net\`, so the binary links the C library through cgo) and with \`CGO_ENABLED=0\` (static), as Go command-line tools usually ship. The rigs also hold $((RIG_HOLDERS * 100)) and 200 bound UDP sockets. Ratios are \`ss\` ÷ ours: above 1 ours is faster. The floor is the least any such Go program costs here: the runtime's start-up and the initialisation of what \`sockstat\` imports (the root package's \`encoding/json\` and \`log/slog\`, and \`net\`); where \`ss\` itself takes about as long, only a mode that does less work than \`ss\` can be faster."
	para "$total TCP sockets, the rig above; load average $load when the comparison started:"
	ss_table "$csv"
	local w w1 ws ws1
	w=$SS_WORST
	ws=$SS_WORST_STATIC
	para "$total1 TCP sockets (2 holder processes × $small connections × both ends), measured once the large rig was gone; load average $load1 when the comparison started:"
	ss_table "$csv1"
	w1=$SS_WORST
	ws1=$SS_WORST_STATIC
	header
	row "every mode of \`examples/ss\` against \`ss\`, $total sockets (the least of ${#SS_MODES[@]} ratios)" '`examples/ss`, `go build`' '' '`ss`' '' "$(fx "$w")" '≥1× (as fast)' "$(verdict "$w" '>=' 1)"
	row "every mode of \`examples/ss\` against \`ss\`, $total sockets (the least of ${#SS_MODES[@]} ratios)" '`examples/ss`, `CGO_ENABLED=0`' '' '`ss`' '' "$(fx "$ws")" '≥1× (as fast)' "$(verdict "$ws" '>=' 1)"
	row "every mode of \`examples/ss\` against \`ss\`, $total1 sockets (the least of ${#SS_MODES[@]} ratios)" '`examples/ss`, `go build`' '' '`ss`' '' "$(fx "$w1")" '≥1× (as fast)' "$(verdict "$w1" '>=' 1)"
	row "every mode of \`examples/ss\` against \`ss\`, $total1 sockets (the least of ${#SS_MODES[@]} ratios)" '`examples/ss`, `CGO_ENABLED=0`' '' '`ss`' '' "$(fx "$ws1")" '≥1× (as fast)' "$(verdict "$ws1" '>=' 1)"
	printf '\n' >>"$MD"
	finish
}

section_disk() {
	begin disk 'Disks: `examples/df` against `df`, `diskcheck.Usage` against `du`'
	local bin="$WORK/bin/diskcheck.test" df="$WORK/bin/df" dfs="$WORK/bin/df-static" gofloor="$WORK/bin/floor" tree="$WORK/tree" r
	gotest ./diskcheck "$bin"
	(cd "$ROOT" && go build -o "$df" ./examples/df)
	(cd "$ROOT" && CGO_ENABLED=0 go build -o "$dfs" ./examples/df)
	floor "$gofloor"
	say "disk: df against examples/df (hyperfine, $HF_FAST_RUNS runs each)"
	local fcsv="$WORK/raw/df-hf.csv"
	hyperfast "$fcsv" 'df -h=df -h' "examples/df -h=$df -h" "examples/df -h static=$dfs -h" \
		'df -i=df -i' "examples/df -i=$df -i" "examples/df -i static=$dfs -i" "floor=$gofloor"
	mkdir -p "$tree"
	for ((r = 1; r <= ROUNDS; r++)); do
		say "disk: round $r/$ROUNDS$([ "$r" = 1 ] && echo " (makes the $DISK_FILES-file tree first)")"
		(cd "$ROOT/diskcheck" && DISKCHECK_BENCH_DIR="$tree" DISKCHECK_BENCH_FILES="$DISK_FILES" "$bin" -test.run '^$' \
			-test.bench '^BenchmarkUsage(VsDu)?$' -test.benchmem -test.benchtime 2x) >>"$RAW"
	done
	say "disk: whole programs (hyperfine)"
	local csv="$WORK/raw/disk-hf.csv"
	(cd "$tree" && hyper "$csv" "du -s=du -s -x $tree" "du -sh * | sort -h=sh -c 'du -sh * | sort -h'" "examples/df -du=$df -du $tree -top 10")

	local walk du dush walkB walkA pwalk pdu pratio
	walk=$(med "$RAW" Usage/walker)
	walkB=$(med "$RAW" Usage/walker B/op)
	walkA=$(med "$RAW" Usage/walker allocs/op)
	du=$(med "$RAW" Usage/du-s)
	dush=$(med "$RAW" Usage/du-sh-star-sort)
	pwalk=$(med "$RAW" UsageVsDu walk-ns/op)
	pdu=$(med "$RAW" UsageVsDu du-ns/op)
	pratio=$(med "$RAW" UsageVsDu du/walk)
	local files
	files=$(find "$tree" -type f | wc -l)

	local dh eh esh di ei esi fl hdu hed
	dh=$(hf "$fcsv" 'df -h')
	eh=$(hf "$fcsv" 'examples/df -h')
	esh=$(hf "$fcsv" 'examples/df -h static')
	di=$(hf "$fcsv" 'df -i')
	ei=$(hf "$fcsv" 'examples/df -i')
	esi=$(hf "$fcsv" 'examples/df -i static')
	fl=$(hf "$fcsv" 'floor')
	hdu=$(hf "$csv" 'du -s')
	hed=$(hf "$csv" 'examples/df -du')
	local mounts
	mounts=$(df -h | tail -n +2 | wc -l)
	para "Whole programs, hyperfine, median of $HF_FAST_RUNS runs after 20 warm-up runs, output to /dev/null; this host lists $mounts filesystems. \`examples/df\` is built twice: as \`go build\` makes it and with \`CGO_ENABLED=0\`; a program that imports \`net\` links the C library dynamically through cgo where a C compiler is present, and since v0.2.0 the check packages that \`examples/df\` uses do without it. The floor is a Go program that prints one line and exits: the runtime's own start-up."
	header
	row 'filesystems, bytes, whole program' '`examples/df -h`' "$(ftime "$eh")" '`df -h`' "$(ftime "$dh")" "$(fx "$(ratio "$dh" "$eh")")" '≥1× (as fast)' "$(verdict "$(ratio "$dh" "$eh")" '>=' 1)"
	row 'filesystems, inodes, whole program' '`examples/df -i`' "$(ftime "$ei")" '`df -i`' "$(ftime "$di")" "$(fx "$(ratio "$di" "$ei")")" '≥1× (as fast)' "$(verdict "$(ratio "$di" "$ei")" '>=' 1)"
	row 'filesystems, bytes, static binary' '`examples/df -h`, CGO_ENABLED=0' "$(ftime "$esh")" '`df -h`' "$(ftime "$dh")" "$(fx "$(ratio "$dh" "$esh")")" '' ''
	row 'filesystems, inodes, static binary' '`examples/df -i`, CGO_ENABLED=0' "$(ftime "$esi")" '`df -i`' "$(ftime "$di")" "$(fx "$(ratio "$di" "$esi")")" '' ''
	row 'the floor: a Go program that prints one line' 'static Go binary' "$(ftime "$fl")" '`df -h`' "$(ftime "$dh")" "$(fx "$(ratio "$dh" "$fl")")" '' ''
	row 'total under a directory, whole program' '`examples/df -du` (Top 10)' "$(ftime "$hed")" '`du -s -x`' "$(ftime "$hdu")" "$(fx "$(ratio "$hdu" "$hed")")" '≥1× (as fast)' "$(verdict "$(ratio "$hdu" "$hed")" '>=' 1)"
	printf '\n' >>"$MD"
	para "A generated tree of $files file names (directories of 100, two levels, 0-8 KiB, every hundredth name a hard link to another file), warm page cache. $ROUNDS rounds; in each, the walk, \`du -s\` and \`du -sh * | sort -h\` run twice, then two iterations that alternate one walk and one \`du -s\` so that both see the same moment of load. Every walk's total is checked against \`du -s -B1 -x\` in the same iteration: the benchmark fails if they differ."
	header
	row 'total under a directory, walk and du alternating' '`diskcheck.Usage` (Top 10)' "$(ftime "$pwalk")" '`du -s -x`' "$(ftime "$pdu")" "$(fx "$pratio")" '≥1.5×, same total' "$(verdict "$pratio" '>=' 1.5)"
	row 'total under a directory, separate runs' '`diskcheck.Usage` (Top 10)' "$(ftime "$walk"), $(alloc "$walkB" "$walkA")" '`du -s -x`' "$(ftime "$du")" "$(fx "$(ratio "$du" "$walk")")" '' ''
	row 'largest consumers' '`diskcheck.Usage` (Top 10)' "$(ftime "$walk")" '`du -sh * | sort -h`' "$(ftime "$dush")" "$(fx "$(ratio "$dush" "$walk")")" '' ''
	printf '\n' >>"$MD"
	para "Whole programs, hyperfine, median of $HF_MIN to $HF_RUNS runs:"
	printf '| command | median | vs `du -s` |\n|---|---|---|\n' >>"$MD"
	local a n
	a=$(hf "$csv" 'du -s')
	for n in 'du -s' 'du -sh * | sort -h' 'examples/df -du'; do
		printf '| `%s` | %s | %s |\n' "$(cell "$n")" "$(ftime "$(hf "$csv" "$n")")" "$(fx "$(ratio "$a" "$(hf "$csv" "$n")")")" >>"$MD"
	done
	printf '\n' >>"$MD"
	# The tree goes with the rest at the end: removing 200k written-back
	# inodes takes a minute of disk work the next sections should not share.
	finish
}

section_logs() {
	begin logs 'Logs: `logscan` against `tail | grep` and `grep -F`'
	local bin="$WORK/bin/logscan.test" dir="$WORK/logs" r
	gotest ./logscan "$bin"
	mkdir -p "$dir"
	for ((r = 1; r <= ROUNDS; r++)); do
		say "logs: round $r/$ROUNDS$([ "$r" = 1 ] && echo " (writes the logs first)")"
		(cd "$ROOT/logscan" && TRIAGE_BENCH_LOGDIR="$dir" TRIAGE_BENCH_BIG="$BIG_LOG" "$bin" -test.run '^$' \
			-test.bench '^BenchmarkScan$' -test.benchmem -test.benchtime 1s) >>"$RAW"
	done
	rm -rf "$dir"

	local sizes="10MB" big=10MB
	[ "$BIG_LOG" = 1 ] && sizes="10MB 1GiB" big=1GiB
	para "A generated service log (access lines, warnings, dependency errors, Java stack traces; ~120-byte lines, one every 10 ms) of 10 MB$([ "$BIG_LOG" = 1 ] && echo ' and of 1 GiB'), in the page cache. $ROUNDS rounds, medians. \`tail | grep\` and \`grep\` are whole processes started by the benchmark; ours are calls of \`logscan.Check\` that also parse timestamps, fold stack traces into their error and group error signatures."
	header
	local s t tg tB tA
	for s in $sizes; do
		t=$(med "$RAW" "Scan/tail200/$s")
		tB=$(med "$RAW" "Scan/tail200/$s" B/op)
		tA=$(med "$RAW" "Scan/tail200/$s" allocs/op)
		tg=$(med "$RAW" "Scan/tailGrep/$s")
		row "last 200 lines, $s file" '`logscan.Check` (Lines 200)' "$(ftime "$t"), $(alloc "$tB" "$tA")" "\`tail -n 200 | grep -cE 'ERROR|Exception'\`" "$(ftime "$tg")" "$(fx "$(ratio "$tg" "$t")")" '<1 ms' "$(verdict "$t" '<=' 1000000)"
	done
	if [ "$BIG_LOG" = 1 ]; then
		local t10 t1g
		t10=$(med "$RAW" Scan/tail200/10MB)
		t1g=$(med "$RAW" Scan/tail200/1GiB)
		row 'last 200 lines: 1 GiB against 10 MB' '`logscan.Check` (Lines 200)' "$(ftime "$t1g") vs $(ftime "$t10")" '' '' "$(fx "$(ratio "$t1g" "$t10")") the time" '≤1.5× (size-independent)' "$(verdict "$(ratio "$t1g" "$t10")" '<=' 1.5)"
	fi
	local w wm g gm ga gam bi since
	w=$(med "$RAW" "Scan/whole/$big")
	wm=$(med "$RAW" "Scan/whole/$big" MB/s)
	g=$(med "$RAW" "Scan/grepF/$big")
	gm=$(med "$RAW" "Scan/grepF/$big" MB/s)
	ga=$(med "$RAW" "Scan/grepFAll/$big")
	gam=$(med "$RAW" "Scan/grepFAll/$big" MB/s)
	bi=$(med "$RAW" "Scan/bytesIndex/$big" MB/s)
	since=$(med "$RAW" "Scan/since10m/$big")
	local rw
	rw=$(ratio "$g" "$w")
	row "whole file, $big" '`logscan.Check` (window = whole file)' "$(ftime "$w"), $(fnum "$wm") MB/s" "\`grep -cF ERROR\`" "$(ftime "$g"), $(fnum "$gm") MB/s" "$(fx "$rw")" '≥1× (grep -F throughput)' "$(verdict "$rw" '>=' 1)"
	row "whole file, $big" '`logscan.Check` (window = whole file)' "$(ftime "$w")" "\`grep -cF\` with every default literal" "$(ftime "$ga"), $(fnum "$gam") MB/s" "$(fx "$(ratio "$ga" "$w")")" '' ''
	row "last 10 minutes, $big" '`logscan.Check` (Since 10m)' "$(ftime "$since")" '' '' '' '' ''
	printf '\n' >>"$MD"
	para "A bare read of the same file with \`bytes.Count\` for one literal, the floor for any scan in Go, runs at $(fnum "$bi") MB/s."
	finish
}

section_probe() {
	begin probe 'Processes, TCP and HTTP: `process`, `host` and `probe` against gopsutil, `pgrep` and `curl`'
	local r pkg
	for pkg in host process probe; do
		gotest "./$pkg" "$WORK/bin/$pkg.test"
	done
	for ((r = 1; r <= ROUNDS; r++)); do
		say "probe: round $r/$ROUNDS"
		(cd "$ROOT/host" && "$WORK/bin/host.test" -test.run '^$' -test.bench '^BenchmarkHost$' \
			-test.benchmem -test.benchtime 1s) >>"$RAW"
		(cd "$ROOT/process" && "$WORK/bin/process.test" -test.run '^$' -test.bench '^BenchmarkProcessLookup$' \
			-test.benchmem -test.benchtime 1s) >>"$RAW"
		(cd "$ROOT/probe" && "$WORK/bin/probe.test" -test.run '^$' -test.bench '^Benchmark(TCP|HTTP|Curl)$' \
			-test.benchmem -test.benchtime 1s) >>"$RAW"
	done
	local nproc
	nproc=$(ls /proc | grep -c '^[0-9]')
	para "On this host with about $nproc processes. $ROUNDS rounds, medians. \`pgrep\` and \`curl\` are whole processes started by the benchmark; the HTTP server is an in-process loopback server, a new connection per request on both sides."
	header
	local p g pg pB pA gB gA
	p=$(med "$RAW" ProcessLookup/probe)
	pB=$(med "$RAW" ProcessLookup/probe B/op)
	pA=$(med "$RAW" ProcessLookup/probe allocs/op)
	g=$(med "$RAW" ProcessLookup/gopsutil)
	gB=$(med "$RAW" ProcessLookup/gopsutil B/op)
	gA=$(med "$RAW" ProcessLookup/gopsutil allocs/op)
	pg=$(med "$RAW" ProcessLookup/pgrep)
	row 'find a process by name, with what ps shows' '`process.Check` (no sample window)' "$(ftime "$p"), $(alloc "$pB" "$pA")" 'gopsutil `process.Processes` + details' "$(ftime "$g"), $(alloc "$gB" "$gA")" "$(fx "$(ratio "$g" "$p")")" '' ''
	row 'find a process by name' '`process.Check` (no sample window)' "$(ftime "$p")" '`pgrep -x` (name only)' "$(ftime "$pg")" "$(fx "$(ratio "$pg" "$p")")" '' ''
	local h c tcp hB hA h1 h0
	h=$(med "$RAW" HTTP)
	hB=$(med "$RAW" HTTP B/op)
	hA=$(med "$RAW" HTTP allocs/op)
	c=$(med "$RAW" Curl)
	tcp=$(med "$RAW" TCP)
	h1=$(med "$RAW" Host/window=1ms)
	h0=$(med "$RAW" Host/default)
	row 'one HTTP GET on a new connection, with phase timings' '`probe.HTTP`' "$(ftime "$h"), $(alloc "$hB" "$hA")" '`curl -s -o /dev/null`' "$(ftime "$c")" "$(fx "$(ratio "$c" "$h")")" '' ''
	row 'TCP connect, classified' '`probe.TCP`' "$(ftime "$tcp")" '' '' '' '' ''
	row 'host resources (CPU, memory, PSI, cgroup)' '`host.Check`, 1 ms window' "$(ftime "$h1")" '' '' '' '' ''
	row 'host resources, default 250 ms window' '`host.Check`' "$(ftime "$h0")" '' '' '' '' ''
	printf '\n' >>"$MD"
	finish
}

section_dns() {
	begin dns 'DNS: `dnscheck` and `examples/dig` against `dig`'
	local bin="$WORK/bin/dnscheck.test" dig="$WORK/bin/dig" rig="$WORK/dnsrig" r
	gotest ./dnscheck "$bin"
	(cd "$ROOT" && go build -o "$dig" ./examples/dig)
	for ((r = 1; r <= ROUNDS; r++)); do
		say "dns: round $r/$ROUNDS"
		(cd "$ROOT/dnscheck" && "$bin" -test.run '^$' -test.bench '^Benchmark(Query|QueryBare|Check)$' \
			-test.benchmem -test.benchtime 1s) >>"$RAW"
	done
	local qcsv="$WORK/raw/dns-hf.csv" tcsv="$WORK/raw/dns-trace-hf.csv"
	if have dig; then
		# A resolver, and a root, a TLD and a zone on loopback addresses
		# sharing one port, served by the test binary until it is killed.
		mkdir -p "$rig"
		(cd "$ROOT/dnscheck" && TRIAGE_BENCH_DNS="$rig" exec "$bin" -test.run '^TestBenchServers$' -test.timeout 0) >"$rig/out" 2>&1 &
		local rigpid=$! deadline=$((SECONDS + 60))
		until grep -q ready "$rig/out" 2>/dev/null; do
			kill -0 "$rigpid" 2>/dev/null || { cat "$rig/out" >&2; die "dns: the loopback servers did not start"; }
			[ "$SECONDS" -lt "$deadline" ] || die "dns: the loopback servers not ready after a minute"
			sleep 0.2
		done
		local RESOLVER ROOT_NS PORT
		RESOLVER=$(sed -n 's/^RESOLVER=//p' "$rig/servers")
		ROOT_NS=$(sed -n 's/^ROOT=//p' "$rig/servers")
		PORT=$(sed -n 's/^PORT=//p' "$rig/servers")
		say "dns: whole programs (hyperfine, $HF_FAST_RUNS runs each)"
		hyperfast "$qcsv" "dig +short=dig @${RESOLVER%:*} -p $PORT www.example.test A +short" \
			"examples/dig +short=$dig @$RESOLVER www.example.test A +short"
		HF_HOSTS="$rig/hosts" hyperfast "$tcsv" "dig +trace=dig @${ROOT_NS%:*} -p $PORT www.example.test A +trace" \
			"examples/dig -trace=$dig www.example.test A -trace -root $ROOT_NS -port $PORT"
		kill "$rigpid"
		wait "$rigpid" 2>/dev/null || true
	else
		say "dns: dig is not installed (bind9-dnsutils); its rows stay empty"
	fi
	para "In process: against an in-process server on loopback, $ROUNDS rounds, medians. Whole programs: hyperfine, median of $HF_FAST_RUNS runs after 20 warm-up runs, against servers on loopback addresses (a resolver for the query; a root, a TLD and a zone for the trace, which dig runs with a private /etc/hosts naming the nameservers, as it looks each one up by name)."
	header
	local q qb ck d ed dt et
	q=$(med "$RAW" Query)
	qb=$(med "$RAW" QueryBare)
	ck=$(med "$RAW" Check)
	d=$(hf "$qcsv" 'dig +short')
	ed=$(hf "$qcsv" 'examples/dig +short')
	dt=$(hf "$tcsv" 'dig +trace')
	et=$(hf "$tcsv" 'examples/dig -trace')
	row 'one A query with EDNS0' '`dnscheck` exchange' "$(ftime "$q"), $(alloc "$(med "$RAW" Query B/op)" "$(med "$RAW" Query allocs/op)")" 'miekg/dns `Client.Exchange` alone' "$(ftime "$qb")" "$(fx "$(ratio "$qb" "$q")")" '' ''
	row 'A and AAAA, compared' '`dnscheck.Check`, one server' "$(ftime "$ck")" '' '' '' '' ''
	row 'A query, whole program' '`examples/dig +short`' "$(ftime "$ed")" '`dig A +short`' "$(ftime "$d")" "$(fx "$(ratio "$d" "$ed")")" '≥1× (as fast)' "$(verdict "$(ratio "$d" "$ed")" '>=' 1)"
	row 'trace from the root, whole program' '`examples/dig -trace`' "$(ftime "$et")" '`dig +trace`' "$(ftime "$dt")" "$(fx "$(ratio "$dt" "$et")")" '≥1× (as fast)' "$(verdict "$(ratio "$dt" "$et")" '>=' 1)"
	printf '\n' >>"$MD"
	finish
}

section_health() {
	begin health 'Health endpoint: cached `/readyz` against alexliesenfeld/health'
	if [ ! -f "$ROOT/bench/go.mod" ] || ! grep -qs 'func BenchmarkHealthCached' "$ROOT"/bench/*_test.go; then
		para "Skipped: bench/health_test.go (BenchmarkHealthCached) is not there yet."
		finish
		return
	fi
	local bin="$WORK/bin/health.test" r
	(cd "$ROOT/bench" && go test -c -o "$bin" .)
	for ((r = 1; r <= ROUNDS; r++)); do
		say "health: round $r/$ROUNDS"
		(cd "$ROOT/bench" && "$bin" -test.run '^$' -test.bench HealthCached -test.benchmem -test.benchtime 1s) >>"$RAW"
	done
	para "Both handlers answer from their cache (one TCP check to a loopback listener, run once before timing) into the same reused ResponseWriter; see bench/health_test.go. $ROUNDS rounds, medians; GOMAXPROCS $(nproc)."
	header
	local name o a
	o=$(med "$RAW" HealthCached/triage)
	a=$(med "$RAW" HealthCached/alexliesenfeld)
	row 'cached readiness answer, one reader' '`health.Handler.Readyz`' "$(ftime "$o"), $(alloc "$(med "$RAW" HealthCached/triage B/op)" "$(med "$RAW" HealthCached/triage allocs/op)")" 'alexliesenfeld/health `NewHandler`' "$(ftime "$a"), $(alloc "$(med "$RAW" HealthCached/alexliesenfeld B/op)" "$(med "$RAW" HealthCached/alexliesenfeld allocs/op)")" "$(fx "$(ratio "$a" "$o")")" '' ''
	for name in $(awk '$1 ~ /^BenchmarkHealthCachedParallel\/triage\// { n = $1; sub(/-[0-9]+$/, "", n); sub(/.*\//, "", n); print n }' "$RAW" | sort -u -t= -k2n); do
		o=$(med "$RAW" "HealthCachedParallel/triage/$name")
		a=$(med "$RAW" "HealthCachedParallel/alexliesenfeld/$name")
		row "cached readiness answer, ${name#readers=} readers at once" '`health.Handler.Readyz`' "$(ftime "$o") per answer" 'alexliesenfeld/health `NewHandler`' "$(ftime "$a") per answer" "$(fx "$(ratio "$a" "$o")")" '' ''
	done
	printf '\n' >>"$MD"
	finish
}

section_routine() {
	begin routine 'The whole routine: `triage` against the commands it replaces'
	local bin="$WORK/bin/triage.test" cmd="$WORK/bin/triage" r
	gotest ./examples/triage "$bin"
	(cd "$ROOT" && go build -o "$cmd" ./examples/triage)
	for ((r = 1; r <= ROUNDS; r++)); do
		say "routine: round $r/$ROUNDS"
		(cd "$ROOT/examples/triage" && "$bin" -test.run '^$' -test.bench '^BenchmarkRoutine$' -test.benchmem -test.benchtime 3x) >>"$RAW"
	done
	say "routine: whole programs (hyperfine)"
	local csv="$WORK/raw/routine-hf.csv" shell="top -b -n 1 | head -20; free -h; dmesg | tail -n 200; ss -s; ss -lntp; df -h; df -i"
	# triage exits 1 when it finds trouble, which a busy host is.
	hyperfine -N -i --style basic --warmup 1 --min-runs "$HF_MIN" --max-runs "$HF_RUNS" --export-csv "$csv" \
		-n triage "$cmd" -n commands "sh -c '$shell'" >&2
	para "\`triage\` with no flags: host resources (a 250 ms CPU sample), the kernel log, listeners with owners and the TCP state histogram (a 250 ms counter sample, side by side with the host's), every real filesystem, the classifier and the report. The commands are what a person types for the same steps: \`$shell\` (top samples too). Whole processes by hyperfine, median of $HF_MIN to $HF_RUNS runs; in-process figures from $ROUNDS rounds of BenchmarkRoutine (examples/triage)."
	header
	local t c i iB iA
	t=$(hf "$csv" triage)
	c=$(hf "$csv" commands)
	i=$(med "$RAW" Routine)
	iB=$(med "$RAW" Routine B/op)
	iA=$(med "$RAW" Routine allocs/op)
	row 'the default routine, whole process' '`triage`' "$(ftime "$t")" 'the commands above, one shell' "$(ftime "$c")" "$(fx "$(ratio "$c" "$t")")" '<1 s' "$(verdict "$t" '<=' 1000000000)"
	row 'the default routine, in process' '`run` of examples/triage' "$(ftime "$i"), $(alloc "$iB" "$iA")" '' '' '' '' ''
	printf '\n' >>"$MD"
	finish
}

# --- assembly -------------------------------------------------------------

machine() {
	local cpu
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo | sed 's/ *$//')
	printf -- '- %s, %s cores (`nproc`), %s MiB of memory\n' "$cpu" "$(nproc)" "$(awk '/^MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)"
	printf -- '- Linux %s, %s\n' "$(uname -r)" "$(go version | awk '{ print $3 " " $4 }')"
	printf -- '- %s; %s; %s; %s; %s\n' "$(ss -V 2>/dev/null | head -1)" "$(du --version | head -1)" "$(grep -V | head -1)" \
		"$(hyperfine --version)" "$(have dig && dig -v 2>&1 | head -1 || echo 'dig not installed')"
	local dirty
	dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no -- '*.go' | wc -l)
	printf -- '- last run %s at commit %s%s (sections carry their own date and load)\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" \
		"$(git -C "$ROOT" rev-parse --short HEAD)" "$([ "$dirty" = 0 ] || echo ", with $dirty Go files changed and not committed")"
}

# block NAME FILE prints section NAME's block from FILE; false when there
# is none.
block() { [ -f "$2" ] && grep -q "^<!-- begin $1 -->\$" "$2" && sed -n "/^<!-- begin $1 -->\$/,/^<!-- end $1 -->\$/p" "$2"; }

assemble() {
	local old=$1 body="$WORK/body.md" s b
	: >"$body"
	for s in $ALL_SECTIONS; do
		if [ -f "$WORK/md/$s.md" ]; then
			b=$(cat "$WORK/md/$s.md")
		else
			b=$(block "$s" "$old" || true)
		fi
		[ -z "$b" ] || printf '%s\n\n' "$b" >>"$body"
	done
	cat <<-EOF
		# Benchmarks

		Each figure next to the tool operators use today for the same question,
		measured in the same run on the same machine, as ratios: the machines here
		are shared and noisy, so absolute times move from run to run while the
		ratios hold better. Written by \`bench/compare.sh\`; edit only between the
		notes markers at the end, which a run keeps as they are.

		Run it as root (it makes network namespaces, ~100k sockets, a 200k-file
		tree and a 1 GiB log, and removes them all at the end, on failure too):

		    sudo bash bench/compare.sh                        # everything, 12-15 min on 2 quiet cores
		    sudo QUICK=1 bash bench/compare.sh                # small sizes, prints only
		    sudo SECTIONS="disk logs" bash bench/compare.sh   # rerun sections, keep the rest

		It needs go, ss, du, grep and hyperfine; dig (bind9-dnsutils) and curl
		where present. It is not part of \`.ci/run\`: too heavy for every change.
		The benchmarks it drives also run alone with \`go test -bench\`; see the
		comments in each package's bench test file.

		## Machine

		$(machine)

		## Targets

		| measurement | ours | figure | what operators run | figure | ours vs theirs | target | |
		|---|---|---|---|---|---|---|---|
		$(grep -E '^\|.*\| (met|\*\*missed\*\*|not measured) \|$' "$body" || true)

	EOF
	cat "$body"
	if [ -f "$old" ] && grep -q '^<!-- notes begin -->$' "$old"; then
		sed -n '/^<!-- notes begin -->$/,/^<!-- notes end -->$/p' "$old"
	fi
}

# --- main -----------------------------------------------------------------

if [ "${1:-}" = __section ]; then
	ps -o pgid= -p $$ | tr -d ' ' >"$WORK/section.pgid"
	"section_$2"
	exit
fi

for s in $SECTIONS; do
	case " $ALL_SECTIONS " in *" $s "*) ;; *) die "no section $s (have: $ALL_SECTIONS)" ;; esac
done

WORK=$(mktemp -d /tmp/triage-bench.XXXXXX)
export WORK
child=
cleanup() {
	# A section runs in a session of its own: end it with everything it
	# started (benchmarks, hyperfine, rig holders), then what it left.
	if [ -n "$child" ]; then
		pg=$(cat "$WORK/section.pgid" 2>/dev/null || true)
		[ -z "$pg" ] || kill -TERM -- "-$pg" 2>/dev/null || true
		wait "$child" 2>/dev/null || true
	fi
	rig_down
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
mkdir -p "$WORK/bin" "$WORK/raw" "$WORK/md" "$WORK/tmp"
# Go's temporary directories (b.TempDir, builds) land here too, so that
# nothing outlives the run.
export TMPDIR="$WORK/tmp"

for t in go ss du df grep hyperfine ip awk unshare; do have "$t" || die "needs $t"; done
[ "$(id -u)" = 0 ] || say "not root: the sockstat section will fail"
say "sections: $SECTIONS; $ROUNDS rounds; work in $WORK"
BENCHSTAT=
if (cd "$WORK" && GOBIN="$WORK/bin" go install golang.org/x/perf/cmd/benchstat@latest) >&2; then
	BENCHSTAT="$WORK/bin/benchstat"
else
	say "benchstat could not be installed; the summaries are left out"
fi
export BENCHSTAT

start=$SECONDS
failed=
for s in $SECTIONS; do
	say "== $s"
	rm -f "$WORK/section.pgid"
	setsid -w bash "$SELF" __section "$s" &
	child=$!
	rc=0
	wait "$child" || rc=$?
	child=
	rig_down
	if [ "$rc" != 0 ]; then
		say "$s failed (status $rc)"
		failed="$failed $s"
		# Figures of an earlier run stay, under their own date; a section
		# never measured says that it failed.
		if [ -n "$OUT" ] && block "$s" "$OUT" >/dev/null; then
			rm -f "$WORK/md/$s.md"
		else
			title=$(sed -n 2p "$WORK/md/$s.md" 2>/dev/null || echo "## $s")
			printf '<!-- begin %s -->\n%s\n\nThe last run of this section failed (%s); rerun it with SECTIONS=%s.\n\n<!-- end %s -->\n' \
				"$s" "$title" "$(date -u '+%Y-%m-%d %H:%M UTC')" "$s" "$s" >"$WORK/md/$s.md"
		fi
	fi
done

assemble "${OUT:-/nonexistent}" >"$WORK/BENCHMARKS.md"
if [ -n "$OUT" ]; then
	cp "$WORK/BENCHMARKS.md" "$OUT"
	say "wrote $OUT"
fi
cat "$WORK/BENCHMARKS.md"
say "done in $(((SECONDS - start) / 60))m$(((SECONDS - start) % 60))s${failed:+; failed:$failed}"
[ -z "$failed" ]
