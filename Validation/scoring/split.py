#!/usr/bin/env python3
"""Split a pairings CSV into training and held-out rows for the scoring study.

Held out: every row of a random 5% of the clients (clients the fit never sees),
then a random 20% of the remaining rows (so some pairs, and some clients with
few rows, lose all their training rows too). Writes DIR/train.csv and
DIR/heldout.csv with the input's columns, rows in input order.
"""
import argparse
import csv
import random

parser = argparse.ArgumentParser()
parser.add_argument("data")
parser.add_argument("directory")
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--new-clients", type=float, default=0.05)
parser.add_argument("--held-out", type=float, default=0.2)
arguments = parser.parse_args()

with open(arguments.data, newline="") as handle:
    reader = csv.reader(handle)
    header = next(reader)
    rows = list(reader)
client = header.index("client")
generator = random.Random(arguments.seed)
clients = sorted({row[client] for row in rows}, key=int)
new = set(generator.sample(clients, round(arguments.new_clients * len(clients))))
train, held = [], []
for row in rows:
    if row[client] in new or generator.random() < arguments.held_out:
        held.append(row)
    else:
        train.append(row)
for name, part in (("train", train), ("heldout", held)):
    with open(f"{arguments.directory}/{name}.csv", "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(part)
print(f"{len(train)} training rows, {len(held)} held-out rows ({len(new)} clients held out entirely)")
