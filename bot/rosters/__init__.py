"""Class rosters from school spreadsheets, and the command line for classes and broadcasts."""
