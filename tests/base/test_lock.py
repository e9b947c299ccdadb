"""The grid folder lock: one holder at a time, named in the refusal, never stuck."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rethink.base.lock import FolderLock, LockError, holder

HOLD = """
import sys, time
from pathlib import Path
from rethink.base.lock import FolderLock
FolderLock(Path(sys.argv[1])).acquire()
print("locked", flush=True)
time.sleep(60)
"""


def test_a_second_lock_on_the_folder_is_refused_naming_the_holder(tmp_path: Path) -> None:
    with FolderLock(tmp_path) as first:
        assert first.locked
        assert holder(tmp_path)["pid"] == os.getpid()
        with pytest.raises(LockError, match=rf"in use .*pid {os.getpid()} on "):
            FolderLock(tmp_path).acquire()
    assert not first.locked
    with FolderLock(tmp_path):  # free again after release
        pass


def test_the_lock_dies_with_its_holder_even_on_kill_9(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        with pytest.raises(LockError, match=f"pid {proc.pid}"):
            FolderLock(tmp_path).acquire()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    lock = FolderLock(tmp_path)
    lock.acquire()  # the OS released it: no stale lock
    lock.release()


def test_child_processes_do_not_keep_the_lock(tmp_path: Path) -> None:
    # The holder starts a long-lived child (a worker) and is then killed: were the
    # lock's descriptor inherited, the child would keep the folder locked.
    spawn = HOLD.replace(
        'print("locked", flush=True)',
        "import subprocess\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)'], close_fds=False)\n"
        'print("locked", child.pid, flush=True)',
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", spawn, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    word, child = proc.stdout.readline().split()
    try:
        assert word == "locked"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        os.kill(int(child), 0)  # the child is still alive...
        with FolderLock(tmp_path):  # ...and yet the folder is free
            pass
    finally:
        os.kill(int(child), signal.SIGKILL)
