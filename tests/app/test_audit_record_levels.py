"""The shared record view names the confidence level of the changes' intervals as the two
records computed them (it said 95% whatever they were)."""

from __future__ import annotations

import pytest

from tests.app.test_share_view import share_with_baseline


@pytest.mark.parametrize(("levels", "said"), [
    ((0.9, 0.9), "New minus baseline, with 90% intervals of the change."),
    ((0.95, 0.95), "New minus baseline, with 95% intervals of the change."),
    ((0.8, 0.95), "New minus baseline, with intervals (combining two levels: the baseline at "
                  "80%, this record at 95%) of the change."),
])
def test_the_changes_since_the_baseline_name_their_intervals_level(_private_audit_store,
                                                                   levels, said):
    import faircard
    from faircard.governance.diff import diff_assessments
    from tests.app.conftest import small_frame

    runs = [faircard.assess(small_frame(seed=s), target="outcome", score="risk_score",
                            sensitive=["sex"], n_boot=100, confidence=c)
            for s, c in zip((0, 1), levels, strict=True)]
    assert diff_assessments(runs[0], runs[1]).confidence == levels
    at = share_with_baseline(_private_audit_store, runs)
    captions = [c.value.replace("\\", "") for c in at.caption]
    assert any(c.startswith(said) for c in captions), captions


@pytest.mark.parametrize("level", [0.9, 0.95])
def test_the_record_views_tables_state_the_level_of_their_intervals(_private_audit_store,
                                                                    level):
    """The Disparities tab of the shared view says what its brackets are, at the record's own
    level, and the brackets it shows are that level's Wilson intervals (statsmodels)."""
    from statsmodels.stats.proportion import proportion_confint

    import faircard
    from tests.app.conftest import small_frame
    from tests.app.test_share_view import _table

    frames = [small_frame(seed=s) for s in (0, 1)]
    runs = [faircard.assess(f, target="outcome", score="risk_score", sensitive=["sex"],
                            n_boot=0, confidence=level) for f in frames]
    at = share_with_baseline(_private_audit_store, runs)
    captions = [c.value.replace("\\", "") for c in at.caption]
    said = f"Brackets are {100 * level:g}% intervals"
    assert any(c.startswith(said) for c in captions), captions
    other = 95 if level != 0.95 else 90
    assert not any(f"{other}% interval" in c for c in captions), captions
    shown = _table(at, "people")
    column = [c for c in shown.columns if c.startswith("Selection rate")][0]
    df = frames[1]
    for group in ("Female", "Male"):
        mask = df["sex"] == group
        lo, hi = proportion_confint(int((df.loc[mask, "risk_score"] >= 0.5).sum()),
                                    int(mask.sum()), alpha=1 - level, method="wilson")
        assert shown.loc[group, column].endswith(f"[{lo:.3f}, {hi:.3f}]"), \
            (shown.loc[group, column], lo, hi)
