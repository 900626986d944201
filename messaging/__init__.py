"""SMS, e-mail and fax through one durable outbox."""
