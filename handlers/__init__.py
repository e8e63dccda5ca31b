"""One module per command family. Handlers take a neutral Request and return a neutral Reply."""
