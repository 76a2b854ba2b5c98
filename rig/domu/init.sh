#!/bin/sh
# SPDX-License-Identifier: MIT
#
# /init of the rig's dom0 (built by rig/domu/build_dom0.py, busybox + Debian's
# xen-utils).  Brings up the toolstack, then runs the domU cases that
# rig/domu/run.py put under /cases (a second cpio archive appended to this
# initramfs), one after the other, and powers off.
#
#   /cases/list        case ids, one a line, in order
#   /cases/ID/cfg      the xl config (kernel/ramdisk paths inside this dom0)
#   /cases/ID/env      NAME=... TIMEOUT=<s for a result> XL_TIMEOUT=<s for xl create>
#                      [RUNNER=xl-run: run the case with rig/domu/xl-run.sh instead]
#                      [OPS="save-restore ...": the toolstack's operations on the running
#                       guest (a `lifecycle` shim), each once the guest waits for a
#                       request, then `xl shutdown`; OP_TIMEOUT=<s for each>]
#   /cases/files/...   small files (domU kernels, small ramdisks)
#   /dev/rd/SERIAL     -> /dev/vdX: the virtio disk QEMU got with serial=SERIAL
#                      (big ramdisks: never files in this tmpfs, rig-notes #10)
#
# Everything run.py parses is a line starting with "@@", printed to the
# console (hvc0 = Xen's console = QEMU's serial):
#   @@RIG dom0-ready up=S                      toolstack up (S: dom0 uptime)
#   @@RIG case-begin ID domid=N|- up=S
#   @@XL ID| ...                               `xl -vvv create` output
#   @@RIG xl-create ID rc=N domid=N|- up=S
#   @@RIG xl-late ID rc=N domid=N              xl failed after unpausing the domain, which exists
#   @@RIG result ID up=S                       the guest's result line appeared
#   @@GUEST ID| ...                            the guest's console (xenconsoled log)
#   @@RIG case-end ID status=S shutdown=R|- up-create=S up-created=S up-result=S|-
#       status: result (a Test result line), gone (domain ended without one),
#       timeout (no result within TIMEOUT s), xl-failed, xl-timeout
#       shutdown: the domain's shutdown reason code (0 poweroff, 3 crash, ...)
#       or - (still running when looked at, then destroyed)
#   @@XLRUN ID| ...                            xl-run.sh's output (RUNNER=xl-run)
#   @@RIG op-begin ID OP round=N up=S          an operation (OPS) starts
#   @@XL ID| ...                               its xl commands and their output
#   @@RIG op-end ID OP rc=N up=S               ... and ends (rc: the first failing xl's)
#   @@RIG op-wait ID round=N ok|timeout up=S   the guest waits for request N+1 (or not)
#   @@INSPECT ID| ...                          shim-inspect's look at the waiting guest
#   @@RIG all-done up=S
# Any failure of the bring-up prints "@@RIG dom0-error WHAT" and powers off.

export PATH=/sbin:/bin:/usr/sbin:/usr/bin
/bin/busybox --install -s /bin

up() { read -r u _ < /proc/uptime; echo "$u"; }
say() { echo "@@RIG $*"; }
fail() {
    say "dom0-error $*"
    sync
    poweroff -f
    sleep 10
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev || fail "mount devtmpfs"
mkdir -p /dev/pts /dev/shm /dev/rd /run/xenstored /var/run/xen /var/log/xen/console \
    /var/lib/xen /var/lib/xenstored /var/lock
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts || fail "mount devpts"
mount -t tmpfs tmpfs /dev/shm
echo 4 > /proc/sys/kernel/printk          # keep the kernel quiet on the serial
xen=; kernel=
# shellcheck disable=SC1091
[ -f /etc/rig-dom0 ] && . /etc/rig-dom0      # xen=4.17 kernel=... (build_dom0.py)
say "dom0-init up=$(up) xen=$xen kernel=$kernel"

# Modules in dependency order (rig-notes #9); built-ins were left out at build time.
while read -r m; do
    [ -n "$m" ] || continue
    insmod "/lib/modules/$m.ko" 2>/tmp/insmod.err || {
        grep -q "File exists" /tmp/insmod.err || fail "insmod $m: $(cat /tmp/insmod.err)"
    }
done < /etc/modules.order

mount -t xenfs xenfs /proc/xen || fail "mount xenfs"
grep -q control_d /proc/xen/capabilities 2>/dev/null || fail "not the control domain"

# The ramdisk disks, by the serial run.py gave them.
for b in /sys/block/vd*; do
    [ -e "$b" ] || continue
    s=$(cat "$b/serial" 2>/dev/null)
    [ -n "$s" ] && ln -sf "/dev/${b##*/}" "/dev/rd/$s"
done

BIN=/usr/lib/xen-$xen/bin
$BIN/xenstored --pid-file /run/xenstored.pid || fail "xenstored exited with $?"
i=0
until xenstore-ls / >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "xenstored does not answer"
    sleep 0.1
done
$BIN/xen-init-dom0 > /tmp/init-dom0.log 2>&1 || { cat /tmp/init-dom0.log; fail "xen-init-dom0"; }
# Guest console lines get a "[date time] " prefix (run.py strips it); keep,
# not discard, what overflows xenconsoled's buffer.
$BIN/xenconsoled --pid-file=/run/xenconsoled.pid --log=guest --log-dir=/var/log/xen/console \
    --timestamp=guest --overflow-data=keep || fail "xenconsoled exited with $?"
say "dom0-ready up=$(up) disks=$(ls /dev/rd | tr '\n' ' ')"

# ---------------------------------------------------------------- cases
#
# Cheap polling only (xl list costs a quarter of a second of this TCG CPU):
# the console log for the result, and xl's own log for the domain's end.
# `xl create` leaves a child that waits for the domain and writes
# "Domain N has shut down, reason code R" to /var/log/xen/xl-NAME.log
# (R: 0 poweroff, 1 reboot, 2 suspend, 3 crash, 4 watchdog, 5 soft_reset);
# on_crash is "destroy", so a crashed domain goes away too.

shutdown_reason() {   # $1 = xl log: the reason code, empty while the domain runs
    # Of the current domid (a restore or migration makes a new one, logged to the same
    # file); a suspend (2) is the operations' business (run_ops), not an end.
    sed -n "s/.*Domain ${domid:-[0-9]*} has shut down, reason code \([0-9]*\).*/\1/p" "$1" \
        2>/dev/null | { if [ -n "$OPS" ]; then grep -v '^2$'; else cat; fi; } | head -n 1
}

# xl's log says the domain was unpaused: the unpause's ao completed with rc=0.
unpaused() {          # $1 = xl -vvv output
    awk '/libxl_domain_unpause: Domain [0-9]+:ao 0x[0-9a-f]+: create/ {
             for (i = 1; i <= NF; i++) if ($i ~ /^0x[0-9a-f]+:$/) ao = $i
         }
         ao != "" && index($0, "ao " ao " complete, rc=0") { ok = 1 }
         END { exit !ok }' "$1"
}

# The shutdown reason from the domain's state flags (r b p s c d), for when xl's
# monitoring daemon, which logs the reason, never ran: crashed is 3, shut down is 0.
state_reason() {      # $1 = domid
    $BIN/xl list "$1" 2>/dev/null | awk 'NR == 2 {
        st = $5
        if (substr(st, 5, 1) == "c") print 3; else if (substr(st, 4, 1) == "s") print 0 }'
}

# The current case's shutdown reason, empty while it runs. xl's monitoring daemon logs
# it; when xl failed late ($late), the daemon may never have run: the state flags say it.
reason_now() {
    r=$(shutdown_reason "$xllog")
    [ -n "$r" ] || [ -z "$late" ] || r=$(state_reason "$domid")
    echo "$r"
}

dom_exists() {        # $1 = domid
    [ -n "$1" ] && xenstore-exists "/local/domain/$1" 2>/dev/null
}

# ------------------------------------------------------- lifecycle operations
#
# The guest prints "lifecycle: waiting for control/shutdown (round N done" each time it
# is ready for a request.  A restored domain keeps its name, so xenconsoled appends to
# the same log; a migrated one is created as NAME--incoming and logs there.

guest_waits() {       # $1 = round: wait until the current log says so (or the guest is gone)
    i=0
    while [ $i -lt $((OP_TIMEOUT * 5)) ]; do
        grep -q "lifecycle: waiting for control/shutdown (round $1 done" "$log" 2>/dev/null && return 0
        grep -q "Test result:" "$log" 2>/dev/null && return 1
        [ $((i % 10)) -eq 9 ] && ! dom_exists "$domid" && return 1
        i=$((i + 1))
        sleep 0.2
    done
    return 1
}

xl_op() {             # xl with its output tagged; sets op_rc to the first failure
    echo "$ $*" | sed "s/^/@@XL $id| /"
    t0=$(up)
    timeout -s KILL "$OP_TIMEOUT" $BIN/xl "$@" > "/tmp/op-$id.log" 2>&1
    r=$?
    t1=$(up)
    tr -d '\000-\010\013-\037\177' < "/tmp/op-$id.log" | sed "s/^/@@XL $id| /"
    echo "@@XL $id| (exit $r, $(awk "BEGIN { printf \"%.2f\", $t1 - $t0 }")s)"
    [ "$op_rc" -ne 0 ] || op_rc=$r
    return $r
}

inspect_guest() {     # $1 = round: dom0's inspector on the waiting guest (inspect.c)
    timeout -s KILL 120 shim-inspect "$domid" "$1" > "/tmp/inspect-$id.log" 2>&1
    r=$?
    tr -d '\000-\010\013-\037\177' < "/tmp/inspect-$id.log" | sed "s/^/@@INSPECT $id| /"
    echo "@@INSPECT $id| (exit $r)"
}

# Seen under load with 4.20: `xl restore` restored and unpaused the domain (the guest
# went on and answered), then did not exit, like 4.20's `xl create` now and then
# (rig/domu/README.md).  If the restored domain exists and runs, the operation stands,
# with a note for the host (op-late); the guest's own round line still decides.
restore_late() {
    d=$($BIN/xl domid "$dom" 2>/dev/null) || return 1
    st=$($BIN/xl list "$d" 2>/dev/null | awk 'NR == 2 { print $5 }')
    case $st in r*|?b*) ;; *) return 1 ;; esac
    say "op-late $id restore rc=$op_rc domid=$d state=$st"
    op_rc=0
}

use_log() {           # $1 = the log the guest writes to from now on
    log=$1
    case " $logs " in *" $1 "*) ;; *) logs="$logs $1" ;; esac
}

run_ops() {
    n=0
    # The save image goes to the scratch disk run.py gives a boot with operations.
    img=/dev/rd/scratch
    [ -e "$img" ] || img=/tmp/save-$id.img
    for op in $OPS; do
        if ! guest_waits $n; then
            say "op-wait $id round=$n timeout up=$(up)"
            return
        fi
        say "op-wait $id round=$n ok up=$(up)"
        inspect_guest $n
        n=$((n + 1))
        say "op-begin $id $op round=$n up=$(up)"
        op_rc=0
        case $op in
        save-restore)
            xl_op save "$dom" "$img" && { xl_op restore "$img" || restore_late; } ;;
        save-c)
            xl_op save -c "$dom" "$img" ;;
        save-enospc)
            # A save that fails after the suspend: the image does not fit the 16 MiB disk.
            # xl must fail with ENOSPC and resume the guest (rc 1); anything else fails the op.
            if xl_op save "$dom" /dev/rd/small; then
                op_rc=1
            elif grep -q "No space left on device" "/tmp/op-$id.log"; then
                op_rc=0
            fi ;;
        migrate)
            xl_op migrate -s '' "$dom" "$BIN/xl migrate-receive" &&
                use_log "/var/log/xen/console/guest-$dom--incoming.log" ;;
        migrate-debug)
            xl_op migrate --debug -s '' "$dom" "$BIN/xl migrate-receive" &&
                use_log "/var/log/xen/console/guest-$dom--incoming.log" ;;
        suspend-resume)
            # xl suspend and resume exit 0 whatever libxl did: the domain's state says.
            xl_op suspend "$dom" && {
                st=$($BIN/xl list "$dom" 2>/dev/null | awk 'NR == 2 { print $5 }')
                echo "@@XL $id| (state after suspend: ${st:-none})"
                case $st in ???s*) ;; *) op_rc=1 ;; esac
            } && [ "$op_rc" -eq 0 ] && xl_op resume "$dom" ;;
        *)
            echo "@@XL $id| rig: unknown operation $op"
            op_rc=2 ;;
        esac
        say "op-end $id $op rc=$op_rc up=$(up)"
        d=$($BIN/xl domid "$dom" 2>/dev/null) && domid=$d
        [ "$op_rc" -eq 0 ] || break
    done
    [ "$img" = /dev/rd/scratch ] || rm -f "$img"
    # Whatever happened, the guest (if it is still there) is asked to end.  After a
    # failed operation it may not have suspended at all (it waits in round n-1), or it
    # may be resuming from round n: either way the poweroff waits in xenstore until
    # it reads control/shutdown again.
    if dom_exists "$domid"; then
        [ "$op_rc" -eq 0 ] || n=$((n - 1))
        if guest_waits $n; then
            say "op-wait $id round=$n ok up=$(up)"
            inspect_guest $n
        fi
        op_rc=0
        xl_op shutdown "$dom"
    fi
}

dump_guest() {        # $1 = id, $2 = log: control characters out, bounded, newline-terminated
    n=$(wc -l < "$2")
    if [ "$n" -gt 4000 ]; then
        { head -n 2000 "$2"; echo "[rig: $((n - 4000)) lines left out]"; tail -n 2000 "$2"; }
    else
        cat "$2"
    fi | tr -d '\000-\010\013-\037\177' | sed "s/^/@@GUEST $1| /"
    echo
}

run_case() {
    id=$1
    NAME=case; TIMEOUT=60; XL_TIMEOUT=120; OPS=; OP_TIMEOUT=300
    # shellcheck disable=SC1090
    [ -f "/cases/$id/env" ] && . "/cases/$id/env"
    dom="rig-$id"
    log="/var/log/xen/console/guest-$dom.log"
    xllog="/var/log/xen/xl-$dom.log"
    rm -f "$log" "$xllog" "/var/log/xen/console/guest-$dom--incoming.log"
    logs=$log
    t_create=$(up)
    say "case-begin $id name=$NAME up=$t_create"
    if [ "${RUNNER:-}" = xl-run ]; then
        # The real-host runner (rig/domu/xl-run.sh) instead of the loop below.
        XL=$BIN/xl xl-run -t "$TIMEOUT" -n "$dom" "/cases/$id/cfg" > "/tmp/xl-run-$id.log" 2>&1
        rc=$?
        tr -d '\000-\010\013-\037\177' < "/tmp/xl-run-$id.log" | sed "s/^/@@XLRUN $id| /"
        echo
        t_end=$(up)
        say "case-end $id status=xl-run rc=$rc up-create=$t_create up-created=- up-result=$t_end"
        return
    fi
    timeout -s KILL "$XL_TIMEOUT" $BIN/xl -vvv create "/cases/$id/cfg" "name=\"$dom\"" \
        > "/tmp/xl-$id.log" 2>&1
    rc=$?
    t_created=$(up)
    sed "s/^/@@XL $id| /" "/tmp/xl-$id.log"
    # The domid from xl's own words (the domain may be gone already).
    domid=$(sed -n 's/.*: Domain \([0-9][0-9]*\):.*/\1/p' "/tmp/xl-$id.log" | head -n 1)
    say "xl-create $id rc=$rc domid=${domid:--} up=$t_created"
    status=
    reason=-
    t_result=-
    late=
    if [ $rc -ne 0 ] && [ $rc -ne 137 ] && [ -n "$domid" ] && unpaused "/tmp/xl-$id.log" &&
       dom_exists "$domid"; then
        # xl failed after it had built and unpaused the domain: Xen accepted the guest,
        # and what broke is xl's own exit or its monitoring daemon (seen with Xen 4.20's
        # xl: a segfault at exit; "domain monitoring daemonizing child ... died due to
        # fatal signal Aborted"). The guest is judged as usual and the case says what xl did.
        late=1
        say "xl-late $id rc=$rc domid=$domid"
    elif [ $rc -ne 0 ]; then
        [ $rc -eq 137 ] && status=xl-timeout || status=xl-failed
    fi
    [ -z "$status" ] && [ -n "$OPS" ] && run_ops
    if [ -z "$status" ]; then
        ticks=0
        limit=$((TIMEOUT * 5))
        while :; do
            if [ -f "$log" ] && grep -q "Test result:" "$log"; then
                t_result=$(up)
                status=result
                say "result $id up=$t_result"
                break
            fi
            reason=$(reason_now)
            if [ -n "$reason" ] || { [ $((ticks % 10)) -eq 9 ] && ! dom_exists "$domid"; }; then
                sleep 0.5           # let xenconsoled write the last of the ring
                if grep -q "Test result:" "$log" 2>/dev/null; then
                    t_result=$(up)
                    status=result
                    say "result $id up=$t_result late"
                else
                    status=gone
                fi
                break
            fi
            ticks=$((ticks + 1))
            [ $ticks -lt $limit ] || { status=timeout; break; }
            sleep 0.2
        done
        if [ $status = result ]; then
            # Give it 5 s to shut down by itself: a crash now still counts.
            i=0
            while [ $i -lt 25 ]; do
                reason=$(reason_now)
                [ -n "$reason" ] && break
                i=$((i + 1))
                sleep 0.2
            done
        fi
        [ -n "$reason" ] || reason=$(reason_now)
        [ -n "$reason" ] || reason=-
    fi
    $BIN/xl destroy "$dom" > /dev/null 2>&1
    # Wait for the domain to go away (rig-notes #11), then dump its console.
    i=0
    while dom_exists "$domid" && [ $i -lt 40 ]; do
        [ $((i % 10)) -eq 9 ] && $BIN/xl destroy "$dom" > /dev/null 2>&1
        i=$((i + 1))
        sleep 0.25
    done
    dom_exists "$domid" && say "domain-stuck $id domid=$domid"
    for l in $logs; do
        [ -f "$l" ] && dump_guest "$id" "$l"
    done
    say "case-end $id status=$status shutdown=$reason up-create=$t_create up-created=$t_created up-result=$t_result"
}

if [ -f /cases/list ]; then
    while read -r id; do
        [ -n "$id" ] && run_case "$id" < /dev/null
    done < /cases/list
else
    say "no-cases"
fi
say "all-done up=$(up)"
sync
poweroff -f
sleep 10
