"""The language: text to graph (scanner, LALR driver and its cache, Lark for syntax errors, the builder, user functions) and graph to text (labels)."""
