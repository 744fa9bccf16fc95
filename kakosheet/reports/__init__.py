"""Manager reports from the store: sections computed into typed records, then rendered."""
