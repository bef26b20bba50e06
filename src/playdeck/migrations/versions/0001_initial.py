"""initial schema: projects, runs, tests, results, attempts, attachments, reports"""

import sqlalchemy as sa

from playdeck.migrations.columns import create_table, drop_table, reference, timestamp

revision = "0001"
down_revision: str | None = None


def upgrade() -> None:
    create_table(
        "projects",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("slug", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        unique=["name", "slug"],
    )
    create_table(
        "runs",
        reference("project_id", "projects"),
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
        indexes={
            "ix_runs_project_branch_started": ["project_id", "branch", "started_at", "id"],
            "ix_runs_project_started": ["project_id", "started_at", "id"],
            "ix_runs_started": ["started_at", "id"],
        },
    )
    create_table(
        "tests",
        reference("project_id", "projects"),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("file", sa.Text(), nullable=False),
        sa.Column("title_path", sa.JSON(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("full_title", sa.Text(), nullable=False),
        sa.Column("browser_project", sa.String(length=200), nullable=False),
        unique=[("project_id", "key")],
        indexes={"ix_tests_project_title": ["project_id", "full_title"]},
    )
    create_table(
        "reports",
        reference("run_id", "runs"),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("entry", sa.Text(), nullable=False),
        unique=[("run_id", "type")],
    )
    create_table(
        "results",
        reference("run_id", "runs"),
        reference("test_id", "tests"),
        reference("project_id"),  # copied from the run: no foreign key
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
        created_at=False,
        indexes={
            "ix_results_project_started": ["project_id", "run_started_at"],
            "ix_results_run_rank": ["run_id", "rank", "id"],
            "ix_results_test_started": ["test_id", "run_started_at", "id"],
        },
    )
    create_table(
        "attempts",
        reference("result_id", "results"),
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
        created_at=False,
        indexes={"ix_attempts_result": ["result_id", "retry"]},
    )
    create_table(
        "report_files",
        reference("report_id", "reports"),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        created_at=False,
        unique=[("report_id", "path")],
        indexes={"ix_report_files_sha256": ["sha256"]},
    )
    create_table(
        "attachments",
        reference("attempt_id", "attempts"),
        reference("run_id", "runs"),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        indexes={
            "ix_attachments_attempt": ["attempt_id"],
            "ix_attachments_run": ["run_id"],
            "ix_attachments_sha256": ["sha256"],
        },
    )


def downgrade() -> None:
    drop_table(
        "attachments", "ix_attachments_sha256", "ix_attachments_run", "ix_attachments_attempt"
    )
    drop_table("report_files", "ix_report_files_sha256")
    drop_table("attempts", "ix_attempts_result")
    drop_table(
        "results", "ix_results_test_started", "ix_results_run_rank", "ix_results_project_started"
    )
    drop_table("reports")
    drop_table("tests", "ix_tests_project_title")
    drop_table(
        "runs", "ix_runs_started", "ix_runs_project_started", "ix_runs_project_branch_started"
    )
    drop_table("projects")
