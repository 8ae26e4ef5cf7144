"""The course index: published content split into chunks, full-text search per course, optional embeddings."""
