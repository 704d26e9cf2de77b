mod ping {}
