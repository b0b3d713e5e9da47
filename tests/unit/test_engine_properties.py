"""Property tests of the counts engine on arbitrary small inputs (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import confusion_matrix

import faircard

rows = st.lists(
    st.tuples(
        st.booleans(),
        st.booleans(),
        st.sampled_from(["a", "b", "c|d", "<b>x</b>", "한국", None]),
        st.sampled_from([1, 2, 3]),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=60, deadline=None)
@given(rows)
def test_counts_match_sklearn_confusion_matrix_per_group(data):
    df = pd.DataFrame(data, columns=["y", "p", "g", "h"])
    df["y"] = df["y"].astype(int)
    df["p"] = df["p"].astype(int)
    a = faircard.assess(df, target="y", prediction="p", sensitive=["g", "h"], pos_label=1,
                        min_group_size=0, n_boot=20)
    counts = a.counts_frame()
    # every partition covers every row exactly once
    for _feature, part in counts.groupby("feature"):
        assert part["n"].sum() == len(df)
    g = df["g"].fillna("(missing)")
    for _, r in counts[counts["feature"] == "g"].iterrows():
        m = (g == r["group"]).to_numpy()
        cm = confusion_matrix(df["y"][m], df["p"][m], labels=[0, 1])
        assert (r["tn"], r["fp"], r["fn"], r["tp"]) == tuple(int(x) for x in cm.ravel())
    # the intersection's cells add up to each single feature's groups
    inter = counts[counts["feature"] == "g & h"].copy()
    inter["g"] = inter["group"].str.rsplit(" & ", n=1).str[0]
    summed = inter.groupby("g")[["tp", "fp", "tn", "fn"]].sum()
    single = counts[counts["feature"] == "g"].set_index("group")[["tp", "fp", "tn", "fn"]]
    pd.testing.assert_frame_equal(summed.sort_index(), single.sort_index(), check_names=False)


@settings(max_examples=30, deadline=None)
@given(rows, st.randoms(use_true_random=False))
def test_row_order_does_not_matter(data, rnd):
    df = pd.DataFrame(data, columns=["y", "p", "g", "h"]).astype({"y": int, "p": int})
    shuffled = df.sample(frac=1.0, random_state=rnd.randint(0, 2**31)).reset_index(drop=True)
    a = faircard.assess(df, target="y", prediction="p", sensitive="g", pos_label=1)
    b = faircard.assess(shuffled, target="y", prediction="p", sensitive="g", pos_label=1)
    pd.testing.assert_frame_equal(a.by_group_wide(), b.by_group_wide())
    np.testing.assert_equal(a.overall, b.overall)
