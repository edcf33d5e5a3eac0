"""Pausing Python's cyclic garbage collector while an import builds or applies its rows.

An import allocates a few million small containers (row lists, tuples, plan objects) and
frees almost none of them until it ends: every generation-2 collection then walks them
all again, a large share of the import's CPU time, for no garbage found (the importer
builds no reference cycles). Reference counting still frees everything as usual.

On resuming, the import's objects go straight to the oldest generation (see below).

The pause is counted, so overlapping imports in several threads (the import page) keep
the collector off until the last of them ends, and it is turned back on only if it was
on when the first one started.
"""

from __future__ import annotations

import gc
import threading
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def gc_paused():
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                # Everything allocated during the pause sits in the youngest generation; the
                # first collection after enable() would walk those millions of objects (0.1–0.2 s)
                # only to promote them. freeze() + unfreeze() moves them straight to the oldest
                # generation, where a full collection finds any garbage in its own time.
                gc.freeze()
                gc.unfreeze()
                gc.enable()
