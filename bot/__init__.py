"""The counter bot: grounded answers (no LLM needed) and threshold calibration."""

from .answer import Answer, Citation, answer
from .calibrate import calibrate

__all__ = ["Answer", "Citation", "answer", "calibrate"]
