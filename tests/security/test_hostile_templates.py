"""Hostile and broken user templates (``faircard card --templates DIR``).

Templates run in Jinja's immutable sandbox, in a child process with CPU-time, memory and
wall-clock limits. Every payload below ends in exit 2 with one line (or, for values the
sandbox simply refuses to print, a card without them); none runs code, and none hangs or
exhausts the machine.
"""

from __future__ import annotations

import jinja2
import numpy as np
import pandas as pd
import pytest

import faircard.render_worker as worker
from faircard.card import build_card
from faircard.cli import main as cli_main
from faircard.render import render_markdown

SENTINEL = "faircard-template-ran-code"
ESCAPES = {
    "str subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "cycler globals os": "{{ cycler.__init__.__globals__.os.system('touch " + SENTINEL + "') }}",
    "joiner globals": "{{ joiner.__init__.__globals__ }}",
    "namespace globals": "{{ namespace.__init__.__globals__['os'] }}",
    "lipsum globals": "{{ lipsum.__globals__['os'].popen('touch " + SENTINEL + "') }}",
    "self init globals": "{{ self.__init__.__globals__.__builtins__.open('/etc/passwd').read() }}",
    "card class": "{{ card.__class__.__base__.__subclasses__() }}",
    "dict mro via attr filter": "{{ card | attr('__class__') | attr('__mro__') }}",
    "format string": "{{ '{0.__class__.__mro__}'.format(card) }}",
    "str.format_map": "{{ '{x.__class__}'.format_map({'x': card}) }}",
    "mutate the card": "{{ card.review.update({'status': 'approved'}) }}",
    "list append": "{% set xs = [] %}{{ xs.append(1) }}",
    "getattr func_globals": "{{ (questions.get).__self__.__class__ }}",
    "range too big": "{% for i in range(10**9) %}{% endfor %}",
    "repeat string": "{{ 'x' * 10**10 }}",
    "huge power": "{{ 9**999999999 }}",
    "include outside": "{% include '../../../../etc/passwd' %}",
    "include absolute": "{% include '/etc/passwd' %}",
}
BROKEN = {
    "syntax error": ("{% if %}", "syntax error on line 1"),
    "unclosed block": ("{% for x in card %}", "syntax error"),
    "missing include": ("{% include 'nowhere.j2' %}", "'nowhere.j2' was not found"),
    "missing extends": ("{% extends 'base_missing.j2' %}", "'base_missing.j2' was not found"),
    "undefined value": ("{{ card.no_such_section.name }}", "does not have"),
    "undefined macro": ("{{ nothing() }}", "does not have"),
    "division by zero": ("{{ 1 / 0 }}", "ZeroDivisionError"),
}
SLOW = {
    "nested loops": "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}"
                    "{% endfor %}",
    "doubling string": "{% set ns = namespace(s='x' * 1000) %}{% for i in range(40) %}"
                       "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
    "recursion": "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
}


@pytest.fixture(scope="module")
def data_file(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 200
    y = rng.integers(0, 2, n)
    frame = pd.DataFrame({"y": y, "score": np.clip(0.3 * y + rng.random(n) * 0.7, 0, 1),
                          "grp": np.array(["A", "B"])[np.arange(n) % 2]})
    path = tmp_path_factory.mktemp("data") / "d.csv"
    frame.to_csv(path, index=False)
    return path


def _run(tmp_path, data_file, template, capsys, monkeypatch, timeout=None, memory=None):
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    (folder / "model_card.md.j2").write_text(template, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    if timeout:
        monkeypatch.setattr(worker, "TIMEOUT_S", timeout)
    if memory:
        monkeypatch.setattr(worker, "MEMORY_MB", memory)
    rc = cli_main(["card", str(data_file), "--target", "y", "--score", "score", "--sensitive",
                   "grp", "--bootstrap", "0", "--formats", "md", "--templates", str(folder),
                   "--out", str(tmp_path / "out")])
    out, err = capsys.readouterr()
    assert not (tmp_path / SENTINEL).exists(), "the template ran code"
    return rc, out, err


@pytest.mark.parametrize("template", list(ESCAPES.values()), ids=list(ESCAPES))
def test_sandbox_escapes_are_refused(template, tmp_path, data_file, capsys, monkeypatch):
    rc, out, err = _run(tmp_path, data_file, template, capsys, monkeypatch, memory=1024)
    if rc == 0:  # the sandbox printed nothing dangerous: no Python internals in the card
        md = (tmp_path / "out" / "model_card.md").read_text(encoding="utf-8")
        for leak in ("<class", "<function", "<module", "root:", "__builtins__"):
            assert leak not in md, md[:300]
    else:
        assert rc == 2 and err.startswith("faircard: error: ") and err.count("\n") == 1, err
        assert "Traceback" not in err


@pytest.mark.parametrize("template, says", list(BROKEN.values()), ids=list(BROKEN))
def test_broken_templates_end_in_one_line(template, says, tmp_path, data_file, capsys,
                                          monkeypatch):
    rc, out, err = _run(tmp_path, data_file, template, capsys, monkeypatch)
    assert rc == 2, (out, err)
    assert err.startswith("faircard: error: ") and err.count("\n") == 1, err
    assert says in err, err


@pytest.mark.parametrize("template", list(SLOW.values()), ids=list(SLOW))
def test_runaway_templates_are_stopped(template, tmp_path, data_file, capsys, monkeypatch):
    rc, out, err = _run(tmp_path, data_file, template, capsys, monkeypatch, timeout=8,
                        memory=768)
    assert rc == 2, (out, err)
    assert err.startswith("faircard: error: ") and err.count("\n") == 1, err
    assert any(w in err for w in ("did not finish", "out of memory", "nested too deeply",
                                  "crashed")), err


def test_template_folder_that_does_not_exist(tmp_path, data_file, capsys):
    rc = cli_main(["card", str(data_file), "--target", "y", "--score", "score", "--sensitive",
                   "grp", "--formats", "md", "--templates", str(tmp_path / "nope"), "--out",
                   str(tmp_path / "out")])
    assert rc == 2 and "does not exist" in capsys.readouterr().err


def test_user_template_renders_the_card_in_the_sandbox(tmp_path):
    """A benign user template gets the same context and filters as faircard's own."""
    (tmp_path / "model_card.md.j2").write_text(
        "{% import '_macros.j2' as m %}# {{ name | md }}\n{% for r in card.quantitative.by_group %}"
        "{{ r.group | md }}={{ r['values'].selection_rate | num }};{% endfor %}\n",
        encoding="utf-8")
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"y": rng.integers(0, 2, 100), "grp": ["A", "B#"] * 50})
    frame["p"] = frame["y"]
    import faircard

    card = build_card(faircard.assess(frame, target="y", prediction="p", sensitive="grp",
                                      n_boot=0))
    md = render_markdown(card, tmp_path)
    rates = {r["group"]: r["values"]["selection_rate"] for r in card.to_dict()["quantitative"]
             ["by_group"]}
    assert md.startswith("# Unnamed model\n")
    assert f"A={rates['A']:.3f};" in md and f"B#={rates['B#']:.3f};" in md


def test_sandbox_limits_hold_in_process_too():
    """faircard's own templates render in-process in the same sandbox."""
    from faircard.render import environment

    env = environment()
    for source in ("{{ ''.__class__ }}", "{{ 'x' * 10**9 }}", "{{ 2**100000000 }}",
                   "{{ card.update({'a': 1}) }}"):
        with pytest.raises(jinja2.TemplateError):  # SecurityError or UndefinedError
            env.from_string(source).render(card={})
