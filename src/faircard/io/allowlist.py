"""The exact globals an uploaded pickle/joblib model may reference.

Each entry is a (module, name) pair. Nothing else is resolved: not by module prefix, not by
dotted names. The set was made by tracing ``find_class`` while loading scikit-learn's common
binary classifiers and pipelines saved with pickle (protocols 2-5) and joblib, and then reviewed
entry by entry: every entry is a class or a constructor helper that builds data; none runs a
command, touches files or evaluates code. (``FunctionTransformer`` is here because pipelines
contain it; the function it holds must itself pass this list.)

Decision trees (``Tree``, HistGradientBoosting's ``TreePredictor``) hold node indices that
scikit-learn follows without bounds checks; :mod:`faircard.io.validate` checks every tree
before a loaded model is used. Models whose compiled internals cannot be checked that way
(nearest neighbours' KD/ball trees, libsvm-based SVC) are not on the list.
"""

from __future__ import annotations

_SKLEARN = {
    "sklearn.calibration": ["CalibratedClassifierCV", "_CalibratedClassifier",
                            "_SigmoidCalibration"],
    "sklearn.compose._column_transformer": ["ColumnTransformer"],
    "sklearn.dummy": ["DummyClassifier"],
    # regressors are listed so that faircard can say plainly that it does not assess them yet
    "sklearn.ensemble._forest": ["ExtraTreesClassifier", "RandomForestClassifier",
                                 "RandomForestRegressor"],
    "sklearn.ensemble._gb": ["GradientBoostingClassifier"],
    "sklearn.ensemble._hist_gradient_boosting.binning": ["_BinMapper"],
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting": [
        "HistGradientBoostingClassifier"],
    "sklearn.ensemble._hist_gradient_boosting.predictor": ["TreePredictor"],
    "sklearn.impute._base": ["SimpleImputer"],
    "sklearn.linear_model._base": ["LinearRegression"],
    "sklearn.linear_model._logistic": ["LogisticRegression"],
    "sklearn.linear_model._ridge": ["Ridge", "RidgeClassifier"],
    "sklearn.linear_model._stochastic_gradient": ["SGDClassifier"],
    "sklearn.naive_bayes": ["GaussianNB", "BernoulliNB", "MultinomialNB"],
    "sklearn.pipeline": ["Pipeline"],
    "sklearn.svm._classes": ["LinearSVC"],
    "sklearn.preprocessing._data": ["MinMaxScaler", "StandardScaler", "RobustScaler"],
    "sklearn.preprocessing._encoders": ["OneHotEncoder", "OrdinalEncoder"],
    "sklearn.preprocessing._function_transformer": ["FunctionTransformer"],
    "sklearn.preprocessing._label": ["LabelEncoder"],
    "sklearn.tree._classes": ["DecisionTreeClassifier", "DecisionTreeRegressor",
                              "ExtraTreeClassifier", "ExtraTreeRegressor"],
    "sklearn.tree._tree": ["Tree"],
    "sklearn._loss._loss": ["CyHalfBinomialLoss"],
    "sklearn._loss.link": ["Interval", "LogitLink", "IdentityLink"],
    "sklearn._loss.loss": ["HalfBinomialLoss"],
}

_NUMPY = {
    "numpy": ["dtype", "ndarray", "float64", "float32", "int64", "int32", "bool_"],
    "numpy._core.multiarray": ["_reconstruct", "scalar"],
    "numpy.core.multiarray": ["_reconstruct", "scalar"],
    "numpy._core.numeric": ["_frombuffer"],
    "numpy.core.numeric": ["_frombuffer"],
    "numpy.random._mt19937": ["MT19937"],
    "numpy.random._pcg64": ["PCG64"],
    "numpy.random._pickle": ["__bit_generator_ctor", "__generator_ctor", "__randomstate_ctor"],
    "numpy.random.bit_generator": ["SeedSequence", "__pyx_unpickle_SeedSequence"],
}

_OTHER = {
    "joblib.numpy_pickle": ["NumpyArrayWrapper"],
    "builtins": ["slice", "bytes", "bytearray", "complex", "frozenset", "set"],
    "__builtin__": ["slice", "bytes", "bytearray", "complex", "frozenset", "set"],
    "_codecs": ["encode"],
    "collections": ["OrderedDict"],
}

SAFE_GLOBALS: frozenset[tuple[str, str]] = frozenset(
    (module, name)
    for table in (_SKLEARN, _NUMPY, _OTHER)
    for module, names in table.items()
    for name in names
)
"""Every (module, name) pair an uploaded pickle may resolve."""

SKOPS_TRUSTED: tuple[str, ...] = (
    "sklearn._loss.link.Interval",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss._loss.CyHalfBinomialLoss",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.tree._tree.Tree",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "numpy.dtype",
)
"""Types beyond skops' own defaults that faircard trusts in ``.skops`` files (a fixed, reviewed
list: internals of scikit-learn models listed in SAFE_GLOBALS)."""
