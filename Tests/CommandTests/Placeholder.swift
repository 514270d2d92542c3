// End-to-end tests of the built `bayesglmm` executable (issue 4).
