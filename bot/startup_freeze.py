"""Once the process is assembled, what start-up built is kept out of the cycle
collector's full passes.

Modules, mapped classes, compiled statements and the channels' objects live as long as the
process, yet each full pass of Python's cycle collector walks every one of them again. With the
bot loaded a full pass took about 100 ms (measured in bench/dialog_bench.py), during which no
chat is answered: the steps caught behind it made the slowest hundredth of all. Frozen
(`gc.freeze`), they are left out of every later pass, which then only walks what the dialogs
made since, and a pass takes a few milliseconds.

Garbage is collected first, so nothing already dead is frozen for good; objects frozen here are
still freed by reference counting when they are dropped, only cycles among them would stay.
"""

from __future__ import annotations

import gc


def freeze_startup_objects() -> int:
    """Collect, then freeze what survived; how many objects are now left out of the passes."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
