"""What machine a benchmark ran on, saved beside its figures."""

from __future__ import annotations

import os
import platform
import time
from typing import Any

import torch


def describe_machine() -> dict[str, Any]:
    """Date, platform, processor, core count, Python and torch versions, load average."""
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "load_average": os.getloadavg(),
    }
