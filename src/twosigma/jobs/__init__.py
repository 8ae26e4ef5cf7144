"""Background jobs over tables: a claim loop, retries with backoff, and the record of when each queue last drained."""
