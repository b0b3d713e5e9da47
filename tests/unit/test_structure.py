"""Structure that the rest of faircard relies on: one Assessment shape, partitions carrying their
features, session keys in one module, and a core that never imports streamlit."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faircard import assess
from faircard.card import build_card
from faircard.findings import findings
from faircard.uncertainty import BY_GROUP_COLUMNS, DISPARITY_COLUMNS, estimate_uncertainty

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "faircard"


def _table(n: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "y": rng.integers(0, 2, n),
        "score": rng.random(n),
        "sex": rng.choice(["f", "m"], n),
        "race": rng.choice(["a", "b", "c"], n),
    })


# ---------------------------------------------------------------- one Assessment shape

def test_by_group_has_interval_columns_without_bootstrap():
    a = assess(_table(), target="y", score="score", sensitive=["sex", "race"], n_boot=0)
    for col in BY_GROUP_COLUMNS:
        assert col in a.by_group.columns, col
    for col in DISPARITY_COLUMNS:
        assert col in a.disparities.columns, col
    # not computed without replicates: NaN, never absent and never 0
    assert a.by_group["boot_low"].isna().all() and a.by_group["boot_high"].isna().all()
    assert a.disparities["difference_ci_low"].isna().all()
    # Wilson intervals need no replicates
    rates = a.by_group[a.by_group["metric"] == "selection_rate"]
    assert rates["ci_low"].notna().all()
    assert a.uncertainty["n_boot"] == 0


def test_same_columns_with_and_without_bootstrap():
    data = _table()
    a0 = assess(data, target="y", score="score", sensitive="sex", n_boot=0)
    a1 = assess(data, target="y", score="score", sensitive="sex", n_boot=30)
    assert list(a0.by_group.columns) == list(a1.by_group.columns)
    assert list(a0.disparities.columns) == list(a1.disparities.columns)
    assert a1.by_group.loc[a1.by_group["metric"] == "accuracy", "boot_low"].notna().all()
    # the JSON document has one shape too
    k0 = set(a0.to_dict()["by_group"][0])
    k1 = set(a1.to_dict()["by_group"][0])
    assert k0 == k1


def test_estimate_uncertainty_returns_and_does_not_mutate():
    a = assess(_table(), target="y", score="score", sensitive="sex", n_boot=0)
    bg, disp = a.by_group.copy(), a.disparities.copy()
    out = estimate_uncertainty(a.cube, a.spec, a.counts, a.by_group, a.disparities,
                               n_boot=40, confidence=0.9, random_state=1)
    pd.testing.assert_frame_equal(a.by_group, bg)
    pd.testing.assert_frame_equal(a.disparities, disp)
    assert list(out.by_group.columns) == list(BY_GROUP_COLUMNS)
    assert out.by_group.index.equals(a.by_group.index)
    assert list(out.disparities.columns) == list(DISPARITY_COLUMNS)
    assert out.summary["n_boot"] == 40 and out.summary["confidence"] == 0.9
    # the same numbers assess would attach with those settings
    b = assess(_table(), target="y", score="score", sensitive="sex", n_boot=40,
               confidence=0.9, random_state=1)
    np.testing.assert_allclose(out.by_group["boot_low"], b.by_group["boot_low"])


# ---------------------------------------------------------------- partitions carry a tuple

def test_partition_features_are_tuples_even_with_ampersand_in_names():
    data = _table().rename(columns={"race": "race & ethnicity"})
    a = assess(data, target="y", score="score", sensitive=["sex", "race & ethnicity"],
               intersection=True, n_boot=0)
    assert a.partition_features == {
        "sex": ("sex",),
        "race & ethnicity": ("race & ethnicity",),
        "sex & race & ethnicity": ("sex", "race & ethnicity"),
    }
    assert a.single_features == ["sex", "race & ethnicity"]
    parts = a.cube.partitions(True)
    assert [p.features for p in parts] == list(a.partition_features.values())
    assert [p.name for p in parts] == a.features  # the display name is kept
    # a feature whose name contains " & " is still a single feature in the findings
    text = " ".join(findings(a))
    assert "race & ethnicity:" in text
    # the card hides a personal column and every partition crossing it, by the tuple
    card = build_card(a, personal_data=["race & ethnicity"], generated_at="t", versions={})
    shown = {r["feature"] for r in card.quantitative["by_group"]}
    assert shown == {"sex"}


def test_group_counts_refuse_a_joined_string():
    from faircard.counts import GroupCounts

    with pytest.raises(TypeError):
        GroupCounts("sex & race", ("a",), np.zeros((1, 4), dtype=np.int64))


# ---------------------------------------------------------------- streamlit stays in ui/

def _core_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages([str(SRC)], prefix="faircard."):
        if info.name == "faircard.ui" or info.name.startswith("faircard.ui."):
            continue
        names.append(info.name)
    return sorted(names)


def test_core_modules_do_not_import_streamlit_at_runtime():
    modules = _core_modules()
    assert "faircard.assess" in modules and "faircard.io.tables" in modules
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'streamlit')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin"},
                         timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_core_source_has_no_streamlit_import():
    offenders = []
    for path in SRC.rglob("*.py"):
        if "ui" in path.relative_to(SRC).parts[:1]:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Call) and getattr(node.func, "id", "") == "__import__":
                names = [a.value for a in node.args if isinstance(a, ast.Constant)]
            if any(str(n).split(".")[0] == "streamlit" for n in names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


# ---------------------------------------------------------------- session keys

def _app_sources() -> list[Path]:
    files = sorted((ROOT / "app_pages").glob("*.py")) + [ROOT / "app.py"]
    files += [p for p in (SRC / "ui").glob("*.py") if p.name != "state.py"]
    return [p for p in files if p.exists()]


def test_session_keys_are_not_string_literals_outside_state():
    """``st.session_state["..."]``, ``.get("...")``, ``.pop("...")`` and ``"fc_..."`` literals
    belong in ui/state.py; pages use its constants."""
    offenders = []
    for path in _app_sources():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and node.value.startswith("fc_"):
                offenders.append(f"{path.name}:{node.lineno} {node.value!r}")
            if isinstance(node, ast.Subscript) and _is_session_state(node.value) \
                    and isinstance(node.slice, ast.Constant):
                offenders.append(f"{path.name}:{node.lineno} [{node.slice.value!r}]")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr in ("get", "pop", "setdefault") \
                    and _is_session_state(node.func.value) and node.args \
                    and isinstance(node.args[0], ast.Constant):
                offenders.append(f"{path.name}:{node.lineno} .{node.func.attr}"
                                 f"({node.args[0].value!r})")
    assert offenders == []


def _is_session_state(node: ast.AST) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "session_state"


def test_state_keys_are_unique():
    from faircard.ui import state

    keys = {k: v for k, v in vars(state).items() if k.isupper() and isinstance(v, str)}
    assert len(set(keys.values())) == len(keys)
