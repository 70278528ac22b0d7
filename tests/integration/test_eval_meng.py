"""`isacnet eval meng`: Meng's closed forms at one point, equal to the API's; skipped forms named."""

from __future__ import annotations

import math
import re

import pytest

from isacnet import meng
from isacnet.cli import run_cli
from isacnet.params import MengParams


def _value(out: str, label: str) -> float:
    m = re.search(rf"^\s*{re.escape(label)}\s*= ([-+0-9.e]+)", out, re.M)
    assert m, f"{label!r} not in:\n{out}"
    return float(m.group(1))


def test_eval_meng_equals_the_api(capsys):
    args = ["eval", "meng", "-N", "8", "-L", "3", "--set", "alpha=3.5", "--threshold-db", "5"]
    assert run_cli(args) == 0
    out = capsys.readouterr().out
    p = MengParams(alpha=3.5)
    pairs = {
        "kappa_s (acceptance, NB law)": meng.kappa_s(p.resource_blocks, p.mu_s, 8),
        "CRLB (13) approximation": meng.crlb_eq13(8, p),
        "CRLB Theorem 1 (14), corrected": meng.crlb_theorem1(8, p, "corrected"),
        "CRLB isotropic, exact (M-6)": meng.crlb_isotropic(8, p),
        "CRLB_a (16) mean-field, kappa_s": meng.crlb_a(8, p),
        "kappa_c (acceptance, NB law)": meng.kappa_c(p.resource_blocks, p.mu_c, 3),
        "R_c Theorem 2, re-derived": meng.rate(3, p),
        "coverage P(SINR > 5 dB)": meng.coverage(10**0.5, 3, p),
    }
    for label, want in pairs.items():
        assert _value(out, label) == pytest.approx(float(want), rel=1e-5), label
    # bits in brackets: nats / ln 2
    m = re.search(r"re-derived\s*= ([0-9.e+-]+) nats/s/Hz \(([0-9.e+-]+) bits/s/Hz\)", out)
    assert m and float(m.group(2)) == pytest.approx(float(m.group(1)) / math.log(2), rel=1e-5)


def test_eval_meng_skips_theorem1_off_beta_2(capsys):
    """beta = 3: Theorem 1 does not apply (its ln^2 N law needs beta = 2); the rest is computed."""
    assert run_cli(["eval", "meng", "--set", "beta=3", "-N", "3"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"Theorem 1 \(14\), corrected\s*= skipped: beta = 3", out)
    assert _value(out, "CRLB (13) approximation") == pytest.approx(float(meng.crlb_eq13(3, MengParams(beta=3.0))))
    assert "E[tr F^-1] over PPP layouts: infinite (N <= 3)" in out


def test_eval_meng_monte_carlo_brackets_the_rate(capsys):
    assert run_cli(["eval", "meng", "-L", "2", "-N", "6", "--mc", "3000", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    m = re.search(r"MC R_c = \S+ nats/s/Hz \(95% CI \[([0-9.e+-]+), ([0-9.e+-]+)\]", out)
    assert m
    lo, hi = float(m.group(1)), float(m.group(2))
    cf = float(meng.rate(2, MengParams()))
    half = (hi - lo) / 2
    assert lo - 2 * half < cf < hi + 2 * half  # Theorem 2 within ~4 standard errors of the MC
    assert "MC geometric mean" in out and "MC P(cannot localise)" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-N", "0"], "-N/--n-bs"),
        (["-L", "0"], "-L/--n-comm"),
        (["--set", "bet=3"], "did you mean 'beta'"),
        (["--set", "alpha=1.5"], "alpha"),
    ],
)
def test_eval_meng_bad_input_is_one_line(capsys, args, needle):
    assert run_cli(["eval", "meng", *args]) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1


def test_eval_lists_both_models(capsys):
    from click.testing import CliRunner

    from isacnet.cli import main

    res = CliRunner().invoke(main, ["eval", "--help"])
    assert res.exit_code == 0 and "meng" in res.output and "song" in res.output


def test_help_texts_are_not_truncated():
    """Top-level and `eval` help list every command with its whole one-line description."""
    from click.testing import CliRunner

    from isacnet.cli import main

    for args in ([], ["eval"]):
        res = CliRunner().invoke(main, [*args, "--help"], terminal_width=60)
        assert res.exit_code == 0
        commands = res.output.split("Commands:")[1]
        assert "..." not in commands, commands
    res = CliRunner().invoke(main, ["--help"])
    for name in ("eval", "list", "map", "optimize", "reproduce", "run"):
        assert f"  {name} " in res.output


def test_list_is_aligned_under_its_header():
    from click.testing import CliRunner

    from isacnet.cli import main

    lines = CliRunner().invoke(main, ["list"]).output.splitlines()
    assert lines[0].split() == ["FIGURE", "GROUP", "TITLE"]
    col_group, col_title = lines[0].index("GROUP"), lines[0].index("TITLE")
    for line in lines[1:]:
        assert line[col_group - 2 : col_group] == "  " and line[col_group] != " "
        assert line[col_title - 2 : col_title] == "  " and line[col_title] != " "
