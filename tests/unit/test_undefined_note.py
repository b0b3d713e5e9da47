"""The sentence under the Thresholds page's tables that says why a cell shows n/a."""

from __future__ import annotations

import numpy as np
import pandas as pd

from faircard.metrics import UNDEFINED_REASONS
from faircard.ui.tables import undefined_note

METRICS = ["selection_rate", "true_positive_rate", "false_positive_rate",
           "false_negative_rate", "precision"]


def _table(rows: dict[str, list]) -> pd.DataFrame:
    return pd.DataFrame.from_dict(rows, orient="index", columns=METRICS)


def test_each_undefined_cell_is_named_with_its_reason_and_defined_ones_are_not():
    table = _table({"A": [0.5, 0.7, 0.2, 0.3, 0.6],
                    "B": [0.0, np.nan, 0.0, np.nan, None],
                    "C": [0.4, 0.5, np.nan, 0.5, 1.0]})
    note = undefined_note(table, METRICS, "positive")
    assert note == ("n/a: undefined. B: true positive rate and false negative rate "
                    f"({UNDEFINED_REASONS['true_positive_rate']}); precision "
                    f"({UNDEFINED_REASONS['precision']}); C: false positive rate "
                    f"({UNDEFINED_REASONS['false_positive_rate']}).")
    assert undefined_note(table.loc[["A"]], METRICS, "positive") == ""


def test_groups_beyond_the_first_ones_are_counted():
    table = _table({f"g{i}": [0.5, 0.5, 0.5, 0.5, np.nan] for i in range(13)})
    note = undefined_note(table, METRICS, "positive", most=10)
    assert note.count("precision (") == 10
    assert note.endswith("; and 3 other groups.")
    one_more = undefined_note(table.iloc[:11], METRICS, "positive", most=10)
    assert one_more.endswith("; and 1 other group.")
