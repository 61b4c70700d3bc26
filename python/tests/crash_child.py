# SPDX-License-Identifier: Apache-2.0
"""crash_child.py DB N MODE -- write N keys to DB (puts and batches, sync off), print "written N"
and die without closing: MODE kill (SIGKILL to itself) or exit (os._exit, no cleanup), leaving
an iterator and a snapshot open. Used by test_strata.py's crash tests."""
import os
import signal
import sys

import strata

path, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
db = strata.DB(path)
for i in range(0, n, 2):
    db.put(b"key%08d" % i, b"value %d" % i)
with strata.Batch() as b:
    for i in range(1, n, 2):
        b.put(b"key%08d" % i, b"value %d" % i)
    db.write(b)
db.delete(b"key%08d" % 0)
snap = db.snapshot()
it = db.items()
next(it)
print("written", n, flush=True)
if mode == "kill":
    os.kill(os.getpid(), signal.SIGKILL)
os._exit(0)
