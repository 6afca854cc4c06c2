"""Writes of the reports app: report runs, console runs and saved queries."""
