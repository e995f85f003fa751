"""Browser traces: Firefox and Tor Browser (``places.sqlite``, ``formhistory.sqlite``), Chrome and Edge
(``History``). Visited onion addresses, invite links and other indicators become ``Indicator`` records carrying
the visit time and the row they came from."""

#: Format ids of this family (analysis/leads.py tells a browser visit from a captured page by them).
BROWSER_FORMATS = frozenset({"firefox-places", "firefox-formhistory", "chrome-history"})
