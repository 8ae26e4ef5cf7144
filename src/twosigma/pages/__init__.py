"""Server-rendered pages for mailed links, for installs without a web client of their own."""
