"""A deterministic synthetic lending dataset and a model trained on it, made locally.

The data imitate a loan book: applicants' income, debt, credit history and employment drive
repayment; ``sex``, ``race`` and ``age`` are recorded. A disparity is built in the way it arises
in practice: the historical labels and a proxy feature (``region``) carry group differences, so a
model that never sees ``sex`` or ``race`` still treats groups differently.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DEMO_SEED = 20240611
TARGET = "repaid"
SCORE = "score"
PREDICTION = "approved"
SENSITIVE = ("sex", "race", "age")
FEATURES_NUMERIC = (
    "income",
    "debt_to_income",
    "credit_history_years",
    "employment_years",
    "loan_amount",
    "prior_defaults",
)
FEATURES_CATEGORICAL = ("region", "purpose")
AGE_BANDS = ((18, 25, 40, 65, 120), ("18-24", "25-39", "40-64", "65+"))


@dataclass(frozen=True)
class Demo:
    """The demo's evaluation data (with the model's ``score`` and ``approved`` columns), the
    trained model, and the column roles to assess it with."""

    data: pd.DataFrame
    model: object
    target: str = TARGET
    score: str = SCORE
    prediction: str = PREDICTION
    sensitive: tuple[str, ...] = SENSITIVE
    threshold: float = 0.5


def make_applicants(n: int = 40_000, seed: int = DEMO_SEED) -> pd.DataFrame:
    """Synthetic applicants with a binary ``repaid`` label (1 = repaid)."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["Female", "Male"], size=n, p=[0.48, 0.52])
    race = rng.choice(
        ["White", "Black", "Hispanic", "Asian", "Other"], size=n, p=[0.58, 0.16, 0.15, 0.07, 0.04]
    )
    age = np.clip(np.round(rng.normal(41, 14, size=n)), 18, 90).astype(int)
    # regions act as a proxy: group membership shifts where people live
    region_p = {
        "White": [0.40, 0.30, 0.20, 0.10],
        "Black": [0.10, 0.15, 0.25, 0.50],
        "Hispanic": [0.15, 0.20, 0.35, 0.30],
        "Asian": [0.35, 0.35, 0.20, 0.10],
        "Other": [0.25, 0.25, 0.25, 0.25],
    }
    regions = np.array(["North", "East", "West", "South"])
    u = rng.random(n)
    region = np.empty(n, dtype=object)
    for r, p in region_p.items():
        m = race == r
        region[m] = regions[np.searchsorted(np.cumsum(p), u[m], side="right").clip(0, 3)]
    purpose = rng.choice(["car", "home", "education", "business", "other"], size=n,
                         p=[0.3, 0.25, 0.15, 0.15, 0.15])

    female = sex == "Female"
    region_effect = pd.Series(region).map({"North": 0.25, "East": 0.12, "West": 0.0, "South": -0.22})
    log_income = (
        10.6
        + 0.012 * (np.minimum(age, 60) - 35)
        - 0.22 * female
        + region_effect.to_numpy()
        + rng.normal(0, 0.45, n)
    )
    income = np.round(np.exp(log_income), -2)
    employment_years = np.clip(rng.gamma(2.0, 2.5, n) + 0.15 * (age - 18) * rng.random(n), 0, 50)
    credit_history_years = np.clip(
        (age - 18) * rng.uniform(0.3, 1.0, n) - 1.2 * (race == "Hispanic") + rng.normal(0, 2, n), 0, 60
    )
    debt_to_income = np.clip(rng.beta(2.2, 5.0, n) + 0.04 * (region == "South"), 0.0, 1.2)
    loan_amount = np.round(np.clip(income * rng.uniform(0.1, 0.6, n), 1_000, None), -2)
    prior_defaults = rng.poisson(0.25 + 0.15 * (debt_to_income > 0.45), n)

    logit = (
        -0.05
        + 1.4 * (np.log(income) - 10.6)
        - 3.2 * (debt_to_income - 0.3)
        + 0.035 * credit_history_years
        + 0.03 * np.minimum(employment_years, 20)
        - 0.85 * prior_defaults
        - 0.000004 * (loan_amount - 15_000)
        + rng.normal(0, 0.6, n)
    )
    # historical labelling bias: some repayments of Black and Hispanic applicants were recorded
    # as defaults (restructured loans counted against them)
    p_repay = 1 / (1 + np.exp(-logit))
    repaid = rng.random(n) < p_repay
    flipped = repaid & np.isin(race, ["Black", "Hispanic"]) & (rng.random(n) < 0.15)
    repaid = repaid & ~flipped

    return pd.DataFrame(
        {
            "applicant_id": np.arange(1, n + 1),
            "sex": sex,
            "race": race,
            "age": age,
            "region": region.astype(str),
            "purpose": purpose,
            "income": income,
            "debt_to_income": np.round(debt_to_income, 3),
            "credit_history_years": np.round(credit_history_years, 1),
            "employment_years": np.round(employment_years, 1),
            "loan_amount": loan_amount,
            "prior_defaults": prior_defaults,
            TARGET: repaid.astype(int),
        }
    )


def train_model(train: pd.DataFrame):
    """A scikit-learn pipeline (one-hot + scaling + logistic regression) on the demo features.

    It does not see sex, race or age.
    """
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pre = ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore"), list(FEATURES_CATEGORICAL)),
            ("numeric", StandardScaler(), list(FEATURES_NUMERIC)),
        ]
    )
    model = Pipeline([("preprocess", pre), ("classifier", LogisticRegression(max_iter=1000))])
    model.fit(train[list(FEATURES_CATEGORICAL + FEATURES_NUMERIC)], train[TARGET])
    return model


def load_demo(n: int = 40_000, seed: int = DEMO_SEED) -> Demo:
    """Half of ``n`` synthetic applicants train the model; the other half (with the model's
    ``score`` and ``approved`` columns) is the evaluation data."""
    df = make_applicants(n, seed)
    train, test = df.iloc[: n // 2], df.iloc[n // 2 :].reset_index(drop=True)
    model = train_model(train)
    X = test[list(FEATURES_CATEGORICAL + FEATURES_NUMERIC)]
    score = model.predict_proba(X)[:, 1]
    test = test.copy()
    test[SCORE] = np.round(score, 6)
    test[PREDICTION] = (test[SCORE] >= 0.5).astype(int)
    return Demo(data=test, model=model)


def demo_bins():
    """The conventional age bands used with the demo."""
    from .spec import Binning

    return {"age": Binning(edges=AGE_BANDS[0], labels=AGE_BANDS[1])}
