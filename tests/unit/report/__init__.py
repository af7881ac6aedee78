"""The report plugin's tests (edirunbook.report), one module per behaviour area.

A package so its conftest.py and helpers.py get their own module names (report.conftest, report.helpers)
next to the rootdir's conftest.py, for pytest and for mypy alike.
"""
