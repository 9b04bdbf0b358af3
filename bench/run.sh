#!/usr/bin/env bash
# berth's own figures for the foundation issue, measured back to back in one run:
#   a. `berth run --rm --network none busybox true` vs bare `runc run` of an equivalent bundle
#   b. `berth exec <running> true` vs `runc exec`
#   c. `berth ps -a` with 50 containers
#   d. idle daemon RSS, shim RSS per idle container
#   e. 50 concurrent `berth run -d`: wall time until all are running
# Prints a markdown table of figures and ratios. Needs hyperfine, runc, busybox-static.
# Uses a private daemon (own socket, data root, exec root) and cleans up after itself.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-30}
CONC=${CONC:-50}
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/berth-target}"
for t in hyperfine bc; do command -v $t >/dev/null || apt-get install -y -qq $t >/dev/null; done
cargo build --release -q -p berth
BERTH_BIN="$CARGO_TARGET_DIR/release/berth"
W=$(mktemp -d /tmp/berth-bench.XXXXXX)
SOCK="unix://$W/berth.sock"
B() { "$BERTH_BIN" -H "$SOCK" "$@"; }
DAEMON_PID=""
cleanup() {
  set +e
  ids=$(B ps -aq 2>/dev/null); [ -n "$ids" ] && B rm -f $ids >/dev/null 2>&1
  runc --root "$W/runc" delete -f bench-runc >/dev/null 2>&1
  runc --root "$W/runc" delete -f bench-exec >/dev/null 2>&1
  [ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" && wait "$DAEMON_PID" 2>/dev/null
  # Shims (and their containers) left behind if the daemon could not remove them.
  for p in $(pgrep -f "shim --id .* --bundle $W/" || true); do pkill -9 -P "$p"; kill -9 "$p"; done
  grep " $W" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l
  rm -rf "$W"
}
trap cleanup EXIT
"$BERTH_BIN" daemon -H "$SOCK" --data-root "$W/data" --exec-root "$W/exec" >"$W/daemon.log" 2>&1 &
DAEMON_PID=$!
for _ in $(seq 100); do [ -S "$W/berth.sock" ] && break; sleep 0.05; done
scripts/busybox-rootfs.sh "$W/busybox.tar"
B import "$W/busybox.tar" busybox:latest >/dev/null

# Bare runc bundle with the same rootfs and the same kind of spec.
mkdir -p "$W/bundle/rootfs" "$W/runc"
tar -C "$W/bundle/rootfs" -xf "$W/busybox.tar"
(cd "$W/bundle" && runc spec && jq '.process.terminal=false | .process.args=["true"] | .linux.cgroupsPath="/berth-bench/runc"' config.json > c.json && mv c.json config.json)

declare -A FIG
json() { jq -r '.results[0].mean*1000' "$1"; }
hyperfine -N -w 3 -r "$RUNS" --export-json "$W/a1.json" "$BERTH_BIN -H $SOCK run --rm --network none busybox true" >/dev/null
hyperfine -N -w 3 -r "$RUNS" --export-json "$W/a2.json" "runc --root $W/runc run -b $W/bundle bench-runc" >/dev/null
FIG[a_berth]=$(json "$W/a1.json"); FIG[a_runc]=$(json "$W/a2.json")
# `runc spec` bundles have no seccomp profile; berth loads docker's default one. The same
# run without it shows what the filter's compilation costs (libseccomp, in the init).
hyperfine -N -w 3 -r "$RUNS" --export-json "$W/a3.json" "$BERTH_BIN -H $SOCK run --rm --network none --security-opt seccomp=unconfined busybox true" >/dev/null
FIG[a_berth_noseccomp]=$(json "$W/a3.json")

CID=$(B run -d busybox sleep 100000)
(cd "$W/bundle" && jq '.process.args=["sleep","100000"] | .linux.cgroupsPath="/berth-bench/exec"' config.json > c.json && mv c.json config.json)
runc --root "$W/runc" run -d -b "$W/bundle" bench-exec >/dev/null 2>&1 </dev/null
hyperfine -N -w 3 -r "$RUNS" --export-json "$W/b1.json" "$BERTH_BIN -H $SOCK exec $CID true" >/dev/null
hyperfine -N -w 3 -r "$RUNS" --export-json "$W/b2.json" "runc --root $W/runc exec bench-exec true" >/dev/null
FIG[b_berth]=$(json "$W/b1.json"); FIG[b_runc]=$(json "$W/b2.json")

# d. idle RSS: daemon, and shims of IDLE_N idle containers.
IDLE_N=10
for _ in $(seq $IDLE_N); do B run -d busybox sleep 100000 >/dev/null; done
sleep 1
FIG[d_daemon_kib]=$(awk '/VmRSS/{print $2}' /proc/$DAEMON_PID/status)
shims=$(pgrep -f "$BERTH_BIN shim" || true)
tot=0; n=0; for p in $shims; do r=$(awk '/VmRSS/{print $2}' /proc/$p/status 2>/dev/null || echo 0); tot=$((tot+r)); n=$((n+1)); done
FIG[d_shim_kib]=$(( n > 0 ? tot / n : 0 ))
tot=0; for p in $shims; do r=$(awk '/^Pss:/{s+=$2} END{print s+0}' /proc/$p/smaps 2>/dev/null || echo 0); tot=$((tot+r)); done
FIG[d_shim_pss_kib]=$(( n > 0 ? tot / n : 0 ))

# e. CONC concurrent run -d.
start=$(date +%s.%N)
fails=0
pids=()
for i in $(seq "$CONC"); do (timeout 30 "$BERTH_BIN" -H "$SOCK" run -d busybox sleep 100000 >/dev/null 2>>"$W/conc.err" || echo "run -d $i failed: $?" >>"$W/conc.err") & pids+=($!); done
# Only these: a bare `wait` would also wait for the daemon.
wait "${pids[@]}"
[ -s "$W/conc.err" ] && { echo "concurrent run -d errors:"; cat "$W/conc.err"; } >&2
end=$(date +%s.%N)
FIG[e_conc_s]=$(echo "$end - $start" | bc -l)

# c. ps -a with >= 50 containers present.
hyperfine -N -w 3 -r "$RUNS" --export-json "$W/c1.json" "$BERTH_BIN -H $SOCK ps -a" >/dev/null
FIG[c_ps_ms]=$(json "$W/c1.json")
count=$(B ps -aq | wc -l)

printf '| figure | berth | reference | ratio | goal |\n|---|---|---|---|---|\n'
printf '| run --rm --network none true | %.1f ms | runc run %.1f ms | %.2f | <= 1.0 |\n' "${FIG[a_berth]}" "${FIG[a_runc]}" "$(echo "${FIG[a_berth]}/${FIG[a_runc]}" | bc -l)"
printf '| same, --security-opt seccomp=unconfined | %.1f ms | runc run %.1f ms | %.2f | (like for like) |\n' "${FIG[a_berth_noseccomp]}" "${FIG[a_runc]}" "$(echo "${FIG[a_berth_noseccomp]}/${FIG[a_runc]}" | bc -l)"
printf '| exec true | %.1f ms | runc exec %.1f ms | %.2f | <= 0.7 |\n' "${FIG[b_berth]}" "${FIG[b_runc]}" "$(echo "${FIG[b_berth]}/${FIG[b_runc]}" | bc -l)"
printf '| ps -a (%d containers) | %.1f ms | | | <= 10 ms |\n' "$count" "${FIG[c_ps_ms]}"
printf '| idle daemon RSS | %.1f MiB | | | <= 15 MiB |\n' "$(echo "${FIG[d_daemon_kib]}/1024" | bc -l)"
printf '| shim RSS / PSS per idle container | %.2f / %.2f MiB | | | <= 1 MiB |\n' "$(echo "${FIG[d_shim_kib]}/1024" | bc -l)" "$(echo "${FIG[d_shim_pss_kib]}/1024" | bc -l)"
printf '| %d concurrent run -d | %.2f s | | | <= 1.5 s |\n' "$CONC" "${FIG[e_conc_s]}"
