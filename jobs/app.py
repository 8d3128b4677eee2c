"""What every command shares: the loaded configuration and an upgraded database, opened lazily."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from gpuscout.jobs.config import Config


@dataclass
class App:
    """Per-invocation state. Nothing is loaded until a command asks for it."""

    config_path: str | None = None
    verbose: int = 0
    _engine: Engine | None = field(default=None, repr=False)

    @cached_property
    def config(self) -> Config:
        from gpuscout.jobs.config import load_config

        return load_config(self.config_path)

    def engine(self, *, migrate: bool = True) -> Engine:
        """The database engine; a fresh or outdated database is upgraded first."""
        if self._engine is None:
            from gpuscout.models.storage.db import make_engine
            from gpuscout.models.storage.migrate import ensure_current

            engine = make_engine(self.config.database_url)
            if migrate and ensure_current(engine):
                logging.getLogger("gpuscout").info("database upgraded to the current schema")
            self._engine = engine
        return self._engine

    def sessions(self) -> sessionmaker[Session]:
        from gpuscout.models.storage.db import session_factory

        return session_factory(self.engine())

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose <= 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if verbose < 2:
        logging.getLogger("httpx").setLevel(logging.WARNING)
