#!/bin/sh
# SPDX-License-Identifier: MIT
#
# xl-run.sh - run one PV test domU with the real toolstack and judge it the
# way Xen's xtf-runner does.  For a real Xen host's dom0 (POSIX sh, xl,
# xenconsoled running as usual); the rig's dom0 runs it too (busybox).
#
#   xl-run.sh [-t SECONDS] [-n NAME] [-q] CONFIG [KEY=VALUE ...]
#
# KEY=VALUE pairs override the config, as with `xl create`
# (e.g. memory=512 'extra="x=1"' ramdisk=/path).  The domain is created
# paused, its PV console attached, then unpaused, so no output is lost; at
# the end the console output goes to stdout (-q: left out), then one line
#   xl-run: VERDICT reason (create S s, create->result S s)
# and the exit code:
#   0 SUCCESS  3 SKIP  4 ERROR  5 FAILURE  6 CRASH
# ERROR also when `xl create` refuses the config (xl's messages are shown);
# CRASH when the domain dies without a `Test result:` line, stays silent for
# SECONDS (default 120; then it is destroyed), or crashes after SUCCESS/SKIP.
# The domain is always destroyed at the end.
set -u

timeout_s=120
name=
quiet=0
while [ $# -gt 0 ]; do
    case $1 in
    -t) timeout_s=$2; shift 2 ;;
    -n) name=$2; shift 2 ;;
    -q) quiet=1; shift ;;
    -h|--help) sed -n '3,20p' "$0"; exit 0 ;;
    -*) echo "xl-run: unknown option $1" >&2; exit 4 ;;
    *) break ;;
    esac
done
[ $# -ge 1 ] || { echo "usage: xl-run.sh [-t SECONDS] [-n NAME] [-q] CONFIG [KEY=VALUE ...]" >&2; exit 4; }
cfg=$1; shift
XL=${XL:-xl}
[ -n "$name" ] || name="xl-run-$$"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xl-run.XXXXXX") || exit 4
cpid=
cleanup() {
    [ -n "$cpid" ] && kill "$cpid" 2>/dev/null
    exec 3>&-
    $XL destroy "$name" >/dev/null 2>&1
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 4' INT TERM HUP

now() { read -r u _ < /proc/uptime 2>/dev/null && echo "$u" || date +%s; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
verdict() {  # $1 verdict, $2 reason
    case $1 in SUCCESS) rc=0 ;; SKIP) rc=3 ;; ERROR) rc=4 ;; FAILURE) rc=5 ;; *) rc=6 ;; esac
    if [ $quiet -eq 0 ] && [ -s "$tmp/console" ]; then
        tr -d '\r' < "$tmp/console"
        [ -z "$(tail -c 1 "$tmp/console")" ] || echo     # end an unterminated last line
    fi
    timing="create $(secs "$t0" "${t1:-$t0}")s"
    [ -n "${t2:-}" ] && timing="$timing, create->result $(secs "$t0" "$t2")s"
    echo "xl-run: $1${2:+ $2} ($timing)"
    exit $rc
}

t0=$(now)
$XL create -p "$cfg" "name=\"$name\"" "$@" > "$tmp/create" 2>&1
xlrc=$?
if [ $xlrc -ne 0 ]; then
    t1=$(now)
    cat "$tmp/create" >&2
    why=$(grep -E '(^|: )error' "$tmp/create" | grep -v -E 'Non-existant domain|Unable to destroy|Destruction of domain' | head -n 2 | awk 'NR > 1 { printf " | " } { printf "%s", $0 }')
    [ -n "$why" ] || why=$(tail -n 1 "$tmp/create")
    verdict ERROR "xl create failed (exit $xlrc): ${why:-no output}"
fi
t1=$(now)

# The console reader's stdin must stay open (xenconsole quits on EOF).
mkfifo "$tmp/in"
start_console() {
    $XL console -t pv "$name" < "$tmp/in" > "$tmp/console" 2>&1 &
    cpid=$!
}
# Attached once xenconsole holds the console's pty open.  Without /proc it
# has only given up waiting for the pty after its 5 s: alive at 6 s, it is in.
attached() {
    if [ -d "/proc/$cpid/fd" ]; then
        ls -l "/proc/$cpid/fd" 2>/dev/null | grep -q -e '/dev/pts/' -e '/dev/ptmx'
    else
        [ "$1" -ge 30 ]
    fi
}
# xenconsole waits only 5 s for xenconsoled to publish the pty in xenstore;
# on a loaded host that can take longer (seen under QEMU: "Could not read
# tty from store").  The domain is still paused, so retry for up to 60 s
# and unpause only once attached: no output is lost.
start_console
exec 3> "$tmp/in"
waited=0
until attached $waited; do
    if ! kill -0 "$cpid" 2>/dev/null; then
        grep -q 'Could not read tty' "$tmp/console" 2>/dev/null && [ $waited -lt 300 ] ||
            verdict ERROR "xl console failed: $(tr -d '\r' < "$tmp/console" | tail -n 1)"
        start_console
    fi
    waited=$((waited + 1))
    [ $waited -le 300 ] || verdict ERROR "xl console did not attach within 60s"
    sleep 0.2
done
$XL unpause "$name" || verdict ERROR "xl unpause failed"

xllog=/var/log/xen/xl-$name.log
reason_code() { sed -n 's/.*has shut down, reason code \([0-9]*\).*/\1/p' "$xllog" 2>/dev/null | head -n 1; }
result=
ticks=0
limit=$((timeout_s * 5))
while :; do
    result=$(grep -o 'Test result: [A-Z]*.*' "$tmp/console" 2>/dev/null | head -n 1 | tr -d '\r')
    [ -n "$result" ] && { t2=$(now); break; }
    if ! kill -0 "$cpid" 2>/dev/null; then   # the console ended: the domain is gone
        sleep 0.3
        result=$(grep -o 'Test result: [A-Z]*.*' "$tmp/console" 2>/dev/null | head -n 1 | tr -d '\r')
        [ -n "$result" ] && { t2=$(now); break; }
        code=$(reason_code)
        verdict CRASH "domain ended (shutdown code ${code:-?}) with no result line"
    fi
    ticks=$((ticks + 1))
    [ $ticks -lt $limit ] || verdict CRASH "no result line within ${timeout_s}s; destroyed"
    sleep 0.2
done

# Give the domain 5 s to shut down by itself; a crash now still counts.
i=0
while [ $i -lt 25 ] && $XL domid "$name" >/dev/null 2>&1 && [ -z "$(reason_code)" ]; do
    i=$((i + 1))
    sleep 0.2
done
code=$(reason_code)
sleep 0.3                                   # the last console bytes
set -- $result
word=$3
shift 3
detail=$*
case $word in
SUCCESS|SKIP)
    case $code in 3|4) verdict CRASH "crashed (shutdown code $code) after '$result'" ;; esac
    verdict "$word" "$detail" ;;
FAILURE|ERROR) verdict "$word" "$detail" ;;
*) verdict CRASH "unreadable result line: $result" ;;
esac
