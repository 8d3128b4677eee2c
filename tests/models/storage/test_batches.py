"""Long id lists cut into batches for ``IN (...)`` queries."""

from __future__ import annotations

from gpuscout.models.storage.batches import IN_CHUNK, chunks


def test_batches_cover_every_item_once_in_order() -> None:
    ids = list(range(2 * IN_CHUNK + 7))
    parts = list(chunks(ids))
    assert [len(p) for p in parts] == [IN_CHUNK, IN_CHUNK, 7]
    assert [i for p in parts for i in p] == ids


def test_batch_size_and_empty_input() -> None:
    assert list(chunks(("a", "b", "c", "d"), 2)) == [("a", "b"), ("c", "d")]
    assert list(chunks([], 3)) == []
