# SPDX-License-Identifier: MIT
"""What an `xl save` image holds: the pages the save sent, read from the stream.

    python3 bench/save_image.py IMAGE      prints the summary

The layers, outermost first (Xen's docs/specs/libxl-migration-stream and
libxc-migration-stream describe the two inner ones):

    xl header         32-byte magic "Xen saved domain, xl format\\n \\0 \\r",
                      byte order, mandatory and optional flags, optional data
                      length (u32 each, little-endian here), then that much
                      optional data (the domain's config)
    libxl stream      "LibxlFmt", version 2, options (big-endian); records
                      (type u32, length u32, body padded to 8) up to the
                      LIBXC_CONTEXT record (type 1), after which the libxc
                      stream follows inline
    libxc stream      image header (marker ~0, "XENF", version 2 or 3,
                      options; big-endian), domain header (type u32, page
                      shift u16, reserved, Xen major and minor u32 each),
                      then records up to END (type 0)
    PAGE_DATA (1)     count, reserved, count pfns with the page's type in
                      bits 63-60 (Xen's XEN_DOMCTL_PFINFO_* >> 28), then one
                      page of data for each pfn whose type is not XTAB,
                      XALLOC or BROKEN; a pinned table has LPINTAB too

The PFINFO values are read from libxen-dev's xen/domctl.h, not copied here.
"""
import os
import re
import struct
import sys

XL_MAGIC = b"Xen saved domain, xl format\n \0 \r"
LIBXL_IDENT = b"LibxlFmt"
LIBXL_LIBXC_CONTEXT = 1
XENF = 0x58454E46
REC_END, REC_PAGE_DATA = 0, 1
DOMCTL_H = "/usr/include/xen/domctl.h"


class ImageError(Exception):
    pass


def pfinfo_types(path=DOMCTL_H):
    """{name: 4-bit type} of XEN_DOMCTL_PFINFO_{NOTAB,L1TAB..L4TAB,XTAB,XALLOC,BROKEN}."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise ImageError(f"{path}: {e.strerror} (libxen-dev is needed to read a save image)")
    shift = int(re.search(r"#define XEN_DOMCTL_PFINFO_LTAB_SHIFT (\d+)", text).group(1))
    types = {}
    for name in ("NOTAB", "L1TAB", "L2TAB", "L3TAB", "L4TAB", "LTABTYPE_MASK", "LPINTAB", "XTAB", "XALLOC",
                 "BROKEN"):
        m = re.search(rf"#define XEN_DOMCTL_PFINFO_{name}\s+\((0x[0-9a-fA-F]+)U<<(\d+)\)", text)
        if not m:
            raise ImageError(f"{path}: no XEN_DOMCTL_PFINFO_{name} of the form (0xNU<<S)")
        types[name] = (int(m.group(1), 16) << int(m.group(2))) >> shift
    return types


def _exact(f, n, what):
    b = f.read(n)
    if len(b) != n:
        raise ImageError(f"the image ends inside the {what}")
    return b


def _records(f, what):
    """(type, body) of each record, 8-byte aligned, until the caller stops."""
    while True:
        rtype, length = struct.unpack("<II", _exact(f, 8, f"{what} record header"))
        body = _exact(f, length, f"{what} record body")
        _exact(f, -length % 8, f"{what} record padding")
        yield rtype, body


def read(path):
    """A summary of the save image at path (a file or the raw scratch disk it was
    written to: whatever follows the libxc stream's END is not read)."""
    types = pfinfo_types()
    nodata = {types["XTAB"], types["XALLOC"], types["BROKEN"]}
    tables = {types[f"L{i}TAB"]: i for i in range(1, 5)}
    out = dict(pfns=0, pages=0, tables={1: 0, 2: 0, 3: 0, 4: 0}, pinned=0, page_records=0, records=0)
    with open(path, "rb") as f:
        if _exact(f, 32, "xl header") != XL_MAGIC:
            raise ImageError("not an xl save image (no xl magic)")
        order, _mand, _opt, optlen = struct.unpack("<IIII", _exact(f, 16, "xl header"))
        if order != 0x01020304:
            raise ImageError(f"xl header: byte order {order:#x}, want 0x01020304 (little-endian)")
        _exact(f, optlen, "xl header's optional data")
        ident, version, options = struct.unpack(">8sII", _exact(f, 16, "libxl header"))
        if ident != LIBXL_IDENT or version != 2 or options & 1:
            raise ImageError(f"libxl header: {ident!r} version {version} options {options:#x}")
        for rtype, _body in _records(f, "libxl"):
            if rtype == LIBXL_LIBXC_CONTEXT:
                break
        marker, xid, version, options = struct.unpack(">QIIH6x", _exact(f, 24, "libxc image header"))
        if marker != (1 << 64) - 1 or xid != XENF or version not in (2, 3) or options & 1:
            raise ImageError(f"libxc image header: marker {marker:#x} id {xid:#x} version {version}")
        dtype, shift, major, minor = struct.unpack("<IH2xII", _exact(f, 16, "libxc domain header"))
        if dtype != 1 or shift != 12:
            raise ImageError(f"libxc domain header: type {dtype} page shift {shift}: not an x86 PV image")
        out["xen"] = f"{major}.{minor}"
        for rtype, body in _records(f, "libxc"):
            out["records"] += 1
            if rtype == REC_END:
                break
            if rtype != REC_PAGE_DATA:
                continue
            count = struct.unpack_from("<I", body)[0]
            pfns = struct.unpack_from(f"<{count}Q", body, 8)
            data = sum(1 for p in pfns if (p >> 60) not in nodata)
            if len(body) != 8 + 8 * count + 4096 * data:
                raise ImageError(f"PAGE_DATA record of {count} pfns, {data} with data: "
                                 f"{len(body)} bytes, want {8 + 8 * count + 4096 * data}")
            out["page_records"] += 1
            out["pfns"] += count
            out["pages"] += data
            for p in pfns:
                if (p >> 60) in nodata:
                    continue
                level = tables.get((p >> 60) & types["LTABTYPE_MASK"])
                if level:
                    out["tables"][level] += 1
                    out["pinned"] += bool((p >> 60) & types["LPINTAB"])
        else:
            raise ImageError("no END record")
        out["bytes"] = f.tell()
    return out


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        print(__doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    try:
        r = read(argv[1])
    except (ImageError, OSError) as e:
        print(f"save_image: {argv[1]}: {e}", file=sys.stderr)
        return 1
    t = r["tables"]
    print(f"{os.path.basename(argv[1])}: saved by Xen {r['xen']}: {r['bytes']} bytes, {r['pfns']} pfns in "
          f"{r['page_records']} PAGE_DATA records, {r['pages']} pages with data, of which page tables "
          f"L1 {t[1]} L2 {t[2]} L3 {t[3]} L4 {t[4]} ({r['pinned']} pinned)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
