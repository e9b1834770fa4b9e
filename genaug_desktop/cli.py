"""``genaug``: the headless command line, over the same core jobs as the window.

Exit codes: 0 success; 1 a check failed (e.g. ``verify``); 2 bad usage or unusable input,
with one clear line on stderr and never a traceback. A dataset with some bad items is usable:
its problems are reported and the rest goes on.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from genaug_desktop import __version__


class UsageError(Exception):
    """Bad usage or unusable input: exit 2 with this message."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One clear line, not argparse's usage block.
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _progress_printer(enabled: bool) -> Callable[[Any], None] | None:
    if not enabled or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    bar: dict[str, Any] = {}

    def on_progress(p: Any) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=p.total, unit="item", file=sys.stderr, leave=False, dynamic_ncols=True)
        b = bar["bar"]
        if p.total is not None and b.total != p.total:
            b.total = p.total
        b.n = p.done
        b.set_description_str(p.message[:40], refresh=False)
        b.refresh()

    return on_progress


def _run(job: Any, quiet: bool = False) -> Any:
    from genaug_desktop.core.jobs import run_job

    return run_job(job, _progress_printer(not quiet))


def _scan_options(args: argparse.Namespace) -> Any:
    from genaug_desktop.core.datasets import ScanOptions

    opts = ScanOptions(
        text_column=getattr(args, "text_column", None),
        label_column=getattr(args, "label_column", None),
        encoding=getattr(args, "encoding", None),
    )
    if getattr(args, "workers", None) is not None:
        opts.workers = args.workers
    return opts


def _open_project(path: str) -> Any:
    from genaug_desktop.core.store import Project, ProjectError

    try:
        return Project.open(path)
    except ProjectError as exc:
        raise UsageError(str(exc)) from None


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


# ---- commands -------------------------------------------------------------------------------------
def cmd_scan(args: argparse.Namespace) -> int:
    from genaug_desktop.core.datasets import DatasetError, scan_job

    try:
        result = _run(scan_job(args.dataset, _scan_options(args)), quiet=args.json)
    except DatasetError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return 0
    print(f"{result.root}: {result.modality} dataset, {_plural(len(result.items), 'item')}")
    counts = result.class_counts()
    if counts:
        print(f"{_plural(len(counts), 'class')}:")
        width = max(len(c) for c in counts)
        for label, n in counts.items():
            print(f"  {label:<{width}}  {n:>8,}")
    unlabeled = sum(1 for i in result.items if i.label is None)
    if unlabeled and counts:
        print(f"  (unlabeled)  {unlabeled:,}")
    if result.problems:
        print(f"{_plural(len(result.problems), 'problem')}:")
        for p in result.problems:
            print(f"  {p.describe()}")
    else:
        print("no problems")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from genaug_desktop.core.datasets import DatasetError
    from genaug_desktop.core.store import ProjectError, init_project_job

    project_path = args.project
    if not project_path.endswith(".genaug"):
        project_path += ".genaug"
    try:
        project = _run(init_project_job(project_path, args.dataset, _scan_options(args)))
    except (DatasetError, ProjectError) as exc:
        raise UsageError(str(exc)) from None
    with project:
        status = project.status()
        problems = project.problems()
    print(
        f"created {project_path}: {status['modality']} dataset at {status['dataset']}, "
        f"{_plural(status['items'], 'item')}, {_plural(len(status['classes']), 'class')}, "
        f"{_plural(len(problems), 'problem')}"
    )
    for p in problems[:20]:
        print(f"  {p.describe()}", file=sys.stderr)
    if len(problems) > 20:
        print(f"  ... and {len(problems) - 20:,} more ('genaug scan DATASET' lists them all)", file=sys.stderr)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    with _open_project(args.project) as project:
        status = project.status()
        check = project.check_sources()
    status["sources"] = {"missing": len(check.missing), "changed": len(check.changed)}
    if args.json:
        print(json.dumps(status, ensure_ascii=False, indent=2))
        return 0
    print(f"project {args.project}: {status['modality']} dataset at {status['dataset']}")
    print(f"items: {status['items']:,} in {_plural(len(status['classes']), 'class')}; problems: {status['problems']:,}")
    print(f"candidates: {status['candidates']:,}")
    for key in ("by_status", "by_origin", "by_rule", "by_round"):
        if status[key]:
            parts = ", ".join(f"{k}: {v:,}" for k, v in status[key].items())
            print(f"  {key.replace('_', ' ')}: {parts}")
    if not check.ok:
        print(f"warning: {check.summary()}", file=sys.stderr)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    with _open_project(args.project) as project:
        try:
            candidates = project.candidates(status=args.status, origin=args.origin)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps([c.to_json() for c in candidates], ensure_ascii=False, indent=2))
        return 0
    for c in candidates:
        reason = f"  ({c.reason})" if c.reason else ""
        print(f"{c.id}\t{c.status}\t{c.origin}\t{c.label or '-'}\t{c.source_item or '-'}{reason}")
    return 0


def cmd_decide(args: argparse.Namespace) -> int:
    ids = args.accept or args.reject
    status = "accepted" if args.accept else "rejected"
    with _open_project(args.project) as project:
        try:
            changed = project.decide(ids, status, args.reason)
        except KeyError as exc:
            raise UsageError(f"no candidate with id {exc.args[0]} in this project; nothing was changed") from None
    print(f"{status} {_plural(len(ids), 'candidate')} ({changed:,} changed)")
    return 0


# ---- parser --------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="genaug", description="Curate augmented and synthetic datasets, headless.")
    parser.add_argument("--version", action="version", version=f"genaug-desktop {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def reader_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--text-column", metavar="C", help="CSV column / JSONL field holding the text")
        p.add_argument("--label-column", metavar="C", help="CSV column / JSONL field holding the label")
        p.add_argument("--encoding", help="text encoding when it is not UTF-8 (e.g. cp1252, latin-1)")
        p.add_argument("--workers", type=int, metavar="W", help="processes for reading image headers")

    p = sub.add_parser("scan", help="what is in a dataset, and every problem")
    p.add_argument("dataset", help="image folder, class tree, or .txt/.csv/.tsv/.jsonl file")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    reader_options(p)
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("init", help="create a project (NAME.genaug) for a dataset")
    p.add_argument("project", help="project folder to create (.genaug is added if missing)")
    p.add_argument("dataset")
    reader_options(p)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("status", help="counts by status, origin, class, rule and round")
    p.add_argument("project")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("list", help="candidates, one per line or as JSON")
    p.add_argument("project")
    p.add_argument("--status", choices=["pending", "accepted", "rejected"])
    p.add_argument("--origin", choices=["augmentation", "generator"])
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("decide", help="accept or reject candidates by id")
    p.add_argument("project")
    group = p.add_mutually_exclusive_group(required=True)
    group.add_argument("--accept", nargs="+", type=int, metavar="ID")
    group.add_argument("--reject", nargs="+", type=int, metavar="ID")
    p.add_argument("--reason", metavar="TEXT")
    p.set_defaults(func=cmd_decide)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"genaug {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"genaug {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into e.g. `head`: not an error for the user.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        print(f"genaug {args.command}: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
