"""One module per benchmark: each has run(h) (run(h, kafka) where KAFKA is true) returning its
result; knee has a table and chart of its own."""
