"""--format / --dpi / --style of `isacnet run`, `reproduce` and `map`: every format written,
provenance in the file metadata (not in the plot), bad values one line with exit status 2."""

from __future__ import annotations

import re
import struct
import zlib

import pytest

from isacnet.cli import run_cli

CFG = """[figure]
id = "tiny"
model = "meng-sensing"
title = "tiny sweep"
[params]
[sweep]
dim = "n_bs"
parameters = ["n_bs"]
values = [4, 8]
[monte_carlo]
n_layouts = 64
seed = 5
"""


def _png_info(data: bytes) -> tuple[int, int, dict[str, str]]:
    """(width, height, text chunks) of a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, text, size = 8, {}, (0, 0)
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + n]
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"tEXt":
            k, _, v = body.partition(b"\0")
            text[k.decode("latin-1")] = v.decode("latin-1")
        elif kind == b"zTXt":
            k, _, v = body.partition(b"\0")
            text[k.decode("latin-1")] = zlib.decompress(v[1:]).decode("latin-1")
        elif kind == b"iTXt":
            k, _, rest = body.partition(b"\0")
            flag, rest = rest[0], rest[2:]
            _, _, rest = rest.partition(b"\0")
            _, _, v = rest.partition(b"\0")
            text[k.decode("latin-1")] = (zlib.decompress(v) if flag else v).decode("utf-8")
        pos += 12 + n
    return size[0], size[1], text


@pytest.fixture(scope="module")
def three_formats(tmp_path_factory):
    base = tmp_path_factory.mktemp("fmt")
    cfg = base / "tiny.toml"
    cfg.write_text(CFG)
    out = base / "out"
    rc = run_cli(
        [
            "run",
            str(cfg),
            "--workers",
            "1",
            "--no-progress",
            "--out",
            str(out),
            "--format",
            "png,pdf,svg",
            "--dpi",
            "100",
        ]
    )
    assert rc == 0
    return out


def test_each_format_is_written(three_formats):
    out = three_formats
    assert (out / "tiny.png").read_bytes()[:4] == b"\x89PNG"
    assert (out / "tiny.pdf").read_bytes()[:5] == b"%PDF-"
    assert b"<svg" in (out / "tiny.svg").read_bytes()[:2000]
    index = (out / "index.html").read_text()
    assert 'src="tiny.png"' in index and 'href="tiny.pdf"' in index and 'href="tiny.svg"' in index


def test_png_dpi_and_provenance_in_metadata(three_formats):
    w, h, text = _png_info((three_formats / "tiny.png").read_bytes())
    assert w == 640  # 6.4 in x --dpi 100
    assert text["Software"].startswith("isacnet ")
    assert "tiny: seed 5, 64 layouts per point" in text["Source"]
    assert 'id = "tiny"' in text["Comment"]  # the effective config, to run it again


def test_pdf_and_svg_carry_provenance(three_formats):
    pdf = (three_formats / "tiny.pdf").read_bytes()
    assert b"/Creator (isacnet" in pdf and b"seed 5" in pdf
    assert not re.search(rb"/Subtype\s*/Type3", pdf)  # TrueType fonts: journals refuse Type 3
    assert re.search(rb"/Subtype\s*/(TrueType|CIDFontType2)", pdf)
    svg = (three_formats / "tiny.svg").read_text()
    assert "<dc:title>tiny sweep</dc:title>" in svg and "isacnet" in svg


def test_provenance_is_not_drawn():
    """The plot shows the science; the seed and version live in the metadata."""
    import xarray as xr

    from isacnet.plotting import figure, plot_dataset

    ds = xr.Dataset(
        {"y": ("x", [1.0, 2.0])},
        coords={"x": [1, 2]},
        attrs={
            "figure_id": "t",
            "seed": 3,
            "isacnet_version": "9",
            "title": "T",
            "plotted": "y",
            "sweep_dim": "x",
            "model": "custom",
        },
    )
    fig, ax = plot_dataset(ds)
    texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    assert not any("seed" in t or "isacnet 9" in t for t in texts)
    assert fig.isacnet_provenance["Software"] == "isacnet 9"
    fig2, axes = figure([ds, ds])
    assert isinstance(axes, list) and len(axes) == 2 and fig2 is axes[0].figure


@pytest.mark.parametrize(
    ("opts", "needle"),
    [
        (["--format", "png,jpg"], "--format = 'png,jpg' is invalid: must be a comma list of png, pdf, svg (not 'jpg')"),
        (["--format", ""], "--format"),
        (["--dpi", "10"], "--dpi = 10"),
        (["--style", "no-such-style"], "--style = 'no-such-style'"),
    ],
)
def test_bad_figure_option_is_one_line_exit_2(tmp_path, capsys, opts, needle):
    cfg = tmp_path / "tiny.toml"
    cfg.write_text(CFG)
    assert run_cli(["run", str(cfg), "--out", str(tmp_path / "o"), *opts]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1
    assert not (tmp_path / "o").exists()  # refused before any work


def test_style_file_is_accepted(tmp_path):
    from isacnet.cli._figopts import check_formats, check_style

    f = tmp_path / "my.mplstyle"
    f.write_text("axes.grid: True\n")
    assert check_style(str(f)) == str(f) and check_style("ggplot") == "ggplot" and check_style(None) is None
    assert check_formats("PDF, png,pdf") == ("pdf", "png")


def test_map_writes_each_format(tmp_path, capsys):
    out = tmp_path / "m"
    assert (
        run_cli(
            [
                "map",
                "--process",
                "hexagonal",
                "--resolution",
                "24",
                "--out",
                str(out),
                "--format",
                "pdf,svg",
                "--dpi",
                "80",
            ]
        )
        == 0
    )
    assert (out / "map-crlb.pdf").read_bytes()[:5] == b"%PDF-" and (out / "map-crlb.svg").exists()
    assert not (out / "map-crlb.png").exists()
    assert b"/Creator (isacnet" in (out / "map-crlb.pdf").read_bytes()
