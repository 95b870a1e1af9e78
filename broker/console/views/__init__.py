"""What each console page shows, gathered through the services' operations (and, for what no operation shows,
read-only queries of `broker.console.store`)."""
