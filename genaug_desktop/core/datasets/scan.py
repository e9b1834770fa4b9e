"""Scanning a dataset: walk the folder safely, then read headers in a streaming job.

The walk lists paths only (fast, no file reads), so the total is known at once; headers are
then read in batches (in worker processes for big image folders) and each batch is yielded
as progress, so a view fills while the scan goes on. Symlinks that leave the dataset root
are not followed, loops are detected, and every skipped file is reported.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass

from genaug_desktop.core.datasets.model import (
    IGNORED_NAMES,
    IMAGE_EXTENSIONS,
    TEXT_EXTENSIONS,
    DatasetError,
    Item,
    Modality,
    Problem,
    ScanBatch,
    ScanOptions,
    ScanResult,
    check_encoding,
    is_utf8,
    printable_path,
)
from genaug_desktop.core.jobs import CancelToken, Job, Progress

_PARALLEL_MIN_FILES = 3000
_BATCH = 256
_FIRST_BATCH = 64  # about a screenful of thumbnails


@dataclass(frozen=True, slots=True)
class FoundFile:
    abspath: str
    rel: str
    label: str | None
    kind: Modality | None  # None: unknown extension, sniffed when read


def _is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def walk_dataset(root: str) -> tuple[list[FoundFile], list[Problem]]:
    """List candidate files under *root* in a stable (sorted) order.

    Returns the files and the problems met on the way (links out of the root, loops,
    unreadable folders). Hidden files and OS clutter are skipped silently.
    """
    root_real = os.path.realpath(root)
    files: list[FoundFile] = []
    problems: list[Problem] = []
    visited: dict[tuple[int, int], str] = {}
    # Linked folders are walked after every real one, so that a folder reached both directly
    # and through a link is scanned under its real path (and its real class name).
    linked_dirs: list[str] = []

    def rel_of(path: str) -> str:
        return os.path.relpath(path, root).replace(os.sep, "/")

    def visit(directory: str) -> None:
        try:
            st = os.stat(directory)
        except OSError as exc:
            problems.append(Problem(rel_of(directory), f"cannot open folder: {exc.strerror or exc}"))
            return
        key = (st.st_dev, st.st_ino)
        if key in visited:
            target = os.path.realpath(directory)
            if _is_within(os.path.realpath(os.path.dirname(directory)), target):
                problems.append(Problem(rel_of(directory), "symbolic link loop; not followed"))
            else:
                problems.append(Problem(
                    rel_of(directory),
                    f"symbolic link to a folder already in the dataset ({visited[key]}); not followed",
                ))
            return
        visited[key] = rel_of(directory)
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except PermissionError:
            problems.append(Problem(rel_of(directory), "permission denied"))
            return
        except OSError as exc:
            problems.append(Problem(rel_of(directory), f"cannot list folder: {exc.strerror or exc}"))
            return
        subdirs: list[str] = []
        # Relative paths from the folder's own, by concatenation: os.path.relpath per file was
        # 60 % of a 100,000-file walk.
        prefix = visited[key] + "/" if visited[key] != "." else ""
        for entry in entries:
            name = entry.name
            if name.startswith(".") or name.lower() in IGNORED_NAMES:
                continue
            path = entry.path
            if not is_utf8(name):
                # The project stores names as UTF-8 text; a name of other bytes (made on an old
                # system, or by a tool) cannot be kept, exported or shown faithfully.
                what = "folder name is not valid UTF-8; rename it to use the files in it" if entry.is_dir(
                    follow_symlinks=False) else "file name is not valid UTF-8; rename it to use it"
                problems.append(Problem(printable_path(rel_of(path)), what))
                continue
            try:
                if entry.is_symlink():
                    target = os.path.realpath(path)
                    if not os.path.exists(target):
                        problems.append(Problem(rel_of(path), "broken symbolic link"))
                        continue
                    if not _is_within(target, root_real):
                        problems.append(Problem(rel_of(path), "symbolic link leads outside the dataset folder; not followed"))
                        continue
                is_dir = entry.is_dir(follow_symlinks=True)
                is_file = not is_dir and entry.is_file(follow_symlinks=True)
            except OSError as exc:
                problems.append(Problem(rel_of(path), f"cannot read: {exc.strerror or exc}"))
                continue
            if is_dir and entry.is_symlink():
                linked_dirs.append(path)
            elif is_dir:
                subdirs.append(path)
            elif is_file:
                rel = prefix + name
                slash = rel.find("/")
                label = rel[:slash] if slash > 0 else None
                dot = name.rfind(".")
                ext = name[dot:].lower() if dot > 0 else ""
                kind: Modality | None = (
                    "image" if ext in IMAGE_EXTENSIONS else "text" if ext in TEXT_EXTENSIONS else None
                )
                files.append(FoundFile(path, rel, label, kind))
            else:
                problems.append(Problem(rel_of(path), "not a regular file (device, socket or pipe)"))
        for sub in subdirs:
            visit(sub)

    visit(root)
    while linked_dirs:
        visit(linked_dirs.pop(0))
    return files, problems


def detect_modality(files: list[FoundFile]) -> Modality:
    images = sum(1 for f in files if f.kind == "image")
    texts = sum(1 for f in files if f.kind == "text")
    return "text" if texts > images else "image"


def _probe_one(found: FoundFile, options: ScanOptions) -> Item | Problem:
    from genaug_desktop.core.datasets.images import ImageProblem, probe_image

    try:
        header = probe_image(found.abspath, options.max_pixels)
    except ImageProblem as exc:
        return Problem(found.rel, str(exc))
    except Exception as exc:  # a bug in a decoder plug-in must not stop the scan
        return Problem(found.rel, f"cannot read image: {exc}")
    return Item(
        key=found.rel, path=found.rel, modality="image", label=found.label, sha256=header.sha256,
        size=header.size, width=header.width, height=header.height, format=header.format, mode=header.mode,
    )


def probe_images(batch: list[FoundFile], options: ScanOptions) -> list[Item | Problem]:
    """Header-read a batch of image files (runs in worker processes)."""
    return [_probe_one(f, options) for f in batch]


def _worker_count(options: ScanOptions, n_files: int) -> int:
    if options.workers is not None:
        return max(1, options.workers)
    if n_files < _PARALLEL_MIN_FILES:
        return 1
    return max(1, min(os.cpu_count() or 1, 8))


def _image_batches(files: list[FoundFile], options: ScanOptions, cancel: CancelToken) -> Iterator[list[Item | Problem]]:
    batches = [files[i : i + _BATCH] for i in range(0, len(files), _BATCH)]
    workers = _worker_count(options, len(files))
    if workers == 1:
        for batch in batches:
            cancel.raise_if_cancelled()
            yield probe_images(batch, options)
        return
    # forkserver: never fork a process that may hold Qt or torch threads.
    ctx = multiprocessing.get_context("forkserver")
    with cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        pending: dict[int, cf.Future[list[Item | Problem]]] = {}
        # The first files are read here while the worker processes start (0.3-1 s), so a view
        # shows the first screenful at once; the rest go to the pool, in order.
        head, batches = files[:_FIRST_BATCH], [files[i : i + _BATCH] for i in range(_FIRST_BATCH, len(files), _BATCH)]
        nxt = 0
        try:
            while nxt < len(batches) and nxt < workers * 3:
                pending[nxt] = pool.submit(probe_images, batches[nxt], options)
                nxt += 1
            yield probe_images(head, options)
            for index in range(len(batches)):
                while nxt < len(batches) and nxt < index + workers * 3:
                    pending[nxt] = pool.submit(probe_images, batches[nxt], options)
                    nxt += 1
                cancel.raise_if_cancelled()
                yield pending.pop(index).result()
        finally:
            for fut in pending.values():
                fut.cancel()


def _text_items(files: list[FoundFile], options: ScanOptions, cancel: CancelToken, root_is_file: bool) -> Iterator[list[Item | Problem]]:
    from genaug_desktop.core.datasets.text import read_text_file

    batch: list[Item | Problem] = []
    for found in files:
        cancel.raise_if_cancelled()  # also between files: a small text dataset never fills a batch
        label = None if root_is_file else found.label
        for entry in read_text_file(found.abspath, found.rel, label, options):
            batch.append(entry)
            if len(batch) >= 2048:
                cancel.raise_if_cancelled()
                yield batch
                batch = []
    if batch:
        yield batch


def scan_job(root: str, options: ScanOptions | None = None, cancel: CancelToken | None = None) -> Job[ScanResult]:
    """Scan the dataset at *root* (a folder, or a single text file).

    Yields :class:`Progress` whose payload is a :class:`ScanBatch` of new items and problems;
    returns the complete :class:`ScanResult`. Raises :class:`DatasetError` when the dataset as a
    whole is unusable.
    """
    options = options or ScanOptions()
    cancel = cancel or CancelToken()
    check_encoding(options.encoding)  # a misspelt name is a usage error, not a problem per file
    root = os.path.abspath(os.path.expanduser(root))
    shown = printable_path(root)  # a message must be valid text, whatever bytes the path holds
    try:
        st = os.stat(root)
    except FileNotFoundError:
        raise DatasetError(f"{shown}: no such file or folder") from None
    except PermissionError:
        raise DatasetError(f"{shown}: permission denied") from None
    except OSError as exc:
        raise DatasetError(f"{shown}: {exc.strerror or exc}") from None

    problems: list[Problem] = []
    if stat.S_ISDIR(st.st_mode):
        files, walk_problems = walk_dataset(root)
        problems.extend(walk_problems)
        root_is_file = False
    elif stat.S_ISREG(st.st_mode):
        name = os.path.basename(root)
        ext = os.path.splitext(name)[1].lower()
        if ext not in TEXT_EXTENSIONS:
            raise DatasetError(
                f"{shown}: a single file must be a text dataset (.txt, .csv, .tsv, .jsonl); "
                "for images open the folder that holds them"
            )
        if not is_utf8(name):  # as for a file of a folder: the project could not keep its items
            raise DatasetError(f"{shown}: the file name is not valid UTF-8; rename it to use it as a dataset")
        files = [FoundFile(root, name, None, "text")]
        root = os.path.dirname(root)
        root_is_file = True
    else:
        raise DatasetError(f"{shown}: not a file or folder")

    modality = detect_modality(files)
    usable: list[FoundFile] = []
    for f in files:
        if f.kind == modality or (f.kind is None and modality == "image"):
            usable.append(f)  # unknown extensions are sniffed: content decides, not the name
        elif f.kind is None:
            problems.append(Problem(f.rel, "not a supported text file (.txt, .csv, .tsv, .jsonl)"))
        else:
            article = "an" if modality == "image" else "a"
            problems.append(Problem(f.rel, f"{f.kind} file in {article} {modality} dataset; skipped"))

    items: list[Item] = []
    total = len(usable)
    yield Progress(0, total, f"Found {total:,} files", ScanBatch([], list(problems)))
    if modality == "image":
        done = 0
        for results in _image_batches(usable, options, cancel):
            batch = ScanBatch()
            for r in results:
                if isinstance(r, Item):
                    batch.items.append(r)
                elif r.reason.startswith("not an image") and _kind_of(r.path, usable) is None:
                    batch.problems.append(Problem(r.path, "not an image or a supported text file"))
                else:
                    batch.problems.append(r)
            done += len(results)
            items.extend(batch.items)
            problems.extend(batch.problems)
            yield Progress(done, total, f"Read {done:,} of {total:,} files", batch)
    else:
        files_done = 0
        seen_paths: set[str] = set()
        for results in _text_items(usable, options, cancel, root_is_file):
            batch = ScanBatch()
            for r in results:
                if isinstance(r, Item):
                    batch.items.append(r)
                else:
                    batch.problems.append(r)
                seen_paths.add(r.path)
            files_done = len(seen_paths)
            items.extend(batch.items)
            problems.extend(batch.problems)
            yield Progress(files_done, total, f"Read {len(items):,} texts", batch)
        yield Progress(total, total, f"Read {len(items):,} texts", ScanBatch())
    if not items and not problems:
        raise DatasetError(f"{shown}: no images or text files found")
    return ScanResult(root=root, modality=modality, items=items, problems=problems)


def _kind_of(rel: str, files: list[FoundFile]) -> Modality | None:
    ext = os.path.splitext(rel)[1].lower()
    return "image" if ext in IMAGE_EXTENSIONS else "text" if ext in TEXT_EXTENSIONS else None


def scan(root: str, options: ScanOptions | None = None, cancel: CancelToken | None = None) -> ScanResult:
    """Scan synchronously; see :func:`scan_job`."""
    from genaug_desktop.core.jobs import run_job

    return run_job(scan_job(root, options, cancel))
