"""Channel adapters: how a claimed message leaves (capture, HTTP SMS API, SMPP, SMTP, FreeSWITCH fax and voice).

Every adapter has the small interface of ``messaging.channels.base.Adapter``;
the dispatcher knows nothing else about them.
"""
