"""Program operations: launch and lifecycle (SPEC §2.3)."""
from __future__ import annotations

from datetime import date
from typing import Any

from portal.activity.operations import config_changes, record_event
from portal.auth.models import User
from portal.beneficiaries.models import BeneficiaryGroup
from portal.configuration.layers import layer_problems
from portal.configuration.merge import effective_config, sparse_overrides
from portal.configuration.paths import ConfigError
from portal.configuration.upgrades import UpgradeReview, review_upgrade
from portal.db import db
from portal.errors import ConfigInvalid, DomainError, StaleEdit, ValidationFailed
from portal.i18n import _l
from portal.keys import key_from_name, key_problem, unique_key
from portal.lifecycle import ACTIVE, DRAFT, RUN_EVENT_FOR_TARGET, check_transition
from portal.program_templates.models import ProgramTemplate
from portal.programs.models import VISIBILITIES, Program


def override_problems(template: ProgramTemplate, overrides: dict[str, Any]) -> list[ConfigError]:
    """The program layer inherits the template's defaults (the rule: :func:`layer_problems`)."""
    return layer_problems(template.config_schema, template.default_config, overrides, "program")


def template_not_launchable(template: ProgramTemplate) -> str:
    """Why a template version that is not active launches nothing, for its status."""
    if template.status == "draft":
        return _l("Template version %(version)s is draft; only active versions launch.", version=template.version)
    if template.status == "deprecated":
        return _l("Template version %(version)s is deprecated; only active versions launch.", version=template.version)
    if template.status == "archived":
        return _l("Template version %(version)s is archived; only active versions launch.", version=template.version)
    return _l("Template version %(version)s is not active; only active versions launch.", version=template.version)


# Why a group takes no new program, for its status; and why it is not eligible, for the category.
GROUP_NOT_ACTIVE = {
    "inactive": _l("The group is inactive; only active groups receive new programs."),
    "archived": _l("The group is archived; only active groups receive new programs."),
}
GROUP_NOT_STARTABLE = {
    "inactive": _l("The beneficiary group is inactive."),
    "archived": _l("The beneficiary group is archived."),
}
NOT_ELIGIBLE = {
    "mentorship": _l("The group is not eligible for mentorship programs."),
    "language": _l("The group is not eligible for language programs."),
    "buddy": _l("The group is not eligible for buddy programs."),
    "upskilling": _l("The group is not eligible for upskilling programs."),
    "weei": _l("The group is not eligible for women’s economic empowerment (WEEI) programs."),
}


def launch_problems(template: ProgramTemplate, group: BeneficiaryGroup) -> list[str]:
    """Why ``template`` cannot be launched for ``group`` (empty when it can)."""
    problems = []
    if template.status != ACTIVE:
        problems.append(template_not_launchable(template))
    if group.status != "active":
        problems.append(GROUP_NOT_ACTIVE.get(group.status, _l("The group is not active; only active groups receive "
                                                               "new programs.")))
    if template.category not in (group.eligible_categories or []):
        problems.append(NOT_ELIGIBLE.get(template.category, _l("The group is not eligible for programs of this "
                                                                "template's category.")))
    return problems


def program_key_problem(key: str) -> str | None:
    """Why ``key`` can't be a new program's key (format, taken), or None."""
    return key_problem(key, Program.key)


def program_sdg_goals(template: ProgramTemplate, extra: list[int] | None) -> list[int]:
    """A program's SDGs start as its template's; more may be added, none removed."""
    return sorted(set(template.sdg_goals or []) | set(extra or []))


def launch_program(actor: User | None, *, template: ProgramTemplate, group: BeneficiaryGroup, name: str,
                   key: str = "", description: str = "", config_overrides: dict[str, Any] | None = None,
                   start_date: date | None = None, end_date: date | None = None, visibility: str = "public",
                   tags: list[str] | None = None, extra_sdg_goals: list[int] | None = None,
                   external_id: str | None = None) -> Program:
    """Create a draft program pinned to an active template version for an active, eligible group.
    SDG goals start as the template's; more may be added, none removed."""
    errors: dict[str, list[str]] = {}
    if problems := launch_problems(template, group):
        errors["group_id"] = problems
    name = (name or "").strip()
    if not 1 <= len(name) <= 255:
        errors["name"] = [_l("Enter a name of 1 to 255 characters.")]
    if key and (problem := program_key_problem(key)):
        errors["key"] = [problem]
    if start_date and end_date and end_date < start_date:
        errors["end_date"] = [_l("The end date must be on or after the start date.")]
    if visibility not in VISIBILITIES:
        errors["visibility"] = [_l("Choose public or private.")]
    overrides = config_overrides or {}
    for problem in override_problems(template, overrides):
        errors.setdefault("config_overrides", []).append(_l("%(path)s: %(message)s", path=problem.path or _l("(root)"),
                                                                  message=problem.message))
    extra = extra_sdg_goals or []
    if any(not isinstance(g, int) or not 1 <= g <= 17 for g in extra):
        errors["sdg_goals"] = [_l("SDG goals are numbers from 1 to 17.")]
    if errors:
        raise ValidationFailed(errors)
    program = Program(
        key=key or unique_key(Program.key, key_from_name(name)), template_id=template.id, group_id=group.id,
        name=name, description=description or "", config_overrides=overrides, status=DRAFT,
        start_date=start_date, end_date=end_date, visibility=visibility, tags=tags or [],
        sdg_goals=program_sdg_goals(template, extra), external_id=external_id or None,
        created_by_id=actor.id if actor else None,
    )
    db.session.add(program)
    record_event("program.created", actor=actor, subject=program,
                 data={"template": template.key, "template_version": template.version, "group": group.key})
    return program


def transition_program(actor: User | None, program: Program, target: str, *,
                       expected_version: int | None = None) -> Program:
    """Move a program along the shared lifecycle; a move based on a stale version is
    refused, and refused moves name the allowed ones."""
    if expected_version is not None and program.lock_version != expected_version:
        raise StaleEdit(_l("program “%(name)s”", name=program.name))
    check_transition(program.status, target)
    if target == ACTIVE:
        # A pinned version that was deprecated meanwhile keeps working; an archived one does not.
        if program.template.status == "archived":
            raise DomainError(_l("The program's template version is archived; upgrade the program first."), "status")
        if program.group.status != "active":
            raise DomainError(GROUP_NOT_STARTABLE.get(program.group.status, _l("The beneficiary group is not active.")),
                              "status")
    previous = program.status
    program.status = target
    record_event(f"program.{RUN_EVENT_FOR_TARGET[target]}", actor=actor, subject=program,
                 data={"from": previous, "to": target})
    return program


def _check_version(program: Program, expected_version: int | None) -> None:
    if expected_version is not None and program.lock_version != expected_version:
        raise StaleEdit(_l("program “%(name)s”", name=program.name))


def update_program_config(actor: User | None, program: Program, desired: dict[str, Any], *,
                          expected_version: int | None) -> Program:
    """Store the program's configuration layer sparsely (only what differs from the
    template's defaults). Nothing invalid or locked is saved."""
    _check_version(program, expected_version)
    if program.status == "archived":
        raise DomainError(_l("Archived programs cannot change."), "status")
    overrides = sparse_overrides(program.template.default_config, desired)
    problems = override_problems(program.template, overrides)
    if problems:
        raise ConfigInvalid("config_overrides", problems)
    if overrides != (program.config_overrides or {}):
        template = program.template
        changes = config_changes(template.config_schema,  # the settings that changed, old → new
                                 effective_config(template.default_config, program.config_overrides),
                                 effective_config(template.default_config, overrides))
        program.config_overrides = overrides
        record_event("program.updated", actor=actor, subject=program,
                     data={"config_overrides": overrides, "config_changes": changes})
    return program


def _version_not_upgradable(target: ProgramTemplate) -> str:
    if target.status == "draft":
        return _l("Version %(version)s is draft; upgrade only to the active version.", version=target.version)
    if target.status == "deprecated":
        return _l("Version %(version)s is deprecated; upgrade only to the active version.", version=target.version)
    if target.status == "archived":
        return _l("Version %(version)s is archived; upgrade only to the active version.", version=target.version)
    return _l("Version %(version)s is not active; upgrade only to the active version.", version=target.version)


def upgrade_problems(program: Program, target: ProgramTemplate) -> list[str]:
    problems = []
    if target.key != program.template.key:
        problems.append(_l("Upgrade only to a version of the same template."))
    if target.version <= program.template.version:
        problems.append(_l("Version %(target)s is not newer than version %(current)s.", target=target.version,
                           current=program.template.version))
    if target.status != ACTIVE:
        problems.append(_version_not_upgradable(target))
    return problems


class ReviewOutdated(DomainError):
    """The overrides an upgrade would drop are not the ones the user reviewed."""

    status_code = 409

    def __init__(self) -> None:
        super().__init__(_l("The overrides this upgrade would drop changed since you reviewed it. "
                            "Nothing was changed: review the upgrade again."), "drop_overrides")


def upgrade_review(program: Program, target: ProgramTemplate) -> UpgradeReview:
    """What upgrading ``program`` to ``target`` changes, keeps and would have to drop."""
    current = program.template
    return review_upgrade(current.config_schema, current.default_config, current.ui_schema,
                          target.config_schema, target.default_config, target.ui_schema,
                          program.config_overrides or {})


def upgrade_program(actor: User | None, program: Program, target: ProgramTemplate, *,
                    expected_version: int | None, drop_overrides: list[str] | None = None) -> Program:
    """Move a program to a newer version of its template: explicit, and applied only when
    the kept overrides validate against the new schema (never silently).

    Overrides the new version refuses (invalid, now locked, removed) block the upgrade unless
    ``drop_overrides`` names exactly those the review listed: then they are dropped and the
    program upgraded in this one change, its event naming the dropped paths. A list that no
    longer matches (the program or the version changed meanwhile) is refused; nothing the
    user did not see is ever dropped."""
    _check_version(program, expected_version)
    if problems := upgrade_problems(program, target):
        raise DomainError(" ".join(str(p) for p in problems), "template_id")
    review = upgrade_review(program, target)
    if drop_overrides is not None and sorted(set(drop_overrides)) != review.blocking_paths:
        raise ReviewOutdated()
    if review.drops and drop_overrides is None:
        raise ConfigInvalid("config_overrides", [ConfigError(o.path, f"{o.status}: {o.message}")
                                                 for o in review.outcomes if o.blocks])
    if review.remaining_problems:
        raise ConfigInvalid("config_overrides", review.remaining_problems)
    previous = program.template
    previous_overrides = program.config_overrides or {}
    program.template_id = target.id
    program.template = target
    # SDGs start as the template's and may grow, never shrink.
    program.sdg_goals = sorted(set(program.sdg_goals or []) | set(target.sdg_goals or []))
    data: dict[str, Any] = {"template_version": {"from": previous.version, "to": target.version}}
    if review.drops:
        program.config_overrides = review.kept_overrides
        data["dropped_overrides"] = review.blocking_paths
        data["config_overrides"] = {"from": previous_overrides, "to": review.kept_overrides}
    record_event("program.updated", actor=actor, subject=program, data=data)
    return program
