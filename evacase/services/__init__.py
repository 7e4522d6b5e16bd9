"""One module per domain, each holding its request/response Structs and handlers (registered on import)."""
