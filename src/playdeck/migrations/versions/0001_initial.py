"""initial schema: projects, runs, tests, results, attempts, attachments, reports

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from playdeck.migrations.columns import foreign_key, id_column, primary_key, reference, timestamp

revision = "0001"
down_revision: str | None = None


def upgrade() -> None:
    op.create_table(
        "projects",
        id_column(),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        timestamp("created_at"),
        primary_key("projects"),
        sa.UniqueConstraint("name", name=op.f("uq_projects_name")),
        sa.UniqueConstraint("slug", name=op.f("uq_projects_slug")),
    )
    op.create_table(
        "runs",
        id_column(),
        reference("project_id"),
        sa.Column("name", sa.String(length=300), nullable=True),
        timestamp("started_at"),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("flaky", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("timedout", sa.Integer(), nullable=False),
        sa.Column("interrupted", sa.Integer(), nullable=False),
        sa.Column("branch", sa.String(length=300), nullable=True),
        sa.Column("commit_sha", sa.String(length=100), nullable=True),
        sa.Column("commit_message", sa.Text(), nullable=True),
        sa.Column("author", sa.String(length=300), nullable=True),
        sa.Column("ci_provider", sa.String(length=100), nullable=True),
        sa.Column("ci_build_number", sa.String(length=100), nullable=True),
        sa.Column("ci_build_url", sa.Text(), nullable=True),
        sa.Column("environment", sa.String(length=200), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("source_format", sa.String(length=32), nullable=False),
        timestamp("created_at"),
        foreign_key("runs", "project_id", "projects", ondelete="CASCADE"),
        primary_key("runs"),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_runs_project_branch_started",
            ["project_id", "branch", "started_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_runs_project_started", ["project_id", "started_at", "id"], unique=False
        )
        batch_op.create_index("ix_runs_started", ["started_at", "id"], unique=False)

    op.create_table(
        "tests",
        id_column(),
        reference("project_id"),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("title_path", sa.JSON(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("full_title", sa.Text(), nullable=False),
        sa.Column("browser_project", sa.String(length=200), nullable=False),
        timestamp("created_at"),
        foreign_key("tests", "project_id", "projects", ondelete="CASCADE"),
        primary_key("tests"),
        sa.UniqueConstraint("project_id", "key", name=op.f("uq_tests_project_id_key")),
    )
    with op.batch_alter_table("tests", schema=None) as batch_op:
        batch_op.create_index("ix_tests_project_title", ["project_id", "full_title"], unique=False)

    op.create_table(
        "reports",
        id_column(),
        reference("run_id"),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("entry", sa.Text(), nullable=False),
        timestamp("created_at"),
        foreign_key("reports", "run_id", "runs", ondelete="CASCADE"),
        primary_key("reports"),
        sa.UniqueConstraint("run_id", "type", name=op.f("uq_reports_run_id_type")),
    )
    op.create_table(
        "results",
        id_column(),
        reference("run_id"),
        reference("test_id"),
        reference("project_id"),
        timestamp("run_started_at"),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.Column("expected_status", sa.String(length=16), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("retry_count", sa.Integer(), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_stack", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("annotations", sa.JSON(), nullable=False),
        foreign_key("results", "run_id", "runs", ondelete="CASCADE"),
        foreign_key("results", "test_id", "tests", ondelete="CASCADE"),
        primary_key("results"),
    )
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.create_index(
            "ix_results_project_started", ["project_id", "run_started_at"], unique=False
        )
        batch_op.create_index("ix_results_run_rank", ["run_id", "rank", "id"], unique=False)
        batch_op.create_index(
            "ix_results_test_started", ["test_id", "run_started_at", "id"], unique=False
        )

    op.create_table(
        "attempts",
        id_column(),
        reference("result_id"),
        sa.Column("retry", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        timestamp("started_at", nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("error_stack", sa.Text(), nullable=True),
        sa.Column("stdout", sa.Text(), nullable=True),
        sa.Column("stderr", sa.Text(), nullable=True),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=False),
        foreign_key("attempts", "result_id", "results", ondelete="CASCADE"),
        primary_key("attempts"),
    )
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.create_index("ix_attempts_result", ["result_id", "retry"], unique=False)

    op.create_table(
        "report_files",
        id_column(),
        reference("report_id"),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        foreign_key("report_files", "report_id", "reports", ondelete="CASCADE"),
        primary_key("report_files"),
        sa.UniqueConstraint("report_id", "path", name=op.f("uq_report_files_report_id_path")),
    )
    with op.batch_alter_table("report_files", schema=None) as batch_op:
        batch_op.create_index("ix_report_files_sha256", ["sha256"], unique=False)

    op.create_table(
        "attachments",
        id_column(),
        reference("attempt_id"),
        reference("run_id"),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        timestamp("created_at"),
        foreign_key("attachments", "attempt_id", "attempts", ondelete="CASCADE"),
        foreign_key("attachments", "run_id", "runs", ondelete="CASCADE"),
        primary_key("attachments"),
    )
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.create_index("ix_attachments_attempt", ["attempt_id"], unique=False)
        batch_op.create_index("ix_attachments_run", ["run_id"], unique=False)
        batch_op.create_index("ix_attachments_sha256", ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("attachments", schema=None) as batch_op:
        batch_op.drop_index("ix_attachments_sha256")
        batch_op.drop_index("ix_attachments_run")
        batch_op.drop_index("ix_attachments_attempt")

    op.drop_table("attachments")
    with op.batch_alter_table("report_files", schema=None) as batch_op:
        batch_op.drop_index("ix_report_files_sha256")

    op.drop_table("report_files")
    with op.batch_alter_table("attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_attempts_result")

    op.drop_table("attempts")
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_index("ix_results_test_started")
        batch_op.drop_index("ix_results_run_rank")
        batch_op.drop_index("ix_results_project_started")

    op.drop_table("results")
    op.drop_table("reports")
    with op.batch_alter_table("tests", schema=None) as batch_op:
        batch_op.drop_index("ix_tests_project_title")

    op.drop_table("tests")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index("ix_runs_started")
        batch_op.drop_index("ix_runs_project_started")
        batch_op.drop_index("ix_runs_project_branch_started")

    op.drop_table("runs")
    op.drop_table("projects")
