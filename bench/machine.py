"""What machine a benchmark ran on, saved beside its figures."""

from __future__ import annotations

import os
import platform
import sys
import time
from typing import Any

import numpy as np


def describe_machine() -> dict[str, Any]:
    """Date, platform, processor, core count, load average, Python and numpy versions, and
    torch's when the benchmark uses it (it is not imported here for benchmarks that do not)."""
    machine: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S"),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    torch = sys.modules.get("torch")
    if torch is not None:
        machine["torch"] = torch.__version__
    return machine
