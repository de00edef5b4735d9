"""Writing a file atomically, and reading zip members within checked sizes."""

import contextlib
import os
import tempfile
import zipfile

# How far a zip member may expand when read. DEFLATE reaches about 1000:1 on
# constant data (a 3 MB member can hold 3 GiB of zeros); what a saved
# estimator holds expands far less: float weights about 1.1:1, the JSON and
# the padding of a small HDF5 file up to about 15:1. Members up to SMALL
# bytes are not limited, as small files' ratios say nothing.
MAX_EXPANSION = 100
SMALL = 2**24


class Refused(ValueError):
    """A file refused for a reason this library names (not a wrapped error)."""


def _mode_for_new_files():
    """The permission bits ``open(path, "w")`` would give a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def atomic_write(path):
    """Yield a binary file whose content replaces ``path`` only once complete.

    The file is written in the target's directory under a temporary name,
    flushed and ``fsync``-ed, then renamed over the target with
    :func:`os.replace`, which is atomic: a write that fails, or a process
    killed while writing, leaves the previous file untouched (and at most a
    hidden ``.<name>.*.tmp`` file beside it when killed). The old file is
    never opened for writing. (pip, conda and joblib write their caches the
    same way.)
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.",
                               suffix=".tmp")
    try:
        try:
            mode = os.stat(path).st_mode & 0o777
        except FileNotFoundError:
            mode = _mode_for_new_files()
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as file:
            yield file
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # the rename itself, on POSIX
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_members(path, members):
    """Write ``members`` (``{name: bytes}``) as a zip archive to ``path``:
    atomically (:func:`atomic_write`) to a path, directly to a binary file
    object (anything with ``write``)."""
    if hasattr(path, "write"):
        _zip(path, members)
        return
    with atomic_write(path) as file:
        _zip(file, members)


def _zip(file, members):
    with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def check_members(archive, expected, where):
    """Refuse ``archive`` unless its member names are among ``expected`` and
    each member's declared size is within its expansion limit.

    Raises ``ValueError`` naming ``where`` and the member. Nothing is
    decompressed: the sizes are the zip headers' (reading never goes past
    them, :func:`read_member`).
    """
    for info in archive.infolist():
        if info.filename not in expected:
            raise Refused(f"{where} holds an unexpected member {info.filename!r}; "
                             f"a saved estimator holds only {sorted(expected)}.")
        if info.file_size > SMALL and info.file_size > MAX_EXPANSION * max(
                info.compress_size, 1):
            raise Refused(
                f"{where}: member {info.filename!r} would expand from "
                f"{info.compress_size} to {info.file_size} bytes, more than "
                f"{MAX_EXPANSION} times; a saved estimator never does (a "
                "decompression bomb?).")
    names = [info.filename for info in archive.infolist()]
    if len(names) != len(set(names)):
        raise Refused(f"{where} holds a member twice.")


def read_member(archive, name, where, size=None):
    """The bytes of member ``name``, no more than its header declares.

    ``size``, where the estimator's metadata recorded one, must equal the
    declared size: a member swapped or edited after saving is refused
    before it is read.
    """
    info = archive.getinfo(name)
    if size is not None and info.file_size != size:
        raise Refused(f"{where}: member {name!r} holds {info.file_size} bytes, but "
                         f"the estimator was saved with {size}.")
    with archive.open(info) as member:  # stops at the declared size, checks the CRC
        data = member.read()
    if len(data) != info.file_size:
        raise Refused(f"{where}: member {name!r} is truncated.")
    return data


class CheckedArchive:
    """A saved file's zip archive, opened for reading, closed on leaving the
    ``with`` block; :meth:`member` reads a member within the size recorded in
    ``sizes`` (set by the subclass's ``__enter__`` from its metadata)."""

    sizes = {}

    def __init__(self, path, where):
        self.where = where
        self.archive = open_zip(path, where)

    def __exit__(self, *exc):
        self.archive.close()

    def member(self, name):
        return read_member(self.archive, name, self.where, self.sizes.get(name))


def open_zip(source, where):
    """``zipfile.ZipFile`` of ``source`` (a path or bytes-like file), or a
    ``ValueError`` naming ``where``."""
    try:
        return zipfile.ZipFile(source)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise Refused(f"{where} is not a file written by sklearn_mlk.save "
                         f"(not a readable zip archive: {exc}).") from None
