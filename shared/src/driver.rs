//! Sans-IO policies of the app's sync driver: reconnect backoff, resync nudges, and the merge of
//! the server's durable-heads answers. Time and randomness come from the caller.
