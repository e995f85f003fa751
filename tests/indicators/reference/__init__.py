"""Frozen copies of the indicator extraction as it was before the speed work of issue 14 (commit 7a65be9).

The equivalence tests run these and the current code on the same inputs and require identical results;
nothing else imports them. Do not edit: they are the reference.
"""
