#!/usr/bin/env python3
"""PNG without Graphviz: which SVG rasteriser, measured side by side.

Draws the movie example's picture (after its default run) and a 500-job
graph as SVG in-process once, then turns that SVG into PNG with each
rasteriser installed here, and with ``dot -Tpng`` when Graphviz is on PATH:

* resvg: ``resvg-py``, what the ``pictures`` extra uses;
* cairosvg: needs the system's cairo library;
* skia: ``skia-python``'s SVG module.

For each it prints the median time, the PNG's size against the SVG's own
size at 96 dpi, and whether any text was drawn (the PNG differs from one
of the same SVG without its ``<text>`` elements). The rasterisers other
than resvg are not dependencies: install them into the venv to compare.

Usage: python benchmarks/bench_png.py [REPEATS]
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import struct
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from bench_svg import big_dot, median_time, movie_dot  # noqa: E402

import dojobber  # noqa: E402
from dojobber import render  # noqa: E402

_TEXT = re.compile(r"<text\b.*?</text>", re.S)


def with_resvg(svg: str) -> bytes:
    return render.svg_to_png(svg.encode("utf-8"))


def with_cairosvg(svg: str) -> bytes:
    import cairosvg  # type: ignore[import-not-found]

    return bytes(cairosvg.svg2png(bytestring=svg.encode("utf-8"), dpi=96))


def with_skia(svg: str) -> bytes:
    import skia  # type: ignore[import-not-found]

    dom = skia.SVGDOM.MakeFromStream(skia.MemoryStream(svg.encode("utf-8")))
    size = dom.containerSize()
    surface = skia.Surface(int(size.width()), int(size.height()))
    with surface as canvas:
        canvas.clear(skia.ColorWHITE)
        dom.render(canvas)
    return bytes(surface.makeImageSnapshot().encodeToData())


RASTERISERS: dict[str, tuple[str, Callable[[str], bytes]]] = {
    "resvg": ("resvg_py", with_resvg),
    "cairosvg": ("cairosvg", with_cairosvg),
    "skia": ("skia", with_skia),
}


def png_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def svg_size(svg: str) -> tuple[int, int]:
    found = re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg)
    assert found, "not a Graphviz SVG"
    return round(float(found[1]) * 4 / 3), round(float(found[2]) * 4 / 3)


def main() -> None:
    repeats = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    if not render.wasm_available("svg"):
        sys.exit("the in-process renderer is not installed: pip install 'dojobber[pictures]'")
    print(f"DoJobber {dojobber.__version__}, Python {sys.version.split()[0]}, "
          f"median of {repeats}")
    print(f"{'graph':<14}{'rasteriser':<12}{'time':>10}{'ratio':>8}  {'PNG size':<12}"
          f"{'SVG size':<12}text")
    for name, dot in (("movie (18)", movie_dot()), ("layered (501)", big_dot())):
        svg = render.in_process_svg(dot)
        textless = _TEXT.sub("", svg)
        rows: list[tuple[str, float, str, str]] = []
        if shutil.which("dot"):
            rows.append(("dot -Tpng", median_time(
                lambda dot=dot: render.render(dot, "png", renderer="graphviz"), repeats),
                "-", "-"))
        for label, (module, rasterise) in RASTERISERS.items():
            if importlib.util.find_spec(module) is None:
                print(f"{name:<14}{label:<12}{'not installed':>10}")
                continue
            seconds = median_time(lambda r=rasterise, s=svg: r(s), repeats)
            data = rasterise(svg)
            drew_text = "yes" if data != rasterise(textless) else "NO"
            size = "x".join(map(str, png_size(data)))
            rows.append((label, seconds, size, drew_text))
        base = next((s for label, s, *_ in rows if label == "resvg"), rows[0][1])
        wanted = "x".join(map(str, svg_size(svg)))
        for label, seconds, size, drew_text in rows:
            print(f"{name:<14}{label:<12}{seconds * 1000:>8.1f}ms{seconds / base:>8.2f}  "
                  f"{size:<12}{wanted:<12}{drew_text}")


if __name__ == "__main__":
    main()
