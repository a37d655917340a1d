"""Privacy: the notice, the guardian's consent and parent links, data rights (copy, withdrawal, deletion),
retention, and the audit chain."""
