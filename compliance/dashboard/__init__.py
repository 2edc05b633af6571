"""The auditor's dashboard: the overview at /, the trend, and the charts the pages and reports share."""
