# SPDX-License-Identifier: MIT
"""A small hand-written SVG: two log-log panels against guest memory.

    plot(path, title, panels)
    panels: [{"title": str, "ylabel": str,
              "series": [{"name": str, "points": [(mib, y), ...], "style": "solid|dashed|dotted",
                          "color": "#rrggbb", "marker": "circle|square|none"}]}]
"""
import math

W, H = 420, 300                   # one panel
ML, MR, MT, MB = 62, 26, 34, 66   # margins (legend under the plot)


def _esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mem_label(mib):
    if mib >= 1024 * 1024:
        return f"{mib // (1024 * 1024)} TiB"
    if mib >= 1024:
        return f"{mib // 1024} GiB"
    return f"{mib} MiB"


def _num(v):
    if v >= 1000 and v == int(v):
        return f"{int(v):,}".replace(",", "\u202f")
    if v >= 1:
        return f"{v:g}"
    return f"{v:g}"


def _panel(p, x0):
    out = []
    pts = [pt for s in p["series"] for pt in s["points"] if pt[1] and pt[1] > 0]
    if not pts:
        return out
    xs = [math.log2(x) for x, _ in pts]
    ys = [math.log10(y) for _, y in pts]
    xmin, xmax = math.floor(min(xs)), math.ceil(max(xs))
    ymin, ymax = math.floor(min(ys)), math.ceil(max(ys))
    if xmax == xmin:
        xmax += 1
    if ymax == ymin:
        ymax += 1
    pw, ph = W - ML - MR, H - MT - MB

    def X(mib):
        return x0 + ML + (math.log2(mib) - xmin) / (xmax - xmin) * pw

    def Y(v):
        return MT + ph - (math.log10(v) - ymin) / (ymax - ymin) * ph

    out.append(f'<text x="{x0 + W / 2:.1f}" y="18" text-anchor="middle" font-weight="bold">'
               f'{_esc(p["title"])}</text>')
    out.append(f'<rect x="{x0 + ML}" y="{MT}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>')
    # x ticks: every power of 4 of MiB (256 MiB, 1 GiB, 4 GiB, ...), labels where they fit
    step = 2 if xmax - xmin > 6 else 1
    for e in range(xmin, xmax + 1, step):
        x = X(2 ** e)
        out.append(f'<line x1="{x:.1f}" y1="{MT}" x2="{x:.1f}" y2="{MT + ph}" stroke="#eee"/>')
        out.append(f'<text x="{x:.1f}" y="{MT + ph + 14}" text-anchor="middle" font-size="10">'
                   f'{_mem_label(2 ** e)}</text>')
    for e in range(ymin, ymax + 1):
        y = Y(10 ** e)
        out.append(f'<line x1="{x0 + ML}" y1="{y:.1f}" x2="{x0 + ML + pw}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{x0 + ML - 4}" y="{y + 3:.1f}" text-anchor="end" font-size="10">'
                   f'{_num(10.0 ** e)}</text>')
    out.append(f'<text x="{x0 + 12}" y="{MT + ph / 2:.1f}" text-anchor="middle" font-size="11" '
               f'transform="rotate(-90 {x0 + 12} {MT + ph / 2:.1f})">{_esc(p["ylabel"])}</text>')
    out.append(f'<text x="{x0 + ML + pw / 2:.1f}" y="{MT + ph + 28}" text-anchor="middle" '
               f'font-size="11">guest memory</text>')
    dash = {"solid": "", "dashed": ' stroke-dasharray="6 3"', "dotted": ' stroke-dasharray="2 3"'}
    ly = MT + ph + 44
    lx = x0 + ML
    for s in p["series"]:
        sp = sorted((x, y) for x, y in s["points"] if y and y > 0)
        if not sp:
            continue
        c = s.get("color", "#000")
        d = dash.get(s.get("style", "solid"), "")
        if len(sp) > 1:
            path = " ".join(f"{'M' if i == 0 else 'L'}{X(x):.1f},{Y(y):.1f}" for i, (x, y) in enumerate(sp))
            out.append(f'<path d="{path}" fill="none" stroke="{c}" stroke-width="1.6"{d}/>')
        for x, y in sp:
            if s.get("marker") == "circle":
                out.append(f'<circle cx="{X(x):.1f}" cy="{Y(y):.1f}" r="3.2" fill="{c}"/>')
            elif s.get("marker") == "square":
                out.append(f'<rect x="{X(x) - 3:.1f}" y="{Y(y) - 3:.1f}" width="6" height="6" fill="none" '
                           f'stroke="{c}" stroke-width="1.4"/>')
        # legend entry
        out.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 18}" y2="{ly}" stroke="{c}" stroke-width="1.6"{d}/>')
        out.append(f'<text x="{lx + 22}" y="{ly + 4}" font-size="10">{_esc(s["name"])}</text>')
        ly += 13
        if ly > H - 4:
            ly, lx = MT + ph + 44, lx + pw / 2
    return out


def plot(path, title, panels, note=""):
    width = W * len(panels)
    height = H + (16 if note else 0)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
             f'<!-- SPDX-License-Identifier: MIT -->',
             f'<title>{_esc(title)}</title>',
             f'<rect width="{width}" height="{height}" fill="#fff"/>']
    for i, p in enumerate(panels):
        parts += _panel(p, i * W)
    if note:
        parts.append(f'<text x="8" y="{height - 5}" font-size="10" fill="#555">{_esc(note)}</text>')
    parts.append("</svg>")
    with open(path + ".tmp", "w") as f:
        f.write("\n".join(parts) + "\n")
    import os
    os.replace(path + ".tmp", path)
