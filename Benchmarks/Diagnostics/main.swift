print("Diagnostics benchmark: not written yet (issue 3)")
