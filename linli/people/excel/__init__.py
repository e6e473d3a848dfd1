"""Excel import and export of the household register (openpyxl, defusedxml)."""
