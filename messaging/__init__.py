"""SMS, e-mail, fax and voice through one durable outbox; inbound SMS and faxes filed.

The record (outbox rows, templates, inbound messages and faxes) lives in
``crm_core``; this package holds the Twisted side: the dispatcher that claims
due messages and hands them to channel adapters (``messaging.channels``)
under per-channel rate limits, the fax document renderer and converter, the
inbound fax filer listening for ``spandsp::rxfaxresult``, and the HTTP
resources gateways call back (delivery receipts, inbound SMS).
"""
