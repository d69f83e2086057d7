"""cnndsl: a declarative language for convolutional network architectures, and its compiler."""
from .api import analyze, load, parse_defines, parse_dims, report
from .diagnostics import CnnDslError

__all__ = ["analyze", "load", "report", "parse_defines", "parse_dims", "CnnDslError"]
__version__ = "0.1.0"
