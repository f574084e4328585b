"""Every table, registered with SQLModel's metadata (Alembic and ``create_all`` read it).

Tables live in ``models/<feature>/tables.py``; importing this module registers them all.
"""

from sqlmodel import SQLModel

import models.accounts.tables
import models.delivery.tables
import models.dialog.tables
import models.election.tables
import models.giaoban.tables
import models.merger.tables
import models.photos.tables
import models.progress.tables
import models.units.tables  # noqa: F401

metadata = SQLModel.metadata
