"""FreeSWITCH Event Socket layer: wire protocol, Switch client, CallServer and the switch simulator.

Knows nothing of menus, queues or the database.
"""
