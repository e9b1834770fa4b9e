"""``genaug generators``, ``genaug train`` and ``genaug sample``: generators, headless.

::

    genaug generators [--json]
    genaug train PROJECT --generator NAME [--set key=value ...] [--seed S] [--round K] [--resume [CKPT]] [--json]
    genaug sample PROJECT --generator NAME|FILE.pt --count N [--seed S] [--set key=value ...]
                  [--label L] [--checkpoint CKPT] [--round K] [--trust-code] [--json]

``--set`` values are read with the types of the generator's declared parameters (``train``:
the generator's ``params`` plus ``max_synthetic_share``; ``sample``: its ``sample_params``,
e.g. ``temperature``, ``top_k``); a bad one names the key. Ctrl-C during ``train`` stops at
the next step and keeps a resumable checkpoint (``--resume`` continues it). A TorchScript
file runs code when loaded, so ``sample`` needs ``--trust-code`` for one.
Nothing heavy is imported at module level: the parser is built on every ``genaug`` start.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Iterable, Iterator
from typing import Any

_COMMON: Any = None


def register(sub: Any, common: Any) -> None:
    """Add ``generators``, ``train`` and ``sample`` to the ``genaug`` sub-command parsers."""
    global _COMMON
    _COMMON = common

    p = sub.add_parser("generators", help="every generator: name, modality, parameters, availability")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_generators)

    p = sub.add_parser("train", help="train a generator on the project (a self-training round)")
    p.add_argument("project")
    p.add_argument("--generator", required=True, metavar="NAME", help="see 'genaug generators'")
    p.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE",
                   help="a training parameter, e.g. --set epochs=20 (repeatable)")
    p.add_argument("--seed", type=int, default=0, metavar="S")
    p.add_argument("--round", type=int, metavar="K",
                   help="self-training round (default: one after the newest round with accepted samples)")
    p.add_argument("--resume", nargs="?", const="", metavar="CKPT",
                   help="continue a cancelled run (default: the newest partial checkpoint of the generator)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("sample", help="sample candidates from a trained generator")
    p.add_argument("project")
    p.add_argument("--generator", required=True, metavar="NAME",
                   help="a generator name, or a TorchScript file (needs --trust-code)")
    p.add_argument("--count", type=int, required=True, metavar="N")
    p.add_argument("--seed", type=int, default=0, metavar="S")
    p.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE",
                   help="a sampling parameter, e.g. --set temperature=0.8 (repeatable)")
    p.add_argument("--label", metavar="L", help="class of every sample (default: drawn per sample)")
    p.add_argument("--checkpoint", metavar="CKPT", help="SHA-256 (prefix) or file name (default: the newest)")
    p.add_argument("--round", type=int, metavar="K", help="round recorded on the candidates (default: the checkpoint's)")
    p.add_argument("--trust-code", action="store_true", help="allow loading a TorchScript file (it runs its code)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_sample)


# ---- --set key=value ------------------------------------------------------------------------------------
def _parse_value(param: Any, text: str) -> Any:
    kind = param.kind
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a whole number") from None
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None
    if kind == "bool":
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        raise ValueError(f"{text!r} is not true or false")
    if kind == "choice":
        for choice in param.choices or ():
            if str(choice) == text or (isinstance(choice, bool) and text.lower() == str(choice).lower()):
                return choice
        raise ValueError(f"{text!r} is not one of {', '.join(str(c) for c in param.choices or ())}")
    if kind in ("float_range", "int_range", "color", "str_list"):
        parts = [p.strip() for p in text.split(",")] if text else []
        if kind == "str_list":
            return parts
        number = int if kind in ("int_range", "color") else float
        try:
            return [number(p) for p in parts]
        except ValueError:
            raise ValueError(f"{text!r} is not a comma-separated list of numbers") from None
    return text


def parse_assignments(assignments: Iterable[str], *paramsets: Any) -> dict[str, Any]:
    """``["epochs=5", ...]`` read with the declared types; ValueError names the bad key."""
    from genaug_desktop.core.params import ParamError

    declared = {p.name: p for ps in paramsets for p in ps}
    out: dict[str, Any] = {}
    for item in assignments:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"--set {item!r}: write KEY=VALUE")
        if key not in declared:
            known = ", ".join(declared) or "none"
            raise ValueError(f"--set {key}: unknown parameter (known: {known})")
        try:
            value = _parse_value(declared[key], text)
            out[key] = declared[key].validate(value, key)
        except ParamError as exc:
            raise ValueError(f"--set {key}: {exc.message}") from None
        except ValueError as exc:
            raise ValueError(f"--set {key}: {exc}") from None
    return out


# ---- commands ---------------------------------------------------------------------------------------------
def cmd_generators(args: argparse.Namespace) -> int:
    from genaug_desktop.core.generators import describe_generators

    rows = describe_generators()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for modality in ("image", "text", None):
        group = [r for r in rows if r["modality"] == modality]
        if not group:
            continue
        print(f"{modality} generators ({len(group)}):" if modality else f"unusable plug-ins ({len(group)}):")
        for r in group:
            status = "" if r["available"] else f"  [unavailable: {r['why']}]"
            print(f"  {r['name']:<14} {r['source']:<12} {r['help']}{status}")
            if r["params"]:
                print("      train:  " + ", ".join(f"{k}={v['default']}" for k, v in r["params"].items()))
            if r["sample_params"]:
                print("      sample: " + ", ".join(f"{k}={v['default']}" for k, v in r["sample_params"].items()))
    return 0


class _Interrupt:
    """Ctrl-C sets the job's cancel token (the job stops between steps and keeps its state);
    a second Ctrl-C interrupts at once."""

    def __init__(self, token: Any) -> None:
        self.token = token
        self.previous: Any = None

    def __enter__(self) -> _Interrupt:
        def handler(signum: int, frame: Any) -> None:
            if self.token.cancelled:
                raise KeyboardInterrupt
            self.token.cancel()
            print("genaug: stopping after the current step (Ctrl-C again to stop now)", file=sys.stderr)

        try:
            self.previous = signal.signal(signal.SIGINT, handler)
        except ValueError:  # not the main thread
            self.previous = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _echo_epochs(job: Any, enabled: bool) -> Iterator[Any]:
    """Pass progress through; without a terminal, print one line per finished epoch to stderr."""
    while True:
        try:
            progress = next(job)
        except StopIteration as stop:
            return stop.value
        payload = progress.payload
        if enabled and isinstance(payload, dict) and payload.get("phase") in ("validate", "done"):
            print(progress.message, file=sys.stderr, flush=True)
        yield progress


def _usage_errors() -> tuple[type[BaseException], ...]:
    from genaug_desktop.core.generators import GeneratorError
    from genaug_desktop.core.params import ParamError

    return (GeneratorError, ParamError)


def cmd_train(args: argparse.Namespace) -> int:
    from genaug_desktop.core.generators import DATA_PARAMS, get_generator, train_job
    from genaug_desktop.core.jobs import CancelToken, Cancelled

    usage = _usage_errors()
    try:
        cls = get_generator(args.generator)
        values = parse_assignments(args.assignments, cls.params, DATA_PARAMS)
    except (ValueError, *usage) as exc:  # type: ignore[misc]  # a tuple of exception classes
        raise _COMMON.UsageError(str(exc)) from None
    if args.round is not None and args.round < 0:
        raise _COMMON.UsageError("--round must be 0 or more")
    share = values.pop("max_synthetic_share", DATA_PARAMS.defaults()["max_synthetic_share"])
    token = CancelToken()
    with _COMMON.open_project(args.project) as project:
        resume = None
        if args.resume is not None:
            from genaug_desktop.core.generators import find_checkpoint

            try:
                resume = (args.resume or find_checkpoint(project, None, args.generator, states=("partial",)).sha256)
            except usage as exc:
                raise _COMMON.UsageError(str(exc)) from None
        job = train_job(project, args.generator, values, seed=args.seed, round=args.round,
                        max_synthetic_share=share, resume=resume, cancel=token)
        try:
            with _Interrupt(token):
                result = _COMMON.run(_echo_epochs(job, not sys.stderr.isatty()), quiet=args.json)
        except Cancelled:
            from genaug_desktop.core.generators import list_checkpoints

            partial = list_checkpoints(project, args.generator, state="partial")
            where = (f"; kept {partial[0].name}; continue with --resume {partial[0].sha256[:12]}"
                     if partial else "")
            print(f"genaug train: cancelled{where}", file=sys.stderr)
            return 130
        except usage as exc:
            raise _COMMON.UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        print(result.summary())
    return 0


def _looks_like_file(name: str) -> bool:
    return os.sep in name or name.endswith((".pt", ".pth", ".ts", ".zip")) or os.path.isfile(name)


def cmd_sample(args: argparse.Namespace) -> int:
    from genaug_desktop.core.generators import get_generator, load_torchscript, sample_job
    from genaug_desktop.core.jobs import CancelToken, Cancelled

    usage = _usage_errors()
    if args.count < 0:
        raise _COMMON.UsageError("--count must be 0 or more")
    generator: Any
    try:
        if _looks_like_file(args.generator):
            if args.checkpoint is not None:
                raise _COMMON.UsageError("--checkpoint is for generators trained in the project, not for a file")
            generator = load_torchscript(args.generator, confirmed=args.trust_code)
            paramset = generator.sample_params
        else:
            generator = args.generator
            paramset = get_generator(args.generator).sample_params
        options = parse_assignments(args.assignments, paramset)
    except (ValueError, *usage) as exc:  # type: ignore[misc]  # a tuple of exception classes
        raise _COMMON.UsageError(str(exc)) from None
    temperature = options.pop("temperature", 1.0)
    token = CancelToken()
    with _COMMON.open_project(args.project) as project:
        job = sample_job(project, generator, checkpoint=args.checkpoint, n=args.count, seed=args.seed,
                         label=args.label, temperature=temperature, options=options, round=args.round, cancel=token)
        try:
            with _Interrupt(token):
                result = _COMMON.run(job, quiet=args.json)
        except Cancelled:
            print("genaug sample: cancelled; the candidates sampled so far are kept", file=sys.stderr)
            return 130
        except usage as exc:
            raise _COMMON.UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        print(result.summary())
    return 0
