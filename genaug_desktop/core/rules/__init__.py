"""Rules that screen out invalid candidates: protocol, built-in rules, proposals, filtering.

The public API (everything a GUI or the CLI needs) is re-exported here:

- :class:`Rule`, :class:`Verdict`, :class:`Subject`, :class:`RuleContext`, :func:`rule_kinds`,
  :func:`build_rule`: the protocol and the registry of rule kinds (built-ins load on first use).
- :class:`RuleSet`, :class:`RuleSetError`: the versioned rule-set file.
- :func:`propose_job`: proposals from the real data; :func:`save_proposals` stores them.
- :func:`list_rules`, :func:`approve_rules`, :func:`disable_rules`, :func:`update_rule`,
  :func:`dismiss_rules`, :func:`add_rule`, :func:`release_rejections`, :func:`import_rule_set`,
  :func:`export_rule_set`: rules in a project; :func:`restore_rule_rejection` undoes a person's
  override of a rule's rejection.
- :func:`dry_run_job` (no writes) and :func:`filter_job` (applies approved rules): core Jobs.

Nothing here imports Qt, torch, OpenCV or rapidfuzz at import time.
"""

from __future__ import annotations

from genaug_desktop.core.rules.base import (
    MODALITIES,
    RULE_STATES,
    Rule,
    RuleContext,
    RuleError,
    Subject,
    Verdict,
    build_rule,
    get_rule_kind,
    rule_kinds,
)
from genaug_desktop.core.rules.engine import (
    DryRunResult,
    FilterResult,
    Rejection,
    RuleRun,
    dry_run,
    dry_run_job,
    eligible_ids,
    filter_job,
    order_rules,
    run_filter,
)
from genaug_desktop.core.rules.proposals import propose_job, propose_rules
from genaug_desktop.core.rules.ruleset import SCHEMA_VERSION, RuleSet, RuleSetError, parse_rule_set
from genaug_desktop.core.rules.store import (
    ProposalOutcome,
    RuleStoreError,
    UnknownRuleError,
    add_rule,
    add_rules,
    approve_rules,
    approved_rules,
    disable_rules,
    dismiss_rules,
    export_rule_set,
    fingerprint,
    get_rule,
    import_rule_set,
    list_rules,
    rejection_counts,
    release_rejections,
    restore_rule_rejection,
    save_proposals,
    set_state,
    update_rule,
)

__all__ = [
    "MODALITIES", "RULE_STATES", "SCHEMA_VERSION", "DryRunResult", "FilterResult", "ProposalOutcome", "Rejection",
    "Rule", "RuleContext", "RuleError", "RuleRun", "RuleSet", "RuleSetError", "RuleStoreError", "Subject",
    "UnknownRuleError", "Verdict", "add_rule", "add_rules", "approve_rules", "approved_rules", "build_rule",
    "disable_rules", "dismiss_rules", "dry_run", "dry_run_job", "eligible_ids", "export_rule_set", "filter_job",
    "fingerprint", "get_rule", "get_rule_kind", "import_rule_set", "list_rules", "order_rules", "parse_rule_set",
    "propose_job", "propose_rules", "rejection_counts", "release_rejections", "restore_rule_rejection", "rule_kinds", "run_filter",
    "save_proposals", "set_state", "update_rule",
]
