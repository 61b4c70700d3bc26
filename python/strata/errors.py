# SPDX-License-Identifier: Apache-2.0
"""errors -- every STRATA_* return code as a subclass of strata.Error."""


class Error(Exception):
    """A strata call failed. .code is the STRATA_* return code, .name its name, .detail the
    library's detail message (strata_errmsg), .what the operation."""
    code = None

    def __init__(self, code, text, detail="", what=None):
        self.code = code
        self.name = text.split(":", 1)[0] if text else "STRATA_%d" % code
        self.text = text
        self.detail = detail
        self.what = what
        msg = text or self.name
        if detail:
            msg += ": " + detail
        if what:
            msg = what + ": " + msg
        super().__init__(msg)


class NotFoundError(Error):
    """STRATA_NOTFOUND where it is a failure: opening a missing database without creating it."""
    code = 1


class InvalidError(Error):
    """STRATA_INVALID: bad argument or misuse (empty or oversized key, closed handle...)."""
    code = 2


class IoError(Error):
    """STRATA_IOERR: the operating system reported an I/O error."""
    code = 3


class CorruptError(Error):
    """STRATA_CORRUPT: a checksum, magic number or structure on disk is wrong."""
    code = 4


class NoMemoryError(Error):
    """STRATA_NOMEM: memory allocation failed."""
    code = 5


class NoSpaceError(Error):
    """STRATA_NOSPC: the disk is full."""
    code = 6


class BusyError(Error):
    """STRATA_BUSY: the database is locked by another process or handle."""
    code = 7


class ReadOnlyError(Error):
    """STRATA_READONLY: writes refused after an unrecoverable background error."""
    code = 8


class NotSupportedError(Error):
    """STRATA_NOTSUP: a feature or on-disk format this library does not support."""
    code = 9


class InternalError(Error):
    """STRATA_INTERNAL: an internal invariant failed (a bug)."""
    code = 10


ERRORS = {cls.code: cls for cls in (NotFoundError, InvalidError, IoError, CorruptError,
                                    NoMemoryError, NoSpaceError, BusyError, ReadOnlyError,
                                    NotSupportedError, InternalError)}


def error_for(code):
    """The Error subclass of a return code (Error itself for a code newer than this binding)."""
    return ERRORS.get(code, Error)
