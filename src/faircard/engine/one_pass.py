"""One pass over the rows when the first rows and the footers foretell what it needs.

The grouped query numbers each sensitive feature's values and the outcome's, and puts scores
on a grid across their range; so, written plainly, it waits for a pass that finds the range
and the row accounting and for one pass per feature that lists its values (together about a
third of the grouped query's own time at 10 million rows). Here those come from guesses
instead: the values that the first rows (:data:`~faircard.engine.sources.HEAD_ROWS`) hold, and
the score's range that the footers claim. The grouped query is then written so that it shows
whether the guesses were right: a value that is not listed (or a missing one) gets a key of
its own instead of a listed value's, and the rows it counts are compared with the row count.
They were right when every row was counted under a listed key, and the least and the greatest
claimed scores are scores of the rows (found among the first rows, or else looked for). The
counts are then those of the plain way, value for value; otherwise the plain way counts them
(the pass here is lost: a file whose groups first appear past its first rows, whose footers
claim a wider range, or that has missing values).

Only for scores that go on the grid (more than :data:`~faircard.engine.grouped.
MAX_DISTINCT_SCORES` distinct values among the first rows): the grid cell is what needs the
range before the pass.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import FaircardError
from ..spec import AssessmentSpec
from .grouped import MAX_DISTINCT_SCORES, GroupedCounts, policy_thresholds, positive_values
from .sql import MAX_CODED, Coding, Columns, _literal, _missing, _value, codable, quote

HEAD = "faircard_head"
"""The table (in the connection's own database) of the first rows' scores, outcomes and
features, read once."""


def head_queries(cols: Columns, head_rows: int) -> tuple[str, dict[str, str]]:
    """The statement that copies the first ``head_rows`` rows' columns of ``src`` into
    :data:`HEAD`, and the queries then run at once, by name: over the first rows,
    ``head_score`` (the number of distinct scores, their least and greatest),
    ``head_targets`` (up to three outcome values) and ``head_values:F`` (up to MAX_CODED + 1
    values of the feature F, as the grouped query groups them); ``claimed``, the least and
    greatest score the footers claim (``src_footers``); ``rows``, the row count."""
    columns = [f"CAST({quote(cols.decision)} AS DOUBLE) AS __score",
               f"{quote(cols.target)} AS __target"]
    columns += [f"{_value(quote(f), cols.is_float.get(f, False))} AS __f{i}"
                for i, f in enumerate(cols.sensitive)]
    copy = (f"CREATE OR REPLACE TABLE {HEAD} AS SELECT {', '.join(columns)} FROM src "
            f"LIMIT {int(head_rows)}")
    name = str(cols.decision).replace("'", "''")
    queries = {
        "head_score": "SELECT COUNT(DISTINCT __score) AS score_distinct, MIN(__score) AS lo, "
                      f"MAX(__score) AS hi FROM {HEAD}",
        "head_targets": f"SELECT DISTINCT __target AS target FROM {HEAD} WHERE NOT "
                        f"{_missing('__target', cols.is_float.get(cols.target, False))} LIMIT 3",
        "claimed": "SELECT MIN(TRY_CAST(lo AS DOUBLE)) AS lo, MAX(TRY_CAST(hi AS DOUBLE)) AS hi"
                   f" FROM src_footers WHERE name = '{name}'",
        "rows": "SELECT COUNT(*) AS n FROM src",
    }
    for i, _ in enumerate(cols.sensitive):
        queries[f"head_values:{i}"] = (f"SELECT DISTINCT __f{i} AS value FROM {HEAD} "
                                       f"LIMIT {MAX_CODED + 1}")
    return copy, queries


def count_in_one_pass(con, cols: Columns, spec: AssessmentSpec) -> GroupedCounts | None:
    """The grouped counts of ``spec`` over the view ``src`` of the connection ``con`` in one
    pass over the rows, or None when the guesses do not hold (then nothing is known)."""
    from .sources import (
        GRID_POINTS,
        HEAD_ROWS,
        _arrow_frame,
        _counted,
        _fetch_all,
        _grouped_query,
        _plain,
        _unpacked,
    )

    copy, queries = head_queries(cols, HEAD_ROWS)
    con.execute(copy)
    kinds = {name: "arrow" if name.startswith("head_values:") else
             "df" if name == "head_targets" else "raw" for name in queries}
    fetched = _fetch_all(con, {queries[name]: kind for name, kind in kinds.items()})
    got = {name: fetched[queries[name]] for name in queries}
    con.execute(f"DROP TABLE {HEAD}")
    head, n = got["head_score"], int(got["rows"]["n"])
    lo, hi = _claimed_range(got["claimed"])
    targets = got["head_targets"]["target"]
    values = {f: got[f"head_values:{i}"]["value"].reset_index(drop=True)
              for i, f in enumerate(cols.sensitive)}
    if n == 0 or int(head["score_distinct"] or 0) <= MAX_DISTINCT_SCORES or lo is None or \
            not lo < hi or not math.isfinite(hi - lo) or len(targets) > 2 or \
            any(len(v) > MAX_CODED for v in values.values()):
        return None
    plain = {f: [_plain(v) for v in col.tolist()] for f, col in values.items()}
    outcomes = [_plain(v) for v in targets.tolist()]
    if not all(codable(v) for vs in [*plain.values(), outcomes] for v in vs):
        return None
    try:
        positive_values(targets, spec)  # the positive label, as the plain way finds it
    except FaircardError:
        return None  # the plain way says why, from every row
    coding = Coding(plain, outcomes, len(policy_thresholds(spec)), GRID_POINTS + 2,
                    open_sets=True)
    if not coding.fits():
        return None
    stats = {"n_input": n, "n_missing_target": 0, "n_missing_decision": 0, "score_min": lo,
             "score_max": hi, "score_distinct": int(head["score_distinct"]), "n_infinite": 0}
    grouped = _arrow_frame(con, _grouped_query(cols, spec, stats, targets, coding))
    keys = grouped["__key"].to_numpy()
    if int(grouped["__n"].sum()) != n or (keys >= coding.unlisted_from()).any():
        return None  # a row left out (its score outside the range, or missing), or unlisted
    if not _found(con, cols, lo, head["lo"]) or not _found(con, cols, hi, head["hi"]):
        return None  # the claimed range is wider than the scores': another grid
    return _counted(stats, targets, _unpacked(grouped, coding, values, targets), "duckdb")


def _claimed_range(claim: dict[str, Any]) -> tuple[float | None, float]:
    """(least, greatest) score the footers claim, as numbers (None when they do not say)."""
    lo, hi = claim.get("lo"), claim.get("hi")
    if not all(isinstance(v, float) and math.isfinite(v) for v in (lo, hi)):
        return None, 0.0
    # + 0.0: a least score of 0 may be stored as -0.0 (as Parquet asks of writers)
    return float(lo) + 0.0, float(hi) + 0.0


def _found(con, cols: Columns, score: float, in_head: Any) -> bool:
    """Whether some row has the score ``score`` (among the first rows when ``in_head``, their
    least or greatest score, is it; else looked for, stopping at the first)."""
    if isinstance(in_head, int | float) and float(in_head) == score:
        return True
    d = f"CAST({quote(cols.decision)} AS DOUBLE)"
    found = con.execute(f"SELECT 1 FROM src WHERE {d} = {_literal(score)} LIMIT 1").fetchall()
    return bool(found)


__all__ = ["count_in_one_pass", "head_queries"]
