"""One-time account links: invitations (a new account with a role and memberships) and
password resets issued by an administrator. Tokens are hashed at rest, single-use, expiring and
audited; an optional SMTP server mails them (``mail.py``)."""
