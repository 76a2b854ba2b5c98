# SPDX-License-Identifier: MIT
"""`make check`: every host-side suite, no QEMU, one closing line `N passed, M failed`.

    tests/unit      the guest's pure code (start_info checks, console ring, XXH64, format, walkers)
    tests/model     Xen's PV MMU modelled, running the real mmu_pv.c / p2m.c
    image           libxenguest's own parser on the four builds (rig/domu/check_image.py)
    guest-parse     the shim's hand-off parser against libxenguest's on the same four
                    (rig/domu/check_guest_parse.py); bootpack: tools/bootpack.py's tests;
                    save-image: bench/save_image.py's reader of xl save images
    rig             the runners' own parsers and judges (rig/test_judge.py,
                    tests/e2e/test_runner.py, rig/domu/test_domu.py)

Each suite's output is shown indented; a suite that cannot run, crashes, or ends
without a count is one failure, never a skip.
"""
import os
import re
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COUNT = re.compile(r"^(\d+) passed, (\d+) failed$")
UNITTEST_RAN = re.compile(r"^Ran (\d+) tests? in ")
UNITTEST_FAILED = re.compile(r"^FAILED \((?:failures=(\d+))?(?:, )?(?:errors=(\d+))?")
IMAGES = [dict(MAPPED_RAMDISK=m, INIT_P2M=p) for m in (0, 1) for p in (0, 1)]


def run(cmd, timeout):
    try:
        p = subprocess.run(cmd, cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        return p.returncode, p.stdout.decode(errors="replace")
    except subprocess.TimeoutExpired as e:
        return None, (e.stdout or b"").decode(errors="replace") + f"\n(timed out after {timeout}s)"
    except OSError as e:
        return None, f"cannot run {cmd[0]}: {e}"


def count_lines(text):
    """The last 'N passed, M failed' line, or for unittest output its Ran/FAILED lines."""
    counted = None
    for line in text.splitlines():
        m = COUNT.match(line.strip())
        if m:
            counted = (int(m.group(1)), int(m.group(2)))
    if counted:
        return counted
    ran = [int(m.group(1)) for m in map(UNITTEST_RAN.match, text.splitlines()) if m]
    if ran:
        failed = 0
        for m in map(UNITTEST_FAILED.match, text.splitlines()):
            if m:
                failed = int(m.group(1) or 0) + int(m.group(2) or 0)
        return ran[-1] - failed, failed
    return None


def suite(name, cmd, timeout=300):
    t0 = time.monotonic()
    rc, text = run(cmd, timeout)
    for line in text.rstrip("\n").splitlines():
        print(f"  {line}")
    got = count_lines(text)
    if got is None:
        print(f"FAIL {name}: `{' '.join(cmd)}` gave no count (exit {rc})")
        return 0, 1
    passed, failed = got
    if rc != 0 and failed == 0:
        print(f"FAIL {name}: `{' '.join(cmd)}` exited {rc} although it counted no failure")
        failed = 1
    print(f"{name}: {passed} passed, {failed} failed ({time.monotonic() - t0:.1f}s)", flush=True)
    return passed, failed


def build_images():
    """The four builds the image check reads; a failed build is a failure of that suite."""
    for v in IMAGES:
        cmd = ["make", "-s", "--no-print-directory"] + [f"{k}={x}" for k, x in v.items()] + \
              ["KERNEL_IMAGE_SIZE=512M", "BUG="]
        rc, text = run(cmd, 300)
        if rc != 0:
            print(text)
            return False
    return True


def main():
    t0 = time.monotonic()
    passed = failed = 0
    suites = [
        ("unit", ["make", "--no-print-directory", "-C", "tests/unit", "run"]),
        ("model", ["make", "--no-print-directory", "-C", "tests/model", "run"]),
        ("rig-judge", [sys.executable, "rig/test_judge.py"]),
        ("e2e-judge", [sys.executable, "tests/e2e/test_runner.py"]),
        ("domu-runner", [sys.executable, "rig/domu/test_domu.py"]),
        ("bootpack", [sys.executable, "tests/tools/test_bootpack.py"]),
        ("save-image", [sys.executable, "tests/tools/test_save_image.py"]),
    ]
    for name, cmd in suites:
        print(f"== {name}: {' '.join(cmd)}", flush=True)
        p, f = suite(name, cmd)
        passed, failed = passed + p, failed + f

    print("== image: rig/domu/check_image.py --selftest (libxenguest's parser)", flush=True)
    if build_images():
        p, f = suite("image", [sys.executable, "rig/domu/check_image.py", "--selftest"])
        passed, failed = passed + p, failed + f
        print("== guest-parse: rig/domu/check_guest_parse.py --selftest (the shim's parser vs "
              "libxenguest's)", flush=True)
        p, f = suite("guest-parse", [sys.executable, "rig/domu/check_guest_parse.py", "--selftest"])
    else:
        print("FAIL image: building the four images failed")
        p, f = 0, 1
    passed, failed = passed + p, failed + f

    print(f"check: {time.monotonic() - t0:.1f}s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
