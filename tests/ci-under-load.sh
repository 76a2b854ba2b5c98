#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tests/ci-under-load.sh: CI as it runs on a shared machine.  Clones the
# committed HEAD into a fresh directory (with ../shared beside it, as CI
# lays it out), keeps one core busy with a bounded busy loop, and runs
# `bash .ci/run` there with CI=true and no stdin.  It passes when .ci/run
# does; the last lines give its verdict and the wall time.
#
#   tests/ci-under-load.sh                 # from a clean clone: downloads included
#   tests/ci-under-load.sh --reuse-cache   # link this checkout's cache/ (Xen, dom0 packages)
#   tests/ci-under-load.sh --keep          # keep the clone (its path is printed)
#
# The load: one `sh` busy loop, ended by `timeout` after LOAD_SECONDS (default
# 5400, CI's own limit) or when .ci/run ends, whichever is first.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
reuse=0 keep=0
for a in "$@"; do
    case $a in
    --reuse-cache) reuse=1 ;;
    --keep) keep=1 ;;
    -h | --help) sed -n '3,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "ci-under-load: unknown argument '$a' (see --help)" >&2; exit 2 ;;
    esac
done
command -v git >/dev/null || { echo "ci-under-load: git is needed" >&2; exit 2; }
[ -d "$here/../shared" ] || { echo "ci-under-load: no ../shared beside $here (CI has one)" >&2; exit 2; }

work=$(mktemp -d /tmp/ci-under-load.XXXXXX)
loader=
cleanup() {
    [ -n "$loader" ] && kill "$loader" 2>/dev/null || true
    if [ "$keep" = 1 ]; then echo "ci-under-load: kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

git clone -q "$here" "$work/main"
cp -r "$here/../shared" "$work/shared"
chmod -R a-w "$work/shared"
if [ "$reuse" = 1 ] && [ -d "$here/cache" ]; then
    ln -s "$here/cache" "$work/main/cache"
fi
echo "ci-under-load: clone of $(git -C "$here" rev-parse --short HEAD) in $work/main$([ "$reuse" = 1 ] && echo ', cache reused')"

timeout "${LOAD_SECONDS:-5400}" sh -c 'while :; do :; done' &
loader=$!
echo "ci-under-load: one core kept busy (pid $loader); $(nproc) cores"

t0=$(date +%s)
set +e
(cd "$work/main" && CI=true bash .ci/run </dev/null) 2>&1 | tee "$work/ci.log"
rc=${PIPESTATUS[0]}
set -e
t1=$(date +%s)
kill "$loader" 2>/dev/null || true
loader=
echo "ci-under-load: .ci/run exited $rc after $((t1 - t0)) s wall with one core busy"
exit "$rc"
