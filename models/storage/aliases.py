"""One listing per post whichever id a page shows: records renamed to the id their post is stored
under, and the other ids remembered (``listing_aliases``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from gpuscout.models.storage.batches import chunks
from gpuscout.models.storage.records import ListingRecord
from gpuscout.models.storage.tables.listings import Listing, ListingAlias

_CHUNK = 400
Key = tuple[str, str]


def resolve(session: Session, records: Sequence[ListingRecord],
            aliases: Mapping[Key, Sequence[str]]) -> tuple[list[ListingRecord], dict[Key, set[str]]]:
    """``records`` under the ids their posts are stored as, and per (source, final id) the other
    ids to remember once stored. ``aliases`` holds the other ids each (source, id) is known by.

    A record keeps its own id when a listing is stored under it; otherwise it takes the id of the
    listing that one of its ids (its own or an alias) belongs to. Records of sources with no
    aliases stored cost one indexed lookup per batch.
    """
    wanted: dict[str, set[str]] = {}
    for rec in records:
        wanted.setdefault(rec.source, set()).add(rec.external_id)
        wanted[rec.source].update(aliases.get((rec.source, rec.external_id), ()))
    stored: set[Key] = set()
    aliased: dict[Key, str] = {}
    for source, ids in wanted.items():
        ordered = sorted(ids)
        for part in chunks(ordered, _CHUNK):
            stored.update((source, ext) for ext in session.scalars(
                select(Listing.external_id).where(Listing.source == source,
                                                  Listing.external_id.in_(part))))
            for alias, ext in session.execute(
                    select(ListingAlias.alias, Listing.external_id)
                    .join(Listing, Listing.id == ListingAlias.listing_id)
                    .where(ListingAlias.source == source, ListingAlias.alias.in_(part))):
                aliased[(source, alias)] = ext
    out: list[ListingRecord] = []
    pending: dict[Key, set[str]] = {}
    for rec in records:
        own = rec.external_id
        others = tuple(aliases.get((rec.source, own), ()))
        final = _stored_as(rec.source, (own, *others), stored, aliased) or own
        if others or final != own:
            pending.setdefault((rec.source, final), set()).update({own, *others} - {final})
        out.append(rec if final == own else replace(rec, external_id=final))
    return out, pending


def _stored_as(source: str, ids: Sequence[str], stored: set[Key],
               aliased: Mapping[Key, str]) -> str | None:
    """The stored id of the listing one of ``ids`` (in order) belongs to, if any."""
    for ext in ids:
        if (source, ext) in stored:
            return ext
        if (source, ext) in aliased:
            return aliased[(source, ext)]
    return None


def remember(session: Session, ids: Mapping[Key, int], pending: Mapping[Key, set[str]]) -> int:
    """Record each other id of ``pending`` for the listing stored under its key (``ids``: key ->
    listing id, from the upsert); an id already known stays with its listing. Returns how many
    were new."""
    rows = [{"source": source, "alias": alias[:64], "listing_id": ids[(source, ext)]}
            for (source, ext), names in pending.items() if (source, ext) in ids
            for alias in sorted(names) if alias and alias != ext]
    if not rows:
        return 0
    ins = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    added = 0
    for row in rows:
        stmt = (ins(ListingAlias).values(**row)
                .on_conflict_do_nothing(index_elements=["source", "alias"])
                .returning(ListingAlias.id))
        added += session.execute(stmt).scalar() is not None
    return added
