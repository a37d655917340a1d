"""Contests for the Ngày hội: the definition (YAML + pydantic), the rules and ranking, the chat for students and
organizers, results exports (XLSX, CSV), certificates (PDF), the command line and the start-up job."""
