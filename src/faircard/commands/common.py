"""Options and helpers shared by CLI subcommands."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import FaircardError
from ..favorable import DEFAULT_FAVORABLE, FAVORABLE_OUTCOMES
from ..io import DETECT, read_table
from ..io.export import csv_text
from ..prepare import check_group_names, vanished_of
from ..roles import MANY_GROUPS, many_groups
from ..spec import Binning


def add_data_options(p: argparse.ArgumentParser, *, score_required: bool = False,
                     policy: bool = True) -> None:
    """DATA, --target, --prediction/--score, --threshold (or --policy), --sensitive,
    --pos-label, --bins."""
    p.add_argument("data", metavar="DATA", help="dataset file: CSV, Parquet or Excel (.xlsx)")
    p.add_argument("--engine", default="pandas", choices=("auto", "pandas", "duckdb", "spark"),
                   help=argparse.SUPPRESS)
    add_reading_options(p)
    p.add_argument("--target", required=True, help="column with the true outcome (two values)")
    if score_required:
        p.add_argument("--score", required=True, help="column with a real-valued score")
    else:
        g = p.add_mutually_exclusive_group()
        g.add_argument("--prediction", help="column with the predicted label")
        g.add_argument("--score", help="column with a real-valued score; predicted positive "
                       "when score >= threshold")
    p.add_argument("--threshold", type=float, default=None,
                   help="decision threshold for --score (default 0.5; any scale)")
    if policy:
        p.add_argument("--policy", metavar="POLICY.json", default=None,
                       help="decision policy file (one threshold per group, as written by "
                       "'faircard thresholds --json' or the app's policy download) instead of "
                       "--threshold")
    p.add_argument("--sensitive", action="append", required=True, metavar="COL",
                   help="sensitive feature column; repeat for several (their intersection is "
                   "assessed too)")
    p.add_argument("--pos-label", dest="pos_label", default=None,
                   help="the target value that is the positive outcome (auto-detected for 0/1, -1/1, "
                   "True/False, yes/no, '>50K'/'<=50K')")
    p.add_argument("--favorable", choices=FAVORABLE_OUTCOMES, default=DEFAULT_FAVORABLE,
                   dest="favorable_outcome",
                   help="whether a positive prediction is good for the person ('positive', e.g. "
                   "a loan; the default) or bad for them ('negative', e.g. flagged as high "
                   "risk); the words, the favourable rate and the four-fifths rule follow it")
    p.add_argument("--bins", action="append", default=[], metavar="COL=E0,E1,...[:L1,L2,...]",
                   help="bin a numeric sensitive feature, e.g. age=18,25,40,65,inf:18-24,25-39,"
                   "40-64,65+ (labels optional)")
    p.add_argument("--reference", action="append", default=[], metavar="COL=GROUP",
                   help="reference group of a feature (default: the largest group)")
    p.add_argument("--min-group-size", type=int, default=30,
                   help="groups smaller than this are flagged and left out of comparisons "
                   "(default 30)")
    p.add_argument("--include-small-groups", action="store_true",
                   help="compare small groups too")
    p.add_argument("--no-intersection", action="store_true",
                   help="do not assess the intersection of several sensitive features")
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N",
                   help="bootstrap replicates for intervals (default 1000; 0 = Wilson only)")
    p.add_argument("--confidence", type=float, default=0.95,
                   help="confidence level of the intervals (default 0.95)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the bootstrap")


def add_reading_options(p: argparse.ArgumentParser) -> None:
    """--encoding and --allow-many-groups, for every command that reads DATA."""
    p.add_argument("--encoding", default=DETECT,
                   help="text encoding of a CSV file, e.g. utf-8, cp1252, cp949 (default: "
                   "detect; the encoding used is printed when it is not UTF-8)")
    p.add_argument("--allow-many-groups", action="store_true",
                   help=f"accept a sensitive feature with more than {MANY_GROUPS} groups "
                   "(refused otherwise; binning it is usually better)")


def parse_bins(items: list[str]) -> dict[str, Binning]:
    """``COL=E0,E1,...[:L1,...]`` -> {COL: Binning}; labels default to "a-b" ranges."""
    out: dict[str, Binning] = {}
    for item in items:
        if "=" not in item:
            raise FaircardError(f"--bins '{item}' must look like age=18,25,40,65,inf.")
        col, rest = item.split("=", 1)
        edges_txt, _, labels_txt = rest.partition(":")
        try:
            edges = [float(e) for e in edges_txt.split(",") if e.strip()]
        except ValueError:
            raise FaircardError(f"--bins '{item}': the edges must be numbers.") from None
        if labels_txt:
            labels = [x.strip() for x in labels_txt.split(",")]
        else:
            labels = [_band_label(a, b) for a, b in zip(edges, edges[1:], strict=False)]
        out[col.strip()] = Binning(tuple(edges), tuple(labels))
    return out


def _band_label(lo: float, hi: float) -> str:
    def f(x: float) -> str:
        return f"{x:g}"

    if math.isinf(hi):
        return f"{f(lo)}+"
    if math.isinf(lo):
        return f"<{f(hi)}"
    return f"{f(lo)}-{f(hi)}"


def parse_reference(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        if "=" not in item:
            raise FaircardError(f"--reference '{item}' must look like sex=Male.")
        col, group = item.split("=", 1)
        out[col.strip()] = group
    return out


def add_model_options(p: argparse.ArgumentParser, model_help: str, unsafe_help: str, *,
                      group=None, repeat: bool = True) -> None:
    """``--model`` (repeatable, or one file in ``group`` when ``repeat`` is False),
    ``--allow-unsafe-pickle`` and ``--model-positive-class``."""
    if repeat:
        (group or p).add_argument("--model", action="append", default=[], metavar="FILE",
                                  help=model_help)
    else:
        (group or p).add_argument("--model", metavar="FILE", help=model_help)
    p.add_argument("--allow-unsafe-pickle", action="store_true", help=unsafe_help)
    p.add_argument("--model-positive-class", metavar="VALUE", default=None,
                   help="the model class that means the positive outcome, when the model's "
                   "classes differ from the target's labels (default: the class equal to the "
                   "positive label, else class 1 of a 0/1 or False/True model)")


def load_models(args: argparse.Namespace) -> list:
    """The ``--model`` files, each opened in its own sandboxed process."""
    import sys

    from ..io.models import load_model

    if args.allow_unsafe_pickle:
        print("faircard: warning: --allow-unsafe-pickle runs any code inside the model files; "
              "use it only for files you trust.", file=sys.stderr)
    paths = args.model if isinstance(args.model, list) else [args.model]
    return [load_model(p, allow_unsafe_pickle=args.allow_unsafe_pickle) for p in paths]


def spec_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments of :func:`faircard.assess` from the shared options (without
    --threshold: 0.5; see :func:`model_kwargs` for models)."""
    policy = None
    if getattr(args, "policy", None):
        from ..decision import load_policy

        if args.threshold is not None:
            raise FaircardError("Give --threshold or --policy, not both: the policy file holds "
                                "the thresholds.")
        policy = load_policy(args.policy)
    return {
        "target": args.target,
        "sensitive": args.sensitive,
        "prediction": getattr(args, "prediction", None),
        "score": args.score,
        "threshold": 0.5 if args.threshold is None else args.threshold,
        "policy": policy,
        "pos_label": args.pos_label,
        "reference": parse_reference(args.reference),
        "bins": parse_bins(args.bins),
        "intersection": not args.no_intersection,
        "min_group_size": args.min_group_size,
        "include_small_groups": args.include_small_groups,
        "n_boot": args.bootstrap,
        "confidence": args.confidence,
        "random_state": args.seed,
        "favorable_outcome": args.favorable_outcome,
    }


def model_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """Keyword arguments of :func:`faircard.models_assess.assess_models`: the shared options
    without a score or prediction column; without --threshold each model keeps its own cut."""
    kwargs = spec_kwargs(args)
    for key in ("prediction", "score"):
        kwargs.pop(key)
    if args.threshold is None:
        kwargs["threshold"] = None
    return kwargs


def add_engine_options(p: argparse.ArgumentParser) -> None:
    """--engine, --spark-master and --spark-table, for commands that can count next to the
    data (DATA may then be a glob or a folder of Parquet files)."""
    p.set_defaults(engine="auto")
    p.add_argument("--spark-master", default="local[*]", metavar="URL",
                   help="Spark master with --engine spark (default local[*])")
    p.add_argument("--spark-table", metavar="DB.TABLE",
                   help="a table of the Spark catalog (with --engine spark; DATA is then '-')")
    for action in p._actions:
        if action.dest == "engine":
            action.help = ("who counts the rows: auto (DuckDB for Parquet files, globs and "
                           "folders; pandas otherwise), pandas, duckdb or spark")


def engine_of(args: argparse.Namespace) -> str:
    """The engine that counts DATA: as asked with --engine, or chosen by the path (auto)."""
    from ..engine import choose_engine

    spark_table = getattr(args, "spark_table", None)
    return choose_engine(None if spark_table else args.data, getattr(args, "engine", "pandas"))


def personal_data_of(args: argparse.Namespace, purpose: str):
    """(personal-data flags, rows) of DATA: flags judged on the rows read here (pandas, which
    returns them for :func:`assess_data`), or on a sample of the values (DuckDB; rows None).
    ``purpose`` names what needs the flags, for the refusal with Spark."""
    from ..privacy import detect_personal_data

    engine = engine_of(args)
    if engine == "pandas":
        data = read_data(args)
        return detect_personal_data(data), data
    if engine == "duckdb":
        from ..engine.sources import check_long_text_duckdb, sample_duckdb

        # a sensitive feature's long values are refused before the first rows of every
        # column are read (3,000 values of 1 MB: 1.3 GB, against 4.7 GB)
        check_long_text_duckdb(args.data, list(getattr(args, "sensitive", None) or []))
        return detect_personal_data(sample_duckdb(args.data)), None
    if engine == "spark":
        from ..engine.sources import personal_data_spark

        return personal_data_spark(_spark_frame(args)), None
    raise FaircardError(f"{purpose} checks the data for personal information, which faircard "
                        f"does with pandas, DuckDB or Spark, not with the {engine} engine.")


def _spark_frame(args: argparse.Namespace):
    from ..engine import spark_frame

    spark_table = getattr(args, "spark_table", None)
    return spark_frame(None if spark_table else args.data, spark_table=spark_table,
                       spark_master=getattr(args, "spark_master", "local[*]"))


def dataset_identity(args: argparse.Namespace) -> tuple[str, str]:
    """(name, sha256) of DATA: the file's name and :func:`dataset_sha256`; for a Spark
    catalog table, or a path only Spark's cluster can reach, the table name or path and
    :func:`faircard.engine.sources.digest_spark`, computed by Spark from the rows."""
    spark_table = getattr(args, "spark_table", None)
    if spark_table or (engine_of(args) == "spark" and not _local(args.data)):
        from ..engine.sources import digest_spark

        label = spark_table or args.data
        return label, digest_spark(_spark_frame(args), label)
    return Path(args.data).name, dataset_sha256(args.data)


def _local(path: str) -> bool:
    import glob as globlib

    return Path(path).exists() or any(Path(f).is_file()
                                      for f in globlib.glob(path, recursive=True))


def dataset_sha256(path: str) -> str:
    """sha256 of DATA (see :func:`faircard.engine.paths.sha256_of_files`)."""
    from ..engine.paths import sha256_of_files

    return sha256_of_files(path)


def assess_data(args: argparse.Namespace, data: pd.DataFrame | None = None, *,
                flags: list | None = None, **extra: Any):
    """The assessment the shared options describe, counted by the chosen engine (``data``:
    the rows, when pandas has read them already; ``flags``: DATA's personal-data flags, when
    :func:`personal_data_of` has judged them already)."""
    from ..assess import assess
    from ..engine import assess_source
    from ..spec import AssessmentSpec

    kwargs = {**spec_kwargs(args), **extra}
    spark_table = getattr(args, "spark_table", None)
    engine = engine_of(args)
    if engine == "pandas":
        rows = read_data(args) if data is None else data
        result = assess(rows, **kwargs)
        vanished_of(result.cube, result.spec, rows)  # named from the rows, kept with the cube
        return result
    sensitive = kwargs.pop("sensitive")
    spec = AssessmentSpec(sensitive=tuple([sensitive] if isinstance(sensitive, str)
                                          else sensitive), **kwargs)
    # the same refusals as for rows read here: personal data (judged on a sample of values)
    # as sensitive feature or target
    from ..privacy import refuse_personal_data

    refuse_personal_data(personal_data_of(args, "The assessment")[0] if flags is None else flags,
                         sensitive=list(spec.sensitive), target=spec.target)
    result = assess_source(None if spark_table else args.data, spec, engine=engine,
                           spark_master=getattr(args, "spark_master", "local[*]"),
                           spark_table=spark_table)
    for gc in result.counts:  # many groups: counted exactly by the engine
        if len(gc.features) == 1 and len(gc.groups) > MANY_GROUPS:
            text = (f"sensitive feature '{gc.feature}' has {len(gc.groups):,} groups (more than "
                    f"{MANY_GROUPS}); most will be too small to compare. Bin it (--bins) or "
                    "choose a coarser column")
            if not getattr(args, "allow_many_groups", False):
                raise FaircardError(text[0].upper() + text[1:] + ", or confirm with "
                                    "--allow-many-groups.")
            warn(text + ".")
    return result


def read_data(args: argparse.Namespace | str) -> pd.DataFrame:
    """The dataset of the shared options (or of a path), checked before anything is assessed.

    Warnings about the file (mixed encodings, a single column, left-out nested columns) go to
    stderr. With the options: personal-data columns are refused as sensitive features or
    target, and a sensitive feature with more than 50 groups is refused unless
    ``--allow-many-groups`` is given.
    """
    if isinstance(args, str | Path):
        path, encoding, args = str(args), DETECT, None
    else:
        path, encoding = args.data, getattr(args, "encoding", DETECT) or DETECT
    result = read_table(path, encoding=encoding)
    for note in result.warnings:
        warn(note)
    if result.encoding and result.encoding_detected and result.encoding not in ("utf-8",
                                                                                 "utf-8-sig"):
        warn(f"'{Path(path).name}' is not UTF-8; it was read as {result.encoding} (detected). "
             "Give --encoding if that is wrong.")
    data = result.frame
    if args is not None:
        check_choices(data, args)
    return data


def check_choices(data: pd.DataFrame, args: argparse.Namespace) -> None:
    """Refuse personal data as sensitive feature or target; confirm many groups."""
    from ..privacy import detect_personal_data, refuse_personal_data

    sensitive = list(getattr(args, "sensitive", None) or [])
    refuse_personal_data(detect_personal_data(data), sensitive=sensitive,
                         target=getattr(args, "target", None))
    for f in sensitive:  # before their number, as an engine checks them before counting
        if f in data.columns and not pd.api.types.is_numeric_dtype(data[f]):
            check_group_names(data[f].dropna().unique(), f)
    many = many_groups(data, sensitive, parse_bins(getattr(args, "bins", None) or []))
    for feature, n in many.items():
        text = (f"sensitive feature '{feature}' has {n:,} groups (more than {MANY_GROUPS}); "
                "most will be too small to compare. Bin it (--bins) or choose a coarser column")
        if not getattr(args, "allow_many_groups", False):
            raise FaircardError(text[0].upper() + text[1:] + ", or confirm with "
                                "--allow-many-groups.")
        warn(text + ".")


def warn(message: str) -> None:
    """A warning line on stderr (control characters escaped)."""
    shown = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                    for ch in message)
    print(f"faircard: warning: {shown}", file=sys.stderr)


def add_card_text_option(p: argparse.ArgumentParser, help_text: str) -> None:
    p.add_argument("--card-json", metavar="FILE", help=help_text)


def read_card_text(path: str | None) -> dict[str, dict[str, str]]:
    """The authors' text sections ({section: {field: text}}) of a model card JSON file; empty
    when ``path`` is None."""
    from ..card import ModelCard

    if not path:
        return {}
    p = Path(path)
    if not p.is_file():
        raise FaircardError(f"The card file '{p}' does not exist.")
    return ModelCard.from_bytes(p.read_bytes()).authors_text()



def write_json(path: str | Path, doc: dict[str, Any]) -> None:
    """Write ``doc`` as JSON with NaN/inf turned into null (strict JSON)."""
    text = json.dumps(_clean(doc), indent=2, ensure_ascii=False, allow_nan=False)
    _write_text(path, text + "\n")


def _clean(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _clean(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_clean(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def _write_text(path: str | Path, text: str) -> None:
    p = Path(path)
    try:
        if p.parent and not p.parent.exists():
            p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise FaircardError(f"Cannot write '{p}': {exc.strerror or exc}.") from None


def write_csv(path: str | Path, frame) -> None:
    """Write ``frame`` as CSV with formula-like text cells neutralised."""
    _write_text(path, csv_text(frame))
