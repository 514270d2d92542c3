#!/usr/bin/env python3
"""Candidate pairs for the scoring benchmark: ROWS rows of a random client
(1..CLIENTS, plus 1% clients the fit has not seen), a random stylist
(1..STYLISTS) and a standard-normal x1, on standard output."""
import argparse
import random

parser = argparse.ArgumentParser()
parser.add_argument("--clients", type=int, default=2000)
parser.add_argument("--stylists", type=int, default=100)
parser.add_argument("--rows", type=int, default=100_000)
parser.add_argument("--seed", type=int, default=1)
arguments = parser.parse_args()
generator = random.Random(arguments.seed)
print("client,stylist,x1")
for _ in range(arguments.rows):
    client = generator.randint(1, arguments.clients)
    if generator.random() < 0.01:
        client += 100_000   # not in the data
    print(f"{client},{generator.randint(1, arguments.stylists)},{generator.gauss(0, 1):.6f}")
