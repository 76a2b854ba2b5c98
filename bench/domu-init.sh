#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The benchmark dom0's init (rdinit=/bench/init): first the rig's own toolstack
# bring-up, which is rig/domu/init.sh up to its case loop (the rig's /init in
# this initramfs, cut at its "# ---- cases" line), then timed `xl create` runs.
#
# The rig's case loop polls for a result only after `xl create` has returned,
# and xenconsoled stamps guest lines to the second. Here `xl create` runs in
# the background while this loop watches the guest's console log every 10 ms
# with shell builtins only (no fork steals the one CPU from the guest):
#   first   the log has a line besides xenconsoled's "Logfile Opened"
#   result  a "Test result:" line
#   init    Linux's "Run /init as init process" (it counts as the result)
# Times are dom0 uptime (/proc/uptime, 10 ms), taken just before `xl create`.
#
#   /bench/cases/list        case ids in order
#   /bench/cases/ID/cfg      xl config
#   /bench/cases/ID/env      NAME= END=first|result|init LIMIT=<s> LINGER=<s after the end>
#                            MARKER=<the line that ends the case, for END=result;
#                            default "Test result:">
#                            OPS="migrate save restore": the toolstack's operations, in
#                            order, once the case has ended (xl create returned): the
#                            image goes to /dev/rd/scratchID; BACK=<a line the guest
#                            prints once restored, waited for up to LIMIT s among the
#                            lines printed since the restore started>
#
# Prints (parsed by bench/domu.py):
#   @@BENCH case-begin ID name=NAME up=S
#   @@BXL ID| ...                        xl's output
#   @@BGUEST ID| ...                     the guest's console log
#   @@BENCH op ID OP rc=N start=S end=S  each operation, dom0 uptimes around its xl
#   @@BENCH back ID up=S|-               the guest printed BACK after the restore
#   @@BENCH case-end ID status=S rc=N create=S created=S first=S result=S
#   @@BENCH all-done

/bin/busybox mkdir -p /tmp
/bin/busybox sed -n '1,/^# -* cases$/p' /init > /tmp/rig-setup.sh
. /tmp/rig-setup.sh                     # defines up, say, fail, BIN; ends with dom0-ready

bsay() { echo "@@BENCH $*"; }
mkfifo /tmp/tick
nap() { read -t "$1" _ <> /tmp/tick; }  # a sleep without a fork

has_output() {                          # $1 = log: a guest line besides "Logfile Opened"
    [ -f "$1" ] || return 1
    a=; l=
    { read -r a; read -r l; } < "$1"
    case $a in
        *"Logfile Opened") [ -n "$l" ] ;;   # xenconsoled --timestamp writes this first
        *) [ -n "$a" ] ;;
    esac
}

running() {                             # $1 = pid: alive and not a zombie (no fork)
    [ -r "/proc/$1/stat" ] || return 1
    read -r _ _ st _ < "/proc/$1/stat"
    [ "$st" != Z ]
}

has_result() {                          # $1 = log, $2 = the line that ends the case
    while read -r l; do
        case $l in *"$2"*) return 0 ;; esac
    done < "$1"
    return 1
}

# The toolstack's operations on the waiting guest (OPS), each xl timed from dom0.
# A failed operation ends the list: the next would only fail for its sake.
run_ops() {
    for op in $OPS; do
        case $op in
            migrate) set -- migrate -s '' "$dom" "$BIN/xl migrate-receive" ;;
            save)    set -- save "$dom" "/dev/rd/scratch$id" ;;
            restore) set -- restore "/dev/rd/scratch$id" ;;
            *)       echo "bench: unknown operation $op" > "/tmp/op-$id.log"; set -- ;;
        esac
        n0=$(wc -l < "$log" 2>/dev/null || echo 0)   # BACK counts only once printed after this
        t0=$(up)
        if [ $# -gt 0 ]; then
            timeout -s KILL 600 $BIN/xl "$@" > "/tmp/op-$id.log" 2>&1
            r=$?
        else
            r=2
        fi
        t1=$(up)
        sed "s/^/@@BXL $id| /" "/tmp/op-$id.log"
        bsay "op $id $op rc=$r start=$t0 end=$t1"
        if [ "$op" = restore ] && [ -n "$BACK" ] && [ "$r" = 0 ]; then
            i=0; t_back=-
            while [ $i -lt $((LIMIT * 10)) ]; do
                tail -n "+$((n0 + 1))" "$log" | grep -qF "$BACK" && { t_back=$(up); break; }
                i=$((i + 1))
                nap 0.1
            done
            bsay "back $id up=$t_back"
        fi
        # A migration that failed before it suspended leaves the guest as it was.
        [ "$r" = 0 ] || [ "$op" = migrate ] || break
    done
}

run_case() {
    id=$1
    NAME=case; END=result; LIMIT=30; LINGER=0; MARKER=; OPS=; BACK=
    . "/bench/cases/$id/env"
    marker=${MARKER:-Test result:}
    [ "$END" = init ] && marker="Run /init as init process"
    dom="bench-$id"
    log="/var/log/xen/console/guest-$dom.log"
    rm -f "$log"
    bsay "case-begin $id name=$NAME up=$(up)"
    t_create=$(up)
    $BIN/xl create "/bench/cases/$id/cfg" > "/tmp/xl-$id.log" 2>&1 &
    xl=$!
    t_created=-; t_first=-; t_result=-; rc=-; status=timeout
    ticks=0
    limit=$((LIMIT * 100))
    while [ $ticks -lt $limit ]; do
        if [ "$t_first" = - ] && has_output "$log"; then t_first=$(up); fi
        if [ "$t_first" != - ] && [ "$t_result" = - ] && has_result "$log" "$marker"; then t_result=$(up); fi
        if [ "$t_created" = - ] && ! running $xl; then
            wait $xl
            rc=$?
            t_created=$(up)
        fi
        if [ "$END" = first ] && [ "$t_first" != - ]; then status=first; break; fi
        if [ "$END" != first ] && [ "$t_result" != - ]; then status=result; break; fi
        if [ "$t_created" != - ] && [ "$rc" != 0 ]; then status=xl-failed; break; fi
        ticks=$((ticks + 1))
        nap 0.01
    done
    if [ "$t_created" = - ]; then
        wait $xl
        rc=$?
        t_created=$(up)
    fi
    [ "$LINGER" != 0 ] && sleep "$LINGER"
    [ -n "$OPS" ] && [ "$status" = result ] && [ "$rc" = 0 ] && run_ops "$id"
    domid=                              # the one domain besides dom0, if still there
    for d in $(xenstore-list /local/domain 2>/dev/null); do [ "$d" != 0 ] && domid=$d; done
    $BIN/xl destroy "$dom" > /dev/null 2>&1
    # Wait for the domain to go away before the next case (rig-notes #11).
    i=0
    while [ -n "$domid" ] && [ "$domid" != 0 ] && xenstore-exists "/local/domain/$domid" 2>/dev/null \
          && [ $i -lt 40 ]; do
        [ $((i % 10)) -eq 9 ] && $BIN/xl destroy "$dom" > /dev/null 2>&1
        i=$((i + 1))
        sleep 0.25
    done
    sed "s/^/@@BXL $id| /" "/tmp/xl-$id.log"
    [ -f "$log" ] && sed "s/^/@@BGUEST $id| /" "$log"
    echo                                # the log may end without a newline (GRUB's prompt)
    bsay "case-end $id status=$status rc=$rc create=$t_create created=$t_created first=$t_first result=$t_result"
}

while read -r id; do
    [ -n "$id" ] && run_case "$id" < /dev/null
done < /bench/cases/list
bsay "all-done up=$(up)"
sync
poweroff -f
sleep 10
