"""Period reports: the official DOCX (Nghị định 30/2020 format), the XLSX annex and the PNG charts."""
