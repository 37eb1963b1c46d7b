"""nbgrader's exchange, made safe for a shared server.

Stock `nbgrader collect` copies each submission with copytree, which keeps the modes `nbgrader submit`
gave it: the submission's folder in the inbound exchange is 0777 ("so the instructor can delete it
later"), so the collected copy in submitted/ was world-writable and a trainee could change it before
grading. `LockedCollect` collects as nbgrader does, then makes the copy the lecturers' read-only
record: folders 2770 and files 0440, group = the course folder's group (the lecturers), nothing for
others. It is wired in each course's nbgrader_config.py (`c.ExchangeFactory.collect`).

Owns: modes of collected submissions. May import: nbgrader's exchange, the standard library."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from nbgrader.exchange.default.collect import ExchangeCollect

DIR_MODE = 0o2770      # lecturers (group) may list and replace; others nothing
FILE_MODE = 0o440      # read-only to the collecting lecturer and the lecturers' group; others nothing


def lock_submission(folder: str | os.PathLike, *, group: int | None = None) -> int:
    """Give a collected submission the modes above (and the group `group`, default: that of the
    folder's parent). Returns the number of paths changed."""
    folder = Path(folder)
    gid = folder.parent.stat().st_gid if group is None else group
    changed = 0
    for path in [folder, *folder.rglob("*")]:
        if path.is_symlink():
            path.unlink()                   # a submission holds files, never links to elsewhere
            changed += 1
            continue
        st = path.lstat()
        if st.st_gid != gid:
            try:
                os.chown(path, -1, gid)
            except PermissionError:
                pass                        # not a member of that group: the modes still apply
        mode = DIR_MODE if stat.S_ISDIR(st.st_mode) else FILE_MODE
        if stat.S_IMODE(os.stat(path).st_mode) != mode:
            os.chmod(path, mode)
            changed += 1
    return changed


class LockedCollect(ExchangeCollect):
    """`nbgrader collect`, and Formgrader's collect button, leaving each collected submission read-only
    and closed to trainees."""

    def do_copy(self, src, dest, log=None):
        super().do_copy(src, dest, log=log)
        lock_submission(dest)
