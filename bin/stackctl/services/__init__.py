"""One module per server. Importing a module that is missing (not built yet) is not an error."""
