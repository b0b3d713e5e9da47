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
