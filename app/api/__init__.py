"""The pieces of `copydesk serve`: HTTP/1.1 framing, access rules, read-only views and the event stream."""
