"""Prompt writes: versions, labels, tags, deletion. Reads, compile and diff live in `queries.py`.

Every write to a name takes the name's advisory lock first (so versions are max+1 and label moves are atomic under
concurrency), records an event for every label that moves, queues a NOTIFY for every process's cache, and clears
this process's cache now and again after the commit (so a read racing the write cannot keep the old version).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from twosigma.kit.cache import invalidate
from twosigma.kit.errors import BadRequest, Conflict, Forbidden, NotFound
from twosigma.prompts import repository as repo
from twosigma.prompts.cache import PromptCache
from twosigma.prompts.composition import (
    MAX_NESTING_DEPTH,
    CompositionError,
    ResolvedPrompt,
    resolve_content,
    resolve_row,
    to_stored,
)
from twosigma.prompts.models import Prompt
from twosigma.prompts.schemas import LATEST, PRODUCTION, PromptCreate
from twosigma.prompts.templates import chat_variable_names, dependency_tags, placeholder_names

PROTECTED_LABELS = frozenset({PRODUCTION})


def _platform_admins_only(labels: Sequence[str], dependents: Sequence[str]) -> Forbidden:
    if not dependents:
        return Forbidden(
            f"Only a platform administrator may move or remove the protected label(s): {', '.join(labels)}.",
            code="protected_label",
        )
    return Forbidden(
        f"Only a platform administrator may move or remove the label(s) {', '.join(labels)}: production prompts "
        "read them, so this would change what production serves.",
        code="protected_label",
        details={"dependents": list(dependents)},
    )


@dataclass(frozen=True)
class Actor:
    """Who writes: `created_by` is stored on new versions (a user id, or "API"); `audit` names them in label
    events; `may_move_protected` says whether they may give, move or remove the protected `production` label, or
    change what it serves (decided in authz: a platform administrator, an API key with `prompts:deploy`), and
    `refuse_protected(labels, dependents)` builds the error when they may not (a user lacks the role, a key the
    scope); `dependents` names the production prompts that read the labels, empty when `production` itself moved."""

    created_by: str
    audit: str
    may_move_protected: bool
    refuse_protected: Callable[[Sequence[str], Sequence[str]], Forbidden] = _platform_admins_only


def _refuse_reserved(labels: Iterable[str]) -> None:
    if LATEST in labels:
        raise BadRequest(
            "The 'latest' label is reserved: it is set on every new version automatically.", code="reserved_label"
        )


async def _guard_protected(session: AsyncSession, actor: Actor, name: str, labels: Iterable[str]) -> None:
    """Refuse an actor who may not move `production` a write that gives, moves or removes `labels` of `name` when
    that is `production`, or when a version holding `production` reads one of them — by label, directly or through
    other prompts (by label or by version), as deep as a composition may go. Moving a label changes what every
    reference to it resolves to, so it would change what production serves without deploying. References to `name`
    by version are pinned and never concerned. One query, none for an actor who may move `production`; call it with
    the name locked, before anything moves."""
    if actor.may_move_protected:
        return
    moved = sorted(set(labels))
    touched = PROTECTED_LABELS.intersection(moved)
    if touched:
        raise actor.refuse_protected(sorted(touched), [])
    # The root is level 0 and level MAX_NESTING_DEPTH is refused: a legal chain has at most MAX_NESTING_DEPTH - 1
    # references, and every chain that reads the label now is legal.
    reaching = await repo.reaching_dependents(
        session, name, moved, holding=PROTECTED_LABELS, max_depth=MAX_NESTING_DEPTH - 1
    )
    if reaching:
        labels_read = sorted({d.child_label for d in reaching})
        raise actor.refuse_protected(labels_read, list(dict.fromkeys(d.describe() for d in reaching)))


def _conflict_with_dependents(message: str, dependents: list[repo.Dependent]) -> Conflict:
    lines = [d.describe() for d in dependents]
    return Conflict(
        f"{message}\n\n" + "\n".join(lines) + "\n\nPlease delete the dependent prompts first.",
        code="prompt_has_dependents",
        details={"dependents": lines},
    )


async def _changed(session: AsyncSession, cache: PromptCache | None) -> None:
    """Every process's prompt cache goes once the write commits (one name's write can change what others resolve
    to); this process's now, too."""
    await invalidate(session, PromptCache.payload, cache)


async def give_labels(session: AsyncSession, target: Prompt, labels: Iterable[str], actor: Actor) -> None:
    """Give `labels` to `target`, taking each from whichever other version of the name holds it."""
    wanted = [label for label in dict.fromkeys(labels) if label not in target.labels]
    if not wanted:
        return
    previous: dict[str, int] = {}
    for holder in await repo.holders(session, target.name, wanted):
        if holder.id == target.id:
            continue
        previous.update({label: holder.version for label in holder.labels if label in wanted})
        holder.labels = [label for label in holder.labels if label not in wanted]
    for label in wanted:
        repo.add_event(session, target.name, label, previous.get(label), target.version, actor.audit)
    target.labels = [*target.labels, *wanted]
    await session.flush()


async def _check_dependents_still_resolve(session: AsyncSession, name: str) -> None:
    """After labels of `name` moved: every prompt that (transitively) references `name` must still resolve."""
    seen_names = {name}
    frontier = {name}
    broken: list[str] = []
    while frontier:
        parents = [p for p in await repo.parents_of(session, frontier) if p.name != name]
        frontier = {p.name for p in parents} - seen_names
        seen_names |= frontier
        for parent in parents:
            try:
                await resolve_row(session, parent)
            except CompositionError as exc:
                broken.append(f"{parent.name} v{parent.version}: {exc.message}")
    if broken:
        raise Conflict(
            "This change would break prompts that depend on it:\n\n" + "\n".join(dict.fromkeys(broken)),
            code="prompt_dependents_broken",
            details={"dependents": list(dict.fromkeys(broken))},
        )


async def create_prompt(
    session: AsyncSession, actor: Actor, data: PromptCreate, *, cache: PromptCache | None = None
) -> ResolvedPrompt:
    """Create version max+1 of `data.name` (version 1 for a new name)."""
    assert data.type is not None
    _refuse_reserved(data.labels)
    content = data.content()
    if isinstance(content, list):
        clash = sorted(set(chat_variable_names(content)) & set(placeholder_names(content)))
        if clash:
            raise BadRequest(
                "Cannot create prompt, variables and placeholders must be unique, the following are not: "
                + ", ".join(clash),
                code="invalid_prompt",
            )
    await repo.lock_name(session, data.name)
    await _guard_protected(session, actor, data.name, [*data.labels, LATEST])
    latest = await repo.latest_row(session, data.name)
    if latest is not None and latest.type != data.type:
        raise BadRequest(
            "Previous versions have different prompt type. Create a new prompt with a different name.",
            code="prompt_type_mismatch",
        )
    version = latest.version + 1 if latest else 1
    await resolve_content(session, prompt_id=None, name=data.name, version=version, content=content)

    tags = data.tags if data.tags is not None else (list(latest.tags) if latest else [])
    row = Prompt(
        name=data.name,
        version=version,
        type=data.type,
        prompt=to_stored(content),
        config=data.config,
        labels=[],
        tags=tags,
        commit_message=data.commit_message,
        created_by=actor.created_by,
    )
    session.add(row)
    await session.flush()
    refs = [(tag.name, tag.version, tag.label) for tag in dependency_tags(content)]
    await repo.add_dependencies(session, row.id, refs)
    if latest is not None and sorted(set(tags)) != sorted(set(latest.tags)):
        await repo.set_tags(session, data.name, tags)
    await give_labels(session, row, [*data.labels, LATEST], actor)
    await _check_dependents_still_resolve(session, data.name)
    await _changed(session, cache)
    await session.refresh(row)
    return await resolve_row(session, row)


async def set_labels(
    session: AsyncSession,
    actor: Actor,
    name: str,
    version: int,
    new_labels: list[str],
    *,
    cache: PromptCache | None = None,
) -> ResolvedPrompt:
    """Langfuse's PATCH: add `new_labels` to the version (taking them from other versions); nothing is removed."""
    _refuse_reserved(new_labels)
    await repo.lock_name(session, name)
    await _guard_protected(session, actor, name, new_labels)
    row = await repo.by_version(session, name, version)
    if row is None:
        raise NotFound(f"Prompt not found: '{name}' with version {version}", code="prompt_not_found")
    await give_labels(session, row, new_labels, actor)
    await _check_dependents_still_resolve(session, name)
    await _changed(session, cache)
    await session.refresh(row)
    return await resolve_row(session, row)


async def remove_label(
    session: AsyncSession, actor: Actor, name: str, label: str, *, cache: PromptCache | None = None
) -> None:
    _refuse_reserved([label])
    await repo.lock_name(session, name)
    await _guard_protected(session, actor, name, [label])
    row = await repo.by_label(session, name, label)
    if row is None:
        raise NotFound(f"Prompt not found: '{name}' with label '{label}'", code="prompt_not_found")
    dependents = await repo.dependents(session, name, labels=[label])
    if dependents:
        raise _conflict_with_dependents(
            "Other prompts are depending on the prompt label you are trying to remove:", dependents
        )
    row.labels = [existing for existing in row.labels if existing != label]
    repo.add_event(session, name, label, row.version, None, actor.audit)
    await session.flush()
    await _changed(session, cache)


async def set_tags(session: AsyncSession, name: str, tags: list[str], *, cache: PromptCache | None = None) -> list[str]:
    """Tags belong to the name: every version gets the same list."""
    await repo.lock_name(session, name)
    if await repo.latest_row(session, name) is None:
        raise NotFound(f"Prompt not found: '{name}'", code="prompt_not_found")
    await repo.set_tags(session, name, tags)
    await _changed(session, cache)
    return tags


async def delete_prompt(
    session: AsyncSession,
    actor: Actor,
    name: str,
    *,
    version: int | None = None,
    label: str | None = None,
    cache: PromptCache | None = None,
) -> None:
    """Delete every version of `name`, or the one `version`, or the one holding `label`."""
    if version is not None and label is not None:
        raise BadRequest("Give either `version` or `label`, not both.")
    await repo.lock_name(session, name)
    all_rows = list(await repo.versions(session, name))
    rows = [r for r in all_rows if (version is None or r.version == version) and (label is None or label in r.labels)]
    if not rows:
        what = f" with version {version}" if version is not None else f" with label '{label}'" if label else ""
        raise NotFound(f"Prompt not found: '{name}'{what}", code="prompt_not_found")
    await _guard_protected(session, actor, name, [lbl for r in rows for lbl in r.labels])
    whole_name = len(rows) == len(all_rows)
    if whole_name:
        dependents = await repo.dependents(session, name)
    else:
        dependents = await repo.dependents(
            session, name, versions=[r.version for r in rows], labels=[lbl for r in rows for lbl in r.labels]
        )
    if dependents:
        raise _conflict_with_dependents(
            "Other prompts are depending on the prompt version you are trying to delete:", dependents
        )
    deleted = {r.id for r in rows}
    remaining = [r for r in all_rows if r.id not in deleted]
    for row in rows:
        for held in row.labels:
            if held == LATEST and remaining:
                continue
            repo.add_event(session, name, held, row.version, None, actor.audit)
    await repo.delete_rows(session, sorted(deleted))
    if remaining and any(LATEST in r.labels for r in rows):
        newest = max(remaining, key=lambda r: r.version)
        old = next(r.version for r in rows if LATEST in r.labels)
        newest.labels = [*newest.labels, LATEST]
        repo.add_event(session, name, LATEST, old, newest.version, actor.audit)
    await session.flush()
    await _changed(session, cache)
