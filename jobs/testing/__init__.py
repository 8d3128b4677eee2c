"""Local marketplace and demo pages: support for the tests, the benchmarks and `gpuscout demo`."""
