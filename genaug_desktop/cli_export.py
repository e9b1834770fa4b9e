"""``genaug export`` and ``genaug verify``: the export contract of DESIGN.md on the command line.

Nothing heavy is imported at module level: the core export package loads when a command runs.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

_UNITS = {"b": 1, "k": 1000, "kb": 1000, "m": 10**6, "mb": 10**6, "g": 10**9, "gb": 10**9,
          "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}


def parse_splits(text: str) -> dict[str, float]:
    """``train=0.8,val=0.2`` -> {"train": 0.8, "val": 0.2}."""
    out: dict[str, float] = {}
    for part in text.split(","):
        name, sep, value = part.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"--split takes name=share pairs like train=0.8,val=0.2, not {text!r}")
        if name in out:
            raise ValueError(f"--split: {name} given twice ({text}); name each split once")
        try:
            out[name] = float(value)
        except ValueError:
            raise ValueError(f"--split: the share of {name!r} must be a number, not {value.strip()!r}") from None
    return out


def parse_size(text: str) -> tuple[int, int]:
    """``64`` or ``64x48`` (width x height)."""
    m = re.fullmatch(r"\s*(\d+)\s*(?:[x×,]\s*(\d+))?\s*", text)
    if not m:
        raise ValueError(f"--size takes a side length or WIDTHxHEIGHT (e.g. 64 or 64x48), not {text!r}")
    w = int(m.group(1))
    return (w, int(m.group(2)) if m.group(2) else w)


def parse_shard_size(text: str) -> tuple[int | None, int | None]:
    """``5000`` (samples per shard) or ``500MB`` / ``1GiB`` (bytes per shard)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*", text)
    if not m:
        raise ValueError(f"--shard-size takes a sample count (5000) or a size (500MB, 1GiB), not {text!r}")
    number, unit = m.group(1), m.group(2).lower()
    if not unit:
        if "." in number:
            raise ValueError(f"--shard-size: a sample count must be a whole number, not {text!r}")
        return int(number), None
    if unit not in _UNITS:
        raise ValueError(f"--shard-size: unknown unit {m.group(2)!r}; use B, KB, MB, GB, KiB, MiB or GiB")
    return None, int(float(number) * _UNITS[unit])


def parse_balance(text: str) -> Any:
    """``min``, ``N`` (at most N per class) or ``cat=100,dog=50``."""
    text = text.strip()
    if text.lower() == "min":
        return "min"
    if text.isdigit():
        return int(text)
    out: dict[str, int] = {}
    for part in text.split(","):
        label, sep, value = part.rpartition("=")
        if not sep or not value.strip().isdigit():
            raise ValueError(f"--balance takes 'min', a count per class, or label=count pairs, not {text!r}")
        out[label] = int(value)
    return out


def _list(text: str) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()]


def cmd_export(args: argparse.Namespace, common: Any) -> int:
    from genaug_desktop.core.export import ExportError, ExportOptions, export_job, plan_export

    UsageError = common.UsageError
    try:
        splits = parse_splits(args.split) if args.split else {"train": 1.0}
        size = parse_size(args.size) if args.size else None
        shard_samples, shard_bytes = parse_shard_size(args.shard_size) if args.shard_size else (None, None)
        balance = parse_balance(args.balance) if args.balance else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    kwargs: dict[str, Any] = dict(
        format=args.format, include_originals=args.include_originals, splits=splits, seed=args.seed,
        overwrite=args.overwrite, dedupe=args.dedupe, balance=balance, size=size, strict=args.strict,
        compress=args.compress,
    )
    if args.status:
        kwargs["statuses"] = tuple(s for group in args.status for s in _list(group))
    if args.origin:
        kwargs["origins"] = tuple(s for group in args.origin for s in _list(group))
    if args.classes:
        kwargs["classes"] = tuple(s for group in args.classes for s in _list(group))
    for name in ("image_format", "quality", "resize", "color", "normalize"):
        value = getattr(args, name)
        if value is not None:
            kwargs[name] = value
    if shard_samples is not None:
        kwargs["shard_samples"] = shard_samples
    if shard_bytes is not None:
        kwargs["shard_bytes"] = shard_bytes
    options = ExportOptions(**kwargs)
    engine = common.engine(args)
    with common.open_project(args.project) as project:
        if args.classes:
            _check_classes(project, kwargs["classes"], UsageError)
        try:
            plan = plan_export(project, options, args.out)
            if args.dry_run:
                _print_plan(plan, args.json)
                return 0
            job = export_job(project, options, args.out, plan=plan, workers=args.workers, engine=engine)
            try:
                result = common.run(job, quiet=args.json)
            except KeyboardInterrupt:
                job.close()  # removes the temporary folder before the process exits
                raise
        except ExportError as exc:
            raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        print(result.summary())
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    for uid, why in result.skipped[:20]:
        print(f"  skipped {uid}: {why}", file=sys.stderr)
    if len(result.skipped) > 20:
        print(f"  ... and {len(result.skipped) - 20:,} more (listed in manifest.json under 'skipped')", file=sys.stderr)
    return 0


def _check_classes(project: Any, wanted: tuple[str, ...], usage_error: type[Exception]) -> None:
    """--class names that no item or candidate has are a usage error naming the classes there are."""
    known = set(project.class_counts())
    known.update(label for (label,) in project.query("SELECT DISTINCT label FROM candidates WHERE label IS NOT NULL"))
    unknown = [c for c in wanted if c not in known]
    if unknown:
        names = ", ".join(repr(c) for c in unknown)
        there = ", ".join(sorted(known)) if known else "none (the items have no labels)"
        raise usage_error(f"no class{'es' if len(unknown) > 1 else ''} {names} in this project; classes are: {there}")


def _print_plan(plan: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(plan.to_json(), ensure_ascii=False, indent=2))
        return
    print(f"would export {plan.summary()}")
    rows = plan.table()
    if rows:
        width = max(len(r["class"] or "(unlabeled)") for r in rows)
        print(f"  {'split':<8} {'class':<{width}} {'original':>9} {'augment':>9} {'generator':>9} {'total':>9}")
        for r in rows:
            print(f"  {r['split']:<8} {r['class'] or '(unlabeled)':<{width}} {r['original']:>9,} {r['augmentation']:>9,} "
                  f"{r['generator']:>9,} {r['total']:>9,}")
    for warning in plan.warnings:
        print(f"warning: {warning}", file=sys.stderr)


def cmd_verify(args: argparse.Namespace, common: Any) -> int:
    from genaug_desktop.core.export import ExportUnusable, verify_job

    try:
        report = common.run(verify_job(args.export_dir), quiet=args.json)
    except ExportUnusable as exc:
        raise common.UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        for line in report.problems():
            print(line)
        print(report.summary(), file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 1


def register(sub: Any, common: Any) -> None:
    """Add ``export`` and ``verify`` to the ``genaug`` sub-commands."""
    from genaug_desktop.core.export.options import (
        CANDIDATE_ORIGINS,
        CANDIDATE_STATUSES,
        COLOR_MODES,
        FORMATS,
        IMAGE_FORMATS,
        NORMALIZATIONS,
        RESIZE_MODES,
    )

    p = sub.add_parser(
        "export", help="write the curated dataset with a manifest (atomically)",
        description="Export accepted samples (and optionally the originals) in a format training code loads directly. "
                    "The folder appears complete or not at all; manifest.json lists every file with its SHA-256.",
    )
    p.add_argument("project")
    p.add_argument("--out", required=True, metavar="DIR", help="destination folder (new, empty, or an earlier export with --overwrite)")
    p.add_argument("--format", required=True, choices=list(FORMATS), help="imagefolder, webdataset, npz (images); jsonl, csv, txt, webdataset (text)")
    p.add_argument("--include-originals", action="store_true", help="also export the source dataset's items")
    p.add_argument("--split", metavar="NAME=SHARE,...", help="e.g. train=0.8,val=0.1,test=0.1 (default: everything in train)")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="seed for the split and for balancing (default 0)")
    p.add_argument("--overwrite", action="store_true", help="replace an earlier export at DIR (atomically)")
    p.add_argument("--status", action="append", metavar="S[,S]", help=f"candidate statuses to export: {', '.join(CANDIDATE_STATUSES)} (default accepted)")
    p.add_argument("--origin", action="append", metavar="O[,O]", help=f"candidate origins: {', '.join(CANDIDATE_ORIGINS)} (default both)")
    p.add_argument("--class", dest="classes", action="append", metavar="LABEL[,LABEL]", help="only these classes")
    p.add_argument("--image-format", choices=list(IMAGE_FORMATS) + ["jpg"], help="keep (default: copy PNG/JPEG/WebP as they are), png, jpeg, webp")
    p.add_argument("--quality", type=int, metavar="Q", help="JPEG/WebP quality 1-100 for re-encoded images (default 95)")
    p.add_argument("--size", metavar="N|WxH", help="resize every image (required for npz)")
    p.add_argument("--resize", choices=list(RESIZE_MODES), help="how --size is met: stretch (default), pad, crop")
    p.add_argument("--color", choices=list(COLOR_MODES), help="keep (default), rgb, grey")
    p.add_argument("--normalize", metavar="N", help=f"npz normalisation: {', '.join(NORMALIZATIONS)} (default none)")
    p.add_argument("--compress", action="store_true", help="npz: compress shards (np.savez_compressed)")
    p.add_argument("--shard-size", metavar="N|SIZE", help="webdataset/npz: samples per shard (10000) or a size (1GB)")
    p.add_argument("--dedupe", action="store_true", help="drop duplicates across the export (normalised text; identical images)")
    p.add_argument("--balance", metavar="min|N|L=N,...", help="at most N samples per class (capped by what exists)")
    p.add_argument("--strict", action="store_true", help="fail on the first unreadable sample instead of skipping it")
    p.add_argument("--workers", type=int, metavar="W", help="threads preparing images (default: up to 4; with --engine ray, the local Ray's CPUs)")
    common.add_engine_options(p)
    p.add_argument("--dry-run", action="store_true", help="print what would be exported, write nothing")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.set_defaults(func=lambda args: cmd_export(args, common))

    v = sub.add_parser("verify", help="re-check every checksum in an export's manifest; exit 1 on mismatch")
    v.add_argument("export_dir", metavar="EXPORT_DIR")
    v.add_argument("--json", action="store_true", help="machine-readable report")
    v.set_defaults(func=lambda args: cmd_verify(args, common))
