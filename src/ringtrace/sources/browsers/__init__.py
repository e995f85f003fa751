"""Browser traces: Firefox and Tor Browser (``places.sqlite``, ``formhistory.sqlite``), Chrome and Edge
(``History``), and the Mark of the Web a browser leaves on a download (NTFS ``Zone.Identifier`` streams). Visited
onion addresses, invite links and other indicators become ``Indicator`` records carrying the visit time (where
the trace keeps one) and the row they came from."""

#: Format ids of this family (analysis/leads.py tells a browser visit from a captured page by them).
BROWSER_FORMATS = frozenset({"firefox-places", "firefox-formhistory", "chrome-history", "zone-identifier"})
