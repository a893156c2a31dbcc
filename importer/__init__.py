"""simkl-import: move a whole watch history into Simkl, safely and repeatably."""

import os
import sys

__version__ = "0.1.0"
__all__ = ["__version__"]


def _allocator_settings() -> None:
    """Give polars' allocator one memory arena per core, unless set otherwise.

    polars allocates with jemalloc, which reads `_RJEM_MALLOC_CONF` when
    polars is first imported, after polars' own defaults. Memory that a
    thread frees goes back to that thread's arena, and jemalloc's default
    of four arenas per core left much of it unused by the other threads.
    On 2 cores, peak RSS of a million-row CSV import was 700-730 MB with
    the default and 655-690 MB with one arena per core, in about the same
    time. A variable that already sets `narenas` (the user's, or one that a
    parent process passed on) is left as it is.
    """
    user_settings = os.environ.get("_RJEM_MALLOC_CONF", "")
    if "polars" in sys.modules or "narenas:" in user_settings:
        return
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
    arenas = f"narenas:{max(cores or os.cpu_count() or 1, 1)}"
    if user_settings:
        arenas = f"{arenas},{user_settings}"
    os.environ["_RJEM_MALLOC_CONF"] = arenas


_allocator_settings()
