"""One module per provider wire format, each with a stateless ``WireFormat`` singleton."""
