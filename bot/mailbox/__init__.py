"""The safe mailbox (hộp thư an toàn): a child writes to the school's counsellors, who reply in a thread."""
