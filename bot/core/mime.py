"""The media types of the files the product sends, written once."""

from __future__ import annotations

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CSV = "text/csv"
PDF = "application/pdf"
PNG = "image/png"
JSON = "application/json"
