"""``genaug rules`` and ``genaug filter``: rules that screen out invalid candidates, headless.

::

    genaug rules PROJECT propose [--json]          propose rules from the real data (state: proposed)
    genaug rules PROJECT list [--state S] [--json]
    genaug rules PROJECT approve ID... [--json]    only approved rules reject anything
    genaug rules PROJECT disable ID... [--json]
    genaug rules PROJECT dismiss ID...             delete proposed or disabled rules
    genaug rules PROJECT dry-run ID... [--json]    what the rules would reject now; writes nothing
    genaug rules PROJECT set ID KEY=VALUE...       edit parameters (VALUE is JSON, or plain text)
    genaug rules PROJECT add KIND [--id ID] [--set KEY=VALUE ...] [--explanation T]
    genaug rules PROJECT release ID                put what a rule rejected back to pending
    genaug rules PROJECT export FILE [--state S]   write a versioned rule-set file
    genaug rules PROJECT import FILE [--keep-state]
    genaug filter PROJECT [--recheck] [--json]     apply approved rules to pending candidates

``--json`` prints the DESIGN.md shape ``[{"id", "kind", "state", "params", "explanation"}]``.
Nothing heavy is imported at module level: the parser is built on every ``genaug`` start.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

_STATES = ("proposed", "approved", "disabled")


def register(sub: Any, common: Any) -> None:
    """Add ``rules`` and ``filter`` to the ``genaug`` sub-command parsers."""
    global _COMMON
    _COMMON = common
    parser_class = common.Parser

    p = sub.add_parser("rules", help="propose, list, approve, disable and dry-run rules")
    p.add_argument("project")
    p.add_argument("--json", action="store_true", dest="json_top", help=argparse.SUPPRESS)
    actions = p.add_subparsers(dest="rules_action", metavar="ACTION", parser_class=parser_class)
    actions.required = True

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        a = actions.add_parser(name, help=help_text)
        a.add_argument("--json", action="store_true", help="machine-readable output")
        a.set_defaults(func=cmd_rules)
        return a

    action("propose", "propose rules with thresholds learned from the real data")
    a = action("list", "every rule: id, kind, state, parameters, explanation")
    a.add_argument("--state", choices=_STATES)
    a = action("approve", "approve rules: the filter applies only approved rules")
    a.add_argument("ids", nargs="+", metavar="ID")
    a = action("disable", "stop applying rules (what they rejected stays rejected)")
    a.add_argument("ids", nargs="+", metavar="ID")
    a = action("dismiss", "delete proposed or disabled rules that rejected nothing")
    a.add_argument("ids", nargs="+", metavar="ID")
    a = action("dry-run", "show which pending candidates rules would reject; writes nothing")
    a.add_argument("ids", nargs="+", metavar="ID")
    a.add_argument("--limit", type=int, default=50, metavar="N", help="rejections to list (default 50; --json lists all)")
    a = action("set", "change a rule's parameters")
    a.add_argument("rule_id", metavar="ID")
    a.add_argument("assignments", nargs="*", metavar="KEY=VALUE")
    a.add_argument("--explanation", metavar="TEXT")
    a = action("add", "add a rule of a kind (e.g. text_block_list) as proposed")
    a.add_argument("kind")
    a.add_argument("--id", dest="rule_id", metavar="ID")
    a.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE")
    a.add_argument("--explanation", default="", metavar="TEXT")
    a = action("release", "put candidates a rule rejected back to pending")
    a.add_argument("rule_id", metavar="ID")
    a = action("export", "write rules as a versioned rule-set file")
    a.add_argument("file", metavar="FILE")
    a.add_argument("--state", choices=_STATES, action="append", help="only rules in this state (repeatable)")
    a = action("import", "add rules from a rule-set file (as proposed unless --keep-state)")
    a.add_argument("file", metavar="FILE")
    a.add_argument("--keep-state", action="store_true", help="keep the states in the file (approved stays approved)")

    f = sub.add_parser("filter", help="apply approved rules to pending candidates")
    f.add_argument("project")
    f.add_argument("--recheck", action="store_true", help="re-check candidates these rules already passed")
    f.add_argument("--json", action="store_true")
    common.add_engine_options(f)
    f.set_defaults(func=cmd_filter)


_COMMON: Any = None


def _usage(message: str) -> Exception:
    return _COMMON.UsageError(message)  # type: ignore[no-any-return]


def _print_rules(rules: list[Any], as_json: bool, counts: dict[str, int] | None = None) -> None:
    if as_json:
        print(json.dumps([r.to_json() for r in rules], ensure_ascii=False, indent=2))
        return
    if not rules:
        print("no rules (run 'genaug rules PROJECT propose')")
        return
    width = max(len(r.id) for r in rules)
    for r in rules:
        params = json.dumps(r.to_json()["params"], ensure_ascii=False)
        rejected = f"  [rejected {counts[r.id]:,}]" if counts and counts.get(r.id) else ""
        print(f"{r.id:<{width}}  {r.state:<8}  {r.kind}  {params}{rejected}")
        if r.explanation:
            pad = " " * (width + 2)
            print(pad + r.explanation.replace("\n", "\n" + pad))


def _parse_assignments(items: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for text in items:
        key, sep, raw = text.partition("=")
        if not sep or not key:
            raise _usage(f"expected KEY=VALUE, not {text!r}")
        try:
            out[key] = json.loads(raw)
        except ValueError:
            out[key] = raw
    return out


def cmd_rules(args: argparse.Namespace) -> int:
    from genaug_desktop.core import rules as R

    as_json = bool(args.json or getattr(args, "json_top", False))
    action = args.rules_action
    with _COMMON.open_project(args.project) as project:
        try:
            if action == "propose":
                proposed = _COMMON.run(R.propose_job(project), quiet=as_json)
                outcome = R.save_proposals(project, proposed)
                stored = {r.id: r for r in R.list_rules(project)}
                _print_rules([stored[r.id] for r in proposed if r.id in stored], as_json)
                if not as_json:
                    parts = [f"{len(outcome.added)} new", f"{len(outcome.updated)} updated"]
                    if outcome.kept:
                        parts.append(f"{len(outcome.kept)} left as you set them ({', '.join(outcome.kept)})")
                    print(f"proposed {_COMMON.plural(len(proposed), 'rule')}: {', '.join(parts)}; "
                          "try 'dry-run ID', then 'approve ID'")
            elif action == "list":
                _print_rules(R.list_rules(project, args.state), as_json, R.rejection_counts(project))
            elif action in ("approve", "disable"):
                ids = list(dict.fromkeys(args.ids))
                changed = R.approve_rules(project, ids) if action == "approve" else R.disable_rules(project, ids)
                if as_json:
                    _print_rules(changed, True)
                else:
                    verb = "approved" if action == "approve" else "disabled"
                    print(f"{verb} {_COMMON.plural(len(changed), 'rule')}: {', '.join(ids)}")
                    if action == "approve":
                        print("run 'genaug filter PROJECT' to apply them to pending candidates")
            elif action == "dismiss":
                n = R.dismiss_rules(project, list(dict.fromkeys(args.ids)))
                print(f"dismissed {_COMMON.plural(n, 'rule')}")
            elif action == "dry-run":
                ids = list(dict.fromkeys(args.ids))
                result = _COMMON.run(R.dry_run_job(project, ids), quiet=as_json)
                if as_json:
                    print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
                else:
                    counts = result.counts()
                    for rid in ids:
                        print(f"{rid}: would reject {counts.get(rid, 0):,} of {result.checked:,} pending candidates")
                    for rej in result.rejections[: max(0, args.limit)]:
                        print(f"  #{rej.candidate_id}\t{rej.rule_id}\t{rej.reason}")
                    if len(result.rejections) > args.limit:
                        print(f"  ... and {len(result.rejections) - args.limit:,} more (--limit N or --json lists them)")
            elif action == "set":
                values = _parse_assignments(args.assignments)
                if not values and args.explanation is None:
                    raise _usage("give KEY=VALUE pairs or --explanation")
                rule = R.update_rule(project, args.rule_id, values, args.explanation)
                _print_rules([rule], as_json)
            elif action == "add":
                rule = R.add_rule(project, args.kind, _parse_assignments(args.assignments), args.rule_id, args.explanation)
                _print_rules([rule], as_json)
            elif action == "release":
                n = R.release_rejections(project, args.rule_id)
                print(f"{_COMMON.plural(n, 'candidate')} back to pending")
            elif action == "export":
                rule_set = R.export_rule_set(project, states=args.state)
                rule_set.save(args.file)
                print(f"wrote {_COMMON.plural(len(rule_set.rules), 'rule')} to {args.file}")
            elif action == "import":
                try:
                    rule_set = R.RuleSet.load(args.file)
                except R.RuleSetError as exc:
                    raise _usage(f"{args.file}: {exc}") from None
                imported = R.import_rule_set(project, rule_set, keep_state=args.keep_state)
                if as_json:
                    _print_rules(imported, True)
                else:
                    print(f"imported {_COMMON.plural(len(imported), 'rule')} from {args.file}: "
                          + ", ".join(f"{r.id} ({r.state})" for r in imported))
        except R.UnknownRuleError as exc:
            raise _usage(f"{exc}; nothing was changed ('genaug rules PROJECT list' shows the ids)") from None
        except (R.RuleStoreError, R.RuleError) as exc:
            raise _usage(str(exc)) from None
    return 0


def cmd_filter(args: argparse.Namespace) -> int:
    from genaug_desktop.core.rules import RuleStoreError, filter_job

    engine = _COMMON.engine(args)
    with _COMMON.open_project(args.project) as project:
        try:
            result = _COMMON.run(filter_job(project, recheck=args.recheck, engine=engine), quiet=args.json)
        except RuleStoreError as exc:
            raise _usage(str(exc)) from None
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return 0
    print(result.summary())
    if result.rules:
        width = max(len(r) for r in result.rules)
        for rid in result.rules:
            print(f"  {rid:<{width}}  {result.rejected.get(rid, 0):>8,}")
    if not result.rules:
        print("approve rules first: 'genaug rules PROJECT propose', then 'genaug rules PROJECT approve ID...'",
              file=sys.stderr)
    return 0
