"""A faithful FreeSWITCH 1.10/1.11 simulator speaking real ESL over TCP."""
