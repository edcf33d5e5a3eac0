"""Exceptions named for the condition, each carrying a bilingual message (Chinese first).

`UnreadableFile` and its subclasses mean the whole file could not be read: nothing is
written and the CLI exits non-zero with `str(exc)` as its one-line reason. The
row-level conditions (`PrecisionLost`, `InvalidIdNumber`, `UnknownCategory`) are raised
by the normalisers and become a rejected row with the same message.
"""

from __future__ import annotations


class ImportProblem(Exception):
    """Base: `message` is the bilingual text shown to staff."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class UnreadableFile(ImportProblem):
    """The file as a whole cannot be imported; the store is left untouched."""


class WrongFileType(UnreadableFile):
    """The content is not what the extension says (or the extension is not supported)."""


class EmptyFile(UnreadableFile):
    pass


class PasswordProtected(UnreadableFile):
    pass


class SuspiciousArchive(UnreadableFile):
    """A workbook whose zip parts would expand far beyond a sane size (a zip bomb)."""


class UnknownEncoding(UnreadableFile):
    pass


class CorruptFile(UnreadableFile):
    pass


class SheetTooLarge(UnreadableFile):
    """A sheet's used range (rows x columns), or the memory needed to read it, is over the limit."""


class NoHeaderFound(UnreadableFile):
    """No sheet has a header row naming 姓名 and another known column."""


class BatchNotFound(ImportProblem):
    pass


class UndoRefused(ImportProblem):
    """Undo would overwrite later work; carries the reason and the persons concerned."""


class RowProblem(ImportProblem):
    """A cell value that makes the whole row unusable."""


class PrecisionLost(RowProblem):
    pass


class InvalidIdNumber(RowProblem):
    pass


class UnknownCategory(RowProblem):
    pass


class ValueTooLong(RowProblem):
    pass


class InvalidDate(RowProblem):
    """A date the row cannot do without (an activity's date) is missing or unreadable."""


class UnknownStatus(RowProblem):
    pass
