"""${message}"""

import sqlalchemy as sa
from alembic import op

from playdeck.migrations.columns import create_table, drop_table, reference, timestamp
${imports if imports else ""}
revision = ${repr(up_revision)}
down_revision: str | None = ${repr(down_revision)}


def upgrade() -> None:
    ${upgrades if upgrades else "pass"}


def downgrade() -> None:
    ${downgrades if downgrades else "pass"}
