"""ringtrace: from the first lead to the per-country referral.

The public library API is small: open a case, ingest evidence, run stages, export.

    >>> import ringtrace
    >>> case = ringtrace.Case.init("op-case")            # doctest: +SKIP
    >>> case.ingest("extraction.zip", exhibit="EX-001")  # doctest: +SKIP
    >>> case.run()                                       # doctest: +SKIP
"""

__version__ = "0.1.0"
TOOL = f"ringtrace {__version__}"
