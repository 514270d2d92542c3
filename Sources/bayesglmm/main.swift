print("bayesglmm: being written (issue 4)")
