"""faircard: check a binary classifier for fairness across groups and write its model card."""

from .assess import Assessment, assess, assess_spec
from .errors import FaircardError
from .io import load_table
from .spec import AssessmentSpec, Binning

__version__ = "0.1.0"

__all__ = [
    "Assessment",
    "AssessmentSpec",
    "Binning",
    "FaircardError",
    "__version__",
    "assess",
    "assess_spec",
    "load_table",
]
