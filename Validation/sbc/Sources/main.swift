// Simulation-based calibration of the Gibbs sampler (being written).
print("SBC: not written yet")
