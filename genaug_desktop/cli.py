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
from genaug_desktop.core.formatting import plural


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
    from genaug_desktop.core.engine import EngineError
    from genaug_desktop.core.jobs import run_job

    try:
        return run_job(job, _progress_printer(not quiet))
    except KeyboardInterrupt:
        job.close()  # stops a Ray pipeline (and a Ray started for it) before the process exits
        raise
    except EngineError as exc:  # Ray not installed, unreachable, or a task failed: one line, exit 2
        raise UsageError(str(exc)) from None


def _add_engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help='where the per-item work runs: local processes (default) or Ray Data '
                        '(pip install "genaug-desktop[ray]"; see docs/ray.md)')
    p.add_argument("--ray-address", metavar="ADDR",
                   help="with --engine ray: join this Ray cluster (e.g. auto, ray://head:10001) instead of "
                        "starting a local Ray with one CPU per worker")


def _engine(args: argparse.Namespace) -> Any:
    """The Engine for --engine/--ray-address/--workers; UsageError when it cannot run here."""
    from genaug_desktop.core.engine import Engine, EngineError, require

    if args.ray_address and args.engine != "ray":
        raise UsageError("--ray-address needs --engine ray")
    try:
        engine = Engine(args.engine, address=args.ray_address, workers=getattr(args, "workers", None))
        require(engine)
    except EngineError as exc:
        raise UsageError(str(exc)) from None
    return engine


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


_plural = plural


# ---- commands -------------------------------------------------------------------------------------
def cmd_scan(args: argparse.Namespace) -> int:
    from genaug_desktop.core.datasets import DatasetError, scan_job
    from genaug_desktop.core.datasets.model import printable_path

    try:
        result = _run(scan_job(args.dataset, _scan_options(args)), quiet=args.json)
    except DatasetError as exc:
        raise UsageError(str(exc)) from None
    shown = os.path.abspath(os.path.expanduser(args.dataset))  # the file of a CSV/JSONL dataset
    unusable = result.unusable_reason(shown)
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        if unusable:
            raise UsageError(unusable)
        return 0
    print(f"{printable_path(shown)}: {result.modality} dataset, {_plural(len(result.items), 'item')}")
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
    if unusable:  # every problem is listed above; the one line says what that means
        raise UsageError(unusable)
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
    _print_class_table(status)
    if not check.ok:
        print(f"warning: {check.summary()}", file=sys.stderr)
        if check.missing and len(check.missing) == check.checked:
            print(f"  every source file is missing: did the dataset move? "
                  f"genaug relink {args.project} NEW_DATASET_PATH points the project at its new place", file=sys.stderr)
    return 0


def _print_class_table(status: dict[str, Any]) -> None:
    """Items and candidates (by status) per class."""
    classes: dict[str, int] = dict(status["classes"])
    if status.get("unlabeled"):
        classes[""] = status["unlabeled"]
    by_class_status: dict[str, dict[str, int]] = status.get("by_class_status", {})
    labels = list(classes) + [c for c in by_class_status if c not in classes]
    if not labels:
        return
    shown = {c: c or "(unlabeled)" for c in labels}
    width = max(5, *(len(v) for v in shown.values()))
    print("by class:")
    print(f"  {'class':<{width}}  {'items':>8}  {'pending':>8}  {'accepted':>8}  {'rejected':>8}")
    for c in labels:
        per = by_class_status.get(c, {})
        print(f"  {shown[c]:<{width}}  {classes.get(c, 0):>8,}  {per.get('pending', 0):>8,}  "
              f"{per.get('accepted', 0):>8,}  {per.get('rejected', 0):>8,}")


def cmd_list(args: argparse.Namespace) -> int:
    with _open_project(args.project) as project:
        try:
            candidates = project.candidates(status=args.status, origin=args.origin)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps([c.to_json() for c in candidates], ensure_ascii=False, indent=2))
        return 0
    if not candidates:  # on stderr: stdout stays one line per candidate for scripts
        wanted = " ".join(w for w in (args.status, args.origin) if w)
        if wanted:
            print(f"no {wanted} candidates ('genaug status {args.project}' shows what there is)", file=sys.stderr)
        else:
            print("no candidates yet (make some with 'genaug augment' or 'genaug sample')", file=sys.stderr)
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


def cmd_ops(args: argparse.Namespace) -> int:
    from genaug_desktop.core.ops import registry

    described = [cls.describe() for _name, cls in sorted(registry().items())]
    if args.json:
        print(json.dumps(described, ensure_ascii=False, indent=2))
        return 0
    for modality in ("image", "text"):
        rows = [d for d in described if d["modality"] == modality]
        print(f"{modality} ops ({len(rows)}):")
        for d in rows:
            kind = "pre-processing" if d["preprocess"] else d["category"]
            status = "" if d["available"] else f"  [unavailable: {d['why']}]"
            print(f"  {d['name']:<22} {kind:<20} {d['help']}{status}")
    return 0


def _load_policy(path: str) -> Any:
    from genaug_desktop.core.atomic import check_regular_file
    from genaug_desktop.core.policy import Policy, PolicyError

    try:
        check_regular_file(path, 10 * 1024 * 1024)  # a pipe named as a policy would block forever
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the policy file: {exc.strerror or exc}") from None
    try:
        return Policy.load(path)
    except PolicyError as exc:
        raise UsageError(f"{path}: {exc}") from None


def _check_policy_for(policy: Any, policy_arg: str, project: Any, project_arg: str, command: str) -> None:
    """A policy of the other modality is unusable (exit 2); a label in a step's ``when`` that the
    project does not have is a warning on stderr (the step would never, or always, run)."""
    from genaug_desktop.core.policy import label_warnings

    if policy.modality != project.modality:
        article = "an" if policy.modality == "image" else "a"
        raise UsageError(f"{policy_arg} is {article} {policy.modality} policy, but {project_arg} holds {project.modality}")
    for warning in label_warnings(policy, sorted(project.class_counts())):
        print(f"genaug {command}: warning: {policy_arg}: {warning}", file=sys.stderr)


def cmd_policy(args: argparse.Namespace) -> int:
    policy = _load_policy(args.policy)
    from genaug_desktop.core.policy import _walk

    if args.project is not None:
        with _open_project(args.project) as project:
            _check_policy_for(policy, args.policy, project, args.project, "policy")
    n_ops = len(_walk(policy.steps))
    print(
        f"{args.policy}: valid {policy.modality} policy{' ' + repr(policy.name) if policy.name else ''} "
        f"({len(policy.preprocess)} pre-processing, {n_ops} random ops; sha256 {policy.sha256[:12]})"
    )
    return 0


def cmd_augment(args: argparse.Namespace) -> int:
    from genaug_desktop.core.augment import augment_job

    policy = _load_policy(args.policy)
    if args.per_item is not None and args.per_item < 0:
        raise UsageError("--per-item must be 0 or more")
    if isinstance(args.balance, int) and args.balance < 1:
        raise UsageError("--balance TARGET must be 1 or more (or no TARGET: the largest class)")
    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be 1 or more")
    engine = _engine(args)
    with _open_project(args.project) as project:
        _check_policy_for(policy, args.policy, project, args.project, "augment")
        targets = None
        if args.balance is not None:
            targets = _balance_targets(project, args.balance if isinstance(args.balance, int) else None)
            if targets is None:
                return 0
        job = augment_job(
            project, policy, per_item=args.per_item if args.per_item is not None else 1, seed=args.seed,
            targets=targets, workers=args.workers, engine=engine,
        )
        before = _variants_made(project, policy, args.seed)
        try:
            result = _run(job)
        except KeyboardInterrupt as exc:
            kept = _variants_made(project, policy, args.seed) - before
            if str(exc) and not kept:  # e.g. Ray's start cancelled: its message says it all
                raise
            made = (f"the {_plural(kept, 'candidate')} made before that {'is' if kept == 1 else 'are'} kept"
                    if kept else "no candidate was made yet")
            raise KeyboardInterrupt(
                f"{str(exc) or 'interrupted'}; {made}; "
                f"run the same command again (same --policy and --seed {args.seed}) to make the rest"
            ) from None
        print(result.summary())
        all_failed = bool(result.failures) and not result.created and not result.skipped_existing
        shown = 3 if all_failed else 20  # when all failed, the last line says why; a few examples do
        for key, reason in result.failures[:shown]:
            print(f"  {key}: {reason}", file=sys.stderr)
        if len(result.failures) > shown:
            print(f"  ... and {len(result.failures) - shown:,} more", file=sys.stderr)
        if all_failed:
            print(f"genaug augment: {_why_all_failed(project, args.project, result.failures)}", file=sys.stderr)
            return 1
    return 0


def _variants_made(project: Any, policy: Any, seed: int) -> int:
    return sum(len(v) for v in project.existing_variants(policy.sha256, seed).values())


def _balance_targets(project: Any, target: int | None) -> dict[str, int] | None:
    """Per-class targets for --balance; None (after saying why) when there is nothing to make."""
    from genaug_desktop.core.augment import class_balance_targets

    counts = project.class_counts()
    if not counts:
        raise UsageError("--balance needs labelled items, and this project's items have no class; use --per-item N")
    targets = class_balance_targets(project, target)
    if all(targets[c] <= n for c, n in counts.items()):
        smallest, largest = min(counts.values()), max(counts.values())
        if target is None:
            print(f"0 candidates made: the classes are already balanced at {largest:,} items each "
                  "(give --balance TARGET to grow them all)")
        else:
            print(f"0 candidates made: every class already has {target:,} items or more "
                  f"(the smallest has {smallest:,}); give a larger --balance TARGET")
        return None
    return targets


def _why_all_failed(project: Any, project_arg: str, failures: list[tuple[str, str]]) -> str:
    """One line for a job in which every item failed: missing sources, or the commonest reason."""
    from collections import Counter

    check = project.check_sources()
    if check.missing:
        n, total = len(check.missing), check.checked
        moved = " (did the dataset move?" if n == total else " ("
        return (
            f"every item failed: {n:,} of {total:,} source files are missing{moved} "
            f"'genaug relink {project_arg} NEW_DATASET_PATH' points the project at its new place)"
        )
    reason, n = Counter(r for _k, r in failures).most_common(1)[0]
    return f"every item failed; {n:,} of {len(failures):,} with: {reason}"


def cmd_relink(args: argparse.Namespace) -> int:
    from genaug_desktop.core.store import ProjectError, relink_job

    with _open_project(args.project) as project:
        old = project.dataset_path
        try:
            report = _run(relink_job(project, args.dataset, dry_run=args.dry_run), quiet=args.json)
        except ProjectError as exc:
            raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    elif report.unchanged_location:
        print(f"{args.project} already uses {report.dataset_path}: {report.counts()}")
    elif args.dry_run:
        print(f"would point {args.project} at {report.dataset_path} (now {old}): {report.counts()}; nothing was changed")
    else:
        print(f"{args.project} now uses {report.dataset_path} (was {old}): {report.counts()}")
    for what, paths in (("missing", report.missing), ("changed", report.changed)):
        for rel in paths[:10]:
            print(f"  {what}: {rel}", file=sys.stderr)
        if len(paths) > 10:
            print(f"  ... and {len(paths) - 10:,} more {what}", file=sys.stderr)
    return 0


# ---- parser ----
#: modules with ``register(subparsers, common)``; they must import nothing heavy at module level
_COMMAND_MODULES = ("genaug_desktop.cli_rules", "genaug_desktop.cli_export", "genaug_desktop.cli_generators",
                    "genaug_desktop.cli_evaluate")


class _Common:
    """What command modules share with this one."""

    Parser = _Parser
    UsageError = UsageError

    @staticmethod
    def open_project(path: str) -> Any:
        return _open_project(path)

    @staticmethod
    def run(job: Any, quiet: bool = False) -> Any:
        return _run(job, quiet)

    @staticmethod
    def plural(n: int, word: str) -> str:
        return _plural(n, word)

    @staticmethod
    def add_engine_options(p: argparse.ArgumentParser) -> None:
        _add_engine_options(p)

    @staticmethod
    def engine(args: argparse.Namespace) -> Any:
        return _engine(args)


_COMMON = _Common()

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

    p = sub.add_parser("ops", help="every op: name, modality, parameters, availability")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ops)

    p = sub.add_parser("policy", help="work with policy files")
    policy_sub = p.add_subparsers(dest="policy_command", metavar="ACTION", parser_class=_Parser)
    policy_sub.required = True
    v = policy_sub.add_parser("validate", help="check a policy file; errors name the JSON path")
    v.add_argument("policy", metavar="POLICY.json")
    v.add_argument("--project", metavar="PROJECT",
                   help="also check it against a project: its modality, and labels in 'when' it does not have")
    v.set_defaults(func=cmd_policy)

    p = sub.add_parser("augment", help="make augmented candidates with a policy")
    p.add_argument("project")
    p.add_argument("--policy", required=True, metavar="POLICY.json")
    how_many = p.add_mutually_exclusive_group()
    how_many.add_argument("--per-item", type=int, metavar="N", help="variants per item (default 1)")
    # const is not a str: argparse would run a str const through type=int
    how_many.add_argument("--balance", type=int, nargs="?", const=..., metavar="TARGET",
                          help="instead of --per-item: bring every class up to TARGET items (default: the largest class)")
    p.add_argument("--seed", type=int, default=0, metavar="S")
    p.add_argument("--workers", type=int, metavar="W", help="worker processes (default: every core)")
    _add_engine_options(p)
    p.set_defaults(func=cmd_augment)

    # Feature areas register their own commands (rules, export, generators, ...).
    import importlib
    import importlib.util

    for name in _COMMAND_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(sub, _COMMON)

    p = sub.add_parser(
        "relink", help="point a project at its dataset's new place (after the dataset was moved)",
        description="Check the dataset at NEW_DATASET_PATH against the content hashes the project holds and, when "
                    "files match, make the project use it. The dataset is only read; nothing changes if none match.",
    )
    p.add_argument("project")
    p.add_argument("dataset", metavar="NEW_DATASET_PATH", help="the dataset folder (or the CSV/JSONL/TXT file) at its new place")
    p.add_argument("--dry-run", action="store_true", help="report what matches, change nothing")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.set_defaults(func=cmd_relink)

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
    except KeyboardInterrupt as exc:  # a message says what was stopped (e.g. Ray while starting)
        print(f"genaug {args.command}: {str(exc) or 'interrupted'}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # Output piped into e.g. `head`: not an error for the user.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        print(f"genaug {args.command}: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug: say so in one line; GENAUG_DEBUG=1 shows the traceback
        from genaug_desktop.core.store.project import ProjectError

        if isinstance(exc, ProjectError):  # the project became unusable mid-way (disk full, busy)
            print(f"genaug {args.command}: {exc}", file=sys.stderr)
            return 2
        if os.environ.get("GENAUG_DEBUG"):
            raise
        print(
            f"genaug {args.command}: internal error ({type(exc).__name__}: {exc}); "
            "please report it (run with GENAUG_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
