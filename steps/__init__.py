"""Step definitions only: parse the Gherkin words, call the library, nothing else."""
