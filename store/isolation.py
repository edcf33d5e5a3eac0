"""What a child process that reads an untrusted file does first: cap its own memory.

A workbook (loaders/workbook.py) and a photo (store/photo.py) are parsed in child
processes; under this cap a parse that asks for too much fails there, not in the server.
"""

from __future__ import annotations


def limit_memory(limit: int) -> None:
    """Cap this process's address space at `limit` bytes (and leave no core file behind an abort)."""
    try:
        import resource
    except ImportError:  # not a POSIX system: still isolated, only not capped
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
