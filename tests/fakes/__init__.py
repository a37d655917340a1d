"""Fakes at the boundaries: content written for tests, and (in channel tests) fake platform servers."""
