"""Period reports: the rules (periods, scopes), the figures (aggregated in SQL), the official DOCX (Nghị định
30/2020 format), the XLSX annex, the PNG charts, in the chat and on the command line."""
