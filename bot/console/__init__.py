"""The staff web console at /console: accounts and sessions, the legal-aid inbox, the review of
unanswered questions with hit testing, the figures, and the audit log."""
