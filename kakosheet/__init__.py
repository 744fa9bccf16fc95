"""kakosheet: trustworthy after-sales exception logs in the spreadsheets teams already use."""

__version__ = "0.1.0"
