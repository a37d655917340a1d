"""Content as data: legal sources, lessons and the question bank, validated by pydantic models."""
