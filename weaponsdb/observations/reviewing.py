"""Reviewing observations: who sees what, the queue, and the steps (comment, request more,
answer, link, decline), each a numbered revision with who, when and why. Nothing is deleted;
linked and declined are final."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from weaponsdb import editing, models, schemas
from weaponsdb.catalogue import read
from weaponsdb.catalogue.parts import COLLECTIONS
from weaponsdb.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from weaponsdb.keys import RANK, KeyHolder
from weaponsdb.observations import custody
from weaponsdb.observations.records import Link, date_precision, view_of
from weaponsdb.vocab import (
    CustodyAction,
    ObservationAction,
    ObservationSourceKind,
    ObservationState,
    Precision,
    Role,
    SourceKind,
)

OPEN = (ObservationState.PENDING, ObservationState.MORE_REQUESTED)
# Coarsest last; a place is published no finer than it was observed.
PRECISIONS = (Precision.EXACT, Precision.PLACE, Precision.REGION, Precision.COUNTRY)
# Decimal places of published coordinates: about 1 m, 1 km, 11 km, 110 km.
DECIMALS = {Precision.EXACT: 5, Precision.PLACE: 2, Precision.REGION: 1, Precision.COUNTRY: 0}


def is_editor(holder: KeyHolder) -> bool:
    return RANK[holder.role] >= RANK[Role.EDITOR]


def _loaded(session: Session, observation_id: int) -> models.Observation | None:
    return session.scalar(
        select(models.Observation)
        .where(models.Observation.id == observation_id)
        .options(selectinload(models.Observation.photos), selectinload(models.Observation.entry))
        .execution_options(populate_existing=True)
    )


def get(session: Session, observation_id: int, holder: KeyHolder) -> models.Observation:
    """The observation if *holder* may see it: editors see all, contributors their own
    (anyone else's is as good as absent)."""
    row = _loaded(session, observation_id)
    if row is None or not (is_editor(holder) or row.submitter == holder.name):
        raise NotFoundError(f"No observation {observation_id} of yours.")
    return row


def opened(session: Session, observation_id: int, holder: KeyHolder) -> models.Observation:
    """As get; an editor opening it is a reviewer viewing the evidence, logged."""
    row = get(session, observation_id, holder)
    if is_editor(holder):
        custody.append_for_originals(
            session, row, CustodyAction.VIEWED, holder.name, "observation opened for review"
        )
        session.flush()
    return row


def queue(
    session: Session,
    holder: KeyHolder,
    state: ObservationState | None,
    limit: int = read.DEFAULT_PAGE_SIZE,
    cursor: str | None = None,
) -> read.Page[models.Observation]:
    """Oldest first: editors see every observation, contributors their own."""
    read.check_limit(limit)
    conditions = []
    if not is_editor(holder):
        conditions.append(models.Observation.submitter == holder.name)
    if state is not None:
        conditions.append(models.Observation.state == state.value)
    total = session.scalar(select(func.count(models.Observation.id)).where(*conditions)) or 0
    query = select(models.Observation).where(*conditions).order_by(models.Observation.id)
    if cursor:
        query = query.where(models.Observation.id > read.after_number(cursor))
    query = query.options(
        selectinload(models.Observation.photos), selectinload(models.Observation.entry)
    )
    rows = list(session.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return read.Page(rows, total, str(rows[-1].id) if more else None)


def steps(
    session: Session, observation_id: int, holder: KeyHolder
) -> list[models.ObservationRevision]:
    get(session, observation_id, holder)
    return list(
        session.scalars(
            select(models.ObservationRevision)
            .where(models.ObservationRevision.observation_id == observation_id)
            .order_by(models.ObservationRevision.number)
        )
    )


def record_step(
    session: Session,
    row: models.Observation,
    action: ObservationAction,
    holder: KeyHolder,
    note: str,
) -> models.ObservationRevision:
    step = models.ObservationRevision(
        observation_id=row.id,
        number=row.version,
        action=action.value,
        author=holder.name,
        role=holder.role.value,
        note=note,
        state=row.state,
        snapshot=view_of(row, editor=True).model_dump(mode="json"),
        created_at=row.updated_at,
    )
    session.add(step)
    return step


def _take(
    session: Session, observation_id: int, holder: KeyHolder, states: tuple[ObservationState, ...]
) -> models.Observation:
    """The observation's next version, taken under its row lock (so two reviewers cannot
    both link it), if it is in one of *states*."""
    get(session, observation_id, holder)
    session.execute(
        update(models.Observation)
        .where(models.Observation.id == observation_id)
        .values(version=models.Observation.version + 1)
        .execution_options(synchronize_session=False)
    )
    row = _loaded(session, observation_id)
    assert row is not None
    if ObservationState(row.state) not in states:
        raise ConflictError(
            f"Observation {observation_id} is {row.state}; this step needs it "
            + " or ".join(s.value for s in states)
            + ".",
            [FieldError("state", f"is {row.state}")],
        )
    row.updated_at = custody.now()
    return row


def _step(
    session: Session,
    row: models.Observation,
    action: ObservationAction,
    holder: KeyHolder,
    note: str,
    state: ObservationState | None = None,
) -> models.Observation:
    if state is not None:
        row.state = state.value
    record_step(session, row, action, holder, note)
    session.flush()
    return row


def comment(
    session: Session, observation_id: int, holder: KeyHolder, note: str
) -> models.Observation:
    """A comment in the thread; the contributor's answer to a request makes it pending."""
    row = _take(session, observation_id, holder, tuple(ObservationState))
    if not is_editor(holder) and row.state == ObservationState.MORE_REQUESTED.value:
        return _step(
            session, row, ObservationAction.ANSWERED, holder, note, ObservationState.PENDING
        )
    return _step(session, row, ObservationAction.COMMENTED, holder, note)


def request_more(
    session: Session, observation_id: int, holder: KeyHolder, note: str
) -> models.Observation:
    row = _take(session, observation_id, holder, OPEN)
    return _step(
        session,
        row,
        ObservationAction.MORE_REQUESTED,
        holder,
        note,
        ObservationState.MORE_REQUESTED,
    )


def decline(
    session: Session, observation_id: int, holder: KeyHolder, note: str
) -> models.Observation:
    row = _take(session, observation_id, holder, OPEN)
    return _step(session, row, ObservationAction.DECLINED, holder, note, ObservationState.DECLINED)


def link(
    session: Session, observation_id: int, holder: KeyHolder, request: Link
) -> models.Observation:
    """Add the observation to the entry as a documented instance (a new revision of the
    entry), citing the source it rests on, with the place at the precision chosen."""
    row = _take(session, observation_id, holder, OPEN)
    published = _published_place(row, request.precision)
    source = request.source or _observation_source(session, row, holder, request.note)
    instance = schemas.InstanceRecord(
        event=request.event,
        place=_published_name(row, request),
        country=row.country,
        date=row.date_from if row.date_to is None else None,
        description=_description(row),
        citations=[
            schemas.CitationRecord(
                source=source,
                confidence=request.confidence,
                quote=request.quote,
                locator=request.locator,
            )
        ],
        **published,
    )
    change = editing.Change(
        request.entry, None, holder.name, f"Field observation {row.id}: {request.note}"
    )
    editing.add_item(session, change, COLLECTIONS["instances"], instance)
    entry = session.scalar(select(models.Entry).where(models.Entry.slug == request.entry))
    assert entry is not None
    row.entry = entry
    row.instance_id = session.scalar(
        select(func.max(models.Instance.id)).where(models.Instance.entry_id == entry.id)
    )
    custody.append_for_originals(
        session, row, CustodyAction.LINKED, holder.name, f"linked to entry {request.entry}"
    )
    return _step(
        session, row, ObservationAction.LINKED, holder, request.note, ObservationState.LINKED
    )


def _published_place(
    row: models.Observation, precision: Precision | None
) -> dict[str, float | str | None]:
    if precision is None or row.latitude is None or row.longitude is None:
        if precision is not None:
            raise InvalidInputError(
                f"Observation {row.id} has no coordinates to publish.",
                [FieldError("precision", "the observation has no coordinates")],
            )
        return {}
    observed = Precision(str(row.precision))
    if PRECISIONS.index(precision) < PRECISIONS.index(observed):
        raise InvalidInputError(
            f"The place was observed at {observed.value} precision; it cannot be published "
            "more precisely.",
            [FieldError("precision", f"finer than the observed {observed.value}")],
        )
    decimals = DECIMALS[precision]
    return {
        "latitude": round(row.latitude, decimals),
        "longitude": round(row.longitude, decimals),
        "precision": precision.value,
    }


def _published_name(row: models.Observation, request: Link) -> str | None:
    if request.place is not None:
        return request.place
    fine = request.precision in (Precision.EXACT, Precision.PLACE)
    return row.place if fine else None


def _description(row: models.Observation) -> str:
    when = ""
    if row.date_to is not None:
        when = f", seen between {row.date_from} and {row.date_to}"
    elif row.date_from is not None:
        when = f", seen {row.date_from} ({date_precision(row.date_from)} precision)"
    return f"Field observation {row.id} documented by {row.submitter}{when}."


def _observation_source(
    session: Session, row: models.Observation, holder: KeyHolder, note: str
) -> str:
    """The observation itself, as a catalogue source a citation can name."""
    kind = ObservationSourceKind(row.source_kind)
    record = schemas.SourceRecord(
        key=f"observation-{row.id}",
        kind=SourceKind.OTHER,
        title=f"Field observation {row.id}",
        author=row.submitter,
        publisher="weaponsdb field observations",
        published=row.created_at.date().isoformat(),
        url=row.source_url,
        description=(
            f"Documented from {row.source_publication}"
            if kind is ObservationSourceKind.PUBLICATION
            else f"Source: {kind.value}"
        ),
    )
    editing.create_source(session, record, holder.name, note)
    return record.key
