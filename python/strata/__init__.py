# SPDX-License-Identifier: Apache-2.0
"""strata -- Python binding of libstrata, an embedded crash-safe LSM-tree key-value store whose
tables are Apache Parquet files. Standard library only (ctypes); it loads the libstrata.so found
by the dynamic linker, or the one named by $STRATA_LIBRARY.

    import strata
    with strata.DB("/tmp/db") as db:
        db.put(b"k", b"v")
        assert db.get(b"k") == b"v"
        for key, value in db.items(prefix=b"k"):
            print(key, value)
"""
from ._lib import lib as _libstrata
from .db import DB, Batch, Snapshot, Iterator
from .errors import (Error, NotFoundError, InvalidError, IoError, CorruptError, NoMemoryError,
                     NoSpaceError, BusyError, ReadOnlyError, NotSupportedError, InternalError,
                     ERRORS)

__all__ = ["DB", "Batch", "Snapshot", "Iterator", "Error", "NotFoundError", "InvalidError",
           "IoError", "CorruptError", "NoMemoryError", "NoSpaceError", "BusyError",
           "ReadOnlyError", "NotSupportedError", "InternalError", "ERRORS", "library_version"]


def library_version():
    """The version string of the loaded libstrata ("0.1.0")."""
    return _libstrata.strata_version(None, None, None).decode()
