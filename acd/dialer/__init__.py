"""The outbound dialer: compliance rules, the pacing model and the loop that dials campaign contacts.

``compliance`` and ``pacing`` are pure (no reactor, an injected "now"); the
dialer loop in ``dialer`` asks pacing how many calls to place, claims
contacts through crm_core, checks compliance, originates through a
``Switch`` and records every result. See docs/outbound.md.
"""
