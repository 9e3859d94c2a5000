"""The mail stage: watch the mailbox, parse and classify replies, match them to submissions."""
