"""Contests for the Ngày hội: definitions (YAML + pydantic), exports (XLSX, CSV), certificates (PDF), CLI."""
