"""Outgoing e-mail: the outbox, written in the producer's transaction, and its SMTP sender.

`outbox.queue_message` puts a message in the outbox inside the caller's transaction, one per
recipient, day and kind; `sender` is the worker's periodic job that sends what is due through
SMTP, marking a message sent only once the server has accepted it and retrying with back-off;
`views` is the administrator's page of pending and failed messages. With no SMTP server
configured (`settings`), nothing is queued and the page says e-mail is off.
"""
